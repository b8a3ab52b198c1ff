from collections.abc import Mapping
from typing import Any

import datafusion

from . import udfs as udfs

__version__: str

def register(ctx: datafusion.SessionContext) -> list[str]:
    """Register every datafusion-cpg function into ``ctx``; returns their names."""
    ...

def manifest() -> dict[str, Any]:
    """What this build exports (the bundle's export registry) and its versions."""
    ...

def install(
    ctx: datafusion.SessionContext,
    policy: Mapping[str, object] | None = None,
    span_join: bool = True,
) -> datafusion.SessionContext:
    """Functions, codecs and the bundle's query planner (enforcing ``policy``; span
    joins unless ``span_join=False``); returns the context to use."""
    ...

def query_log(ctx: datafusion.SessionContext) -> list[dict[str, Any]]:
    """The planner's policy decisions, oldest first."""
    ...

def fingerprint(
    df_or_sql: datafusion.DataFrame | str,
    ctx: datafusion.SessionContext,
    policy: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The plan's fingerprint: spec_version, exact, shape, schema, policy, catalog, volatile."""
    ...
