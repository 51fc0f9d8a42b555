"""The spec: pydantic models built at run time from the plugins a spec names, YAML loading with
positions, ``--set`` overrides and the canonical spec hash."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from asc_bench.core.errors import UserError
from asc_bench.model.complexity import Limits
from asc_bench.plugins import registry
from asc_bench.spec.space import check_space
from asc_bench.spec.tune import Resources, TuneSection  # noqa: F401 - Resources: public via spec
from asc_bench.spec.yaml_positions import PathKey, Position, load_yaml

PLUGIN_SLOTS: dict[tuple[str, ...], registry.Kind] = {
    ("data", "dataset"): "dataset",
    ("data", "cache"): "cache",
    ("model",): "model",
    ("trainer",): "trainer",
}
TRANSFORMS_PATH = ("data", "transforms")
DEFAULT_CACHE = {"type": "memmap"}
NON_SEMANTIC_TOP_LEVEL = ("name", "seeds", "tune", "output", "description")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuntimeSection(StrictModel):
    """How a trial computes (part of the spec hash: these change floating-point results slightly)."""

    channels_last: bool = Field(
        True, description="Run the model in channels-last memory format (faster convolutions on CPU)."
    )
    compile: bool = Field(
        False, description="torch.compile the model for training (slower start, faster steps; needs a C compiler)."
    )


class OutputSection(StrictModel):
    """Where results go (not part of the spec hash)."""

    dir: Path = Field(Path("runs"), description="Experiments are written to DIR/<spec name>/.")


def _plugin_union(kind: registry.Kind, names: list[str]) -> Any:
    """The config type for a plugin slot: one class, or a union discriminated on ``type``."""
    configs = [registry.load(kind, name).Config for name in dict.fromkeys(names)]
    if not configs:  # the slot is absent from the spec: validation reports it as missing
        return Any
    if len(configs) == 1:  # pydantic needs two or more members for a discriminated union
        return configs[0]
    return Annotated[Union[tuple(configs)], Field(discriminator="type")]  # noqa: UP007


def build_spec_model(names: dict[registry.Kind, list[str]]) -> type[BaseModel]:
    """The pydantic spec model whose plugin slots accept exactly the named plugins' configs."""
    data_model = create_model(
        "DataSection",
        __base__=StrictModel,
        dataset=(_plugin_union("dataset", names["dataset"]), ...),
        sample_rate=(int, Field(32000, gt=0, description="Working sample rate (Hz); audio is resampled.")),
        cache=(_plugin_union("cache", names["cache"]), ...),
        transforms=(
            list[_plugin_union("transform", names["transform"])] if names["transform"] else list[Any],
            Field(default_factory=list, description="The ordered pipeline: waveform -> features -> batch."),
        ),
        eval_batch_size=(int, Field(256, gt=0, description="Batch size for evaluation and cache building.")),
    )
    return create_model(
        "Spec",
        __base__=StrictModel,
        name=(str, Field(..., pattern=r"^[A-Za-z0-9_.-]+$", description="Experiment name (a folder name).")),
        description=(str, Field("", description="Free text: what this spec reproduces.")),
        seeds=(list[int], Field([0], min_length=1, description="One trial per seed.")),
        data=(data_model, ...),
        model=(_plugin_union("model", names["model"]), ...),
        trainer=(_plugin_union("trainer", names["trainer"]), ...),
        limits=(Limits, Field(default_factory=Limits)),
        tune=(TuneSection, Field(default_factory=TuneSection)),
        runtime=(RuntimeSection, Field(default_factory=RuntimeSection)),
        output=(OutputSection, Field(default_factory=OutputSection)),
    )


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for key in path:
        if (
            isinstance(data, dict)
            and key in data
            or isinstance(data, list)
            and isinstance(key, int)
            and 0 <= key < len(data)
        ):
            data = data[key]
        else:
            return None
    return data


def _plugin_type(value: Any, where: str, kind: str) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise UserError(
            f"{where} must be a mapping with a `type` naming a {kind} plugin.",
            fix=f"For example `{where.rsplit('.', 1)[-1]}: {{type: NAME, ...}}`; `asc-bench plugins` lists names.",
        )
    return value["type"]


