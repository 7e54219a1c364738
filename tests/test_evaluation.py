"""The evaluation harness's own arithmetic: ranking metrics, content-judged metrics, calibration."""

from __future__ import annotations

import pytest

from qa.evaluation import Report, answer_ranking_metrics, calibrate, ranking_metrics


def test_ranking_metrics_against_gold_ids() -> None:
    m = ranking_metrics(["a", "b", "c", "d", "e", "f"], ["c", "x"])
    assert m["recall@1"] == 0.0 and m["recall@5"] == 0.5 and m["recall@10"] == 0.5
    assert m["mrr@10"] == pytest.approx(1 / 3)
    assert 0.0 < m["ndcg@10"] < 1.0


def test_answer_metrics_count_any_release_that_states_the_answer() -> None:
    texts = ["nothing here", "fined $402 million", "sentenced to 30 months", "more"]
    # The phrases are found together only once the third release is read.
    m = answer_ranking_metrics(texts, ["$402 million", "30 months"])
    assert m == {"answer_recall@5": 1.0, "answer_mrr@10": pytest.approx(1 / 3)}
    assert answer_ranking_metrics(texts, ["$1 billion"]) == {
        "answer_recall@5": 0.0,
        "answer_mrr@10": 0.0,
    }
    late = ["x"] * 6 + ["the $9 fine"]
    assert answer_ranking_metrics(late, ["$9"])["answer_recall@5"] == 0.0


def test_calibration_keeps_false_abstentions_within_the_budget() -> None:
    report = Report(mode="hybrid")
    report.confidences = [(True, c / 100) for c in range(50, 90)] + [
        (False, 0.3),
        (False, 0.45),
        (False, 0.7),
    ]
    result = calibrate(report, max_false_abstention=0.05)
    assert result["false_abstention"] <= 0.05
    assert result["abstention_recall"] == pytest.approx(2 / 3)


def test_citing_a_release_that_also_states_the_answer_is_correct(tmp_path) -> None:
    from types import SimpleNamespace

    from qa.evaluation import _answer_metrics, load_questions

    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": "q1", "question": "When?", "release_ids": ["a"], "also_answer": ["b"], '
        '"answer_contains": ["May 19, 2014"], "kind": "date"}\n'
    )
    (question,) = load_questions(path)
    assert question.release_ids == ("a",) and question.also_answer == ("b",)

    def answer(*cited: str) -> SimpleNamespace:
        sources = [SimpleNamespace(release=SimpleNamespace(id=r)) for r in cited]
        return SimpleNamespace(abstained=False, text="on May 19, 2014", sources=sources)

    assert _answer_metrics(question, answer("a", "b"))["citation_precision"] == 1.0
    assert _answer_metrics(question, answer("a", "c"))["citation_precision"] == 0.5
    # retrieval is still scored on release_ids alone
    assert ranking_metrics(["b", "a"], question.release_ids)["mrr@10"] == 0.5


def test_judgments_of_a_larger_corpus_add_releases_that_state_the_answer(tmp_path) -> None:
    from types import SimpleNamespace

    from qa.errors import BadRequest
    from qa.evaluation import evaluate, load_judgments, load_questions

    questions_path = tmp_path / "q.jsonl"
    questions_path.write_text(
        '{"id": "q1", "question": "How much?", "release_ids": ["a"], "also_answer": ["b"]}\n'
        '{"id": "q2", "question": "Who?", "release_ids": ["x"]}\n'
    )
    judgments = tmp_path / "judged.jsonl"
    judgments.write_text('{"id": "q1", "also_answer": ["c", "b"]}\n')
    q1, q2 = load_judgments(judgments, load_questions(questions_path))
    assert q1.also_answer == ("b", "c") and q1.release_ids == ("a",)
    assert q2.also_answer == ()

    # retrieval is scored on release_ids, and on every judged release apart
    ranking = {"How much?": ["c", "a"], "Who?": ["y", "z", "x"]}
    engine = SimpleNamespace(
        search=lambda question, **_: [
            SimpleNamespace(release=SimpleNamespace(id=r)) for r in ranking[question]
        ]
    )
    (report,) = evaluate(engine, [q1, q2], answers=False)
    assert report.metrics["mrr@10"] == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert report.metrics["judged_mrr@10"] == pytest.approx((1 + 1 / 3) / 2)

    judgments.write_text('{"id": "q9", "also_answer": ["c"]}\n')
    with pytest.raises(BadRequest, match="q9"):
        load_judgments(judgments, [q1, q2])
    for bad in ('{"id": "q1"}', '{"id": "q1", "also_answer": "c"}', "not json"):
        judgments.write_text(bad + "\n")
        with pytest.raises(BadRequest, match="not a judgment"):
            load_judgments(judgments, [q1, q2])
