"""The Python API behind ``asc_bench.runner``: run a spec from a notebook or a script and get its records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from asc_bench.records.io import read_record
from asc_bench.records.schema import ResultRecord
from asc_bench.runner.driver import run_spec
from asc_bench.runner.events import RunListener
from asc_bench.spec.compose import compose_data
from asc_bench.spec.model import Spec
from asc_bench.spec.overrides import apply_overrides
from asc_bench.spec.validate import load_spec, validate_spec


def as_spec(spec: Spec | Mapping[str, Any] | Path | str, overrides: Sequence[str] = ()) -> Spec:
    """A validated spec from a spec file, spec data (a dict as the YAML would give; its ``extends`` paths are
    taken from the current folder) or a spec, with ``--set`` style ``overrides`` applied."""
    if isinstance(spec, str | Path):
        return load_spec(Path(spec), list(overrides))
    data = spec.model_dump(mode="json") if isinstance(spec, Spec) else compose_data(dict(spec), Path.cwd())[0]
    return validate_spec(apply_overrides(data, list(overrides)) if overrides else data, source="<spec>")


def run(
    spec: Spec | Mapping[str, Any] | Path | str,
    overrides: Sequence[str] = (),
    *,
    listener: RunListener | None = None,
    address: str | None = None,
    resume: bool = False,
) -> list[ResultRecord]:
    """Run a spec (a file, spec data or a :class:`Spec`) as ``asc-bench run`` does and return its result records.

    ``overrides`` are ``--set`` style (``["trainer.epochs=2"]``); ``listener`` receives progress (default: none
    is shown); ``address`` joins a Ray cluster; ``resume`` continues the spec's interrupted experiment."""
    paths = run_spec(as_spec(spec, overrides), listener=listener, address=address, resume=resume)
    return [read_record(path) for path in paths]
