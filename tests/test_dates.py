from __future__ import annotations

import pytest
from conftest import HAND_WEIGHTS, FakeEncoder, hand_threshold

from qa import store
from qa.chat import Turn
from qa.config import Settings
from qa.dates import read_dates, without_when
from qa.engine import Engine
from qa.payloads import result_json
from qa.retrieval import Filters


@pytest.mark.parametrize(
    "question, date_from, date_to, strict",
    [
        ("Who was extradited in 2016?", "2016-01-01", "2016-12-31", False),
        ("Who was charged in March 2014?", "2014-03-01", "2014-03-31", False),
        ("What happened since March 2014?", "2014-03-01", None, True),
        ("Fines imposed after 2015?", "2016-01-01", None, True),
        ("Which cases came before 2012?", None, "2011-12-31", True),
        ("Which cases until Feb. 2012?", None, "2012-02-29", True),
        ("Bribery between 2010 and 2012?", "2010-01-01", "2012-12-31", True),
        ("Bribery between 2012 and 2010?", "2010-01-01", "2012-12-31", True),
        ("By March 2015, how much had been recovered?", None, "2015-03-31", True),
        ("How many were extradited as of 2016?", None, "2016-12-31", True),
    ],
)
def test_read_dates(question, date_from, date_to, strict) -> None:
    reading = read_dates(question)
    assert (reading.filters.date_from, reading.filters.date_to) == (date_from, date_to)
    assert reading.strict is strict
    assert reading.phrase and reading.phrase in question


def test_several_years_or_none_give_no_filter() -> None:
    assert not read_dates("What was seized in July 2016 and in June 2017?").filters
    assert not read_dates("Which measures target terrorism?").filters
    latest = read_dates("What is the latest release about smuggling?")
    assert latest.recent and not latest.filters
    # "by" a date: the state of things then, reported by the latest release up to then
    assert read_dates("By March 2015, how much had been recovered?").recent
    assert not read_dates("Which countries will end trafficking by 2030?").filters
    assert without_when("Who was most recently sentenced?") == "Who was sentenced?"
    assert without_when("latest?") == "latest?"  # nothing would be left to search
    assert without_when("In the Haiti case, as of 2016?", "as of 2016") == "In the Haiti case?"
    assert without_when("In it, by March 2015, how many?", "by March 2015") == "In it, how many?"
    assert not read_dates("Who was paid by 2015 standards?").filters
    assert not read_dates("Which countries committed to ending trafficking by 2030?").filters


def _engine(settings: Settings) -> Engine:
    return Engine(settings, store.open_index(settings.index_dir, FakeEncoder.name), FakeEncoder())


def test_since_filters_and_the_response_says_so(built: Settings) -> None:
    result = _engine(built).ask("What happened since 2016 with smuggling and bribery?")
    data = result_json(result)
    assert data["query"]["filters"] == {"date_from": "2016-01-01"}
    assert data["query"]["dates"]["applied_as"] == "filter"
    assert all(s["date"] >= "2016-01-01" for s in data["sources"])


def test_search_reads_dates_and_the_baselines_do_not(built: Settings) -> None:
    engine = _engine(built)
    question = "What happened since 2016 with smuggling and Nigerian officials?"
    hits, _, filters, dates = engine.find(question, k=8)
    assert filters.date_from == "2016-01-01" and dates.phrase == "since 2016"
    assert hits and all(h.release.date >= "2016-01-01" for h in hits)
    for mode in ("lexical", "dense"):  # the plain retrievers, measured as baselines
        hits, _, filters, dates = engine.find(question, k=8, mode=mode)
        assert not filters and not dates.phrase
        assert any(h.release.date < "2016-01-01" for h in hits)


def test_in_year_is_a_preference_not_a_filter(built: Settings) -> None:
    engine = _engine(built)
    result = engine.ask("Who was fined for bribing Nigerian officials in 2016?")
    data = result_json(result)
    assert data["query"]["filters"] == {}
    assert data["query"]["dates"]["applied_as"] == "preference"
    # Not filtered out: the 2009 release is still found, and offered. But it neither mentions
    # 2016 nor is dated in it, so it is not quoted as what happened in 2016 (and the one 2016
    # release is about something else).
    assert data["abstained"] is True
    assert "101" in [s["release_id"] for s in data["suggestions"]]


def test_latest_puts_the_newest_relevant_release_first(built: Settings) -> None:
    engine = _engine(built)
    plain = engine.search("smuggling ISIL Malaysia rhinoceros Nigeria terrorism", k=8)
    newest = engine.retriever.search(
        "smuggling ISIL Malaysia rhinoceros Nigeria terrorism", k=8, recent=True
    )
    assert {h.release.id for h in plain} == {h.release.id for h in newest}
    best = max(h.similarity for h in newest)
    close = [h.release.date for h in newest if h.similarity >= best - 0.1]
    assert [h.release.date for h in newest[: len(close)]] == sorted(close, reverse=True)
    assert newest[0].release.date == max(close)


