"""The datafusion-cpg functions through FFI in datafusion-python 55.0.0 (from PyPI):
the golden vectors, errors, registration, and pyarrow data against the pure-Python
reference."""

from __future__ import annotations

import json
from pathlib import Path

import datafusion
import pyarrow as pa
import pytest
from datafusion import col, lit

import datafusion_cpg
from datafusion_cpg import reference, udfs

REPO = Path(__file__).resolve().parents[3]
VECTORS = json.loads((REPO / "tests" / "golden" / "udf_vectors.json").read_text())


@pytest.fixture(scope="module")
def ctx() -> datafusion.SessionContext:
    ctx = datafusion.SessionContext()
    datafusion_cpg.register(ctx)
    return ctx


def value(ctx: datafusion.SessionContext, sql: str) -> object:
    rows = ctx.sql(sql).to_pylist()
    assert len(rows) == 1, f"{sql} gave {len(rows)} rows"
    return rows[0]["v"]


def test_the_datafusion_under_test_is_55_0_0() -> None:
    assert datafusion.__version__ == "55.0.0"


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_golden_vector_through_ffi(ctx: datafusion.SessionContext, case: dict) -> None:
    assert value(ctx, case["sql"]) == case["expected"], case["sql"]


@pytest.mark.parametrize("case", VECTORS["error_cases"], ids=lambda c: c["name"])
def test_bad_input_raises_and_the_session_survives(
    ctx: datafusion.SessionContext, case: dict
) -> None:
    with pytest.raises(Exception) as raised:
        ctx.sql(case["sql"]).collect()
    assert case["error_contains"] in str(raised.value)
    assert value(ctx, "SELECT span_len(2, 7) AS v") == 5


def test_register_returns_every_function() -> None:
    ctx = datafusion.SessionContext()
    names = datafusion_cpg.register(ctx)
    exports = datafusion_cpg.manifest()["exports"]
    crossing = lambda kind: [  # noqa: E731
        e["name"] for e in exports if e["kind"] == kind and e["crosses_ffi"]
    ]
    assert names == (
        udfs.names()
        + crossing("table_function")
        + crossing("table_provider_factory")
    )
    assert {"cpg_query_log", "span_align", "delta_cdf", "DELTA_CDF"} <= set(names)
    names = names[: len(udfs.names())]
    assert set(names) == {case["function"] for case in VECTORS["cases"]}
    for name in names:
        assert getattr(udfs, name)().name == name


def test_functions_in_dataframe_expressions() -> None:
    ctx = datafusion.SessionContext()
    df = ctx.from_pydict({"path": ["a.py", "b.py"], "s": [0, 4], "e": [3, 9]})
    span_len, stable_id = udfs.span_len(), udfs.stable_id()
    rows = df.select(
        span_len(col("s"), col("e")).alias("len"),
        stable_id(lit("node"), col("path"), col("s"), col("e")).alias("id"),
    ).to_pylist()
    assert [r["len"] for r in rows] == [3, 5]
    assert rows[1]["id"] == reference.stable_id("node", "b.py", 4, 9)


def test_registering_twice_is_harmless() -> None:
    ctx = datafusion.SessionContext()
    first = datafusion_cpg.register(ctx)
    second = datafusion_cpg.register(ctx)
    assert first == second
    assert value(ctx, "SELECT stable_id('node', 'a.py', 1, 2) AS v") == reference.stable_id(
        "node", "a.py", 1, 2
    )


def test_per_function_access_with_register_udf() -> None:
    ctx = datafusion.SessionContext()
    ctx.register_udf(udfs.stable_id())
    ctx.register_udf(udfs.span_len())
    assert value(ctx, "SELECT stable_id('edge', 'x') AS v") == reference.stable_id("edge", "x")
    assert value(ctx, "SELECT span_len(0, 3) AS v") == 3
    with pytest.raises(Exception, match="stable_hash64"):
        ctx.sql("SELECT stable_hash64('a')").collect()


def test_unknown_function_is_a_value_error() -> None:
    with pytest.raises(ValueError, match='no scalar function named "nope"'):
        udfs.function("nope")


