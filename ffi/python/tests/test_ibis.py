"""datafusion_cpg.ibis: every wrapper, run through ``ibis.datafusion.connect(ctx)`` on a
SessionContext where the bundle is registered, gives exactly the values (and the type) of
the same SQL function call on the same ctx; plus deferreds, unnest, argument errors, and
the import contract (no Ibis import from ``datafusion_cpg``, a clear ImportError without
Ibis)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import datafusion
import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pytest
from ibis import _
from ibis.common.annotations import SignatureValidationError

import datafusion_cpg
import datafusion_cpg.ibis as cpg

TABLE = "cpg_rows"

BATCH = pa.RecordBatch.from_pydict(
    {
        "id": pa.array([1, 2, 3, 4], pa.int64()),
        "src": pa.array(["a", "b", None, "é"], pa.string()),
        "dst": pa.array(["b", "c", "d", "a"], pa.string()),
        "path": pa.array(["src/a.py", None, "pkg/mod.py", "é/ü.py"], pa.string()),
        "bstart": pa.array([0, 5, None, 7], pa.int64()),
        "bend": pa.array([10, 9, 4, 8], pa.int32()),
        "flag": pa.array([True, False, None, True], pa.bool_()),
        "weight": pa.array([1.5, -0.0, None, 2.0], pa.float64()),
        "day": pa.array([dt.date(2024, 1, 2), None, dt.date(1970, 1, 1), dt.date(2000, 2, 29)]),
        "ts": pa.array(
            [dt.datetime(2024, 1, 2, 3, 4, 5), None, dt.datetime(1970, 1, 1), dt.datetime(2000, 1, 1)],
            pa.timestamp("us"),
        ),
        "text": pa.array(["  Ｆｏｏ   Bar ", "Straße", None, "ﬁ\tÅ"], pa.string()),
        "symbol": pa.array(["Parser", "os.path.Join", "", "Foo"], pa.string()),
        "module": pa.array(["json.decoder", "posixpath", "m", None], pa.string()),
        "names": pa.array([["a", "b"], [], None, ["c", None]], pa.list_(pa.string())),
        "nums": pa.array([[10, 20, 30], [1], [], None], pa.list_(pa.int64())),
    }
)


@pytest.fixture(scope="module")
def ctx() -> datafusion.SessionContext:
    ctx = datafusion.SessionContext()
    datafusion_cpg.register(ctx)
    ctx.register_record_batches(TABLE, [[BATCH]])
    return ctx


@pytest.fixture(scope="module")
def con(ctx: datafusion.SessionContext) -> Any:
    return ibis.datafusion.connect(ctx)


@pytest.fixture(scope="module")
def t(con: Any) -> ir.Table:
    return con.table(TABLE)


# (id, the Ibis expression over table t, the same call in SQL over the table's columns)
CASES: list[tuple[str, Callable[[ir.Table], ir.Value], str]] = [
    # stable_hash64
    ("stable_hash64/edge", lambda t: cpg.stable_hash64(t.src, t.dst, t.path, t.bstart, t.bend),
     "stable_hash64(src, dst, path, bstart, bend)"),
    ("stable_hash64/one", lambda t: cpg.stable_hash64(t.path), "stable_hash64(path)"),
    ("stable_hash64/literals", lambda t: cpg.stable_hash64("edge", t.path, 10, True, 1.5, None),
     "stable_hash64('edge', path, 10, true, 1.5, NULL)"),
    ("stable_hash64/temporal",
     lambda t: cpg.stable_hash64(t.day, t.ts, t.flag, t.weight, dt.date(2024, 1, 2)),
     "stable_hash64(day, ts, flag, weight, DATE '2024-01-02')"),
    ("stable_hash64/big", lambda t: cpg.stable_hash64(t.id, 2**63 - 1, -(2**63)),
     "stable_hash64(id, 9223372036854775807, -9223372036854775808)"),
    ("stable_hash64/scalar", lambda t: cpg.stable_hash64("src/a.py", 10, 42),
     "stable_hash64('src/a.py', 10, 42)"),
    # stable_hash128
    ("stable_hash128/edge", lambda t: cpg.stable_hash128(t.src, t.dst, t.path, t.bstart, t.bend),
     "stable_hash128(src, dst, path, bstart, bend)"),
    ("stable_hash128/mixed", lambda t: cpg.stable_hash128(t.flag, "x", t.weight, None, t.day),
     "stable_hash128(flag, 'x', weight, NULL, day)"),
    # stable_id
    ("stable_id/node", lambda t: cpg.stable_id("node", t.path, t.bstart, t.bend),
     "stable_id('node', path, bstart, bend)"),
    ("stable_id/column_prefix", lambda t: cpg.stable_id(t.src, t.dst, t.ts),
     "stable_id(src, dst, ts)"),
    ("stable_id/null_prefix", lambda t: cpg.stable_id(None, t.path),
     "stable_id(CAST(NULL AS VARCHAR), path)"),
    # xxhash64
    ("xxhash64/columns", lambda t: cpg.xxhash64(t.src, t.bstart, t.bend),
     "xxhash64(src, bstart, bend)"),
    ("xxhash64/spark_anchor", lambda t: cpg.xxhash64("ABC", "DEF"), "xxhash64('ABC', 'DEF')"),
    ("xxhash64/int32_literal", lambda t: cpg.xxhash64(ibis.literal(5).cast("int32"), 5, t.flag),
     "xxhash64(CAST(5 AS INT), 5, flag)"),
    ("xxhash64/mixed", lambda t: cpg.xxhash64(t.weight, t.day, t.ts, None),
     "xxhash64(weight, day, ts, NULL)"),
    ("xxhash64/lists", lambda t: cpg.xxhash64(t.names, t.nums), "xxhash64(names, nums)"),
    # spans
    ("span_len/columns", lambda t: cpg.span_len(t.bstart, t.bend), "span_len(bstart, bend)"),
    ("span_len/literal", lambda t: cpg.span_len(2, t.bend), "span_len(2, bend)"),
    ("span_overlaps", lambda t: cpg.span_overlaps(t.bstart, t.bend, 3, 8),
     "span_overlaps(bstart, bend, 3, 8)"),
    ("span_overlaps/empty", lambda t: cpg.span_overlaps(0, 5, 5, 9), "span_overlaps(0, 5, 5, 9)"),
    ("span_contains", lambda t: cpg.span_contains(0, 9, t.bstart, t.bend),
     "span_contains(0, 9, bstart, bend)"),
    # utf8_normalize
    ("utf8_normalize/defaults", lambda t: cpg.utf8_normalize(t.text), "utf8_normalize(text)"),
    ("utf8_normalize/form", lambda t: cpg.utf8_normalize(t.text, "NFC"),
     "utf8_normalize(text, 'NFC')"),
    ("utf8_normalize/no_casefold", lambda t: cpg.utf8_normalize(t.text, casefold=False),
     "utf8_normalize(text, 'NFKC', false)"),
    ("utf8_normalize/all", lambda t: cpg.utf8_normalize(t.text, "NFD", True, False),
     "utf8_normalize(text, 'NFD', true, false)"),
    ("utf8_normalize/flag_column", lambda t: cpg.utf8_normalize(t.text, "NFKC", t.flag, t.flag),
     "utf8_normalize(text, 'NFKC', flag, flag)"),
    # qname_normalize
    ("qname_normalize/symbol", lambda t: cpg.qname_normalize(t.symbol), "qname_normalize(symbol)"),
    ("qname_normalize/module", lambda t: cpg.qname_normalize(t.symbol, t.module),
     "qname_normalize(symbol, module)"),
    ("qname_normalize/literal_module", lambda t: cpg.qname_normalize("Parser", "json.decoder"),
     "qname_normalize('Parser', 'json.decoder')"),
    ("qname_normalize/lowercase", lambda t: cpg.qname_normalize(t.symbol, t.module, lowercase=True),
     "qname_normalize(symbol, module, true)"),
    ("qname_normalize/lowercase_no_module",
     lambda t: cpg.qname_normalize(t.symbol, lowercase=True),
     "qname_normalize(symbol, CAST(NULL AS VARCHAR), true)"),
    # list_enumerate
    ("list_enumerate/strings", lambda t: cpg.list_enumerate(t.names), "list_enumerate(names)"),
    ("list_enumerate/ints", lambda t: cpg.list_enumerate(t.nums), "list_enumerate(nums)"),
    ("list_enumerate/literal", lambda t: cpg.list_enumerate([10, 2**40]),
     "list_enumerate(make_array(10, 1099511627776))"),
]


def sql_column(ctx: datafusion.SessionContext, sql: str) -> pa.ChunkedArray:
    return ctx.sql(f"SELECT {sql} AS v FROM {TABLE} ORDER BY id").to_arrow_table().column("v")


def ibis_column(con: Any, t: ir.Table, expr: ir.Value) -> pa.ChunkedArray:
    return con.to_pyarrow(t.select(t.id, v=expr).order_by("id")).column("v")


def without_nullability(dtype: Any) -> str:
    return str(dtype).replace("!", "")


def test_every_scalar_function_has_a_wrapper_and_a_case() -> None:
    names = set(datafusion_cpg.udfs.names())
    assert names <= set(cpg.__all__)
    assert {case_id.split("/")[0] for case_id, _, _ in CASES} == names


@pytest.mark.parametrize(("build", "sql"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_wrapper_equals_the_sql_function(
    ctx: datafusion.SessionContext, con: Any, t: ir.Table, build: Callable, sql: str
) -> None:
    expr = build(t)
    expected = sql_column(ctx, sql)
    got = ibis_column(con, t, expr)
    assert got.to_pylist() == expected.to_pylist()
    # the type Ibis declares is the type DataFusion computes (Ibis casts to it, unsafely)
    assert without_nullability(expr.type()) == without_nullability(ibis.dtype(expected.type))


def test_pipeline_rule_with_mutate_execute_and_deferreds(
    ctx: datafusion.SessionContext, con: Any, t: ir.Table
) -> None:
    rules = t.mutate(
        edge_id=cpg.stable_hash64(t.src, t.dst, t.path, t.bstart, t.bend),
        edge_id_deferred=cpg.stable_hash64(_.src, _.dst, _.path, _.bstart, _.bend),
        node_id=cpg.stable_id("node", _.path, _.bstart, _.bend),
        length=cpg.span_len(_.bstart, _.bend),
        qname=cpg.qname_normalize(_.symbol, _.module),
        pairs=cpg.list_enumerate(_.names),
    ).order_by("id")
    frame = con.execute(rules)  # the pandas path
    expected = ctx.sql(
        f"""SELECT stable_hash64(src, dst, path, bstart, bend) AS edge_id,
                   stable_id('node', path, bstart, "bend") AS node_id,
                   qname_normalize(symbol, module) AS qname
            FROM {TABLE} ORDER BY id"""
    ).to_pydict()
    assert frame["edge_id"].tolist() == expected["edge_id"]
    assert frame["edge_id_deferred"].tolist() == expected["edge_id"]
    assert frame["node_id"].tolist() == expected["node_id"]
    assert [None if q is None or q != q else q for q in frame["qname"]] == expected["qname"]
    assert rules.schema()["edge_id"] == ibis.dtype("!int64")


def test_scalar_expression_without_a_table(ctx: datafusion.SessionContext, con: Any) -> None:
    got = con.execute(cpg.stable_id("node", "src/a.py", 10, 42))
    expected = ctx.sql("SELECT stable_id('node', 'src/a.py', 10, 42) AS v").to_pylist()[0]["v"]
    assert got == expected


def test_list_enumerate_unnest_matches_sql(
    ctx: datafusion.SessionContext, con: Any, t: ir.Table
) -> None:
    exploded = t.select(t.id, e=cpg.list_enumerate(t.names).unnest())
    expr = exploded.select("id", pos=_.e.ordinality, item=_.e["value"]).order_by(["id", "pos"])
    got = con.to_pyarrow(expr).to_pylist()
    expected = ctx.sql(
        f"""SELECT id, e['ordinality'] AS pos, e['value'] AS item
            FROM (SELECT id, unnest(list_enumerate(names)) AS e FROM {TABLE})
            ORDER BY id, pos"""
    ).to_pylist()
    assert got == expected
    assert got == [
        {"id": 1, "pos": 1, "item": "a"},
        {"id": 1, "pos": 2, "item": "b"},
        {"id": 4, "pos": 1, "item": "c"},
        {"id": 4, "pos": 2, "item": None},
    ]


def test_list_enumerate_type_follows_the_element_type(t: ir.Table) -> None:
    assert cpg.list_enumerate(t.nums).type() == cpg.list_enumerate_type(ibis.dtype("array<int64>"))
    assert str(cpg.list_enumerate(t.names).type()) == (
        "array<!struct<ordinality: !int64, value: string>>"
    )


def test_defaults_are_left_out_of_the_sql(t: ir.Table) -> None:
    def call(expr: ir.Value) -> str:
        sql = ibis.to_sql(t.select(v=expr), dialect="datafusion")
        return " ".join(sql.split())

    assert 'UTF8_NORMALIZE("t0"."text") AS' in call(cpg.utf8_normalize(t.text))
    assert 'UTF8_NORMALIZE("t0"."text", \'NFKC\', FALSE) AS' in call(
        cpg.utf8_normalize(t.text, casefold=False)
    )
    assert 'QNAME_NORMALIZE("t0"."symbol") AS' in call(cpg.qname_normalize(t.symbol))
    assert 'QNAME_NORMALIZE("t0"."symbol", "t0"."module") AS' in call(
        cpg.qname_normalize(t.symbol, t.module)
    )


def test_argument_errors(t: ir.Table) -> None:
    with pytest.raises(TypeError, match="stable_hash64 expects at least one part"):
        cpg.stable_hash64()
    with pytest.raises(TypeError, match="xxhash64 expects at least one part"):
        cpg.xxhash64()
    with pytest.raises(TypeError, match="stable_id expects a prefix and at least one part"):
        cpg.stable_id("node")
    with pytest.raises(TypeError, match="list_enumerate expects an array, got string"):
        cpg.list_enumerate(t.src)
    with pytest.raises(SignatureValidationError, match="missing a required argument: 'end'"):
        cpg.span_len(t.bstart)


def test_a_type_error_from_datafusion_surfaces(con: Any, t: ir.Table) -> None:
    with pytest.raises(Exception, match="stable_hash64"):
        con.execute(t.select(v=cpg.stable_hash64(t.names)))


def test_connect_registers_the_bundle() -> None:
    con = cpg.connect()
    assert con.execute(cpg.span_len(2, 7)) == 5


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )


def test_importing_datafusion_cpg_does_not_import_ibis() -> None:
    done = run_python("import sys, datafusion_cpg; print('ibis' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_without_ibis_the_import_error_names_the_pip_package() -> None:
    done = run_python(
        "import sys; sys.modules['ibis'] = None\n"
        "try:\n"
        "    import datafusion_cpg.ibis\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'ibis-framework[datafusion]'" in done.stdout
