from __future__ import annotations

import pytest
from conftest import DOJ, SEED_DIR, FakeEncoder

from qa.chunking import (
    SPECIAL_TOKENS,
    ChunkingParams,
    chunk_context,
    chunk_release,
    embed_text,
)
from qa.config import Settings
from qa.corpus import load_releases


@pytest.fixture(scope="module")
def real_tokens():
    from qa.embedding import SentenceTransformerEncoder

    settings = Settings.from_env(environ={})
    return SentenceTransformerEncoder(settings.model, settings.resolved_model_path()).count_tokens


def _seed():
    return load_releases([SEED_DIR]).releases[0]


def test_offsets_map_back_and_cover_the_text(real_tokens) -> None:
    release = _seed()
    chunks = chunk_release(release, real_tokens, ChunkingParams(max_tokens=120))
    assert len(chunks) > 2
    for c in chunks:
        assert c.text == release.text[c.start : c.end]
        assert c.start == c.units[0].start and c.end == c.units[-1].end
    covered = {(u.start, u.end) for c in chunks for u in c.units}
    body_units = {(b.start, b.end) for b in release.blocks if b.kind != "paragraph"}
    assert body_units <= covered
    # Every sentence of the release appears in some chunk.
    assert (
        sum(len(release.text[s:e]) for s, e in covered)
        >= 0.95 * len(release.text.replace("\n", "")) - 200
    )


def test_bullets_stay_with_their_lead_in(real_tokens) -> None:
    release = _seed()
    for max_tokens in (120, 200, 256):
        chunks = chunk_release(release, real_tokens, ChunkingParams(max_tokens=max_tokens))
        holders = [c for c in chunks if any(u.kind == "bullet" for u in c.units)]
        assert len(holders) == 1
        kinds = [u.kind for u in holders[0].units]
        lead = kinds.index("lead")
        assert kinds[lead + 1 : lead + 4] == ["bullet"] * 3
        assert release.text[holders[0].units[lead].start :].startswith("Measures to better address")


def test_no_chunk_over_the_token_limit_on_real_releases(real_tokens) -> None:
    params = ChunkingParams(max_tokens=200)
    releases = load_releases([DOJ]).releases
    total = 0
    for release in releases:
        chunks = chunk_release(release, real_tokens, params)
        total += len(chunks)
        texts = [embed_text(chunk_context(release, params), c.text) for c in chunks]
        for c, n in zip(chunks, real_tokens(texts), strict=True):
            assert n + SPECIAL_TOKENS == c.tokens <= params.max_tokens, (c.id, n)
            assert c.text == release.text[c.start : c.end]
    assert total > len(releases)


def test_chunk_ids_are_stable_and_overlap_is_small() -> None:
    release = load_releases([DOJ]).releases[0]
    fake = FakeEncoder()
    first = chunk_release(release, fake.count_tokens, ChunkingParams(max_tokens=80))
    again = chunk_release(release, fake.count_tokens, ChunkingParams(max_tokens=80))
    assert [c.id for c in first] == [c.id for c in again]
    assert [c.id for c in first] == [f"{release.id}#{n}" for n in range(len(first))]
    for a, b in zip(first, first[1:], strict=False):
        shared = {(u.start, u.end) for u in a.units} & {(u.start, u.end) for u in b.units}
        assert len(shared) <= 1


def test_a_unit_longer_than_the_budget_is_split() -> None:
    from qa.corpus import Block, Release

    text = " ".join(f"word{i}" for i in range(500))
    release = Release(id="r", title="T", text=text, blocks=(Block("paragraph", 0, len(text)),))
    fake = FakeEncoder()
    chunks = chunk_release(release, fake.count_tokens, ChunkingParams(max_tokens=100))
    assert len(chunks) >= 5
    assert all(c.tokens <= 100 for c in chunks)
    assert " ".join(c.text for c in chunks) == text
