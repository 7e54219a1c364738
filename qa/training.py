"""Fit the evidence model (`qa train-scorer`): label the sentences answers choose from by
whether they hold a question's expected phrases, fit a LightGBM ranker on their features,
cross-validate it against the model it would replace, calibrate the probability of its best
sentence on the held-out folds, and write the model file."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qa import answer_types, joining
from qa.adapter import Adapter
from qa.answer_types import TYPES, TypeReader
from qa.evidence import FEATURES, Ranker, Scorer
from qa.joining import Joiner

if TYPE_CHECKING:
    from qa.engine import Engine
    from qa.evaluation import Question

PAIRS_PER_QUESTION = 40  # the best-scored sentences of each question that are labelled
MAPPED_PER_QUESTION = 10  # the best sentences whose scores set the scale mapping
FOLDS = 5
# The ranker's settings: small trees, many of them, each seeing part of the rows and features
# (chosen by cross-validated top-1 on train-a/b + dev + follow-ups, 2026-12-06; see
# docs/decisions.md)
RANKER: dict[str, Any] = {
    "objective": "lambdarank",
    "n_estimators": 300,
    "learning_rate": 0.05,
    "num_leaves": 7,
    "min_child_samples": 80,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "random_state": 0,
    "deterministic": True,
    "n_jobs": 1,
    "verbose": -1,
}
# Features whose more can only raise (1) or lower (-1) a sentence's score, whatever the rest:
# what the few questions that show an effect teach must not be unlearnt where data is thin
MONOTONE = {
    "semantic": 1,
    "coverage": 1,
    "carried": 1,
    "kind": 1,
    "passage": 1,
    "release": 1,
    "names": 1,
    "names_release": 1,
    "person": 1,
    "list": 1,
    "tense_clash": -1,
    "semantic_gap": 1,
    "coverage_gap": 1,
    "semantic_rank": -1,
    "predicate": 1,
    "typed_gap": 1,
    "subject": 1,
    "adapted": 1,
    "adapted_gap": 1,
}


@dataclass
class Pairs:
    """Labelled (question, sentence) pairs: features, label, the question each belongs to."""

    rows: list[tuple[float, ...]] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    answerable: dict[int, bool] = field(default_factory=dict)
    # what the mapping of the question (``adapter``) is fitted on: each pair's sentence
    # embedding (its row in the index) and each question's embedding
    vector_rows: list[int] = field(default_factory=list)
    question_vectors: dict[int, Any] = field(default_factory=dict)


def read_types(
    engine: Engine, questions: Sequence[Question]
) -> tuple[TypeReader, list[TypeReader]]:
    """Fit the reader of the kinds of answer (``answer_types``) on the questions with
    expected phrases; return it with, per fold of the questions (``FOLDS``, question ``n`` in
    fold ``n % FOLDS``), a reader fitted on the other folds, so that the ranker learns how
    far to trust the reading of a question the reader has not seen. The report in the
    reader's ``trained`` gives the share of questions whose most likely kind, read by the
    reader of the other folds, is one of theirs."""
    import numpy as np

    model = engine.index.manifest.model
    embedded = engine.retriever.encoder.encode([q.question for q in questions])
    vectors = np.asarray(
        [answer_types.inputs(v, q.question) for v, q in zip(embedded, questions, strict=True)]
    )
    targets = [answer_types.labels(q.answer_contains, q.question) for q in questions]
    answerable = [n for n, q in enumerate(questions) if q.answer_contains]
    readers: list[TypeReader] = []
    right = []
    for fold in range(FOLDS):
        train = [n for n in answerable if n % FOLDS != fold]
        reader = TypeReader.fit(model, vectors[train], [targets[n] for n in train], {})
        readers.append(reader)
        for n in answerable:
            if n % FOLDS == fold:
                probabilities = reader.probabilities(vectors[n])
                right.append(targets[n][int(np.argmax(probabilities))])
    trained = {
        "questions": len(answerable),
        "kinds": {t: sum(targets[n][j] for n in answerable) for j, t in enumerate(TYPES)},
        "cv_most_likely_right": round(sum(right) / max(1, len(right)), 4),
    }
    reader = TypeReader.fit(model, vectors[answerable], [targets[n] for n in answerable], trained)
    return reader, readers


def collect_pairs(
    engine: Engine,
    questions: Sequence[Question],
    readers: Sequence[TypeReader] = (),
    adapters: Sequence[Adapter] = (),
) -> Pairs:
    """Run each question through the search answers use and label its best sentences; with
    ``readers`` (one per fold, ``read_types``), each question's kinds of answer are read by
    its fold's reader; with ``adapters`` (one per fold, ``fit_adapters``), its embedding is
    mapped by its fold's mapping."""
    pairs = Pairs()
    for n, q in _by_fold(engine, questions, readers, adapters):
        _label(engine, n, q, pairs)
    return pairs


