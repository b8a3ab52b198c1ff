"""The Delta providers in datafusion-python 55, over FFI, cross-checked against the
``deltalake`` PyPI package (delta-rs): a table written by it (insert, update, delete,
merge, schema evolution, overwrite, optimize, partition delete), then for every
(start, end) pair our ``delta_cdf`` rows equal ``DeltaTable.load_cdf()``'s, and for every
version ``delta_snapshot`` equals ``DeltaTable(path, version=v)``."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from datafusion import SessionContext
from deltalake import DeltaTable, write_deltalake

import datafusion_cpg

KEY = ["id", "value", "part", "extra", "_change_type", "_commit_version"]


def rows(ids: range, prefix: str, extra: bool = False) -> pa.Table:
    columns = {
        "id": pa.array(list(ids), pa.int32()),
        "value": pa.array([f"{prefix}{i}" for i in ids], pa.string()),
        "part": pa.array(["even" if i % 2 == 0 else "odd" for i in ids], pa.string()),
    }
    if extra:
        columns["extra"] = pa.array([i * 10 for i in ids], pa.int64())
    return pa.table(columns)


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("delta") / "t")
    write_deltalake(
        path,
        rows(range(0, 30), "a"),
        partition_by=["part"],
        configuration={"delta.enableChangeDataFeed": "true"},
    )
    dt = DeltaTable(path)
    dt.update(updates={"value": "concat(value, 'u')"}, predicate="id % 3 = 0")
    dt.delete("id % 5 = 1")
    (
        dt.merge(rows(range(25, 35), "m"), "t.id = s.id", source_alias="s", target_alias="t")
        .when_matched_update(updates={"value": "s.value"})
        .when_not_matched_insert(updates={"id": "s.id", "value": "s.value", "part": "s.part"})
        .execute()
    )
    write_deltalake(path, rows(range(100, 104), "e", extra=True), mode="append", schema_mode="merge")
    write_deltalake(path, rows(range(200, 206), "o", extra=True), mode="overwrite")
    write_deltalake(path, rows(range(300, 304), "p", extra=True), mode="append")
    DeltaTable(path).optimize.compact()
    DeltaTable(path).delete("part = 'even'")
    return path


def ctx() -> SessionContext:
    ctx = SessionContext()
    datafusion_cpg.register(ctx)
    return ctx


def normalized(table: pa.Table) -> list[tuple]:
    """Rows keyed by KEY (a column the range lacks is NULL), plus the commit time in ms."""
    columns = {name: table.column(name).to_pylist() if name in table.column_names else [None] * table.num_rows for name in KEY}
    millis = [
        None if t is None else int(t.timestamp() * 1000)
        for t in table.column("_commit_timestamp").to_pylist()
    ]
    out = [tuple(columns[name][i] for name in KEY) + (millis[i],) for i in range(table.num_rows)]
    return sorted(out, key=repr)


def reference_feed(path: str, start: int, end: int) -> list[tuple]:
    reader = DeltaTable(path).load_cdf(starting_version=start, ending_version=end)
    return normalized(pa.table(reader))


def test_feed_of_every_range_equals_deltalake_load_cdf(table: str) -> None:
    latest = DeltaTable(table).version()
    assert latest >= 8
    context = ctx()
    for start in range(0, latest + 1):
        for end in range(start, latest + 1):
            ours = context.sql(f"SELECT * FROM delta_cdf('{table}', {start}, {end})").to_arrow_table()
            assert normalized(ours) == reference_feed(table, start, end), (start, end)


def test_ddl_feed_streams_and_pushes_filters_down(table: str) -> None:
    context = ctx()
    context.sql(
        f"CREATE EXTERNAL TABLE feed STORED AS DELTA_CDF LOCATION '{table}' "
        "OPTIONS ('starting_version' '0')"
    ).collect()
    latest = DeltaTable(table).version()
    ours = context.sql("SELECT * FROM feed WHERE _commit_version = 4").to_arrow_table()
    assert normalized(ours) == reference_feed(table, 4, 4)
    # Batches arrive as a stream, in version order per partition.
    stream = context.sql("SELECT id, _commit_version FROM feed ORDER BY _commit_version").execute_stream()
    versions = [v for batch in stream for v in batch.to_pyarrow().column("_commit_version").to_pylist()]
    assert versions == sorted(versions) and versions[-1] == latest
    with pytest.raises(Exception, match="unknown option 'format.start'"):
        context.sql(
            f"CREATE EXTERNAL TABLE bad STORED AS DELTA_CDF LOCATION '{table}' OPTIONS ('start' '1')"
        ).collect()


def test_snapshots_equal_deltalake_time_travel(table: str) -> None:
    context = ctx()
    latest = DeltaTable(table).version()
    columns = ["id", "value", "part"]
    for version in range(0, latest + 1):
        expected = DeltaTable(table, version=version).to_pyarrow_table()
        ours = context.sql(f"SELECT * FROM delta_snapshot('{table}', {version})").to_arrow_table()
        key = lambda t: sorted(zip(*(t.column(c).to_pylist() for c in columns)), key=repr)  # noqa: E731
        assert key(ours) == key(expected), version
    context.sql(
        f"CREATE EXTERNAL TABLE t3 STORED AS DELTA LOCATION '{table}' OPTIONS ('version' '3')"
    ).collect()
    assert context.sql("SELECT count(*) AS n FROM t3").to_pydict()["n"] == [
        DeltaTable(table, version=3).to_pyarrow_table().num_rows
    ]


def test_bad_arguments_are_value_errors_not_crashes(table: str) -> None:
    context = ctx()
    with pytest.raises(Exception, match="cannot start at version 99"):
        context.sql(f"SELECT * FROM delta_cdf('{table}', 99)").collect()
    with pytest.raises(Exception, match="no Delta table at"):
        context.sql(f"SELECT * FROM delta_snapshot('{Path(table).parent / 'nothing'}')").collect()
