"""`qa ask` and `qa chat`: a question answered in the terminal, its sentences printed as they
come, with its sources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from qa.cli_options import env_settings, index_option, say_loading
from qa.errors import QAError


@click.command()
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
    from qa.live import EngineHolder
    from qa.payloads import parse_request, result_json

    settings = env_settings(index_dir=index_dir)
    payload: dict[str, Any] = {
        "question": question,
        "k": k or settings.top_k,
        "filters": {"date_from": date_from, "date_to": date_to, "source": source},
    }
    try:
        if history_file:
            payload["history"] = json.load(history_file)
        parsed = parse_request(settings, payload)
        say_loading("the model and the index")
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


@click.command()
@index_option
def chat(index_dir: Path | None) -> None:
    """Ask questions one after another; follow-ups use the conversation.

    Type a question and press Enter; "/new" starts a new conversation, "/help" lists the
    commands; Ctrl+D (or "/quit") ends.
    """
    from qa.chat import Turn
    from qa.live import EngineHolder

    settings = env_settings(index_dir=index_dir)
    try:
        say_loading("the model and the index")
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
