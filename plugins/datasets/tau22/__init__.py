"""The TAU Urban Acoustic Scenes 2022 Mobile dataset plugin, its vocabulary and its synthetic generator."""

from asc_bench_plugins.datasets.tau22.dataset import TAU22Dataset

__all__ = ["TAU22Dataset"]
