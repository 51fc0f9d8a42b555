"""asc-bench: a config-first benchmark harness for low-complexity acoustic scene classification."""

__version__ = "0.1.0"
