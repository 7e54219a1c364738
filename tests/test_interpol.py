"""What a new user asks first, with the real model, of the index the product ships: the
INTERPOL release alone (the questions of #26 "tried as a new user would")."""

from __future__ import annotations

import pytest
from conftest import SEED_DIR

from qa.build import rebuild_index
from qa.chat import Turn
from qa.config import Settings
from qa.engine import Engine, Result
from qa.live import EngineHolder
from qa.question import read

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    tmp_path = tmp_path_factory.mktemp("interpol")
    settings = Settings.from_env(environ={}, corpus=(SEED_DIR,), index_dir=tmp_path / "index")
    rebuild_index(settings)
    return EngineHolder(settings).get()


def _ask(engine: Engine, *questions: str) -> Result:
    """Ask ``questions`` as one conversation; return the last reply."""
    history: list[Turn] = []
    result = None
    for q in questions:
        result = engine.ask(q, history)
        assert 0.0 <= result.answer.confidence <= 1.0
        history += [Turn("user", q), Turn("assistant", result.answer.text)]
    assert result is not None
    return result


def _first(result: Result) -> str:
    assert not result.answer.abstained, result.answer.text
    return result.answer.sentences[0].text


def test_where_the_conference_was_held_is_its_dateline_not_the_next_one(engine: Engine) -> None:
    # "held" is the question's frame: counted as a term, only the sentence about the Americas
    # conference "to be held in Chile" had it
    assert _first(_ask(engine, "Where was the conference held?")).startswith("ABU DHABI")


def test_what_happened_on_a_weekday_quotes_that_days_news(engine: Engine) -> None:
    assert "New Zealand" in _first(_ask(engine, "What happened on Wednesday?"))


def test_what_will_happen_in_a_month_quotes_what_is_to_come(engine: Engine) -> None:
    assert "Chile in March" in _first(_ask(engine, "What will happen in March?"))


def test_a_question_naming_its_subject_after_an_unanswered_one_stands_alone(
    engine: Engine,
) -> None:
    after = _ask(engine, "Who is the president of Peru?", "Where was the conference held?")
    assert after.query == "Where was the conference held?"
    assert _first(after) == _first(_ask(engine, "Where was the conference held?"))


def test_who_said_that_names_the_speaker(engine: Engine) -> None:
    result = _ask(
        engine, "What did the Secretary General say about organized crime?", "and who said that?"
    )
    assert result.answer.sentences[0].text.endswith("said INTERPOL Secretary General Jürgen Stock.")
    assert len(result.answer.sentences) == 1


def test_the_measures_against_terrorism_are_the_whole_list(engine: Engine) -> None:
    result = _ask(engine, "Which measures target terrorism?")
    kinds = [s.kind for s in result.answer.sentences]
    assert kinds == ["lead", "bullet", "bullet", "bullet"]
    assert "biometrics" in result.answer.text


def test_the_counter_terrorism_measures_asked_in_other_words_are_the_whole_list(
    engine: Engine,
) -> None:
    question = (
        "Which counter-terrorism measures did participants at INTERPOL's Asian Regional "
        "Conference in Abu Dhabi support?"
    )
    assert read(question).wants_list  # "counter-terrorism" before the plural
    result = _ask(engine, question)
    assert "bullet" in [s.kind for s in result.answer.sentences]
    assert all(
        item in result.answer.text
        for item in ("intelligence sharing", "biometrics", "intelligence-led screening")
    )


def test_a_list_question_asking_for_days_is_not_answered_with_a_list_of_none(
    engine: Engine,
) -> None:
    # "which days" asks for a list, of days: the list of measures gives none
    question = "On which days in 2023 did INTERPOL's Asian Regional Conference take place?"
    result = _ask(engine, question)
    assert "7-9 February" in result.answer.text
    assert "bullet" not in [s.kind for s in result.answer.sentences]


def test_a_question_no_release_answers_abstains(engine: Engine) -> None:
    result = _ask(engine, "Who is the president of Peru?")
    assert result.answer.abstained and result.answer.confidence < Settings().abstain_below
