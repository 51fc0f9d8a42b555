"""Complexity accounting: MACs, parameters and parameter bytes under torchinfo's conventions, and limits.

Counts follow the DCASE rules (docs/dcase.md §2): ``torchinfo.summary`` at batch 1 on one clip's input shape,
``total_mult_adds`` and ``total_params``. A second, independent count from PyTorch's ``FlopCounterMode``
(FLOPs / 2 of the convolutions and matrix products actually executed) is kept per layer, and layers where the
two disagree carry the reason, so that a surprising count can be explained rather than argued about.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from asc_bench.core.errors import UserError
from asc_bench.spec.limits import PARAM_DTYPE_BYTES, Limits

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass
class LayerCount:
    """One row of the per-layer table."""

    name: str  # dotted module path ("" = the model's own forward)
    type: str
    output_shape: list[int]
    params: int
    macs: int  # torchinfo's count
    flop_counter_macs: int  # FlopCounterMode FLOPs / 2
    note: str = ""  # why the two counts disagree, when they do


@dataclass
class ComplexityReport:
    """Totals (torchinfo conventions, batch 1) and the per-layer table of one model at one input shape."""

    macs: int
    params: int
    param_bytes: int
    param_dtype: str
    fused: bool
    input_shape: tuple[int, ...]
    flop_counter_macs: int
    layers: list[LayerCount] = field(default_factory=list)
    per_device: dict[str, dict[str, int]] | None = None  # a device-specific system: each model's counts

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict for result records."""
        d = asdict(self)
        d["input_shape"] = list(self.input_shape)
        if self.per_device is None:  # a single model: records keep their former shape
            d.pop("per_device")
        return d

    def largest(self, measure: Literal["macs", "params"], n: int = 5) -> list[LayerCount]:
        """The ``n`` layers with the most MACs or parameters."""
        return sorted((la for la in self.layers if getattr(la, measure) > 0), key=lambda la: -getattr(la, measure))[:n]


@dataclass
class BlockCount:
    """The layers of one block (a module path prefix) summed: a row of ``asc-bench complexity``'s summary."""

    name: str
    layers: int
    output_shape: list[int]  # the last layer's
    params: int
    macs: int
    flop_counter_macs: int
    notes: list[str] = field(default_factory=list)  # the distinct notes of its layers


def block_summary(report: ComplexityReport, min_blocks: int = 3) -> list[BlockCount]:
    """The per-layer counts summed per block: the model's children, or grandchildren and deeper while there are
    fewer than ``min_blocks`` blocks (rows without a path, the model's own forward, are block ``(model)``)."""
    deepest = max((la.name.count(".") + 1 for la in report.layers if la.name), default=1)
    depth = 1
    while depth < deepest and len({_prefix(la.name, depth) for la in report.layers}) < min_blocks:
        depth += 1
    blocks: dict[str, BlockCount] = {}
    for la in report.layers:
        name = _prefix(la.name, depth)
        block = blocks.setdefault(name, BlockCount(name, 0, la.output_shape, 0, 0, 0))
        block.layers += 1
        block.output_shape = la.output_shape
        block.params += la.params
        block.macs += la.macs
        block.flop_counter_macs += la.flop_counter_macs
        if la.note and la.note not in block.notes:
            block.notes.append(la.note)
    return list(blocks.values())


def _prefix(name: str, depth: int) -> str:
    return ".".join(name.split(".")[:depth]) if name else "(model)"


def _system_report(reports: dict[str, ComplexityReport]) -> ComplexityReport:
    """A device-specific system's complexity: the maxima over its models (each must meet the limits on its own),
    the layer table of the largest, and every model's figures in ``per_device``."""
    largest = max(reports.values(), key=lambda r: (r.macs, r.params))
    return replace(
        largest,
        macs=max(r.macs for r in reports.values()),
        params=max(r.params for r in reports.values()),
        param_bytes=max(r.param_bytes for r in reports.values()),
        per_device={n: {"macs": r.macs, "params": r.params, "param_bytes": r.param_bytes} for n, r in reports.items()},
    )


def param_bytes(params: int, param_dtype: str) -> int:
    """Bytes of ``params`` parameters stored at ``param_dtype``."""
    return params * PARAM_DTYPE_BYTES[param_dtype]


