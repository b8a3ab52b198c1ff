"""The bundle's query planner over FFI in datafusion-python 55, against the session's own.

Two sessions over the same 10,000,000 in-memory spans (1,000 files): one with the bundle's
functions only (`datafusion_cpg.register`), one with the whole bundle
(`datafusion_cpg.install`: codecs and the policy-enforcing planner, which plans every
query in the extension module and hands the plan back through datafusion-proto). Runs
alternate between the two; prints each median and the ratio (target: at most 1.05).

    .venv/bin/maturin develop --release -m ffi/python/Cargo.toml
    .venv/bin/python ffi/python/benches/planner_overhead.py [runs]
"""

from __future__ import annotations

import statistics
import sys
import time

import datafusion
import pyarrow as pa
import pyarrow.compute as pc

import datafusion_cpg

ROWS = 10_000_000
BATCH = 1_000_000
QUERY = (
    'SELECT count(DISTINCT stable_hash64(path, bstart, bend)) AS n, '
    'sum(span_len(bstart, bend)) AS total FROM spans WHERE bend > bstart'
)


def batches() -> list[pa.RecordBatch]:
    out = []
    for first in range(0, ROWS, BATCH):
        ids = pa.array(range(first, first + BATCH), pa.int64())
        files = pc.cast(pc.remainder(ids, 1000), pa.string())
        path = pc.binary_join_element_wise("src/mod_", files, ".py", "")
        bstart = pc.multiply(pc.remainder(ids, 5000), 7)
        bend = pc.add(bstart, pc.add(pc.remainder(ids, 13), 1))
        out.append(pa.record_batch({"path": path, "bstart": bstart, "bend": bend}))
    return out


def timed(ctx: datafusion.SessionContext) -> float:
    start = time.perf_counter()
    ctx.sql(QUERY).collect()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    data = batches()
    plain = datafusion.SessionContext()
    datafusion_cpg.register(plain)
    plain.register_record_batches("spans", [data])
    bundle = datafusion_cpg.install(datafusion.SessionContext())
    bundle.register_record_batches("spans", [data])
    expected = plain.sql(QUERY).to_pylist()
    assert bundle.sql(QUERY).to_pylist() == expected, "the planner changed the result"
    times: dict[str, list[float]] = {"session_planner": [], "bundle_planner_ffi": []}
    for _ in range(runs):
        times["session_planner"].append(timed(plain))
        times["bundle_planner_ffi"].append(timed(bundle))
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, ms in medians.items():
        print(f"{name}: median {ms:.1f} ms over {runs} runs")
    print(f"ratio bundle/session: {medians['bundle_planner_ffi'] / medians['session_planner']:.3f} (result {expected})")


if __name__ == "__main__":
    main()
