"""The bundle's query planner, codecs, policy and fingerprints in datafusion-python 55."""

from __future__ import annotations

import json
from pathlib import Path

import datafusion
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datafusion import SessionContext
from datafusion import substrait

import datafusion_cpg

REPO = Path(__file__).resolve().parents[3]
GOLDEN = json.loads((REPO / "tests/golden/fingerprints.json").read_text())["fingerprints"]

NODES = pa.record_batch(
    {
        "path": ["a.py", "a.py", "a.py", "b.py"],
        "bstart": [0, 0, 13, 0],
        "bend": [40, 12, 40, 9],
        "kind": ["Module", "FunctionDef", "ClassDef", "Module"],
    }
)
TOKENS = pa.record_batch({"path": ["a.py", "a.py", "b.py"], "bstart": [0, 14, 2], "bend": [3, 19, 5]})

QUERIES = [
    "SELECT n.kind, count(*) AS c FROM nodes n JOIN tokens t ON n.path = t.path "
    "AND t.bstart >= n.bstart AND t.bend <= n.bend GROUP BY n.kind ORDER BY n.kind",
    "SELECT stable_id('node', path, bstart, bend) AS id, kind FROM nodes ORDER BY id",
    "SELECT kind FROM nodes WHERE path IN (SELECT path FROM tokens WHERE bstart > 10) ORDER BY kind",
]


def tables(ctx: SessionContext) -> SessionContext:
    ctx.register_record_batches("nodes", [[NODES]])
    ctx.register_record_batches("tokens", [[TOKENS]])
    return ctx


def rows(ctx: SessionContext, sql: str) -> list[dict]:
    return pa.Table.from_batches(ctx.sql(sql).collect()).to_pylist()


def test_results_equal_with_and_without_the_planner() -> None:
    plain = tables(SessionContext())
    datafusion_cpg.register(plain)
    installed = datafusion_cpg.install(tables(SessionContext()))
    for sql in QUERIES:
        assert rows(installed, sql) == rows(plain, sql), sql
    # The planner saw and allowed every one.
    decisions = [entry["decision"] for entry in datafusion_cpg.query_log(installed)]
    assert decisions.count("allow") >= len(QUERIES)


def test_a_parquet_file_crosses_the_planner(tmp_path: Path) -> None:
    pq.write_table(pa.Table.from_batches([NODES]), tmp_path / "nodes.parquet")
    ctx = datafusion_cpg.install(SessionContext())
    ctx.register_parquet("pnodes", str(tmp_path / "nodes.parquet"))
    got = rows(ctx, "SELECT sum(span_len(bstart, bend)) AS total FROM pnodes")
    assert got == [{"total": 40 + 12 + 27 + 9}]


def test_the_policy_denies_tables_functions_and_plan_shapes() -> None:
    policy = {"deny_tables": "datafusion.public.tokens", "deny_functions": "md5", "max_joins": "1"}
    ctx = datafusion_cpg.install(tables(SessionContext()), policy=policy)
    assert rows(ctx, "SELECT count(*) AS c FROM nodes") == [{"c": 4}]
    for sql, code in [
        ("SELECT * FROM tokens", "CPG-POLICY-5"),
        ("SELECT path FROM nodes WHERE path IN (SELECT path FROM tokens)", "CPG-POLICY-5"),
        ("SELECT md5(path) FROM nodes", "CPG-POLICY-4"),
        (
            "SELECT a.path FROM nodes a JOIN nodes b ON a.path = b.path JOIN nodes c ON b.path = c.path",
            "CPG-POLICY-7",
        ),
    ]:
        with pytest.raises(Exception, match=code):
            ctx.sql(sql).collect()
    log = datafusion_cpg.query_log(ctx)
    denied = [entry for entry in log if entry["decision"] == "deny"]
    assert {entry["code"] for entry in denied} == {4, 5, 7}
    assert all(len(entry["fingerprint"]) == 32 for entry in log)


def test_the_dataframe_api_and_substrait_plans_are_checked_too() -> None:
    ctx = datafusion_cpg.install(tables(SessionContext()), policy={"deny_tables": "datafusion.public.tokens"})
    with pytest.raises(Exception, match="CPG-POLICY-5"):
        ctx.table("tokens").collect()
    plan = substrait.Serde.serialize_to_plan("SELECT path FROM tokens", ctx)
    logical = substrait.Consumer.from_substrait_plan(ctx, plan)
    with pytest.raises(Exception, match="CPG-POLICY-5"):
        ctx.create_dataframe_from_logical_plan(logical).collect()