def _by_fold(
    engine: Engine,
    questions: Sequence[Question],
    readers: Sequence[TypeReader],
    adapters: Sequence[Adapter] = (),
) -> Iterator[tuple[int, Question]]:
    """Yield each question with its number; with ``readers`` (``adapters``), the engine reads
    its kinds of answer (maps its embedding) with its fold's reader (mapping) meanwhile; the
    shipped ones are put back at the end."""
    sentences = engine.composer.sentences
    shipped, shipped_adapter = sentences.types, sentences.adapter
    try:
        for n, q in enumerate(questions):
            if readers:
                sentences.types = readers[n % len(readers)]
            if adapters:
                sentences.adapter = adapters[n % len(adapters)]
            yield n, q
    finally:
        sentences.types, sentences.adapter = shipped, shipped_adapter


def fit_adapters(engine: Engine, pairs: Pairs) -> tuple[Adapter, list[Adapter]]:
    """Fit the mapping of the question (``adapter``) on labelled pairs; return it with, per
    fold (question ``n`` in fold ``n % FOLDS``), a mapping fitted on the other folds, so that
    the ranker learns how far to trust the mapped product of a question it was not fitted on.
    The report in its ``trained`` gives, over the held-out folds' answerable questions, the
    share whose sentence of highest product holds an answer, mapped and not."""
    import numpy as np

    model = engine.index.manifest.model.partition("+")[0]
    groups = np.asarray(pairs.groups)
    labels = np.asarray(pairs.labels)
    if not pairs.vector_rows or min(pairs.vector_rows) < 0:
        raise ValueError("no labelled sentences with embeddings to fit the mapping on")
    sentences = np.asarray(engine.index.unit_vectors[pairs.vector_rows], dtype=np.float32)
    questions = np.asarray([pairs.question_vectors[g] for g in pairs.groups], dtype=np.float32)
    plain = (questions * sentences).sum(1)
    answerable = pairs.answerable
    held = np.zeros(len(labels))
    adapters = []
    for fold in range(FOLDS):
        rows = groups % FOLDS != fold
        adapter = Adapter.fit(model, questions[rows], sentences[rows], labels[rows], groups[rows])
        adapters.append(adapter)
        out = ~rows
        held[out] = (questions[out] @ adapter.matrix.T * sentences[out]).sum(1)
    trained = {
        "pairs": len(labels),
        "questions": len(set(pairs.groups)),
        "cv_top1_mapped": round(_top1(held.tolist(), pairs.labels, pairs.groups, answerable), 4),
        "cv_top1_plain": round(_top1(plain.tolist(), pairs.labels, pairs.groups, answerable), 4),
    }
    adapter = Adapter.fit(model, questions, sentences, labels, groups, trained)
    return adapter, adapters


