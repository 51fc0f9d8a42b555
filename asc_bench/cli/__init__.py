"""The ``asc-bench`` command line."""

from asc_bench.cli.app import app, main

__all__ = ["app", "main"]
