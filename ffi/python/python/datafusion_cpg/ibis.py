"""The datafusion-cpg functions as Ibis expressions, for Ibis's DataFusion backend.

    import datafusion, ibis
    import datafusion_cpg
    from datafusion_cpg.ibis import stable_hash64, stable_id, span_len

    ctx = datafusion.SessionContext()
    datafusion_cpg.register(ctx)          # the SQL functions these wrappers call
    con = ibis.datafusion.connect(ctx)    # or: con = datafusion_cpg.ibis.connect(ctx)

    t = con.table("edges")
    t = t.mutate(
        edge_id=stable_hash64(t.src, t.dst, t.path, t.bstart, t.bend),
        node_id=stable_id("node", t.path, t.bstart, t.bend),
        length=span_len(t.bstart, t.bend),
    )

Each wrapper builds an Ibis *builtin* scalar UDF (``ibis.udf.scalar.builtin``): the
expression compiles to a call of the SQL function of the same name, so the values are
those of ``ctx.sql("SELECT stable_hash64(...)")`` and nothing runs in Python. The
functions must be registered in the ``SessionContext`` first (``datafusion_cpg.register``);
otherwise execution fails with DataFusion's "Invalid function" error. Arguments are Ibis
expressions (columns, ``ibis._`` deferreds) or Python values, which become literals.

Signatures (see README "SQL functions"):

- ``stable_hash64(*parts)`` -> int64, ``stable_hash128(*parts)`` -> string,
  ``stable_id(prefix, *parts)`` -> string, ``xxhash64(*parts)`` -> int64: any number of
  parts (at least one) of mixed types (those the SQL function accepts; ``xxhash64`` also
  takes arrays and structs). Ibis builtins have a fixed arity, so one builtin is made
  (and cached) per number of arguments, each argument typed "any value"; DataFusion
  checks the types when the query is planned.
- ``span_len(start, end)`` -> int64, ``span_overlaps(a_start, a_end, b_start, b_end)`` and
  ``span_contains(outer_start, outer_end, inner_start, inner_end)`` -> boolean: integer
  arguments of any width.
- ``utf8_normalize(text, form='NFKC', casefold=True, collapse_ws=True)`` -> string and
  ``qname_normalize(symbol, module=None, lowercase=False)`` -> string: trailing arguments
  left at their defaults are not passed, so ``utf8_normalize(t.s)`` compiles to
  ``utf8_normalize(s)``.
- ``list_enumerate(values)`` -> ``array<struct<ordinality: !int64, value: T>>`` for an
  ``array<T>`` argument: one builtin is made (and cached) per element type ``T``. Explode
  it with ``.unnest()``; read the fields with ``e.ordinality`` and ``e["value"]``.

Literals: Python values become Ibis literals, rendered by Ibis's DataFusion compiler. An
integer literal is a plain SQL number, which DataFusion types Int64 whatever its Ibis
type (as in SQL); a decimal literal is Decimal128(38, 9) unless typed. Only ``xxhash64``
sees the difference (like Spark, it hashes an Int32 as 4 bytes and a decimal by its
precision): write ``ibis.literal(5).cast("int32")`` or
``ibis.literal(Decimal("1.5"), type="decimal(2, 1)")``. Ibis renders a date literal as
``date_trunc('day', '...')``, a timestamp; the hash wrappers cast date literals back to a
date, so ``stable_hash64(datetime.date(2024, 1, 2))`` equals SQL
``stable_hash64(DATE '2024-01-02')``.

Compatibility: datafusion-python 52 renamed the ``udf`` keywords ``input_types`` and
``return_type`` to ``input_fields`` and ``return_field``; Ibis releases up to 12.0.0 still
pass the old names, so ``ibis.datafusion.connect`` raises ``TypeError: ... unexpected
keyword argument 'input_types'`` with datafusion 55 (fixed in Ibis after 12.0.0,
ibis-project/ibis#12028). Importing this module makes that backend (only it) pass the new
names, when the installed Ibis lacks the fix; import it before connecting.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

import datafusion

from . import register as _register

try:
    import ibis
    import ibis.backends.datafusion as _ibis_datafusion
    import ibis.expr.datatypes as dt
    import ibis.expr.operations as ops
    import ibis.expr.types as ir
    from ibis.common.deferred import deferrable
except ImportError as error:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "datafusion_cpg.ibis needs Ibis with its DataFusion backend: "
        "pip install 'ibis-framework[datafusion]' "
        f"(importing it failed: {error})"
    ) from error

__all__ = [
    "connect",
    "stable_hash64",
    "stable_hash128",
    "stable_id",
    "xxhash64",
    "span_len",
    "span_overlaps",
    "span_contains",
    "utf8_normalize",
    "qname_normalize",
    "list_enumerate",
    "list_enumerate_type",
]


# --- Ibis <= 12.0.0 with datafusion-python >= 52 --------------------------------------


class _DataFusionWithOldUdfKeywords:
    """Stands for the ``datafusion`` module inside Ibis's DataFusion backend: the same
    attributes, but ``udf`` also accepts ``input_types``/``return_type`` (datafusion < 52
    names), which it passes on as ``input_fields``/``return_field``."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def udf(self, *args: Any, **kwargs: Any) -> Any:
        if "input_types" in kwargs:
            kwargs["input_fields"] = kwargs.pop("input_types")
        if "return_type" in kwargs:
            kwargs["return_field"] = kwargs.pop("return_type")
        return self._module.udf(*args, **kwargs)


