"""Tests of the pure-Python reference (datafusion_cpg.reference) against the golden
vectors in tests/golden/udf_vectors.json, the Spark anchors and the properties promised
by README.md "Stable hash encoding"."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import math
import struct
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
VECTORS = REPO / "tests" / "golden" / "udf_vectors.json"
GENERATOR = REPO / "tests" / "golden" / "generate.py"
REFERENCE_PATH = REPO / "ffi" / "python" / "python" / "datafusion_cpg" / "reference.py"


def _load_reference():
    try:
        from datafusion_cpg import reference  # installed package

        return reference
    except ImportError:
        spec = importlib.util.spec_from_file_location("datafusion_cpg_reference", REFERENCE_PATH)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module


ref = _load_reference()

HASH_FUNCTIONS = {"stable_hash64", "stable_hash128", "stable_id", "xxhash64"}
ALL_FUNCTIONS = HASH_FUNCTIONS | {
    "span_len", "span_overlaps", "span_contains", "utf8_normalize", "qname_normalize", "list_enumerate",
}


def decode(value: Any) -> Any:
    """Inverse of generate.py's encode_py: the tagged JSON form of Python arguments."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    ((tag, payload),) = value.items()
    if tag == "int32":
        return ref.Int32(payload)
    if tag == "float32":
        return ref.Float32(float(payload))
    if tag == "float":
        return float(payload)
    if tag == "bytes_hex":
        return bytes.fromhex(payload)
    if tag == "datetime":
        return dt.datetime.fromisoformat(payload)
    if tag == "date":
        return dt.date.fromisoformat(payload)
    if tag == "time":
        return dt.time.fromisoformat(payload)
    if tag == "timedelta_us":
        return dt.timedelta(microseconds=payload)
    if tag == "decimal":
        return Decimal(payload)
    if tag == "timestamp_ns":
        return ref.TimestampNs(payload)
    if tag == "time_ns":
        return ref.TimeNs(payload)
    if tag == "duration_ns":
        return ref.DurationNs(payload)
    if tag == "tuple":
        return tuple(decode(v) for v in payload)
    raise ValueError(f"unknown tag {tag}")


def _vectors() -> dict[str, Any]:
    return json.loads(VECTORS.read_text(encoding="utf-8"))


VECTOR_DOC = _vectors()
HASH_CASES = [c for c in VECTOR_DOC["cases"] if c["function"] in HASH_FUNCTIONS and "python_args" in c]


# --------------------------------------------------------------------------------------
# Golden vectors
# --------------------------------------------------------------------------------------


def test_vector_file_shape() -> None:
    assert VECTOR_DOC["version"] == 1
    functions = {c["function"] for c in VECTOR_DOC["cases"]}
    assert functions == ALL_FUNCTIONS
    names = [c["name"] for c in VECTOR_DOC["cases"]] + [c["name"] for c in VECTOR_DOC.get("error_cases", [])]
    assert len(names) == len(set(names))
    for case in VECTOR_DOC["cases"]:
        assert case["sql"].startswith("SELECT ") and " AS v" in case["sql"]


def test_every_hash_case_has_python_args() -> None:
    missing = [c["name"] for c in VECTOR_DOC["cases"] if c["function"] in HASH_FUNCTIONS and "python_args" not in c]
    assert missing == []


@pytest.mark.parametrize("case", HASH_CASES, ids=[c["name"] for c in HASH_CASES])
def test_golden_hash_case(case: dict[str, Any]) -> None:
    args = decode(case["python_args"])
    function = getattr(ref, case["function"])
    assert function(*args) == case["expected"]
    if "key_hex" in case:
        assert ref.encode_key(*args).hex() == case["key_hex"]


def test_generator_is_up_to_date() -> None:
    result = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------------------
# Spark anchors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("hello",), -4367754540140381902),
        (("ABC",), 4105715581806190027),
        (("ABC", "DEF"), 3233247871021311208),
        (("Spark", [ref.Int32(123)], ref.Int32(2)), 5602566077635097486),
    ],
)
def test_spark_anchors(args: tuple[Any, ...], expected: int) -> None:
    assert ref.xxhash64(*args) == expected


def test_xxhash64_null_rules() -> None:
    assert ref.xxhash64(None) == 42
    assert ref.xxhash64(None, "a", None) == ref.xxhash64("a")
    assert ref.xxhash64([1, None, 3]) == ref.xxhash64(1, 3)
    assert ref.xxhash64([]) == 42


