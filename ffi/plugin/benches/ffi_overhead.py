"""The Python side of the FFI-overhead comparison (see benches/ffi_overhead.rs).

Times, in datafusion-python 55 with the same in-memory data as the Rust bench:
  - ffi: SELECT count(DISTINCT stable_hash64(path, start, end)) with the FFI UDF
  - md5: the same count over md5(concat_ws('|', path, start, end)), no bundle needed
Prints the median of the runs in milliseconds. Run `cargo bench -p datafusion-cpg-ffi --bench ffi_overhead`
first (it writes target/cpg-bench/spans_10m.parquet).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import datafusion

import datafusion_cpg

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "target" / "cpg-bench" / "spans_10m.parquet"
QUERIES = {
    "ffi_stable_hash64": 'SELECT count(DISTINCT stable_hash64(path, start, "end")) AS n FROM spans',
    "md5_concat_ws": "SELECT count(DISTINCT md5(concat_ws('|', path, start, \"end\"))) AS n FROM spans",
}


def median_ms(ctx: datafusion.SessionContext, sql: str, runs: int) -> tuple[float, int]:
    result = ctx.sql(sql).to_pylist()[0]["n"]  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        ctx.sql(sql).collect()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main() -> None:
    if not DATA.exists():
        sys.exit(f"{DATA} is missing: run `cargo bench -p datafusion-cpg-ffi --bench ffi_overhead` first")
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    ctx = datafusion.SessionContext()
    datafusion_cpg.register(ctx)
    batches = ctx.read_parquet(str(DATA)).collect()
    ctx.register_record_batches("spans", [batches])
    for name, sql in QUERIES.items():
        ms, n = median_ms(ctx, sql, runs)
        print(f"{name}: median {ms:.1f} ms over {runs} runs (count = {n})")


if __name__ == "__main__":
    main()
