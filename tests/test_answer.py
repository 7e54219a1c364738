from __future__ import annotations

from conftest import SEED_ID, FakeEncoder

from qa import store
from qa.answer import render_text
from qa.config import Settings
from qa.engine import Engine


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
