"""Turn a follow-up question plus the chat history into a standalone query."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# Words that only make sense with an antecedent from earlier in the conversation.
_PRONOUNS = r"he|she|him|her|his|hers|they|them|their|theirs|it|its|this|that|these|those"
ANAPHORA = re.compile(
    rf"\b({_PRONOUNS}|"
    r"the (?:company|defendant|man|woman|case|scheme|release|group|conference|meeting))\b",
    re.IGNORECASE,
)
PRONOUN = re.compile(rf"\b(?:{_PRONOUNS})\b", re.IGNORECASE)
FOLLOW_UP_START = re.compile(r"^\s*(and|also|what about|how about|then|so)\b", re.IGNORECASE)
# "What prison term did the government agree to?", "How much profit did the companies make?":
# a question that speaks of "the" something but names no one (no capitalised word after its
# first, no number) is about what the conversation was about. Typed in lower case, a
# question's names cannot be told, so it is not read this way.
DEFINITE = re.compile(r"\bthe\s+\w", re.IGNORECASE)
NAMED = re.compile(r"(?<!^)\b(?!I\b)[A-Z]|\d")
CHAIN = 3  # user questions a follow-up of follow-ups reaches back through, itself included


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
    answered: str = ""  # for a follow-up: the answer it follows, whose subject it asks about

    @property
    def text(self) -> str:
        """Return the standalone query: the question, then the borrowed context in brackets."""
        return f"{self.question} ({self.context})" if self.context else self.question


def standalone_query(question: str, history: Sequence[Turn]) -> Query:
    """Make ``question`` self-contained with the previous user question when it needs it;
    that question made self-contained the same way if it was a follow-up too ("When was he
    extradited?" after "Which cartel did he lead?" after "What is the latest extradition from
    Mexico?"), back through ``CHAIN`` questions."""
    question = question.strip()
    previous = [t.content.strip() for t in history if t.role == "user" and t.content.strip()]
    if not previous or not follows(question):
        return Query(question)
    last = history[-1]
    answered = last.content.strip() if last.role == "assistant" else ""
    chain = [previous[-1]]
    for earlier in reversed(previous[:-1]):
        if len(chain) >= CHAIN - 1 or not follows(chain[-1]):
            break
        chain.append(earlier)
    context = chain.pop()
    while chain:
        context = Query(chain.pop(), context).text
    return Query(question, context, answered)


def follows(question: str) -> bool:
    """Whether a question only makes sense after an earlier one ("What sentence did he get?")."""
    return bool(
        follows_plainly(question) or ANAPHORA.search(question) or _unnamed_definite(question)
    )


def follows_plainly(question: str) -> bool:
    """Whether a question says by its own words that it follows another: a pronoun, an
    opening "and", or too few words to stand alone. "When was the conference held?" does
    not: it may be a follow-up, or a new question about a conference."""
    return bool(
        PRONOUN.search(question) or FOLLOW_UP_START.search(question) or len(question.split()) <= 3
    )


def _unnamed_definite(question: str) -> bool:
    text = re.sub(r"^\W+", "", question)  # a question may open with a quote or a bracket
    return bool(text[:1].isupper() and DEFINITE.search(text) and not NAMED.search(text))
