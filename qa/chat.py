"""Turn a follow-up question plus the chat history into a standalone query."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# Words that only make sense with an antecedent from earlier in the conversation.
ANAPHORA = re.compile(
    r"\b(he|she|him|her|his|hers|they|them|their|theirs|it|its|this|that|these|those|"
    r"the (?:company|defendant|man|woman|case|scheme|release|group|conference|meeting))\b",
    re.IGNORECASE,
)
FOLLOW_UP_START = re.compile(r"^\s*(and|also|what about|how about|then|so)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Turn:
    """One message of a conversation."""

    role: str  # "user" | "assistant"
    content: str


def standalone_query(question: str, history: Sequence[Turn]) -> str:
    """Return ``question`` made self-contained with the previous user question when it needs it."""
    previous = [t.content.strip() for t in history if t.role == "user" and t.content.strip()]
    if not previous:
        return question.strip()
    if not (
        ANAPHORA.search(question) or FOLLOW_UP_START.search(question) or len(question.split()) <= 3
    ):
        return question.strip()
    return f"{question.strip()} ({previous[-1]})"
