#!/usr/bin/env python3
"""Runs every golden vector of tests/golden/udf_vectors.json through a built `cpg-sql`
binary (the DataFusion CLI with the datafusion-cpg functions) and reports mismatches.

Usage: python3 tests/golden/check_with_cli.py PATH/TO/cpg-sql [--vectors FILE] [--filter SUBSTR] [-v]

Only the standard library is needed. `cpg-sql --format json` writes arrow_json without
explicit nulls: a NULL column value or NULL struct field is left out of its object, so
missing keys are read as null before comparing. Exit status: 0 if every case matches.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def strip_nulls(value: Any) -> Any:
    """Drops null-valued object members, recursively (arrow_json's default output)."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


def run(binary: str, sql: str, retries: int = 5) -> tuple[bool, str]:
    """(ok, stdout or error text). Retries when the binary is missing (relinking)."""
    for attempt in range(retries):
        if not Path(binary).exists():
            time.sleep(2 + 2 * attempt)
            continue
        try:
            proc = subprocess.run(
                [binary, "-q", "--format", "json", "-c", sql],
                cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
            )
        except OSError as e:  # e.g. "Text file busy" while being relinked
            time.sleep(2 + 2 * attempt)
            last = str(e)
            continue
        if proc.returncode == 0:
            return True, proc.stdout
        return False, (proc.stderr + proc.stdout).strip()
    return False, f"could not run {binary}: {locals().get('last', 'missing')}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary")
    parser.add_argument("--vectors", default=str(HERE / "udf_vectors.json"))
    parser.add_argument("--filter", default="")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()

    doc = json.loads(Path(args.vectors).read_text(encoding="utf-8"))
    assert doc.get("version") == 1, "unknown vector file version"
    failures = 0
    checked = 0
    for case in doc["cases"]:
        if args.filter not in case["name"]:
            continue
        checked += 1
        ok, out = run(args.binary, case["sql"])
        if not ok:
            failures += 1
            print(f"ERROR    {case['name']}\n  sql:      {case['sql']}\n  error:    {out}")
            continue
        try:
            rows = json.loads(out) if out.strip() else []
        except json.JSONDecodeError:
            failures += 1
            print(f"BADJSON  {case['name']}\n  sql:      {case['sql']}\n  output:   {out!r}")
            continue
        if len(rows) != 1:
            failures += 1
            print(f"ROWS     {case['name']}: expected 1 row, got {len(rows)}: {out.strip()}")
            continue
        actual = rows[0].get("v")
        if strip_nulls(actual) != strip_nulls(case["expected"]):
            failures += 1
            print(
                f"MISMATCH {case['name']}\n  sql:      {case['sql']}\n"
                f"  rust:     {json.dumps(actual, ensure_ascii=False)}\n"
                f"  expected: {json.dumps(case['expected'], ensure_ascii=False)}"
            )
        elif args.verbose:
            print(f"ok       {case['name']}")
    for case in doc.get("error_cases", []):
        if args.filter not in case["name"]:
            continue
        checked += 1
        ok, out = run(args.binary, case["sql"])
        if ok:
            failures += 1
            print(f"NOERROR  {case['name']}\n  sql:      {case['sql']}\n  output:   {out.strip()}")
        elif case["error_contains"].lower() not in out.lower():
            failures += 1
            print(
                f"ERRTEXT  {case['name']}\n  sql:      {case['sql']}\n"
                f"  error:    {out}\n  expected to contain: {case['error_contains']}"
            )
        elif args.verbose:
            print(f"ok       {case['name']} (error)")
    print(f"{checked} checked, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
