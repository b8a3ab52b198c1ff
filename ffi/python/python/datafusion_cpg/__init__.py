"""datafusion-cpg for datafusion-python 55: code property graph functions over FFI.

    import datafusion, datafusion_cpg
    ctx = datafusion.SessionContext()
    datafusion_cpg.register(ctx)
    ctx.sql("SELECT stable_id('node', 'src/a.py', 0, 10)").show()

``datafusion_cpg.udfs`` gives each function as a ``datafusion.ScalarUDF``;
``datafusion_cpg.reference`` computes the same stable ids in pure Python;
``datafusion_cpg.ibis`` gives each function as an Ibis expression builder (for
``ibis.datafusion.connect(ctx)``; needs ``pip install 'ibis-framework[datafusion]'``, and
is not imported here).
"""

from __future__ import annotations

import json
from typing import Any

import datafusion

from . import _native, udfs

__version__: str = _native.__version__

__all__ = ["manifest", "register", "udfs", "__version__"]


def register(ctx: datafusion.SessionContext) -> list[str]:
    """Register every datafusion-cpg scalar and table function into ``ctx``; returns
    their names (scalar functions first).

    Registering again replaces the functions by name, so it is harmless. Raises
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
    return names


def manifest() -> dict[str, Any]:
    """What this build exports: the bundle's export registry (``exports``: kind, name,
    whether it crosses FFI), the plugin ABI major, the datafusion-ffi major and the
    stable-hash encoding version (``stable_hash_encoding_version``). The same manifest
    the Rust plugin carries."""
    return json.loads(_native.manifest_json())
