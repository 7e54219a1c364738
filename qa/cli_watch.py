"""`qa watch`: questions asked again on every new build, their new answers recorded; and the
asking itself, which a rebuild does after publishing."""

from __future__ import annotations

import json
from pathlib import Path

import click

from qa.cli_options import env_settings, index_option, say_loading
from qa.config import Settings
from qa.errors import QAError


def ask_watches(settings: Settings) -> None:
    """Ask the watched questions on the build just published; say what changed."""
    from qa.state import State

    state = State(settings.state_folder())
    if not state.path.exists() or not state.watches():
        return
    from qa.live import EngineHolder
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


@click.group()
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
    from qa.live import EngineHolder
    from qa.payloads import parse_request, result_json
    from qa.state import State

    settings = env_settings(index_dir=index_dir)
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
            say_loading("the model and the index")
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

    watches = State(env_settings(index_dir=index_dir).state_folder()).watches()
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
        State(env_settings(index_dir=index_dir).state_folder()).remove_watch(watch_id)
    except QAError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Removed watch {watch_id}.")


@watch.command("check")
@index_option
def watch_check(index_dir: Path | None) -> None:
    """Ask every watched question on the live build now (a rebuild does this by itself)."""
    ask_watches(env_settings(index_dir=index_dir))