def _label(engine: Engine, n: int, q: Question, pairs: Pairs) -> None:
    """Label the best sentences of question ``n`` among those its search scored."""
    found = engine.found(q.question, q.context)
    scored = found.scored or engine.composer.evidence(found.question, found.hits, found.vector)
    returned = {h.release.id for h in found.hits}  # the answer chooses among theirs
    candidates = [c for c in scored.candidates if c.release.id in returned][:PAIRS_PER_QUESTION]
    phrases = [p.lower() for p in q.answer_contains]
    pairs.answerable[n] = bool(phrases)
    pairs.question_vectors[n] = found.vector
    for c in candidates:
        text = c.release.text[c.unit.start : c.unit.end].lower()
        pairs.rows.append(c.features)
        pairs.labels.append(int(any(p in text for p in phrases)))
        pairs.groups.append(n)
        pairs.vector_rows.append(c.row)


def _best(scores: Sequence[float], groups: Sequence[int]) -> dict[int, int]:
    """Per question (group): the row of its best-scored sentence."""
    best: dict[int, int] = {}
    for i, g in enumerate(groups):
        if g not in best or scores[i] > scores[best[g]]:
            best[g] = i
    return best


def _top1(
    scores: Sequence[float], labels: Sequence[int], groups: Sequence[int], answerable: Any
) -> float:
    """The share of answerable questions whose best-scored sentence holds an answer."""
    rows = [i for g, i in _best(scores, groups).items() if answerable[g]]
    return sum(labels[i] for i in rows) / max(1, len(rows))


def _ranker(x: Any, y: Any, groups: Any) -> Any:
    """Fit a ranker on rows grouped by question (the rows of a question are contiguous)."""
    import itertools

    import lightgbm

    counts = [len(list(run)) for _, run in itertools.groupby(groups.tolist())]
    if len(counts) != len(set(groups.tolist())):
        raise ValueError("the pairs of a question must be contiguous")
    monotone = [MONOTONE.get(f, 0) for f in FEATURES]
    return lightgbm.LGBMRanker(**RANKER, monotone_constraints=monotone).fit(x, y, group=counts)