def count_complexity(
    model: nn.Module, input_shape: tuple[int, ...], *, param_dtype: str = "float16", fused: bool = False
) -> ComplexityReport:
    """Count ``model`` at batch 1 on ``input_shape`` (one clip, without the batch dimension).

    Works on a CPU deep copy in eval mode; ``fused=True`` counts after folding each conv+BatchNorm pair.
    """
    import torch
    import torchinfo

    if param_dtype not in PARAM_DTYPE_BYTES:
        raise ValueError(f"param_dtype must be one of {sorted(PARAM_DTYPE_BYTES)}, not {param_dtype!r}")
    if getattr(model, "routes_devices", False):  # a device-specific system: every model counted on its own
        members = model.members()  # type: ignore[operator]
        return _system_report(
            {n: count_complexity(m, input_shape, param_dtype=param_dtype, fused=fused) for n, m in members.items()}
        )
    work = copy.deepcopy(model).cpu().eval()
    if fused:
        fuse_conv_bn(work)
    shape = (1, *input_shape)
    stats = torchinfo.summary(work, input_size=shape, verbose=0, device="cpu", mode="eval")
    flops = _flop_counts(work, torch.zeros(shape))
    layers = _layer_rows(work, stats.summary_list, flops)
    return ComplexityReport(
        macs=int(stats.total_mult_adds),
        params=int(stats.total_params),
        param_bytes=param_bytes(int(stats.total_params), param_dtype),
        param_dtype=param_dtype,
        fused=fused,
        input_shape=tuple(int(s) for s in input_shape),
        flop_counter_macs=flops[""] // 2,
        layers=layers,
    )