def test_xxhash64_type_widths() -> None:
    # Spark: IntegerType 4 bytes, LongType 8 bytes; booleans are ints.
    assert ref.xxhash64(ref.Int32(1)) != ref.xxhash64(1)
    assert ref.xxhash64(True) == ref.xxhash64(ref.Int32(1))
    assert ref.xxhash64(-0.0) == ref.xxhash64(0.0)
    assert ref.xxhash64(ref.Float32(-0.0)) == ref.xxhash64(ref.Float32(0.0))
    assert ref.xxhash64(b"ab") == ref.xxhash64("ab")
    assert ref.xxhash64((1, "x")) == ref.xxhash64(1, "x")


# --------------------------------------------------------------------------------------
# The encoding (README.md "Stable hash encoding")
# --------------------------------------------------------------------------------------


def test_worked_examples() -> None:
    assert ref.encode_key("a") == bytes.fromhex("05 01 00 00 00 00 00 00 00 61")
    assert ref.encode_key(1) == bytes.fromhex("02 01 00 00 00 00 00 00 00")
    assert ref.encode_key(None, True) == bytes.fromhex("00 01 01")
    key = ref.encode_key("node", "x.py", 3, 7)
    assert key == bytes.fromhex(
        "05 04 00 00 00 00 00 00 00 6e 6f 64 65 05 04 00 00 00 00 00 00 00 78 2e 70 79"
        "02 03 00 00 00 00 00 00 00 02 07 00 00 00 00 00 00 00"
    )
    import xxhash

    assert ref.stable_id("node", "x.py", 3, 7) == "node:" + xxhash.xxh3_128_hexdigest(key)
    assert ref.stable_hash128("node", "x.py", 3, 7) == xxhash.xxh3_128_hexdigest(key)
    u64 = xxhash.xxh3_64_intdigest(ref.encode_key("a"))
    assert ref.stable_hash64("a") == struct.unpack("<q", struct.pack("<Q", u64))[0]


def test_part_boundaries() -> None:
    assert ref.encode_key("a", "bc") != ref.encode_key("ab", "c")
    assert ref.stable_hash64("a", "bc") != ref.stable_hash64("ab", "c")
    assert ref.stable_hash128("a", "bc") != ref.stable_hash128("ab", "c")
    assert ref.stable_id("n", "a", "bc") != ref.stable_id("n", "ab", "c")
    assert ref.xxhash64("a", "bc") != ref.xxhash64("ab", "c")


def test_kinds_differ() -> None:
    values = [1, "1", 1.0, True, Decimal(1), b"1", dt.date(1970, 1, 2), None, "", "NULL"]
    keys = {ref.encode_key(v) for v in values}
    assert len(keys) == len(values)
    hashes = {ref.stable_hash64(v) for v in values}
    assert len(hashes) == len(values)
    assert ref.stable_hash64(1) != ref.stable_hash64("1")


