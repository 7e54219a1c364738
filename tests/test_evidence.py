"""The evidence model: its features, its weights file, and fitting it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import HAND_WEIGHTS, REPO

from qa import evidence, naming
from qa.evaluation import load_questions
from qa.evidence import FEATURES, Linear, Ranker, Scorer
from qa.lexical import lexical_tokens
from qa.live import EngineHolder
from qa.question import asks_person, question_names


def test_question_names_leave_out_question_words_and_keep_multiword_names() -> None:
    names = question_names
    assert names("How large was the fine Kellogg Brown & Root LLC agreed to pay?") == [
        "Kellogg Brown Root LLC"
    ]
    assert names("Where was the conference held in March?") == []
    assert names("What did Jürgen Stock say in Abu Dhabi?") == ["Jürgen Stock", "Abu Dhabi"]
    assert names("When did Jimenez-Naranjo plead?") == ["Jimenez Naranjo"]
    # a name made a modifier ends there: no "Nevada Pentagon" to look for in the releases
    assert names("What did the Nevada-based Pentagon contractor admit?") == ["Nevada", "Pentagon"]
    assert naming.name_words(["INTERPOL's Members"]) == {"interpol", "members"}


def test_a_name_counts_as_mentioned_in_any_of_its_forms() -> None:
    text = "Technip S.A. and INTERPOLs Austria office; Carlos Mario Jimenez-Naranjo pleaded."
    words = naming.word_set(text)
    assert naming.unmentioned(["Technip S.A.", "INTERPOL's Austrian Office"], [words]) == []
    assert naming.unmentioned(["Carlos Jimenez Naranjo"], [words]) == []
    # every word of a name in one release; a name of one word is not checked (a place or a
    # nationality a paraphrase may put for another)
    holdings = naming.word_set("Holdings")
    assert naming.unmentioned(["Zentrix Holdings", "Pyongyang"], [words, holdings]) == [
        "Zentrix Holdings"
    ]


def test_a_name_written_with_apostrophes_and_accents_matches_text_that_lost_them() -> None:
    """Releases scraped from web pages often lost their curly apostrophes and accented letters
    ("OShea", "Graubndner"); a question typed with them still finds the name."""
    from qa.lexical import query_tokens, spellings

    assert spellings("O'Shea") == ["OShea"]
    assert spellings("D’Antonio") == ["DAntonio"]
    assert spellings("Graubündner") == ["Graubundner", "Graubndner"]
    assert spellings("Shea") == [] and spellings("Analogic's") == [] and spellings("don't") == []
    tokens = query_tokens("Who pleaded alongside John O'Shea?")
    assert tokens[: len(tokens) - 1] == lexical_tokens(["Who pleaded alongside John O'Shea?"])[0]
    assert tokens[-1] == "oshea"
    lost = naming.word_set("John Joseph OShea and Graubndner Kantonalbank agreed to pay.")
    assert naming.unmentioned(["John Joseph O'Shea", "Graubündner Kantonalbank"], [lost]) == []
    kept = naming.word_set("John Joseph O'Shea and Graubündner Kantonalbank agreed to pay.")
    assert naming.unmentioned(["John Joseph O'Shea", "Graubündner Kantonalbank"], [kept]) == []
    assert naming.unmentioned(["John Joseph O'Brien"], [lost]) == ["John Joseph O'Brien"]


def test_who_questions_and_sentences_that_name_someone() -> None:
    assert asks_person("Who is the Secretary General?")
    assert asks_person("and whose company paid the bribes?")
    assert not asks_person("When was the conference held?")
    assert naming.names_person("The plea was entered by Karim Baratov in court.")
    assert not naming.names_person("A retired officer was sentenced today.")
    # an organisation, a place, a law is no person; a title before a name is no part of it
    for text in (
        "The Department of Justice and the Federal Trade Commission signed it today.",
        "Childrens National Medical Center Inc. violated the False Claims Act.",
        "He was arrested in Los Angeles, California.",
        "The raid took place in New York City on Monday.",
    ):
        assert not naming.names_person(text), text
    for text in (
        "said INTERPOL Secretary General Jürgen Stock.",
        "The MOU was signed by Assistant Attorney General Bill Baer of the Justice Department.",
        "the statement of Special Agent in Charge John Smith.",
        "The court sentenced Jose Luis Garcia-Lopez.",
    ):
        assert naming.names_person(text), text


def test_the_shipped_model_loads_and_a_mismatch_is_refused(tmp_path: Path) -> None:
    scorer = Scorer.load()
    assert isinstance(scorer, Ranker)
    low, high = scorer.scores([[0.0] * len(FEATURES), [0.9] * len(FEATURES)])
    assert 0.0 < scorer.probability(low) < 1.0 and 0.0 < scorer.probability(high) < 1.0
    with pytest.raises(ValueError, match="features"):
        scorer.scores([[0.5] * (len(FEATURES) - 1)])
    data = json.loads(evidence.WEIGHTS_FILE.read_text())
    # a ranker fitted on other features than this version computes is refused
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**data, "features": data["features"][::-1]}))
    with pytest.raises(ValueError, match="qa train-scorer"):
        Scorer.load(other)
    bad = tmp_path / "evidence.json"
    bad.write_text(json.dumps({**data, "features": [*data["features"], "telepathy"]}))
    with pytest.raises(ValueError, match="qa train-scorer"):
        Scorer.load(bad)
    # linear weights (the tests' hand weights) written before the last features weigh them 0
    hand = Scorer.load(HAND_WEIGHTS)
    assert isinstance(hand, Linear) and hand.weights[-1] == 0.0


def test_a_ranker_fitted_before_the_last_features_reads_only_its_own(tmp_path: Path) -> None:
    import lightgbm
    import numpy as np

    from qa.training import RANKER

    rng = np.random.default_rng(0)
    x = rng.random((400, len(FEATURES) - 2))
    y = (x[:, 0] > 0.7).astype(int)
    model = lightgbm.LGBMRanker(**RANKER).fit(x, y, group=[20] * 20)
    older = Ranker(
        model=model.booster_.model_to_string(),
        calibration=(1.0, 0.0),
        scale=1.0,
        shift=0.0,
        trained={},
    )
    path = tmp_path / "older.json"
    older.save(path)
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "features": list(FEATURES[:-2])}))
    loaded = Scorer.load(path)
    rows = np.c_[x[:5], np.zeros((5, 2))]
    changed = np.c_[x[:5], np.ones((5, 2))]
    assert loaded.scores(rows.tolist()) == pytest.approx(loaded.scores(changed.tolist()))
    assert loaded.scores(rows.tolist()) == pytest.approx(model.predict(x[:5]).tolist())


def test_a_sentence_is_read_for_what_it_adds_to_the_question() -> None:
    face = evidence.surface("The firm Acme Widgets Inc. paid $4.5 million to Jane Roe on May 2.")
    words = naming.word_set("How much did Acme Widgets Inc. pay?")
    new_names, new_figures = evidence.added(words, frozenset(), face)
    # "Jane Roe" and "May" are new, "Acme Widgets Inc." is the question's own
    assert new_names == pytest.approx(2 / evidence.CAP)
    assert new_figures == pytest.approx(2 / evidence.CAP)  # $4.5 and 2
    assert face.digits and face.length == 66


def test_a_word_set_keeps_its_text_through_pickle_and_copy() -> None:
    import copy
    import pickle

    words = naming.word_set("INTERPOL's Austrian office")
    for again in (pickle.loads(pickle.dumps(words)), copy.copy(words), copy.deepcopy(words)):
        assert again == words and again.text == words.text
        assert naming.share_of(naming.name_words(["Austria"]), again) == 1.0


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
    from qa.training import FOLDS, collect_pairs, fit, fit_adapters

    settings, encoder = doj_built
    engine = EngineHolder(settings, encoder=encoder).get()
    questions = load_questions(REPO / "bench" / "questions" / "dev.jsonl")[:60]
    pairs = collect_pairs(engine, questions)
    assert len(pairs.rows) == len(pairs.labels) and 0 < sum(pairs.labels) < len(pairs.labels)
    assert all(len(r) == len(FEATURES) for r in pairs.rows)
    # each pair keeps its sentence's embedding row and its question's embedding, which the
    # mapping of the question is fitted on; mapped by fold, the pairs have its features
    assert len(pairs.vector_rows) == len(pairs.rows) and min(pairs.vector_rows) >= 0
    assert set(pairs.question_vectors) == set(pairs.groups)
    adapter, adapters = fit_adapters(engine, pairs)
    dimension = engine.index.unit_vectors.shape[1]
    assert len(adapters) == FOLDS and adapter.matrix.shape == (dimension, dimension)
    assert adapter.reads(engine.index.manifest.model)
    assert {"cv_top1_mapped", "cv_top1_plain"} <= set(adapter.trained)
    mapped = collect_pairs(engine, questions[:10], adapters=adapters)
    adapted = FEATURES.index("adapted")
    assert any(r[adapted] != 0.0 for r in mapped.rows)
    assert all(r[adapted + 1] <= 1e-9 for r in mapped.rows)  # adapted_gap: at most the best
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
