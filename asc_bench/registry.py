"""Plugin discovery through entry points: listing without importing, lazy loading, clear errors."""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Literal, get_args

from asc_bench.errors import UserError

Kind = Literal["dataset", "cache", "transform", "model", "trainer"]
KINDS: tuple[Kind, ...] = get_args(Kind)
GROUP_PREFIX = "asc_bench."


@dataclass(frozen=True)
class PluginInfo:
    """One registered plugin, known from its entry point alone (nothing imported)."""

    kind: Kind
    name: str
    target: str  # "module:object"
    distribution: str
    version: str

    def load(self) -> Any:
        """Import the plugin object; a failure becomes a :class:`PluginLoadError`."""
        return _load(self)


class PluginLoadError(UserError):
    """A plugin that is registered but cannot be imported or is not a valid plugin."""


def _dist_of(ep: EntryPoint) -> tuple[str, str]:
    dist = ep.dist
    if dist is None:
        return ("unknown", "")
    return (dist.metadata["Name"] or "unknown", dist.version or "")


@cache
def discover() -> dict[Kind, dict[str, PluginInfo]]:
    """All registered plugins by kind and name, read from entry-point metadata only.

    Two distributions registering one name under one kind is an error naming both.
    """
    found: dict[Kind, dict[str, PluginInfo]] = {kind: {} for kind in KINDS}
    for kind in KINDS:
        seen_eps: set[tuple[str, str]] = set()
        for ep in entry_points(group=GROUP_PREFIX + kind):
            dist, version = _dist_of(ep)
            if (ep.name, ep.value) in seen_eps:  # the same distribution seen twice on sys.path
                continue
            seen_eps.add((ep.name, ep.value))
            info = PluginInfo(kind, ep.name, ep.value, dist, version)
            other = found[kind].get(ep.name)
            if other is not None and other.distribution != dist:
                raise UserError(
                    f"two installed distributions register the {kind} plugin {ep.name!r}: "
                    f"{other.distribution} {other.version} ({other.target}) and {dist} {version} "
                    f"({ep.value}).",
                    fix="Uninstall one of them (pip uninstall NAME), or ask one author to rename the plugin.",
                )
            found[kind][ep.name] = info
    return found


def available(kind: Kind) -> dict[str, PluginInfo]:
    """The plugins of one kind, by name (no imports)."""
    return discover()[kind]


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
    return lookup(kind, name, where=where).load()


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


@cache
def _load(info: PluginInfo) -> Any:
    module_name, _, attr = info.target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split(".") if attr else []:
            obj = getattr(obj, part)
    except Exception as exc:  # any import-time failure of third-party code is reported, not raised raw
        raise PluginLoadError(
            f"the {info.kind} plugin {info.name!r} from {info.distribution} {info.version} "
            f"({info.target}) failed to import: {type(exc).__name__}: {exc}.",
            fix=f"Reinstall or upgrade {info.distribution}, or uninstall it if you do not need it.",
        ) from exc
    config = getattr(obj, "Config", None)
    type_field = getattr(config, "model_fields", {}).get("type")
    if type_field is None or get_args(type_field.annotation) != (info.name,):
        raise PluginLoadError(
            f"the {info.kind} plugin {info.name!r} ({info.target}, from {info.distribution}) has no "
            f'valid `Config`: it needs a pydantic model with a field `type: Literal["{info.name}"]`.',
            fix="See docs/plugins.md for the plugin contract.",
        )
    return obj


def description(obj: Any) -> str:
    """The first line of a plugin's docstring."""
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else ""
