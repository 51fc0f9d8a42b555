"""``python -m asc_bench.cli``: the command line."""

from asc_bench.cli.app import main

main()
