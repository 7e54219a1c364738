"""Evidence scoring: general features of a (question, candidate sentence) pair and the fitted
model that scores them.

The model ships as data (``evidence.json`` beside this module) and `qa train-scorer` fits it
again: a LightGBM ranker (lambdarank) on the sentences of each training question, labelled by
whether they hold one of its expected phrases. Its score is mapped onto the scale the
composer's margins were set on (mean and spread of the best candidates' scores under the model
it replaces); a logistic calibration of the best sentence's score, fitted on held-out folds, is
the probability an answer reports as ``confidence``. A linear model (weights per feature) is
the other form a file may hold: the hand weights the tests pin the composer's rules with.
"""

from __future__ import annotations

import json
import math
import operator
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from qa.naming import WORD

WEIGHTS_FILE = Path(__file__).resolve().parent / "evidence.json"

# One row per (question, sentence) pair; the order is the weights file's.
FEATURES = (
    "semantic",  # the sentence's dense similarity to the question
    "neighbourhood",  # the best dense similarity of the sentences beside it
    "coverage",  # IDF-weighted share of the question's terms the sentence holds
    "carried",  # share of a follow-up's borrowed terms its release holds (not the sentence)
    "kind",  # share of the kinds of answer asked for (money, date, ...) the sentence holds
    "passage",  # the retrieved passage's dense similarity
    "release",  # 1 / (1 + the release's rank in the search)
    "early",  # 1 - the sentence's relative position in its release
    "names",  # share of the names the question gives that the sentence has
    "names_release",  # share of those names its release has
    "person",  # asked who: whether the sentence names a person
    "list",  # asked for a list: whether the sentence is a list's lead-in or item
    "tense_clash",  # asked what happened: whether the sentence tells of what is to come
    # against the question's other sentences: what the question's own order says
    "semantic_gap",  # semantic minus the best semantic among them
    "coverage_gap",  # coverage minus the best coverage among them
    "semantic_rank",  # the share of them more similar to the question
    # what the sentence adds to the question
    "novelty",  # the share of its terms the question does not have
    "predicate",  # the share of the question's terms outside its names that it has
    "new_names",  # capitalised runs the question does not name, at most 3, / 3
    "new_numbers",  # figures the question does not give, at most 3, / 3
    "length",  # its length in characters / 400, at most 1
    "digits",  # whether it has a digit
    # the kinds of answer the question asks for, read by a fitted model (``answer_types``)
    "typed_gap",  # the share of them it holds, each weighed by its probability, minus the
    # best share among the question's sentences
    "subject",  # for a follow-up: the share of the words of the names the answer it follows
    # opens with ("Rolls-Royce plc.") that its release has
    # the question's embedding mapped by a fitted matrix (``adapter``) before the product
    "adapted",  # the sentence's dense similarity to the mapped question
    "adapted_gap",  # adapted minus the best adapted among the question's sentences
)


FUTURE = re.compile(
    r"\b(?:to be held|will|shall|(?:is|are) (?:scheduled|set|expected|due) to|upcoming|"
    r"forthcoming)\b",
    re.I,
)


def tells_ahead(text: str) -> bool:
    """Whether a sentence tells of what is to come ("... to be held in Chile in March"): asked
    what happened, that is a tense clash (``FEATURES``)."""
    return bool(FUTURE.search(text))


# a run of capitalised words (joined by "of", "and", "&", "de") not at a sentence's start; it
# opens with the capital, looking behind it after, so that the search skips to capitals
NAME_RUN = re.compile(r"[A-Z](?<=\S\s[A-Z])[\w'’&.-]*(?:\s+(?:of|and|&|de)?\s*[A-Z][\w'’&.-]*)*")
FIGURE = re.compile(r"\$?\d[\d,.]*")
CAP = 3  # new names and figures counted up to


@dataclass(frozen=True, slots=True)
class Surface:
    """What a sentence shows on its face: the words of its capitalised runs, its figures,
    its length."""

    runs: tuple[frozenset[str], ...]
    figures: frozenset[str]
    length: int
    digits: bool


def surface(text: str) -> Surface:
    """Read a sentence's ``Surface``."""
    figures = frozenset(FIGURE.findall(text))
    return Surface(
        runs=tuple(frozenset(WORD.findall(m.group().lower())) for m in NAME_RUN.finditer(text)),
        figures=figures,
        length=len(text),
        # a figure has an ASCII digit; other digits ("²") are looked for only in other text
        digits=bool(figures) or (not text.isascii() and any(c.isdigit() for c in text)),
    )


def added(
    question_words: frozenset[str], figures: frozenset[str], face: Surface
) -> tuple[float, float]:
    """The share (of ``CAP``) of names and figures a sentence gives that the question does not."""
    names = 0
    for run in face.runs:
        if not run <= question_words:
            names += 1
            if names == CAP:
                break
    return names / CAP, min(len(face.figures - figures), CAP) / CAP


