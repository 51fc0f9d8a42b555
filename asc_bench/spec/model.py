"""The typed spec: :class:`Spec` declares every section, and :func:`build_spec_model` narrows its plugin slots to
the configs of exactly the plugins a spec names (a discriminated union on ``type`` where a slot has several)."""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field, SerializerFunctionWrapHandler, create_model, field_validator, model_serializer

from asc_bench.api.config import PluginConfig
from asc_bench.api.trainer import TrainerConfig
from asc_bench.core.strict import StrictModel
from asc_bench.plugins import registry
from asc_bench.spec.limits import Limits
from asc_bench.spec.sections import DataSection, OutputSection, RuntimeSection
from asc_bench.spec.tracking import TrackingSection
from asc_bench.spec.tune import TuneSection

PLUGIN_SLOTS: dict[tuple[str, ...], registry.Kind] = {
    ("data", "dataset"): "dataset",
    ("data", "cache"): "cache",
    ("model",): "model",
    ("trainer",): "trainer",
}
TRANSFORMS_PATH = ("data", "transforms")


class Spec(StrictModel):
    """A validated spec. Its plugin slots hold the named plugins' own config classes."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$", description="Experiment name (a folder name).")
    description: str = Field("", description="Free text: what this spec reproduces.")
    seeds: list[int] = Field([0], min_length=1, description="One trial per seed.")
    data: DataSection
    model: PluginConfig
    trainer: TrainerConfig
    limits: Limits = Field(default_factory=Limits)
    tune: TuneSection = Field(default_factory=TuneSection)
    runtime: RuntimeSection = Field(default_factory=RuntimeSection)
    output: OutputSection = Field(default_factory=OutputSection)
    tracking: TrackingSection = Field(
        default_factory=TrackingSection,
        description="Experiment trackers (MLflow, W&B): docs/tracking.md. Not part of the spec hash.",
        json_schema_extra={"semantic": False},
    )

    @model_serializer(mode="wrap")
    def _without_empty_tracking(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Dumps leave out an empty ``tracking`` section: records and experiment states written before it existed
        compare equal."""
        data = handler(self)
        if self.tracking.is_empty():
            data.pop("tracking", None)
        return data

    @field_validator("name")
    @classmethod
    def _a_folder_inside_the_output(cls, name: str) -> str:
        if name in (".", ".."):
            raise ValueError(
                f"{name!r} cannot name an experiment: its folder output.dir/{name} would be the output folder itself "
                "or its parent; use a name with a letter or digit, e.g. quickstart"
            )
        return name

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: list[int]) -> list[int]:
        repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
        if repeated:
            raise ValueError(
                f"seed {', '.join(map(str, repeated))} is listed more than once: the same seed trains the same model "
                "again; list each seed once"
            )
        return seeds


def _plugin_union(kind: registry.Kind, names: list[str]) -> Any:
    """The config type for a plugin slot: one class, or a union discriminated on ``type``."""
    configs = [registry.load(kind, name).Config for name in dict.fromkeys(names)]
    if not configs:  # the slot is absent from the spec: validation reports it as missing
        return Any
    if len(configs) == 1:  # pydantic needs two or more members for a discriminated union
        return configs[0]
    return Annotated[Union[tuple(configs)], Field(discriminator="type")]  # noqa: UP007


def build_spec_model(names: dict[registry.Kind, list[str]]) -> type[Spec]:
    """The spec model whose plugin slots accept exactly the named plugins' configs."""
    transforms = list[_plugin_union("transform", names["transform"])] if names["transform"] else list[Any]
    data_model = create_model(
        "DataSection",
        __base__=DataSection,
        dataset=(_plugin_union("dataset", names["dataset"]), ...),
        cache=(_plugin_union("cache", names["cache"]), ...),
        transforms=(transforms, DataSection.model_fields["transforms"]),
    )
    return create_model(
        "Spec",
        __base__=Spec,
        data=(data_model, ...),
        model=(_plugin_union("model", names["model"]), ...),
        trainer=(_plugin_union("trainer", names["trainer"]), ...),
    )


def installed_plugin_names() -> dict[registry.Kind, list[str]]:
    """Every installed plugin of every kind that imports (for the schema of a spec that may use any of them)."""
    names: dict[registry.Kind, list[str]] = {}
    for kind in registry.KINDS:
        names[kind] = []
        for name, info in registry.available(kind).items():
            try:
                info.load()
            except registry.PluginLoadError:
                continue
            names[kind].append(name)
    return names


def full_schema() -> dict[str, Any]:
    """JSON Schema of a spec that may use every installed plugin (skipping ones that fail to import)."""
    schema = build_spec_model(installed_plugin_names()).model_json_schema()
    schema["title"] = "asc-bench spec"
    schema["properties"]["extends"] = {  # read before validation (spec/compose.py), so no field of Spec
        "description": "Base spec(s) merged in first: paths relative to this file, or recipe:NAME.",
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    }
    return schema


def plugins_used(spec: Spec) -> list[dict[str, str]]:
    """Kind, name, distribution, version and entry point of every plugin a validated spec names (in spec
    order, each once), for result records."""
    used: list[tuple[registry.Kind, str]] = [
        ("dataset", spec.data.dataset.type),
        ("cache", spec.data.cache.type),
        ("model", spec.model.type),
        ("trainer", spec.trainer.type),
    ]
    used += [("transform", item.type) for item in spec.data.transforms]
    return [registry.provenance(kind, name) for kind, name in dict.fromkeys(used)]
