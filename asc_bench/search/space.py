"""A search space as Ray Tune sees it: each dimension's Ray Tune domain, and the configurations of a random or grid
search drawn with Ray Tune's own samplers."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from asc_bench.spec.space import Distribution


def ray_domain(dim: Distribution, *, choice_as_index: bool = False) -> Any:
    """The Ray Tune domain of a dimension (a choice becomes a choice of option indices if asked)."""
    from ray import tune

    args = dim.args
    if dim.kind == "choice":
        return tune.choice(list(range(len(args))) if choice_as_index else list(args))
    if dim.kind == "grid":
        return tune.grid_search(list(args))
    return getattr(tune, dim.kind)(*args)


def draw(dim: Distribution, rng: np.random.Generator) -> Any:
    """One value drawn with Ray Tune's sampler (grid dimensions are expanded, not sampled)."""
    return ray_domain(dim).sample(random_state=rng)


def expand(space: dict[str, Distribution], num_samples: int, seed: int) -> list[dict[str, Any]]:
    """Every configuration of a random/grid search, as Ray Tune's basic search would make them: the grid
    dimensions crossed, repeated ``num_samples`` times, each with fresh draws of the random dimensions."""
    rng = np.random.default_rng(seed)
    grid_keys = [key for key, dim in space.items() if dim.kind == "grid"]
    combos = list(itertools.product(*(space[key].args for key in grid_keys)))
    samples = []
    for _ in range(num_samples):
        for combo in combos:
            fixed = dict(zip(grid_keys, combo, strict=True))
            samples.append({key: fixed[key] if key in fixed else draw(dim, rng) for key, dim in space.items()})
    return samples