def _fix_ibis_udf_keywords() -> bool:
    """Make Ibis's DataFusion backend work with datafusion-python >= 52 if the installed
    Ibis predates the fix (ibis-project/ibis#12028, which added ``_scalar_udf``).
    Returns whether the backend was changed; calling it again does nothing."""
    backend = _ibis_datafusion
    if hasattr(backend, "_scalar_udf"):
        return False  # an Ibis that picks the keywords itself
    if int(datafusion.__version__.split(".")[0]) < 52:
        return False  # the old keywords are still the right ones
    if isinstance(getattr(backend, "df", None), _DataFusionWithOldUdfKeywords):
        return False
    backend.df = _DataFusionWithOldUdfKeywords(datafusion)
    return True


_fix_ibis_udf_keywords()


def connect(ctx: datafusion.SessionContext | None = None) -> Any:
    """Register the datafusion-cpg functions into ``ctx`` (a new ``SessionContext`` if
    ``None``) and return ``ibis.datafusion.connect(ctx)``."""
    if ctx is None:
        ctx = datafusion.SessionContext()
    _register(ctx)
    return ibis.datafusion.connect(ctx)


# --- builtin UDFs ----------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _builtin(
    name: str, arg_types: tuple[dt.DataType | None, ...], return_type: dt.DataType
) -> Callable[..., ir.Value]:
    """An Ibis builtin scalar UDF calling the SQL function ``name`` with
    ``len(arg_types)`` arguments (``None``: any value), cached per signature."""

    def fn(*args: Any) -> Any: ...

    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = __name__
    fn.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(f"arg{i}", inspect.Parameter.POSITIONAL_OR_KEYWORD)
            for i in range(len(arg_types))
        ]
    )
    return ibis.udf.scalar.builtin(fn, name=name, signature=(arg_types, return_type))


_ANY = None
_NOT_NULL_INT64 = dt.Int64(nullable=False)
_NOT_NULL_STRING = dt.String(nullable=False)


def _hash_part(value: Any) -> ir.Value:
    """``value`` as an Ibis expression to hash, date literals cast back to a date."""
    if not isinstance(value, ir.Expr):
        if isinstance(value, int) and not isinstance(value, bool):
            # int64 (uint64 above i64::MAX); rendered as a plain number, as in SQL
            value = ibis.literal(value, type="int64" if value < 2**63 else "uint64")
        else:
            value = ibis.literal(value)
    op = value.op()
    if isinstance(op, ops.Literal) and op.dtype.is_date():
        # Ibis renders a date literal as date_trunc('day', ...), a Timestamp
        return ops.Cast(op, to=dt.date).to_expr()
    return value


def _variadic(name: str, return_type: dt.DataType, parts: tuple[Any, ...]) -> ir.Value:
    if not parts:
        raise TypeError(f"{name} expects at least one part, e.g. {name}(path, start, end)")
    values = tuple(_hash_part(p) for p in parts)
    return _builtin(name, (_ANY,) * len(values), return_type)(*values)


@deferrable
def stable_hash64(*parts: Any) -> ir.IntegerValue:
    """``stable_hash64(part, ...)``: XXH3-64 of the canonical key encoding of the parts,
    an int64, never NULL. Parts of any scalar type, mixed; at least one."""
    return _variadic("stable_hash64", _NOT_NULL_INT64, parts)


@deferrable
def stable_hash128(*parts: Any) -> ir.StringValue:
    """``stable_hash128(part, ...)``: 32 lowercase hex digits of XXH3-128 of the
    canonical key encoding of the parts, never NULL. At least one part."""
    return _variadic("stable_hash128", _NOT_NULL_STRING, parts)


@deferrable
def stable_id(prefix: Any, *parts: Any) -> ir.StringValue:
    """``stable_id(prefix, part, ...)``: ``prefix || ':' || stable_hash128(prefix, part,
    ...)``; a string prefix and at least one part; NULL prefix gives NULL."""
    if not parts:
        raise TypeError(
            "stable_id expects a prefix and at least one part, "
            "e.g. stable_id('node', path, start, end)"
        )
    if not isinstance(prefix, ir.Expr):
        prefix = ibis.literal(prefix, type="string")
    return _variadic("stable_id", dt.string, (prefix, *parts))


