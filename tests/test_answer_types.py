"""The kinds of answer a question asks for, read from its embedding by a fitted model, and what
a follow-up's subject is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa import answer_types, kinds
from qa.answer_types import TYPES, TypeReader, label, labels
from qa.candidates import Candidate
from qa.chat import Turn, standalone_query
from qa.evidence import FEATURES
from qa.live import EngineHolder
from qa.question import read, subject_words
from qa.sentences import Sentences

MINILM = "sentence-transformers/all-MiniLM-L6-v2"


def test_an_expected_phrase_is_labelled_by_the_kind_of_answer_it_is() -> None:
    question = "Which former Salem police officer was sentenced to 30 months?"
    assert label("$505,871", question) == "money"
    assert label("30 months", question) == "duration"
    assert label("May 6, 2005", question) == "date"
    assert label("eight-count", question) == "number"
    assert label("1,200 individuals", question) == "number"
    assert label("Kevin C. Moore", question) == "name"
    assert label("Salem", question) == "other"  # the question's own word answers nothing
    assert label("racecar parts and equipment", question) == "other"
    assert labels(["Kevin C. Moore", "$5"], question) == tuple(
        int(t in ("name", "money")) for t in TYPES
    )


def test_a_reader_is_fitted_saved_and_read_again(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    # two kinds told apart by the first coordinate; "other" asked by none: a constant
    vectors = rng.normal(size=(80, 8))
    vectors[:40, 0] += 3.0
    targets = [labels(["Jane Roe"] if n < 40 else ["$5"], "?") for n in range(80)]
    reader = TypeReader.fit(MINILM + "+onnx", vectors, targets, {"questions": 80})
    assert reader.model == MINILM and reader.reads(MINILM) and reader.reads(MINILM + "+onnx")
    assert not reader.reads("intfloat/e5-small")
    name, money = TYPES.index("name"), TYPES.index("money")
    asks_name = reader.probabilities(np.eye(8)[0] * 4)
    asks_money = reader.probabilities(-np.eye(8)[0] * 4)
    assert asks_name[name] > 0.9 > 0.1 > asks_name[money]
    assert asks_money[money] > 0.9 > 0.1 > asks_money[name]
    assert max(asks_name[TYPES.index("other")], asks_money[TYPES.index("other")]) < 0.01
    # a vector of another size (another model) is read as asking for nothing
    assert reader.probabilities(np.ones(5)) == answer_types.NONE
    path = tmp_path / "types.json"
    reader.save(path)
    again = TypeReader.load(path)
    assert again.trained == {"questions": 80}
    assert again.probabilities(np.eye(8)[0]) == pytest.approx(reader.probabilities(np.eye(8)[0]))
    path.write_text(path.read_text().replace('"other"', '"colour"'))
    with pytest.raises(ValueError, match="qa train-scorer"):
        TypeReader.load(path)


def test_a_reader_reads_the_embedding_and_the_words_that_ask() -> None:
    x = answer_types.inputs(np.full(4, 0.5), "Where, and how much? Name them.")
    assert x[:4].tolist() == [0.5] * 4
    asked = dict(zip(answer_types.WH, x[4:].tolist(), strict=True))
    assert {w for w, v in asked.items() if v} == {"where", "how", "how much", "name"}
    # "nowhere" and "names" are not the words
    assert not any(answer_types.inputs(np.zeros(1), "names from nowhere")[1:])


def test_the_shipped_reader_reads_the_packaged_model() -> None:
    reader = TypeReader.load()
    assert reader.reads(MINILM)
    assert len(reader.weights) == len(TYPES)
    assert len(reader.weights[0]) == 384 + len(answer_types.WH)
    assert reader.trained["cv_most_likely_right"] > 0.7


def test_a_follow_up_knows_the_subject_of_the_answer_it_follows() -> None:
    assert subject_words("Rolls-Royce plc.") == {"rolls", "royce"}
    assert subject_words("Sergei Turikov, of Tallinn.") == {"sergei", "turikov", "tallinn"}
    # a quoted answer: its opening, up to its first citation
    assert subject_words("Marubeni entered a plea of guilty [1] before Judge Janet Hall.") == {
        "marubeni"
    }
    assert subject_words("The releases don't say. None of the indexed releases ...") == set()
    history = [
        Turn("user", "Which British engine maker settled a bribery case in 2017?"),
        Turn("assistant", "Rolls-Royce plc."),
    ]
    query = standalone_query("How much did it pay in bribes?", history)
    assert query.answered == "Rolls-Royce plc." and query.context
    question = read(query.question, query.context, query.answered)
    assert question.subject == {"rolls", "royce"}
    # a question that stands alone follows nothing
    alone = standalone_query("How much did Rolls-Royce pay in bribes?", history)
    assert alone.answered == "" and read(alone.question).subject == frozenset()


def test_sentences_holding_the_kind_asked_for_score_it(doj_built) -> None:
    settings, encoder = doj_built
    engine = EngineHolder(settings, encoder=encoder).get()
    index = engine.index
    dimension = len(encoder.encode(["x"])[0]) + len(answer_types.WH)  # the asking words too
    question = read("Which former police officer was sentenced, and what was he ordered to pay?")
    vector = encoder.encode([question.text])[0]
    hits = engine.retriever.search(question.text, k=5, vector=vector)
    typed, new_names = FEATURES.index("typed_gap"), FEATURES.index("new_names")

    def reader_sure_of(kind: str, model: str = index.manifest.model) -> TypeReader:
        """A reader sure that every question asks for ``kind``, and for nothing else."""
        biases = tuple(30.0 if t == kind else -30.0 for t in TYPES)
        return TypeReader(model, ((0.0,) * dimension,) * len(TYPES), biases, {})

    def scored(reader: TypeReader) -> list[Candidate]:
        sentences = Sentences(index, engine.composer.scorer, types=reader)
        return sentences.candidates(question, hits, vector)

    # the share of the kinds asked for a sentence holds, minus the best share among them
    names = scored(reader_sure_of("name"))
    holds_name = [float(c.features[new_names] > 0) for c in names]  # a name not the question's
    assert names and max(holds_name) == 1.0
    for c, held in zip(names, holds_name, strict=True):
        assert c.features[typed] == pytest.approx(held - 1.0)
    money = scored(reader_sure_of("money"))
    holds_money = [float(kinds.holds(c.text, "money", True)) for c in money]  # handed down
    assert set(holds_money) == {0.0, 1.0}
    for c, held in zip(money, holds_money, strict=True):
        assert c.features[typed] == pytest.approx(held - 1.0)
    # a reader of another model's embeddings is not asked
    other = scored(reader_sure_of("money", "intfloat/e5-small"))
    assert {c.features[typed] for c in other} == {0.0}


def test_a_follow_ups_release_scores_the_share_of_its_subject_it_names(doj_built) -> None:
    settings, encoder = doj_built
    engine = EngineHolder(settings, encoder=encoder).get()
    history = [Turn("user", "Who leads INTERPOL?"), Turn("assistant", "Jürgen Stock.")]
    found = engine.found("What did he say?", history)
    assert found.question.subject == {"jürgen", "stock"}
    assert found.scored is not None
    subject = FEATURES.index("subject")
    shares = {c.release.id: c.features[subject] for c in found.scored.candidates}
    interpol = next(c.release.id for c in found.scored.candidates if "INTERPOL" in c.release.text)
    assert shares[interpol] == 1.0  # the INTERPOL release names Jürgen Stock
    assert min(shares.values()) < 1.0
    alone = engine.found("What did INTERPOL say?", history)
    assert alone.question.subject == frozenset() and alone.scored is not None
    assert {c.features[subject] for c in alone.scored.candidates} == {0.0}
