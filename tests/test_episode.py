"""The Episode is built once and every stage reads it; the one embedding cache counts its work.

A fake encoder records every text it is asked to encode, so "each transcript sentence is encoded
once per process" is asserted, not assumed.
"""

from __future__ import annotations

import tracemalloc
from collections import Counter

import numpy as np
import pytest

from harness.align import align_summary
from harness.cache import EmbeddingCache
from harness.coverage import best_matches, compute_coverage, source_units
from harness.episode import build_episode
from harness.errors import ConfigError
from harness.flags import detect_flags
from harness.lexical import best_precision, compute_lexical, lexical_config
from test_align import CountingEncoder, ScriptedVerifier, align_cfg, make_claim
from test_coverage import ASTRONOMY, COOKING, FOOTBALL, make_summary, make_transcript

COVERAGE = {"use_cache": True, "key_points": {"min_per_chapter": 2, "max_per_chapter": 2, "min_words": 5}}


def _stages(episode, summary, tmp_path):
    """align, coverage, lexical (ROUGE and fragments) and flags on one episode."""
    claims = [make_claim(u, 0, u.text) for u in summary.units]
    verifier = ScriptedVerifier({c.text: (c.text[:20], 0.9, 0.0) for c in claims})
    alignment = align_summary(episode, summary.units, claims, verifier, align_cfg(tmp_path))
    coverage = compute_coverage(episode, summary, alignment.unit_verdicts, COVERAGE)
    lexical = compute_lexical(episode, summary, {"bertscore": False}, key_points=coverage.key_point_texts)
    flags = detect_flags(episode, summary, alignment.unit_verdicts, None)
    return alignment, coverage, lexical, flags


@pytest.fixture()
def untitled():
    # no chapter headings: the Episode finds chapters by topic shift (segmentation)
    return make_transcript([(None, COOKING + ASTRONOMY + FOOTBALL)])


def test_each_transcript_text_is_encoded_once_across_stages_and_runs(tmp_path, untitled):
    encoder = CountingEncoder()
    cache = EmbeddingCache(tmp_path / "cache")
    summary = make_summary([COOKING[0], ASTRONOMY[1], "Football is played with a round ball."])

    first = build_episode(untitled, align=align_cfg(tmp_path), coverage=COVERAGE, encoder=encoder, cache=cache)
    assert first.segmentation == "auto" and len(first.chapters) >= 1  # chapters found here, once
    _stages(first, summary, tmp_path)
    transcript_texts = {s.text for s in first.sentences} | {w.text for w in first.windows}
    transcript_texts |= set(first.evidence_sentences.texts)
    counts = Counter(t for t in encoder.texts if t in transcript_texts)
    assert counts and max(counts.values()) == 1, [t for t, n in counts.items() if n > 1]

    # a second summary of the same transcript in the same process: the same Episode, no new
    # transcript encodes (only the new summary's own texts)
    second = build_episode(untitled, align=align_cfg(tmp_path), coverage=COVERAGE, encoder=encoder, cache=cache)
    assert second is first
    before = len(encoder.texts)
    _stages(second, make_summary([FOOTBALL[0], "Stars are far away."]), tmp_path)
    assert not [t for t in encoder.texts[before:] if t in transcript_texts]
    assert cache.stats.encoded == len(encoder.texts)
    assert cache.stats.encoded_by_kind["coverage-sentences"] == len({s.text for s in first.sentences})


def test_a_new_process_reads_the_disk_cache_and_encodes_no_transcript_text(tmp_path, untitled):
    summary = make_summary([COOKING[0]])
    warm = EmbeddingCache(tmp_path / "cache")
    _stages(build_episode(untitled, align=align_cfg(tmp_path), coverage=COVERAGE, encoder=CountingEncoder(), cache=warm), summary, tmp_path)
    encoder = CountingEncoder()
    fresh = EmbeddingCache(tmp_path / "cache")  # same folder, empty memory: a new process
    episode = build_episode(untitled, align=align_cfg(tmp_path), coverage=COVERAGE, encoder=encoder, cache=fresh)
    _stages(episode, summary, tmp_path)
    transcript_texts = {s.text for s in episode.sentences} | {w.text for w in episode.windows}
    assert not [t for t in encoder.texts if t in transcript_texts]
    assert fresh.stats.disk_hits >= len(episode.sentences) + len(episode.windows)


