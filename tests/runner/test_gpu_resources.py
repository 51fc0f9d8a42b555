"""GPU shares in tune.resources: a fraction of one GPU or whole GPUs, and only what a node of the cluster has."""

from __future__ import annotations

import pytest

from asc_bench.core.errors import UserError
from asc_bench.runner.cluster import check_resources


def test_gpu_shares_ray_cannot_give_are_refused(ray_local) -> None:  # noqa: ANN001
    with pytest.raises(UserError, match="a fraction of one GPU or whole GPUs") as caught:
        check_resources(1, 1.5)
    assert caught.value.where == "tune.resources.gpu"
    check_resources(1, 0)
    gpus = ray_local.cluster_resources().get("GPU", 0)
    if gpus:
        check_resources(1, 0.25)  # four trials per GPU
    else:
        with pytest.raises(UserError, match="0.25 GPU, but no node"):
            check_resources(1, 0.25)
