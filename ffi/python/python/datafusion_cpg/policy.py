"""The closest enforcement of a datafusion-cpg SQL policy that datafusion-python 55 allows.

datafusion-python 55 runs DDL and ``SET`` eagerly inside ``ctx.sql`` and has no hook for
analyzer rules, so the bundle's policy checks (``cpg.policy.*``, see the README "SQL
policy") do not run there yet. What it does enforce is DataFusion's own coarse
``SQLOptions`` on ``ctx.sql_with_options``: one flag each for DDL, DML and other
statements. :func:`sql_options` maps a policy (the same keys as ``SET cpg.policy.<key>``
or a policy JSON/TOML file) onto them, *strictly*: a flag is allowed only if every class
it covers is allowed.

    from datafusion_cpg.policy import sql_options
    options = sql_options({"allow_ddl": False, "allow_insert": False})
    ctx.sql_with_options("CREATE TABLE x AS SELECT 1", options)   # ValueError: DDL not supported

Not covered by this (stated plainly): functions, tables, paths, plan shape, SET key
allowlists and the lock — those are enforced by the bundle's query planner, installed
with ``datafusion_cpg.install(ctx, policy=...)`` (every plan the session runs; DDL and
``SET`` run before it, hence these options).
"""

from __future__ import annotations

from collections.abc import Mapping

from datafusion import SQLOptions

__all__ = ["DDL_CLASSES", "DML_CLASSES", "STATEMENT_CLASSES", "sql_options"]

#: The policy's DDL statement classes (``allow_<class>``).
DDL_CLASSES = (
    "create_table",
    "drop_table",
    "create_view",
    "drop_view",
    "create_external_table",
    "create_function",
    "drop_function",
    "create_catalog_or_schema",
    "drop_catalog_or_schema",
)
#: The policy's DML classes.
DML_CLASSES = ("insert", "update", "delete", "copy_to")
#: The classes DataFusion's ``allow_statements`` covers.
STATEMENT_CLASSES = ("set", "prepare_execute", "transaction")

_ALL = DDL_CLASSES + DML_CLASSES + STATEMENT_CLASSES


def _flag(key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"cpg.policy.{key}: {value!r} is not a boolean; accepted: true, false")


def sql_options(policy: Mapping[str, object]) -> SQLOptions:
    """``SQLOptions`` allowing only what ``policy`` allows (keys as ``cpg.policy.*``).

    ``allow_ddl``/``allow_dml`` set every class of their kind, then ``allow_<class>``
    keys apply, in order. Keys this mapping cannot express (functions, tables, ...)
    are accepted and ignored here; an unknown ``allow_*`` key or a non-boolean value is
    a ``ValueError``.
    """
    allowed = {c: True for c in _ALL}
    for key, value in policy.items():
        if key == "allow_ddl":
            for c in DDL_CLASSES:
                allowed[c] = _flag(key, value)
        elif key == "allow_dml":
            for c in DML_CLASSES:
                allowed[c] = _flag(key, value)
        elif key.startswith("allow_") and key[len("allow_") :] in allowed:
            allowed[key[len("allow_") :]] = _flag(key, value)
        elif key.startswith("allow_") and key not in (
            "allow_functions",
            "allow_volatile_functions",
            "allow_tables",
            "allow_paths",
            "allow_cross_joins",
        ):
            raise ValueError(
                f"cpg.policy has no key {key!r}; accepted: allow_ddl, allow_dml, "
                + ", ".join(f"allow_{c}" for c in _ALL)
            )
    return (
        SQLOptions()
        .with_allow_ddl(all(allowed[c] for c in DDL_CLASSES))
        .with_allow_dml(all(allowed[c] for c in DML_CLASSES))
        .with_allow_statements(all(allowed[c] for c in STATEMENT_CLASSES))
    )