def test_same_logical_value_same_part() -> None:
    assert ref.encode_key(ref.Int32(1)) == ref.encode_key(1)
    assert ref.encode_key(ref.Float32(1.5)) == ref.encode_key(1.5)
    assert ref.encode_key(Decimal("1.50")) == ref.encode_key(Decimal("1.5"))
    assert ref.encode_key(Decimal("100")) == ref.encode_key(Decimal("1E+2"))
    assert ref.encode_key(Decimal("0.00")) == ref.encode_key(Decimal("-0")) == ref.encode_key(Decimal(0))
    assert ref.encode_key(-0.0) == ref.encode_key(0.0)
    other_nan = struct.unpack("<d", struct.pack("<Q", 0xFFF0_0000_0000_0001))[0]
    assert math.isnan(other_nan)
    assert ref.encode_key(other_nan) == ref.encode_key(float("nan")) == ref.encode_key(-float("nan"))
    naive = dt.datetime(2024, 1, 2, 3, 4, 5)
    aware = dt.datetime(2024, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert ref.encode_key(naive) == ref.encode_key(aware) == ref.encode_key(ref.TimestampNs(1704164645 * 10**9))
    assert ref.encode_key(dt.timedelta(seconds=5)) == ref.encode_key(ref.DurationNs(5 * 10**9))
    assert ref.encode_key(dt.time(3, 4, 5)) == ref.encode_key(ref.TimeNs(11045 * 10**9))
    assert ref.encode_key(bytearray(b"ab")) == ref.encode_key(memoryview(b"ab")) == ref.encode_key(b"ab")


def test_payload_layouts() -> None:
    assert ref.encode_key(2**63) == b"\x03" + (2**63).to_bytes(8, "little")
    assert ref.encode_key(2**63 - 1) == b"\x02" + (2**63 - 1).to_bytes(8, "little")
    assert ref.encode_key(float("nan")) == b"\x04" + (0x7FF8000000000000).to_bytes(8, "little")
    assert ref.encode_key(dt.date(1969, 12, 31)) == b"\x07" + (-1).to_bytes(8, "little", signed=True)
    assert ref.encode_key(ref.TimestampNs(-1)) == b"\x08" + (-1).to_bytes(16, "little", signed=True)
    assert ref.encode_key(dt.timedelta(0)) == b"\x0a" + bytes(16)
    assert ref.encode_key(dt.time(0, 0, 1)) == b"\x09" + (10**9).to_bytes(8, "little")
    assert ref.encode_key(Decimal("-12.340")) == (
        b"\x0b" + (-1234).to_bytes(32, "little", signed=True) + (2).to_bytes(4, "little")
    )
    assert ref.encode_key(Decimal("100")) == (
        b"\x0b" + (1).to_bytes(32, "little") + (-2).to_bytes(4, "little", signed=True)
    )
    assert ref.encode_key("é") == b"\x05" + (2).to_bytes(8, "little") + "é".encode()


def test_null_is_hashed_never_null() -> None:
    h64 = ref.stable_hash64(None)
    assert isinstance(h64, int) and -(2**63) <= h64 < 2**63
    h128 = ref.stable_hash128(None)
    assert isinstance(h128, str) and len(h128) == 32 and h128 == h128.lower()
    int(h128, 16)
    assert ref.stable_id("node", None) is not None
    assert ref.stable_hash64(None) != ref.stable_hash64("")
    assert ref.stable_hash64(None) != ref.stable_hash64("NULL")


def test_stable_id() -> None:
    assert ref.stable_id(None, "a") is None
    assert ref.stable_id(None, None) is None
    value = ref.stable_id("edge", "a", 1)
    assert value is not None and value.startswith("edge:") and len(value) == len("edge:") + 32
    assert value == "edge:" + ref.stable_hash128("edge", "a", 1)
    assert ref.stable_id("node", "a") != ref.stable_id("edge", "a")


def test_signed_result_range() -> None:
    for value in ["a", 1, None, 2.5, b"", dt.date(2000, 1, 1)]:
        assert -(2**63) <= ref.stable_hash64(value) < 2**63
        assert -(2**63) <= ref.xxhash64(value) < 2**63


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


class Custom:
    pass


@pytest.mark.parametrize("value", [object(), Custom(), [1], (1,), {"a": 1}, {1}, 1j])
def test_unsupported_types_raise_type_error(value: Any) -> None:
    with pytest.raises(TypeError, match=type(value).__qualname__):
        ref.encode_key(value)
    with pytest.raises(TypeError):
        ref.stable_hash64("ok", value)
    with pytest.raises(TypeError):
        ref.stable_hash128(value)
    with pytest.raises(TypeError):
        ref.stable_id("node", value)


@pytest.mark.parametrize("value", [object(), {"a": 1}, {1}, 1j, Decimal("1.5"), dt.time(1), dt.timedelta(1)])
def test_xxhash64_unsupported_types(value: Any) -> None:
    with pytest.raises(TypeError, match=type(value).__qualname__):
        ref.xxhash64(value)


def test_out_of_range_and_invalid_values() -> None:
    with pytest.raises(OverflowError):
        ref.encode_key(2**64)
    with pytest.raises(OverflowError):
        ref.encode_key(-(2**63) - 1)
    with pytest.raises(OverflowError):
        ref.xxhash64(2**64)
    with pytest.raises(OverflowError):
        ref.encode_key(Decimal(2**256))
    with pytest.raises(OverflowError):
        ref.encode_key(ref.TimestampNs(2**127))
    with pytest.raises(OverflowError):
        ref.Int32(2**31)
    for bad in (Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")):
        with pytest.raises(ValueError):
            ref.encode_key(bad)
    with pytest.raises(ValueError):
        ref.encode_key(dt.time(1, tzinfo=dt.timezone.utc))
    with pytest.raises(UnicodeEncodeError):
        ref.encode_key("\ud800")


def test_arity_errors() -> None:
    with pytest.raises(TypeError):
        ref.stable_hash64()
    with pytest.raises(TypeError):
        ref.stable_hash128()
    with pytest.raises(TypeError):
        ref.stable_id("node")
    with pytest.raises(TypeError):
        ref.xxhash64()
    with pytest.raises(TypeError):
        ref.stable_id(1, "a")  # type: ignore[arg-type]
    assert ref.encode_key() == b""