def test_ddl_is_gated_by_sql_options_not_the_planner() -> None:
    from datafusion_cpg.policy import sql_options

    ctx = datafusion_cpg.install(SessionContext(), policy={"allow_ddl": False})
    with pytest.raises(Exception, match="DDL not supported"):
        ctx.sql_with_options("CREATE TABLE x AS SELECT 1", sql_options({"allow_ddl": False}))


def tpch_context() -> SessionContext:
    """The TPC-H tables of tests/tpch/schema.sql, empty, registered from pyarrow."""
    types = {
        "BIGINT": pa.int64(),
        "INT": pa.int32(),
        "VARCHAR": pa.string_view(),
        "DATE": pa.date32(),
        "DECIMAL(15": pa.decimal128(15, 2),
    }
    ctx = datafusion_cpg.install(SessionContext())
    schema_sql = (REPO / "tests/tpch/schema.sql").read_text()
    for line in schema_sql.splitlines():
        if not line.startswith("CREATE TABLE"):
            continue
        name, columns = line[len("CREATE TABLE ") :].split(" (", 1)
        fields = []
        for column in columns.rstrip(");").split(", "):
            if not column or column.startswith("2)"):
                continue
            column_name, rest = column.split(" ", 1)
            data_type = next(t for key, t in types.items() if rest.startswith(key))
            fields.append(pa.field(column_name, data_type, nullable=False))
        schema = pa.schema(fields)
        ctx.register_record_batches(name, [[pa.RecordBatch.from_pylist([], schema=schema)]])
    return ctx


@pytest.mark.parametrize("n", range(1, 23))
def test_tpch_fingerprints_from_python_equal_the_rust_goldens(n: int) -> None:
    ctx = tpch_context()
    sql = (REPO / f"tests/tpch/q{n:02}.sql").read_text()
    got = datafusion_cpg.fingerprint(sql, ctx)
    golden = GOLDEN[f"tpch/q{n:02}"]
    assert {key: got[key] for key in golden} == golden
    assert got["spec_version"] == 1
    assert got["volatile"] is False


def test_fingerprints_of_dataframes_ignore_literals_in_shape() -> None:
    ctx = datafusion_cpg.install(tables(SessionContext()))
    one = datafusion_cpg.fingerprint("SELECT kind FROM nodes WHERE bstart = 1", ctx)
    two = datafusion_cpg.fingerprint(ctx.sql("SELECT kind FROM nodes WHERE bstart = 2"), ctx)
    assert one["shape"] == two["shape"]
    assert one["exact"] != two["exact"]
    assert datafusion_cpg.fingerprint("SELECT random() AS r", ctx)["volatile"] is True


def test_dml_with_a_subquery_is_refused_not_run_on_every_row() -> None:
    ctx = datafusion_cpg.install(SessionContext())
    ctx.sql("CREATE TABLE a(id INT) AS VALUES (1), (2), (3)").collect()
    ctx.sql("CREATE TABLE b(id INT) AS VALUES (1), (2)").collect()
    with pytest.raises(Exception, match="DELETE on 'a' refused.*nothing was changed"):
        ctx.sql("DELETE FROM a WHERE id IN (SELECT id FROM b)").collect()
    assert rows(ctx, "SELECT count(*) AS c FROM a") == [{"c": 3}]


def test_policy_and_fingerprints_over_a_parquet_file(tmp_path: Path) -> None:
    pq.write_table(pa.Table.from_batches([NODES]), tmp_path / "nodes.parquet")
    ctx = datafusion_cpg.install(SessionContext(), policy={"deny_tables": "datafusion.public.hidden"})
    ctx.register_parquet("pnodes", str(tmp_path / "nodes.parquet"))
    ctx.register_parquet("hidden", str(tmp_path / "nodes.parquet"))
    with pytest.raises(Exception, match="CPG-POLICY-5"):
        ctx.sql("SELECT count(*) FROM hidden").collect()
    one = datafusion_cpg.fingerprint("SELECT kind FROM pnodes WHERE bstart = 1", ctx)
    two = datafusion_cpg.fingerprint("SELECT kind FROM pnodes WHERE bstart = 7", ctx)
    assert one["shape"] == two["shape"] and one["exact"] != two["exact"]
    # A table of another schema under the same name changes the schema digest.
    other = datafusion_cpg.install(SessionContext())
    other.register_record_batches("pnodes", [[TOKENS]])
    assert datafusion_cpg.fingerprint("SELECT path FROM pnodes", other)["schema"] != (
        datafusion_cpg.fingerprint("SELECT path FROM pnodes", ctx)["schema"]
    )