def test_a_corpus_without_dates_reads_none_from_questions(tmp_path) -> None:
    import json
    from dataclasses import replace

    from qa.build import rebuild_index

    corpus = tmp_path / "claims"
    corpus.mkdir()
    records = [
        {"id": "c1", "title": "Heart failure", "body": "Heart failure incidence fell in women."},
        {"id": "c2", "title": "Pneumonia", "body": "Pneumonia cases in children rose."},
    ]
    (corpus / "claims.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    settings = replace(
        Settings.from_env(environ={}, model=FakeEncoder.name),
        corpus=(corpus,),
        index_dir=tmp_path / "index",
    )
    rebuild_index(settings, encoder=FakeEncoder())
    engine = _engine(settings)
    # "since 1979" is part of the claim: no release has a date it could filter on
    hits, _, filters, dates = engine.find("Heart failure incidence in women since 1979", k=2)
    assert hits and hits[0].release.id == "c1"
    assert not filters and not dates.phrase


def test_latest_survives_reordering_and_the_answer_quotes_the_newest(tmp_path) -> None:
    import json
    from dataclasses import replace

    from qa.build import rebuild_index

    corpus = tmp_path / "extraditions"
    corpus.mkdir()
    records = [
        {  # the oldest says "most recently", the words the question uses
            "id": "e1",
            "date": "2011-08-26",
            "title": "Mexico Extradites Cartel Members",
            "body": "Most recently, Mexico extradited two cartel members to the United States. "
            "The extradition from Mexico followed a request in 2010.",
        },
        {
            "id": "e2",
            "date": "2015-09-30",
            "title": "Mexico Extradites Thirteen Defendants",
            "body": "Thirteen defendants were extradited from Mexico to the United States. "
            "The extradition from Mexico is the largest this year.",
        },
        {
            "id": "e3",
            "date": "2017-12-19",
            "title": "Gulf Cartel Leader Extradited from Mexico",
            "body": "The former leader of the Gulf Cartel was extradited from Mexico to the "
            "United States. His extradition from Mexico ends a long search.",
        },
    ]
    (corpus / "e.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    settings = replace(
        Settings.from_env(environ={}, model=FakeEncoder.name),
        corpus=(corpus,),
        index_dir=tmp_path / "index",
        evidence_weights=HAND_WEIGHTS,
        abstain_below=hand_threshold(0.2),
    )
    rebuild_index(settings, encoder=FakeEncoder())
    engine = _engine(settings)
    question = "What is the most recent extradition from Mexico?"
    hits, text, _, dates = engine.find(question, k=6)
    # "most recent" asks for the newest release, it is not searched for as words
    assert dates.recent and text == "What is the extradition from Mexico?"
    assert hits[0].release.id == "e3"
    data = result_json(engine.ask(question))
    assert not data["abstained"]
    assert {s["release_id"] for s in data["sources"]} == {"e3"}
    # a follow-up keeps the question's "most recent"
    history = [Turn("user", question), Turn("assistant", data["answer"])]
    hits, text, _, dates = engine.find("Which cartel did he lead?", k=6, history=history)
    assert dates.recent and "recent" not in text and hits[0].release.id == "e3"
    assert dates.phrase == "most recent"  # what was read, and from where, for the reply
    # and so does a follow-up of that follow-up
    longer = [*history, Turn("user", "Which cartel did he lead?"), Turn("assistant", "Gulf.")]
    hits, text, _, dates = engine.find("When was he extradited?", k=6, history=longer)
    assert dates.recent and "extradition from Mexico" in text and hits[0].release.id == "e3"
    # asked for the other end, or after "By March 2016, ...", a follow-up is not "the latest"
    _, _, _, dates = engine.find("And the earliest one?", k=6, history=history)
    assert not dates.recent
    as_of = [Turn("user", "By March 2016, which defendants had been extradited from Mexico?")]
    _, _, _, dates = engine.find("Which cartel did they lead?", k=6, history=as_of)
    assert not dates.recent
    # filtered to nothing: no hits, no error
    assert engine.search(question, k=6, filters=Filters(date_from="2030-01-01")) == []
    # "by March 2016": the latest release up to then answers, though it does not say "2016"
    as_of = "By March 2016, which defendants had been extradited from Mexico?"
    _, text, _, _ = engine.find(as_of, k=6)
    assert text == "which defendants had been extradited from Mexico?"  # the filter's words go
    # unless the user's own dates replace the question's: then they are searched for
    _, text, filters, _ = engine.find(as_of, k=6, filters=Filters(date_to="2018-01-01"))
    assert text == as_of and filters.date_to == "2018-01-01"
    # a user's start date leaves the question's end date in force: its words still go
    _, text, filters, _ = engine.find(as_of, k=6, filters=Filters(date_from="2010-01-01"))
    assert text != as_of and filters.date_to == "2016-03-31"
    data = result_json(engine.ask(as_of))
    assert data["query"]["filters"] == {"date_to": "2016-03-31"}
    assert not data["abstained"]
    assert {s["release_id"] for s in data["sources"]} == {"e2"}
