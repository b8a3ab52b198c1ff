"""Pure-Python reference implementation of the datafusion-cpg hash functions.

This module re-implements, independently of the Rust code, the canonical stable-hash
key encoding, version 1, specified in ``README.md, Stable hash encoding,`` of the repository
(``stable_hash64``, ``stable_hash128``, ``stable_id``), and the Spark-compatible
``xxhash64``. It needs only the standard library and the ``xxhash`` package, so ids can
be computed, checked or reproduced without DataFusion.

Python values map onto the encoding's kinds as follows:

===========================================  =============  ============================
Python value                                 kind (tag)     payload
===========================================  =============  ============================
``None``                                     NULL (0x00)    none
``bool``                                     boolean (0x01) 1 byte
``int`` in i64 range                         integer (0x02) i64 LE
``int`` in (i64::MAX, u64::MAX]              large unsigned u64 LE
                                             (0x03)
``float``                                    float (0x04)   f64 bits; -0.0 as +0.0, one NaN
``str``                                      string (0x05)  u64 length + UTF-8
``bytes`` / ``bytearray`` / ``memoryview``   binary (0x06)  u64 length + bytes
``datetime.date``                            date (0x07)    i64 days since 1970-01-01
``datetime.datetime`` (naive = UTC)          timestamp      i128 ns since the epoch
                                             (0x08)
``datetime.time`` (naive only)               time (0x09)    i64 ns since midnight
``datetime.timedelta``                       duration       i128 ns
                                             (0x0A)
``decimal.Decimal`` (finite)                 decimal (0x0B) i256 mantissa + i32 scale,
                                                            trailing zeros removed
===========================================  =============  ============================

Python's ``datetime`` types stop at microseconds; :class:`TimestampNs`, :class:`TimeNs`
and :class:`DurationNs` carry nanosecond counts for the timestamp, time and duration
kinds. :class:`Int32` and :class:`Float32` are an ``int`` and a ``float`` that
``xxhash64`` hashes as Spark's 4-byte ``IntegerType`` and ``FloatType``; for the stable
hash they are an ordinary integer and float (a float32 widened to f64).
:class:`UInt64` and :class:`SparkDecimal` exist for ``xxhash64`` only: an Arrow UInt64
(which Spark reads as ``DecimalType(20, 0)``) and a Spark decimal of a given precision.

Any other type raises :class:`TypeError` naming the type.
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import math
import struct
from dataclasses import dataclass
from typing import Final, Optional, Union

import xxhash

__all__ = [
    "ENCODING_VERSION",
    "SPARK_SEED",
    "DurationNs",
    "Float32",
    "Int32",
    "SparkDecimal",
    "TimeNs",
    "TimestampNs",
    "UInt64",
    "encode_key",
    "java_bigint_bytes",
    "stable_hash128",
    "stable_hash64",
    "stable_id",
    "xxhash64",
]

#: Version of the key encoding implemented here (``README.md, Stable hash encoding,``).
ENCODING_VERSION: Final[int] = 1
#: Spark's seed for ``xxhash64``.
SPARK_SEED: Final[int] = 42

TAG_NULL: Final[int] = 0x00
TAG_BOOL: Final[int] = 0x01
TAG_INT: Final[int] = 0x02
TAG_UINT_LARGE: Final[int] = 0x03
TAG_FLOAT: Final[int] = 0x04
TAG_STRING: Final[int] = 0x05
TAG_BINARY: Final[int] = 0x06
TAG_DATE: Final[int] = 0x07
TAG_TIMESTAMP: Final[int] = 0x08
TAG_TIME: Final[int] = 0x09
TAG_DURATION: Final[int] = 0x0A
TAG_DECIMAL: Final[int] = 0x0B

_I32_MIN, _I32_MAX = -(2**31), 2**31 - 1
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_U64_MAX = 2**64 - 1
_I128_MIN, _I128_MAX = -(2**127), 2**127 - 1
_I256_MIN, _I256_MAX = -(2**255), 2**255 - 1
_CANONICAL_NAN64: Final[int] = 0x7FF8_0000_0000_0000
_CANONICAL_NAN32: Final[int] = 0x7FC0_0000
_NANOS_PER_SECOND: Final[int] = 1_000_000_000
_NANOS_PER_DAY: Final[int] = 86_400 * _NANOS_PER_SECOND
_EPOCH_DATE: Final = _dt.date(1970, 1, 1)
_EPOCH_NAIVE: Final = _dt.datetime(1970, 1, 1)


class Int32(int):
    """An integer that ``xxhash64`` hashes as Spark's 4-byte ``IntegerType`` (as Spark
    and DataFusion do for Int8, Int16, Int32, UInt8 and UInt16). For the stable hash it
    is an ordinary integer: every integer width encodes the same."""

    def __new__(cls, value: int) -> "Int32":
        v = int.__new__(cls, value)
        if not _I32_MIN <= v <= _I32_MAX:
            raise OverflowError(f"Int32 out of range: {int(v)}")
        return v

    def __repr__(self) -> str:
        return f"Int32({int(self)})"


class Float32(float):
    """A float rounded to IEEE-754 single precision, which ``xxhash64`` hashes as
    Spark's 4-byte ``FloatType``. For the stable hash it is the float32 value widened to
    f64, as the encoding does for Arrow ``Float32``."""

    def __new__(cls, value: float) -> "Float32":
        rounded = struct.unpack("<f", struct.pack("<f", float(value)))[0]
        return float.__new__(cls, rounded)

    def __repr__(self) -> str:
        return f"Float32({float(self)!r})"


@dataclass(frozen=True)
class TimestampNs:
    """An instant as nanoseconds since 1970-01-01T00:00:00 UTC (kind: timestamp)."""

    nanos: int


@dataclass(frozen=True)
class TimeNs:
    """A time of day as nanoseconds since midnight (kind: time of day)."""

    nanos: int


@dataclass(frozen=True)
class DurationNs:
    """A duration in nanoseconds (kind: duration)."""

    nanos: int


HashValue = Union[
    None,
    bool,
    int,
    float,
    str,
    bytes,
    bytearray,
    memoryview,
    _dt.date,
    _dt.datetime,
    _dt.time,
    _dt.timedelta,
    _decimal.Decimal,
    TimestampNs,
    TimeNs,
    DurationNs,
]


# --------------------------------------------------------------------------------------
# The stable key encoding (README.md, Stable hash encoding,, version 1)
# --------------------------------------------------------------------------------------


def _int_bytes(value: int, width: int, what: str) -> bytes:
    try:
        return value.to_bytes(width, "little", signed=True)
    except OverflowError:
        raise OverflowError(f"{what} does not fit in {8 * width} bits: {value}") from None


def _timedelta_nanos(delta: _dt.timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * _NANOS_PER_SECOND + delta.microseconds * 1_000


def _datetime_nanos(value: _dt.datetime) -> int:
    """Nanoseconds since the epoch of the instant; a naive datetime is taken as UTC."""
    offset = value.utcoffset()
    delta = value.replace(tzinfo=None) - _EPOCH_NAIVE
    if offset is not None:
        delta -= offset
    return _timedelta_nanos(delta)


def _time_nanos(value: _dt.time) -> int:
    if value.tzinfo is not None and value.utcoffset() is not None:
        raise ValueError(
            f"a time of day with a time zone ({value.isoformat()}) has no single encoding; "
            "pass a naive datetime.time"
        )
    return (
        (value.hour * 3_600 + value.minute * 60 + value.second) * _NANOS_PER_SECOND
        + value.microsecond * 1_000
    )


def _normalized_decimal(value: _decimal.Decimal) -> tuple[int, int]:
    """(mantissa, scale) with value = mantissa * 10**-scale, mantissa not divisible by
    10, and zero as (0, 0)."""
    if not value.is_finite():
        raise ValueError(f"decimal value is not finite: {value}")
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    mantissa = int("".join(map(str, digits)) or "0")
    if sign:
        mantissa = -mantissa
    scale = -exponent
    if mantissa == 0:
        return 0, 0
    while mantissa % 10 == 0:
        mantissa //= 10
        scale -= 1
    return mantissa, scale


def _length_prefixed(tag: int, payload: bytes) -> bytes:
    return bytes([tag]) + len(payload).to_bytes(8, "little") + payload


def _float_bits(value: float) -> int:
    if math.isnan(value):
        return _CANONICAL_NAN64
    if value == 0.0:
        return 0  # +0.0 and -0.0
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def encode_part(value: HashValue) -> bytes:
    """The encoding of one part: a type tag followed by its payload."""
    if value is None:
        return bytes([TAG_NULL])
    if isinstance(value, bool):
        return bytes([TAG_BOOL, 1 if value else 0])
    if isinstance(value, int):
        if _I64_MIN <= value <= _I64_MAX:
            return bytes([TAG_INT]) + value.to_bytes(8, "little", signed=True)
        if _I64_MAX < value <= _U64_MAX:
            return bytes([TAG_UINT_LARGE]) + value.to_bytes(8, "little", signed=False)
        raise OverflowError(
            f"integer out of range for the key encoding (i64 or u64): {int(value)}"
        )
    if isinstance(value, float):
        return bytes([TAG_FLOAT]) + _float_bits(value).to_bytes(8, "little")
    if isinstance(value, str):
        return _length_prefixed(TAG_STRING, value.encode("utf-8"))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _length_prefixed(TAG_BINARY, bytes(value))
    # datetime.datetime is a subclass of datetime.date: test it first.
    if isinstance(value, _dt.datetime):
        nanos = _datetime_nanos(value)
        return bytes([TAG_TIMESTAMP]) + _int_bytes(nanos, 16, "timestamp")
    if isinstance(value, _dt.date):
        days = (value - _EPOCH_DATE).days
        return bytes([TAG_DATE]) + _int_bytes(days, 8, "date")
    if isinstance(value, _dt.time):
        return bytes([TAG_TIME]) + _int_bytes(_time_nanos(value), 8, "time of day")
    if isinstance(value, _dt.timedelta):
        nanos = _timedelta_nanos(value)
        return bytes([TAG_DURATION]) + _int_bytes(nanos, 16, "duration")
    if isinstance(value, _decimal.Decimal):
        mantissa, scale = _normalized_decimal(value)
        return (
            bytes([TAG_DECIMAL])
            + _int_bytes(mantissa, 32, "decimal mantissa")
            + _int_bytes(scale, 4, "decimal scale")
        )
    if isinstance(value, TimestampNs):
        return bytes([TAG_TIMESTAMP]) + _int_bytes(value.nanos, 16, "timestamp")
    if isinstance(value, TimeNs):
        return bytes([TAG_TIME]) + _int_bytes(value.nanos, 8, "time of day")
    if isinstance(value, DurationNs):
        return bytes([TAG_DURATION]) + _int_bytes(value.nanos, 16, "duration")
    raise TypeError(
        f"stable hash: unsupported part type {type(value).__module__}.{type(value).__qualname__}; "
        "accepted: None, bool, int, float, str, bytes, datetime.date, datetime.datetime, "
        "datetime.time, datetime.timedelta, decimal.Decimal, TimestampNs, TimeNs, DurationNs"
    )


def encode_key(*parts: HashValue) -> bytes:
    """The canonical key of ``parts``: the concatenation of one encoded part per
    argument, in order."""
    return b"".join(encode_part(p) for p in parts)


def _require_parts(function: str, parts: tuple[object, ...]) -> None:
    if not parts:
        raise TypeError(f"{function} expects at least one part")


def _to_i64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def stable_hash64(*parts: HashValue) -> int:
    """XXH3-64 (seed 0) of the key of ``parts``, as a signed 64-bit integer. Never
    ``None``: NULL parts are hashed with their own tag."""
    _require_parts("stable_hash64", parts)
    return _to_i64(xxhash.xxh3_64_intdigest(encode_key(*parts)))


def stable_hash128(*parts: HashValue) -> str:
    """XXH3-128 (seed 0) of the key of ``parts``, as 32 lowercase hex digits, high 64
    bits first (xxHash's canonical form)."""
    _require_parts("stable_hash128", parts)
    return xxhash.xxh3_128_hexdigest(encode_key(*parts))


def stable_id(prefix: Optional[str], *parts: HashValue) -> Optional[str]:
    """``prefix + ':' + stable_hash128(prefix, *parts)``; ``None`` if ``prefix`` is
    ``None``. The prefix is hashed as the first (string) part."""
    if not parts:
        raise TypeError("stable_id expects a prefix and at least one part")
    if prefix is None:
        return None
    if not isinstance(prefix, str):
        raise TypeError(f"stable_id: the prefix must be a str, got {type(prefix).__qualname__}")
    return f"{prefix}:{stable_hash128(prefix, *parts)}"


# --------------------------------------------------------------------------------------
# Spark-compatible xxhash64
# --------------------------------------------------------------------------------------
#
# Ground truth: Spark's InterpretedHashFunction.hash (sql/catalyst, expressions/hash.scala)
# with XxHash64Function: hashInt / hashLong are XXH64 of the 4 / 8 little-endian bytes,
# hashUnsafeBytes is XXH64 of the bytes, NULL returns the seed unchanged at every level.

#: Largest precision Spark hashes as a long (``Decimal.MAX_LONG_DIGITS``).
SPARK_MAX_LONG_DIGITS: Final[int] = 18
#: Largest precision of a Spark decimal (``DecimalType.MAX_PRECISION``).
SPARK_MAX_PRECISION: Final[int] = 38
_NANOS_PER_MICRO: Final[int] = 1_000


class UInt64(int):
    """An Arrow UInt64 value for ``xxhash64``. Spark's Parquet reader reads unsigned
    64-bit integers as ``DecimalType(20, 0)``, so it hashes as that decimal:
    ``BigInteger.toByteArray()`` of the value (precision 20 > 18), whatever its size.
    A plain ``int`` above ``2**63 - 1`` hashes the same way, as only a UInt64 holds it."""

    def __new__(cls, value: int) -> "UInt64":
        v = int.__new__(cls, value)
        if not 0 <= v <= _U64_MAX:
            raise OverflowError(f"UInt64 out of range [0, 2**64 - 1]: {int(v)}")
        return v

    def __repr__(self) -> str:
        return f"UInt64({int(self)})"


@dataclass(frozen=True)
class SparkDecimal:
    """A value of Spark's ``DecimalType(precision, scale)``, given by its unscaled
    integer (value = unscaled * 10**-scale). ``xxhash64`` hashes precision <= 18 as the
    unscaled long and wider ones as ``BigInteger.toByteArray()`` of the unscaled value;
    the scale does not enter the hash."""

    unscaled: int
    precision: int

    def __post_init__(self) -> None:
        if not 1 <= self.precision <= SPARK_MAX_PRECISION:
            raise ValueError(
                f"SparkDecimal precision {self.precision} is outside Spark's 1..{SPARK_MAX_PRECISION}"
            )
        if abs(self.unscaled) >= 10**self.precision:
            raise OverflowError(
                f"SparkDecimal unscaled value {self.unscaled} has more than {self.precision} digits"
            )

    @classmethod
    def of(cls, value: _decimal.Decimal, precision: int, scale: int) -> "SparkDecimal":
        """The ``DecimalType(precision, scale)`` value equal to ``value``; ``ValueError``
        if ``value`` has more than ``scale`` fractional digits."""
        if not value.is_finite():
            raise ValueError(f"decimal value is not finite: {value}")
        # Integer arithmetic: Decimal operations would round to the context's 28 digits.
        sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        magnitude = int("".join(map(str, digits)) or "0")
        shift = exponent + scale
        if shift >= 0:
            magnitude *= 10**shift
        else:
            magnitude, remainder = divmod(magnitude, 10**-shift)
            if remainder:
                raise ValueError(f"{value} has more than {scale} fractional digits")
        return cls(-magnitude if sign else magnitude, precision)


def java_bigint_bytes(value: int) -> bytes:
    """Java's ``BigInteger.toByteArray()``: minimal big-endian two's complement (0 is
    one zero byte)."""
    length = (value + (value < 0)).bit_length() // 8 + 1
    return value.to_bytes(length, "big", signed=True)


SparkValue = Union[
    None,
    bool,
    int,
    float,
    str,
    bytes,
    bytearray,
    memoryview,
    _dt.date,
    _dt.datetime,
    TimestampNs,
    SparkDecimal,
    list,
    tuple,
]


def _xxh64(data: bytes, seed: int) -> int:
    return xxhash.xxh64_intdigest(data, seed=seed)


def _hash_spark_decimal(unscaled: int, precision: int, seed: int) -> int:
    if precision <= SPARK_MAX_LONG_DIGITS:
        return _xxh64(struct.pack("<q", unscaled), seed)
    return _xxh64(java_bigint_bytes(unscaled), seed)


def _spark_fold(value: object, seed: int) -> int:
    """The running hash after folding ``value`` into ``seed``."""
    if value is None:
        return seed  # NULL leaves the running hash unchanged
    if isinstance(value, bool):
        return _xxh64(struct.pack("<i", 1 if value else 0), seed)
    if isinstance(value, Int32):
        return _xxh64(struct.pack("<i", int(value)), seed)
    if isinstance(value, UInt64):
        return _hash_spark_decimal(int(value), 20, seed)
    if isinstance(value, int):
        if _I64_MIN <= value <= _I64_MAX:
            return _xxh64(struct.pack("<q", value), seed)
        if _I64_MAX < value <= _U64_MAX:  # only an Arrow UInt64 holds it: Decimal(20, 0)
            return _hash_spark_decimal(value, 20, seed)
        raise OverflowError(f"xxhash64: integer out of the Int64/UInt64 range: {int(value)}")
    if isinstance(value, Float32):
        if math.isnan(value):
            bits = _CANONICAL_NAN32
        elif value == 0.0:
            bits = 0
        else:
            bits = struct.unpack("<I", struct.pack("<f", value))[0]
        return _xxh64(struct.pack("<I", bits), seed)
    if isinstance(value, float):
        return _xxh64(struct.pack("<Q", _float_bits(value)), seed)
    if isinstance(value, str):
        return _xxh64(value.encode("utf-8"), seed)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _xxh64(bytes(value), seed)
    if isinstance(value, _dt.datetime):
        # Spark's TimestampType: i64 microseconds since the epoch (naive = UTC).
        return _spark_fold(TimestampNs(_datetime_nanos(value)), seed)
    if isinstance(value, TimestampNs):
        # Spark holds microseconds; finer instants floor, as its instantToMicros does.
        micros = value.nanos // _NANOS_PER_MICRO
        if not _I64_MIN <= micros <= _I64_MAX:
            raise OverflowError(f"xxhash64: timestamp out of Spark's i64 microseconds: {micros}")
        return _xxh64(struct.pack("<q", micros), seed)
    if isinstance(value, _dt.date):
        # Spark's DateType: i32 days since 1970-01-01.
        return _xxh64(struct.pack("<i", (value - _EPOCH_DATE).days), seed)
    if isinstance(value, SparkDecimal):
        return _hash_spark_decimal(value.unscaled, value.precision, seed)
    if isinstance(value, (list, tuple)):
        # Arrays: elements in order; tuples stand for structs: fields in order.
        for element in value:
            seed = _spark_fold(element, seed)
        return seed
    raise TypeError(
        f"xxhash64: unsupported type {type(value).__module__}.{type(value).__qualname__}; "
        "accepted: None, bool, int (Int64; above 2**63 - 1 a UInt64), Int32, UInt64 "
        "(Decimal(20, 0)), float (Float64), Float32, str, bytes, datetime.date (DateType), "
        "datetime.datetime and TimestampNs (TimestampType, microseconds), SparkDecimal, "
        "list and tuple (array, struct) of these"
    )


def xxhash64(*parts: SparkValue) -> int:
    """Spark's ``xxhash64``: XXH64 with seed 42 over each part in turn, the hash of one
    part seeding the next; ``None`` leaves the running hash unchanged. Returns a signed
    64-bit integer (``xxhash64(None) == 42``)."""
    if not parts:
        raise TypeError("xxhash64 expects at least one argument")
    running = SPARK_SEED
    for part in parts:
        running = _spark_fold(part, running)
    return _to_i64(running)
