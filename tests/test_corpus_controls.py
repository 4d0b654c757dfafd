"""Control systems (lead, random, mismatched): what they contain, their length budget, their
determinism, and how they enter a corpus run."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from conftest import ROOT, compose
from harness.cli import plain_config
from harness.controls import (
    _content_words,
    control_rows,
    lead_sentences,
    mismatched_pairs,
    random_sentences,
    transcript_sentences,
)
from harness.corpus import load_manifest
from harness.errors import ConfigError

SMALL = ROOT / "tests" / "data" / "corpus_small"
SENTENCES = [f"sentence number {i} has six words" if i % 2 else f"sentence {i} has four" for i in range(10)]


@pytest.fixture(scope="module")
def bees():
    from harness.sponsors import mark_sponsors, sponsor_config_from_mapping
    from harness.transcript import load_transcript

    cfg = OmegaConf.to_container(compose().sponsors)
    return mark_sponsors(load_transcript(SMALL / "bees.vtt", "webvtt"), sponsor_config_from_mapping(cfg))


def test_transcript_sentences_leave_out_the_sponsor_read(bees):
    assert bees.sponsor_segments, "the Hivecloud read must be found for this test to mean anything"
    sentences = transcript_sentences(bees)
    assert sentences[:2] == ["Welcome to the orchard hour.",
                             "My guest today is Tobin Reyes, who keeps forty hives on a hillside farm."]
    assert not any("Hivecloud" in s or "percent off" in s for s in sentences)
    assert len(sentences) == 10  # every other sentence of the eight cues has at least five words


def test_lead_takes_the_first_sentences_until_the_budget():
    assert lead_sentences(SENTENCES, 10) == SENTENCES[:2]  # 4 + 6 words reach 10
    assert lead_sentences(SENTENCES, 11) == SENTENCES[:3]
    assert lead_sentences(SENTENCES, 0) == []
    assert lead_sentences(SENTENCES, 10_000) == SENTENCES


def test_random_is_seeded_in_transcript_order_and_within_budget():
    first = random_sentences(SENTENCES, 15, "0:ep:sys")
    assert first == random_sentences(SENTENCES, 15, "0:ep:sys")
    assert first != random_sentences(SENTENCES, 15, "1:ep:sys")
    assert first == sorted(first, key=SENTENCES.index)
    words = sum(len(s.split()) for s in first)
    assert 15 <= words < 15 + 6  # stops at the first sentence that reaches the budget
    assert random_sentences(SENTENCES, 10_000, "x") == SENTENCES


def test_mismatched_pairs_never_meet_their_own_episode():
    assert mismatched_pairs(["b", "a", "c", "a"]) == {"a": "b", "b": "c", "c": "a"}
    assert mismatched_pairs(["only"]) == {}


def test_control_rows_for_the_small_corpus(tmp_path):
    cfg = plain_config(compose([f"corpus.manifest={SMALL / 'manifest.jsonl'}"]))
    rows = load_manifest(SMALL / "manifest.jsonl", tmp_path / "inputs")
    controls = control_rows(rows, ["lead", "random", "mismatched"], cfg, tmp_path / "inputs", seed=0, start_index=2)
    got = [(r.index, r.episode_id, r.system, r.control, r.beside, r.transcript_episode) for r in controls]
    assert got == [
        (2, "bees", "lead", "lead", "notes", "bees"),
        (3, "bees", "random", "random", "notes", "bees"),
        (4, "bees", "mismatched", "mismatched", "notes", "bread"),
        (5, "bread", "lead", "lead", "notes", "bread"),
        (6, "bread", "random", "random", "notes", "bread"),
        (7, "bread", "mismatched", "mismatched", "notes", "bees"),
    ]
    lead_bees = (tmp_path / "inputs" / "bees__notes.lead.txt").read_text().splitlines()
    # the bees summary has 49 content words; the first four sentences have 46 (5 + 13 + 7 + 21),
    # so the lead control takes a fifth
    assert _content_words(rows[0], cfg) == 49
    assert lead_bees == transcript_sentences_of(SMALL / "bees.vtt")[:5]
    mismatched = controls[2]
    assert mismatched.summary_path == str(SMALL / "bees_notes.md") and mismatched.transcript_path == str(SMALL / "bread.md")
    assert controls[0].summary_format == "plain" and controls[0].summary_split == "line"


def transcript_sentences_of(path):
    from harness.sponsors import mark_sponsors, sponsor_config_from_mapping
    from harness.transcript import load_transcript

    cfg = OmegaConf.to_container(compose().sponsors)
    return transcript_sentences(mark_sponsors(load_transcript(path, "webvtt"), sponsor_config_from_mapping(cfg)))


def test_control_names_carry_the_system_when_there_are_several(tmp_path):
    manifest = tmp_path / "m.jsonl"
    lines = (SMALL / "manifest.jsonl").read_text().splitlines()
    manifest.write_text("\n".join([*lines, lines[0].replace('"notes"', '"other"')]) + "\n")
    for name in ("bees.vtt", "bread.md", "bees_notes.md", "bread_notes.md"):
        (tmp_path / name).write_bytes((SMALL / name).read_bytes())
    cfg = plain_config(compose([f"corpus.manifest={manifest}"]))
    rows = load_manifest(manifest, tmp_path / "inputs")
    controls = control_rows(rows, ["lead", "mismatched"], cfg, tmp_path / "inputs", seed=0, start_index=3)
    # "other" has one episode, so it gets no mismatched control
    assert [r.system for r in controls] == ["lead-notes", "mismatched-notes", "lead-notes", "mismatched-notes", "lead-other"]


def test_unknown_control_is_a_config_error(tmp_path):
    cfg = plain_config(compose([f"corpus.manifest={SMALL / 'manifest.jsonl'}"]))
    rows = load_manifest(SMALL / "manifest.jsonl", tmp_path / "inputs")
    with pytest.raises(ConfigError, match="corpus.controls: unknown control"):
        control_rows(rows, ["oracle"], cfg, tmp_path / "inputs", seed=0, start_index=2)