def test_a_table_from_pyarrow_batches_matches_the_reference(
    ctx: datafusion.SessionContext,
) -> None:
    paths = ["src/a.py", None, "pkg/mod.py", "src/a.py", "é/ü.py"]
    starts = [0, 5, None, 0, 7]
    ends = [10, 9, 4, None, 8]
    batch = pa.RecordBatch.from_pydict(
        {
            "path": pa.array(paths, pa.string()),
            "start": pa.array(starts, pa.int64()),
            "end": pa.array(ends, pa.int32()),
            "path_view": pa.array(paths, pa.string_view()),
            "path_dict": pa.array(paths, pa.string()).dictionary_encode(),
        }
    )
    ctx.register_record_batches("spans", [[batch]])
    rows = ctx.sql(
        """SELECT stable_id('node', path, start, "end") AS id,
                  stable_id('node', path_view, start, "end") AS id_view,
                  stable_id('node', path_dict, start, "end") AS id_dict,
                  stable_hash64(path, start, "end") AS h,
                  span_len(start, "end") AS len
           FROM spans"""
    ).to_pylist()
    assert len(rows) == len(paths)
    for row, path, start, end in zip(rows, paths, starts, ends):
        expected = reference.stable_id("node", path, start, end)
        assert row["id"] == row["id_view"] == row["id_dict"] == expected
        assert row["h"] == reference.stable_hash64(path, start, end)
        both = start is not None and end is not None
        assert row["len"] == (end - start if both else None)


def test_list_explode_with_positions_over_ffi(ctx: datafusion.SessionContext) -> None:
    batch = pa.RecordBatch.from_pydict(
        {"id": [1, 2, 3], "items": pa.array([["a", "b"], [], None], pa.list_(pa.string()))}
    )
    ctx.register_record_batches("lists", [[batch]])
    rows = ctx.sql(
        "SELECT id, unnest(list_enumerate(items)) AS e FROM lists ORDER BY id"
    ).to_pylist()
    assert rows == [
        {"id": 1, "e": {"ordinality": 1, "value": "a"}},
        {"id": 1, "e": {"ordinality": 2, "value": "b"}},
    ]


def test_another_datafusion_major_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datafusion, "__version__", "54.0.0")
    with pytest.raises(ImportError, match="built for datafusion 55.x, but datafusion 54.0.0"):
        datafusion_cpg.register(datafusion.SessionContext())


def test_the_manifest_is_the_registry_with_versions() -> None:
    manifest = datafusion_cpg.manifest()
    assert manifest["name"] == "datafusion-cpg"
    assert manifest["abi_major"] == 1
    assert manifest["datafusion_ffi_major"] == 55
    assert manifest["stable_hash_encoding_version"] == reference.ENCODING_VERSION
    assert manifest["stable_hash_encoding_version"] == VECTORS["version"]
    functions = [e["name"] for e in manifest["exports"] if e["kind"] == "scalar_function"]
    assert functions == udfs.names()
    linked_only = {e["kind"] for e in manifest["exports"] if not e["crosses_ffi"]}
    assert linked_only == {
        "relation_planner",
        "analyzer_rule",
        "table_function",
        "table_provider_factory",
        "physical_optimizer_rule",
        "session_options",
    }
    # DataFusion's own STORED AS names are taken over only where the bundle is linked.
    linked_factories = {
        e["name"]
        for e in manifest["exports"]
        if e["kind"] == "table_provider_factory" and not e["crosses_ffi"]
    }
    assert linked_factories == {"PARQUET", "CSV", "JSON", "NDJSON"}


def test_table_functions_cross_into_datafusion_python() -> None:
    ctx = datafusion.SessionContext()
    datafusion_cpg.register(ctx)
    # cpg_query_log() runs in the extension module, called by datafusion-python through
    # FFI; the Python session carries no cpg options, which the function reports.
    with pytest.raises(Exception, match="cpg_query_log: this session has no cpg options"):
        ctx.sql("SELECT * FROM cpg_query_log()").collect()
    with pytest.raises(Exception, match="cpg_query_log takes no arguments, got 1"):
        ctx.sql("SELECT * FROM cpg_query_log(1)").collect()
