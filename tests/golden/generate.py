#!/usr/bin/env python3
"""Writes tests/golden/udf_vectors.json: golden vectors for every SQL function of
datafusion-cpg, computed independently of the Rust code.

- Hash functions (stable_hash64, stable_hash128, stable_id, xxhash64): expected values
  come from the pure-Python reference ``ffi/python/python/datafusion_cpg/reference.py``,
  which implements ``README.md, Stable hash encoding,`` (key encoding v1) and Spark's xxhash64.
  Each hash case also records ``python_args`` (the reference's arguments, in the tagged
  JSON form decoded by ``ffi/python/tests/test_reference.py``; the xxhash64-only
  ``UInt64`` and ``SparkDecimal`` have no tag and are written as the long or bytes Spark
  hashes for them) and, for the stable hash family, ``key_hex`` (the encoded key).
- span_len, span_overlaps, span_contains, utf8_normalize, qname_normalize and
  list_enumerate: expected values computed here from their documented semantics (the
  reference functions below). A span case whose reference raises ``InvalidSpan``
  (a negative bound, or an end before its start) becomes an error case; so does an
  unknown normalization form.

File format::

    {"version": <the stable-hash ENCODING_VERSION, 1>,
     "cases": [{"name", "function", "sql": "SELECT <expr> AS v ...", "expected",
                ["python_args"], ["key_hex"], ["note"]}],
     "error_cases": [{"name", "function", "sql", "error_contains"}]}

``expected`` is column ``v`` of the single result row as arrow_json writes it with
explicit nulls (Int64 -> number, Utf8 -> string, Boolean -> bool, NULL -> null,
List<Struct<ordinality, value>> -> [{"ordinality": 1, "value": ...}, ...]).

Usage: python3 tests/golden/generate.py [--check]   (--check: fail if the file differs)
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Optional

import xxhash

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "ffi" / "python" / "python" / "datafusion_cpg"))

import reference as ref  # noqa: E402 (the module is importable on its own)
from reference import (  # noqa: E402
    DurationNs, Float32, Int32, SparkDecimal, TimeNs, TimestampNs, UInt64, java_bigint_bytes,
)

OUT = HERE / "udf_vectors.json"

cases: list[dict[str, Any]] = []
error_cases: list[dict[str, Any]] = []


# --------------------------------------------------------------------------------------
# Tagged JSON form of Python arguments (decoded by ffi/python/tests/test_reference.py)
# --------------------------------------------------------------------------------------


def encode_py(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Int32):
        return {"int32": int(value)}
    # UInt64 and SparkDecimal (xxhash64 only) have no tag of their own: they are written
    # as what Spark hashes for them, a long (int) or BigInteger.toByteArray() bytes, which
    # the reference hashes identically.
    if isinstance(value, UInt64):
        return {"bytes_hex": java_bigint_bytes(int(value)).hex()}
    if isinstance(value, SparkDecimal):
        if value.precision <= ref.SPARK_MAX_LONG_DIGITS:
            return value.unscaled
        return {"bytes_hex": java_bigint_bytes(value.unscaled).hex()}
    if isinstance(value, int):
        return value
    if isinstance(value, Float32):
        return {"float32": repr(float(value))}
    if isinstance(value, float):
        # NaN, infinities and -0.0 are not (reliably) representable as JSON numbers.
        if math.isnan(value) or math.isinf(value) or (
            value == 0.0 and str(value).startswith("-")
        ):
            return {"float": repr(value)}
        return value
    if isinstance(value, (bytes, bytearray)):
        return {"bytes_hex": bytes(value).hex()}
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"time": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"timedelta_us": (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, TimestampNs):
        return {"timestamp_ns": value.nanos}
    if isinstance(value, TimeNs):
        return {"time_ns": value.nanos}
    if isinstance(value, DurationNs):
        return {"duration_ns": value.nanos}
    if isinstance(value, list):
        return [encode_py(v) for v in value]
    if isinstance(value, tuple):
        return {"tuple": [encode_py(v) for v in value]}
    raise TypeError(f"cannot encode {value!r}")


# --------------------------------------------------------------------------------------
# Case builders
# --------------------------------------------------------------------------------------

_names: set[str] = set()


def add(name: str, function: str, sql: str, expected: Any, **extra: Any) -> None:
    assert name not in _names, f"duplicate case name {name}"
    _names.add(name)
    case = {"name": name, "function": function, "sql": sql, "expected": expected}
    case.update({k: v for k, v in extra.items() if v is not None})
    cases.append(case)


def add_error(name: str, function: str, sql: str, error_contains: str) -> None:
    assert name not in _names, f"duplicate case name {name}"
    _names.add(name)
    error_cases.append(
        {"name": name, "function": function, "sql": sql, "error_contains": error_contains}
    )


def call(function: str, sql_args: list[str]) -> str:
    return f"SELECT {function}({', '.join(sql_args)}) AS v"


def stable_all(name: str, sql_args: list[str], py_args: list[Any], note: Optional[str] = None) -> None:
    """One case each for stable_hash64, stable_hash128 and stable_id('node', ...)."""
    key_hex = ref.encode_key(*py_args).hex()
    py = [encode_py(a) for a in py_args]
    add(f"stable_hash64/{name}", "stable_hash64", call("stable_hash64", sql_args),
        ref.stable_hash64(*py_args), python_args=py, key_hex=key_hex, note=note)
    add(f"stable_hash128/{name}", "stable_hash128", call("stable_hash128", sql_args),
        ref.stable_hash128(*py_args), python_args=py, key_hex=key_hex, note=note)
    id_args = ["node", *py_args]
    add(f"stable_id/{name}", "stable_id", call("stable_id", ["'node'", *sql_args]),
        ref.stable_id(*id_args), python_args=[encode_py(a) for a in id_args],
        key_hex=ref.encode_key(*id_args).hex(), note=note)


def stable_one(function: str, name: str, sql: str, py_args: list[Any], note: Optional[str] = None) -> None:
    """One case of `function`; for stable_id, py_args starts with the prefix (hashed as the
    first part)."""
    fn: Callable[..., Any] = getattr(ref, function)
    null_prefix = function == "stable_id" and py_args[0] is None
    add(f"{function}/{name}", function, sql, fn(*py_args),
        python_args=[encode_py(a) for a in py_args],
        key_hex=None if null_prefix else ref.encode_key(*py_args).hex(),
        note=note)


def xx(name: str, sql_args: list[str], py_args: list[Any], note: Optional[str] = None,
       expected: Optional[int] = None) -> None:
    value = ref.xxhash64(*py_args)
    if expected is not None:
        assert value == expected, (name, value, expected)
    add(f"xxhash64/{name}", "xxhash64", call("xxhash64", sql_args), value,
        python_args=[encode_py(a) for a in py_args], note=note)


def ts(unit: str, value: int, tz: Optional[str] = None) -> str:
    tz_part = "None" if tz is None else f'Some("{tz}")'
    return f"arrow_cast({value}, 'Timestamp({unit}, {tz_part})')"


def utc(*a: int) -> dt.datetime:
    return dt.datetime(*a, tzinfo=dt.timezone.utc)


# --------------------------------------------------------------------------------------
# The spec's worked examples: check the encoded keys byte for byte first.
# --------------------------------------------------------------------------------------

assert ref.encode_key("a") == bytes.fromhex("05 01 00 00 00 00 00 00 00 61")
assert ref.encode_key(1) == bytes.fromhex("02 01 00 00 00 00 00 00 00")
assert ref.encode_key(None, True) == bytes.fromhex("00 01 01")
assert ref.encode_key("node", "x.py", 3, 7) == bytes.fromhex(
    "05 04 00 00 00 00 00 00 00 6e 6f 64 65"
    "05 04 00 00 00 00 00 00 00 78 2e 70 79"
    "02 03 00 00 00 00 00 00 00"
    "02 07 00 00 00 00 00 00 00"
)
_node_id = ref.stable_id("node", "x.py", 3, 7)
assert _node_id == "node:" + xxhash.xxh3_128_hexdigest(ref.encode_key("node", "x.py", 3, 7))

stable_one("stable_hash64", "spec_example_a", "SELECT stable_hash64('a') AS v", ["a"],
           note="README.md, Stable hash encoding, worked example")
for t in ["Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"]:
    stable_one("stable_hash64", f"spec_example_1_{t}", f"SELECT stable_hash64(arrow_cast(1, '{t}')) AS v", [1],
               note="README.md, Stable hash encoding, worked example: any integer type")
stable_one("stable_hash64", "spec_example_null_true", "SELECT stable_hash64(NULL, true) AS v", [None, True],
           note="README.md, Stable hash encoding, worked example")
stable_one("stable_id", "spec_example_node", "SELECT stable_id('node', 'x.py', 3, 7) AS v", ["node", "x.py", 3, 7],
           note="README.md, Stable hash encoding, worked example")
stable_one("stable_hash128", "spec_example_a", "SELECT stable_hash128('a') AS v", ["a"])
stable_one("stable_hash128", "spec_example_node_key", "SELECT stable_hash128('node', 'x.py', 3, 7) AS v",
           ["node", "x.py", 3, 7], note="the hash inside stable_id('node','x.py',3,7)")

# --------------------------------------------------------------------------------------
# Stable hash family: every type family, each for stable_hash64 / stable_hash128 / stable_id
# --------------------------------------------------------------------------------------

# Strings, every physical type.
stable_all("str_utf8", ["'a'"], ["a"])
stable_all("str_largeutf8", ["arrow_cast('a', 'LargeUtf8')"], ["a"])
stable_all("str_utf8view", ["arrow_cast('a', 'Utf8View')"], ["a"])
stable_all("str_dict_int32_utf8", ["arrow_cast('a', 'Dictionary(Int32, Utf8)')"], ["a"])
stable_all("str_dict_int8_largeutf8", ["arrow_cast('a', 'Dictionary(Int8, LargeUtf8)')"], ["a"])
stable_all("str_dict_int32_utf8view", ["arrow_cast('a', 'Dictionary(Int32, Utf8View)')"], ["a"])
stable_all("str_dict_uint16_utf8", ["arrow_cast('a', 'Dictionary(UInt16, Utf8)')"], ["a"])
stable_all("str_empty", ["''"], [""])
stable_all("str_NULL_word", ["'NULL'"], ["NULL"])
stable_all("str_unicode", ["'héllo ✓ 日本'"], ["héllo ✓ 日本"])
stable_all("str_1", ["'1'"], ["1"])
stable_all("str_long", ["'" + "x" * 300 + "'"], ["x" * 300])

# Integers of every width and signedness.
for t, lo, hi in [
    ("Int8", -128, 127), ("Int16", -32768, 32767), ("Int32", -(2**31), 2**31 - 1),
    ("Int64", -(2**63), 2**63 - 1), ("UInt8", 0, 255), ("UInt16", 0, 65535),
    ("UInt32", 0, 2**32 - 1), ("UInt64", 0, 2**64 - 1),
]:
    stable_all(f"int_{t}_1", [f"arrow_cast(1, '{t}')"], [1])
    stable_all(f"int_{t}_min", [f"arrow_cast({lo}, '{t}')"], [lo])
    stable_all(f"int_{t}_max", [f"arrow_cast({hi}, '{t}')"], [hi])
    if lo < 0:
        stable_all(f"int_{t}_minus1", [f"arrow_cast(-1, '{t}')"], [-1])
stable_all("int_literal_1", ["1"], [1])
stable_all("int_literal_42", ["42"], [42])
stable_all("uint64_i64max", ["arrow_cast(9223372036854775807, 'UInt64')"], [2**63 - 1],
           note="UInt64 that fits in i64: integer tag 0x02")
stable_all("uint64_i64max_plus1", ["arrow_cast(9223372036854775808, 'UInt64')"], [2**63],
           note="UInt64 above i64::MAX: large unsigned tag 0x03")
stable_all("uint64_literal_large", ["9223372036854775808"], [2**63],
           note="the literal 9223372036854775808 is typed UInt64")
stable_all("int_dict_int64", ["arrow_cast(arrow_cast(7, 'Int64'), 'Dictionary(Int32, Int64)')"], [7])

# Floats.
stable_all("float64_1_5", ["1.5"], [1.5])
stable_all("float32_1_5", ["arrow_cast(1.5, 'Float32')"], [1.5])
stable_all("float16_1_5", ["arrow_cast(1.5, 'Float16')"], [1.5])
stable_all("float16_nan", ["arrow_cast(arrow_cast('NaN', 'Float32'), 'Float16')"], [float("nan")])
stable_all("float16_neg_zero", ["arrow_cast(-0.0, 'Float16')"], [-0.0])
stable_all("float64_1_0", ["1.0"], [1.0])
stable_all("float64_0_1", ["0.1"], [0.1])
stable_all("float32_0_1", ["arrow_cast(0.1, 'Float32')"], [Float32(0.1)],
           note="float32 0.1 widened to f64 (0.10000000149011612), not f64 0.1")
stable_all("float64_zero", ["0.0"], [0.0])
stable_all("float64_neg_zero", ["-0.0"], [-0.0], note="-0.0 hashes as +0.0")
stable_all("float32_neg_zero", ["arrow_cast(-0.0, 'Float32')"], [-0.0])
stable_all("float64_nan", ["'NaN'::double"], [float("nan")], note="every NaN as 0x7FF8000000000000")
stable_all("float32_nan", ["arrow_cast('NaN', 'Float32')"], [float("nan")])
stable_all("float64_nan_arrow_cast", ["arrow_cast('NaN', 'Float64')"], [float("nan")])
stable_all("float64_neg_nan", ["-('NaN'::double)"], [float("nan")], note="sign-flipped NaN is still the canonical NaN")
stable_all("float64_inf", ["'inf'::double"], [float("inf")])
stable_all("float64_neg_inf", ["'-inf'::double"], [float("-inf")])
stable_all("float64_minus_2_25", ["-2.25"], [-2.25])
stable_all("float64_1e300", ["1e300"], [1e300])

# Booleans.
stable_all("bool_true", ["true"], [True])
stable_all("bool_false", ["false"], [False])

# NULL, untyped and typed.
stable_all("null", ["NULL"], [None])
stable_all("null_int64", ["arrow_cast(NULL, 'Int64')"], [None])
stable_all("null_utf8", ["NULL::varchar"], [None])
stable_all("null_float64", ["arrow_cast(NULL, 'Float64')"], [None])
stable_all("null_null", ["NULL", "NULL"], [None, None])
stable_all("null_then_a", ["NULL", "'a'"], [None, "a"])

# Dates.
stable_all("date32", ["DATE '2024-01-02'"], [dt.date(2024, 1, 2)])
stable_all("date32_epoch", ["DATE '1970-01-01'"], [dt.date(1970, 1, 1)])
stable_all("date32_before_epoch", ["DATE '1969-12-31'"], [dt.date(1969, 12, 31)])
stable_all("date32_year1", ["DATE '0001-01-01'"], [dt.date(1, 1, 1)])
stable_all("date64", ["arrow_cast(DATE '2024-01-02', 'Date64')"], [dt.date(2024, 1, 2)])
stable_all("date64_minus_1ms", ["arrow_cast(-1, 'Date64')"], [dt.date(1969, 12, 31)],
           note="Date64 -1 ms: floor division gives day -1")
stable_all("date64_end_of_day", ["arrow_cast(86399999, 'Date64')"], [dt.date(1970, 1, 1)],
           note="Date64 86,399,999 ms: floor division gives day 0")
stable_all("date32_from_int", ["arrow_cast(arrow_cast(19724, 'Int32'), 'Date32')"], [dt.date(2024, 1, 2)])

# Timestamps: every unit, with and without a time zone; the instant is hashed.
I = 1704164645  # 2024-01-02T03:04:05Z
stable_all("ts_s", [ts("Second", I)], [dt.datetime(2024, 1, 2, 3, 4, 5)])
stable_all("ts_ms", [ts("Millisecond", I * 1000)], [dt.datetime(2024, 1, 2, 3, 4, 5)])
stable_all("ts_us", [ts("Microsecond", I * 10**6)], [utc(2024, 1, 2, 3, 4, 5)])
stable_all("ts_ns", [ts("Nanosecond", I * 10**9)], [TimestampNs(I * 10**9)])
stable_all("ts_s_utc", [ts("Second", I, "UTC")], [utc(2024, 1, 2, 3, 4, 5)])
stable_all("ts_s_plus0200", [ts("Second", I, "+02:00")],
           [dt.datetime(2024, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))])
stable_all("ts_ms_new_york", [ts("Millisecond", I * 1000, "America/New_York")],
           [dt.datetime(2024, 1, 1, 22, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5)))])
stable_all("ts_ns_minus0530", [ts("Nanosecond", I * 10**9 + 123, "-05:30")], [TimestampNs(I * 10**9 + 123)])
stable_all("ts_literal_ns", ["TIMESTAMP '2024-01-02 03:04:05.123456789'"], [TimestampNs(I * 10**9 + 123456789)])
stable_all("ts_literal_us_precision", ["TIMESTAMP '2024-01-02 03:04:05.123456'"],
           [dt.datetime(2024, 1, 2, 3, 4, 5, 123456)])
stable_all("ts_s_minus1", [ts("Second", -1)], [dt.datetime(1969, 12, 31, 23, 59, 59)])
stable_all("ts_ns_minus1", [ts("Nanosecond", -1)], [TimestampNs(-1)])
stable_all("ts_s_year9999", [ts("Second", 253402300799)], [dt.datetime(9999, 12, 31, 23, 59, 59)],
           note="nanoseconds beyond i64: needs the 16-byte payload")
stable_all("ts_s_i64max", [ts("Second", 2**63 - 1)], [TimestampNs((2**63 - 1) * 10**9)],
           note="i64::MAX seconds in nanoseconds needs the i128 payload")
stable_all("ts_s_i64min", [ts("Second", -(2**63))], [TimestampNs(-(2**63) * 10**9)])

# Time of day.
T = 3 * 3600 + 4 * 60 + 5
stable_all("time32_s", [f"arrow_cast(arrow_cast({T}, 'Int32'), 'Time32(Second)')"], [dt.time(3, 4, 5)])
stable_all("time32_ms", [f"arrow_cast(arrow_cast({T * 1000 + 123}, 'Int32'), 'Time32(Millisecond)')"],
           [dt.time(3, 4, 5, 123000)])
stable_all("time64_us", [f"arrow_cast({T * 10**6 + 123456}, 'Time64(Microsecond)')"], [dt.time(3, 4, 5, 123456)])
stable_all("time64_ns", [f"arrow_cast({T * 10**9 + 123456789}, 'Time64(Nanosecond)')"],
           [TimeNs(T * 10**9 + 123456789)])
stable_all("time_literal", ["TIME '03:04:05.123456789'"], [TimeNs(T * 10**9 + 123456789)])
stable_all("time_literal_whole", ["TIME '03:04:05'"], [dt.time(3, 4, 5)])
stable_all("time_midnight", ["TIME '00:00:00'"], [dt.time(0)])

# Durations.
stable_all("duration_s", ["arrow_cast(5, 'Duration(Second)')"], [dt.timedelta(seconds=5)])
stable_all("duration_ms", ["arrow_cast(5000, 'Duration(Millisecond)')"], [dt.timedelta(seconds=5)])
stable_all("duration_us", ["arrow_cast(5000000, 'Duration(Microsecond)')"], [dt.timedelta(seconds=5)])
stable_all("duration_ns", ["arrow_cast(5000000000, 'Duration(Nanosecond)')"], [DurationNs(5 * 10**9)])
stable_all("duration_ns_minus1", ["arrow_cast(-1, 'Duration(Nanosecond)')"], [DurationNs(-1)])
stable_all("duration_ms_negative", ["arrow_cast(-1500, 'Duration(Millisecond)')"], [dt.timedelta(milliseconds=-1500)])
stable_all("duration_s_i64max", ["arrow_cast(9223372036854775807, 'Duration(Second)')"],
           [DurationNs((2**63 - 1) * 10**9)], note="needs the i128 payload")

# Decimals: normalized value, whatever precision, scale or width.
stable_all("dec128_1_50", ["arrow_cast('1.50', 'Decimal128(5,2)')"], [Decimal("1.50")])
stable_all("dec128_1_5", ["arrow_cast('1.5', 'Decimal128(10,1)')"], [Decimal("1.5")])
stable_all("dec128_from_float_literal", ["arrow_cast(1.50, 'Decimal128(5,2)')"], [Decimal("1.5")])
stable_all("dec32_1_50", ["arrow_cast('1.50', 'Decimal32(5,2)')"], [Decimal("1.50")])
stable_all("dec64_1_50", ["arrow_cast('1.50', 'Decimal64(5,2)')"], [Decimal("1.50")])
stable_all("dec256_1_50", ["arrow_cast('1.50', 'Decimal256(40,2)')"], [Decimal("1.50")])
stable_all("dec128_zero", ["arrow_cast('0.00', 'Decimal128(5,2)')"], [Decimal("0.00")], note="zero as m=0, s=0")
stable_all("dec128_neg_zero", ["arrow_cast('-0.00', 'Decimal128(5,2)')"], [Decimal("-0.00")])
stable_all("dec128_neg", ["arrow_cast('-12.340', 'Decimal128(10,3)')"], [Decimal("-12.34")])
stable_all("dec128_100", ["arrow_cast('100', 'Decimal128(5,0)')"], [Decimal("100")], note="m=1, s=-2")
stable_all("dec128_100_00", ["arrow_cast('100.00', 'Decimal128(7,2)')"], [Decimal("1E+2")], note="m=1, s=-2")
stable_all("dec128_1", ["arrow_cast('1', 'Decimal128(5,0)')"], [Decimal("1")])
stable_all("dec128_38_digits", ["arrow_cast('-1234567890123456789012345678.9012345678', 'Decimal128(38,10)')"],
           [Decimal("-1234567890123456789012345678.9012345678")])
stable_all("dec256_big", ["arrow_cast('123456789012345678901234567890.1234567891', 'Decimal256(76,10)')"],
           [Decimal("123456789012345678901234567890.1234567891")])
stable_all("dec256_1e75", ["arrow_cast('1" + "0" * 75 + "', 'Decimal256(76,0)')"], [Decimal("1E+75")],
           note="m=1, s=-75")
stable_all("dec256_neg_big", ["arrow_cast('-9" + "9" * 74 + "', 'Decimal256(76,0)')"], [Decimal("-9" + "9" * 74)])
stable_all("dec128_negative_scale", ["arrow_cast(arrow_cast(100, 'Decimal128(5,0)'), 'Decimal128(5,-2)')"],
           [Decimal("1E+2")], note="negative scale: m=1, s=-2, as Decimal128(5,0) 100")
stable_all("dec128_small", ["arrow_cast('0.000001', 'Decimal128(10,6)')"], [Decimal("0.000001")])

# Binary, every physical type.
stable_all("bin_binary", ["arrow_cast('ab', 'Binary')"], [b"ab"])
stable_all("bin_largebinary", ["arrow_cast('ab', 'LargeBinary')"], [b"ab"])
stable_all("bin_binaryview", ["arrow_cast('ab', 'BinaryView')"], [b"ab"])
stable_all("bin_fixedsize", ["arrow_cast(arrow_cast('ab', 'Binary'), 'FixedSizeBinary(2)')"], [b"ab"])
stable_all("bin_dict", ["arrow_cast(arrow_cast('ab', 'Binary'), 'Dictionary(Int32, Binary)')"], [b"ab"])
stable_all("bin_hex_literal", ["X'FF00'"], [b"\xff\x00"])
stable_all("bin_empty", ["arrow_cast('', 'Binary')"], [b""])

# Multi-part keys, boundaries, kinds.
stable_all("multi_a_bc", ["'a'", "'bc'"], ["a", "bc"])
stable_all("multi_ab_c", ["'ab'", "'c'"], ["ab", "c"])
stable_all("multi_abc", ["'abc'"], ["abc"])
stable_all("multi_path_span", ["'src/mod.py'", "10", "42"], ["src/mod.py", 10, 42])
stable_all("multi_mixed_types",
           ["'x.py'", "arrow_cast(3, 'Int32')", "arrow_cast(7, 'UInt16')", "true", "NULL", "2.5",
            "DATE '2024-01-02'", "arrow_cast('1.50', 'Decimal128(5,2)')", "arrow_cast('ab', 'Binary')",
            ts("Microsecond", I * 10**6), "arrow_cast(5, 'Duration(Second)')", "TIME '03:04:05'"],
           ["x.py", 3, 7, True, None, 2.5, dt.date(2024, 1, 2), Decimal("1.50"), b"ab",
            dt.datetime(2024, 1, 2, 3, 4, 5), dt.timedelta(seconds=5), dt.time(3, 4, 5)])
stable_all("kind_int_1", ["1"], [1])
stable_all("kind_float_1", ["1.0"], [1.0])
stable_all("kind_str_1", ["'1'"], ["1"])
stable_all("kind_bool_true", ["true"], [True])
stable_all("kind_decimal_1", ["arrow_cast('1', 'Decimal128(5,0)')"], [Decimal(1)])
stable_all("kind_bin_a", ["arrow_cast('a', 'Binary')"], [b"a"])
stable_all("kind_date_0", ["DATE '1970-01-01'"], [dt.date(1970, 1, 1)])
stable_all("kind_int_0", ["0"], [0])

# Array (non-constant) inputs: the per-row path rather than the constant path.
add("stable_hash64/column_a", "stable_hash64", "SELECT stable_hash64(x) AS v FROM (VALUES ('a')) AS t(x)",
    ref.stable_hash64("a"), python_args=["a"], key_hex=ref.encode_key("a").hex())
add("stable_hash64/column_mixed", "stable_hash64",
    "SELECT stable_hash64(x, y, z) AS v FROM (VALUES ('x.py', 3, CAST(NULL AS BIGINT))) AS t(x, y, z)",
    ref.stable_hash64("x.py", 3, None), python_args=["x.py", 3, None], key_hex=ref.encode_key("x.py", 3, None).hex())
add("stable_hash64/column_and_constant", "stable_hash64",
    "SELECT stable_hash64(x, 'c') AS v FROM (VALUES ('ab')) AS t(x)",
    ref.stable_hash64("ab", "c"), python_args=["ab", "c"], key_hex=ref.encode_key("ab", "c").hex())
add("stable_hash128/column_mixed", "stable_hash128",
    "SELECT stable_hash128(x, y) AS v FROM (VALUES (arrow_cast('ab', 'Utf8View'), 2.5)) AS t(x, y)",
    ref.stable_hash128("ab", 2.5), python_args=["ab", 2.5], key_hex=ref.encode_key("ab", 2.5).hex())
add("stable_id/column_prefix", "stable_id",
    "SELECT stable_id(p, x, y) AS v FROM (VALUES ('edge', 'a', 1)) AS t(p, x, y)",
    ref.stable_id("edge", "a", 1), python_args=["edge", "a", 1], key_hex=ref.encode_key("edge", "a", 1).hex())
add("stable_id/column_prefix_null", "stable_id",
    "SELECT stable_id(p, x) AS v FROM (VALUES (CAST(NULL AS VARCHAR), 'a')) AS t(p, x)",
    None, python_args=[None, "a"])
add("stable_id/column_dict_prefix", "stable_id",
    "SELECT stable_id(arrow_cast(p, 'Dictionary(Int32, Utf8)'), x) AS v FROM (VALUES ('span', 'a')) AS t(p, x)",
    ref.stable_id("span", "a"), python_args=["span", "a"], key_hex=ref.encode_key("span", "a").hex())

# stable_id specifics.
stable_one("stable_id", "null_prefix", "SELECT stable_id(NULL, 'a') AS v", [None, "a"], note="NULL prefix gives NULL")
stable_one("stable_id", "null_prefix_varchar", "SELECT stable_id(NULL::varchar, 'a') AS v", [None, "a"])
stable_one("stable_id", "edge_prefix", "SELECT stable_id('edge', 'x.py', 3, 7) AS v", ["edge", "x.py", 3, 7],
           note="different prefix, different hash")
stable_one("stable_id", "largeutf8_prefix", "SELECT stable_id(arrow_cast('node', 'LargeUtf8'), 'x.py', 3, 7) AS v",
           ["node", "x.py", 3, 7])
stable_one("stable_id", "utf8view_prefix", "SELECT stable_id(arrow_cast('node', 'Utf8View'), 'x.py', 3, 7) AS v",
           ["node", "x.py", 3, 7])
stable_one("stable_id", "dict_prefix", "SELECT stable_id(arrow_cast('node', 'Dictionary(Int32, Utf8)'), 'x.py', 3, 7) AS v",
           ["node", "x.py", 3, 7])
stable_one("stable_id", "empty_prefix", "SELECT stable_id('', 'a') AS v", ["", "a"])
stable_one("stable_id", "null_part", "SELECT stable_id('node', NULL) AS v", ["node", None])
stable_one("stable_id", "unicode_prefix", "SELECT stable_id('nœud', 'a') AS v", ["nœud", "a"])

# Errors of the stable hash family (planning errors naming the type).
add_error("stable_hash64/err_list", "stable_hash64", "SELECT stable_hash64(make_array(1, 2)) AS v", "List")
add_error("stable_hash64/err_struct", "stable_hash64", "SELECT stable_hash64(named_struct('a', 1)) AS v", "Struct")
add_error("stable_hash64/err_interval", "stable_hash64", "SELECT stable_hash64(INTERVAL '1 day') AS v", "Interval")
add_error("stable_hash64/err_no_args", "stable_hash64", "SELECT stable_hash64() AS v", "stable_hash64")
add_error("stable_hash128/err_list", "stable_hash128", "SELECT stable_hash128('a', make_array('b')) AS v", "List")
add_error("stable_id/err_only_prefix", "stable_id", "SELECT stable_id('node') AS v", "stable_id")
add_error("stable_id/err_int_prefix", "stable_id", "SELECT stable_id(1, 'a') AS v", "prefix")

# --------------------------------------------------------------------------------------
# xxhash64 (Spark)
# --------------------------------------------------------------------------------------
#
# Ground truth: Spark's InterpretedHashFunction.hash (expressions/hash.scala). Arrow types
# Spark lacks hash as the Spark type Spark's Parquet reader gives them
# (ParquetSchemaConverter): UInt8 -> ShortType, UInt16 -> IntegerType (4-byte int),
# UInt32 -> LongType (8-byte long), UInt64 -> DecimalType(20, 0). Timestamps of every
# unit hash as Spark's TimestampType: a long of microseconds (nanoseconds floored).

xx("spark_hello", ["'hello'"], ["hello"], expected=-4367754540140381902, note="Spark anchor")
xx("spark_ABC", ["'ABC'"], ["ABC"], expected=4105715581806190027, note="Spark docs anchor")
xx("spark_ABC_DEF", ["'ABC'", "'DEF'"], ["ABC", "DEF"], expected=3233247871021311208, note="Spark docs anchor")
xx("spark_array", ["'Spark'", "make_array(arrow_cast(123, 'Int32'))", "arrow_cast(2, 'Int32')"],
   ["Spark", [Int32(123)], Int32(2)], expected=5602566077635097486,
   note="Spark docs anchor: xxhash64('Spark', array(123), 2)")
xx("null", ["NULL"], [None], expected=42, note="NULL leaves the seed 42")
xx("null_int64", ["arrow_cast(NULL, 'Int64')"], [None], expected=42)
xx("null_then_a", ["NULL", "'a'"], [None, "a"], expected=ref.xxhash64("a"))
xx("a_then_null", ["'a'", "NULL"], ["a", None], expected=ref.xxhash64("a"))
xx("str_empty", ["''"], [""])
xx("str_largeutf8", ["arrow_cast('hello', 'LargeUtf8')"], ["hello"], expected=-4367754540140381902)
xx("str_utf8view", ["arrow_cast('hello', 'Utf8View')"], ["hello"], expected=-4367754540140381902)
xx("str_dict", ["arrow_cast('hello', 'Dictionary(Int32, Utf8)')"], ["hello"], expected=-4367754540140381902)
xx("str_unicode", ["'héllo ✓ 日本'"], ["héllo ✓ 日本"])
xx("multi_a_bc", ["'a'", "'bc'"], ["a", "bc"])
xx("multi_ab_c", ["'ab'", "'c'"], ["ab", "c"])
for t in ["Int8", "Int16", "Int32", "UInt8", "UInt16"]:
    xx(f"int_{t}_1", [f"arrow_cast(1, '{t}')"], [Int32(1)], note=f"{t} hashes as a 4-byte int")
for t in ["Int8", "Int16", "Int32"]:
    xx(f"int_{t}_minus1", [f"arrow_cast(-1, '{t}')"], [Int32(-1)])
xx("int_UInt8_max", ["arrow_cast(255, 'UInt8')"], [Int32(255)],
   note="Spark reads Parquet UINT_8 as ShortType: a 4-byte int")
xx("int_UInt16_max", ["arrow_cast(65535, 'UInt16')"], [Int32(65535)],
   note="Spark reads Parquet UINT_16 as IntegerType: a 4-byte int")
xx("int_UInt32_1", ["arrow_cast(1, 'UInt32')"], [1],
   note="Spark reads Parquet UINT_32 as LongType: an 8-byte long")
xx("int_UInt32_max", ["arrow_cast(4294967295, 'UInt32')"], [4294967295])
xx("int_Int64_1", ["arrow_cast(1, 'Int64')"], [1])
xx("int_literal_1", ["1"], [1], note="integer literals are Int64")
xx("int_Int64_min", ["arrow_cast(-9223372036854775808, 'Int64')"], [-(2**63)])
xx("int_dict_int32", ["arrow_cast(arrow_cast(5, 'Int32'), 'Dictionary(Int32, Int32)')"], [Int32(5)])

# UInt64: Spark reads Parquet UINT_64 as DecimalType(20, 0); precision 20 > 18, so the hash
# is over BigInteger.toByteArray() of the value, below i64::MAX as well as above it.
xx("int_UInt64_0", ["arrow_cast(0, 'UInt64')"], [UInt64(0)], expected=ref.xxhash64(b"\x00"),
   note="UInt64 is Spark's Decimal(20,0): BigInteger bytes 00")
xx("int_UInt64_1", ["arrow_cast(1, 'UInt64')"], [UInt64(1)], expected=ref.xxhash64(b"\x01"),
   note="UInt64 is Spark's Decimal(20,0): BigInteger bytes 01, not the 8-byte long")
xx("int_UInt64_i64max", ["arrow_cast(9223372036854775807, 'UInt64')"], [UInt64(2**63 - 1)],
   expected=ref.xxhash64(bytes.fromhex("7fffffffffffffff")), note="below i64::MAX: bytes 7f ff .. ff")
xx("int_UInt64_i64max_plus1", ["arrow_cast(9223372036854775808, 'UInt64')"], [UInt64(2**63)],
   expected=ref.xxhash64(bytes.fromhex("008000000000000000")),
   note="above i64::MAX: 9 bytes 00 80 00 .. 00")
xx("int_UInt64_max", ["arrow_cast(18446744073709551615, 'UInt64')"], [UInt64(2**64 - 1)],
   expected=ref.xxhash64(bytes.fromhex("00ffffffffffffffff")), note="u64::MAX: 9 bytes 00 ff .. ff")
xx("uint64_literal_large", ["9223372036854775808"], [2**63],
   expected=ref.xxhash64(UInt64(2**63)), note="the literal 9223372036854775808 is typed UInt64")
xx("uint64_as_decimal_20_0", ["arrow_cast(arrow_cast(9223372036854775808, 'UInt64'), 'Decimal128(20,0)')"],
   [SparkDecimal(2**63, 20)], expected=ref.xxhash64(UInt64(2**63)),
   note="a UInt64 hashes like the Decimal(20,0) Spark reads it as")
xx("uint64_list", ["make_array(arrow_cast(1, 'UInt64'), arrow_cast(18446744073709551615, 'UInt64'))"],
   [[UInt64(1), UInt64(2**64 - 1)]])

xx("bool_true", ["true"], [True], note="booleans hash as a 4-byte int 1/0")
xx("bool_false", ["false"], [False])
xx("float64_1_5", ["1.5"], [1.5])
xx("float64_zero", ["0.0"], [0.0])
xx("float64_neg_zero", ["-0.0"], [-0.0], expected=ref.xxhash64(0.0), note="-0.0 hashes as 0")
xx("float64_nan", ["'NaN'::double"], [float("nan")])
xx("float64_inf", ["'inf'::double"], [float("inf")])
xx("float32_1_5", ["arrow_cast(1.5, 'Float32')"], [Float32(1.5)], note="Float32 hashes its 4-byte bits")
xx("float32_0_1", ["arrow_cast(0.1, 'Float32')"], [Float32(0.1)])
xx("float32_neg_zero", ["arrow_cast(-0.0, 'Float32')"], [Float32(-0.0)], expected=ref.xxhash64(Float32(0.0)))
xx("float32_nan", ["arrow_cast('NaN', 'Float32')"], [Float32(float("nan"))])
xx("float16_1_5", ["arrow_cast(1.5, 'Float16')"], [Float32(1.5)], note="Float16 is hashed as Float32")
xx("bin_binary", ["arrow_cast('ab', 'Binary')"], [b"ab"], expected=ref.xxhash64("ab"),
   note="binary hashes its bytes, like the same string")
xx("bin_largebinary", ["arrow_cast('ab', 'LargeBinary')"], [b"ab"])
xx("bin_binaryview", ["arrow_cast('ab', 'BinaryView')"], [b"ab"])
xx("bin_fixedsize", ["arrow_cast(arrow_cast('ab', 'Binary'), 'FixedSizeBinary(2)')"], [b"ab"])
xx("bin_hex_literal", ["X'FF00'"], [b"\xff\x00"])
xx("date32", ["DATE '2024-01-02'"], [dt.date(2024, 1, 2)], note="DateType: i32 days")
xx("date32_before_epoch", ["DATE '1969-12-31'"], [dt.date(1969, 12, 31)])
xx("date64", ["arrow_cast(DATE '2024-01-02', 'Date64')"], [dt.date(2024, 1, 2)])
xx("date64_minus_1ms", ["arrow_cast(-1, 'Date64')"], [dt.date(1969, 12, 31)])

# Timestamps: Spark's TimestampType is a long of microseconds since the epoch, so one
# instant hashes the same in every Arrow unit and time zone, and equals Spark's long.
SPARK_TS = ref.xxhash64(I * 10**6)  # Spark: xxhash64(TIMESTAMP '2024-01-02 03:04:05 UTC')
TS_NOTE = "TimestampType: i64 microseconds, whatever the Arrow unit"
xx("ts_s", [ts("Second", I)], [dt.datetime(2024, 1, 2, 3, 4, 5)], expected=SPARK_TS, note=TS_NOTE)
xx("ts_ms", [ts("Millisecond", I * 1000)], [dt.datetime(2024, 1, 2, 3, 4, 5)], expected=SPARK_TS, note=TS_NOTE)
xx("ts_us", [ts("Microsecond", I * 10**6)], [dt.datetime(2024, 1, 2, 3, 4, 5)], expected=SPARK_TS, note=TS_NOTE)
xx("ts_ns", [ts("Nanosecond", I * 10**9)], [TimestampNs(I * 10**9)], expected=SPARK_TS, note=TS_NOTE)
xx("ts_micros_as_long", [f"arrow_cast({I * 10**6}, 'Int64')"], [I * 10**6], expected=SPARK_TS,
   note="the long Spark hashes for the timestamp")
xx("ts_s_tz", [ts("Second", I, "+02:00")],
   [dt.datetime(2024, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))], expected=SPARK_TS,
   note="the instant is hashed; the zone plays no part")
xx("ts_ms_new_york", [ts("Millisecond", I * 1000, "America/New_York")],
   [dt.datetime(2024, 1, 1, 22, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5)))], expected=SPARK_TS)
xx("ts_us_tz", [ts("Microsecond", I * 10**6, "+02:00")],
   [dt.datetime(2024, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))], expected=SPARK_TS)
xx("ts_ns_utc", [ts("Nanosecond", I * 10**9, "UTC")], [TimestampNs(I * 10**9)], expected=SPARK_TS)
xx("ts_ms_fraction", [ts("Millisecond", I * 1000 + 123)], [dt.datetime(2024, 1, 2, 3, 4, 5, 123000)],
   expected=ref.xxhash64(I * 10**6 + 123000))
xx("ts_ns_literal", ["TIMESTAMP '2024-01-02 03:04:05.123456789'"], [TimestampNs(I * 10**9 + 123456789)],
   expected=ref.xxhash64(I * 10**6 + 123456),
   note="Timestamp(ns) 03:04:05.123456789 floors to 123456 µs, as Spark's instantToMicros")
xx("ts_us_literal", ["TIMESTAMP '2024-01-02 03:04:05.123456'"], [dt.datetime(2024, 1, 2, 3, 4, 5, 123456)],
   expected=ref.xxhash64(I * 10**6 + 123456))
xx("ts_ns_minus1", [ts("Nanosecond", -1)], [TimestampNs(-1)], expected=ref.xxhash64(-1),
   note="-1 ns floors to -1 µs (1969-12-31T23:59:59.999999), not to 0")
xx("ts_ns_minus1500", [ts("Nanosecond", -1500)], [TimestampNs(-1500)], expected=ref.xxhash64(-2))
xx("ts_s_minus1", [ts("Second", -1)], [dt.datetime(1969, 12, 31, 23, 59, 59)], expected=ref.xxhash64(-(10**6)))
xx("ts_s_max_micros", [ts("Second", (2**63 - 1) // 10**6)], [TimestampNs((2**63 - 1) // 10**6 * 10**9)],
   expected=ref.xxhash64((2**63 - 1) // 10**6 * 10**6), note="the last second whose microseconds fit in i64")
xx("ts_ns_i64max", [ts("Nanosecond", 2**63 - 1)], [TimestampNs(2**63 - 1)],
   expected=ref.xxhash64((2**63 - 1) // 1000))
xx("ts_ns_i64min", [ts("Nanosecond", -(2**63))], [TimestampNs(-(2**63))],
   expected=ref.xxhash64(-(2**63) // 1000), note="floor division of i64::MIN ns")
xx("ts_list_s", [f"make_array({ts('Second', I)}, {ts('Second', I + 1)})"],
   [[dt.datetime(2024, 1, 2, 3, 4, 5), dt.datetime(2024, 1, 2, 3, 4, 6)]],
   expected=ref.xxhash64(I * 10**6, (I + 1) * 10**6), note="timestamps inside lists are microseconds too")
add("xxhash64/ts_column_s", "xxhash64",
    f"SELECT xxhash64(t) AS v FROM (VALUES ({ts('Second', I)})) AS s(t)",
    ref.xxhash64(dt.datetime(2024, 1, 2, 3, 4, 5)), python_args=[encode_py(dt.datetime(2024, 1, 2, 3, 4, 5))])
assert ref.xxhash64(dt.datetime(2024, 1, 2, 3, 4, 5)) == SPARK_TS
add_error("xxhash64/err_ts_s_overflow", "xxhash64", f"SELECT xxhash64({ts('Second', 2**63 - 1)}) AS v",
          "overflows")
add_error("xxhash64/err_ts_ms_overflow", "xxhash64", f"SELECT xxhash64({ts('Millisecond', 2**63 - 1)}) AS v",
          "overflows")

# Decimals: precision <= 18 the unscaled long, 19..38 BigInteger.toByteArray() of the
# unscaled value; Decimal256 follows the same rule up to Spark's maximum precision 38.


def sd(text: str, precision: int, scale: int) -> SparkDecimal:
    return SparkDecimal.of(Decimal(text), precision, scale)


assert java_bigint_bytes(0) == b"\x00" and java_bigint_bytes(128) == b"\x00\x80"
assert java_bigint_bytes(-1) == b"\xff" and java_bigint_bytes(-128) == b"\x80" and java_bigint_bytes(-129) == b"\xff\x7f"
assert java_bigint_bytes(2**63) == bytes.fromhex("008000000000000000")
xx("dec128_p5", ["arrow_cast('1.50', 'Decimal128(5,2)')"], [sd("1.50", 5, 2)], expected=ref.xxhash64(150),
   note="precision <= 18: the unscaled value as an 8-byte long")
xx("dec128_p18_neg", ["arrow_cast('-1.50', 'Decimal128(18,2)')"], [sd("-1.50", 18, 2)], expected=ref.xxhash64(-150))
xx("dec32_p5", ["arrow_cast('1.50', 'Decimal32(5,2)')"], [sd("1.50", 5, 2)], expected=ref.xxhash64(150))
xx("dec64_p10", ["arrow_cast('1.50', 'Decimal64(10,2)')"], [sd("1.50", 10, 2)], expected=ref.xxhash64(150))
xx("dec128_p20", ["arrow_cast('1.50', 'Decimal128(20,2)')"], [sd("1.50", 20, 2)],
   expected=ref.xxhash64(bytes.fromhex("0096")),
   note="precision > 18: BigInteger.toByteArray() of the unscaled value (00 96)")
xx("dec128_p38_neg", ["arrow_cast('-1.28', 'Decimal128(38,2)')"], [sd("-1.28", 38, 2)],
   expected=ref.xxhash64(b"\x80"), note="precision > 18: unscaled -128 -> 80")
xx("dec128_p38_zero", ["arrow_cast('0', 'Decimal128(38,0)')"], [sd("0", 38, 0)], expected=ref.xxhash64(b"\x00"))
xx("dec128_p38_big", ["arrow_cast('12345678901234567890123456789012345678', 'Decimal128(38,0)')"],
   [sd("12345678901234567890123456789012345678", 38, 0)])
xx("dec256_p10", ["arrow_cast('1.50', 'Decimal256(10,2)')"], [sd("1.50", 10, 2)], expected=ref.xxhash64(150),
   note="Decimal256 of precision <= 18 hashes like Spark's Decimal(10,2): the unscaled long")
xx("dec256_p18", ["arrow_cast('-999999999999999999', 'Decimal256(18,0)')"], [sd("-999999999999999999", 18, 0)],
   expected=ref.xxhash64(-999999999999999999), note="the widest decimal hashed as a long")
xx("dec256_p19", ["arrow_cast('1', 'Decimal256(19,0)')"], [sd("1", 19, 0)], expected=ref.xxhash64(b"\x01"),
   note="the narrowest decimal hashed as BigInteger bytes")
xx("dec256_p20", ["arrow_cast('1.50', 'Decimal256(20,2)')"], [sd("1.50", 20, 2)],
   expected=ref.xxhash64(bytes.fromhex("0096")))
xx("dec256_p38_neg", ["arrow_cast('-1.28', 'Decimal256(38,2)')"], [sd("-1.28", 38, 2)],
   expected=ref.xxhash64(b"\x80"), note="Decimal256(38,2) hashes like Decimal128(38,2)")
xx("dec256_p38_max", ["arrow_cast('" + "9" * 38 + "', 'Decimal256(38,0)')"], [sd("9" * 38, 38, 0)],
   expected=ref.xxhash64(java_bigint_bytes(10**38 - 1)))
xx("dec256_p38_min", ["arrow_cast('-" + "9" * 38 + "', 'Decimal256(38,0)')"], [sd("-" + "9" * 38, 38, 0)],
   expected=ref.xxhash64(java_bigint_bytes(-(10**38) + 1)))
xx("dec256_p38_big", ["arrow_cast('12345678901234567890123456789012345678', 'Decimal256(38,0)')"],
   [sd("12345678901234567890123456789012345678", 38, 0)],
   expected=ref.xxhash64(sd("12345678901234567890123456789012345678", 38, 0)))
xx("dec256_in_list", ["make_array(arrow_cast('1.50', 'Decimal256(20,2)'), arrow_cast('-1.28', 'Decimal256(20,2)'))"],
   [[sd("1.50", 20, 2), sd("-1.28", 20, 2)]])
add_error("xxhash64/err_dec256_p39", "xxhash64", "SELECT xxhash64(arrow_cast('1.50', 'Decimal256(39,2)')) AS v",
          "Decimal256(39, 2)")
add_error("xxhash64/err_dec256_p76_in_list", "xxhash64",
          "SELECT xxhash64(make_array(arrow_cast('1', 'Decimal256(76,0)'))) AS v", "Decimal256(76, 0)")

# Nested values: list elements and struct fields folded in order, NULLs skipped at every
# level (a NULL list or struct leaves the running hash unchanged).
xx("list_int64", ["make_array(1, 2, 3)"], [[1, 2, 3]], expected=ref.xxhash64(1, 2, 3), note="list elements in order")
xx("list_int32", ["make_array(arrow_cast(1, 'Int32'), arrow_cast(2, 'Int32'))"], [[Int32(1), Int32(2)]])
xx("list_with_null", ["make_array(1, NULL, 3)"], [[1, None, 3]], expected=ref.xxhash64([1, 3]),
   note="NULL elements leave the running hash unchanged")
xx("list_strings", ["make_array('a', 'bc')"], [["a", "bc"]], expected=ref.xxhash64("a", "bc"))
xx("list_empty", ["make_array()"], [[]], expected=42)
xx("list_null", ["arrow_cast(NULL, 'List(Int64)')"], [None], expected=42)
xx("list_nested", ["make_array(make_array(1, 2), make_array(3))"], [[[1, 2], [3]]],
   expected=ref.xxhash64(1, 2, 3))
xx("list_nested_with_null_list", ["make_array(make_array(1, 2), NULL, make_array(3))"], [[[1, 2], None, [3]]],
   expected=ref.xxhash64(1, 2, 3), note="a NULL inner list is skipped")
xx("list_large", ["arrow_cast(make_array(1, 2), 'LargeList(Int64)')"], [[1, 2]])
xx("list_large_strings_with_null", ["arrow_cast(make_array('a', NULL, 'bc'), 'LargeList(Utf8)')"],
   [["a", None, "bc"]], expected=ref.xxhash64("a", "bc"))
xx("list_fixed", ["arrow_cast(make_array(1, 2), 'FixedSizeList(2, Int64)')"], [[1, 2]])
xx("list_fixed_of_lists", ["arrow_cast(make_array(make_array(1, 2), make_array(3, 4)), 'FixedSizeList(2, List(Int64))')"],
   [[[1, 2], [3, 4]]], expected=ref.xxhash64(1, 2, 3, 4))
xx("list_dict", ["make_array(arrow_cast('a', 'Dictionary(Int32, Utf8)'), arrow_cast('b', 'Dictionary(Int32, Utf8)'))"],
   [["a", "b"]], expected=ref.xxhash64("a", "b"), note="dictionary elements hash as their values")
xx("struct", ["named_struct('a', 1, 'b', 'x')"], [(1, "x")], expected=ref.xxhash64(1, "x"),
   note="struct fields in order")
xx("struct_with_null", ["named_struct('a', arrow_cast(NULL, 'Int64'), 'b', 'x')"], [(None, "x")],
   expected=ref.xxhash64("x"))
xx("struct_null", ["CASE WHEN false THEN named_struct('a', 1) END"], [None], expected=42,
   note="a NULL struct leaves the seed")
xx("struct_with_list", ["named_struct('a', make_array(1, 2), 'b', 'x')"], [([1, 2], "x")],
   expected=ref.xxhash64(1, 2, "x"))
xx("struct_with_null_struct", ["named_struct('s', CASE WHEN false THEN named_struct('a', 1) END, 'b', 'x')"],
   [(None, "x")], expected=ref.xxhash64("x"), note="a NULL nested struct is skipped")
xx("list_of_structs", ["make_array(named_struct('a', 1, 'b', 'x'), named_struct('a', 2, 'b', 'y'))"],
   [[(1, "x"), (2, "y")]], expected=ref.xxhash64(1, "x", 2, "y"))
xx("list_of_structs_with_null", ["make_array(named_struct('a', 1), NULL, named_struct('a', 3))"],
   [[(1,), None, (3,)]], expected=ref.xxhash64(1, 3), note="a NULL struct element is skipped")
xx("struct_mixed_types",
   ["named_struct('d', arrow_cast('-1.28', 'Decimal256(38,2)'), 't', "
    + ts("Millisecond", I * 1000 + 123, "+02:00")
    + ", 'u', arrow_cast(18446744073709551615, 'UInt64'), 'i', arrow_cast(7, 'UInt8'))"],
   [(sd("-1.28", 38, 2), TimestampNs(I * 10**9 + 123 * 10**6), UInt64(2**64 - 1), Int32(7))],
   note="each field hashed as its own Spark type")
xx("mixed_columns", ["'x.py'", "arrow_cast(3, 'Int32')", "7", "true", "NULL", "2.5"],
   ["x.py", Int32(3), 7, True, None, 2.5])
add("xxhash64/column_mixed", "xxhash64",
    "SELECT xxhash64(x, y, z) AS v FROM (VALUES ('x.py', 3, CAST(NULL AS BIGINT))) AS t(x, y, z)",
    ref.xxhash64("x.py", 3, None), python_args=["x.py", 3, None])
add("xxhash64/column_list", "xxhash64",
    "SELECT xxhash64(l) AS v FROM (VALUES (make_array(1, NULL, 3))) AS t(l)",
    ref.xxhash64([1, None, 3]), python_args=[encode_py([1, None, 3])])
add("xxhash64/column_struct", "xxhash64",
    "SELECT xxhash64(s) AS v FROM (VALUES (named_struct('a', 1, 'b', make_array('x', NULL)))) AS t(s)",
    ref.xxhash64((1, ["x", None])), python_args=[encode_py((1, ["x", None]))])
add_error("xxhash64/err_duration", "xxhash64", "SELECT xxhash64(arrow_cast(5, 'Duration(Second)')) AS v", "Duration")
add_error("xxhash64/err_map", "xxhash64", "SELECT xxhash64(map(['a'], [1])) AS v", "maps are refused")
add_error("xxhash64/err_no_args", "xxhash64", "SELECT xxhash64() AS v", "xxhash64")

# --------------------------------------------------------------------------------------
# Spans: half-open [start, end) with 0 <= start <= end
# --------------------------------------------------------------------------------------


class InvalidSpan(Exception):
    """An invalid span. The SQL functions raise an execution error whose message contains
    ``fragment``: "<argument> = <value> is negative" or "<end argument> = <end> is before
    <start argument> = <start>" (the argument is its parameter name, followed in
    parentheses by the column or expression when there is one), so the fragment starts
    at the "=" to hold whatever the argument is."""

    def __init__(self, fragment: str) -> None:
        super().__init__(fragment)
        self.fragment = fragment


def check_spans(*bounds: int) -> None:
    """Validates the consecutive (start, end) pairs of `bounds`, first pair first. A valid
    span has 0 <= start <= end; in each pair a negative start is reported before a
    negative end, and both before an end before the start."""
    for start, end in zip(bounds[0::2], bounds[1::2]):
        if start < 0:
            raise InvalidSpan(f"= {start} is negative")
        if end < 0:
            raise InvalidSpan(f"= {end} is negative")
        if end < start:
            raise InvalidSpan(f"= {end} is before")


# The three functions are strict: a NULL argument gives NULL before any validation, so
# span_len(-1, NULL) is NULL, not an error.


def span_len(s: Optional[int], e: Optional[int]) -> Optional[int]:
    if s is None or e is None:
        return None
    check_spans(s, e)
    return e - s  # 0 <= s <= e, so this fits in Int64 (no overflow, even up to i64::MAX)


def span_overlaps(a0, a1, b0, b1) -> Optional[bool]:
    if None in (a0, a1, b0, b1):
        return None
    check_spans(a0, a1, b0, b1)
    # Sharing a byte: some x with a0 <= x < a1 and b0 <= x < b1 (so an empty span
    # overlaps nothing).
    return max(a0, b0) < min(a1, b1)


def span_contains(o0, o1, i0, i1) -> Optional[bool]:
    if None in (o0, o1, i0, i1):
        return None
    check_spans(o0, o1, i0, i1)
    return o0 <= i0 and i1 <= o1


SPAN_REFERENCES: dict[str, Callable[..., Any]] = {
    "span_len": span_len, "span_overlaps": span_overlaps, "span_contains": span_contains,
}


def lit(v: Optional[int]) -> str:
    return "NULL" if v is None else str(v)


def sp(function: str, name: str, args: tuple, sql: Optional[str] = None, note: Optional[str] = None) -> None:
    """One case of a span function, `args` being the values the query passes (for a query
    over several rows, the row that decides the outcome). The reference decides the
    outcome: a value case, or an error case if it raises InvalidSpan; the name says which
    is intended ("err_..." for an error) and must agree."""
    sql = sql if sql is not None else f"SELECT {function}({', '.join(map(lit, args))}) AS v"
    try:
        value = SPAN_REFERENCES[function](*args)
    except InvalidSpan as e:
        assert name.startswith("err_"), f"{function}/{name}: the reference raised {e}"
        add_error(f"{function}/{name}", function, sql, e.fragment)
        return
    assert not name.startswith("err_"), f"{function}/{name}: the reference gave {value!r}"
    add(f"{function}/{name}", function, sql, value, note=note)


I64_MAX = 2**63 - 1

for name, args in {
    "basic": (10, 42), "empty": (5, 5), "zero_start": (0, 7), "large": (0, I64_MAX),
    "max_empty": (I64_MAX, I64_MAX), "null_start": (None, 3), "null_end": (3, None),
    "both_null": (None, None), "null_end_negative_start": (-1, None),
    "null_start_negative_end": (None, -1), "null_end_max_start": (I64_MAX, None),
    "err_negative_start": (-5, 5), "err_negative_start_max_end": (-1, I64_MAX),
    "err_negative_end": (0, -1), "err_both_negative": (-1, -5),
    "err_end_before_start": (5, 4), "err_max_start_zero_end": (I64_MAX, 0),
}.items():
    sp("span_len", name, args, note={
        "large": "the largest valid span: no overflow",
        "null_end_negative_start": "NULL wins over validation",
        "null_start_negative_end": "NULL wins over validation",
    }.get(name))
sp("span_len", "int32_uint8", (1, 4), "SELECT span_len(arrow_cast(1, 'Int32'), arrow_cast(4, 'UInt8')) AS v")
sp("span_len", "int16", (3, 9), "SELECT span_len(arrow_cast(3, 'Int16'), arrow_cast(9, 'Int16')) AS v")
sp("span_len", "err_int16_negative", (-3, 3),
   "SELECT span_len(arrow_cast(-3, 'Int16'), arrow_cast(3, 'Int16')) AS v")
sp("span_len", "uint64", (2, 9), "SELECT span_len(arrow_cast(2, 'UInt64'), arrow_cast(9, 'UInt64')) AS v")
sp("span_len", "column", (3, 10), "SELECT span_len(s, e) AS v FROM (VALUES (3, 10)) AS t(s, e)")
sp("span_len", "column_null_negative", (-1, None),
   "SELECT span_len(s, e) AS v FROM (VALUES (-1, CAST(NULL AS BIGINT))) AS t(s, e)",
   note="NULL wins over validation in a column too")
sp("span_len", "err_column_negative", (-1, 9),
   "SELECT span_len(s, e) AS v FROM (VALUES (0, 1), (-1, 9)) AS t(s, e)")

for name, args in {
    "partial": (0, 10, 5, 20), "touching": (0, 10, 10, 20), "touching_rev": (10, 20, 0, 10),
    "partial_rev": (5, 20, 0, 10), "inside": (0, 10, 2, 3), "outside": (2, 3, 0, 10),
    "identical": (0, 10, 0, 10), "disjoint": (0, 5, 7, 9), "one_byte": (0, 10, 9, 10),
    "empty_a_inside_b": (5, 5, 0, 10), "empty_b_inside_a": (0, 10, 5, 5), "both_empty_same": (5, 5, 5, 5),
    "empty_at_start": (0, 10, 0, 0), "large": (0, I64_MAX, I64_MAX - 1, I64_MAX),
    "null_a_start": (None, 10, 5, 20), "null_b_end": (0, 10, 5, None),
    "null_with_negative": (-10, -2, None, 4), "null_with_invalid_a": (10, 5, 0, None),
    "err_negative": (-10, -2, -3, 4), "err_negative_b_start": (0, 1, -3, 4),
    "err_invalid_a": (10, 5, 0, 1), "err_invalid_b": (0, 1, 10, 5),
    "err_a_reported_first": (10, 5, -1, 1),
}.items():
    note = None
    if "empty" in name:
        note = "empty spans overlap nothing"
    elif name.startswith("null_with"):
        note = "NULL wins over validation"
    sp("span_overlaps", name, args, note=note)
sp("span_overlaps", "int32", (0, 10, 5, 20),
   "SELECT span_overlaps(arrow_cast(0, 'Int32'), arrow_cast(10, 'Int32'), arrow_cast(5, 'UInt8'), 20) AS v")
sp("span_overlaps", "column", (0, 10, 9, 12),
   "SELECT span_overlaps(a, b, c, d) AS v FROM (VALUES (0, 10, 9, 12)) AS t(a, b, c, d)")

for name, args in {
    "inside": (0, 100, 10, 20), "outside": (10, 20, 0, 100), "self": (0, 10, 0, 10),
    "partial": (0, 10, 5, 15), "disjoint": (0, 10, 20, 30), "same_start_longer": (0, 10, 0, 11),
    "empty_inner_at_end": (0, 10, 10, 10), "empty_inner_at_start": (0, 10, 0, 0),
    "empty_inner_after_end": (0, 10, 11, 11), "empty_in_empty": (5, 5, 5, 5),
    "nonempty_in_empty": (5, 5, 5, 6), "large": (0, I64_MAX, I64_MAX, I64_MAX),
    "null_outer": (None, 10, 1, 2), "null_inner": (0, 10, 1, None),
    "null_with_invalid": (None, -1, 5, 4),
    "err_negative": (-10, 0, -5, -1), "err_negative_inner_end": (0, 10, 0, -1),
    "err_invalid": (0, 10, 5, 4),
}.items():
    sp("span_contains", name, args, note="NULL wins over validation" if name == "null_with_invalid" else None)
sp("span_contains", "column", (0, 10, 10, 10),
   "SELECT span_contains(a, b, c, d) AS v FROM (VALUES (0, 10, 10, 10)) AS t(a, b, c, d)")

# --------------------------------------------------------------------------------------
# Text: utf8_normalize, qname_normalize
# --------------------------------------------------------------------------------------

# Unicode White_Space (PropList.txt): what Rust's char::is_whitespace and str::trim use.
# Python's str.isspace() and str.strip() also accept U+001C..U+001F, so they are not used
# here.
WHITE_SPACE = frozenset(
    [chr(c) for c in range(0x09, 0x0E)]
    + ["\u0020", "\u0085", "\u00a0", "\u1680"]
    + [chr(c) for c in range(0x2000, 0x200B)]
    + ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
)
WHITE_SPACE_CHARS = "".join(sorted(WHITE_SPACE))


class UnknownForm(Exception):
    pass


def parse_form(name: str) -> str:
    """A form name, ignoring surrounding White_Space and ASCII case (as the Rust does:
    str::trim, eq_ignore_ascii_case)."""
    trimmed = name.strip(WHITE_SPACE_CHARS)
    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        if trimmed.isascii() and trimmed.upper() == form:
            return form
    raise UnknownForm(name)


def finish_ws(s: str, collapse_ws: bool) -> str:
    """Leading and trailing White_Space removed and, if collapse_ws, every inner run of
    White_Space replaced by one space."""
    if collapse_ws:
        words, word = [], []
        for ch in s:
            if ch in WHITE_SPACE:
                if word:
                    words.append("".join(word))
                    word = []
            else:
                word.append(ch)
        if word:
            words.append("".join(word))
        return " ".join(words)
    return s.strip(WHITE_SPACE_CHARS)


def normalize(text: Optional[str], form: Optional[str] = None, casefold: Optional[bool] = None,
              collapse_ws: Optional[bool] = None) -> Optional[str]:
    """utf8_normalize, in this order: (1) Unicode normalization to form (default NFKC);
    (2) if casefold (default true): full Unicode case folding, then normalization to form
    again (folding can give unnormalized text, e.g. U+01F0 folds to j + U+030C, which NFC
    composes back); (3) White_Space trimmed and, if collapse_ws (default true), inner runs
    collapsed to one space. NULL options mean their default.

    Python's str.casefold() is full case folding (CaseFolding.txt statuses C and F, not
    the Turkic T), like the Rust `caseless` crate: 'ß' -> 'ss', 'Σ' and 'ς' -> 'σ',
    'ﬁ' -> 'fi', Cherokee small letters -> capitals. It is not str.lower()."""
    if text is None:
        return None
    form = "NFKC" if form is None else parse_form(form)
    s = unicodedata.normalize(form, text)
    if casefold is None or casefold:
        s = unicodedata.normalize(form, s.casefold())
    return finish_ws(s, collapse_ws is None or collapse_ws)


def sql_str(s: Optional[str]) -> str:
    return "NULL" if s is None else "'" + s.replace("'", "''") + "'"


def sql_bool(b: Optional[bool]) -> str:
    return "NULL" if b is None else ("true" if b else "false")


def un(name: str, text: Optional[str], *opts: Any, sql_text: Optional[str] = None, note: Optional[str] = None) -> None:
    sql_args = [sql_text if sql_text is not None else sql_str(text)]
    if len(opts) >= 1:
        sql_args.append(sql_str(opts[0]))
    sql_args += [sql_bool(b) for b in opts[1:]]
    add(f"utf8_normalize/{name}", "utf8_normalize", call("utf8_normalize", sql_args),
        normalize(text, *opts), note=note)


un("doc_example", "  Ｆｏｏ   Bar ")
un("null", None)
un("empty", "")
un("only_spaces", "   ")
un("ascii_upper", "Hello World")
un("ligature_nfkc", "ﬁle")
un("ligature_nfc", "ﬁle", "NFC", note="NFC keeps U+FB01; case folding turns it into 'fi'")
un("ligature_nfc_no_casefold", "ﬁle", "NFC", False)
un("fullwidth_nfkc", "ＡＢＣ１２３")
un("nfd_e_acute", "\u00c9t\u00e9", "NFD", note="NFD decomposes: e + U+0301")
un("nfc_compose", "E\u0301te\u0301", "NFC")
un("nfkd_lowercase_form_name", "ﬁ \u00c9", "nfkd", note="form names are case-insensitive")
un("form_with_spaces", "ﬁ", " nfkc ")
un("null_form_is_default", "ﬁ  X", None)
un("no_casefold", "Foo  BAR", "NFKC", False)
un("no_collapse", "  a  \t b  ", "NFKC", True, False, note="trim still applies")
un("no_casefold_no_collapse", " A  B ", "NFC", False, False)
un("null_options", " A  B ", None, None, None)
un("tabs_newlines", "a\t\n\r b\u000b\u000cc")
un("unicode_spaces", "a\u2003\u3000b\u00a0c\u2028d\u0085e", "NFC",
   note="U+2003, U+3000, U+00A0, U+2028, U+0085 are White_Space (no NFKC, so collapse does it)")
un("zero_width_space_kept", "a\u200bb", note="U+200B is not White_Space")
un("unit_separator_kept", "a\u001fb", note="U+001F is not Unicode White_Space (Python str.isspace() says it is)")
un("greek_final_sigma", "ΟΔΟΣ ΟΔΟΣ", note="case folding maps Σ to σ everywhere: no final ς")
un("greek_caps", "ΣΑΣ")
un("greek_final_sigma_small", "ς", note="ς folds to σ")
un("dotted_capital_i", "İ", note="U+0130 folds to i + U+0307 (status F; the Turkic T mapping is not used)")
un("sharp_s", "Straße", note="full case folding: ß -> ss (lowercasing would keep ß)")
un("sharp_s_nfc", "Straße", "NFC")
un("sharp_s_no_casefold", "Straße", "NFC", False)
un("capital_sharp_s", "\u1e9e", note="U+1E9E folds to ss")
un("cherokee_folds_to_capital", "\uab70", "NFC", note="U+AB70 folds to U+13A0; lowercasing would keep it")
un("fold_then_renormalize_nfc", "\u01f0", "NFC",
   note="U+01F0 folds to j + U+030C, which NFC composes back to U+01F0")
un("fold_then_renormalize_nfd", "\u01f0", "NFD")
un("largeutf8_input", "  Ａ  B ", sql_text="arrow_cast('  Ａ  B ', 'LargeUtf8')")
un("utf8view_input", "  Ａ  B ", sql_text="arrow_cast('  Ａ  B ', 'Utf8View')")
un("dict_input", "  Ａ  B ", sql_text="arrow_cast('  Ａ  B ', 'Dictionary(Int32, Utf8)')")
add("utf8_normalize/column", "utf8_normalize",
    "SELECT utf8_normalize(x, f) AS v FROM (VALUES ('  Ｆｏｏ   Bar ', 'NFC')) AS t(x, f)",
    normalize("  Ｆｏｏ   Bar ", "NFC"))
try:
    normalize("a", "NFX")
    raise AssertionError("the reference accepted form NFX")
except UnknownForm:
    add_error("utf8_normalize/err_form", "utf8_normalize", "SELECT utf8_normalize('a', 'NFX') AS v", "NFX")


def clean_name(name: str, lowercase: bool) -> str:
    """One qname_normalize operand cleaned: NFKC; if lowercase, case folding then NFKC
    again; White_Space trimmed and inner runs collapsed (utf8_normalize's pipeline with
    form NFKC, casefold = lowercase, collapse_ws); then split on '.', each part trimmed,
    empty parts dropped, joined with '.' (whitespace around dots removed, runs of dots
    collapsed, leading and trailing dots removed)."""
    text = normalize(name, "NFKC", lowercase, True)
    assert text is not None
    parts = (p.strip(WHITE_SPACE_CHARS) for p in text.split("."))
    return ".".join(p for p in parts if p)


def qname(symbol: Optional[str], module: Optional[str] = None, lowercase: Optional[bool] = None) -> Optional[str]:
    """qname_normalize: NULL for a NULL symbol or one that cleans to ''; the cleaned
    symbol if it contains '.' or the module is NULL or cleans to ''; else
    'module.symbol'. Case is kept unless lowercase is true (NULL means false)."""
    if symbol is None:
        return None
    fold = bool(lowercase)
    sym = clean_name(symbol, fold)
    if not sym:
        return None
    if "." in sym:
        return sym
    mod = clean_name(module, fold) if module is not None else ""
    if not mod:
        return sym
    return f"{mod}.{sym}"


def qn(name: str, symbol: Optional[str], *opts: Any, note: Optional[str] = None) -> None:
    """A qname_normalize case; opts are the module (text) and then lowercase (flag)."""
    sql_args = [sql_str(symbol)]
    if len(opts) >= 1:
        sql_args.append(sql_str(opts[0]))
    if len(opts) >= 2:
        sql_args.append(sql_bool(opts[1]))
    add(f"qname_normalize/{name}", "qname_normalize", call("qname_normalize", sql_args),
        qname(symbol, *opts), note=note)


qn("doc_example", " Foo ", "Pkg.Mod")
qn("case_kept", "Parser", "json.decoder", note="case is kept by default")
qn("lowercase_true", "Parser", "JSON.Decoder", True)
qn("lowercase_false", "Parser", "JSON.Decoder", False)
qn("lowercase_null", "Parser", "JSON.Decoder", None, note="NULL lowercase means false")
qn("lowercase_full_folding", "Straße", "Ｍod", True, note="lowercase is full case folding after NFKC")
qn("already_qualified", "os.path", "x")
qn("symbol_only", "Foo")
qn("null_module", "Foo", None)
qn("empty_module", "Foo", "")
qn("blank_module", "Foo", "   ")
qn("dots_only_module", "Foo", " .. ", note="a module that cleans to '' is no module")
qn("empty_symbol", "", "m")
qn("blank_symbol", "   ", "m")
qn("null_symbol", None, "m")
qn("dots_only_symbol", "...", note="cleans to '': NULL")
qn("dots_only_symbol_with_module", "...", "m")
qn("dot_cleanup", " a . .b.. ", note="whitespace around dots, runs of dots, leading and trailing dots")
qn("dot_cleanup_with_module", " a . .b.. ", "m", note="the cleaned symbol contains '.', so the module is not added")
qn("leading_dot_not_qualified", ".Foo", "m", note="a leading dot is removed, so the symbol is not qualified")
qn("module_dot_cleanup", " Foo ", " Pkg . Mod. ")
qn("fullwidth", "Ｆｏｏ", "Ｍｏｄ")
qn("whitespace_inside", "My   Func", "a \t b")
qn("fullwidth_dot_is_qualified", "a．b", "m", note="NFKC maps U+FF0E to '.', so the symbol is qualified")
qn("dotted_module", "f", "A.B.C")
add("qname_normalize/column", "qname_normalize",
    "SELECT qname_normalize(s, m) AS v FROM (VALUES ('Foo', 'Bar')) AS t(s, m)", qname("Foo", "Bar"))
add("qname_normalize/column_lowercase", "qname_normalize",
    "SELECT qname_normalize(s, m, l) AS v FROM (VALUES ('Foo', 'Bar', true)) AS t(s, m, l)",
    qname("Foo", "Bar", True))
add("qname_normalize/utf8view", "qname_normalize",
    "SELECT qname_normalize(arrow_cast('Foo', 'Utf8View'), arrow_cast('Bar', 'LargeUtf8')) AS v",
    qname("Foo", "Bar"))

# --------------------------------------------------------------------------------------
# list_enumerate
# --------------------------------------------------------------------------------------


def enumerate_list(values: Optional[list[Any]]) -> Optional[list[dict[str, Any]]]:
    if values is None:
        return None
    return [{"ordinality": i, "value": v} for i, v in enumerate(values, start=1)]


for name, sql_list, values in [
    ("strings", "make_array('a', 'b')", ["a", "b"]),
    ("ints", "make_array(10, 20, 30)", [10, 20, 30]),
    ("with_null", "make_array(1, NULL, 3)", [1, None, 3]),
    ("single", "make_array('x')", ["x"]),
    ("empty", "make_array()", []),
    ("null_typed", "arrow_cast(NULL, 'List(Int64)')", None),
    ("null_untyped", "NULL", None),
    ("large_list", "arrow_cast(make_array(1, 2), 'LargeList(Int64)')", [1, 2]),
    ("fixed_size_list", "arrow_cast(make_array(1, 2), 'FixedSizeList(2, Int64)')", [1, 2]),
    ("nested", "make_array(make_array(1), make_array(2, 3))", [[1], [2, 3]]),
    ("bools", "make_array(true, false)", [True, False]),
]:
    add(f"list_enumerate/{name}", "list_enumerate", f"SELECT list_enumerate({sql_list}) AS v",
        enumerate_list(values))
add("list_enumerate/column", "list_enumerate",
    "SELECT list_enumerate(l) AS v FROM (VALUES (make_array('p', 'q', 'r'))) AS t(l)",
    enumerate_list(["p", "q", "r"]))
add("list_enumerate/cardinality", "list_enumerate",
    "SELECT cardinality(list_enumerate(make_array(5, 6, 7))) AS v", 3)
add_error("list_enumerate/err_not_list", "list_enumerate", "SELECT list_enumerate(1) AS v", "list_enumerate")

# --------------------------------------------------------------------------------------


def main() -> int:
    doc = {"version": ref.ENCODING_VERSION, "cases": cases, "error_cases": error_cases}
    text = json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    if "--check" in sys.argv[1:]:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT} is out of date; run tests/golden/generate.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    counts: dict[str, int] = {}
    for c in cases:
        counts[c["function"]] = counts.get(c["function"], 0) + 1
    print(f"wrote {OUT.relative_to(REPO)}: {len(cases)} cases, {len(error_cases)} error cases")
    for fn, n in counts.items():
        print(f"  {fn}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
