"""Each datafusion-cpg function as a ``datafusion.ScalarUDF`` (for ``ctx.register_udf``
or for use in DataFrame expressions), built from the extension module over FFI."""

from __future__ import annotations

import datafusion

from . import _native

__all__ = ["check_datafusion_version", "function", "names", "stable_hash64", "stable_hash128", "stable_id", "xxhash64", "span_len", "span_overlaps", "span_contains", "utf8_normalize", "qname_normalize", "list_enumerate"]


def names() -> list[str]:
    """The names of every datafusion-cpg scalar function."""
    return _native.scalar_function_names()


def check_datafusion_version() -> None:
    """Raise ``ImportError`` unless the installed datafusion has the major this module
    was built for: FFI structs of another major have another layout (a crash, not an
    error)."""
    installed = datafusion.__version__.split(".")[0]
    expected = str(_native.datafusion_ffi_version())
    if installed != expected:
        raise ImportError(
            f"datafusion_cpg was built for datafusion {expected}.x, but datafusion "
            f"{datafusion.__version__} is installed; pip install 'datafusion=={expected}.*'"
        )


def function(name: str) -> datafusion.ScalarUDF:
    """The datafusion-cpg function ``name`` as a ``datafusion.ScalarUDF``."""
    check_datafusion_version()
    return datafusion.udf(_native.scalar_function(name))


def stable_hash64() -> datafusion.ScalarUDF:
    """stable_hash64(part, ...) -> Int64: XXH3-64 of the canonical key of the parts."""
    return function("stable_hash64")


def stable_hash128() -> datafusion.ScalarUDF:
    """stable_hash128(part, ...) -> Utf8: 32 hex digits of XXH3-128 of the canonical key."""
    return function("stable_hash128")


def stable_id() -> datafusion.ScalarUDF:
    """stable_id(prefix, part, ...) -> Utf8: prefix || ':' || stable_hash128(prefix, part, ...)."""
    return function("stable_id")


def xxhash64() -> datafusion.ScalarUDF:
    """xxhash64(expr, ...) -> Int64: Spark-compatible XXH64 (seed 42, chained)."""
    return function("xxhash64")


def span_len() -> datafusion.ScalarUDF:
    """span_len(start, end) -> Int64: length of the half-open byte span [start, end)."""
    return function("span_len")


def span_overlaps() -> datafusion.ScalarUDF:
    """span_overlaps(a_start, a_end, b_start, b_end) -> Boolean."""
    return function("span_overlaps")


def span_contains() -> datafusion.ScalarUDF:
    """span_contains(outer_start, outer_end, inner_start, inner_end) -> Boolean."""
    return function("span_contains")


def utf8_normalize() -> datafusion.ScalarUDF:
    """utf8_normalize(text [, form [, casefold [, collapse_ws]]]) -> Utf8 (casefold is full
    Unicode case folding)."""
    return function("utf8_normalize")


def qname_normalize() -> datafusion.ScalarUDF:
    """qname_normalize(symbol [, module [, lowercase]]) -> Utf8: normalized qualified name
    (case kept unless lowercase)."""
    return function("qname_normalize")


def list_enumerate() -> datafusion.ScalarUDF:
    """list_enumerate(list) -> List<Struct<ordinality Int64, value T>>, 1-based."""
    return function("list_enumerate")