def _named_plugins(raw: dict[str, Any], source: str, positions: dict[PathKey, Position]) -> dict:
    names: dict[registry.Kind, list[str]] = {kind: [] for kind in registry.KINDS}
    for path, kind in PLUGIN_SLOTS.items():
        value = _get(raw, path)
        if value is None:
            continue
        where = _where(source, positions, path, ".".join(map(str, path)))
        name = _plugin_type(value, where, kind)
        registry.load(kind, name, where=_where(source, positions, (*path, "type"), ".".join(path) + ".type"))
        names[kind].append(name)
    transforms = _get(raw, TRANSFORMS_PATH)
    for i, item in enumerate(transforms if isinstance(transforms, list) else []):
        path = (*TRANSFORMS_PATH, i)
        label = f"data.transforms[{i}]"
        name = _plugin_type(item, _where(source, positions, path, label), "transform")
        registry.load("transform", name, where=_where(source, positions, (*path, "type"), label + ".type"))
        names["transform"].append(name)
    return names


def _where(source: str, positions: dict[PathKey, Position], path: PathKey, field: str) -> str:
    for cut in range(len(path), -1, -1):
        if path[:cut] in positions:
            line, col = positions[path[:cut]]
            return f"{source}:{line}:{col}: {field}"
    return f"{source}: {field}"


def _error_path(raw: Any, loc: tuple[Any, ...]) -> PathKey:
    """Map a pydantic error location to a path in the raw data (dropping union tags)."""
    path: list[str | int] = []
    node = raw
    for key in loc:
        if (
            isinstance(node, dict)
            and key in node
            or isinstance(node, list)
            and isinstance(key, int)
            and 0 <= key < len(node)
        ):
            node = node[key]
            path.append(key)
        elif isinstance(node, dict) and node.get("type") == key:
            continue  # the discriminator tag pydantic inserts for unions
        else:
            path.append(key)
            node = None
    return tuple(path)


def _format_errors(exc: ValidationError, raw: Any, source: str, positions: dict[PathKey, Position]) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        path = _error_path(raw, err["loc"])
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "(top)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field (remove it or fix its spelling)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif "input" in err and err["type"] not in ("missing",):
            msg = f"{msg} (got {err['input']!r})"
        parts.append(f"{_where(source, positions, path, field)}: {msg}")
    return "; ".join(parts)


def validate_spec(raw: Any, *, source: str = "<spec>", positions: dict[PathKey, Position] | None = None) -> BaseModel:
    """Validate spec data (already parsed) and return the typed spec; errors name file:line:col and field."""
    positions = positions or {}
    if not isinstance(raw, dict):
        raise UserError("a spec must be a YAML mapping (name:, data:, model:, trainer: ...).", where=source)
    raw = copy.deepcopy(raw)
    if isinstance(raw.get("data"), dict):
        raw["data"].setdefault("cache", dict(DEFAULT_CACHE))
    names = _named_plugins(raw, source, positions)
    model = build_spec_model(names)
    try:
        spec = model.model_validate(raw)
    except ValidationError as exc:
        raise UserError(
            "the spec is invalid: " + _format_errors(exc, raw, source, positions) + ".",
            fix="Run `asc-bench schema` for every field, or see docs/specs.md.",
        ) from None
    check_space(
        spec.tune.space,  # type: ignore[attr-defined]
        full=spec.model_dump(mode="json"),
        semantic=semantic_dict(spec),
        where=lambda key: _where(source, positions, ("tune", "space", key), f"tune.space.{key}"),
    )
    return spec


