#!/usr/bin/env python3
"""Writes the span-alignment benchmark inputs as Parquet, for ``benches/span_alignment.rs``
(criterion) and ``ffi/python/benches/span_alignment.py`` (DuckDB and datafusion-python).

Two data sets, each a ``nodes.parquet`` and a ``tokens.parquet`` with columns
``path, bstart, bend, id, kind`` (half-open byte spans):

- ``synthetic/``: 1,000 files, 1,000 tokens and 1,000 AST-like nodes per file (1M × 1M).
  Tokens are consecutive (1–8 bytes, gaps of 0–2); a node covers a run of tokens whose
  length is geometric (mean ~7), plus one module node per file covering it whole.
- ``stdlib/``: the AST nodes and tokens of the CPython standard library on this machine
  (``sysconfig`` ``stdlib`` without ``site-packages``), extracted with
  ``examples/extract_spans.py`` (nodes also carry ``depth``).

Usage: ``.venv/bin/python benches/span_data.py [OUT_DIR]`` (default
``~/.cache/datafusion-cpg/bench-data``; existing files are kept). Needs numpy and pyarrow
(the test virtualenv has both).
"""

from __future__ import annotations

import pathlib
import subprocess
import sys
import sysconfig

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

REPO = pathlib.Path(__file__).resolve().parents[1]
FILES = 1_000
PER_FILE = 1_000


def synthetic(out: pathlib.Path) -> None:
    rng = np.random.default_rng(42)
    paths, t_start, t_end, n_start, n_end = [], [], [], [], []
    for f in range(FILES):
        lengths = rng.integers(1, 9, PER_FILE)
        gaps = rng.integers(0, 3, PER_FILE)
        starts = np.cumsum(gaps + np.concatenate([[0], lengths[:-1]]))
        ends = starts + lengths
        t_start.append(starts)
        t_end.append(ends)
        first = rng.integers(0, PER_FILE, PER_FILE - 1)
        run = np.minimum(rng.geometric(0.15, PER_FILE - 1), PER_FILE - first)
        n_start.append(np.concatenate([[0], starts[first]]))
        n_end.append(np.concatenate([[ends[-1]], ends[first + run - 1]]))
        paths.append(f"pkg{f // 100:02d}/module_{f:04d}.py")
    path_column = pa.array(np.repeat(paths, PER_FILE))
    kinds = np.array(["Name", "Call", "Attribute", "Expr", "Constant"])
    for name, starts, ends, first_id in [
        ("tokens", t_start, t_end, 0),
        ("nodes", n_start, n_end, 10_000_000),
    ]:
        rows = FILES * PER_FILE
        table = pa.table(
            {
                "path": path_column,
                "bstart": pa.array(np.concatenate(starts), pa.int64()),
                "bend": pa.array(np.concatenate(ends), pa.int64()),
                "id": pa.array(np.arange(first_id, first_id + rows), pa.int64()),
                "kind": pa.array(kinds[rng.integers(0, len(kinds), rows)]),
            }
        )
        pq.write_table(table, out / f"{name}.parquet")


def stdlib(out: pathlib.Path) -> None:
    csv_dir = out / "csv"
    if not (csv_dir / "tokens.csv").exists():
        source = sysconfig.get_paths()["stdlib"]
        subprocess.run(
            [sys.executable, str(REPO / "examples/extract_spans.py"), source, str(csv_dir)],
            check=True,
        )
    read = pacsv.ReadOptions(use_threads=True, block_size=256 << 20)
    parse = pacsv.ParseOptions(newlines_in_values=True)

    def load(file: str, columns: list[str]) -> pa.Table:
        convert = pacsv.ConvertOptions(include_columns=columns)
        table = pacsv.read_csv(csv_dir / file, read_options=read, parse_options=parse, convert_options=convert)
        # site-packages is not the standard library.
        return table.filter(pc.invert(pc.starts_with(table["path"], "site-packages/")))

    nodes = load("ast_nodes.csv", ["path", "bstart", "bend", "kind", "depth"])
    tokens = load("tokens.csv", ["path", "bstart", "bend", "kind"])
    for name, table, extra in [("nodes", nodes, ["depth"]), ("tokens", tokens, [])]:
        columns = {
            "path": table["path"],
            "bstart": table["bstart"].cast(pa.int64()),
            "bend": table["bend"].cast(pa.int64()),
            "id": pa.array(np.arange(table.num_rows), pa.int64()),
            "kind": table["kind"],
        }
        for column in extra:
            columns[column] = table[column].cast(pa.int64())
        pq.write_table(pa.table(columns), out / f"{name}.parquet")


def main() -> int:
    root = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else (
        pathlib.Path.home() / ".cache/datafusion-cpg/bench-data"
    )
    for name, make in [("synthetic", synthetic), ("stdlib", stdlib)]:
        out = root / name
        if (out / "tokens.parquet").exists() and (out / "nodes.parquet").exists():
            print(f"span_data: {out} exists")
            continue
        out.mkdir(parents=True, exist_ok=True)
        make(out)
        rows = [pq.ParquetFile(out / f"{t}.parquet").metadata.num_rows for t in ("nodes", "tokens")]
        print(f"span_data: {out}: {rows[0]:,} nodes, {rows[1]:,} tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
