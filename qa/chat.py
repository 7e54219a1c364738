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


@dataclass(frozen=True)
class Query:
    """A question made self-contained: the text to search with, and the context it borrowed."""

    question: str
    context: str = ""

    @property
    def text(self) -> str:
        """Return the standalone query: the question, then the borrowed context in brackets."""
        return f"{self.question} ({self.context})" if self.context else self.question


def standalone_query(question: str, history: Sequence[Turn]) -> Query:
    """Make ``question`` self-contained with the previous user question when it needs it."""
    question = question.strip()
    previous = [t.content.strip() for t in history if t.role == "user" and t.content.strip()]
    if not previous:
        return Query(question)
    if not (
        ANAPHORA.search(question) or FOLLOW_UP_START.search(question) or len(question.split()) <= 3
    ):
        return Query(question)
    return Query(question, previous[-1])