def parse_override(text: str) -> tuple[list[str | int], Any]:
    """Split ``a.b.0.c=value`` into a path and a YAML-parsed value."""
    if "=" not in text:
        raise UserError(f"--set {text!r} is not of the form path=value.", fix="Use e.g. --set trainer.epochs=2.")
    key, _, value_text = text.partition("=")
    path: list[str | int] = [int(p) if p.isdigit() else p for p in key.strip().split(".")]
    try:
        value = yaml.safe_load(value_text) if value_text.strip() else ""
    except yaml.YAMLError:
        value = value_text
    return path, value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``--set`` overrides to spec data (a new dict; the input is unchanged)."""
    raw = copy.deepcopy(raw)
    for text in overrides:
        path, value = parse_override(text)
        node: Any = raw
        for i, key in enumerate(path[:-1]):
            nxt = path[i + 1]
            if isinstance(node, list):
                if not isinstance(key, int) or key >= len(node):
                    raise UserError(f"--set {text}: index {key} is out of range.", fix="Check the list length.")
                node = node[key]
            else:
                node = node.setdefault(key, [] if isinstance(nxt, int) else {})
        last = path[-1]
        if isinstance(node, list) and isinstance(last, int) and last < len(node) or isinstance(node, dict):
            node[last] = value
        else:
            raise UserError(f"--set {text}: cannot set {last!r} there.", fix="Check the path.")
    return raw


def load_spec(path: Path, overrides: list[str] | None = None) -> BaseModel:
    """Load, override and validate a spec file."""
    raw, positions = load_yaml(path)
    if overrides:
        if not isinstance(raw, dict):
            raise UserError("a spec must be a YAML mapping.", where=str(path))
        raw = apply_overrides(raw, overrides)
    return validate_spec(raw, source=str(path), positions=positions)


def resolve_for_run(spec: BaseModel) -> BaseModel:
    """The spec as trials must see it: every plugin config ``resolved()`` (absolute paths, fixed
    defaults), an absolute output folder and the hash of each teacher spec (validated here). Its hash is
    unchanged by the paths (they are not semantic)."""
    from asc_bench.run.teachers import with_teacher_hashes

    data = spec.data  # type: ignore[attr-defined]
    new_data = data.model_copy(
        update={
            "dataset": data.dataset.resolved(),
            "cache": data.cache.resolved(),
            "transforms": [t.resolved() for t in data.transforms],
        }
    )
    output = spec.output.model_copy(update={"dir": spec.output.dir.expanduser().absolute()})  # type: ignore[attr-defined]
    resolved = spec.model_copy(
        update={
            "data": new_data,
            "model": spec.model.resolved(),  # type: ignore[attr-defined]
            "trainer": spec.trainer.resolved(),  # type: ignore[attr-defined]
            "output": output,
        }
    )
    return with_teacher_hashes(resolved)


def _strip_non_semantic(model: BaseModel, dumped: dict[str, Any]) -> dict[str, Any]:
    out = {}
    unused = model.unused_fields() if hasattr(model, "unused_fields") else set()
    for name, field in type(model).model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if extra.get("semantic") is False or name not in dumped or name in unused:
            continue
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            out[name] = _strip_non_semantic(value, dumped[name])
        elif isinstance(value, list):
            out[name] = [
                _strip_non_semantic(v, d) if isinstance(v, BaseModel) else d
                for v, d in zip(value, dumped[name], strict=True)
            ]
        else:
            out[name] = dumped[name]
    return out


def semantic_dict(spec: BaseModel) -> dict[str, Any]:
    """The fields that determine results (no name, seeds, output, paths)."""
    dumped = spec.model_dump(mode="json")
    out = _strip_non_semantic(spec, dumped)
    for key in NON_SEMANTIC_TOP_LEVEL:
        out.pop(key, None)
    return out


def spec_hash(spec: BaseModel) -> str:
    """A short canonical hash of the spec's semantic fields (the leaderboard groups seeds by it)."""
    canonical = json.dumps(semantic_dict(spec), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def plugins_used(spec: BaseModel) -> list[dict[str, str]]:
    """Kind, name, distribution, version and entry point of every plugin a validated spec names (in spec
    order, each once), for result records."""
    data = spec.model_dump(mode="json")
    used = [(kind, _get(data, path)["type"]) for path, kind in PLUGIN_SLOTS.items() if _get(data, path)]
    used += [("transform", item["type"]) for item in _get(data, TRANSFORMS_PATH) or []]
    return [registry.provenance(kind, name) for kind, name in dict.fromkeys(used)]


def full_schema() -> dict[str, Any]:
    """JSON Schema of a spec that may use every installed plugin (skipping ones that fail to import)."""
    names: dict[registry.Kind, list[str]] = {}
    for kind in registry.KINDS:
        names[kind] = []
        for name, info in registry.available(kind).items():
            try:
                info.load()
            except registry.PluginLoadError:
                continue
            names[kind].append(name)
    schema = build_spec_model(names).model_json_schema()
    schema["title"] = "asc-bench spec"
    return schema
