"""Writing a build a batch at a time: the same index as one written whole, in bounded memory."""

from __future__ import annotations

import dataclasses
import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import DOJ, FakeEncoder, doj_lines, doj_settings

from qa import build, build_engines, store, writer
from qa.chunking import ChunkingParams
from qa.config import Settings
from qa.corpus import load_releases
from qa.errors import BuildFailed
from qa.lexical import lexical_tokens
from qa.survey import survey_corpus


def _texts() -> list[str]:
    records = [json.loads(line) for line in doj_lines()[:80]]
    return [f"{r['title']}\n{r['body']}" for r in records] + ["", "the of and"]


def test_bm25_written_in_passes_scores_as_bm25s_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bm25s

    texts = _texts()
    expected = bm25s.BM25()
    expected.index(lexical_tokens(texts), show_progress=False)
    expected.save(str(tmp_path / "bm25s"), show_progress=False)
    # a few hundred postings a pass: many passes, columns split across slices of postings
    monkeypatch.setattr(writer, "POSTINGS_PER_PASS", 300)
    lexical = writer.LexicalWriter(tmp_path / "scratch")
    for begin in range(0, len(texts), 7):
        lexical.add(texts[begin : begin + 7])
    lexical.finish(tmp_path / "ours")
    assert not (tmp_path / "scratch").exists()

    theirs = bm25s.BM25.load(str(tmp_path / "bm25s"), show_progress=False)
    ours = bm25s.BM25.load(str(tmp_path / "ours"), show_progress=False)
    assert ours.scores["num_docs"] == len(texts)
    assert set(ours.vocab_dict) == set(theirs.vocab_dict)
    for term, n in theirs.vocab_dict.items():
        if term == "":
            continue
        mine = ours.vocab_dict[term]
        a, b = theirs.scores["indptr"][n : n + 2]
        c, d = ours.scores["indptr"][mine : mine + 2]
        assert np.array_equal(theirs.scores["indices"][a:b], ours.scores["indices"][c:d]), term
        assert np.array_equal(theirs.scores["data"][a:b], ours.scores["data"][c:d]), term
    for query in ("bribes Nigeria officials", "sentenced prison fraud", "zzz unknown"):
        tokens = lexical_tokens([query])[0]
        assert np.array_equal(theirs.get_scores(tokens), ours.get_scores(tokens))
    # terms numbered in sorted order: the same corpus gives the same files
    assert list(json.loads((tmp_path / "ours" / "vocab.index.json").read_text()))[:-1] == sorted(
        t for t in theirs.vocab_dict if t
    )


def test_bm25_of_documents_without_a_term_is_empty_not_an_error(tmp_path: Path) -> None:
    import bm25s

    lexical = writer.LexicalWriter(tmp_path / "scratch")
    lexical.add(["the of and", ""])
    lexical.finish(tmp_path / "bm25")
    index = bm25s.BM25.load(str(tmp_path / "bm25"), show_progress=False)
    assert index.scores["num_docs"] == 2 and list(index.vocab_dict) == [""]
    assert len(index.scores["data"]) == 0


def test_npy_files_written_by_rows_read_back_as_numpy_writes_them(tmp_path: Path) -> None:
    rows = np.arange(24, dtype=np.float32).reshape(6, 4) / 7
    two = writer.NpyWriter(tmp_path / "two.npy", "float16")
    two.append(rows[:4])
    two.append(rows[4:])
    two.close()
    one = writer.NpyWriter(tmp_path / "one.npy", "int64")
    one.append(np.arange(5))
    one.close()
    empty = writer.NpyWriter(tmp_path / "empty.npy", "int32")
    empty.close()
    assert np.array_equal(np.load(tmp_path / "two.npy", mmap_mode="r"), rows.astype(np.float16))
    assert np.array_equal(np.load(tmp_path / "one.npy"), np.arange(5))
    assert np.load(tmp_path / "empty.npy").shape == (0,)
    wrong = writer.NpyWriter(tmp_path / "wrong.npy", "float32")
    wrong.append(rows)
    with pytest.raises(ValueError, match="width"):
        wrong.append(rows[:, :2])
    wrong.close()


def _build_files(settings: Settings) -> dict[str, bytes]:
    path = settings.index_dir / "builds" / store.live_build_id(settings.index_dir)
    return {
        p.relative_to(path).as_posix(): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and p.name not in ("manifest.json", store.STORE)
    }


def _store_rows(settings: Settings) -> list[tuple[object, ...]]:
    import sqlite3

    path = settings.index_dir / "builds" / store.live_build_id(settings.index_dir) / store.STORE
    con = sqlite3.connect(path)
    try:
        return [
            *con.execute("SELECT * FROM releases ORDER BY ordinal"),
            *con.execute("SELECT * FROM chunks ORDER BY row"),
        ]
    finally:
        con.close()


def test_a_build_in_batches_of_two_releases_writes_what_one_batch_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = {}
    for name, batch in (("whole", 10_000), ("pairs", 2)):
        monkeypatch.setattr(build_engines, "BATCH_RELEASES", batch)
        settings = doj_settings(tmp_path, name)
        summary = build.rebuild_index(settings, encoder=FakeEncoder())
        assert summary.releases == 139 and summary.embedded == summary.chunks
        written[name] = (_build_files(settings), _store_rows(settings), summary)
    (whole, whole_rows, one), (pairs, pairs_rows, many) = written["whole"], written["pairs"]
    assert (
        whole.keys() == pairs.keys() and "units.npy" in whole and "bm25/data.csc.index.npy" in whole
    )
    assert whole == pairs  # faiss, sentence vectors, every BM25 file: byte for byte
    assert whole_rows == pairs_rows
    assert one.chunks == many.chunks


