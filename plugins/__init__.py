"""Built-in asc-bench plugins, registered through entry points like any third-party plugin."""
