"""The `qa` command: import, sync, rebuild-index, ask, serve. Commands parse, call, print."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from qa.config import Settings, describe
from qa.errors import QAError

if TYPE_CHECKING:
    from qa.sync import SyncSummary


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings.from_env(**overrides)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(
    epilog="Settings are QA_* environment variables: `qa settings` lists each one with its "
    "value, where the value came from and what it does."
)
@click.version_option(package_name="releases-qa")
def main() -> None:
    """Ask questions of press releases; answers quote the releases and cite them."""


def _loading(what: str) -> None:
    """Say on stderr what the next silent wait is, when a person is watching the terminal."""
    if sys.stderr.isatty():
        click.echo(f"Loading {what}...", err=True)


@main.command("settings")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as a JSON list.")
def settings_cmd(as_json: bool) -> None:
    """List every setting: its environment variable, value, source and help."""
    _settings()  # refuse invalid values the way every other command does
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


index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path),
    help="Index folder (default: index/ or QA_INDEX_DIR).",
)


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
    settings = _settings(
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
    _check_watches(settings)
    return summary


def _check_watches(settings: Settings) -> None:
    """Ask the watched questions on the build just published; say what changed."""
    from qa.state import State

    state = State(settings.state_folder())
    if not state.path.exists() or not state.watches():
        return
    from qa.engine import EngineHolder
    from qa.watching import check_watches

    try:
        summary = check_watches(state, EngineHolder(settings).get())
    except QAError as exc:
        click.echo(f"Watches not asked: {exc.message}", err=True)
        return
    for failure in summary.failed:
        click.echo(f"webhook not delivered: {failure}", err=True)
    click.echo(
        f"Watches: {summary.asked} asked, {len(summary.changed)} with a new answer"
        + (f", {summary.delivered} sent to webhooks" if summary.delivered else "")
        + "."
    )


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

    settings = _settings()
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

    settings = _settings(corpus=(corpus,) if corpus else None, index_dir=index_dir)
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
@click.argument("question")
@index_option
@click.option("-k", "k", type=int, default=None, help="Passages to retrieve.")
@click.option("--date-from", help="Only releases on or after this date (YYYY-MM-DD).")
@click.option("--date-to", help="Only releases on or before this date (YYYY-MM-DD).")
@click.option("--source", help="Only releases from this source.")
@click.option(
    "--history",
    "history_file",
    type=click.File("r"),
    help='JSON file with the earlier turns: [{"role", "content"}, ...].',
)
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON object as the API.")
@click.option(
    "--markdown",
    "as_markdown",
    is_flag=True,
    help="Print the answer as Markdown with footnote citations (as the page copies it).",
)
def ask(
    question: str,
    index_dir: Path | None,
    k: int | None,
    date_from: str | None,
    date_to: str | None,
    source: str | None,
    history_file: Any,
    as_json: bool,
    as_markdown: bool,
) -> None:
    """Answer QUESTION from the indexed releases, citing them."""
    from qa.engine import EngineHolder
    from qa.payloads import parse_request, result_json

    settings = _settings(index_dir=index_dir)
    payload: dict[str, Any] = {
        "question": question,
        "k": k or settings.top_k,
        "filters": {"date_from": date_from, "date_to": date_to, "source": source},
    }
    try:
        if history_file:
            payload["history"] = json.load(history_file)
        parsed = parse_request(settings, payload)
        _loading("the model and the index")
        engine = EngineHolder(settings).get()
        engine.warm()
        if as_json or as_markdown:
            from qa.state import answer_markdown

            reply = result_json(engine.ask(parsed[0], parsed[1], k=parsed[2], filters=parsed[3]))
            if as_markdown:
                click.echo(answer_markdown(reply), nl=False)
            else:
                click.echo(json.dumps(reply, indent=2, ensure_ascii=False))
            return
        _print_streamed(engine.ask_stream(parsed[0], parsed[1], k=parsed[2], filters=parsed[3]))
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"--history is not valid JSON: {exc}") from None
    except QAError as exc:
        raise click.ClickException(exc.message) from None


def _print_streamed(events: Any) -> Any:
    """Print an answer as it is written, then its sources; return the final result."""
    from qa.engine import Result
    from qa.payloads import result_json

    shown: list[str] = []
    result: Result | None = None
    for item in events:
        if isinstance(item, str):
            shown.append(item)
            click.echo(item, nl=False)
        else:
            result = item
    assert result is not None
    data = result_json(result)
    if "".join(shown) != data["answer"]:
        reason = (data["generator"] or {}).get("fallback_reason") or "the answer was revised"
        click.echo(f"\n\n[{reason}; the answer quoted from the releases:]\n{data['answer']}")
    else:
        click.echo()
    if data["abstained"] and data["suggestions"]:
        click.echo("\nYou may be looking for:")
        for s in data["suggestions"]:
            click.echo(f"  - {s['title']} ({s['date'] or 'undated'})")
    if data["sources"]:
        click.echo("\nSources:")
        for s in data["sources"]:
            click.echo(
                f"[{s['n']}] {s['title']} ({s['date'] or 'undated'})"
                + (f" {s['url']}" if s["url"] else f" [{s['release_id']}]")
            )
    return result


CHAT_COMMANDS = "Commands: /new starts a new conversation, /help shows this, /quit or Ctrl+D ends."


@main.command()
@index_option
def chat(index_dir: Path | None) -> None:
    """Ask questions one after another; follow-ups use the conversation.

    Type a question and press Enter; "/new" starts a new conversation, "/help" lists the
    commands; Ctrl+D (or "/quit") ends.
    """
    from qa.chat import Turn
    from qa.engine import EngineHolder

    settings = _settings(index_dir=index_dir)
    try:
        _loading("the model and the index")
        engine = EngineHolder(settings).get()
        engine.warm()
    except QAError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(
        f"Ask about the {engine.index.manifest.releases} releases in {settings.index_dir}/. "
        + CHAT_COMMANDS
    )
    history: list[Turn] = []
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            click.echo()
            return
        if not question:
            continue
        if question in ("/quit", "/exit"):
            return
        if question == "/help":
            click.echo(CHAT_COMMANDS)
            continue
        if question == "/new":
            history = []
            click.echo("(new conversation)")
            continue
        if question.startswith("/"):
            click.echo(f"(unknown command {question.split()[0]}) " + CHAT_COMMANDS)
            continue
        if len(question) > settings.max_question_chars:
            click.echo(f"(questions are limited to {settings.max_question_chars} characters)")
            continue
        result = _print_streamed(engine.ask_stream(question, history[-settings.max_history :]))
        history += [Turn("user", question), Turn("assistant", result.answer.text)]


@main.command("eval")
@index_option
@click.option(
    "--questions",
    type=click.Path(exists=True, path_type=Path),
    help="JSONL question set (default: bench/questions/dev.jsonl).",
)
@click.option(
    "--beir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A BEIR dataset folder (corpus.jsonl, queries.jsonl, qrels/test.tsv); its "
    "index is built in --index (default build/beir-<name>) on first use.",
)
@click.option(
    "--judgments",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSONL of more releases judged to state each question's answer ({id, also_answer}), "
    "e.g. bench/questions/scale-judged.jsonl for the 12,694 releases.",
)
@click.option("--baselines", is_flag=True, help="Also run BM25-only and dense-only retrieval.")
@click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path),
    help="Write the numbers to this JSON file.",
)
@click.option("--failures", is_flag=True, help="List the questions the answers got wrong.")
def eval_cmd(
    index_dir: Path | None,
    questions: Path | None,
    beir: Path | None,
    judgments: Path | None,
    baselines: bool,
    json_path: Path | None,
    failures: bool,
) -> None:
    """Measure retrieval and answers on a question set and print a table."""
    from qa.engine import EngineHolder
    from qa.evaluation import (
        beir_index,
        calibrate,
        evaluate,
        load_beir,
        load_judgments,
        load_questions,
    )

    settings = _settings(index_dir=index_dir)
    try:
        if beir:
            settings = beir_index(beir, index_dir or Path("build") / f"beir-{beir.name}", settings)
            qs = load_beir(beir)[1]
        else:
            qs = load_questions(questions or Path("bench/questions/dev.jsonl"))
        if judgments:
            qs = load_judgments(judgments, qs)
        engine = EngineHolder(settings).get()
        modes = ("hybrid", "lexical", "dense") if baselines else ("hybrid",)
        reports = evaluate(engine, qs, modes, answers=beir is None)
    except QAError as exc:
        raise click.ClickException(exc.message) from None
    _print_reports(reports, len(qs))
    calibration = calibrate(reports[0])
    if calibration:
        click.echo(
            "Abstention threshold that keeps false abstentions <= 5%: "
            f"QA_ABSTAIN_BELOW={calibration['threshold']:.3f} (abstains on "
            f"{calibration['abstention_recall']:.0%} of unanswerable questions; "
            f"configured: {settings.abstain_below})"
        )
    if failures:
        for f in reports[0].failures:
            click.echo(
                f"\n[{f['id']} {f['kind']}] {f['question']}\n  query: {f['query']}\n"
                f"  answer: {f['answer']}"
            )
    if json_path:
        json_path.write_text(
            json.dumps(
                {
                    "questions": len(qs),
                    "index": str(settings.index_dir),
                    "reports": [
                        {"mode": r.mode, "metrics": r.metrics, "by_kind": r.by_kind}
                        for r in reports
                    ],
                },
                indent=2,
            )
            + "\n"
        )


def _print_reports(reports: list[Any], n: int) -> None:
    from rich.console import Console
    from rich.table import Table

    names = {"hybrid": "hybrid", "lexical": "BM25 only", "dense": "dense only"}
    table = Table(title=f"{n} questions")
    table.add_column("metric")
    for r in reports:
        table.add_column(names[r.mode], justify="right")
    keys = list(dict.fromkeys(k for r in reports for k in r.metrics))
    for key in keys:
        table.add_row(key, *[_fmt(r.metrics.get(key)) for r in reports])
    console = Console(width=120)
    console.print(table)
    hybrid = reports[0]
    if len(hybrid.by_kind) > 1:
        kinds = Table(title="hybrid, by kind of question")
        kinds.add_column("kind")
        cols = [
            "recall@5",
            "mrr@10",
            "answer_hit",
            "citation_precision",
            "false_abstention",
            "abstained_right",
        ]
        for c in cols:
            kinds.add_column(c, justify="right")
        for kind, m in hybrid.by_kind.items():
            kinds.add_row(kind, *[_fmt(m.get(c)) for c in cols])
        console.print(kinds)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if value > 1.5 else f"{value:.3f}"


@main.command("train-scorer")
@index_option
@click.option(
    "--questions",
    "question_files",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSONL question set to learn from (repeatable), e.g. bench/questions/train-a.jsonl.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Model file to write (default: the one the package ships, qa/evidence.json).",
)
@click.option(
    "--types-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the reader of the kinds of answer a question asks for (default: "
    "the one the package ships, qa/answer_types.json).",
)
@click.option(
    "--joins-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the model that decides whether another release joins an answer "
    "(default: the one the package ships, qa/joins.json).",
)
@click.option(
    "--joins-only",
    is_flag=True,
    help="Fit only the join model, under the reader and evidence model in place.",
)
def train_scorer(
    index_dir: Path | None,
    question_files: tuple[Path, ...],
    out: Path | None,
    types_out: Path | None,
    joins_out: Path | None,
    joins_only: bool,
) -> None:
    """Fit the reader of the kinds of answer questions ask for, then the evidence model (a
    LightGBM ranker), then the model that decides whether another release joins an answer,
    on question sets, and write the three.

    Needs scikit-learn (pip install -e '.[train]'). Prints cross-validated figures beside
    those of the models they replace.
    """
    from qa.answer_types import TYPES_FILE, TypeReader
    from qa.engine import EngineHolder
    from qa.evaluation import load_questions
    from qa.evidence import WEIGHTS_FILE
    from qa.joining import JOINS_FILE
    from qa.training import collect_joins, collect_pairs, fit, fit_joins, read_types

    settings = _settings(index_dir=index_dir)
    try:
        questions = [q for path in question_files for q in load_questions(path)]
        _loading("the model and the index")
        engine = EngineHolder(settings).get()
        readers: list[TypeReader] = []
        if not joins_only:
            reader, readers = read_types(engine, questions)
            pairs = collect_pairs(engine, questions, readers)
            scorer, report = fit(pairs, engine.composer.scorer)
            types_target = types_out or TYPES_FILE
            reader.save(types_target)
            for key, value in reader.trained.items():
                click.echo(f"{'kinds ' + key:<18} {value}")
            click.echo(f"Wrote {types_target}.")
            target = out or WEIGHTS_FILE
            scorer.save(target)
            for key, value in report.items():
                click.echo(f"{key:<18} {value}")
            click.echo(f"Wrote {target}.")
            # the joins are decided on the scores of the evidence model just fitted
            engine.composer.scorer = scorer
        joins = collect_joins(engine, questions, readers)
    except QAError as exc:
        raise click.ClickException(exc.message) from None
    try:
        joiner, joins_report = fit_joins(joins)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    joins_target = joins_out or JOINS_FILE
    joiner.save(joins_target)
    for key, value in joins_report.items():
        click.echo(f"{'joins ' + key:<18} {value}")
    click.echo(f"Wrote {joins_target}.")


@main.group()
def watch() -> None:
    """Watched questions: asked again on every new build, their new answers recorded (and sent
    to a webhook), shown at /api/watches and in the Atom feed /watches.atom."""


@watch.command("add")
@click.argument("question")
@index_option
@click.option("--date-from", help="Only releases on or after this date (YYYY-MM-DD).")
@click.option("--date-to", help="Only releases on or before this date (YYYY-MM-DD).")
@click.option("--source", help="Only releases from this source.")
@click.option(
    "--webhook",
    help="POST each new answer here as JSON, signed with HMAC-SHA256 (the secret is printed once).",
)
def watch_add(
    question: str,
    index_dir: Path | None,
    date_from: str | None,
    date_to: str | None,
    source: str | None,
    webhook: str | None,
) -> None:
    """Watch QUESTION: ask it now, and again after every new build."""
    from qa.engine import EngineHolder
    from qa.payloads import parse_request, result_json
    from qa.state import State

    settings = _settings(index_dir=index_dir)
    try:
        question, _, _, filters = parse_request(
            settings,
            {
                "question": question,
                "filters": {"date_from": date_from, "date_to": date_to, "source": source},
            },
        )
        state = State(settings.state_folder())
        added = state.add_watch(
            question,
            {"date_from": filters.date_from, "date_to": filters.date_to, "source": filters.source},
            webhook,
        )
        click.echo(f"Watching {added['id']}: {question}")
        if added.get("webhook_secret"):
            click.echo(
                f"Webhook secret (shown once; verify X-QA-Signature with it): "
                f"{added['webhook_secret']}"
            )
        try:
            _loading("the model and the index")
            engine = EngineHolder(settings).get()
        except QAError as exc:
            click.echo(f"Not asked yet ({exc.message}); it will be after the next build.", err=True)
            return
        reply = result_json(engine.ask(question, filters=filters))
        state.record(added["id"], engine.index.manifest.build_id, reply)
        click.echo(f"Now: {reply['answer']}")
    except QAError as exc:
        raise click.ClickException(exc.message) from None


@watch.command("list")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON as GET /api/watches.")
def watch_list(index_dir: Path | None, as_json: bool) -> None:
    """List the watched questions, with their last answer and changes."""
    from qa.state import State

    watches = State(_settings(index_dir=index_dir).state_folder()).watches()
    if as_json:
        click.echo(json.dumps({"watches": watches}, indent=2, ensure_ascii=False))
        return
    if not watches:
        click.echo('No watched questions. `qa watch add "QUESTION"` adds one.')
    for w in watches:
        last = w["last"]
        said = (last["text"][:100] + ("..." if len(last["text"]) > 100 else "")) if last else "-"
        hook = "  (webhook)" if w["webhook"] else ""
        click.echo(f"{w['id']}  {w['question']}{hook}\n    {w['changes']} changes; now: {said}")


@watch.command("remove")
@click.argument("watch_id")
@index_option
def watch_remove(watch_id: str, index_dir: Path | None) -> None:
    """Stop watching WATCH_ID (and forget its history)."""
    from qa.state import State

    try:
        State(_settings(index_dir=index_dir).state_folder()).remove_watch(watch_id)
    except QAError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Removed watch {watch_id}.")


@watch.command("check")
@index_option
def watch_check(index_dir: Path | None) -> None:
    """Ask every watched question on the live build now (a rebuild does this by itself)."""
    _check_watches(_settings(index_dir=index_dir))


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

    settings = _settings(
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
