"""Shared pieces of the conformance kit: failures that name the plugin, config checks, example configs."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from asc_bench.api import PluginConfig
from asc_bench.plugins import registry


class ConformanceError(AssertionError):
    """A plugin does not behave as the plugin contract requires (pytest shows the message)."""


def fail(cls: Any, problem: str) -> typing.NoReturn:
    """Raise a :class:`ConformanceError` naming the plugin class."""
    raise ConformanceError(f"{getattr(cls, '__qualname__', cls)}: {problem}")


def expect(condition: bool, cls: Any, problem: str) -> None:
    """Fail with ``problem`` unless ``condition`` holds."""
    if not condition:
        fail(cls, problem)


def plugin_name(cls: Any) -> str:
    """The registered name a plugin's ``Config`` declares (``type: Literal["<name>"]``)."""
    field = getattr(getattr(cls, "Config", None), "model_fields", {}).get("type")
    args = typing.get_args(field.annotation) if field is not None else ()
    expect(len(args) == 1 and isinstance(args[0], str), cls, 'its Config needs a field `type: Literal["<name>"]`')
    return args[0]


def check_config(cls: Any, kind: registry.Kind) -> str:
    """The static contract of a plugin class of ``kind``; returns its name.

    The same checks ``asc-bench plugins --check`` makes (a :class:`~asc_bench.api.PluginConfig` subclass
    with ``type: Literal["<name>"]`` and a JSON Schema; the kind's API base class), plus documentation: a
    docstring and a description on every option (editors show them through ``asc-bench schema``), and
    unknown options refused.
    """
    name = plugin_name(cls)
    problems = registry.contract_problems(kind, name, cls) + registry.contract_warnings(cls)
    expect(not problems, cls, "; ".join(problems))
    try:
        cls.Config.model_validate({"type": name, "no_such_option_": 1})
    except ValidationError as exc:
        extra = [e for e in exc.errors() if e["type"] == "extra_forbidden"]
        expect(bool(extra), cls, "its Config must refuse unknown options (keep PluginConfig's extra='forbid')")
    else:
        fail(cls, "its Config accepted an unknown option (keep PluginConfig's extra='forbid')")
    schema = cls.Config.model_json_schema()
    described = {k for k, v in schema.get("properties", {}).items() if v.get("description")}
    expect(
        described >= set(cls.Config.model_fields) - {"type"},
        cls,
        "the JSON Schema of its Config lacks option descriptions",
    )
    return name


def example_config(cls: Any, **required: Any) -> PluginConfig | None:
    """The plugin's default configuration, with ``required`` filling options that have no default.

    Only the keys of ``required`` that the Config has are used (e.g. ``root=`` for datasets). Returns
    ``None`` when the Config still needs settings.
    """
    name = plugin_name(cls)
    fields = cls.Config.model_fields
    data = {"type": name, **{k: v for k, v in required.items() if k in fields}}
    try:
        return cls.Config.model_validate(data)
    except ValidationError:
        return None


def config_for(cls: Any, config: BaseModel | dict[str, Any] | None) -> PluginConfig:
    """``config`` validated against the plugin's Config (a dict, a Config instance, or None for defaults)."""
    name = plugin_name(cls)
    if config is None:
        config = {}
    if isinstance(config, BaseModel):
        config = config.model_dump()
    try:
        return cls.Config.model_validate({"type": name, **config})
    except ValidationError as exc:
        fail(cls, f"cannot build its Config from {config!r}: {exc}")
