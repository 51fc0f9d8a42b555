"""Loading PyTorch files without running code: ``torch.load(weights_only=True)``, and one clear error for a file
that is damaged or holds anything but tensors, dicts, lists, tuples, numbers and strings."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from asc_bench.core.errors import UserError

_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


def load_tensors(path: Path, *, what: str, fix: str, where: str | None = None) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU; a :class:`UserError` naming ``path`` (the ``what``, e.g.
    "checkpoint") and ``fix`` when it is missing, damaged or unsafe. Nothing in the file is ever executed."""
    import torch

    if not path.is_file():
        raise UserError(f"the {what} {path} does not exist.", where=where, fix=fix)
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols it reads fine
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # torch raises several types for damaged or foreign files
        found = _GLOBAL.search(str(exc))
        if found:
            message = (
                f"the {what} {path} was refused: it holds a Python object ({found.group(1)}) besides tensors, "
                "numbers, strings, lists and dicts, and loading it could run code. asc-bench never loads such files."
            )
        else:
            message = f"{path} cannot be read as a {what}: it is damaged or not a PyTorch file ({type(exc).__name__})."
        raise UserError(message, where=where, fix=fix) from None
