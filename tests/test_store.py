from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from conftest import DOJ, SEED_FILE, SEED_ID, FakeEncoder, doj_lines

from qa import lexical, records, store
from qa.build import rebuild_index
from qa.config import Settings
from qa.errors import CorpusError, IndexBusy, IndexMismatch, IndexMissing


def test_round_trip(built: Settings) -> None:
    index = store.open_index(built.index_dir, FakeEncoder.name)
    m = index.manifest
    assert m.releases == 4 and m.chunks == len(index.chunks) == index.vectors.ntotal
    assert (m.date_from, m.date_to) == ("2009-02-11", "2023-02-09")
    assert m.model == FakeEncoder.name and m.dimension == FakeEncoder.dimension
    assert m.chunking["max_tokens"] == built.chunk_tokens
    assert set(index.releases) == {SEED_ID, "101", "102", "103"}
    seed = index.releases[SEED_ID]
    assert seed.date == "2023-02-09" and seed.place == "ABU DHABI, United Arab Emirates"
    for chunk in index.chunks:
        assert index.chunk_text(chunk) == chunk.text
    assert index.bm25.get_scores(["rhinocero"]).max() > 0


def test_a_walk_over_every_chunk_reads_them_page_by_page_in_row_order(
    built: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = store.open_index(built.index_dir, FakeEncoder.name)
    by_row = [index.chunks[n].id for n in range(len(index.chunks))]
    assert len(by_row) > 2
    monkeypatch.setattr(records, "CHUNK_PAGE", 2)  # pages of two, the last one short
    reads: list[tuple[object, ...]] = []
    read = index.chunks._store.all  # type: ignore[attr-defined]

    def counted(sql: str, args: tuple[object, ...] = ()) -> list[object]:
        reads.append(args)
        return read(sql, args)

    monkeypatch.setattr(index.chunks._store, "all", counted)  # type: ignore[attr-defined]
    assert [c.id for c in index.chunks] == by_row
    assert reads == [(n, n + 2) for n in range(0, len(by_row), 2)]


def test_model_mismatch_is_refused_with_the_fix(built: Settings) -> None:
    with pytest.raises(IndexMismatch) as err:
        store.open_index(built.index_dir, "sentence-transformers/all-MiniLM-L6-v2")
    assert "built with model fake-bow" in err.value.message
    assert "qa rebuild-index" in err.value.message


def test_damaged_file_is_refused(built: Settings) -> None:
    build = built.index_dir / "builds" / store.live_build_id(built.index_dir)
    with open(build / store.STORE, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(IndexMismatch, match="checksum"):
        store.open_index(built.index_dir, FakeEncoder.name)


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing, match="qa rebuild-index"):
        store.open_index(tmp_path / "nothing", FakeEncoder.name)


def test_rebuild_publishes_atomically_and_cleans_up(built: Settings) -> None:
    first = store.live_build_id(built.index_dir)
    stale = built.index_dir / "builds" / ".tmp-killed-123"
    stale.mkdir()
    (stale / "vectors.faiss").write_bytes(b"partial")
    kept = rebuild_index(built, encoder=FakeEncoder())
    # Nothing changed: the live build stays and nothing is written, but leftovers go.
    assert kept.kept and kept.build_id == first == store.live_build_id(built.index_dir)
    assert {p.name for p in (built.index_dir / "builds").iterdir()} == {first}
    stale.mkdir()
    (stale / "vectors.faiss").write_bytes(b"partial")
    rebuild_index(built, encoder=FakeEncoder(), full=True)
    second = store.live_build_id(built.index_dir)
    assert second != first
    names = {p.name for p in (built.index_dir / "builds").iterdir()}
    assert names == {first, second}  # the live build and its predecessor; leftovers removed
    rebuild_index(built, encoder=FakeEncoder(), full=True)
    assert first not in {p.name for p in (built.index_dir / "builds").iterdir()}
    live = built.index_dir / "builds" / store.live_build_id(built.index_dir)
    manifest = json.loads((live / "manifest.json").read_text())
    files = {p.relative_to(live).as_posix() for p in live.rglob("*") if p.is_file()}
    assert set(manifest["checksums"]) == files - {"manifest.json"}
    assert {*store.FILES, *store.BM25_FILES} <= files


def test_a_failed_build_leaves_the_live_index(built: Settings) -> None:
    live = store.live_build_id(built.index_dir)

    class Exploding(FakeEncoder):
        def encode(self, texts, batch_size=32):
            raise RuntimeError("encoder crashed")

    with pytest.raises(RuntimeError):
        rebuild_index(built, encoder=Exploding(), full=True)
    assert store.live_build_id(built.index_dir) == live
    store.open_index(built.index_dir, FakeEncoder.name)


def test_second_writer_fails_at_once(built: Settings) -> None:
    from filelock import FileLock

    with FileLock(str(built.index_dir / ".lock")), pytest.raises(IndexBusy, match="another"):
        rebuild_index(built, encoder=FakeEncoder())


def test_empty_corpus_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    settings = Settings.from_env(environ={}, corpus=(tmp_path / "c",), index_dir=tmp_path / "i")
    with pytest.raises(CorpusError, match="no readable releases"):
        rebuild_index(settings, encoder=FakeEncoder())


def test_incremental_rebuild_embeds_only_what_changed(built: Settings, corpus_dir: Path) -> None:
    encoder = FakeEncoder()
    again = rebuild_index(built, encoder=encoder)
    assert (again.embedded, again.reused) == (0, again.chunks)
    assert (again.added, again.changed, again.removed, again.unchanged) == (0, 0, 0, 4)
    assert encoder.chunks_embedded == 0

    (corpus_dir / "new.md").write_text(
        "---\ntitle: Ports agree on data sharing\ndate: 2021-06-03\n---\nThe ports signed.\n"
    )
    seed = corpus_dir / f"{SEED_ID}.txt"
    seed.write_text(seed.read_text().replace("42 countries", "43 countries"))
    (corpus_dir / "doj.jsonl").write_text(
        "\n".join((corpus_dir / "doj.jsonl").read_text().splitlines()[:2]) + "\n"
    )
    summary = rebuild_index(built, encoder=encoder)
    assert (summary.added, summary.changed, summary.removed, summary.unchanged) == (1, 1, 1, 2)
    index = store.open_index(built.index_dir, FakeEncoder.name)
    changed_chunks = [c for c in index.chunks if c.release_id in ("new", SEED_ID)]
    # Only the new release's chunk and the seed chunk whose text changed are embedded.
    assert 1 < summary.embedded < len(changed_chunks) + 1
    assert encoder.chunks_embedded == summary.embedded
    assert "43 countries" in index.releases[SEED_ID].text
    assert "103" not in index.releases

    full = rebuild_index(built, encoder=encoder, full=True)
    assert full.embedded == full.chunks and full.reused == 0


def test_cached_vectors_equal_fresh_ones(built: Settings) -> None:
    import numpy as np

    first = store.open_index(built.index_dir, FakeEncoder.name)
    vectors = np.vstack([first.vectors.reconstruct(i) for i in range(first.vectors.ntotal)])
    units = np.asarray(first.unit_vectors, dtype=np.float32)
    (built.index_dir / "builds" / first.manifest.build_id / "manifest.json").unlink()
    rebuild_index(built, encoder=FakeEncoder())  # the live build is damaged: built anew
    second = store.open_index(built.index_dir, FakeEncoder.name)
    again = np.vstack([second.vectors.reconstruct(i) for i in range(second.vectors.ntotal)])
    assert np.array_equal(vectors, again)
    assert np.array_equal(units, np.asarray(second.unit_vectors, dtype=np.float32))


def test_adding_one_release_to_the_fixture_embeds_only_its_chunks(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(DOJ, corpus / "doj.jsonl.gz")
    settings = Settings.from_env(
        environ={}, corpus=(corpus,), index_dir=tmp_path / "index", model=FakeEncoder.name
    )
    first = rebuild_index(settings, encoder=FakeEncoder())
    assert first.releases == len(doj_lines()) and first.embedded == first.chunks
    shutil.copy(SEED_FILE, corpus)
    encoder = FakeEncoder()
    second = rebuild_index(settings, encoder=encoder)
    index = store.open_index(settings.index_dir, FakeEncoder.name)
    seed_chunks = sum(1 for c in index.chunks if c.release_id == SEED_ID)
    assert (second.added, second.unchanged, second.removed) == (1, len(doj_lines()), 0)
    assert second.embedded == encoder.chunks_embedded == seed_chunks
    assert second.reused == first.chunks


def test_large_builds_get_an_hnsw_index_that_searches_and_filters_like_flat(
    settings: Settings, fake_encoder: FakeEncoder, tmp_path: Path
) -> None:
    from qa.retrieval import Filters, Retriever

    flat = dataclasses.replace(settings, index_dir=tmp_path / "flat")
    graph = dataclasses.replace(settings, index_dir=tmp_path / "hnsw", flat_max_vectors=2)
    results = {}
    for s in (flat, graph):
        rebuild_index(s, encoder=fake_encoder)
        index = store.open_index(s.index_dir, s.model_id)
        retriever = Retriever(index, fake_encoder)
        results[index.manifest.index_type] = [
            [h.chunk.id for h in retriever.search(q, k=3, filters=f)]
            for q in ("rhinoceros horns smuggling", "bribes Nigeria", "ISIL hacker")
            for f in (None, Filters(date_from="2016-01-01"))
        ]
    assert set(results) == {"Flat", store.HNSW_FACTORY}
    # On a handful of vectors the graph search is exact: same hits, same filters honoured.
    assert results["Flat"] == results[store.HNSW_FACTORY]
    assert all(results["Flat"])
    assert store.index_type_for(store.FLAT_MAX_VECTORS) == "Flat"
    assert store.index_type_for(store.FLAT_MAX_VECTORS + 1) == store.HNSW_FACTORY


def test_lexical_tokens_are_bm25s_tokens() -> None:
    import bm25s
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    texts = [json.loads(line)["body"] for line in doj_lines()[:60]]
    texts += ["", "Which measures target terrorism?", "U.S. $402 million — Côte d'Ivoire's 2ND"]
    expected = bm25s.tokenize(
        texts,
        stopwords=[*STOPWORDS_EN_PLUS, *lexical.EXTRA_STOPWORDS],
        stemmer=Stemmer.Stemmer("english"),
        return_ids=False,
        show_progress=False,
    )
    assert lexical.lexical_tokens(texts) == [list(t) for t in expected]


def test_a_chunk_count_that_does_not_add_up_names_each_count(built: Settings) -> None:
    build = built.index_dir / "builds" / store.live_build_id(built.index_dir)
    manifest = json.loads((build / "manifest.json").read_text())
    actual = manifest["chunks"]
    manifest["chunks"] = actual + 5
    (build / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(store.IndexMismatch) as caught:
        store.open_index(built.index_dir, FakeEncoder.name)
    message = str(caught.value)
    assert f"the manifest counts {actual + 5} chunks" in message
    assert f"store.sqlite has {actual} and vectors.faiss {actual}" in message
    assert "qa rebuild-index" in message


def _live(settings: Settings) -> Path:
    return settings.index_dir / "builds" / store.live_build_id(settings.index_dir)


def test_every_file_of_a_build_is_checksummed(built: Settings) -> None:
    live = _live(built)
    vocab = live / "bm25" / "vocab.index.json"
    original = vocab.read_text()
    words = json.loads(original)
    ids = list(words.values())
    vocab.write_text(json.dumps(dict(zip(words, ids[1:] + ids[:1], strict=True))))
    with pytest.raises(IndexMismatch, match=r"vocab\.index\.json does not match its checksum"):
        store.open_index(built.index_dir, FakeEncoder.name)
    vocab.write_text(original)
    params = live / "bm25" / "params.index.json"
    original = params.read_text()
    params.write_text(original.replace('"num_docs": ', '"num_docs": 5, "was": '))
    with pytest.raises(IndexMismatch, match=r"params\.index\.json does not match"):
        store.open_index(built.index_dir, FakeEncoder.name)
    params.write_text(original)
    store.open_index(built.index_dir, FakeEncoder.name)


def test_a_manifest_without_checksums_or_with_a_file_unlisted_is_refused(built: Settings) -> None:
    live = _live(built)
    manifest_file = live / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest_file.write_text(json.dumps({**manifest, "checksums": {}}))
    with pytest.raises(IndexMismatch, match="lists no checksums"):
        store.open_index(built.index_dir, FakeEncoder.name)
    fewer = {k: v for k, v in manifest["checksums"].items() if not k.startswith("bm25/")}
    manifest_file.write_text(json.dumps({**manifest, "checksums": fewer}))
    with pytest.raises(IndexMismatch, match=r"no checksum for bm25/data\.csc\.index\.npy"):
        store.open_index(built.index_dir, FakeEncoder.name)
    manifest_file.write_text(json.dumps(manifest))
    (live / "extra.bin").write_bytes(b"not part of the build")
    with pytest.raises(IndexMismatch, match=r"no checksum for extra\.bin"):
        store.open_index(built.index_dir, FakeEncoder.name)


def test_a_full_disk_says_so_and_leaves_the_live_build(
    built: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import numpy as np

    from qa.errors import BuildFailed

    live = store.live_build_id(built.index_dir)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", full)
    with pytest.raises(BuildFailed) as err:
        rebuild_index(built, encoder=FakeEncoder(), full=True)
    message = err.value.message
    assert f"the disk holding {built.index_dir}/ is full" in message
    assert "MB free" in message and "still serves" in message and "Free space" in message
    assert store.live_build_id(built.index_dir) == live
    assert not [p for p in (built.index_dir / "builds").iterdir() if p.name.startswith(".tmp")]
    monkeypatch.undo()
    store.open_index(built.index_dir, FakeEncoder.name)


def test_the_cli_says_when_nothing_changed(
    built: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    import qa.build
    from qa import cli

    live = store.live_build_id(built.index_dir)
    real = qa.build.rebuild_index
    monkeypatch.setattr(
        qa.build, "rebuild_index", lambda s, **kw: real(s, encoder=FakeEncoder(), **kw)
    )
    corpus = [a for p in built.corpus for a in ("--corpus", str(p))]
    out = CliRunner().invoke(
        cli.main,
        ["rebuild-index", *corpus, "--index", str(built.index_dir)],
        env={"QA_MODEL": FakeEncoder.name},
    )
    assert out.exit_code == 0, out.output
    assert f"Nothing changed: build {live}" in out.output
    assert store.live_build_id(built.index_dir) == live


def test_releases_and_chunks_are_read_on_demand_and_kept_bounded(
    built: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "RELEASE_CACHE", 2)
    monkeypatch.setattr(records, "CHUNK_CACHE", 3)
    index = store.open_index(built.index_dir, FakeEncoder.name)
    releases, chunks = index.releases, index.chunks
    assert isinstance(releases, records.ReleaseStore) and isinstance(chunks, records.ChunkStore)
    assert len(releases._recent) == len(chunks._recent) == 0  # nothing parsed at load
    ids = list(releases)
    assert len(ids) == len(releases) == 4 and SEED_ID in releases and "nope" not in releases
    for rid in ids:
        assert releases[rid].id == rid
    assert len(releases._recent) == 2  # the most recent two kept, no more
    every = [chunks[row] for row in range(len(chunks))]
    assert len(chunks._recent) == 3
    assert [c.text for c in every] == [index.chunk_text(c) for c in every]
    assert chunks[-1] == every[-1] and chunks[1:3] == every[1:3]
    with pytest.raises(IndexError):
        chunks[len(chunks)]
    with pytest.raises(KeyError):
        releases["nope"]
    rows = index.release_chunks[SEED_ID]
    assert rows and all(chunks[r].release_id == SEED_ID for r in rows)
    assert index.release_chunks.get("nope", []) == []
