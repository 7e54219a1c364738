"""Fit the evidence model (`qa train-scorer`): label the sentences answers choose from by
whether they hold a question's expected phrases, fit a logistic regression on their features,
cross-validate it against the weights it would replace, and write the weights file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qa.evidence import FEATURES, Scorer

if TYPE_CHECKING:
    from qa.engine import Engine
    from qa.evaluation import Question

PAIRS_PER_QUESTION = 40  # the best-scored sentences of each question that are labelled
MAPPED_PER_QUESTION = 10  # the best sentences whose scores set the scale mapping
FOLDS = 5


@dataclass
class Pairs:
    """Labelled (question, sentence) pairs: features, label, the question each belongs to."""

    rows: list[tuple[float, ...]] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    answerable: dict[int, bool] = field(default_factory=dict)


def collect_pairs(engine: Engine, questions: Sequence[Question]) -> Pairs:
    """Run each question through the search answers use and label its best sentences."""
    pairs = Pairs()
    for n, q in enumerate(questions):
        found = engine.found(q.question, q.context)
        candidates = engine.composer.evidence(found.question, found.hits, found.vector)[
            :PAIRS_PER_QUESTION
        ]
        phrases = [p.lower() for p in q.answer_contains]
        pairs.answerable[n] = bool(phrases)
        for c in candidates:
            text = c.release.text[c.unit.start : c.unit.end].lower()
            pairs.rows.append(c.features)
            pairs.labels.append(int(any(p in text for p in phrases)))
            pairs.groups.append(n)
    return pairs


def _top1(scores: Sequence[float], pairs: Pairs, keep: set[int]) -> float:
    """The share of answerable questions whose best-scored sentence holds an answer."""
    best: dict[int, tuple[float, int]] = {}
    for s, y, g in zip(scores, pairs.labels, pairs.groups, strict=True):
        if g in keep and pairs.answerable[g] and (g not in best or s > best[g][0]):
            best[g] = (s, y)
    return sum(y for _, y in best.values()) / max(1, len(best))


def fit(pairs: Pairs, baseline: Scorer) -> tuple[Scorer, dict[str, Any]]:
    """Fit the model on all pairs; report cross-validated figures beside ``baseline``'s."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    x = np.asarray(pairs.rows, dtype=np.float64)
    y = np.asarray(pairs.labels)
    groups = np.asarray(pairs.groups)
    base = np.asarray([baseline.score(r) for r in pairs.rows])
    cv: dict[str, list[float]] = {"auc": [], "auc_baseline": [], "top1": [], "top1_baseline": []}
    for train, test in GroupKFold(n_splits=FOLDS).split(x, y, groups):
        model = LogisticRegression(C=1.0, max_iter=2000).fit(x[train], y[train])
        z = model.decision_function(x[test])
        keep = set(groups[test].tolist())
        sub = Pairs(
            rows=[],
            labels=y[test].tolist(),
            groups=groups[test].tolist(),
            answerable=pairs.answerable,
        )
        if len(set(y[test].tolist())) == 2:
            cv["auc"].append(float(roc_auc_score(y[test], z)))
            cv["auc_baseline"].append(float(roc_auc_score(y[test], base[test])))
        cv["top1"].append(_top1(z.tolist(), sub, keep))
        cv["top1_baseline"].append(_top1(base[test].tolist(), sub, keep))
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    w, b = model.coef_[0], float(model.intercept_[0])
    z = x @ w + b
    # the scale the composer's margins were set on: the baseline's best sentences per question
    top = np.zeros(len(y), dtype=bool)
    for g in set(pairs.groups):
        rows = np.flatnonzero(groups == g)
        top[rows[np.argsort(-base[rows])[:MAPPED_PER_QUESTION]]] = True
    scale = float(np.std(base[top]) / max(np.std(z[top]), 1e-9))
    shift = float(np.mean(base[top]) - scale * np.mean(z[top]))
    report = {
        "pairs": len(y),
        "positives": int(y.sum()),
        "questions": len(set(pairs.groups)),
        **{f"cv_{k}": round(float(np.mean(v)), 4) for k, v in cv.items() if v},
    }
    scorer = Scorer(
        weights=tuple(float(scale * wi) for wi in w),
        bias=scale * b + shift,
        scale=scale,
        shift=shift,
        trained={**report, "logit": dict(zip(FEATURES, map(float, w), strict=True)), "bias": b},
    )
    return scorer, report
