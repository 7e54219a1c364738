"""The `qa` command: settings, rebuild-index, import, sync and serve here; ask and chat
(`cli_asking`), eval and train-scorer (`cli_quality`), watch (`cli_watch`) in their own
modules. Commands parse, call, print."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from qa.cli_asking import ask, chat
from qa.cli_options import env_settings, index_option
from qa.cli_quality import eval_cmd, train_scorer
from qa.cli_watch import ask_watches, watch
from qa.config import Settings, describe
from qa.errors import QAError

if TYPE_CHECKING:
    from qa.sync import SyncSummary


@click.group(
    epilog="Settings are QA_* environment variables: `qa settings` lists each one with its "
    "value, where the value came from and what it does."
)
@click.version_option(package_name="releases-qa")
def main() -> None:
    """Ask questions of press releases; answers quote the releases and cite them."""


@main.command("settings")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as a JSON list.")
def settings_cmd(as_json: bool) -> None:
    """List every setting: its environment variable, value, source and help."""
    env_settings()  # refuse invalid values the way every other command does
    rows = describe()
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(r) for r in rows], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, show_lines=False, pad_edge=False)
    for column in ("variable", "value", "source", "help"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r.variable, r.value, r.source, r.help)
    Console(width=max(shutil.get_terminal_size((120, 24)).columns, 100)).print(table)


@main.command("rebuild-index")
@click.option(
    "--corpus",
    "corpus",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Release file or folder (repeatable; default: corpus/ or QA_CORPUS).",
)
@index_option
@click.option("--full", is_flag=True, help="Embed every chunk again, ignoring the cache.")
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default=None,
    help="Build in this process (local, the default) or on Ray (pip install '.[ray]').",
)
@click.option(
    "--ray-address",
    default=None,
    help="Ray cluster to build on, e.g. 10.0.0.5:6379 (default: start a local Ray instance).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Encoder actors on Ray (default: one per CPU).",
)
@click.option(
    "--shard",
    default=None,
    metavar="K/N",
    help="Index only shard K of N: the releases whose id hashes to it (docs/scaling.md).",
)
def rebuild_index_cmd(
    corpus: tuple[Path, ...],
    index_dir: Path | None,
    full: bool,
    engine: str | None,
    ray_address: str | None,
    workers: int | None,
    shard: str | None,
) -> None:
    """Build the index from the corpus and publish it atomically.

    Only chunks that changed since the last build are embedded again.
    """
    settings = env_settings(
        corpus=corpus or None,
        index_dir=index_dir,
        build_engine=engine,
        ray_address=ray_address,
        ray_workers=workers,
        shard=shard,
    )
    summary = _build(settings, full=full)
    if summary is None:
        sys.exit(1)


def _build(settings: Settings, full: bool = False) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from qa.build import rebuild_index

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(
                    {"chunk": "Chunking", "embed": "Embedding"}[stage], total=total
                )
            bar.update(tasks[stage], completed=done, total=total)  # embedding grows per batch

        try:
            summary = rebuild_index(settings, progress=progress, full=full)
        except QAError as exc:
            raise click.ClickException(exc.message) from None
    for p in summary.problems:
        click.echo(f"skipped {p.path}: {p.reason}", err=True)
    if summary.kept:
        click.echo(
            f"Nothing changed: build {summary.build_id} already indexes these {summary.releases} "
            f"releases ({summary.chunks} chunks) and stays live; nothing was written "
            f"({summary.seconds:.1f} s). `qa rebuild-index --full` builds anew anyway."
        )
        return summary
    click.echo(
        f"Indexed {summary.releases} releases from {summary.files} files into {summary.chunks} "
        f"chunks in {summary.seconds:.1f} s; skipped {len(summary.problems)} "
        f"({settings.index_dir}/, build {summary.build_id}).\n"
        f"Releases: {summary.added} added, {summary.changed} changed, {summary.removed} removed, "
        f"{summary.unchanged} unchanged. Chunks: {summary.embedded} embedded, "
        f"{summary.reused} reused from the cache."
    )
    ask_watches(settings)
    return summary


def _has_index(settings: Settings) -> bool:
    from qa import store

    try:
        store.live_build_id(settings.index_dir)
    except QAError:
        return False
    return True


def _build_in_child(settings: Settings) -> None:
    try:
        _build(settings)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)


corpus_target_option = click.option(
    "--corpus",
    "corpus",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write the releases into (default: the first QA_CORPUS entry).",
)


@main.command("import")
@click.argument("sources", nargs=-1, required=True)
@corpus_target_option
def import_cmd(sources: tuple[str, ...], corpus: Path | None) -> None:
    """Bring exports (JSONL, JSON, CSV, HTML, Markdown, text) and web pages into the corpus.

    SOURCES are files, folders or http(s) addresses of HTML pages; each release becomes a
    Markdown file with front matter.
    """
    from qa.exports import import_releases, is_url
    from qa.fetching import Fetcher

    settings = env_settings()
    target = corpus or settings.corpus[0]
    summary = import_releases(
        [s if is_url(s) else Path(s) for s in sources],
        target,
        Fetcher.from_settings(settings),
        settings.corpus_limits(),
    )
    for p in summary.skipped:
        click.echo(f"skipped {p.path}: {p.reason}", err=True)
    click.echo(
        f"Imported into {target}/: {len(summary.added)} added, {len(summary.updated)} updated, "
        f"{len(summary.unchanged)} unchanged, {len(summary.skipped)} skipped. "
        "Run `qa rebuild-index` to index them."
    )
    if summary.skipped and not (summary.added or summary.updated or summary.unchanged):
        sys.exit(1)  # nothing could be imported


@main.command()
@click.option(
    "--feed",
    "feeds",
    multiple=True,
    help="RSS or Atom feed address (repeatable; default: QA_FEEDS).",
)
@corpus_target_option
@index_option
@click.option("--no-build", is_flag=True, help="Only update the corpus; do not rebuild the index.")
def sync(
    feeds: tuple[str, ...], corpus: Path | None, index_dir: Path | None, no_build: bool
) -> None:
    """Bring new and changed releases from feeds into the corpus, then update the index.

    Each item's page is fetched (politely, within the QA_FETCH_* limits) and stored as a release;
    running it again changes nothing unless the feeds or pages did. A failed item is reported
    and tried again next time. Exits with status 1 only when something failed and nothing was
    synced.
    """
    from qa.fetching import Fetcher
    from qa.sync import sync_feeds

    settings = env_settings(corpus=(corpus,) if corpus else None, index_dir=index_dir)
    urls = list(feeds or settings.feeds)
    if not urls:
        raise click.ClickException("no feeds to read: pass --feed URL or set QA_FEEDS")
    target = settings.corpus[0]
    try:
        fetcher = Fetcher.from_settings(settings)
        summary = sync_feeds(urls, target, fetcher, settings.sync_max_items, sys.stderr)
    except QAError as exc:
        raise click.ClickException(exc.message) from None
    _print_sync(summary, target, len(urls))
    if summary.synced_nothing:
        sys.exit(1)
    if no_build:
        return
    if not summary.changed and _has_index(settings):
        click.echo(f"No release changed; the index in {settings.index_dir}/ was left as it is.")
        return
    if _build(settings) is None:
        sys.exit(1)


def _print_sync(summary: SyncSummary, target: Path, feeds: int) -> None:
    """Print one line per item that needs a look (failures on stderr), then the counts."""
    for o in summary.outcomes:
        if o.status == "failed":
            what = "item" if o.item else "feed"
            click.echo(f"failed {what} {o.url}: {o.reason} (tried again next time)", err=True)
        elif o.status != "unchanged":
            reason = f"  ({o.reason})" if o.reason else ""
            click.echo(f"{o.status:<9} {o.release_id or '-'}  {o.url}{reason}")
    counts = ", ".join(
        f"{summary.count(s)} {s}" for s in ("new", "updated", "unchanged", "duplicate", "failed")
    )
    click.echo(f"Synced {summary.feeds_read} of {feeds} feeds into {target}/: {counts}.")


@main.command()
@index_option
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option("--workers", type=int, default=None, help="Worker processes.")
@click.option("--threads", type=int, default=None, help="Threads per worker.")
@click.option(
    "--public",
    is_flag=True,
    default=None,
    help="Serve a non-loopback --host without QA_API_TOKENS, to anyone who can reach it.",
)
def serve(
    index_dir: Path | None,
    host: str | None,
    port: int | None,
    workers: int | None,
    threads: int | None,
    public: bool | None,
) -> None:
    """Serve the chat page and the API (gunicorn), building the index first if there is none."""
    from qa import auth
    from qa.server import run

    settings = env_settings(
        index_dir=index_dir, host=host, port=port, workers=workers, threads=threads, public=public
    )
    try:
        access = auth.describe_access(settings)  # also refuses malformed QA_API_TOKENS
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    problem = auth.exposure_problem(settings)
    if problem:
        click.echo(f"Error: {problem}", err=True)
        sys.exit(2)
    if not _has_index(settings):
        click.echo(
            f"No index in {settings.index_dir}/ yet: building it from "
            f"{', '.join(map(str, settings.corpus))} first.",
            err=True,
        )
        # In a child process: the model must not be loaded in the server's master process,
        # whose forked workers would inherit torch's thread pools and hang.
        import multiprocessing

        child = multiprocessing.get_context("spawn").Process(
            target=_build_in_child, args=(settings,)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            raise click.ClickException("the index could not be built; see the messages above")
    click.echo(f"Serving http://{settings.host}:{settings.port}/ (Ctrl+C stops)", err=True)
    click.echo(access, err=True)
    run(settings)


for command in (ask, chat, eval_cmd, train_scorer, watch):
    main.add_command(command)
