"""The kind of answer a question asks for, read by a fitted model from the question's
embedding: a name (a person, a company, a place), a sum of money, a duration, a date, a
number, or something else (an act, a reason).

The model is one logistic regression per kind over the question's embedding (the one search
computed) and the words that ask ("where", "how much"), fitted on training questions labelled
by the kind of their expected phrases (``label``); it ships as data (``answer_types.json``
beside this module) and `qa train-scorer` fits it again before the evidence model. Its
probabilities weigh which kinds a sentence is asked to hold (the evidence model's
"typed_gap" feature). It reads what the question's words do not say plainly: "Which former
Salem police officer was sentenced to 30 months?" asks for a name, not a duration, though it
names a sentence.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from qa import kinds

TYPES_FILE = Path(__file__).resolve().parent / "answer_types.json"
TYPES = ("name", "money", "duration", "date", "number", "other")
# how much each model's weights are held back (scikit-learn's C; cross-validated by question
# set over train-a to h, dev and follow-ups on 2026-12-06: 0.3, 1, 3, 10 gave the right most
# likely kind for 0.71, 0.82, 0.854, 0.86 of the questions; 3 is where it levels off)
REGULARISATION = 3.0
# a count in words ("an eight-count information", "twelve defendants")
NUMBER_WORD = re.compile(rf"\b(?:{kinds.NUMBER_WORDS})\b", re.I)


# a time named without a day's number ("in March", "on Wednesday"), capitalised: "to march" is
# none, nor "may"
TIME_WORD = re.compile(
    r"\b(?:January|February|March|April|June|July|August|September|October|November|December|"
    r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|\bMay \d"
)


def names_a_time(text: str) -> bool:
    """Whether a text names a month or a day of the week (``TIME_WORD``)."""
    return bool(TIME_WORD.search(text))


def counts_in_words(text: str) -> bool:
    """Whether a text gives a count in words (``NUMBER_WORD``)."""
    return bool(NUMBER_WORD.search(text))


def label(phrase: str, question: str) -> str:
    """The kind of answer an expected phrase is: money, a duration, a date or another number
    as the composer's patterns find them; else a name if it is capitalised and not the
    question's own words; else "other"."""
    if kinds.value_pattern("money").search(phrase):
        return "money"
    for name in ("duration", "date"):
        if kinds.value_pattern(name).search(phrase):
            return name
    if any(c.isdigit() for c in phrase) or counts_in_words(phrase):
        return "number"
    if phrase[:1].isupper() and phrase.lower() not in question.lower():
        return "name"
    return "other"


def labels(phrases: Sequence[str], question: str) -> tuple[int, ...]:
    """One 0/1 per kind (``TYPES``): which kinds a question's expected phrases are."""
    found = {label(p, question) for p in phrases}
    return tuple(int(t in found) for t in TYPES)


NONE = (0.0,) * len(TYPES)  # what a reader of another model's embeddings reads
# The words that ask: an embedding tells "Where was the conference held?" and "When was the
# conference held?" apart less than they differ. Each is one input beside the embedding: 1 if
# the question has it.
WH = (
    "who",
    "whom",
    "whose",
    "what",
    "which",
    "when",
    "where",
    "why",
    "how",
    "how much",
    "how many",
    "how long",
    "how old",
    "name",
    "list",
)
_WH = tuple(re.compile(rf"\b{w}\b", re.I) for w in WH)


def inputs(vector: Any, question: str) -> Any:
    """What a reader reads of a question: its embedding, then one input per asking word
    (``WH``)."""
    import numpy as np

    asked = [1.0 if w.search(question) else 0.0 for w in _WH]
    return np.concatenate([np.asarray(vector, dtype=np.float64), np.asarray(asked)])


@dataclass(frozen=True)
class TypeReader:
    """Per kind of answer (``TYPES``), the weights and bias of a logistic regression over a
    question's embedding by ``model`` and its asking words (``inputs``)."""

    model: str  # the embedding model whose vectors it reads (an index's, without its backend)
    weights: tuple[tuple[float, ...], ...]
    biases: tuple[float, ...]
    trained: dict[str, Any]

    def reads(self, model: str) -> bool:
        """Whether it reads the embeddings of ``model`` (an index's model, any backend)."""
        return model.partition("+")[0] == self.model

    def probabilities(self, x: Any) -> tuple[float, ...]:
        """The probability of each kind (``TYPES``) that a question asks for it, read from its
        ``inputs``; none of any kind for inputs of another size (another model's)."""
        import numpy as np

        x = np.asarray(x, dtype=np.float64)
        if x.shape != (self._matrix.shape[1],):
            return NONE
        z = self._matrix @ x + self._biases
        return tuple(1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, float(v))))) for v in z)

    @cached_property
    def _matrix(self) -> Any:
        """The weights as an array, made once (each question's reading multiplies by it)."""
        import numpy as np

        return np.asarray(self.weights, dtype=np.float64)

    @cached_property
    def _biases(self) -> Any:
        import numpy as np

        return np.asarray(self.biases, dtype=np.float64)

    def save(self, path: Path) -> None:
        data = {
            "model": self.model,
            "types": list(TYPES),
            "weights": [list(w) for w in self.weights],
            "biases": list(self.biases),
            "trained": self.trained,
        }
        path.write_text(json.dumps(data) + "\n")

    @staticmethod
    def load(path: Path = TYPES_FILE) -> TypeReader:
        data = json.loads(path.read_text())
        if list(data["types"]) != list(TYPES):
            raise ValueError(
                f"{path} reads other kinds of answer than this version: run `qa train-scorer`"
            )
        return TypeReader(
            model=str(data["model"]),
            weights=tuple(tuple(float(x) for x in w) for w in data["weights"]),
            biases=tuple(float(b) for b in data["biases"]),
            trained=dict(data.get("trained", {})),
        )

    @staticmethod
    def fit(
        model: str, rows: Any, targets: Sequence[Sequence[int]], trained: dict[str, Any]
    ) -> TypeReader:
        """Fit one logistic regression per kind on the ``inputs`` of questions (embedded by
        ``model``) and their ``labels``; a kind no question (or every question) asks for gets
        a constant."""
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        x = np.asarray(rows, dtype=np.float64)
        y = np.asarray(targets, dtype=int)
        weights, biases = [], []
        for j in range(len(TYPES)):
            column = y[:, j]
            if column.min() == column.max():
                share = min(max(float(column.mean()), 1e-3), 1 - 1e-3)
                weights.append((0.0,) * x.shape[1])
                biases.append(math.log(share / (1 - share)))
                continue
            fitted = LogisticRegression(C=REGULARISATION, max_iter=2000).fit(x, column)
            weights.append(tuple(float(v) for v in fitted.coef_[0]))
            biases.append(float(fitted.intercept_[0]))
        return TypeReader(model.partition("+")[0], tuple(weights), tuple(biases), trained)
