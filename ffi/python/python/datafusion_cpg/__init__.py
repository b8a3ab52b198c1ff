"""datafusion-cpg for datafusion-python 55: code property graph functions over FFI.

    import datafusion, datafusion_cpg
    ctx = datafusion.SessionContext()
    datafusion_cpg.register(ctx)
    ctx.sql("SELECT stable_id('node', 'src/a.py', 0, 10)").show()

``datafusion_cpg.install(ctx, policy=...)`` also installs the bundle's query planner
(with a SQL policy it enforces on every plan) and codecs; ``datafusion_cpg.fingerprint``
gives a plan's deterministic fingerprint.

``datafusion_cpg.udfs`` gives each function as a ``datafusion.ScalarUDF``;
``datafusion_cpg.reference`` computes the same stable ids in pure Python;
``datafusion_cpg.ibis`` gives each function as an Ibis expression builder (for
``ibis.datafusion.connect(ctx)``; needs ``pip install 'ibis-framework[datafusion]'``, and
is not imported here).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import datafusion

from . import _native, udfs

__version__: str = _native.__version__

__all__ = ["fingerprint", "install", "manifest", "query_log", "register", "udfs", "__version__"]

_PLANNER_ATTRIBUTE = "_datafusion_cpg_planner"


def register(ctx: datafusion.SessionContext) -> list[str]:
    """Register every datafusion-cpg scalar function, table function and table provider
    factory (``STORED AS DELTA``, ``DELTA_CDF``, ``UNBOUNDED_PARQUET``, ...) into ``ctx``;
    returns their names (scalar functions, then table functions, then factories).

    Registering again replaces them by name, so it is harmless. Raises
    ``ImportError`` if the installed datafusion is not the major this module was built
    for.
    """
    names = _native.scalar_function_names()
    for name in names:
        ctx.register_udf(udfs.function(name))
    for name in _native.table_function_names():
        # The function decodes its arguments with this context's codec.
        ctx.register_udtf(datafusion.TableFunction(name, _native.table_function(name), ctx))
        names.append(name)
    for name in _native.table_provider_factory_names():
        ctx.register_table_factory(name, _native.table_provider_factory(name))
        names.append(name)
    return names


def manifest() -> dict[str, Any]:
    """What this build exports: the bundle's export registry (``exports``: kind, name,
    whether it crosses FFI), the plugin ABI major, the datafusion-ffi major and the
    stable-hash encoding version (``stable_hash_encoding_version``). The same manifest
    the Rust plugin carries."""
    return json.loads(_native.manifest_json())


def install(
    ctx: datafusion.SessionContext,
    policy: Mapping[str, object] | None = None,
    span_join: bool = True,
) -> datafusion.SessionContext:
    """Install the whole bundle as datafusion-python allows: the functions
    (:func:`register`), the bundle's codecs (the session's in-memory tables then cross
    the bundle's planner by handle, not by copy) and its query planner, which enforces
    ``policy`` (the keys of ``SET cpg.policy.<key>``, e.g. ``{"deny_tables":
    "datafusion.public.secret", "allow_dml": False}``; default: allow everything) on
    every plan the session runs — SQL, DataFrames, Substrait — and logs each decision
    (:func:`query_log`). With ``span_join`` (default) the planner executes joins on
    ``path`` equality plus byte-span comparisons with the bundle's interval join
    (``SpanJoinExec``); ``span_join=False`` leaves them to DataFusion's hash join.

    Returns the context to use from now on: datafusion-python adds codecs by deriving a
    new context that shares ``ctx``'s session. DDL and ``SET`` run eagerly inside
    ``ctx.sql`` before any planner: gate them with :func:`datafusion_cpg.policy.sql_options`.
    """
    register(ctx)
    codecs = _native.Codecs()
    installed = ctx.with_logical_extension_codec(codecs).with_physical_extension_codec(codecs)
    planner = _native.QueryPlanner(
        None if policy is None else json.dumps(dict(policy)), span_join
    )
    installed.set_query_planner(planner)
    setattr(installed, _PLANNER_ATTRIBUTE, planner)
    return installed


def query_log(ctx: datafusion.SessionContext) -> list[dict[str, Any]]:
    """The policy decisions of the planner :func:`install` put on ``ctx``, oldest first:
    ``decision`` (allow/deny), ``code``, ``reason``, ``fingerprint``, ``shape``,
    ``tables``, ``functions``, ``plan``. The planner sees plans after DataFusion's
    optimizer, so these fingerprints are of the optimized plan."""
    planner = getattr(ctx, _PLANNER_ATTRIBUTE, None)
    if planner is None:
        raise ValueError("this context has no datafusion-cpg planner: use datafusion_cpg.install(ctx)")
    return json.loads(planner.query_log_json())


def fingerprint(
    df_or_sql: datafusion.DataFrame | str,
    ctx: datafusion.SessionContext,
    policy: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The fingerprint of a query: ``spec_version``, the hex digests ``exact``,
    ``shape``, ``schema``, ``policy`` and ``catalog``, and ``volatile`` — the same values
    the linked bundle gives (``plan_fingerprint('...')`` in Rust) for the same statement
    over tables of the same schema.

    SQL text is planned (never run) by the bundle over ``ctx``'s table names and schemas.
    A DataFrame's plan crosses as datafusion-proto bytes: ``ctx`` must come from
    :func:`install` when it reads in-memory tables, and datafusion-proto 55 cannot carry
    subquery expressions (``IN``/``EXISTS``/scalar subqueries) — pass their SQL text."""
    policy_json = None if policy is None else json.dumps(dict(policy))
    if isinstance(df_or_sql, str):
        digests = _native.fingerprint_sql(df_or_sql, _table_schemas(ctx), policy_json)
    else:
        data = df_or_sql.logical_plan().to_bytes(ctx)
        digests = _native.fingerprint_plan_bytes(data, ctx, policy_json)
    result: dict[str, Any] = json.loads(digests)
    return result


def _table_schemas(ctx: datafusion.SessionContext) -> list[tuple[str, bytes]]:
    """Every table of ``ctx`` as (``catalog.schema.table``, Arrow IPC schema bytes)."""
    tables = []
    for catalog_name in sorted(ctx.catalog_names()):
        catalog = ctx.catalog(catalog_name)
        for schema_name in sorted(catalog.schema_names()):
            schema = catalog.schema(schema_name)
            for table_name in sorted(schema.table_names()):
                arrow_schema = schema.table(table_name).schema
                tables.append(
                    (f"{catalog_name}.{schema_name}.{table_name}", arrow_schema.serialize().to_pybytes())
                )
    return tables
