"""The unbounded listing table from datafusion-python 55: ``STORED AS UNBOUNDED_PARQUET``
crosses FFI; a stream consumed from Python delivers files renamed into the directory while
it runs, once each and in order. The consumer runs in a thread joined with a time limit
(a stream that stalled must fail the test, not hang it)."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from datafusion import SessionContext

import datafusion_cpg


def publish(directory: Path, name: str, ids: list[int]) -> None:
    """Writes ``ids`` under a hidden name, then renames the file into place."""
    staging = directory / f".{name}.inprogress"
    pq.write_table(pa.table({"id": pa.array(ids, pa.int64())}), staging)
    staging.rename(directory / name)


def test_a_stream_delivers_files_added_while_it_runs(tmp_path: Path) -> None:
    publish(tmp_path, "f-000.parquet", [0, 1, 2])
    ctx = SessionContext()
    datafusion_cpg.register(ctx)
    ctx.sql(
        f"CREATE EXTERNAL TABLE facts (id BIGINT NOT NULL) STORED AS UNBOUNDED_PARQUET "
        f"LOCATION '{tmp_path}' OPTIONS ('poll_interval' '50ms')"
    ).collect()
    stream = ctx.sql("SELECT id FROM facts WHERE id <> 1").execute_stream()
    got: list[int] = []
    failure: list[BaseException] = []

    def consume() -> None:
        try:
            for batch in stream:
                got.extend(batch.to_pyarrow().column("id").to_pylist())
                if got == [0, 2]:
                    publish(tmp_path, "f-001.parquet", [3, 4])
                    publish(tmp_path, "f-002.parquet", [5])
                if len(got) >= 5:
                    return
        except BaseException as error:  # reported to the test below
            failure.append(error)

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    consumer.join(timeout=30)
    assert not failure, failure
    assert not consumer.is_alive(), f"stream stalled after {got}"
    assert got == [0, 2, 3, 4, 5]


def test_bounded_mode_reads_what_is_there_and_ends(tmp_path: Path) -> None:
    publish(tmp_path, "a.parquet", [1, 2])
    publish(tmp_path, "b.parquet", [3])
    (tmp_path / "c.parquet.tmp").write_bytes(b"half written")
    ctx = SessionContext()
    datafusion_cpg.register(ctx)
    ctx.sql(
        f"CREATE EXTERNAL TABLE facts STORED AS UNBOUNDED_PARQUET LOCATION '{tmp_path}' "
        "OPTIONS ('bounded' 'true')"
    ).collect()
    ids = ctx.sql("SELECT id FROM facts ORDER BY id").to_arrow_table().column("id").to_pylist()
    assert ids == [1, 2, 3]