def test_stages_read_the_episode_not_the_transcript_again(tmp_path):
    t = make_transcript([("Cooking", COOKING), ("Astronomy", ASTRONOMY)])
    cache = EmbeddingCache(tmp_path / "cache")
    episode = build_episode(t, align=align_cfg(tmp_path), coverage=COVERAGE, encoder=CountingEncoder(), cache=cache)
    src = source_units(episode, COVERAGE)
    assert src.sentences is episode.sentences and src.embeddings is episode.sentence_embeddings
    assert [s.chapter_index for s in episode.sentences] == list(episode.chapter_of)
    assert episode.segmentation == "chapters" and episode.chapters == t.chapters
    # an episode cut with other settings is refused, not silently re-cut
    with pytest.raises(ConfigError, match="coverage"):
        source_units(episode, {**COVERAGE, "max_sentence_words": 20})
    with pytest.raises(ConfigError, match="align"):
        align_summary(episode, [], [], ScriptedVerifier({}), align_cfg(tmp_path, window__max_words=30))


def test_auto_chapters_become_the_transcripts_only_when_asked(tmp_path, untitled):
    cache = EmbeddingCache(tmp_path / "cache")
    plain = build_episode(untitled, coverage=COVERAGE, encoder=CountingEncoder(), cache=cache)
    asked = build_episode(untitled, coverage=COVERAGE, auto_chapters=True, encoder=CountingEncoder(), cache=cache)
    assert plain.transcript.chapters == () and plain.segmentation == "auto"
    assert asked.transcript.chapters == plain.chapters and asked.transcript.chapter_source == "auto"
    assert asked.segmentation == "chapters"
    # without coverage or lexical metrics nobody needs chapters: no segmentation, no encoding
    encoder = CountingEncoder()
    bare = build_episode(untitled, coverage=COVERAGE, score_chapters=False, encoder=encoder, cache=EmbeddingCache(tmp_path / "other"))
    assert bare.chapters == () and encoder.texts == []


# ----------------------------------------------------------------------------------------------
# The cache
# ----------------------------------------------------------------------------------------------


def test_cache_hits_and_misses_are_counted(tmp_path):
    encoder = CountingEncoder()
    cache = EmbeddingCache(tmp_path)
    texts = ["alpha beta", "gamma delta", "alpha beta"]
    first = cache.embed(texts, kind="demo", encoder=encoder)
    assert first.cache_hit is False and encoder.texts == ["alpha beta", "gamma delta"]  # duplicates once
    assert first.matrix.shape == (3, CountingEncoder.dim)
    np.testing.assert_array_equal(first.matrix[0], first.matrix[2])
    assert (tmp_path / "embeddings").is_dir() and first.cache_path.endswith(".npy")

    again = cache.embed(texts, kind="demo", encoder=encoder)
    assert again.cache_hit is True and len(encoder.texts) == 2
    np.testing.assert_array_equal(first.matrix, again.matrix)

    overlap = cache.embed(["gamma delta", "epsilon"], kind="demo", encoder=encoder)
    assert overlap.cache_hit is False and encoder.texts[2:] == ["epsilon"]  # only the new text

    other = EmbeddingCache(tmp_path)  # a new process: the disk file of the same list
    disk = other.embed(texts, kind="demo", encoder=encoder)
    assert disk.cache_hit is True and len(encoder.texts) == 3
    np.testing.assert_array_equal(first.matrix, disk.matrix)

    assert cache.stats.as_dict() == {
        "encoded": 3,
        "memory_hits": 3 + 1,
        "disk_hits": 0,
        "store_hits": 0,
        "store_misses": 0,
        "encoded_by_kind": {"demo": 3},
        "disk_hits_by_kind": {},
    }
    assert other.stats.disk_hits == 3 and other.stats.encoded == 0
    assert "encoded 3 texts (demo 3)" in cache.summary()