@deferrable
def xxhash64(*parts: Any) -> ir.IntegerValue:
    """``xxhash64(expr, ...)``: Spark-compatible XXH64 (seed 42, each column's hash seeds
    the next, NULL leaves it unchanged), an int64, never NULL. At least one argument.
    Int32 and Int64 hash differently: see the module docstring on literals."""
    return _variadic("xxhash64", _NOT_NULL_INT64, parts)


@ibis.udf.scalar.builtin
def span_len(start: int, end: int) -> int:
    """``span_len(start, end)``: ``end - start`` of the half-open byte span; NULL if a
    bound is NULL (checked first); an execution error if a bound is negative or
    ``end < start`` (a valid span has ``0 <= start <= end``)."""


@ibis.udf.scalar.builtin
def span_overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """``span_overlaps(a_start, a_end, b_start, b_end)``: the spans share a byte; an empty
    span overlaps nothing."""


@ibis.udf.scalar.builtin
def span_contains(outer_start: int, outer_end: int, inner_start: int, inner_end: int) -> bool:
    """``span_contains(outer_start, outer_end, inner_start, inner_end)``:
    ``outer_start <= inner_start AND inner_end <= outer_end``."""


def _is_default(value: Any, default: Any) -> bool:
    """Whether ``value`` is the Python default ``default`` (never true for expressions)."""
    if isinstance(value, ir.Expr):
        return False
    if default is None or isinstance(default, bool):
        return value is default
    return isinstance(value, str) and value == default


def _optional_call(
    name: str,
    params: tuple[tuple[Any, Any, dt.DataType], ...],
    return_type: dt.DataType,
) -> ir.Value:
    """Call ``name`` with ``(value, default, dtype)`` params, leaving out the trailing
    ones still at their defaults. ``None`` becomes a typed NULL."""
    count = len(params)
    while count > 1 and _is_default(params[count - 1][0], params[count - 1][1]):
        count -= 1
    used = params[:count]
    args = [
        ibis.literal(None, type=dtype) if value is None else value for value, _, dtype in used
    ]
    return _builtin(name, tuple(dtype for _, _, dtype in used), return_type)(*args)


@deferrable
def utf8_normalize(
    text: Any, form: Any = "NFKC", casefold: Any = True, collapse_ws: Any = True
) -> ir.StringValue:
    """``utf8_normalize(text [, form [, casefold [, collapse_ws]]])``: Unicode normal form
    ``form`` (NFC/NFD/NFKC/NFKD); case folded if ``casefold`` (full Unicode case folding,
    ``'Straße'`` -> ``'strasse'``, then ``form`` again); trimmed, and whitespace runs to one
    space if ``collapse_ws``. NULL text gives NULL."""
    return _optional_call(
        "utf8_normalize",
        (
            (text, object(), dt.string),
            (form, "NFKC", dt.string),
            (casefold, True, dt.boolean),
            (collapse_ws, True, dt.boolean),
        ),
        dt.string,
    )


@deferrable
def qname_normalize(symbol: Any, module: Any = None, lowercase: Any = False) -> ir.StringValue:
    """``qname_normalize(symbol [, module [, lowercase]])``: the normalized symbol,
    ``module.symbol`` unless the symbol already contains ``.`` or the module is NULL or
    empty; case kept unless ``lowercase`` (then case folded); NULL if the symbol is NULL
    or normalizes to empty."""
    return _optional_call(
        "qname_normalize",
        (
            (symbol, object(), dt.string),
            (module, None, dt.string),
            (lowercase, False, dt.boolean),
        ),
        dt.string,
    )


def list_enumerate_type(array_type: dt.DataType) -> dt.Array:
    """The Ibis type of ``list_enumerate`` of an ``array_type`` argument:
    ``array<!struct<ordinality: !int64, value: T>>``."""
    if not array_type.is_array():
        raise TypeError(f"list_enumerate expects an array, got {array_type}")
    element = dt.Struct(
        {"ordinality": _NOT_NULL_INT64, "value": array_type.value_type}, nullable=False
    )
    return dt.Array(element)


@deferrable
def list_enumerate(values: Any) -> ir.ArrayValue:
    """``list_enumerate(values)``: each element of the array with its 1-based position,
    ``array<struct<ordinality: int64, value: T>>``; NULL gives NULL, empty gives empty.
    ``list_enumerate(t.items).unnest()`` gives one row per element (as SQL
    ``unnest(list_enumerate(items))``)."""
    if not isinstance(values, ir.Expr):
        literal_type = dt.infer(values)
        if literal_type.is_array() and literal_type.value_type.is_integer():
            # rendered make_array(1, 2): List(Int64) in DataFusion, not Ibis's int8
            literal_type = dt.Array(dt.int64)
        values = ibis.literal(values, type=literal_type)
    array_type = values.type()
    return_type = list_enumerate_type(array_type)
    return _builtin("list_enumerate", (array_type,), return_type)(values)