def _flop_counts(model: nn.Module, x: torch.Tensor) -> dict[str, int]:
    """FLOPs per module path ("" = whole model), each including its submodules' FLOPs."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x)
    root = type(model).__name__
    out: dict[str, int] = {}
    for key, per_op in counter.get_flop_counts().items():
        if key == root:
            out[""] = int(sum(per_op.values()))
        elif key.startswith(root + "."):
            out[key[len(root) + 1 :]] = int(sum(per_op.values()))
    out.setdefault("", 0)
    return out


def _layer_rows(model: nn.Module, summary_list: list[Any], flops: dict[str, int]) -> list[LayerCount]:
    """Leaf layers from torchinfo, plus containers holding their own parameters or functional FLOPs."""
    names = {id(m): n for n, m in model.named_modules()}
    rows: list[LayerCount] = []
    for info in summary_list:
        name = names.get(id(info.module), info.var_name)
        if info.is_leaf_layer:
            params = 0 if info.is_recursive else int(info.num_params)
            fc = flops.get(name, 0) // 2
            rows.append(_row(info, name, params, int(info.macs), fc))
            continue
        if info.is_recursive:
            continue
        own_params = max(int(info.leftover_params()), 0)
        own_flops = flops.get(name, 0) - sum(
            flops.get(f"{name}.{c}" if name else c, 0) for c, _ in info.module.named_children()
        )
        if own_params or own_flops > 0:
            rows.append(_row(info, name, own_params, 0, max(own_flops, 0) // 2, container=True))
    return rows


def _row(info: Any, name: str, params: int, macs: int, fc: int, *, container: bool = False) -> LayerCount:
    row = LayerCount(
        name=name,
        type=info.class_name,
        output_shape=[int(s) for s in info.output_size],
        params=params,
        macs=macs,
        flop_counter_macs=fc,
    )
    if macs != fc:
        row.note = _disagreement(info.module, row, container)
    return row


def _disagreement(module: nn.Module, row: LayerCount, container: bool) -> str:
    """Why torchinfo and the flop counter disagree on one layer."""
    import torch
    from torch import nn

    if container or (row.macs == 0 and row.flop_counter_macs > 0):
        return (
            "functional ops in this module's own forward() (e.g. torch.matmul, F.conv2d): the flop counter "
            "sees them, torchinfo's module hooks do not"
        )
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and row.flop_counter_macs == 0:
        return "BatchNorm: torchinfo counts its 2*C parameters as MACs, the flop counter counts none"
    bias = getattr(module, "bias", None)
    if isinstance(bias, torch.Tensor) and isinstance(module, nn.modules.conv._ConvNd | nn.Linear):
        positions = 1
        for s in row.output_shape[2:] if isinstance(module, nn.modules.conv._ConvNd) else row.output_shape[:1]:
            positions *= s
        if row.macs - row.flop_counter_macs == bias.numel() * positions:
            return "bias: torchinfo counts one MAC per bias element and output position, the flop counter none"
    if row.flop_counter_macs > row.macs:
        return (
            "torchinfo counts parameters x batch for non-conv layers; the flop counter counts the "
            "products actually executed"
        )
    return "counting conventions differ: torchinfo counts parameters x output positions, the flop counter op FLOPs/2"


def fuse_conv_bn(model: nn.Module) -> nn.Module:
    """Fold every BatchNorm that directly follows a conv into that conv, in place; the BN becomes Identity.

    Pairs are found in the FX graph when the model traces, else as adjacent children of nn.Sequential.
    """
    from torch import nn
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    model.eval()
    modules = dict(model.named_modules())
    for conv_name, bn_name in _conv_bn_pairs(model):
        conv, bn = modules[conv_name], modules[bn_name]
        _set_module(model, conv_name, fuse_conv_bn_eval(conv, bn))
        _set_module(model, bn_name, nn.Identity())
    return model


def _conv_bn_pairs(model: nn.Module) -> list[tuple[str, str]]:
    import torch.fx
    from torch import nn

    def is_pair(conv: Any, bn: Any) -> bool:
        return (
            isinstance(conv, nn.Conv1d | nn.Conv2d | nn.Conv3d)
            and isinstance(bn, nn.modules.batchnorm._BatchNorm)
            and bn.num_features == conv.out_channels
            and bn.track_running_stats
        )

    modules = dict(model.named_modules())
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception:  # noqa: BLE001 - any tracing failure: fall back to nn.Sequential adjacency
        pairs = []
        for name, mod in modules.items():
            if isinstance(mod, nn.Sequential):
                kids = list(mod.named_children())
                for (a, ma), (b, mb) in zip(kids, kids[1:], strict=False):
                    if is_pair(ma, mb):
                        pairs.append((f"{name}.{a}" if name else a, f"{name}.{b}" if name else b))
        return pairs
    pairs, used = [], set()
    for node in graph.nodes:
        if node.op != "call_module" or len(node.args) != 1:
            continue
        prev = node.args[0]
        if getattr(prev, "op", None) != "call_module" or len(prev.users) != 1:
            continue
        if is_pair(modules.get(prev.target), modules.get(node.target)) and prev.target not in used:
            pairs.append((prev.target, node.target))
            used.add(prev.target)
    return pairs


def _set_module(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child, new)


def check_limits(report: ComplexityReport, limits: Limits) -> None:
    """Raise :class:`UserError` when ``report`` is over ``limits`` (bytes at ``limits.param_dtype``)."""
    max_macs, max_bytes = limits.max_macs(), limits.max_param_bytes()
    nbytes = param_bytes(report.params, limits.param_dtype)
    over: list[str] = []
    if max_macs is not None and report.macs > max_macs:
        over.append("macs")
    if max_bytes is not None and nbytes > max_bytes:
        over.append("params")
    if not over:
        return
    shape = "x".join(str(s) for s in report.input_shape)
    parts = [
        f"the model is over the complexity limits for one {shape} clip at batch 1"
        + (" (after conv+BN fusion)" if report.fused else "")
        + ":",
        _measure("MACs", report.macs, max_macs) + ";",
        _measure(f"parameter bytes at {limits.param_dtype}", nbytes, max_bytes, f" ({report.params:,} params)") + ".",
    ]
    for measure in over:
        label = "MACs" if measure == "macs" else "parameters"
        top = ", ".join(
            f"{la.name or '(model)'} ({la.type}) {getattr(la, measure):,}" for la in report.largest(measure)
        )
        parts.append(f"Largest layers by {label}: {top}.")
    raise UserError(
        " ".join(parts),
        where="limits",
        fix="Choose a smaller model configuration (fewer channels or blocks, larger strides) or a smaller "
        "input, store parameters at a lower param_dtype, or - for a teacher that need not meet the limits - "
        "set `limits: {preset: none}`.",
    )


def _measure(label: str, value: int, limit: int | None, extra: str = "") -> str:
    if limit is None:
        return f"{value:,} {label}{extra} (no limit)"
    diff = value - limit
    if diff > 0:
        return f"{value:,} {label}{extra} > limit {limit:,}, over by {diff:,} ({100 * diff / limit:.1f} %)"
    return f"{value:,} {label}{extra} <= limit {limit:,}, headroom {-diff:,} ({-100 * diff / limit:.1f} %)"