def test_memory_only_embeddings_write_no_file_and_the_model_is_part_of_the_key(tmp_path):
    class Other(CountingEncoder):
        model_id = "test/other-model"

    cache = EmbeddingCache(tmp_path)
    a, b = CountingEncoder(), Other()
    cache.embed(["same text"], kind="demo", encoder=a, use_disk=False)
    cache.embed(["same text"], kind="demo", encoder=b, use_disk=False)
    assert a.texts == ["same text"] and b.texts == ["same text"]
    assert not (tmp_path / "embeddings").exists()


def test_named_store_builds_once_and_evicts_the_least_recently_used(tmp_path):
    cache = EmbeddingCache(tmp_path)
    store = cache.store("demo", max_items=2)
    built = []
    for key in ("a", "b", "a", "c", "b"):
        store.get_or_build(key, lambda key=key: built.append(key) or key.upper())
    # "a" was used again before "c" came, so "b" was the one evicted, and is rebuilt
    assert built == ["a", "b", "c", "b"]
    assert (cache.stats.store_hits, cache.stats.store_misses) == (1, 4)
    assert cache.store("demo") is store


# ----------------------------------------------------------------------------------------------
# No full similarity matrix
# ----------------------------------------------------------------------------------------------


def test_best_matches_equals_one_argmax_and_holds_one_block_at_a_time():
    rng = np.random.default_rng(0)
    queries = rng.standard_normal((40, 32)).astype(np.float32)
    rows = rng.standard_normal((30_000, 32)).astype(np.float32)
    rows[17_000] = rows[5]  # a tie across blocks: the earlier row wins, as with one argmax
    queries[0] = rows[5]
    full = queries @ rows.T
    best, cos = best_matches(queries, rows, block=4096)
    np.testing.assert_array_equal(best, full.argmax(axis=1))
    np.testing.assert_allclose(cos, full.max(axis=1), rtol=1e-6)
    assert best[0] == 5
    del full
    tracemalloc.start()
    best_matches(queries, rows, block=4096)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    full_bytes = queries.shape[0] * rows.shape[0] * 4
    assert peak < full_bytes / 2, f"peak {peak} bytes: the full {full_bytes}-byte matrix was held"


def test_best_precision_in_target_blocks_equals_all_at_once(monkeypatch):
    import torch

    import harness.lexical as lexical

    torch.manual_seed(0)

    def text(n):
        e = torch.nn.functional.normalize(torch.randn(n, 16), dim=-1)
        w = torch.ones(n) / n
        return e, w

    queries = [text(n) for n in (3, 7, 5)]
    targets = [text(n) for n in (4, 9, 2, 6)]
    targets = targets + [targets[1]] * 5  # repeated chunks (a transcript that repeats itself)
    whole = best_precision(queries, targets)
    monkeypatch.setattr(lexical, "_TARGET_BLOCK_PIECES", 9)  # one target per block
    monkeypatch.setattr(lexical, "_BLOCK_PIECES", 4)
    assert best_precision(queries, targets) == pytest.approx(whole, abs=1e-6)  # other matmul shapes

    # the definition: max over targets of the weighted best cosine per query piece
    def naive(q, t):
        sims = q[0] @ t[0].T
        return float((sims.max(dim=1).values * q[1]).sum())

    for q, value in zip(queries, whole):
        assert value == pytest.approx(max(naive(q, t) for t in targets), abs=1e-6)


def test_lexical_settings_come_from_their_own_node_or_the_old_place():
    assert lexical_config({"lexical": {"bertscore": False}}).bertscore is False
    assert lexical_config({"coverage": {"lexical": {"bertscore": False}}}).bertscore is False
    assert lexical_config({"lexical": {"bertscore": True}, "coverage": {"lexical": {"bertscore": False}}}).bertscore
    assert lexical_config({}).bertscore is True
