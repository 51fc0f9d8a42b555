"""The conformance kit: check a plugin the way asc-bench checks its own built-in plugins.

Call these from a plugin package's tests (pytest shows a failed check as an assertion naming the
plugin and the broken rule)::

    from asc_bench.testing import check_model, check_plugin
    from my_package.model import MyNet

    def test_my_net_conforms():
        check_model(MyNet)                    # the class itself, default settings

    def test_my_net_is_registered():
        check_plugin("model", "my_net", expected=MyNet)   # through its entry point, as specs find it

Every ``check_<kind>`` takes the plugin class and an optional ``config`` (a dict of settings, or a
Config instance; default: the Config's defaults), and raises :class:`ConformanceError` (an
``AssertionError``) on the first problem.
"""

from __future__ import annotations

from typing import Any

from asc_bench.plugins import registry
from asc_bench.testing._common import ConformanceError, check_config, example_config
from asc_bench.testing.caches import check_cache
from asc_bench.testing.datasets import check_dataset
from asc_bench.testing.models import check_model
from asc_bench.testing.synthetic import synthetic_dataset
from asc_bench.testing.trainers import check_trainer
from asc_bench.testing.transforms import check_transform, make_batch

CHECKS = {
    "dataset": check_dataset,
    "cache": check_cache,
    "transform": check_transform,
    "model": check_model,
    "trainer": check_trainer,
}

__all__ = [
    "CHECKS",
    "ConformanceError",
    "check_cache",
    "check_config",
    "check_dataset",
    "check_model",
    "check_plugin",
    "check_trainer",
    "check_transform",
    "example_config",
    "make_batch",
    "synthetic_dataset",
]


def check_plugin(kind: registry.Kind, name: str, config: Any = None, *, expected: type | None = None, **kwargs: Any):  # noqa: ANN201
    """Find the plugin ``name`` through its entry point (as a spec would) and run the check for its kind.

    ``expected``: the class the entry point must resolve to (catches a wrong ``module:object`` target).
    Other keyword arguments go to the kind's check (e.g. ``input_shape=`` for models).
    """
    cls = registry.load(kind, name)
    if expected is not None and cls is not expected:
        raise ConformanceError(f"the {kind} entry point {name!r} resolves to {cls!r}, not {expected!r}")
    return CHECKS[kind](cls, config, **kwargs)
