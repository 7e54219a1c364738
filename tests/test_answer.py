from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import HAND_WEIGHTS, SEED_ID, FakeEncoder, hand_threshold

from qa import store
from qa.answer import render_text
from qa.candidates import Candidate
from qa.config import Settings
from qa.engine import Engine
from qa.question import read


def _engine(settings: Settings) -> Engine:
    return Engine(settings, store.open_index(settings.index_dir, FakeEncoder.name), FakeEncoder())


def test_list_question_gets_the_whole_list_each_item_cited(built: Settings) -> None:
    answer = _engine(built).ask("Which measures target terrorism?").answer
    assert not answer.abstained
    bullets = [s for s in answer.sentences if s.kind == "bullet"]
    assert [b.text.split()[0] for b in bullets] == ["Enhancing", "Increasing", "Facilitating"]
    assert all(b.citations == (1,) for b in bullets)
    assert answer.sources[0].release.id == SEED_ID
    assert answer.sources[0].release.date == "2023-02-09"
    assert answer.text.count("\n• ") == 3


def test_citations_point_at_listed_sources_and_highlights_match(built: Settings) -> None:
    for question in (
        "How much was the criminal fine for bribing Nigerian officials?",
        "Who was extradited from Malaysia?",
        "Which measures target terrorism?",
    ):
        answer = _engine(built).ask(question).answer
        numbers = {s.n for s in answer.sources}
        assert numbers == set(range(1, len(numbers) + 1))
        for sentence in answer.sentences:
            assert set(sentence.citations) <= numbers
        for source in answer.sources:
            assert (
                source.release.text[source.start : source.start + len(source.passage)]
                == source.passage
            )
            quoted = [source.passage[a:b] for a, b in source.highlights]
            cited = [s.text for s in answer.sentences if source.n in s.citations]
            assert sorted(quoted) == sorted(cited)