def fit(pairs: Pairs, baseline: Scorer) -> tuple[Ranker, dict[str, Any]]:
    """Fit the ranker on all pairs; report cross-validated figures beside ``baseline``'s and
    calibrate the probability of a question's best sentence on the held-out folds' scores."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    x = np.asarray(pairs.rows, dtype=np.float64)
    y = np.asarray(pairs.labels)
    groups = np.asarray(pairs.groups)
    base = np.asarray(baseline.scores(pairs.rows))
    held = np.zeros(len(y))
    cv: dict[str, list[float]] = {"auc": [], "auc_baseline": [], "top1": [], "top1_baseline": []}
    for train, test in GroupKFold(n_splits=FOLDS).split(x, y, groups):
        held[test] = _ranker(x[train], y[train], groups[train]).predict(x[test])
        if len(set(y[test].tolist())) == 2:
            cv["auc"].append(float(roc_auc_score(y[test], held[test])))
            cv["auc_baseline"].append(float(roc_auc_score(y[test], base[test])))
        labels, test_groups = y[test].tolist(), groups[test].tolist()
        cv["top1"].append(_top1(held[test].tolist(), labels, test_groups, pairs.answerable))
        cv["top1_baseline"].append(
            _top1(base[test].tolist(), labels, test_groups, pairs.answerable)
        )
    # the probability that a question's best sentence holds its answer, from the held-out
    # folds' scores of each question's best sentence
    tops = list(_best(held.tolist(), groups.tolist()).values())
    hits = [pairs.labels[i] if pairs.answerable[pairs.groups[i]] else 0 for i in tops]
    confidence = LogisticRegression(C=1.0).fit(held[tops].reshape(-1, 1), hits)
    cv["confidence_auc"] = [float(roc_auc_score(hits, held[tops]))]
    model = _ranker(x, y, groups)
    z = model.predict(x)
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
    importance = model.booster_.feature_importance(importance_type="gain")
    total = float(importance.sum()) or 1.0
    scorer = Ranker(
        model=model.booster_.model_to_string(),
        calibration=(float(confidence.coef_[0][0]), float(confidence.intercept_[0])),
        scale=scale,
        shift=shift,
        trained={
            **report,
            "gain": {
                f: round(float(v) / total, 4) for f, v in zip(FEATURES, importance, strict=True)
            },
        },
    )
    return scorer, report


@dataclass
class Joins:
    """Join decisions (``joining.FEATURES`` rows), each labelled 1 if its release is one the
    question asks about or its sentence holds an expected phrase the sentences chosen before
    it lack, with the question each belongs to."""

    rows: list[tuple[float, ...]] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    # whether the sentence holds an expected phrase the chosen ones lack
    holds: list[int] = field(default_factory=list)


def collect_joins(
    engine: Engine,
    questions: Sequence[Question],
    readers: Sequence[TypeReader] = (),
    adapters: Sequence[Adapter] = (),
) -> Joins:
    """Answer each question and label every decision on whether another release joins the
    answer (``Selector.record``); with ``readers`` and ``adapters``, as ``collect_pairs``."""
    joins = Joins()
    selector = engine.composer.selector
    try:
        for n, q in _by_fold(engine, questions, readers, adapters):
            selector.record = []
            engine.ask(q.question, q.context)
            gold = {*q.release_ids, *q.also_answer}
            phrases = [p.lower() for p in q.answer_contains]
            for row, cand, chosen in selector.record:
                before = " ".join(c.text for c in chosen).lower()
                text = cand.text.lower()
                missing = any(p in text and p not in before for p in phrases)
                joins.rows.append(row)
                joins.labels.append(int(cand.release.id in gold or missing))
                joins.groups.append(n)
                joins.holds.append(int(missing))
    finally:
        selector.record = None
    return joins


def fit_joins(joins: Joins) -> tuple[Joiner, dict[str, Any]]:
    """Fit the join model on all decisions; report, cross-validated by question, its AUC on
    the decisions the rule admits (``joining.admitted``: those it is asked about) and how
    many of those it keeps out at ``joining.THRESHOLD``: joins labelled 0, joins labelled 1,
    and joins whose sentence holds an expected phrase the chosen ones lack."""
    import numpy as np
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    if len(set(joins.labels)) < 2 or len(set(joins.groups)) < FOLDS:
        raise ValueError(
            f"{len(joins.rows)} decisions whether another release joins an answer, in "
            f"{len(set(joins.groups))} questions, are too few to fit the join model: it needs "
            f"decisions both ways, in at least {FOLDS} questions answered from an index of "
            "many releases"
        )
    x = np.asarray(joins.rows, dtype=np.float64)
    y = np.asarray(joins.labels, dtype=int)
    groups = np.asarray(joins.groups)
    held = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=FOLDS).split(x, y, groups):
        fold = Joiner.fit(x[train], y[train].tolist())
        held[test] = [fold.probability(r) for r in x[test]]
    admitted = np.asarray([joining.admitted(r) for r in joins.rows], dtype=bool)
    vetoed = admitted & (held < joining.THRESHOLD)
    both = len(set(y[admitted].tolist())) == 2
    report = {
        "decisions": len(y),
        "asked_about": int(y.sum()),
        "questions": len(set(joins.groups)),
        "admitted": int(admitted.sum()),
        "admitted_asked_about": int(y[admitted].sum()),
        "cv_auc_admitted": round(float(roc_auc_score(y[admitted], held[admitted])), 4)
        if both
        else None,
        "cv_kept_out_0": int((vetoed & (y == 0)).sum()),
        "cv_kept_out_1": int((vetoed & (y == 1)).sum()),
        "cv_kept_out_holding": int((vetoed & (np.asarray(joins.holds) == 1)).sum()),
    }
    return Joiner.fit(x, y.tolist(), report), report