def test_large_builds_keep_vectors_in_8_bits_and_search_like_flat(
    settings: Settings, fake_encoder: FakeEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa.retrieval import Retriever

    monkeypatch.setattr(store, "SQ8_MIN_VECTORS", 3)
    monkeypatch.setattr(writer, "TRAIN_SAMPLE", 4)  # trained on a sample, as at scale
    monkeypatch.setattr(writer, "VECTOR_ROWS_PER_ADD", 3)
    hits = {}
    for name, flat_max in (("flat", 10_000), ("sq8", 2)):
        s = dataclasses.replace(settings, index_dir=tmp_path / name, flat_max_vectors=flat_max)
        build.rebuild_index(s, encoder=fake_encoder)
        index = store.open_index(s.index_dir, s.model_id)
        retriever = Retriever(index, fake_encoder)
        hits[index.manifest.index_type] = [
            h.chunk.release_id
            for q in ("rhinoceros horns smuggling", "bribes Nigeria", "ISIL hacker")
            for h in retriever.search(q, k=1)
        ]
    assert set(hits) == {"Flat", store.HNSW_SQ8_FACTORY}
    assert hits["Flat"] == hits[store.HNSW_SQ8_FACTORY] == ["102", "101", "103"]
    assert store.index_type_for(store.SQ8_MIN_VECTORS + 1, 2) == store.HNSW_SQ8_FACTORY


def test_the_survey_finds_what_loading_finds_and_streams_the_same_releases(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(DOJ, corpus / "a.jsonl.gz")
    lines = doj_lines()
    (corpus / "b.jsonl").write_text(lines[3] + "\n{broken\n" + lines[140 % len(lines)] + "\n")
    with gzip.open(corpus / "c.jsonl.gz", "wt") as fh:
        fh.write(lines[5] + "\n")
    (corpus / "d.jsonl.gz").write_bytes(b"\x1f\x8b not really gzip")
    loaded = load_releases([corpus, tmp_path / "missing"])
    surveyed = survey_corpus([corpus, tmp_path / "missing"])
    assert surveyed.problems == loaded.problems
    assert any("duplicate release id" in p.reason for p in surveyed.problems)
    assert any("d.jsonl.gz" in p.path for p in surveyed.problems)
    assert surveyed.files == loaded.files
    assert list(surveyed.hashes) == [r.id for r in loaded.releases]
    assert list(surveyed.releases()) == loaded.releases


def test_a_file_that_changes_during_the_build_fails_it_and_the_live_index_stays(
    built: Settings, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = store.live_build_id(built.index_dir)
    jsonl = corpus_dir / "doj.jsonl"
    real = build_engines.survey_corpus

    def then_edited(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        surveyed = real(*args, **kwargs)  # type: ignore[arg-type]
        jsonl.write_text(jsonl.read_text().replace("70 months", "80 months"))
        return surveyed

    monkeypatch.setattr(build_engines, "survey_corpus", then_edited)
    with pytest.raises(BuildFailed, match="doj.jsonl changed while the index was being built"):
        build.rebuild_index(built, encoder=FakeEncoder(), full=True)
    assert store.live_build_id(built.index_dir) == live
    assert not [p for p in (built.index_dir / "builds").iterdir() if p.name.startswith(".tmp")]
    store.open_index(built.index_dir, FakeEncoder.name)


def test_the_local_engine_chunks_a_batch_of_releases_at_a_time(
    settings: Settings, fake_encoder: FakeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_engines, "BATCH_RELEASES", 3)
    engine = build_engines.LocalEngine(fake_encoder, batch_size=8)
    params = ChunkingParams(max_tokens=64)
    seen = []
    corpus = engine.load(settings.corpus, params, lambda stage, done, total: seen.append(done))
    assert seen == []  # nothing chunked until the build asks for a batch
    batches = list(corpus.batches)
    assert [len(b) for b in batches] == [3, 1]
    assert [r.id for b in batches for r, _ in b] == list(corpus.hashes)
    assert seen == [1, 2, 3, 4]


def test_shards_split_the_corpus_by_release_id_and_together_index_it_whole(
    tmp_path: Path,
) -> None:
    from conftest import run_qa

    whole = doj_settings(tmp_path, "whole")
    corpus = whole.corpus[0]
    build.rebuild_index(whole, encoder=FakeEncoder())
    rows = _store_rows(whole)
    releases = {r[0] for r in rows if isinstance(r[1], int) and len(r) == 5}
    chunks = sorted(json.loads(r[3])["id"] for r in rows if len(r) == 4)
    held: list[set[str]] = []
    shard_chunks: list[str] = []
    for k in (1, 2, 3):
        s = dataclasses.replace(whole, index_dir=tmp_path / f"shard{k}", shard=f"{k}/3")
        summary = build.rebuild_index(s, encoder=FakeEncoder())
        manifest = store.read_manifest(s.index_dir / "builds" / summary.build_id)
        assert manifest.shard == f"{k}/3"
        shard_rows = _store_rows(s)
        held.append({r[0] for r in shard_rows if len(r) == 5})
        shard_chunks += [json.loads(r[3])["id"] for r in shard_rows if len(r) == 4]
        # asked again, the same shard is recognised as unchanged
        assert build.rebuild_index(s, encoder=FakeEncoder()).kept
    assert all(held) and set().union(*held) == releases  # every release in a shard ...
    assert sum(len(h) for h in held) == len(releases)  # ... and in one only
    assert sorted(shard_chunks) == chunks
    for bad, reason in (("4/3", "K must be from 1 to N"), ("two", "write it K/N")):
        out = run_qa("rebuild-index", "--corpus", str(corpus), "--shard", bad, cwd=tmp_path)
        assert out.returncode == 1 and reason in out.stderr, out.stderr