class Scorer:
    """A model of evidence: scores (question, sentence) rows on the composer's scale, and the
    probability that the best-scored sentence holds the answer. ``load`` reads either form."""

    scale: float
    shift: float
    trained: dict[str, Any]

    def scores(self, rows: Sequence[Sequence[float]]) -> list[float]:
        raise NotImplementedError

    def probability(self, score: float) -> float:
        """The probability that a question's best sentence, of ``score``, holds its answer."""
        raise NotImplementedError

    def save(self, path: Path) -> None:
        raise NotImplementedError

    @staticmethod
    def load(path: Path = WEIGHTS_FILE) -> Scorer:
        """Read a model file: a ranker if it holds one, else linear weights. A feature a
        linear file does not weigh weighs nothing (the file predates it); a ranker must have
        been fitted on this version's features or on the first of them (a ranker that
        predates the last ones does not read them: `qa train-scorer` labels with it); a
        feature this version does not compute is refused."""
        data = json.loads(path.read_text())
        unknown = [f for f in data["features"] if f not in FEATURES]
        if unknown:
            raise ValueError(
                f"{path} weighs features {unknown} this version does not compute: "
                "run `qa train-scorer`"
            )
        if "model" in data:
            if list(data["features"]) != list(FEATURES)[: len(data["features"])]:
                raise ValueError(
                    f"{path} was fitted on other features than this version computes: "
                    "run `qa train-scorer`"
                )
            a, b = data["calibration"]
            return Ranker(
                model=str(data["model"]),
                calibration=(float(a), float(b)),
                scale=float(data["scale"]),
                shift=float(data["shift"]),
                trained=dict(data.get("trained", {})),
            )
        return Linear(
            weights=tuple(float(data["weights"].get(f, 0.0)) for f in FEATURES),
            bias=float(data["bias"]),
            scale=float(data["scale"]),
            shift=float(data["shift"]),
            trained=dict(data.get("trained", {})),
        )


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))


@dataclass(frozen=True)
class Linear(Scorer):
    """A linear model: ``score = sum(weight * feature) + bias`` on the composer's scale, its
    probability the sigmoid of ``(score - shift) / scale``."""

    weights: tuple[float, ...]
    bias: float
    scale: float
    shift: float
    trained: dict[str, Any]

    def score(self, row: Sequence[float]) -> float:
        """Return one row's score on the composer's scale."""
        if len(row) != len(self.weights):
            raise ValueError(f"{len(row)} features for {len(self.weights)} weights")
        return sum(map(operator.mul, self.weights, row)) + self.bias

    def scores(self, rows: Sequence[Sequence[float]]) -> list[float]:
        return [self.score(r) for r in rows]

    def probability(self, score: float) -> float:
        return _sigmoid((score - self.shift) / self.scale)

    def save(self, path: Path) -> None:
        data = {
            "features": list(FEATURES),
            "weights": dict(zip(FEATURES, self.weights, strict=True)),
            "bias": self.bias,
            "scale": self.scale,
            "shift": self.shift,
            "trained": self.trained,
        }
        path.write_text(json.dumps(data, indent=2) + "\n")


@dataclass(frozen=True)
class Ranker(Scorer):
    """A LightGBM ranker (its text form in ``model``): ``score = scale * raw + shift`` on the
    composer's scale; the probability that a question's best sentence holds the answer
    ``sigmoid(a * raw + b)``, (a, b) = ``calibration``, fitted on held-out folds' best
    sentences (the features of the sentence beside the score added nothing: cross-validated
    AUC 0.73 with them, 0.72 without, 2026-12-06)."""

    model: str
    calibration: tuple[float, float]
    scale: float
    shift: float
    trained: dict[str, Any]
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @cached_property
    def booster(self) -> Any:
        import lightgbm

        return lightgbm.Booster(model_str=self.model)

    def raw(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """The ranker's own scores of ``rows``."""
        import numpy as np

        if not rows:
            return []
        x = np.asarray(rows, dtype=np.float64)
        if x.shape[1] != len(FEATURES):
            raise ValueError(f"{x.shape[1]} features for a model of {len(FEATURES)}")
        x = x[:, : self.booster.num_feature()]  # a ranker that predates the last features
        with self._lock:  # one prediction at a time per model, on one thread
            out = self.booster.predict(x, num_threads=1)
        return out.tolist()

    def scores(self, rows: Sequence[Sequence[float]]) -> list[float]:
        return [self.scale * v + self.shift for v in self.raw(rows)]

    def probability(self, score: float) -> float:
        a, b = self.calibration
        return _sigmoid(a * (score - self.shift) / self.scale + b)

    def save(self, path: Path) -> None:
        data = {
            "features": list(FEATURES),
            "model": self.model,
            "calibration": list(self.calibration),
            "scale": self.scale,
            "shift": self.shift,
            "trained": self.trained,
        }
        path.write_text(json.dumps(data, indent=2) + "\n")
