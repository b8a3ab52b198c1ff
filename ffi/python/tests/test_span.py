"""Span joins and span_align in datafusion-python 55, over FFI: the bundle's planner
puts SpanJoinExec in place of the hash join, and results equal DataFusion's own join and
DuckDB's on the same random spans (nested, equal, zero-length, reversed, NULL, several
files)."""

from __future__ import annotations

import random

import duckdb
import pyarrow as pa
import pytest
from datafusion import SessionContext

import datafusion_cpg


def random_spans(rng: random.Random, rows: int, first_id: int) -> pa.Table:
    paths, starts, ends = [], [], []
    for _ in range(rows):
        paths.append(None if rng.random() < 0.05 else rng.choice(["a.py", "b.py", "c.py"]))
        start = rng.randrange(0, 80)
        kind = rng.randrange(0, 20)
        if kind == 0:
            span = (None, start)
        elif kind == 1:
            span = (start, None)
        elif kind == 2:
            span = (start, start)
        elif kind == 3:
            span = (start + 5, start)
        elif kind == 4 and starts:
            i = rng.randrange(0, len(starts))
            span = (starts[i], ends[i])
        else:
            span = (start, start + rng.randrange(1, 40))
        starts.append(span[0])
        ends.append(span[1])
    return pa.table(
        {
            "path": pa.array(paths, pa.string()),
            "bstart": pa.array(starts, pa.int64()),
            "bend": pa.array(ends, pa.int64()),
            "id": pa.array(range(first_id, first_id + rows), pa.int64()),
            "kind": pa.array([["tok", "name", "op"][i % 3] for i in range(rows)], pa.string()),
        }
    )


@pytest.fixture(scope="module")
def data() -> tuple[pa.Table, pa.Table]:
    rng = random.Random(21)
    return random_spans(rng, 300, 0), random_spans(rng, 300, 1000)


def datafusion_ctx(data: tuple[pa.Table, pa.Table], span_join: bool) -> SessionContext:
    ctx = SessionContext()
    # Two partitions each, so the probe side streams in parallel partitions.
    for name, table in zip(["l", "r"], data):
        batches = table.to_batches(max_chunksize=100)
        ctx.register_record_batches(name, [batches[:1], batches[1:]])
    return datafusion_cpg.install(ctx, span_join=span_join)


def duck(data: tuple[pa.Table, pa.Table]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("l", data[0])
    con.register("r", data[1])
    return con


def ordered(rows) -> list[tuple]:
    """Rows sorted with NULLs first (joins promise no order)."""
    return sorted((tuple(row) for row in rows), key=lambda row: [(v is not None, v) for v in row])


def df_rows(ctx: SessionContext, sql: str) -> list[tuple]:
    table = pa.Table.from_batches(ctx.sql(sql).collect())
    return ordered(row.values() for row in table.to_pylist())


def duck_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return ordered(con.execute(sql).fetchall())


PREDICATES = [
    "r.bstart < l.bend AND l.bstart < r.bend",
    "r.bstart >= l.bstart AND r.bend <= l.bend",
    "l.bstart >= r.bstart AND r.bend >= l.bend",
    "r.bstart >= l.bstart AND r.bstart < l.bend AND r.kind <> 'op'",
]

JOINS = [
    "SELECT l.id AS lid, r.id AS rid FROM l JOIN r ON l.path = r.path AND {p}",
    "SELECT l.id AS lid, r.id AS rid FROM l LEFT JOIN r ON l.path = r.path AND {p}",
    "SELECT l.id AS lid, r.id AS rid FROM l RIGHT JOIN r ON l.path = r.path AND {p}",
    "SELECT l.id AS lid, r.id AS rid FROM l FULL JOIN r ON l.path = r.path AND {p}",
    "SELECT l.id FROM l WHERE EXISTS (SELECT 1 FROM r WHERE l.path = r.path AND {p})",
    "SELECT l.id FROM l WHERE NOT EXISTS (SELECT 1 FROM r WHERE l.path = r.path AND {p})",
]


def test_span_joins_over_ffi_equal_datafusion_and_duckdb(data) -> None:
    spans = datafusion_ctx(data, span_join=True)
    plain = datafusion_ctx(data, span_join=False)
    con = duck(data)
    compared = 0
    for predicate in PREDICATES:
        for template in JOINS:
            sql = template.format(p=predicate)
            with_operator = spans.sql(sql).execution_plan().display_indent()
            assert "SpanJoinExec" in with_operator, sql
            assert "SpanJoinExec" not in plain.sql(sql).execution_plan().display_indent(), sql
            got = df_rows(spans, sql)
            assert got == df_rows(plain, sql), sql
            assert got == duck_rows(con, sql), sql
            compared += len(got)
    assert compared > 10_000


MODES = {
    "contained_best": ("r.bstart <= l.bstart AND l.bend <= r.bend", "-(r.bend - r.bstart)"),
    "contains_best": ("l.bstart <= r.bstart AND r.bend <= l.bend", "r.bend - r.bstart"),
    "overlap_best": (
        "r.bstart < l.bend AND l.bstart < r.bend",
        "LEAST(l.bend, r.bend) - GREATEST(l.bstart, r.bstart)",
    ),
    "exact": ("r.bstart = l.bstart AND r.bend = l.bend", "r.bend - r.bstart"),
}


def duck_best_match(mode: str, how: str) -> str:
    condition, score = MODES[mode]
    join = "LEFT JOIN" if how == "left" else "JOIN"
    return f"""
        SELECT id, rid, CASE WHEN rid IS NULL THEN 'NO_MATCH' ELSE '{mode.upper()}' END,
               CASE WHEN rid IS NULL THEN NULL ELSE CAST(score AS DOUBLE) END
        FROM (
          SELECT l.id, r.id AS rid, {score} AS score,
                 ROW_NUMBER() OVER (PARTITION BY l.id
                                    ORDER BY {score} DESC, r.kind DESC, r.bstart, r.bend, r.id) AS rn
          FROM l {join} r ON l.path = r.path AND {condition}
               AND l.bstart <= l.bend AND r.bstart <= r.bend)
        WHERE rn = 1"""


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("how", ["inner", "left"])
def test_span_align_over_ffi_equals_duckdb(data, mode: str, how: str) -> None:
    ctx = datafusion_ctx(data, span_join=True)
    got = df_rows(
        ctx,
        f"SELECT id, id__r, match_kind, match_score FROM span_align('l', 'r', '{mode}', "
        f"'how={how}; tie_breakers=kind desc')",
    )
    want = duck_rows(duck(data), duck_best_match(mode, how))
    assert got == want
    if how == "left":
        assert len(got) == data[0].num_rows
    assert sum(1 for row in got if row[2] != "NO_MATCH") > (5 if mode == "exact" else 30)


def test_span_align_errors_reach_python(data) -> None:
    ctx = datafusion_ctx(data, span_join=True)
    with pytest.raises(Exception, match="unknown mode 'nearest'; accepted: contained_best"):
        ctx.sql("SELECT * FROM span_align('l', 'r', 'nearest')").collect()
    with pytest.raises(Exception, match="no table 'nope'"):
        ctx.sql("SELECT * FROM span_align('l', 'nope', 'exact')").collect()
