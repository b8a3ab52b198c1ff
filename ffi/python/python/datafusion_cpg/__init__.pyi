import datafusion

from . import udfs as udfs

__version__: str

def register(ctx: datafusion.SessionContext) -> list[str]:
    """Register every datafusion-cpg function into ``ctx``; returns their names."""
    ...
