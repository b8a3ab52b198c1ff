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
