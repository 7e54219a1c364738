"""Whether another release joins an answer: the fitted join model, how the selector asks it,
and how `qa train-scorer` labels and fits it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa import joining
from qa.completion import names_asked
from qa.evaluation import load_questions
from qa.joining import FEATURES, Joiner
from qa.live import EngineHolder
from qa.question import read

REPO = Path(__file__).resolve().parent.parent


def _constant(bias: float) -> Joiner:
    """A join model that decides the same way whatever it reads."""
    n = len(FEATURES)
    return Joiner((0.0,) * n, (1.0,) * n, (0.0,) * n, bias)


def test_a_join_model_is_fitted_saved_and_read_again(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(200, len(FEATURES)))
    gap = FEATURES.index("gap")
    labels = [int(r[gap] < 0) for r in rows]  # close to the best sentence: asked about
    joiner = Joiner.fit(rows, labels, {"decisions": 200})
    # both about the question and bringing a new word of it: the rule admits them
    close, far = np.zeros(len(FEATURES)), np.zeros(len(FEATURES))
    for row in (close, far):
        row[FEATURES.index("about")], row[FEATURES.index("new_terms")] = 1.0, 0.2
    close[gap], far[gap] = -2.0, 2.0
    assert joiner.probability(close) > 0.9 > 0.1 > joiner.probability(far)
    assert joiner.joins(close) and not joiner.joins(far)
    path = tmp_path / "joins.json"
    joiner.save(path)
    again = Joiner.load(path)
    assert again.trained == {"decisions": 200} and again.threshold == joining.THRESHOLD
    assert again.probability(close) == pytest.approx(joiner.probability(close))
    # a model of other features is refused, with the command that fits one
    path.write_text(path.read_text().replace('"gap"', '"colour"'))
    with pytest.raises(ValueError, match="qa train-scorer"):
        Joiner.load(path)


def test_a_join_must_pass_the_rule_before_the_model() -> None:
    row = [0.0] * len(FEATURES)
    about, new_terms, new_value = (FEATURES.index(f) for f in ("about", "new_terms", "new_value"))
    assert not joining.admitted(row)
    row[about] = 1.0
    assert not joining.admitted(row)  # about the question, but bringing nothing new
    row[new_terms] = 0.2
    assert joining.admitted(row)
    row[new_terms], row[new_value] = 0.0, 1.0  # another figure of the kind asked
    assert joining.admitted(row)
    assert _constant(30.0).joins(row) and not _constant(-30.0).joins(row)
    row[about] = 0.0
    assert not _constant(30.0).joins(row)  # the model never lets in what the rule keeps out


def test_the_shipped_join_model_reads_this_versions_features() -> None:
    shipped = Joiner.load()
    assert len(shipped.weights) == len(shipped.means) == len(shipped.scales) == len(FEATURES)
    assert shipped.trained and shipped.trained["decisions"] > 0
    assert 0.0 < shipped.probability(shipped.means) < 1.0


def test_the_join_model_decides_whether_another_release_joins(doj_built) -> None:
    settings, encoder = doj_built
    engine = EngineHolder(settings, encoder=encoder).get()
    selector = engine.composer.selector
    shipped = selector.joiner
    # questions that are not compound (each part of a compound question is answered on its
    # own, from whichever release answers it) and do not name two people or things (the
    # release naming the second one joins without the join model: completion.missing_names)
    questions = [
        q
        for q in load_questions(REPO / "bench" / "questions" / "dev.jsonl")
        if len((r := read(q.question)).parts) < 2 and len(names_asked(r)) < 2
    ]

    def cited(joiner: Joiner) -> list[int]:
        selector.joiner = joiner
        answers = [engine.ask(q.question, q.context).answer for q in questions]
        return [len(a.sources) for a in answers if not a.abstained]

    try:
        selector.record = []
        always = cited(_constant(30.0))
        decisions = selector.record
        selector.record = None
        never = cited(_constant(-30.0))
    finally:
        selector.joiner, selector.record = shipped, None
    # never asked to join, an answer quotes one release; always, some quote more
    assert max(never) == 1 and max(always) > 1
    assert decisions and all(len(row) == len(FEATURES) for row, _, _ in decisions)
    # a decision is about a release that none of the sentences chosen before it is from
    for _, cand, chosen in decisions:
        assert cand.release.id not in {c.release.id for c in chosen}


def test_join_decisions_are_labelled_and_fitted(doj_built) -> None:
    from qa.training import collect_joins, fit_joins

    settings, encoder = doj_built
    engine = EngineHolder(settings, encoder=encoder).get()
    questions = load_questions(REPO / "bench" / "questions" / "dev.jsonl")
    joins = collect_joins(engine, questions)
    assert engine.composer.selector.record is None
    assert len(joins.rows) == len(joins.labels) == len(joins.groups) == len(joins.holds)
    assert 0 < sum(joins.labels) < len(joins.labels)
    # a sentence that holds an expected phrase the chosen ones lack is labelled a good join
    assert all(label for label, holds in zip(joins.labels, joins.holds, strict=True) if holds)
    joiner, report = fit_joins(joins)
    admitted = [r for r in joins.rows if joining.admitted(r)]
    assert report["decisions"] == len(joins.rows) and report["admitted"] == len(admitted) > 0
    assert report["cv_kept_out_0"] + report["cv_kept_out_1"] <= len(admitted)
    assert joiner.trained == report
