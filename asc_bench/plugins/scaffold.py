"""``asc-bench plugin new``: write a complete, installable plugin package from the templates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from asc_bench.core.errors import UserError
from asc_bench.core.files import atomic_folder
from asc_bench.plugins import registry

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
DEFAULT_SPEC = {
    "dataset": "{type: tau22, root: data/synth}",
    "cache": "{type: memmap}",
    "model": "{type: baseline2024}",
    "trainer": "{type: supervised, epochs: 3, batch_size: 64, schedule: {type: cosine, warmup_steps: 10}}",
}
TRANSFORMS = ["{type: roll, max_shift_s: 0.1}", "{type: mel, n_mels: 128}", "{type: freq_mask, max_bins: 16}"]
SYNTH_NOTE = (
    "# It trains on the small synthetic dataset; write it first (a few seconds):\n#   asc-bench data synth data/synth"
)


@dataclass(frozen=True)
class PluginNames:
    """The names of a new plugin package, derived from the plugin name."""

    name: str  # the spec's `type`, e.g. my_cnn
    kind: registry.Kind
    dist: str  # the distribution, e.g. asc-bench-my-cnn
    package: str  # the import package, e.g. asc_bench_my_cnn
    cls: str  # the plugin class, e.g. MyCnn


def names_for(name: str, kind: registry.Kind) -> PluginNames:
    """Distribution, package and class names for plugin ``name``; a bad name is a :class:`UserError`."""
    if kind not in registry.KINDS:
        raise UserError(f"--kind {kind!r} is not a plugin kind.", fix=f"Use one of: {', '.join(registry.KINDS)}.")
    if not NAME_PATTERN.match(name):
        raise UserError(
            f"{name!r} is not a valid plugin name: use lower-case letters, digits, underscores and hyphens, "
            "starting with a letter (at most 40 characters).",
            fix="For example `asc-bench plugin new my_cnn --kind model`.",
        )
    name = name.replace("-", "_")  # acme-net: distribution asc-bench-acme-net, module and spec type acme_net
    cls = "".join(part.capitalize() for part in name.split("_") if part)
    return PluginNames(name, kind, f"asc-bench-{name.replace('_', '-')}", f"asc_bench_{name}", cls)


def _spec_values(n: PluginNames) -> dict[str, str]:
    slots = dict(DEFAULT_SPEC)
    transforms = list(TRANSFORMS)
    note = SYNTH_NOTE
    own = f"{{type: {n.name}}}"
    if n.kind == "transform":
        transforms.insert(1, own)  # a waveform augmentation: before the mel front end
    elif n.kind == "trainer":
        slots["trainer"] = f"{{type: {n.name}, epochs: 3, batch_size: 64}}"
    else:
        slots[n.kind] = own
    if n.kind == "dataset":
        note = "# The dataset generates its audio, so no data is needed:"
    usage = f"`data.transforms: [..., {own}, ...]`" if n.kind == "transform" else f"`{n.kind}: {own}`"
    if n.kind in ("dataset", "cache"):
        usage = f"`data.{n.kind}: {own}`"
    return {
        **slots,
        "transforms": "\n".join(f"    - {t}" for t in transforms),
        "data_note": note,
        "usage": usage,
        "try_data": "" if n.kind == "dataset" else "asc-bench data synth data/synth   # a small synthetic dataset\n",
    }


def _files(n: PluginNames) -> dict[str, str]:
    """Output path → template name."""
    return {
        "pyproject.toml": "pyproject.toml.tmpl",
        "README.md": "README.md.tmpl",
        ".gitignore": "gitignore.tmpl",
        f"src/{n.package}/__init__.py": "init.py.tmpl",
        f"src/{n.package}/{n.kind}.py": f"{n.kind}.py.tmpl",
        "specs/example.yaml": "spec.yaml.tmpl",
        f"tests/test_{n.name}.py": "test_plugin.py.tmpl",
    }


def render(template: str, values: dict[str, str]) -> str:
    """Fill ``{{key}}`` placeholders; every placeholder must have a value."""
    missing = sorted({key for key in PLACEHOLDER.findall(template) if key not in values})
    if missing:
        raise KeyError(f"template placeholders without a value: {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def scaffold_plugin(name: str, kind: registry.Kind = "model", parent: Path = Path(".")) -> tuple[Path, list[str]]:
    """Write the package for a new ``kind`` plugin ``name`` into ``parent/asc-bench-<name>/``.

    Returns the package folder and the files written (relative to it). The folder is written under a
    temporary name and renamed when complete, so a failure leaves nothing behind. Refuses an existing
    folder and a name an installed plugin of that kind already has.
    """
    n = names_for(name, kind)
    installed = registry.available(kind).get(n.name)
    if installed is not None:
        raise UserError(
            f"a {kind} plugin named {n.name!r} is already installed (from {installed.label}).",
            fix="Choose another name: specs name plugins by it, so it must be unique among installed plugins.",
        )
    target = Path(parent).expanduser().absolute() / n.dist
    if target.exists():
        raise UserError(f"{target} already exists.", fix="Choose another name or folder (--dir), or remove it.")
    values = {
        "name": n.name,
        "kind": n.kind,
        "dist": n.dist,
        "package": n.package,
        "Class": n.cls,
        "asc_bench_version": _own_version(),
        **_spec_values(n),
    }
    templates = resources.files("asc_bench.plugins") / "templates"
    files = _files(n)
    try:
        with atomic_folder(target) as tmp:
            for relative, template in files.items():
                path = tmp / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                text = render(templates.joinpath(template).read_text(encoding="utf-8"), values)
                path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(
            f"writing the package {target} failed: {exc.strerror or exc}. Nothing was left behind.",
            fix="Free disk space or choose a writable --dir.",
        ) from None
    return target, sorted(files)


def _own_version() -> str:
    try:
        return metadata.version("asc-bench")
    except metadata.PackageNotFoundError:
        return "0.1"
