"""The evidence model: its features, its weights file, and fitting it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import HAND_WEIGHTS, REPO

from qa import evidence
from qa.engine import EngineHolder
from qa.evaluation import load_questions
from qa.evidence import FEATURES, Linear, Ranker, Scorer
from qa.question import asks_person, question_names


def test_question_names_leave_out_question_words_and_keep_multiword_names() -> None:
    names = question_names
    assert names("How large was the fine Kellogg Brown & Root LLC agreed to pay?") == [
        "Kellogg Brown Root LLC"
    ]
    assert names("Where was the conference held in March?") == []
    assert names("What did Jürgen Stock say in Abu Dhabi?") == ["Jürgen Stock", "Abu Dhabi"]
    assert names("When did Jimenez-Naranjo plead?") == ["Jimenez Naranjo"]
    assert evidence.name_words(["INTERPOL's Members"]) == {"interpol", "members"}


def test_a_name_counts_as_mentioned_in_any_of_its_forms() -> None:
    text = "Technip S.A. and INTERPOLs Austria office; Carlos Mario Jimenez-Naranjo pleaded."
    words = evidence.word_set(text)
    assert evidence.unmentioned(["Technip S.A.", "INTERPOL's Austrian Office"], [words]) == []
    assert evidence.unmentioned(["Carlos Jimenez Naranjo"], [words]) == []
    # every word of a name in one release; a name of one word is not checked (a place or a
    # nationality a paraphrase may put for another)
    holdings = evidence.word_set("Holdings")
    assert evidence.unmentioned(["Zentrix Holdings", "Pyongyang"], [words, holdings]) == [
        "Zentrix Holdings"
    ]


def test_who_questions_and_sentences_that_name_someone() -> None:
    assert asks_person("Who is the Secretary General?")
    assert asks_person("and whose company paid the bribes?")
    assert not asks_person("When was the conference held?")
    assert evidence.names_person("The plea was entered by Karim Baratov in court.")
    assert not evidence.names_person("A retired officer was sentenced today.")
    # an organisation, a place, a law is no person; a title before a name is no part of it
    for text in (
        "The Department of Justice and the Federal Trade Commission signed it today.",
        "Childrens National Medical Center Inc. violated the False Claims Act.",
        "He was arrested in Los Angeles, California.",
        "The raid took place in New York City on Monday.",
    ):
        assert not evidence.names_person(text), text
    for text in (
        "said INTERPOL Secretary General Jürgen Stock.",
        "The MOU was signed by Assistant Attorney General Bill Baer of the Justice Department.",
        "the statement of Special Agent in Charge John Smith.",
        "The court sentenced Jose Luis Garcia-Lopez.",
    ):
        assert evidence.names_person(text), text


def test_the_shipped_model_loads_and_a_mismatch_is_refused(tmp_path: Path) -> None:
    scorer = Scorer.load()
    assert isinstance(scorer, Ranker)
    low, high = scorer.scores([[0.0] * len(FEATURES), [0.9] * len(FEATURES)])
    assert 0.0 < scorer.probability(low) < 1.0 and 0.0 < scorer.probability(high) < 1.0
    with pytest.raises(ValueError, match="features"):
        scorer.scores([[0.5] * (len(FEATURES) - 1)])
    data = json.loads(evidence.WEIGHTS_FILE.read_text())
    # a ranker fitted on other features than this version computes is refused
    older = tmp_path / "older.json"
    older.write_text(json.dumps({**data, "features": data["features"][:-1]}))
    with pytest.raises(ValueError, match="qa train-scorer"):
        Scorer.load(older)
    bad = tmp_path / "evidence.json"
    bad.write_text(json.dumps({**data, "features": [*data["features"], "telepathy"]}))
    with pytest.raises(ValueError, match="qa train-scorer"):
        Scorer.load(bad)
    # linear weights (the tests' hand weights) written before the last features weigh them 0
    hand = Scorer.load(HAND_WEIGHTS)
    assert isinstance(hand, Linear) and hand.weights[-1] == 0.0


def test_a_sentence_is_read_for_what_it_adds_to_the_question() -> None:
    face = evidence.surface("The firm Acme Widgets Inc. paid $4.5 million to Jane Roe on May 2.")
    words = evidence.word_set("How much did Acme Widgets Inc. pay?")
    new_names, new_figures = evidence.added(words, frozenset(), face)
    # "Jane Roe" and "May" are new, "Acme Widgets Inc." is the question's own
    assert new_names == pytest.approx(2 / evidence.CAP)
    assert new_figures == pytest.approx(2 / evidence.CAP)  # $4.5 and 2
    assert face.digits and face.length == 66


def test_a_word_set_keeps_its_text_through_pickle_and_copy() -> None:
    import copy
    import pickle

    words = evidence.word_set("INTERPOL's Austrian office")
    for again in (pickle.loads(pickle.dumps(words)), copy.copy(words), copy.deepcopy(words)):
        assert again == words and again.text == words.text
        assert evidence.share_of(evidence.name_words(["Austria"]), again) == 1.0


def test_capitalised_runs_skip_the_first_word_and_join_of_and() -> None:
    text = (
        "Officials of the Bank of Nova Scotia met INTERPOL's Jürgen Stock,\nThen Ann Lee-Roy "
        "and Bo left. X"
    )
    runs = [m.group() for m in evidence.NAME_RUN.finditer(text)]
    # "Officials" opens the text; a run goes on over spaces, "of" and "and", not a comma
    assert runs == [
        "Bank of Nova Scotia",
        "INTERPOL's Jürgen Stock",
        "Then Ann Lee-Roy and Bo",
        "X",
    ]
    assert evidence.surface(text).runs[0] == {"bank", "of", "nova", "scotia"}


def test_fitting_on_labelled_sentences_learns_and_round_trips(tmp_path: Path, doj_built) -> None:
    from qa.training import collect_pairs, fit

    settings, encoder = doj_built
    engine = EngineHolder(settings, encoder=encoder).get()
    questions = load_questions(REPO / "bench" / "questions" / "dev.jsonl")[:60]
    pairs = collect_pairs(engine, questions)
    assert len(pairs.rows) == len(pairs.labels) and 0 < sum(pairs.labels) < len(pairs.labels)
    assert all(len(r) == len(FEATURES) for r in pairs.rows)
    scorer, report = fit(pairs, engine.composer.scorer)
    # cross-validated: the held-out folds' best sentences hold an answer more often than chance
    positives = sum(pairs.labels) / len(pairs.labels)
    assert report["cv_top1"] > positives and report["cv_auc"] > 0.6
    path = tmp_path / "model.json"
    scorer.save(path)
    again = Scorer.load(path)
    assert isinstance(again, Ranker) and again.trained["pairs"] == len(pairs.rows)
    assert again.scores(pairs.rows[:20]) == pytest.approx(scorer.scores(pairs.rows[:20]))
    # the probability follows the score
    low, high = sorted(again.scores(pairs.rows[:20]))[::19]
    assert again.probability(low) <= again.probability(high)
