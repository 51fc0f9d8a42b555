"""Plugin discovery through entry points: listing without importing, lazy loading, clear errors, checks."""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Literal, get_args

from asc_bench.core.errors import UserError

Kind = Literal["dataset", "cache", "transform", "model", "trainer"]
KINDS: tuple[Kind, ...] = get_args(Kind)
GROUP_PREFIX = "asc_bench."
_API_BASE: dict[Kind, str] = {
    "dataset": "Dataset",
    "cache": "Cache",
    "transform": "Transform",
    "model": "Model",
    "trainer": "Trainer",
}


@dataclass(frozen=True)
class PluginInfo:
    """One registered plugin, known from its entry point alone (nothing imported).

    ``conflicts`` holds the entry points of other distributions that register the same kind and name;
    such a plugin cannot be loaded until one of them is uninstalled.
    """

    kind: Kind
    name: str
    target: str  # "module:object"
    distribution: str
    version: str
    conflicts: tuple[PluginInfo, ...] = ()

    @property
    def label(self) -> str:
        """``distribution version`` for messages and result records."""
        return f"{self.distribution} {self.version}".strip()

    def load(self) -> Any:
        """Import the plugin object; a failure becomes a :class:`PluginLoadError`."""
        if self in _IN_PROCESS_OBJECTS:
            return _IN_PROCESS_OBJECTS[self]
        if self.conflicts:
            others = " and ".join(f"{o.label} ({o.target})" for o in self.conflicts)
            raise PluginLoadError(
                f"two installed distributions register the {self.kind} plugin {self.name!r}: "
                f"{self.label} ({self.target}) and {others}.",
                fix="Uninstall one of them (pip uninstall NAME), or ask one author to rename the plugin.",
            )
        return _load(self)

    def provenance(self) -> dict[str, str]:
        """Where this plugin comes from: kind, name, distribution, version and entry-point target."""
        return {
            "kind": self.kind,
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "target": self.target,
        }


class PluginLoadError(UserError):
    """A plugin that is registered but cannot be used: it fails to import, is not a valid plugin, or two
    distributions register its name."""


def _dist_of(ep: EntryPoint) -> tuple[str, str]:
    dist = ep.dist
    if dist is None:
        return ("unknown", "")
    return (dist.metadata["Name"] or "unknown", dist.version or "")


@cache
def discover() -> dict[Kind, dict[str, PluginInfo]]:
    """All registered plugins by kind and name, read from entry-point metadata only.

    A name registered by two distributions under one kind is listed once, with the others in
    ``conflicts``; loading it is an error naming both, while every other plugin stays usable.
    The same distribution seen twice on ``sys.path`` counts once (the first, as Python imports it).
    """
    found: dict[Kind, dict[str, PluginInfo]] = {kind: {} for kind in KINDS}
    for kind in KINDS:
        for ep in entry_points(group=GROUP_PREFIX + kind):
            dist, version = _dist_of(ep)
            info = PluginInfo(kind, ep.name, ep.value, dist, version)
            first = found[kind].get(ep.name)
            if first is None:
                found[kind][ep.name] = info
            elif first.distribution != dist and all(o.distribution != dist for o in first.conflicts):
                found[kind][ep.name] = PluginInfo(
                    kind, ep.name, first.target, first.distribution, first.version, (*first.conflicts, info)
                )
    return found


def available(kind: Kind) -> dict[str, PluginInfo]:
    """The plugins of one kind, by name (no imports)."""
    return {**discover()[kind], **_IN_PROCESS[kind]}


_IN_PROCESS: dict[Kind, dict[str, PluginInfo]] = {kind: {} for kind in KINDS}
_IN_PROCESS_OBJECTS: dict[PluginInfo, Any] = {}


@contextmanager
def in_process(kind: Kind, name: str, obj: Any) -> Iterator[PluginInfo]:
    """Make ``obj`` the ``kind`` plugin ``name`` in this process while the block runs (it need not be
    installed; it hides an installed one of that name). The conformance kit runs classes through the
    engine with it; Ray workers do not see it."""
    problems = contract_problems(kind, name, obj)
    if problems:
        raise PluginLoadError(f"{obj!r} is not a valid {kind} plugin {name!r}: {'; '.join(problems)}.")
    info = PluginInfo(kind, name, f"{obj.__module__}:{obj.__qualname__}", "(in-process)", "")
    previous = _IN_PROCESS[kind].get(name)
    previous_obj = _IN_PROCESS_OBJECTS.get(info)  # the same registration nested: keep the outer one
    _IN_PROCESS[kind][name] = info
    _IN_PROCESS_OBJECTS[info] = obj
    try:
        yield info
    finally:
        if previous_obj is None:
            del _IN_PROCESS_OBJECTS[info]
        if previous is None:
            del _IN_PROCESS[kind][name]
        else:
            _IN_PROCESS[kind][name] = previous


def lookup(kind: Kind, name: str, *, where: str | None = None) -> PluginInfo:
    """The plugin registered as ``name``; an unknown name gets a "did you mean" error."""
    plugins = available(kind)
    if name in plugins:
        return plugins[name]
    close = difflib.get_close_matches(name, list(plugins), n=3, cutoff=0.5)
    hint = f"Did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    known = ", ".join(sorted(plugins)) or "none"
    raise UserError(
        f"there is no {kind} plugin named {name!r}.",
        where=where,
        fix=f"{hint}Installed {kind} plugins: {known}. Run `asc-bench plugins` to list every plugin, "
        "or install the package that provides it.",
    )


