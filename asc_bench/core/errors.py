"""User-facing errors: one clear paragraph, exit status 2, never a traceback."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input (spec, dataset, command line) that they can fix.

    The message is printed as one paragraph by the CLI, which then exits with status 2.
    """

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.where = where
        self.fix = fix
        parts = [f"{where}: {message}" if where else message]
        if fix:
            parts.append(fix)
        super().__init__(" ".join(p.rstrip() for p in parts))
