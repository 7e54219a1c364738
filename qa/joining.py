"""Whether another release joins an answer: a rule it must pass, then a fitted model's veto.

An answer starts from the best sentence's release. A sentence of another release that scores
nearly as well may join it: a second defendant's case the question asks about too, another
figure the reader should see, or the same case told by another release. Or it may be only
another case of the same kind, which the reader should not be shown as an answer. A logistic
regression over what the selector knows at that moment (``FEATURES``: how the sentence scores
against the best, what it adds to the sentences already chosen, how much of the question its
release names) gives the probability that the release is one the question asks about, or
that the sentence holds an answer the chosen ones lack; a sentence the rule (``admitted``)
lets in is kept out when that is below ``THRESHOLD``. It is fitted by `qa train-scorer` on
the join decisions of the training questions, labelled that way (``training.collect_joins``),
and ships as data (``joins.json`` beside this module).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

JOINS_FILE = Path(__file__).resolve().parent / "joins.json"
FEATURES = (
    "gap",  # the best sentence's score minus this sentence's
    "score",  # its score
    "about",  # its release has the question's key words, or it covers a word as rare
    "key_share",  # the share of the question's key words its release has
    "new_terms",  # IDF-weighted share of the question's words it has and no chosen sentence has
    "new_value",  # it gives an answer of the kind asked (a figure, a date) none chosen gives
    "release",  # 1 / (1 + its release's rank among the releases of the scored sentences)
    "quoted",  # how many releases the answer already quotes
    "names_release",  # the share of the question's name words its release has
    "names_gain",  # that share minus the largest a release already quoted has
    "semantic",  # the evidence model's inputs for it (``evidence.FEATURES``)
    "coverage",
    "typed_gap",
    "subject",
    "passage",
    "names",
    "kind",
    "repeat",  # the largest share of words it has in common with a chosen sentence (Jaccard)
    "names_missing",  # the share of the question's name words no release quoted has
    "names_shared",  # the share of the names it gives (not the question's) a quoted release has
    "names_foreign",  # the share of them no quoted release has
    "lead_shared",  # the share of the names its release opens with that a quoted release has
    "list",  # whether the question asks for a list
    "followup",  # whether the question follows another
)
# a sentence the rule admits is kept out when the model finds it less likely than this to be
# asked about: on the training decisions, cross-validated, where what it keeps out stops being
# mostly bad joins (50 bad against 8 good at 0.25, 55 against 15 at 0.30; docs/decisions.md)
THRESHOLD = 0.25
ABOUT, NEW_TERMS, NEW_VALUE = (FEATURES.index(f) for f in ("about", "new_terms", "new_value"))
REGULARISATION = 0.1  # scikit-learn's C (cross-validated AUC 0.692 against 0.685 at 1)


def admitted(row: Sequence[float]) -> bool:
    """The rule a sentence of another release must pass to join: its release is about the
    question (it has the question's key words, or the sentence covers a word as rare), and it
    brings something new (a word of the question the chosen sentences do not cover, or
    another answer of the kind asked for: a different figure or date, which the reader
    should see beside the first)."""
    return bool(row[ABOUT]) and (row[NEW_TERMS] > 0 or row[NEW_VALUE] > 0)


@dataclass(frozen=True)
class Joiner:
    """A logistic regression over ``FEATURES``, each centred and scaled by the training rows'
    mean and spread."""

    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float = THRESHOLD
    trained: dict[str, Any] | None = None

    def probability(self, row: Sequence[float]) -> float:
        """The probability that a sentence with the features ``row`` should join."""
        import numpy as np

        x = (np.asarray(row, dtype=np.float64) - self._arrays[0]) / self._arrays[1]
        z = float(self._arrays[2] @ x) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def joins(self, row: Sequence[float]) -> bool:
        """Whether a sentence with the features ``row`` joins: it passes the rule
        (``admitted``) and the model does not find it unlikely (below ``threshold``)."""
        return admitted(row) and self.probability(row) >= self.threshold

    @cached_property
    def _arrays(self) -> tuple[Any, Any, Any]:
        import numpy as np

        return (
            np.asarray(self.means, dtype=np.float64),
            np.asarray(self.scales, dtype=np.float64),
            np.asarray(self.weights, dtype=np.float64),
        )

    def save(self, path: Path) -> None:
        data = {
            "features": list(FEATURES),
            "means": list(self.means),
            "scales": list(self.scales),
            "weights": list(self.weights),
            "bias": self.bias,
            "threshold": self.threshold,
            "trained": self.trained or {},
        }
        path.write_text(json.dumps(data, indent=1) + "\n")

    @staticmethod
    def load(path: Path = JOINS_FILE) -> Joiner:
        data = json.loads(path.read_text())
        if list(data["features"]) != list(FEATURES):
            raise ValueError(
                f"{path} decides joins on other features than this version: run `qa train-scorer`"
            )
        return Joiner(
            means=tuple(float(x) for x in data["means"]),
            scales=tuple(float(x) for x in data["scales"]),
            weights=tuple(float(x) for x in data["weights"]),
            bias=float(data["bias"]),
            threshold=float(data.get("threshold", THRESHOLD)),
            trained=dict(data.get("trained", {})),
        )

    @staticmethod
    def fit(rows: Any, labels: Sequence[int], trained: dict[str, Any] | None = None) -> Joiner:
        """Fit the regression on join decisions (``FEATURES`` rows) and their 0/1 labels."""
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        x = np.asarray(rows, dtype=np.float64)
        means = x.mean(axis=0)
        scales = np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
        fitted = LogisticRegression(C=REGULARISATION, max_iter=2000).fit(
            (x - means) / scales, np.asarray(labels, dtype=int)
        )
        return Joiner(
            means=tuple(float(v) for v in means),
            scales=tuple(float(v) for v in scales),
            weights=tuple(float(v) for v in fitted.coef_[0]),
            bias=float(fitted.intercept_[0]),
            trained=trained,
        )