def load(kind: Kind, name: str, *, where: str | None = None) -> Any:
    """Import and return the plugin object (class) registered as ``name``."""
    info = lookup(kind, name, where=where)
    if where is None:
        return info.load()
    try:
        return info.load()
    except PluginLoadError as exc:
        raise PluginLoadError(str(exc), where=where) from exc.__cause__


def build(kind: Kind, config: Any, *, where: str, **kwargs: Any) -> Any:
    """Construct the plugin named by ``config.type`` from its validated config.

    A ``ValueError`` from the plugin's constructor (settings that are valid one by one but not together,
    e.g. a mel band above the Nyquist frequency) becomes a :class:`UserError` naming the spec field.
    """
    cls = load(kind, config.type, where=where)
    try:
        return cls(config, **kwargs)
    except ValueError as exc:
        raise UserError(f"{where} ({config.type}): {exc}.", fix="Change these settings in the spec.") from None


def provenance(kind: Kind, name: str) -> dict[str, str]:
    """Distribution, version and target of a registered plugin (for result records)."""
    return lookup(kind, name).provenance()


@cache
def _load(info: PluginInfo) -> Any:
    module_name, _, attr = info.target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split(".") if attr else []:
            obj = getattr(obj, part)
    except Exception as exc:  # any import-time failure of third-party code is reported, not raised raw
        raise PluginLoadError(
            f"the {info.kind} plugin {info.name!r} from {info.label} ({info.target}) failed to import: "
            f"{type(exc).__name__}: {exc}.",
            fix=f"Reinstall or upgrade {info.distribution}, or uninstall it if you do not need it.",
        ) from exc
    problems = contract_problems(info.kind, info.name, obj)
    if problems:
        raise PluginLoadError(
            f"the {info.kind} plugin {info.name!r} ({info.target}, from {info.label}) is not a valid "
            f"plugin: {'; '.join(problems)}.",
            fix="See docs/plugins.md for the plugin contract, and check it with asc_bench.testing.",
        )
    return obj


def contract_problems(kind: Kind, name: str, obj: Any) -> list[str]:
    """What makes ``obj`` unusable as the ``kind`` plugin ``name`` (empty when it fits the contract).

    Checked without running the plugin: a ``Config`` that subclasses :class:`asc_bench.api.PluginConfig`
    with ``type: Literal["<name>"]`` and a JSON Schema; a class that subclasses the kind's API base
    (``torch.nn.Module`` too for models), or a factory (a non-class callable) returning one.
    """
    import asc_bench.api as api

    problems = []
    config = getattr(obj, "Config", None)
    type_field = getattr(config, "model_fields", {}).get("type")
    if not (inspect.isclass(config) and issubclass(config, api.PluginConfig)):
        problems.append("its `Config` must be a subclass of asc_bench.api.PluginConfig")
    if type_field is None or get_args(type_field.annotation) != (name,):
        problems.append(f'its `Config` needs a field `type: Literal["{name}"]`')
    elif kind == "trainer" and not {"epochs", "batch_size"} <= set(config.model_fields):
        problems.append("its `Config` needs `epochs` and `batch_size` (subclass asc_bench.api.TrainerConfig)")
    elif not problems:
        try:
            config.model_json_schema()
        except Exception as exc:  # a config the schema cannot describe breaks `asc-bench schema`
            problems.append(f"its `Config` has no JSON Schema ({type(exc).__name__}: {exc})")
    if inspect.isclass(obj):
        base = getattr(api, _API_BASE[kind])
        if not issubclass(obj, base):
            problems.append(f"{obj.__name__} must subclass asc_bench.api.{base.__name__}")
        if kind == "model":
            import torch

            if not issubclass(obj, torch.nn.Module):
                problems.append(f"{obj.__name__} must subclass torch.nn.Module")
    elif not callable(obj):
        problems.append("it must be a class (or a factory function)")
    return problems


def contract_warnings(obj: Any) -> list[str]:
    """Documentation gaps: no docstring (shown by `asc-bench plugins`), options without a description
    (shown by editors through `asc-bench schema`)."""
    warnings = []
    if not description(obj):
        warnings.append("no docstring (its first line is the description `asc-bench plugins` shows)")
    fields = getattr(getattr(obj, "Config", None), "model_fields", {})
    undocumented = [f for f, info in fields.items() if f != "type" and not info.description]
    if undocumented:
        warnings.append(f"options without a description: {', '.join(undocumented)}")
    return warnings


@dataclass(frozen=True)
class CheckResult:
    """The outcome of importing and checking one registered plugin."""

    info: PluginInfo
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    description: str


def check_installed() -> list[CheckResult]:
    """Import and check every registered plugin (for ``asc-bench plugins --check``)."""
    results = []
    for kind in KINDS:
        for _, info in sorted(available(kind).items()):
            try:
                obj = info.load()
            except PluginLoadError as exc:
                results.append(CheckResult(info, (str(exc),), (), ""))
                continue
            results.append(CheckResult(info, (), tuple(contract_warnings(obj)), description(obj)))
    return results


def description(obj: Any) -> str:
    """The first line of a plugin's docstring."""
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else ""
