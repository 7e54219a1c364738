"""What the `qa` commands share: their settings read from the environment, the --index
option, and the word that a slow load is under way."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from qa.config import Settings


def env_settings(**overrides: Any) -> Settings:
    """The settings from the environment with ``overrides``; an invalid value is the command's
    error, not a traceback."""
    try:
        return Settings.from_env(**overrides)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def say_loading(what: str) -> None:
    """Say on stderr what the next silent wait is, when a person is watching the terminal."""
    if sys.stderr.isatty():
        click.echo(f"Loading {what}...", err=True)


index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path),
    help="Index folder (default: index/ or QA_INDEX_DIR).",
)
