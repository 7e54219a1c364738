"""A fast quality gate with the real model: the development questions and the follow-ups over
a small index.

The index holds the releases both question sets are about (and the INTERPOL seed), so it builds
in well under a minute; the floors sit a little below what this index measured when they were
set (see docs/quality.md), so a change that costs retrieval or answers fails here. The
follow-up floors come from the set the follow-up rules were tuned on: they guard against
losing what was gained, not measure how well it generalises (bench/questions/
heldout-followups.jsonl does, outside CI).
"""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import REPO, SEED_FILE, doj_lines

from qa.build import rebuild_index
from qa.config import Settings
from qa.engine import Engine
from qa.evaluation import Report, evaluate, load_questions
from qa.live import EngineHolder

pytestmark = pytest.mark.model

QUESTIONS = REPO / "bench" / "questions" / "dev.jsonl"
# Measured when set (2026-12-06, the LightGBM ranker): recall@5 1.000, MRR@10 0.992,
# answer-hit 0.913, citation precision 0.995, unanswerable questions abstained 0.75, answerable
# ones abstained 0.011. The ranker answers 0.09-0.11 more of the fresh held-out questions and
# abstains on one unanswerable dev question fewer than the linear model it replaced
# (2026-12-05: answer-hit 0.859, abstained 0.833): docs/quality.md. With the kinds of answer
# read by a fitted model and the threshold recalibrated to 0.10 (2026-12-06): recall@5 0.989,
# MRR@10 0.991, answer-hit 0.935, citation precision 0.984, abstained 0.667 (8 of 12: the
# lower threshold answers one more; over the 72 unanswerable training questions it abstains
# on 0.667 against 0.681 at 0.15), false abstention 0.011: docs/decisions.md.
FLOORS = {
    "recall@5": 0.97,
    "mrr@10": 0.95,
    "answer_hit": 0.88,
    "citation_precision": 0.96,
    "abstained_right": 0.65,
}
CEILINGS = {"false_abstention": 0.05}
FOLLOW_UPS = REPO / "bench" / "questions" / "followups.jsonl"
# Measured when set (2026-12-05, 58 questions): answer-hit 0.886, citation precision 0.965;
# 2026-12-06, with the kinds of answer read by a fitted model: 0.932 and 0.977
FOLLOW_UP_FLOORS = {"answer_hit": 0.85, "citation_precision": 0.95}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """An index of the releases both question sets are about, and the INTERPOL seed."""
    tmp_path = tmp_path_factory.mktemp("quality")
    wanted = {
        r for path in (QUESTIONS, FOLLOW_UPS) for q in load_questions(path) for r in q.release_ids
    }
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = [line for line in doj_lines() if str(json.loads(line)["id"]) in wanted]
    (corpus / "doj.jsonl").write_text("\n".join(lines) + "\n")
    shutil.copy(SEED_FILE, corpus)
    settings = Settings.from_env(environ={}, corpus=(corpus,), index_dir=tmp_path / "index")
    rebuild_index(settings)
    return EngineHolder(settings).get()


def _gate(report: Report, floors: dict[str, float], ceilings: dict[str, float]) -> None:
    measured = {name: report.metrics[name] for name in (*floors, *ceilings)}
    print("quality gate:", {k: round(v, 3) for k, v in measured.items()})
    for name, floor in floors.items():
        assert measured[name] >= floor, (name, measured[name], floor)
    for name, ceiling in ceilings.items():
        assert measured[name] <= ceiling, (name, measured[name], ceiling)


def test_dev_questions_on_a_small_index_stay_above_the_floors(engine: Engine) -> None:
    (report,) = evaluate(engine, load_questions(QUESTIONS), ("hybrid",))
    _gate(report, FLOORS, CEILINGS)


def test_follow_ups_that_name_nothing_stay_above_the_floors(engine: Engine) -> None:
    (report,) = evaluate(engine, load_questions(FOLLOW_UPS), ("hybrid",))
    _gate(report, FOLLOW_UP_FLOORS, {})
