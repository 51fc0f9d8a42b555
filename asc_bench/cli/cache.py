"""The ``asc-bench cache`` commands: build a spec's caches, list them (a table or JSON), clear them (after asking,
or with ``--yes``; ``--dry-run`` only lists). Registered in :mod:`asc_bench.cli.app`."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from asc_bench.cli.common import JsonOpt, SetOpt, SpecArg, console, keep_whole, load, print_json, renamed
from asc_bench.core.errors import UserError

if TYPE_CHECKING:
    from asc_bench.api import CacheEntry

cache_app = typer.Typer(help="The data cache: build it for a spec, list it, clear it.", no_args_is_help=True)
CacheDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="The cache folder (default: the cache's own; memmap: $ASC_BENCH_CACHE_DIR or ~/.cache/asc-bench).",
    ),
]
OldDirOpt = Annotated[Path | None, typer.Option("--dir", hidden=True, help="Old spelling of --cache-dir.")]
CacheOpt = Annotated[str, typer.Option("--cache", help="The cache plugin whose caches to list or delete.")]
NUMBERS = ("rows", "row shape", "dtype", "size", "created", "status")


@cache_app.command("build")
def cache_build(spec: SpecArg, set_: SetOpt = None) -> None:
    """Check the spec's dataset and build its caches now (what `asc-bench run` does before training)."""
    from asc_bench.cli.progress import ConsoleRunListener
    from asc_bench.data.prepare import prepare_caches
    from asc_bench.data.setup import build_data
    from asc_bench.spec.resolve import resolve_for_run

    setup = build_data(resolve_for_run(load(spec, set_)))
    listener = ConsoleRunListener(console)
    done = prepare_caches(setup, listener, listener.warning)
    for name, request in setup.requests.items():
        location = setup.cache.location(request)
        where = f" → {location}" if location else ""
        rows = f"{request.count:,} rows of {'x'.join(map(str, request.shape))}"
        console.print(f"{name}: {done[name]} ({rows}, {request.domain}){escape(where)}")


def _cache_folder(name: str, folder: Path | None) -> tuple[Any, Path | None]:
    """The cache plugin class ``name`` and the folder to look in (``--cache-dir``, else the plugin's default)."""
    from asc_bench.plugins import registry

    cls = registry.load("cache", name, where="--cache")
    return cls, Path(folder).expanduser() if folder else cls.default_folder()


def _entry_json(entry: CacheEntry) -> dict[str, Any]:
    return {**asdict(entry), "ok": entry.ok}


@cache_app.command("ls")
def cache_ls(
    cache_dir: CacheDirOpt = None,
    verify: Annotated[bool, typer.Option(help="Verify every checksum (reads every cache in full).")] = False,
    cache: CacheOpt = "memmap",
    as_json: JsonOpt = False,
    old_dir: OldDirOpt = None,
) -> None:
    """List the caches in the cache folder: what they hold, their size and whether they are complete.

    With --verify, the exit status is 2 when any cache fails its checksums.
    """
    cls, folder = _cache_folder(cache, renamed(cache_dir, old_dir, ("--cache-dir", "--dir"), None))
    entries = cls.inventory(folder, verify=verify)
    failed = [e for e in entries if not e.ok and not e.building]
    if as_json:
        total = sum(e.size for e in entries)
        print_json({"cache": cache, "folder": folder, "entries": [_entry_json(e) for e in entries], "size": total})
    else:
        _print_inventory(entries, f"in {folder}" if folder else f"of the {cache} cache (it keeps nothing on disk)")
    if verify and failed:
        if not as_json:
            console.print(
                f"[red]{len(failed)} cache(s) failed the check[/red]: the next run rebuilds them, or remove them "
                f"now with asc-bench cache clear {' '.join(e.key[:12] for e in failed)}"
            )
        raise typer.Exit(2)


def _print_inventory(entries: list[CacheEntry], where: str) -> None:
    console.print(f"caches {escape(where)}", soft_wrap=True)  # a path stays whole, for copying
    table = Table()
    for column in ("key", "split", "rows", "row shape", "dtype", "holds", "size", "created", "status"):
        table.add_column(column, justify="right" if column in ("rows", "size") else "left")
    for e in entries:
        colour = "green" if e.ok else "yellow" if e.building else "red"
        table.add_row(
            e.key[:12],
            escape(e.label or "?"),
            f"{e.count:,}" if e.count is not None else "?",
            "x".join(map(str, e.shape or ())) or "?",
            e.dtype or "?",
            escape(_holds(e.key_parts)),
            f"{e.size / 1e6:,.1f} MB",
            (e.created or "")[:16].replace("T", " "),
            f"[{colour}]{escape(e.status)}[/{colour}]",
        )
    console.print(keep_whole(table, "key", *NUMBERS))
    console.print(f"{len(entries)} cache(s), {sum(e.size for e in entries) / 1e6:,.1f} MB")


def _holds(parts: dict[str, Any]) -> str:
    if not parts:
        return "?"
    steps = [p.get("type", "?") for p in parts.get("cached", [])]
    text = f"{parts.get('domain', '?')} @ {parts.get('sample_rate', '?')} Hz"
    if steps:
        text += " (" + ", ".join(steps) + ")"
    if parts.get("crop_offsets"):
        text += f", {len(parts['crop_offsets'])} crops"
    return text


@cache_app.command("clear")
def cache_clear(
    keys: Annotated[
        list[str] | None, typer.Argument(help="Keys (or their first characters) to remove; default: all.")
    ] = None,
    cache_dir: CacheDirOpt = None,
    cache: CacheOpt = "memmap",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be deleted.")] = False,
    old_dir: OldDirOpt = None,
) -> None:
    """Delete caches (all, or the given keys) that no process is building; they are rebuilt when needed.

    It lists them and asks first, unless --yes; without a terminal to ask on, it needs --yes.
    """
    cls, folder = _cache_folder(cache, renamed(cache_dir, old_dir, ("--cache-dir", "--dir"), None))
    where = escape(str(folder)) if folder else f"the {cache} cache"
    going = [
        e for e in cls.inventory(folder) if not e.building and (not keys or any(e.key.startswith(k) for k in keys))
    ]
    if dry_run or (going and not yes):
        _print_inventory(going, f"that would be removed from {where}")
    if dry_run:
        return
    if going and not yes:
        _confirm(f"delete these {len(going)} cache(s) from {where}?")
    result = cls.clear(keys or None, folder=folder)
    console.print(f"removed {len(result.removed)} cache(s) from {where}, freed {result.freed / 1e6:,.1f} MB")
    for key in result.busy:
        console.print(f"[yellow]kept {key}: another process is building it[/yellow]")
    if keys and not result.removed and not result.busy:
        nothing = f"no cache in {folder}" if folder else f"the {cache} cache keeps nothing on disk, so no cache"
        raise UserError(f"{nothing} has a key starting with {', '.join(keys)}.", fix="See `asc-bench cache ls`.")


def _confirm(question: str) -> None:
    """Ask on the terminal; refuse (a :class:`UserError`) when standard input is not one, and stop on "no"."""
    if not sys.stdin.isatty():
        raise UserError(
            "cache clear asks before it deletes anything, and standard input is not a terminal to ask on.",
            where="asc-bench cache clear",
            fix="Pass --yes to delete without asking (or --dry-run to list what would go).",
        )
    if not typer.confirm(question, default=False):
        console.print("nothing removed")
        raise typer.Exit(1)
