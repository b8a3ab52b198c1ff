"""Span alignment from Python: datafusion-cpg over FFI against DuckDB and plain
datafusion-python 55 on the same in-memory Arrow tables, and against the natively linked
bundle (``cpg-sql``) on the same Parquet files.

For each data set of ``benches/span_data.py`` (``synthetic``: 1M × 1M over 1,000 files;
``stdlib``: the CPython standard library's AST nodes × tokens) and each query
(containment pairs; best match per token), every engine runs in its own process, which
reports its time (median of ``--repeat`` runs; slow engines run once, with a timeout) and
its peak memory above the loaded inputs. Results are cross-checked.

Usage (after ``maturin develop --release`` and ``cargo build --release -p
datafusion-cpg-cli``; data from ``benches/span_data.py``)::

    .venv/bin/python ffi/python/benches/span_alignment.py [--data DIR] [--datasets synthetic,stdlib]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[3]

PAIRS = (
    "SELECT count(*) AS n FROM nodes n JOIN tokens t ON n.path = t.path "
    "AND t.bstart >= n.bstart AND t.bend <= n.bend"
)
BEST_SPAN_ALIGN = (
    "SELECT count(*) AS n, CAST(sum(match_score) AS BIGINT) AS s "
    "FROM span_align('tokens', 'nodes', 'contained_best')"
)
BEST_WINDOW = """
    SELECT count(*) AS n, sum(score) AS s FROM (
      SELECT -(n.bend - n.bstart) AS score,
             ROW_NUMBER() OVER (PARTITION BY t.id
                                ORDER BY n.bend - n.bstart, n.bstart, n.bend, n.id) AS rn
      FROM tokens t JOIN nodes n ON t.path = n.path
           AND n.bstart <= t.bstart AND t.bend <= n.bend
           AND t.bstart <= t.bend AND n.bstart <= n.bend)
    WHERE rn = 1"""

QUERIES = {"pairs": {"cpg": PAIRS, "sql": PAIRS}, "best": {"cpg": BEST_SPAN_ALIGN, "sql": BEST_WINDOW}}


def memory() -> tuple[int, int]:
    """(current, peak) resident bytes of this process."""
    fields = {}
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) * 1024
    return fields["VmRSS"], fields["VmHWM"]


def reset_peak() -> None:
    # Linux: writing 5 to clear_refs resets VmHWM to the current RSS.
    try:
        pathlib.Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def run_engine(engine: str, data: pathlib.Path, query: str, repeat: int) -> dict:
    """In this (child) process: load the tables, run the query `repeat` times."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = {name: pq.read_table(data / f"{name}.parquet") for name in ("nodes", "tokens")}
    input_bytes = sum(t.nbytes for t in tables.values())
    sql = QUERIES[query]["cpg" if engine in ("datafusion-cpg", "cpg-sql") else "sql"]
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        for name, table in tables.items():
            con.register(name, table)

        def once():
            return con.execute(sql).fetchall()[0]
    else:
        import datafusion

        ctx = datafusion.SessionContext()
        for name, table in tables.items():
            ctx.register_record_batches(name, [table.to_batches(max_chunksize=8192)])
        if engine == "datafusion-cpg":
            import datafusion_cpg

            ctx = datafusion_cpg.install(ctx)

        def once():
            row = pa.Table.from_batches(ctx.sql(sql).collect()).to_pylist()[0]
            return tuple(row.values())

    before, _ = memory()
    reset_peak()
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = once()
        times.append(time.perf_counter() - start)
    _, peak = memory()
    return {
        "seconds": statistics.median(times),
        "peak_above_inputs": max(peak - before, 0),
        "input_bytes": input_bytes,
        "result": [int(v) for v in result],
    }


def run_native(data: pathlib.Path, query: str, repeat: int) -> dict:
    """The natively linked bundle (cpg-sql) over the same tables loaded from the Parquet
    files: time per query (the script with the query `repeat` times, minus the load-only
    script) and peak resident memory above the load-only run's."""
    import resource

    binary = pathlib.Path(
        os.environ.get("CARGO_TARGET_DIR", pathlib.Path.home() / ".cache/datafusion-cpg/target")
    ) / "release/cpg-sql"
    setup = "".join(
        f"CREATE EXTERNAL TABLE {name}_file STORED AS PARQUET LOCATION '{data / (name + '.parquet')}';"
        f"CREATE TABLE {name} AS SELECT * FROM {name}_file;"
        for name in ("nodes", "tokens")
    )
    sql = QUERIES[query]["cpg"]

    def timed(statements: str) -> float:
        start = time.perf_counter()
        subprocess.run([str(binary), "-q", "-c", statements], check=True, capture_output=True)
        return time.perf_counter() - start

    def peak() -> int:
        return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024

    load = statistics.median(timed(setup) for _ in range(3))
    load_peak = peak()
    total = timed(setup + (sql + ";") * repeat)
    return {
        "seconds": max(total - load, 0.0) / repeat,
        "peak_above_inputs": max(peak() - load_peak, 0),
        "input_bytes": None,
        "result": None,
    }


def child(engine: str, data: pathlib.Path, query: str, repeat: int, timeout: float) -> dict:
    command = [sys.executable, __file__, "--child", engine, "--data", str(data), "--query", query, "--repeat", str(repeat)]
    try:
        out = subprocess.run(command, check=True, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "timeout": timeout}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=pathlib.Path, default=pathlib.Path.home() / ".cache/datafusion-cpg/bench-data")
    parser.add_argument("--datasets", default="synthetic,stdlib")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--child")
    parser.add_argument("--query")
    args = parser.parse_args()
    if args.child:
        if args.child == "cpg-sql":
            print(json.dumps(run_native(args.data, args.query, args.repeat)))
        else:
            print(json.dumps(run_engine(args.child, args.data, args.query, args.repeat)))
        return 0

    report = []
    for dataset in args.datasets.split(","):
        data = args.data / dataset
        for query in QUERIES:
            results = {}
            for engine, repeat in [("datafusion-cpg", args.repeat), ("cpg-sql", args.repeat), ("duckdb", 3), ("datafusion", 1)]:
                results[engine] = child(engine, data, query, repeat, args.timeout)
                print(f"{dataset:9} {query:5} {engine:15} {json.dumps(results[engine])}", flush=True)
            checked = [r["result"] for r in results.values() if r.get("result")]
            assert all(r == checked[0] for r in checked), f"{dataset} {query}: results differ: {checked}"
            ours = results["datafusion-cpg"]["seconds"]
            line = {"dataset": dataset, "query": query, "result": checked[0]}
            for engine, r in results.items():
                line[engine] = r["seconds"]
                if r["seconds"] is None:
                    line[f"{engine}_over_cpg"] = f"> {r['timeout'] / ours:.0f}x (timeout)"
                elif engine != "datafusion-cpg":
                    line[f"{engine}_over_cpg"] = round(r["seconds"] / ours, 2)
            inputs = results["datafusion-cpg"]["input_bytes"]
            for engine in ("datafusion-cpg", "cpg-sql", "duckdb", "datafusion"):
                above = results[engine].get("peak_above_inputs")
                if above is not None:
                    line[f"{engine}_peak_over_inputs"] = round(above / inputs, 2)
            report.append(line)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