def test_the_answer_chooses_among_the_sentences_search_scored(
    built: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine(built)
    sentences = engine.composer.sentences
    scored = []
    score = sentences.candidates

    def counted(*args: object) -> list[Candidate]:
        scored.append(score(*args))  # type: ignore[arg-type]
        return scored[-1]

    monkeypatch.setattr(sentences, "candidates", counted)
    found = engine.found("How much was the criminal fine for bribing Nigerian officials?")
    assert found.scored is not None and len(scored) == 1
    answer = engine.composed(found).answer
    assert answer is not None and not answer.abstained
    assert len(scored) == 1  # composing scored nothing again
    releases = {h.release.id for h in found.hits}
    chosen = [c for c in scored[0] if c.release.id in releases]
    assert chosen[0].text.strip() == answer.sentences[0].text


def test_fact_answer_quotes_the_release_exactly(built: Settings) -> None:
    answer = _engine(built).ask("How much was the criminal fine for bribing Nigerian officials?")
    assert "The company agreed to pay a $402 million criminal fine." in answer.answer.text
    assert answer.answer.sources[0].release.id == "101"


def test_unrelated_question_abstains_with_suggestions(built: Settings) -> None:
    answer = _engine(built).ask("Quelle heure est-il maintenant?").answer
    assert answer.abstained
    assert answer.sentences == () and answer.sources == ()
    assert "don't say" in (answer.message or "")


def test_follow_up_uses_the_previous_question(built: Settings) -> None:
    from qa.chat import Turn

    history = [
        Turn("user", "Who was sentenced for smuggling rhinoceros horns?"),
        Turn("assistant", "A man was sentenced to 70 months in prison."),
    ]
    result = _engine(built).ask("Where did he sell them?", history)
    assert "rhinoceros" in result.query
    assert result.answer.sources[0].release.id == "102"


def test_a_follow_up_of_a_follow_up_reaches_back_to_the_question_it_is_about() -> None:
    from qa.chat import CHAIN, Turn, standalone_query

    def asked(*questions: str) -> list[Turn]:
        return [t for q in questions for t in (Turn("user", q), Turn("assistant", "An answer."))]

    first = "Who smuggled rhinoceros horns to China?"
    history = asked(first, "How long was he sentenced to?")
    query = standalone_query("Where did he sell them?", history)
    assert query.context == f"How long was he sentenced to? ({first})"
    # a question that stands alone starts the chain; one that does not need it has none
    assert standalone_query("Where did he sell them?", asked(first)).context == first
    later = asked("Who sold ivory in Kenya?", first, "How long was he sentenced to?")
    assert standalone_query("Where did he sell them?", later) == query
    assert standalone_query("Who smuggled ivory from Kenya?", history).context == ""
    # a few questions in all: the query stays short in a long chat
    assert CHAIN == 3
    long_chat = asked(first, "And then?", "And after that?", "Was he fined?")
    query = standalone_query("Who paid it?", long_chat)
    assert query.text == "Who paid it? (Was he fined? (And after that?))"


def test_a_follow_up_may_refer_back_by_a_plural_or_by_what_happened_in_the_case() -> None:
    from qa.chat import follows

    for question in (
        "How much profit did the companies make from the corrupt business?",
        "When did the defendants plead guilty?",
        "How did the share price react to the plea?",
        "Who else was arrested in the operation?",
        "Which agency led the investigation?",
        "where was the company based?",
        # "the" something, and no one named
        "What prison term did the government agree to?",
        "Who were the victims?",
        '"Who were the victims?"',
    ):
        assert follows(question), question
    for question in (
        "Which measures target terrorism?",
        "Who smuggled ivory from Kenya?",
        "What did the FBI say about Operation Pangea?",
        "Who led the 1995 kidnapping near the falls?",
        "What terrorism offenses does the indictment against Viktor Bout charge?",
        # typed in lower case, a question's names cannot be told: it stands alone
        "what is the extradition treaty with mexico?",
    ):
        assert not follows(question), question


def test_render_text_puts_bullets_on_their_own_lines() -> None:
    from qa.answer import AnswerSentence

    text = render_text(
        [
            AnswerSentence("Lead:", (1,), "lead"),
            AnswerSentence("a", (1,), "bullet"),
            AnswerSentence("b", (1,), "bullet"),
            AnswerSentence("After.", (2,), "sentence"),
        ]
    )
    assert text == "Lead: [1]\n• a [1]\n• b [1]\nAfter. [2]"


def _court_engine(tmp_path: Path, fake_encoder: FakeEncoder) -> Engine:
    """An index of two releases about one case: a plea (penalty faced) and a later update."""
    records = [
        {
            "id": "plea",
            "title": "Trader Pleads Guilty to Smuggling Turtle Shells",
            "date": "2014-06-02",
            "body": "Ivan Petrov pleaded guilty today to smuggling hawksbill turtle shells into "
            "the United States. If convicted at trial he would have faced more; under the plea "
            "Petrov faces a maximum of 20 years in prison. Petrov is scheduled to be sentenced "
            "on Sept. 9, 2014.",
        },
        {
            "id": "seizure",
            "title": "Authorities Seize Turtle Shell Shipment",
            "date": "2015-03-04",
            "body": "In March 2015 customs officers seized 300 hawksbill turtle shells at the "
            "port of Miami. The shells were worth $450,000.",
        },
        {
            "id": "other-case",
            "title": "Kidnapper Sentenced to 27 Years in Prison",
            "date": "2015-05-01",
            "body": "A Colombian national was sentenced today to 27 years in prison for his "
            "role in a kidnapping. He received the sentence in federal court.",
        },
    ]
    return _engine_of(tmp_path, "court", records, fake_encoder)


def _release(rid: str, title: str, body: str, date: str = "2016-03-28") -> dict[str, str]:
    """A release record as a corpus JSONL line holds it."""
    return {"id": rid, "title": title, "date": date, "body": body}


def _engine_of(
    tmp_path: Path, name: str, records: list[dict[str, str]], fake_encoder: FakeEncoder
) -> Engine:
    """An engine over an index of ``records`` alone, built with the fake encoder."""
    import json
    from dataclasses import replace

    from qa.build import rebuild_index

    corpus = tmp_path / name
    corpus.mkdir()
    (corpus / f"{name}.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    settings = replace(
        Settings.from_env(environ={}, model=FakeEncoder.name),
        corpus=(corpus,),
        index_dir=tmp_path / f"{name}-index",
        evidence_weights=HAND_WEIGHTS,
        abstain_below=hand_threshold(0.05),
    )
    rebuild_index(settings, encoder=fake_encoder)
    return _engine(settings)


def test_a_sentence_not_yet_handed_down_is_not_quoted_as_one(tmp_path: Path) -> None:
    engine = _court_engine(tmp_path, FakeEncoder())
    outcome = engine.ask("How many years was Ivan Petrov sentenced to for the turtle shells?")
    assert outcome.answer.abstained
    assert "penalties faced" in (outcome.answer.message or "")
    assert outcome.answer.suggestions[0].id == "plea"
    # Asked what he faces, the penalty is the answer.
    faced = engine.ask("What prison term does Ivan Petrov face for the turtle shells?").answer
    assert not faced.abstained and "20 years" in faced.text


def test_a_year_the_releases_never_mention_is_not_answered_from_another_year(
    tmp_path: Path,
) -> None:
    engine = _court_engine(tmp_path, FakeEncoder())
    answer = engine.ask("How many turtle shells were seized at the port of Miami in 2031?").answer
    assert answer.abstained and "2031" in (answer.message or "")
    # A year one release mentions (or is dated) steers the answer to that release.
    dated = engine.ask("What happened to the hawksbill turtle shells in 2015?").answer
    assert not dated.abstained
    assert {s.release.id for s in dated.sources} == {"seizure"}


def test_outcome_reports_are_told_from_announcements() -> None:
    from qa.events import OUTCOMES, reported

    sentence = OUTCOMES[0][2]
    verdict = OUTCOMES[1][2]
    assert reported("Smith was sentenced today to 70 months in prison.", sentence)
    assert reported("Judge Lee sentenced Smith to 25 years.", sentence)
    assert not reported("Smith is scheduled to be sentenced on May 5.", sentence)
    assert not reported("Sentencing is set for May 5.", sentence)
    assert reported("A federal jury convicted Smith of fraud.", verdict)
    assert reported("Smith was found guilty on all counts.", verdict)
    assert not reported("If convicted, Smith faces life in prison.", verdict)
    assert not reported("If he is convicted, Smith faces life in prison.", verdict)
    assert not reported("Smith, a previously convicted felon, was charged.", verdict)


def test_an_outcome_is_reported_of_whom_a_question_names() -> None:
    from qa.events import OUTCOMES, reported

    sentence = OUTCOMES[0][2]

    def chen(passage: str) -> bool:
        return "Chen" in passage

    opening = (
        "Guan Zong Chen, an Australian citizen, pleaded guilty today to smuggling ivory. "
        "He admitted the scheme in federal court in Boston. "
    )
    # further down, a co-conspirator's sentence is no report of Chen's
    codefendant = opening + (
        "In December 2014, Yang pleaded guilty and was sentenced in May 2015 to time served. "
        "Marsh pleaded guilty and was sentenced to one year of probation."
    )
    assert reported(codefendant, sentence)
    assert not reported(codefendant, sentence, chen)
    # a sentence naming him, or opening with a pronoun after one that does, reports his
    assert reported(opening + "Chen was sentenced to 70 months in prison.", sentence, chen)
    assert reported(
        opening + "Chen was arrested in Arcadia, La., in 2010. He was sentenced to 14 years.",
        sentence,
        chen,
    )
    # the opening tells what happened to whom the release is about, named later or not
    assert reported(
        "A former trader was sentenced today to 24 months in prison for export crimes. "
        "The sentence was announced in Chicago. Guan Zong Chen, 69, admitted the scheme.",
        sentence,
        chen,
    )


def test_asked_a_named_defendant_s_sentence_a_co_defendant_s_does_not_answer(
    tmp_path: Path,
) -> None:
    body = (
        "Guan Zong Chen, an Australian citizen, pleaded guilty today to smuggling ivory and "
        "rhinoceros horn carvings to China. Chen is scheduled to be sentenced on Sept. 9. "
        "Two co-conspirators were charged in Boston. Xiao Ju Yang pleaded guilty and was "
        "sentenced to time served. Ivan Marsh pleaded guilty and was sentenced to one year "
        "of probation."
    )
    records = [_release("chen", "Antiques Dealer Pleads Guilty to Smuggling", body), *UNRELATED]
    engine = _engine_of(tmp_path, "codefendants", records, FakeEncoder())
    answer = engine.ask("What prison sentence did Guan Zong Chen receive for smuggling?").answer
    assert answer.abstained and "do not report the sentence" in (answer.message or "")
    # asked about the co-conspirator, the release reports his
    asked = engine.ask("What sentence did Xiao Ju Yang receive for smuggling?").answer
    assert not asked.abstained and "time served" in asked.text
    # asked for a list of those sentenced, the outcome is the others'
    listed = engine.ask("Which defendants in the case of Guan Zong Chen were sentenced?").answer
    assert not listed.abstained and "sentenced" in listed.text


def test_asked_a_named_defendant_s_sentence_another_case_s_does_not_answer(
    tmp_path: Path,
) -> None:
    """Asked the sentence of someone a plea release names, another defendant's sentencing
    release (it names neither him nor anyone else asked about) does not answer."""
    plea = _release(
        "plea",
        "Oakland Man Pleads Guilty to Supporting ISIS",
        "Amer Sinan Alhaggagi pleaded guilty today to attempting to provide material support "
        "to ISIS. Alhaggagi faces up to 20 years in prison at sentencing.",
    )
    other = _release(
        "other",
        "Maryland Man Sentenced for Supporting ISIS",
        "Mohamed Elshinawy was sentenced today to 20 years in prison for conspiring to "
        "provide material support to ISIS. Elshinawy received money from ISIS operatives.",
    )
    engine = _engine_of(tmp_path, "unquoted", [plea, other, *UNRELATED], FakeEncoder())
    question = "How long was Amer Sinan Alhaggagi sentenced to prison for supporting ISIS?"
    answer = engine.ask(question).answer
    assert answer.abstained
    # the plea release is the closest: it reports no sentence of his, and the sentencing
    # release, which names no one asked about, does not count
    assert answer.reason == (
        "The closest releases do not report the sentence as handed down, only charges, pleas "
        "or the penalties faced."
    )
    arrest = _release(
        "arrest",
        "Oakland Man Arrested",
        "Amer Sinan Alhaggagi was arrested in Oakland on identity theft charges.",
    )
    engine = _engine_of(tmp_path, "unquoted-2", [arrest, other, *UNRELATED], FakeEncoder())
    answer = engine.ask(question).answer
    assert answer.abstained
    assert answer.reason == (
        "None of the closest releases that report a sentence names Amer Sinan Alhaggagi."
    )
    # asked of the one sentenced, that release answers
    asked = engine.ask("How long was Mohamed Elshinawy sentenced to for supporting ISIS?").answer
    assert not asked.abstained and "20 years" in asked.text


def test_a_follow_up_is_not_answered_from_another_case(tmp_path: Path) -> None:
    from qa.chat import Turn

    engine = _court_engine(tmp_path, FakeEncoder())
    history = [Turn("user", "Who pleaded guilty to smuggling hawksbill turtle shells?")]
    result = engine.ask("What sentence did he receive?", history)
    assert "Petrov" in result.query or "hawksbill" in result.query
    # The other case's sentence answers "what sentence did he receive" word for word, but it
    # is not about Petrov, whose sentencing the releases only schedule.
    assert result.answer.abstained
    assert "penalties faced" in (result.answer.message or "")
    assert result.answer.suggestions[0].id == "plea"


def test_each_part_of_a_compound_question_is_checked_on_its_own(tmp_path: Path) -> None:
    engine = _court_engine(tmp_path, FakeEncoder())
    answer = engine.ask(
        "How much were the hawksbill turtle shells seized at the port of Miami worth, and "
        "how many years in prison did Ivan Petrov receive?"
    ).answer
    # The first part is answered; the second has no sentence handed down to quote, neither
    # Petrov's (only the penalty he faces) nor another case's.
    assert not answer.abstained and "$450,000" in answer.text
    assert "27 years" not in answer.text and "faces a maximum" not in answer.text


def test_a_part_asking_when_someone_is_due_to_be_sentenced_asks_what_is_to_come(
    tmp_path: Path,
) -> None:
    """ "Due to be sentenced", like "scheduled to be sentenced", asks about what is to come:
    the part is answered from the sentencing date, not checked for a sentence handed down."""
    from qa.question import read

    for asked in ("due", "set", "expected", "scheduled"):
        assert read(f"When is Ivan Petrov {asked} to be sentenced?").prospective
    assert not read("When was Ivan Petrov sentenced?").prospective
    engine = _court_engine(tmp_path, FakeEncoder())
    answer = engine.ask(
        "How much were the hawksbill turtle shells seized at the port of Miami worth, and "
        "when is Ivan Petrov due to be sentenced?"
    ).answer
    assert not answer.abstained and "$450,000" in answer.text and "Sept. 9, 2014" in answer.text


def _sentences_by_share(engine: Engine, question: str) -> dict[int, int]:
    """How many sentences the answer to ``question`` has with one and with three sentences a
    part (``part_sentences``); it answers both times."""
    counts = {}
    for share in (1, 3):
        engine.composer.part_sentences = share
        answer = engine.ask(question).answer
        assert not answer.abstained
        counts[share] = len(answer.sentences)
    return counts


def test_each_part_of_a_compound_question_gets_its_own_sentences(tmp_path: Path) -> None:
    """Each part of a compound question gets up to ``part_sentences`` sentences of its own
    (``QA_PART_ANSWER_SENTENCES``), not a share of the whole answer's four."""
    body = (
        "The hawksbill turtle shells seized at the port of Miami were worth $450,000. "
        "The hawksbill turtle shells seized at the port of Miami numbered 300. "
        "The hawksbill turtle shells seized at the port of Miami came from Panama. "
        "The hawksbill turtle shells seized at the port of Miami were hidden under fish. "
        "Ivan Petrov was sentenced to 27 months in prison. "
        "Ivan Petrov was sentenced to three years of supervised release. "
        "Ivan Petrov was sentenced to pay a $10,000 fine. "
        "Ivan Petrov was sentenced in federal court in Miami."
    )
    records = [_release("shells", "Smuggler Sentenced for Turtle Shells", body), *UNRELATED]
    engine = _engine_of(tmp_path, "parts", records, FakeEncoder())
    question = (
        "What about the hawksbill turtle shells seized at the port of Miami, and what was "
        "Ivan Petrov sentenced to?"
    )
    counts = _sentences_by_share(engine, question)
    assert counts[1] <= 2 < counts[3] <= 6


def test_two_names_asked_about_together_get_sentences_each(tmp_path: Path) -> None:
    """A question about two names together ("A and B each") gets ``part_sentences`` for
    each, as a compound question's two parts do, not the four of a simple answer."""
    from qa.question import together

    assert together(
        "What prison terms did Timothy Christenbury of Charlotte and John Michael Carter of "
        "Bedford, Virginia, each receive?"
    ) == ("Timothy Christenbury Charlotte", "John Michael Carter Bedford")  # as names are read
    assert together("What did Shkumbin Sherifi and schoolteacher Nevine Aly Elshiekh receive?") == (
        "Shkumbin Sherifi",
        "Nevine Aly Elshiekh",
    )
    # places, and single words on both sides, are not two subjects
    assert together("Who was arrested in Saudi Arabia and expelled to the United States?") == ()
    assert together("How many areas of Louisiana and Mississippi were covered?") == ()
    body = (
        "Ivan Petrov was sentenced to 27 months in prison. "
        "Ivan Petrov was ordered to pay a $10,000 fine. "
        "Ivan Petrov was ordered to forfeit his boat. "
        "Ivan Petrov was sentenced in federal court in Miami. "
        "Olga Sokolova was sentenced to 18 months in prison. "
        "Olga Sokolova was ordered to pay a $5,000 fine. "
        "Olga Sokolova was ordered to forfeit her car. "
        "Olga Sokolova was sentenced in federal court in Miami."
    )
    records = [_release("pair", "Smugglers Sentenced for Turtle Shells", body), *UNRELATED]
    engine = _engine_of(tmp_path, "together", records, FakeEncoder())
    question = "What were Ivan Petrov and Olga Sokolova ordered and sentenced to in Miami?"
    counts = _sentences_by_share(engine, question)
    assert counts[1] <= engine.composer.max_sentences < counts[3] <= 6


def test_compound_questions_split_into_their_questions() -> None:
    from qa.question import question_parts

    assert question_parts(
        "How much did the brothers defraud Medicare of, and how long was he sentenced to?"
    ) == ["How much did the brothers defraud Medicare of", "how long was he sentenced to?"]
    # An opening setting is no question of its own; "from which" still starts one.
    assert question_parts(
        "In the Haiti Teleco case, how much did Antoine agree to forfeit, and from which "
        "country was Richers extradited?"
    ) == ["how much did Antoine agree to forfeit", "from which country was Richers extradited?"]
    # Only a setting ("In ...", "For ...") is dropped; another opening is a part of its own.
    assert question_parts("Name the company, and how much did it pay in fines?") == [
        "Name the company",
        "how much did it pay in fines?",
    ]
    assert question_parts("In 2016, which countries joined the program?") == [
        "In 2016, which countries joined the program?"
    ]
    assert question_parts("Which measures target terrorism?") == [
        "Which measures target terrorism?"
    ]
    # spaces before the comma stay with the part before it, and are stripped
    assert question_parts("How much did Antoine forfeit  , and where was he held?") == [
        "How much did Antoine forfeit",
        "where was he held?",
    ]
    # "when" or "where" without the verb a question puts first opens a clause: the setting of
    # the parts, or a clause of the part before it
    assert question_parts(
        "When Ryan Lin was arrested in October 2017, how many counts was he charged with, "
        "and how many more offenses were added in April 2018?"
    ) == ["how many counts was he charged with", "how many more offenses were added in April 2018?"]
    assert question_parts(
        "How large was the scheme at American Therapeutic Corporation, where Drs. Mark Willner "
        "and Alberto Ayala worked, and how large was the one at Greater Miami?"
    ) == [
        "How large was the scheme at American Therapeutic Corporation, where Drs. Mark Willner "
        "and Alberto Ayala worked",
        "how large was the one at Greater Miami?",
    ]
    assert question_parts(
        "Where was Peter Levashov arrested, and where was he arraigned after his extradition?"
    ) == ["Where was Peter Levashov arrested", "where was he arraigned after his extradition?"]
    assert question_parts(
        "Besides the tax counts, what firearm charge did the indictment add, and how long a "
        "sentence did he get?"
    ) == ["what firearm charge did the indictment add", "how long a sentence did he get?"]


def test_a_year_a_part_gives_is_that_parts_and_a_name_loses_its_title() -> None:
    from qa.question import question_names, read

    q = read(
        "In the 2014 Alabama refund fraud cases, how much restitution were the Fergerson "
        "sisters ordered to pay, and how much went into the account Darrington opened in 2006?"
    )
    assert [p.years for p in q.parts] == [("2014",), ("2006", "2014")]
    assert question_names("Where did Drs. Mark Willner and Mr. Alberto Ayala work?") == [
        "Mark Willner",
        "Alberto Ayala",
    ]


def test_answer_types_tell_a_count_and_a_day_from_look_alikes() -> None:
    from qa.kinds import ANSWER_TYPES, expected_types

    found = {name: pattern for name, _, pattern in ANSWER_TYPES}
    assert [n for n, _ in expected_types("How many offenders were arrested?")] == ["count"]
    assert found["count"].search("Marshals arrested 345 individuals")
    assert not found["count"].search("a three-year, national initiative launched in 2018")
    assert [n for n, _ in expected_types("On which days did the conference take place?")] == ["day"]
    assert found["day"].search("the three-day (7-9 February) meeting")
    assert not found["day"].search("goals launched in 2018")
    assert found["date"].search("goals launched in 2018")  # enough for "when"
    assert [n for n, _ in expected_types("Since when has he been detained?")] == ["date"]
    # "how much time" asks how long, not how much money
    assert [n for n, _ in expected_types("How much time did they get?")] == ["duration"]
    assert [n for n, _ in expected_types("How much did the company pay?")] == ["money"]
    # the charges, asked as what someone is charged with, not who was
    assert [n for n, _ in expected_types("What exactly is he charged with?")] == ["charges"]
    assert [n for n, _ in expected_types("Which charges did he plead guilty to?")] == ["charges"]
    for question in (
        "What were the charges?",
        "What was he charged with in 2015?",
        "What was he found guilty of?",
    ):
        assert [n for n, _ in expected_types(question)] == ["charges"], question
    assert "charges" not in dict(expected_types("What counts as wildlife crime?"))
    assert expected_types("Who is accused of running the piracy site?") == []
    assert "charges" not in dict(expected_types("Which companies were charged with fraud?"))
    assert found["charges"].search("indicted today on charges of wire fraud and cyberstalking")
    assert found["charges"].search("pleaded guilty to one count of conspiracy")
    assert not found["charges"].search("will begin answering for his alleged hacking activities")
    # an age, as releases give one, not a figure of something else
    assert [n for n, _ in expected_types("How old is he?")] == ["age"]
    for text in (
        "Karim Baratov, 22, of Ancaster",
        "a 20-year-old man",
        "aged 54",
        "is 31 years old",
    ):
        assert found["age"].search(text), text
    for text in (
        "sentenced to 22 years",
        "a 20-year sentence",
        "On May 5, 2015, he",
        "22 counts",
        "arrests in Kenya, 12, Uganda, 8, and Tanzania",
        "Operation Pangea VIII, 115, countries",
    ):
        assert not found["age"].search(text), text
    assert found["age"].search("Ali Charaf Damache, aka Theblackflag, 52, of Algeria")


def test_list_questions_and_inline_series() -> None:
    from qa.kinds import LIST_QUESTION, expected_types

    assert LIST_QUESTION.search("What types of counterfeit goods were sold?")
    assert LIST_QUESTION.search("In which countries did the company pay bribes?")
    assert not LIST_QUESTION.search("What was the weather in Paris?")
    assert not LIST_QUESTION.search("In which city was he arrested?")
    assert not LIST_QUESTION.search("What is the status of the case?")
    assert LIST_QUESTION.search("List the charges he faces.")
    assert LIST_QUESTION.search("What were the charges?")
    # a name that ends in "s" is no plural, nor a word after an auxiliary
    assert not LIST_QUESTION.search("Which prison was Davis sent to?")
    assert not LIST_QUESTION.search("What sentence did Jones get?")
    assert not LIST_QUESTION.search("what sentence did jones get?")
    assert not LIST_QUESTION.search("On what date did Carlos Ortiz plead guilty?")
    assert not LIST_QUESTION.search("What about Williams?")
    assert not LIST_QUESTION.search("Who was added to the Most Wanted list?")
    # words written with hyphens or dots before the plural; a possessive asks for its owner
    assert LIST_QUESTION.search("Which counter-terrorism measures did participants support?")
    assert LIST_QUESTION.search("Which U.S. banks were ordered to produce records?")
    assert not LIST_QUESTION.search("Which country's authorities detained him?")
    # "name" and a plural asks for a list; a singular, or a plural after a relative clause or
    # a preposition, does not
    assert LIST_QUESTION.search("Name the three U.S. citizens held hostage by the FARC.")
    assert LIST_QUESTION.search("Name the four East Haven, Connecticut police officers.")
    assert LIST_QUESTION.search("Name the three men who pleaded guilty.")
    assert not LIST_QUESTION.search("Name the judge who sentenced the defendants.")
    assert not LIST_QUESTION.search("Name the company that was fined.")
    assert not LIST_QUESTION.search("Name the lawyer for the defendants.")
    (series,) = expected_types("What types of counterfeit goods were sold?")
    assert series[0] == "series"
    assert series[1].search("goods, including sports equipment, shoes, handbags and sunglasses")
    assert not series[1].search("Seizure orders were executed against 82 domain names.")
    assert not series[1].search("word word, " * 2000)  # long, commas, no last item
    # a list question that names what it wants ("which days") wants that, not any series
    assert [n for n, _ in expected_types("On which days did the meeting take place?")] == ["day"]


def test_a_list_written_inline_is_told_from_commas_of_a_clause() -> None:
    from qa.lists import inline_list

    listed = [
        "Five vessels (the Janet R, Amanda Laurnen, Miss Lill, Crab Daddy and Conch Emperor) "
        "were seized.",
        "The settlement with Rocky Mountain Pipeline System LLC, Western Convenience Stores "
        "Inc. and Offen Petroleum Inc. was filed in Denver.",
        "They join the sites of Detroit; Chicago; Camden, New Jersey; and Wilmington, Delaware.",
        "They admitted to stealing one bus, eight trucks, 19 generators, five trailers and "
        "several other items.",
    ]
    unlisted = [
        # clauses, a state after a town, two names, officials
        "According to the complaint, at two terminals in Dupont and Fountain, Colo., between "
        "2006 and 2009, the companies blended gasoline.",
        "From 2004 through 2007, Thomas and Todd Reeves were oyster fishermen.",
        "He was sentenced to 5 years in prison, three years of supervised release and ordered "
        "to pay restitution.",
        "Acting Assistant Attorney General Kenneth Blanco, U.S. Attorney Benjamin Greenberg and "
        "Special Agent in Charge Shimon Richmond made the announcement.",
    ]
    assert all(inline_list(t) for t in listed)
    assert not any(inline_list(t) for t in unlisted)
    # the question's own names are no items of a list it asks for
    assert inline_list("Smith, Jones and Brown were charged.")
    assert not inline_list("Smith, Jones and Brown were charged.", frozenset({"smith", "jones"}))
    # long comma-laden sentences (read in one pass, not by a backtracking expression)
    assert inline_list(", ".join(f"Alpha Beta{i} Gamma" for i in range(2000)))
    assert not inline_list("word, " * 3000)


def test_asked_for_a_list_the_answer_quotes_the_items_not_their_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The best sentence may only count the items ("seven agencies"); the sentence naming them
    inline, or its release's sentences naming one each, a little below it, are quoted.
    (``LIST_MARGIN`` is set for the hand weights' scale of scores.)"""
    from qa import selection

    engine = _engine_of(
        tmp_path,
        "lists",
        [
            _release(
                "agencies",
                "Mother and Daughter Sentenced for Home Health Fraud",
                "Mildred Gomez and Milka Alvarez secretly co-owned seven home health agencies "
                "in the Miami area. The women paid kickbacks to patient recruiters. Gomez and "
                "Alvarez co-owned home health agencies Inar Home Care Corp., Golden Home Health "
                "Inc. and Metro Dade Home Health Inc. Each was sentenced to 10 years in prison.",
            ),
            _release(
                "panels",
                "Display Makers Plead Guilty to Price Fixing",
                "Three companies pleaded guilty to fixing the prices of display panels. On Dec. "
                "15, 2008, LG Display Co. pleaded guilty to fixing prices. On Jan. 14, 2009, "
                "Chunghwa Picture Tubes Ltd. pleaded guilty to fixing prices. Sharp Corp. "
                "pleaded guilty to fixing prices too.",
            ),
            *UNRELATED,
        ],
        FakeEncoder(),
    )
    inline = "Which home health agencies did Mildred Gomez and Milka Alvarez own?"
    spread = "Which companies pleaded guilty to fixing display panel prices?"
    companies = ("LG Display", "Chunghwa", "Sharp")
    monkeypatch.setattr(selection, "LIST_MARGIN", 0.3)
    assert "Inar Home Care Corp., Golden Home Health Inc." in engine.ask(inline).answer.text
    assert all(name in engine.ask(spread).answer.text for name in companies)
    # without the margin, the answers stop at the sentence that counts them
    monkeypatch.setattr(selection, "LIST_MARGIN", 0.0)
    assert "Inar Home Care" not in engine.ask(inline).answer.text
    assert not all(name in engine.ask(spread).answer.text for name in companies)


def test_asked_for_a_list_the_best_list_answers_inline_or_bulleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release lists the officers charged inline and, lower, other things in bullets (the
    overt acts); asked which officers were charged, the answer leads with the inline list that
    scores higher, not with the bullets, which used to be quoted in its place and alone.
    (``LIST_MARGIN`` is widened so that the bullets are close enough to be.)"""
    from qa import selection

    engine = _engine_of(
        tmp_path,
        "best-list",
        [
            _release(
                "officers",
                "Four Police Officers Charged With Civil Rights Violations",
                "Four police officers were arrested today. The officers charged are John Miller, "
                "David Cari, Dennis Spaulding and Jason Zullo. The indictment alleges overt "
                "acts, including:\n\n- A July 2007 incident near the parkway;\n- A November "
                "2008 incident in a parking lot;\n- A January 2009 incident at a store.",
            ),
            *UNRELATED,
        ],
        FakeEncoder(),
    )
    monkeypatch.setattr(selection, "LIST_MARGIN", 1.0)
    answer = engine.ask("Which officers were charged?").answer
    names = "John Miller, David Cari, Dennis Spaulding and Jason Zullo"
    assert names in answer.sentences[0].text


def test_asked_for_a_list_of_something_the_list_that_names_it_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked which domains were seized, the answer leads with the sentence naming the domain
    names (three, in a series), not with the list of agencies the release thanks, which used
    to be quoted first for being a list; asked for names, a list of names answers though it
    does not say "defendants". (``LIST_MARGIN`` is widened so that every list is close enough
    to be quoted.)"""
    from qa import answer_types, selection
    from qa.answer_types import TYPES, TypeReader

    engine = _engine_of(
        tmp_path,
        "named-list",
        [
            _release(
                "domains",
                "Federal Courts Order Seizure of Three Website Domains",
                "Seizure orders have been executed against three website domains that "
                "distributed pirated apps. The operation reflects a coordinated effort by the "
                "Computer Crime Section, the Office of International Affairs, the Northern "
                "District of Georgia and the Atlanta Field Office. The three seized domain "
                "names applanet.net, appbucket.net and snappzmarket.com are in the custody of "
                "the federal government.",
            ),
            _release(
                "hackers",
                "Hackers Indicted for Payroll Card Fraud",
                "A hacking ring broke into the card processor's network and raised the limits "
                "of the cards it used. Sergei Tsurikov, Viktor Pleshchuk and Oleg Covelin were "
                "indicted today.",
            ),
            *UNRELATED,
        ],
        FakeEncoder(),
    )
    monkeypatch.setattr(selection, "LIST_MARGIN", 1.0)
    domains = engine.ask("Which website domains were seized for distributing pirated apps?")
    assert "applanet.net, appbucket.net and snappzmarket.com" in domains.answer.sentences[0].text
    # names in a row answer a question for names, as the reader of the kinds of answer reads
    # it (one sure of it here: the fake encoder's embeddings are not the shipped reader's)
    dimension = len(FakeEncoder().encode(["x"])[0]) + len(answer_types.WH)
    engine.composer.sentences.types = TypeReader(
        engine.index.manifest.model,
        ((0.0,) * dimension,) * len(TYPES),
        tuple(30.0 if t == "name" else -30.0 for t in TYPES),
        {},
    )
    hackers = engine.ask("Which defendants were indicted for hacking the card processor?")
    assert "Sergei Tsurikov" in hackers.answer.sentences[0].text


def test_a_list_question_names_the_plural_it_asks_for() -> None:
    from qa.kinds import listed
    from qa.lists import inline_list, series_after

    assert listed("Which website domains were seized?") == "domains"
    assert listed("Through which countries did the shipments pass?") == "countries"
    assert listed("Name the three U.S. citizens held hostage.") == "citizens"
    assert listed("What are the charges?") == ""  # a list, of no plural it names
    assert listed("Which prison was Davis sent to?") == ""  # no list
    # three short phrases make a series right after what is asked for, not further on
    three = "The seized domain names applanet.net, appbucket.net and snappzmarket.com are held."
    domain = frozenset({"domain"})
    assert series_after(three, domain) and not inline_list(three)
    assert not series_after(three, frozenset({"site"}))
    further = "Two members for their roles in murders, thefts and robberies."
    assert not series_after(further, frozenset({"member"}))


def _repeating_engine(tmp_path: Path) -> Engine:
    """Three releases of one case that restate its facts, one with a revised figure, and an
    unrelated case with the same kind of facts."""
    return _engine_of(
        tmp_path,
        "repeats",
        [
            {
                "id": "verdict",
                "title": "Exchange Founder Found Guilty",
                "date": "2016-01-29",
                "body": "Anna Kovac, founder of the Zelda exchange, was found guilty on May 19, "
                "2014, by a jury in Manhattan. When it was shut down, the Zelda exchange had "
                "more than 5 million user accounts.",
            },
            {
                "id": "sentence",
                "title": "Exchange Founder Sentenced",
                "date": "2016-05-06",
                "body": "On May 19, 2014, a Manhattan jury found Anna Kovac guilty of running "
                "the Zelda exchange. When it was shut down, the Zelda exchange had more than 5.5 "
                "million user accounts. Kovac faces up to 20 years in prison.",
            },
            {
                "id": "unrelated",
                "title": "Another Exchange Closed",
                "date": "2016-07-01",
                "body": "A jury found Boris Lentz guilty on June 2, 2015. His exchange had 900 "
                "user accounts when it was shut down.",
            },
        ],
        FakeEncoder(),
    )


def test_other_releases_restating_the_same_answer_are_not_cited(tmp_path: Path) -> None:
    engine = _repeating_engine(tmp_path)
    answer = engine.ask("On what date was Anna Kovac found guilty by a Manhattan jury?").answer
    assert not answer.abstained and "May 19, 2014" in answer.text
    # Both Kovac releases say May 19, 2014; one citation is the answer, the other a repeat.
    assert len(answer.sources) == 1
    assert answer.sources[0].release.id in ("verdict", "sentence")


def test_releases_giving_different_figures_are_both_cited(tmp_path: Path) -> None:
    engine = _repeating_engine(tmp_path)
    answer = engine.ask(
        "How many user accounts did Anna Kovac's Zelda exchange have when it was shut down?"
    ).answer
    assert not answer.abstained
    # The two releases disagree (5 million, 5.5 million): the reader sees both, cited.
    assert "more than 5 million user" in answer.text and "more than 5.5 million" in answer.text
    assert {s.release.id for s in answer.sources} == {"verdict", "sentence"}
    assert "900" not in answer.text  # another case's figure is no answer


def test_answers_of_the_asked_kind_are_read_from_a_unit() -> None:
    from qa.kinds import values as read_values
    from qa.selection import disagrees

    def values(text: str, types: list[str], prospective: bool = False) -> set[str]:
        return read_values(text, types, prospective)

    assert values("He was sentenced to 23 years in prison.", ["duration"]) == {"23years"}
    # a penalty faced is no sentence handed down, unless the question asks what he faces
    assert values("He faces up to life in prison.", ["duration"]) == set()
    assert values("He faces up to life in prison.", ["duration"], prospective=True) == {"life"}
    assert values("The government may advocate for up to 25 years.", ["duration"]) == set()
    # only the figure in the scope of "could face" is a penalty faced
    both = (
        "He will be sentenced to five years in prison, and could face a fine of up to $2.5 million."
    )
    assert values(both, ["duration", "money"]) == {"fiveyears"}
    assert values("Smith, a 25-year-old Irish national, was charged.", ["duration"]) == set()
    assert values("It had $5.5 million and 3 accounts.", ["money"]) == {"5.5million"}
    assert values("Found guilty on May 19, 2014, in New York.", ["day"]) == {"may19"}
    assert disagrees({"5.5million"}, {"5million"})
    assert not disagrees({"may19", "march9"}, {"may19"})  # the same answer, restated
    assert not disagrees(set(), {"may19"})


def test_a_how_many_question_is_told_whether_a_sentence_counts_what_it_asks() -> None:
    from qa.candidates import Candidate
    from qa.chunking import Unit
    from qa.corpus import Release
    from qa.question import read
    from qa.selection import uncounted

    def groups(*texts: str) -> list[list[Candidate]]:
        out = []
        for text in texts:
            release = Release(id="r", title="t", text=text, blocks=())
            out.append([Candidate(release, Unit("sentence", 0, len(text)), 1.0, frozenset())])
        return out

    def _uncounted(question: str, groups: list[list[Candidate]]) -> bool:
        return uncounted(read(question), groups)

    bitcoins = "How many bitcoins did the FBI recover from Alexandre Cazes's wallets?"
    arrested = groups("On July 5, Alexandre Cazes, 25, was arrested by Thai authorities.")
    assert _uncounted(bitcoins, arrested)
    assert not _uncounted(bitcoins, groups("The FBI recovered 1,200 bitcoins from his wallets."))
    cards = "How many cloned salary cards did the cash-out crew use?"
    assert not _uncounted(cards, groups("They used 44 counterfeit payroll debit cards."))
    # people go by many names: "individuals" counts people
    people = "How many people were arrested in Project Deliverance?"
    assert not _uncounted(people, groups("It led to the arrest of 2,266 individuals."))
    suspects = "How many suspects were arrested in Operation Pangea?"
    assert not _uncounted(suspects, groups("Police arrested 1,200 individuals."))
    # no noun after "how many": nothing to check a count of
    verb = "How many were arrested in Operation Pangea?"
    assert not _uncounted(verb, groups("Police arrested 3,345 suspects."))
    assert not _uncounted("Who was arrested?", arrested)
    # a count joined to what it counts
    counts = "How many counts are in the indictment?"
    assert not _uncounted(counts, groups("The defendants named in the 21-count indictment"))
    assert _uncounted(counts, groups("He faces a three-year term."))
    years = "How many years did he serve?"
    assert _uncounted(years, groups("The 20-year-old was arrested."))


def test_a_how_many_question_counted_in_other_words_is_answered(tmp_path: Path) -> None:
    """Asked how many "web addresses" were seized, the release that counts "82 domain names"
    answers: a count of other words for the thing asked is no reason to abstain."""
    release = _release(
        "domains",
        "Federal Courts Order Seizure of 82 Website Domains",
        "Federal agents seized 82 domain names of sites selling counterfeit goods. Nine "
        "search warrants were executed too.",
    )
    engine = _engine_of(tmp_path, "counted", [release, *UNRELATED], FakeEncoder())
    question = "How many web addresses did federal agents seize?"
    answer = engine.ask(question).answer
    assert not answer.abstained
    assert "82 domain names" in answer.text


def test_a_name_the_releases_withhold_is_said_to_be_withheld(tmp_path: Path) -> None:
    """Asked the name of a company a release speaks of only as "a Minnesota-based company",
    the answer says the releases do not name it instead of quoting that sentence; once a
    release names it, the name is the answer."""
    withheld = _release(
        "withheld",
        "Singapore Man Sentenced for Shipping Radio Modules to Iran",
        "Lim Yong Nam was sentenced to 40 months in prison. The radio frequency modules he "
        "shipped to Iran were made by a Minnesota-based company.",
    )
    question = "What is the name of the Minnesota company that made the radio frequency modules?"
    engine = _engine_of(tmp_path, "withheld", [withheld, *UNRELATED], FakeEncoder())
    answer = engine.ask(question).answer
    assert answer.abstained
    assert answer.reason == (
        "The closest releases do not name the company: they say only “a Minnesota-based company”."
    )
    assert answer.suggestions[0].id == "withheld"
    named = _release(
        "named",
        "Singapore Man Sentenced for Shipping Radio Modules to Iran",
        "Lim Yong Nam was sentenced to 40 months in prison. The radio frequency modules he "
        "shipped to Iran were made by Nortek Radio, a Minnesota-based company.",
    )
    answer = _engine_of(tmp_path, "named", [named, *UNRELATED], FakeEncoder()).ask(question).answer
    assert not answer.abstained and "Nortek Radio" in answer.text


def test_a_named_event_announced_as_to_come_does_not_answer_what_happened_there(
    tmp_path: Path,
) -> None:
    announced = {
        "id": "announced",
        "title": "Pacific Police Summit to Meet in Fiji",
        "date": "2023-02-01",
        "body": "The Pacific Police Summit, to be held in Fiji in May, will bring together "
        "chiefs of police from 20 countries. Last week police in Samoa seized 40 kilograms of "
        "cocaine at sea.",
    }
    question = "How many kilograms of cocaine were seized during the Pacific Police Summit?"
    answer = _engine_of(tmp_path, "ahead", [announced], FakeEncoder()).ask(question).answer
    assert answer.abstained
    assert "Pacific Police Summit only as still to come" in (answer.message or "")
    assert answer.suggestions[0].id == "announced"
    # Once a release reports the event as held, the question is answered from it.
    held = {
        "id": "held",
        "title": "Pacific Police Summit Ends",
        "date": "2023-05-20",
        "body": "During the Pacific Police Summit in Fiji, police announced that 95 kilograms "
        "of cocaine were seized in a joint operation.",
    }
    engine = _engine_of(tmp_path, "held", [announced, held], FakeEncoder())
    answered = engine.ask(question).answer
    assert not answered.abstained and "95 kilograms" in answered.text


def test_event_mentions_are_told_ahead_from_past() -> None:
    from qa.corpus import Release
    from qa.events import EVENT, only_ahead

    def ahead(text: str) -> bool:
        return only_ahead("Pacific Summit", [Release(id="r", title="t", text=text, blocks=())])

    assert ahead("The Pacific Summit, to be held in May, will open.")
    assert ahead("Delegates prepare for the upcoming Pacific Summit in Fiji.")
    assert ahead("The Pacific Summit will take place in Fiji.")
    assert not ahead("The Pacific Summit was held in Fiji in May.")
    assert not ahead("At the Pacific Summit, held in May, ministers signed a treaty.")
    assert not ahead("No summit is mentioned here.")  # nothing to go on: no decision
    # "will" before the name, or "next" after it, says nothing about the event itself
    assert not ahead("Officers will continue. Results announced at the Pacific Summit were good.")
    assert not ahead("At the Pacific Summit, 3 tonnes were seized. The next step is a trial.")
    assert EVENT.search("What was agreed at the Pacific Summit?")
    assert EVENT.search("Was anything seized at the Pacific Summit?")
    assert not EVENT.search("What will be agreed at the Pacific Summit?")
    # the event as the subject, named short: its mentions written in full are its own
    asked = EVENT.search("What did the Pacific Police summit adopt?")
    assert asked and asked.group(1) == "Pacific Police summit"
    # a possessive in place of "the": the event is what follows it
    owned = EVENT.search("What came out of INTERPOL's Pacific Police Summit in Fiji?")
    assert owned and owned.group(1) == "Pacific Police Summit"
    full = [
        Release(
            id="r",
            title="t",
            text="The Pacific Police Regional Summit, to be held in May, will open.",
            blocks=(),
        )
    ]
    assert only_ahead(asked.group(1), full)
    assert not EVENT.search("Where was the summit held?")  # no name: which summit?
    # the event's name is matched as words: the World Cup is not in "hiccup"
    cup = [Release(id="r", title="t", text="A hiccup, to be held later, will pass.", blocks=())]
    assert not only_ahead("Cup", cup)


def test_search_ranks_first_the_release_whose_sentence_answers(tmp_path: Path) -> None:
    from dataclasses import replace

    records = [
        _release(
            "overview",
            "Zelda Exchange Accounts Case: Kovac Exchange Accounts Overview",
            "The Zelda exchange case concerns accounts. Kovac ran the Zelda exchange "
            "accounts. Exchange accounts at Zelda were shut. Kovac and the Zelda accounts.",
            date="2016-01-29",
        ),
        _release(
            "answer",
            "Founder Sentenced in Manhattan",
            "Judge Lee spoke in court today about fraud, money laundering, wire "
            "transfers, shell companies, couriers and prepaid cards. When it was shut down, the "
            "Zelda exchange of Anna Kovac had 5.5 million user accounts.",
            date="2016-05-06",
        ),
    ]
    engine = _engine_of(tmp_path, "rerank", records, FakeEncoder())
    question = "How many user accounts did the Zelda exchange of Anna Kovac have when shut down?"
    passages_only = Engine(
        replace(engine.settings, sentence_rerank=0.0), engine.index, engine.retriever.encoder
    )
    assert passages_only.search(question, k=4)[0].release.id == "overview"
    # The release with the sentence that answers ranks first once sentences count.
    assert engine.search(question, k=4)[0].release.id == "answer"
    assert passages_only.search(question, k=4, mode="dense")[0].release.id == "overview"
    assert engine.search(question, k=4, mode="dense")[0].release.id == "overview"  # untouched


@pytest.mark.parametrize(
    "items",
    [
        "  • Enhancing intelligence sharing on explosive devices;\n"
        "  • Increasing inclusion of biometrics in databases;\n"
        "  • Facilitating screening operations at borders.",
        # as DOJ releases set lists out: no bullets, one short paragraph per item
        "Enhancing intelligence sharing on explosive devices\n\n"
        "Increasing inclusion of biometrics in databases\n\n"
        "Facilitating screening operations at borders",
    ],
    ids=["bullets", "paragraphs"],
)
def test_asked_for_a_list_search_ranks_first_the_release_with_one(
    tmp_path: Path, items: str
) -> None:
    """A list question is answered by a list even a little below the best single sentence;
    search counts a release's list the same way, so the release whose answer would be the list
    ranks above one whose single sentence scores a little higher."""
    import qa.reordering
    import qa.selection

    records = [
        _release("fraud", "Bank Fraud Sentencing", "A banker was sentenced to five years."),
        _release("drugs", "Drug Seizure at Port", "Agents seized 3 tonnes of cocaine in Miami."),
        _release("hacker", "Hacker Extradited", "A hacker was extradited from Spain."),
        _release(
            "speech",
            "Remarks by Officials",
            "Officials said new measures target terrorism. Officials spoke at length about the "
            "budget.",
        ),
        _release(
            "list",
            "Conference Agrees Measures",
            "The regional conference of police chiefs ended today.\n\n"
            "Measures to target emerging forms of terrorism include:\n\n" + items,
        ),
    ]
    engine = _engine_of(tmp_path, "lists", records, FakeEncoder())
    question = "Which measures target terrorism?"
    assert engine.search(question, k=4)[0].release.id == "list"
    answer = engine.ask(question).answer
    assert [s.kind for s in answer.sentences] == ["lead", "bullet", "bullet", "bullet"]
    # with no allowance for lists, the single sentence wins, in search and in the answer
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(qa.reordering, "LIST_MARGIN", 0.0)
        patch.setattr(qa.selection, "LIST_MARGIN", 0.0)
        assert engine.search(question, k=4)[0].release.id == "speech"
        assert [s.kind for s in engine.ask(question).answer.sentences] == ["sentence"]
    # a question that asks for no list: the single sentence
    assert engine.search("Do the measures target terrorism?", k=4)[0].release.id == "speech"
    # a list asked for in a part of a compound question counts too
    compound = "How much did it cost, and which measures target terrorism?"
    assert engine.search(compound, k=4)[0].release.id == "list"
    # not one whose word in "s" is a name
    assert (
        engine.search("Which measure does Reyes say targets terrorism?", k=4)[0].release.id
        == "speech"
    )


class SynonymEncoder(FakeEncoder):
    """The fake encoder, reading some words as their synonyms: a model that knows that
    "football" is "soccer", where BM25 matches words only."""

    SYNONYMS = {
        "football": "soccer",
        "federation": "association",
        "kickbacks": "bribes",
        "pocketing": "taking",
        "admitted": "pleaded",
        "head": "president",
        "running": "leading",
        "state": "country",
        "one": "former",
        "time": "former",
    }

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        def synonyms(text: str) -> str:
            return re.sub(r"[a-z]+", lambda m: self.SYNONYMS.get(m[0], m[0]), text.lower())

        return super().encode([synonyms(t) for t in texts], batch_size)


def test_dense_retrievals_first_releases_join_the_reordering(tmp_path: Path) -> None:
    """A paraphrase sharing no rare word with its release: releases matching its words one
    by one outrank it in BM25 and in the fusion, while dense retrieval ranks it first. It
    reaches the first five only if dense retrieval's first releases are reordered too."""
    from dataclasses import replace

    records = [
        _release(
            "plea",
            "Former Soccer Association President Pleads Guilty",
            "Rafael Callejas, former president of the country of Honduras, pleaded guilty "
            "today to taking bribes as he was leading the Honduran soccer association.",
        ),
        _release(
            "fair",
            "One-Time Fair Operator Sentenced",
            "A one-time operator of the state fair admitted running a kickbacks scheme.",
        ),
        _release(
            "coach",
            "Football Coach Charged",
            "A football coach was charged with running a gambling scheme while head of a team.",
        ),
        _release(
            "union",
            "Federation Treasurer Indicted",
            "The federation treasurer was indicted for pocketing dues while running the "
            "federation office for one time period.",
        ),
        _release(
            "clerk",
            "Clerk Admits Kickbacks",
            "A state clerk admitted taking kickbacks at one time while running the office.",
        ),
        _release(
            "pocket",
            "Pickpocketing Crew Charged",
            "A crew was charged with pocketing wallets while running a scheme at the state "
            "fair. They admitted pocketing cash.",
        ),
        _release(
            "federal",
            "State and Federation Officials Meet",
            "State officials and federation delegates met on running costs.",
        ),
        _release(
            "ring",
            "Head of Wildlife Smuggling Ring Pleads Guilty",
            "The head of a smuggling ring was running carvings across state lines.",
        ),
        *UNRELATED,
    ]
    built = _engine_of(tmp_path, "paraphrase", records, SynonymEncoder())
    question = (
        "Which one-time head of state admitted pocketing kickbacks while running a football "
        "federation?"
    )

    def first_five(dense_releases: int, mode: str = "hybrid", k: int = 8) -> list[str]:
        settings = replace(built.settings, dense_releases=dense_releases)
        engine = Engine(settings, built.index, SynonymEncoder())
        hits = engine.search(question, k=k, mode=mode)
        assert len(hits) <= k
        # a passage added only to mark a release's dense rank does not stay
        assert max(Counter(h.release.id for h in hits).values()) <= 2
        return list(dict.fromkeys(h.release.id for h in hits))[:5]

    assert first_five(4, mode="dense")[0] == "plea"  # the baselines do not use the setting
    assert "plea" not in first_five(4, mode="lexical")
    assert "plea" not in first_five(0)
    # at k=8 fusion ranks it 6th: the reordering of dense retrieval's releases lifts it
    assert "plea" in first_five(4)
    # at k=4 fusion leaves it out: the retriever adds it, to be reordered with the first five
    assert "plea" not in first_five(0, k=4)
    assert "plea" in first_five(4, k=4)
    # the others keep the order the reordering gives them without dense retrieval's releases
    assert [r for r in first_five(4) if r != "plea"] == first_five(0)[:4]


def test_asked_who_the_answer_introduces_him_by_full_name(tmp_path: Path) -> None:
    """The sentence that answers names him by surname; the release's sentence that introduces
    him by full name comes first, quoted as the release has it."""
    records = [
        _release(
            "varga",
            "Austrian Trader Sentenced for Export Scheme",
            "The defendant, Anton Pal Varga, 58, of Vienna, was sentenced today to 24 "
            "months in prison. The investigation was led by export control agents. Varga "
            "shipped lathes and milling machines to Pyongyang through front companies.",
            date="2016-03-01",
        ),
        *UNRELATED,
    ]
    engine = _engine_of(tmp_path, "who", records, FakeEncoder())
    asked = "Which Austrian trader shipped lathes and milling machines to Pyongyang?"
    answer = engine.ask(asked).answer
    assert not answer.abstained
    first, *rest = [s.text for s in answer.sentences]
    assert first.startswith("The defendant, Anton Pal Varga, 58, of Vienna,")
    assert any(t.startswith("Varga shipped lathes") for t in rest)
    assert all(s.citations == (1,) for s in answer.sentences)
    # not asked who: the sentence that answers is enough
    answer = engine.ask("What did the shipments to Pyongyang contain, lathes or milling?").answer
    assert [s.text for s in answer.sentences] == [
        "Varga shipped lathes and milling machines to Pyongyang through front companies."
    ]


def test_the_introduction_is_the_person_asked_about_and_keeps_other_releases() -> None:
    from qa.candidates import Candidate
    from qa.chunking import Unit
    from qa.completion import introduce as introduced
    from qa.corpus import Release
    from qa.question import PERSON_ASKED, read

    for asked in (
        "Who founded Liberty Reserve?",
        "Which Estonian accomplice of an identity thief planted data sniffers?",
        "Which La Linea enforcement boss confessed to ordering killings?",
        "Which Cuban national was the first person extradited from Latvia?",
    ):
        assert PERSON_ASKED.search(asked), asked
    for asked in (
        "What sentence did the defendant receive for shipping lathes?",
        "Which country did the fugitive flee to?",
        "What member countries attended the conference?",
        "What executive order was signed?",
    ):
        assert not PERSON_ASKED.search(asked), asked

    sentences = [
        "Chief Judge Mary Roe, a Reagan appointee, presided.",  # an official, introduced first
        "The defendant, Anton Pal Varga, 58, of Vienna, pleaded guilty.",
        "The case was heard by Judge John Smith. Varga, 58, of Vienna, agreed.",
        "Judge Roe sentenced Varga for shipping lathes to Pyongyang.",
    ]
    text = " ".join(sentences)
    release = Release(id="r", title="t", text=text, blocks=())
    other = Release(id="o", title="t", text="Lathes also went to Iran.", blocks=())

    def cand(release: Release, sentence: str) -> Candidate:
        start = release.text.index(sentence)
        return Candidate(release, Unit("sentence", start, start + len(sentence)), 1.0, frozenset())

    units = [cand(release, s) for s in sentences]
    answer, elsewhere = units[3], cand(other, other.text)
    question = read("Which Austrian trader shipped lathes to Pyongyang?")

    def introduce(groups: list[list[Candidate]]) -> list[str]:
        out = introduced(question, groups, units + [elsewhere], 2)
        return [g[0].release.text[g[0].unit.start : g[0].unit.end] for g in out]

    # Varga's introduction, not the judge's named first, nor a match across two sentences
    assert introduce([[answer]]) == [sentences[1], sentences[3]]
    # with no room, another release's sentence stays: the introduction is not added
    assert introduce([[answer], [elsewhere]]) == [sentences[3], other.text]
    # with no room, a later sentence of the same release makes room
    assert introduce([[answer], [units[2]]]) == [sentences[1], sentences[3]]
    # names beyond ASCII letters
    from qa.completion import INTRO, SURNAME

    named = "José Luis Núñez, 41, of Madrid, and Sean O'Brien, 50, and Ronald McDonald, aka Ron."
    assert [m["surname"] for m in INTRO.finditer(named)] == ["Núñez", "O'Brien", "McDonald"]
    assert SURNAME.findall("Núñez met O'Brien.") == ["Núñez", "O'Brien"]


def test_asked_who_an_answer_naming_no_one_gets_the_sentence_that_does() -> None:
    from qa.candidates import Candidate
    from qa.chunking import Unit
    from qa.completion import name_person
    from qa.corpus import Release
    from qa.question import read

    sentences = [
        "The agencies signed a memorandum of understanding with the Korea commission today.",
        "The memorandum was signed by Assistant Attorney General Bill Baer and Jeong Jae-chan.",
        "It is the third such arrangement.",
        "The Korea commission also met Sheila Birnbaum last year.",  # far below the best
    ]
    release = Release(id="r", title="t", text=" ".join(sentences), blocks=())
    scores = [1.0, 0.9, 0.95, 0.5]

    def cand(sentence: str, score: float) -> Candidate:
        start = release.text.index(sentence)
        unit = Unit("sentence", start, start + len(sentence))
        return Candidate(release, unit, score, frozenset())

    units = [cand(s, score) for s, score in zip(sentences, scores, strict=True)]
    candidates = sorted(units, key=lambda c: -c.score)

    def named(question: str, groups: list[list[Candidate]], room: int = 4) -> list[str]:
        out = name_person(read(question), groups, candidates, room)
        return [release.text[g[0].unit.start : g[0].unit.end] for g in out]

    asked = "Who signed the memorandum with the Korea commission?"
    assert named(asked, [[units[0]]]) == sentences[:2]
    # full: the named sentence takes the last one's place, after the first
    assert named(asked, [[units[0]], [units[2]]], room=2) == sentences[:2]
    # an answer that names someone already, or a question that does not ask who, stays
    assert named(asked, [[units[1]]]) == [sentences[1]]
    assert named("When was the memorandum signed?", [[units[0]]]) == [sentences[0]]
    # a sentence far below the best does not join
    assert named(asked, [[units[0]]], room=4) != [sentences[0], sentences[3]]


def test_asked_about_two_names_an_answer_quotes_the_release_of_each() -> None:
    from qa import naming
    from qa.candidates import Candidate
    from qa.chunking import Unit
    from qa.completion import missing_names
    from qa.corpus import Release
    from qa.question import read

    first = Release(
        id="a", title="Tax Preparer Sentenced", text="Ronald Scriven ran Tamijah LLC.", blocks=()
    )
    second = Release(
        id="b",
        title="Another Preparer Pleads",
        text="Jayvon Copeland ran Taxologist Inc.",
        blocks=(),
    )
    third = Release(id="c", title="t", text="Jayvon Copeland was also seen in Miami.", blocks=())

    def cand(release: Release, score: float) -> Candidate:
        return Candidate(release, Unit("sentence", 0, len(release.text)), score, frozenset())

    a, b, c = cand(first, 1.0), cand(second, 0.9), cand(third, 0.8)
    question = read("Which tax businesses did Ronald Scriven and Jayvon Copeland run?")

    def texts(groups: list[list[Candidate]]) -> list[str]:
        return [g[0].text for g in groups]

    def words(release: Release) -> naming.Words:
        return naming.word_set(f"{release.title}\n{release.text}")

    # the best sentence of a release naming the other, not a weaker one
    assert texts(missing_names(question, [[a]], [a, b, c], 4, words)) == [first.text, second.text]
    # however far below the best it scores (the other case told in other words)
    far = cand(second, -2.0)
    assert texts(missing_names(question, [[a]], [a, far], 4, words)) == [first.text, second.text]
    # no release among the candidates names it, or no room: nothing is added
    assert texts(missing_names(question, [[a]], [a], 4, words)) == [first.text]
    assert texts(missing_names(question, [[a]], [a, b], 1, words)) == [first.text]
    # a full answer gives up its last sentence of a release it quotes earlier too
    more = Release(
        id="a",
        title=first.title,
        text="Ronald Scriven ran Tamijah LLC. He filed returns.",
        blocks=(),
    )
    a1 = Candidate(more, Unit("sentence", 0, 31), 1.0, frozenset())
    a2 = Candidate(more, Unit("sentence", 32, len(more.text)), 0.95, frozenset())
    other = Release(id="d", title="t", text="Ronald Scriven was charged in 2014.", blocks=())
    d = cand(other, 0.9)
    assert texts(missing_names(question, [[a1], [a2], [d]], [a1, a2, d, b], 3, words)) == [
        "Ronald Scriven ran Tamijah LLC.",
        other.text,
        second.text,
    ]
    # never a release's only sentence: each group quoting a release of its own, nothing is added
    assert texts(missing_names(question, [[a1], [d]], [a1, d, b], 2, words)) == [
        "Ronald Scriven ran Tamijah LLC.",
        other.text,
    ]
    # one name asked about: the answer stays as it is
    one = read("Which tax business did Ronald Scriven run?")
    assert texts(missing_names(one, [[a]], [a, b], 4, words)) == [first.text]


# releases about other things, so that the scores of a few normalise as in a real index
UNRELATED = [
    {"id": f"other-{n}", "title": title, "date": f"2015-01-0{n}", "body": body}
    for n, (title, body) in enumerate(
        [
            ("Port Officers Seize Ivory", "Customs officers at the port seized ivory tusks."),
            ("Bank Fraud Ring Charged", "Five people were charged in a bank fraud ring."),
            ("Wildlife Conference", "Officials met to discuss wildlife smuggling routes."),
        ],
        start=1,
    )
]


def test_a_penalty_faced_does_not_answer_what_was_handed_down() -> None:
    from qa.kinds import holds as _holds

    assert _holds("He was sentenced to 30 months in prison.", "duration", stated=True)
    assert not _holds("He faces up to 20 years in prison.", "duration", stated=True)
    assert _holds("He faces up to 20 years in prison.", "duration", stated=False)
    assert not _holds("The maximum fine is $250,000.", "money", stated=True)
    assert _holds("He paid a $250,000 fine; he could face more.", "money", stated=True)
    # a penalty faced in another clause, or the maximum handed down, is handed down
    earlier = "Petrov, who faced up to 20 years, was sentenced today to 30 months in prison."
    assert _holds(earlier, "duration", stated=True)
    assert _holds("He was sentenced to the statutory maximum of 20 years.", "duration", True)
    assert not _holds("If convicted, he faces a maximum sentence of 20 years.", "duration", True)
    assert not _holds("He faces up to $1.5 million or 20 years in prison.", "duration", True)


def test_search_ranks_the_sentence_handed_down_above_the_penalty_faced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa.question

    # the sentence scores alone, not the rule that outcome reports come first, decide here
    monkeypatch.setattr(qa.question, "OUTCOMES", ())
    records = [
        {
            "id": "plea",
            "title": "Ivan Petrov Pleads Guilty to Smuggling Turtle Shells",
            "date": "2014-06-02",
            "body": "Ivan Petrov pleaded guilty today to smuggling turtle shells. Ivan Petrov "
            "faces a maximum of 20 years in prison for smuggling turtle shells.",
        },
        {
            "id": "sentencing",
            "title": "Turtle Shell Smuggler Sentenced",
            "date": "2014-09-09",
            "body": "Ivan Petrov was sentenced today to 30 months in prison for smuggling "
            "turtle shells.",
        },
    ] + UNRELATED
    engine = _engine_of(tmp_path, "faced", records, FakeEncoder())
    question = "What prison term did Ivan Petrov receive for smuggling turtle shells?"
    assert engine.retriever.search(question, k=4)[0].release.id == "plea"
    assert engine.search(question, k=4)[0].release.id == "sentencing"


def test_search_ranks_a_release_reporting_the_outcome_above_one_announcing_it(
    tmp_path: Path,
) -> None:
    records = [
        {
            "id": "plea",
            "title": "Ivan Petrov Pleads Guilty to Smuggling Turtle Shells and Ivory",
            "date": "2014-06-02",
            "body": "Ivan Petrov pleaded guilty today in Miami to smuggling turtle shells and "
            "ivory. Ivan Petrov of Miami smuggled turtle shells and ivory for years. Ivan Petrov "
            "is scheduled to be sentenced on Sept. 9, 2014, by the judge in Miami.",
        },
        {
            "id": "sentencing",
            "title": "Smuggler Sentenced",
            "date": "2014-09-09",
            "body": "Ivan Petrov was sentenced today in Miami to 30 months.",
        },
        {
            "id": "another-case",
            "title": "Turtle Shell Seller Sentenced in Miami",
            "date": "2014-10-01",
            "body": "Maria Lopez was sentenced today in Miami for selling turtle shells.",
        },
    ] + UNRELATED
    engine = _engine_of(tmp_path, "outcome", records, FakeEncoder())
    question = "What sentence did Ivan Petrov receive in Miami for smuggling turtle shells?"
    assert engine.retriever.search(question, k=4)[0].release.id == "plea"
    order = list(dict.fromkeys(h.release.id for h in engine.search(question, k=8)))
    assert order[0] == "sentencing"
    # another person's sentence is no report of his: it does not pass the announcement
    assert order.index("plea") < order.index("another-case")
    # asked what he faces, or when he will be sentenced, the announcement keeps its place
    faces = "What sentence does Ivan Petrov face for smuggling turtle shells in Miami?"
    assert engine.search(faces, k=4)[0].release.id == "plea"
    when = "When will Ivan Petrov be sentenced for smuggling turtle shells in Miami?"
    assert engine.search(when, k=4)[0].release.id == "plea"


def test_search_ranks_the_release_titled_with_the_event_asked_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa.question
    import qa.reordering

    monkeypatch.setattr(qa.question, "OUTCOMES", ())  # the titles alone decide here
    records = [
        {
            "id": "plea",
            "title": "Ivan Petrov Pleads Guilty to Smuggling Turtle Shells",
            "date": "2014-06-02",
            "body": "Ivan Petrov pleaded guilty today to smuggling 300 turtle shells from "
            "Mexico in crates of fruit.",
        },
        {
            "id": "sentencing",
            "title": "Ivan Petrov Sentenced to 30 Months",
            "date": "2014-09-09",
            "body": "Ivan Petrov, who hid 300 turtle shells in crates of fruit, was sentenced "
            "today.",
        },
        {
            "id": "another-case",
            "title": "Maria Lopez Sentenced for Smuggling Turtle Shells from Mexico",
            "date": "2014-10-01",
            "body": "Maria Lopez smuggled 300 turtle shells from Mexico and was sentenced today.",
        },
    ] + UNRELATED
    engine = _engine_of(tmp_path, "titles", records, FakeEncoder())
    question = (
        "According to the release on Ivan Petrov's sentencing, how many turtle shells did he "
        "smuggle from Mexico in crates of fruit?"
    )

    def order(q: str) -> list[str]:
        return list(dict.fromkeys(h.release.id for h in engine.search(q, k=8)))

    with monkeypatch.context() as m:
        m.setattr(qa.reordering, "TITLE_EVENT", 0.0)
        assert order(question)[0] == "plea"
    assert order(question)[0] == "sentencing"
    # asked about the plea, the plea's release is first
    assert order("When did Ivan Petrov plead guilty to smuggling turtle shells?")[0] == "plea"
    # another person's sentencing is not his: however much a title counts, it does not lift
    # that release above the plea
    monkeypatch.setattr(qa.reordering, "TITLE_EVENT", 5.0)
    titled = order(question)
    assert titled[0] == "sentencing" and titled.index("plea") < titled.index("another-case")


def test_today_in_an_attribution_is_no_date() -> None:
    from qa.kinds import holds as _holds

    # "when did he plead guilty?": the release's "today" is the day, which its date gives
    assert _holds("Logan pleaded guilty today to money laundering.", "date", stated=False)
    assert _holds("The suspects were arrested yesterday in Madrid.", "day", stated=False)
    # "the Department announced today" dates the release, not the event asked about
    announced = "The network adopted new guidance, the Department of Justice announced today."
    assert not _holds(announced, "date", stated=False)
    assert not _holds("Officials said today that the talks would go on.", "day", stated=False)
    assert not _holds("The FBI confirmed today that it had closed the case.", "day", False)
    assert not _holds("The ministry said on Tuesday it would appeal.", "date", stated=False)


def test_a_part_that_names_no_one_is_about_the_question_s_subject(tmp_path: Path) -> None:
    records = [
        {
            "id": "deal",
            "title": "Wesam Delaema Agrees to 25 Years for Plot Against Americans in Iraq",
            "date": "2009-02-03",
            "body": "Prosecutors and Wesam Delaema agreed upon a prison term of 25 years for "
            "the plot against Americans in Iraq. Under a treaty, Delaema will serve out his "
            "sentence in the Netherlands.",
        },
        {
            "id": "boilerplate",
            "title": "Bomb Maker Sentenced for Plot Against Americans in Iraq",
            "date": "2012-05-01",
            "body": "A bomb maker was sentenced for a plot against Americans in Iraq. Americans "
            "who serve their country in Iraq are our first concern.",
        },
        {
            "id": "fugitive",
            "title": "Fugitive Tom Jones Arrested in Spain",
            "date": "2013-06-01",
            "body": "The fugitive Tom Jones was arrested in Madrid by the Spanish police.",
        },
    ] + UNRELATED
    engine = _engine_of(tmp_path, "parts", records, FakeEncoder())
    answer = engine.ask(
        "What prison term did prosecutors and Wesam Delaema agree on for the plot against "
        "Americans in Iraq, and in which country will he serve it?"
    ).answer
    assert "25 years" in answer.text and "Netherlands" in answer.text
    # "serving their country" shares the part's words, but not the case
    assert "first concern" not in answer.text
    # a part that names its own subject may be about another release
    answer = engine.ask(
        "What prison term did prosecutors and Wesam Delaema agree on for the plot against "
        "Americans in Iraq, and where was the fugitive Tom Jones arrested?"
    ).answer
    assert "25 years" in answer.text and "Madrid" in answer.text


def _follow_up_engine(tmp_path: Path) -> Engine:
    records = [
        {
            "id": "extradition",
            "title": "Hawksbill Turtle Shell Smuggler Extradited from Panama",
            "date": "2016-03-28",
            "body": "Ivan Petrov was extradited from Panama today. The indictment alleges "
            "that Petrov smuggled hawksbill turtle shells through the port of Miami on "
            "Dec. 27, 2013. A federal grand jury indicted him on May 5, 2015.",
        },
        {
            "id": "fraud",
            "title": "Wire Fraud Defendant Indicted",
            "date": "2016-06-01",
            "body": "Maria Lopez was indicted on June 1, 2016, for a wire fraud scheme against "
            "elderly investors in Ohio.",
        },
        {
            "id": "sentencing",
            "title": "Ring Leader Sentenced for Smuggling Coral",
            "date": "2017-02-01",
            "body": "Ivan Koral was sentenced today to 20 years in prison for coral "
            "smuggling. Judge Roe also imposed a fine of $500,000 on Koral for the reef "
            "coral shipped from Haiti through Key West.",
        },
    ] + UNRELATED
    return _engine_of(tmp_path, "followups", records, FakeEncoder())


def test_a_follow_up_is_answered_by_a_sentence_that_does_not_name_the_subject_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa.chat import Turn

    engine = _follow_up_engine(tmp_path)
    history = [
        Turn("user", "Who smuggled hawksbill turtle shells through Miami?"),
        Turn("assistant", "Ivan Petrov."),
    ]
    answer = engine.ask("When was he indicted?", history).answer
    # the indictment's sentence says "him", not the words of the question before; the
    # sentences restating the case have those words but not the date
    assert not answer.abstained and "May 5, 2015" in answer.text
    assert "June 1, 2016" not in answer.text
    # without the earlier words counting for the release they are in, the restatement wins
    from dataclasses import replace

    from qa.evidence import FEATURES

    scorer = engine.composer.scorer
    weights = tuple(
        0.0 if f == "carried" else w for f, w in zip(FEATURES, scorer.weights, strict=True)
    )
    monkeypatch.setattr(engine.composer, "scorer", replace(scorer, weights=weights))
    assert "May 5, 2015" not in engine.ask("When was he indicted?", history).answer.text


def test_a_question_asking_two_kinds_of_answer_gets_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa import completion

    engine = _follow_up_engine(tmp_path)
    question = "What sentence and fine did the judge impose on Ivan Koral?"
    answer = engine.ask(question).answer
    assert "20 years" in answer.text and "$500,000" in answer.text
    # the fine's sentence shares more of the question's words: alone, it would be the answer
    monkeypatch.setattr(completion, "KIND_MARGIN", 0.0)
    alone = engine.ask(question).answer
    assert "$500,000" in alone.text and "20 years" not in alone.text


def test_a_question_about_a_name_no_release_found_mentions_abstains_saying_so(
    tmp_path: Path,
) -> None:
    records = [
        _release(
            "fcpa",
            "Engineering Company Pays $240 Million to Resolve Bribery Charges",
            "Technip S.A. agreed to pay a $240 million criminal penalty to resolve charges "
            "that it bribed Nigerian officials. Vantor Holdings paid $30 million.",
        ),
        *UNRELATED,
    ]
    engine = _engine_of(tmp_path, "names", records, FakeEncoder())
    answer = engine.ask("How much did Zentrix Holdings pay to resolve its bribery charges?").answer
    assert answer.abstained and answer.sources == ()
    assert "No release mentions Zentrix Holdings." in answer.text
    assert answer.suggestions  # the closest releases are still listed
    # the same question about a company the release names is answered
    answered = engine.ask("How much did Technip S.A. pay to resolve its bribery charges?").answer
    assert not answered.abstained and "$240 million" in answered.text
    # a name search missed is looked up in the whole index, and its release read
    question = "How much did Vantor Holdings pay?"
    elsewhere = [h for h in engine.search(question, k=8) if h.release.id != "fcpa"][:2]
    vector = engine.retriever.encoder.encode([question])[0]
    found = engine.composer.compose(read(question), elsewhere, vector)
    assert not found.abstained and "$30 million" in found.text
    assert [s.release.id for s in found.sources] == ["fcpa"]


def test_a_name_typed_with_its_apostrophe_finds_the_release_that_lost_it(tmp_path: Path) -> None:
    """The release, scraped, writes "OShea"; the question "O'Shea". Search finds the release
    by the name, and the answer does not say that no release mentions him."""
    records = [
        _release(
            "cfe",
            "Former Executive Pleads Guilty in Mexican Bribery Scheme",
            "John Joseph OShea, a former general manager, pleaded guilty today to paying bribes "
            "to officials of the Comision Federal de Electricidad. OShea paid $900,000 in bribes.",
        ),
        *UNRELATED,
    ]
    engine = _engine_of(tmp_path, "apostrophes", records, FakeEncoder())
    hits = engine.retriever.search("O'Shea", k=3, mode="lexical")
    assert hits and hits[0].release.id == "cfe" and hits[0].score > 0
    answer = engine.ask("How much did John Joseph O'Shea pay in bribes?").answer
    assert not answer.abstained and "$900,000" in answer.text
    assert engine.composer.sentences.naming("John Joseph O'Shea") == ["cfe"]
    assert engine.composer.sentences.naming("John Joseph O'Brien") == []


def test_a_title_written_short_in_a_question_is_no_part_of_the_name_looked_up(
    tmp_path: Path,
) -> None:
    """A release writes "Lieutenant Colonel Derrick Shoemake"; the question asks about "Lt.
    Col. Derrick Shoemake". The name is looked up without its title, not said to be unknown;
    a name no release has, title or not, still is."""
    from qa.naming import named_part

    assert named_part("Lt. Col. Derrick Shoemake") == "Derrick Shoemake"
    assert named_part("Army Capt. Elbert George") == "Elbert George"
    assert named_part("J. P. Morgan") == "J. P. Morgan"  # initials are the name
    assert named_part("Sgt. King") == "Sgt. King"  # two words stay
    records = [
        _release(
            "bribes",
            "Retired Army Officer Pleads Guilty to Bribery",
            "Retired Army Lieutenant Colonel Derrick Shoemake admitted receiving $250,000 in "
            "bribes from contractors at Camp Arifjan, Kuwait.",
        ),
        *UNRELATED,
    ]
    engine = _engine_of(tmp_path, "titles", records, FakeEncoder())
    answer = engine.ask("How much did retired Lt. Col. Derrick Shoemake admit receiving?").answer
    assert not answer.abstained and "$250,000" in answer.text
    unknown = engine.ask("How much did retired Lt. Col. Dorian Shoemaker admit receiving?").answer
    assert unknown.abstained and "No release mentions Lt. Col. Dorian Shoemaker." in unknown.text


def test_a_definite_question_after_an_unrelated_one_is_read_on_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from qa.chat import Turn

    records = [
        _release(
            "conference",
            "Regional Police Conference Ends",
            "The regional police conference was held in Abu Dhabi on 7-9 February. "
            "Delegates agreed to share intelligence on drug trafficking.",
        ),
        *UNRELATED,
    ]
    engine = _engine_of(tmp_path, "definite", records, FakeEncoder())
    alone = engine.ask("When was the police conference held?").answer
    assert not alone.abstained and "7-9 February" in alone.text
    unrelated = [
        Turn("user", "Which online retailer did Jeff Bezos found in 1994?"),
        Turn("assistant", "The releases don't say."),
    ]
    after = engine.ask("When was the police conference held?", unrelated)
    assert after.answer.text == alone.text
    # read as a follow-up, it borrows the question before; kept only if that reading answers
    compose = engine.composer.compose

    def unanswered_with_context(question, hits, vector, **kwargs):
        answer = compose(question, hits, vector, **kwargs)
        return replace(answer, abstained=True, text="none") if question.context else answer

    monkeypatch.setattr(engine.composer, "compose", unanswered_with_context)
    after = engine.ask("When was the police conference held?", unrelated)
    assert after.answer.text == alone.text and after.query == "When was the police conference held?"
    monkeypatch.setattr(engine.composer, "compose", compose)
    # both readings answer: the follow-up reading is kept if the release it quotes has some
    # word of the question before, else that question lent it nothing
    related = [
        Turn("user", "Who agreed to share intelligence on drug trafficking?"),
        Turn("assistant", "The releases don't say."),
    ]
    after = engine.ask("When was the police conference held?", related)
    assert after.query.startswith("When was the police conference held? (Who agreed")
    assert "7-9 February" in after.answer.text
    # a pronoun still makes it a follow-up of the question before
    result = engine.ask("When was it held?", [Turn("user", "Where was the police conference?")])
    assert result.query.startswith("When was it held? (Where was the police conference?")


def test_the_words_of_a_questions_frame_are_no_terms_to_cover() -> None:
    from qa.question import content

    assert content("What happened on Wednesday?").split() == ["What", "on", "Wednesday?"]
    assert "took place" not in content("Where did the raid take place? It took place at night")
    assert "held" not in content("Where was the conference held?")
    assert "held" not in content("When was the summit held?")
    # asked who, "held" is what was done, not the frame
    assert "held" in content("Who held the hostages?")


def test_a_how_many_answer_leads_with_the_sentence_that_gives_the_count() -> None:
    from qa.candidates import Candidate
    from qa.chunking import Unit
    from qa.corpus import Release
    from qa.question import read
    from qa.selection import Selector

    sentences = [
        "Rubin and CDR, along with two executives, were indicted in October 2009.",
        "They pleaded guilty on Dec. 30, 2011.",
        "The nine-count indictment charged bid rigging and fraud.",
        "A three-count information was filed against another broker.",  # far below
    ]
    release = Release(id="r", title="t", text=" ".join(sentences), blocks=())

    def cand(sentence: str, score: float) -> Candidate:
        start = release.text.index(sentence)
        return Candidate(
            release, Unit("sentence", start, start + len(sentence)), score, frozenset()
        )

    first, second, counts, far = (
        cand(s, score) for s, score in zip(sentences, [1.0, 0.95, 0.9, 0.5], strict=True)
    )

    class Topical:  # the sentences' reader, as far as ``counted`` reads it: all are on topic
        def topical(self, candidates: list[Candidate], topic: object) -> list[Candidate]:
            return list(candidates)

    selector = Selector(Topical(), 4)  # type: ignore[arg-type]
    q = read("How many counts did the October 2009 indictment contain?")
    topic = ("r", frozenset())
    led = selector.counted(q, [first, second, counts, far], topic, [[first], [second]], 2)
    assert [g[0].text for g in led] == [sentences[2], sentences[0]]
    # a count far below the best is not taken; an answer that gives the count stays
    assert selector.counted(q, [first, second, far], topic, [[first]]) == [[first]]
    assert selector.counted(q, [counts, first], topic, [[counts]]) == [[counts]]
    # nor is anything changed for a question that does not ask how many
    other = read("When did Rubin and CDR plead guilty?")
    assert selector.counted(other, [first, counts], topic, [[first]]) == [[first]]
