"""asc-bench: a config-first benchmark harness for low-complexity acoustic scene classification.

The Python API (loaded on first use, so that ``import asc_bench`` stays light)::

    import asc_bench
    records = asc_bench.run("specs/quickstart.yaml", ["trainer.epochs=2"])   # list of ResultRecord
    frame = asc_bench.load_records("runs/quickstart")                        # pandas DataFrame, one row per trial
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "load_records", "run"]
_LAZY = {"run": "asc_bench.runner.api", "load_records": "asc_bench.records.table"}


def __getattr__(name: str) -> Any:
    """``asc_bench.run`` and ``asc_bench.load_records``, imported when first used."""
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'asc_bench' has no attribute {name!r}")
