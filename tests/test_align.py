"""Alignment: windows, hybrid retrieval, the embedding cache, evidence quotes, verdicts."""

from __future__ import annotations

import zlib
from dataclasses import replace
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pytest
from omegaconf import OmegaConf

from harness.align import WindowIndex, aggregate_unit, align_summary, embed_windows, label_claim
from harness.backends.base import PairScore, VerifyPair
from harness.cache import default_cache, resolve_cache_dir
from harness.claims import Checkability
from harness.errors import ConfigError, HarnessError
from harness.stage_config import AlignConfig, RetrievalConfig, Thresholds
from harness.text import stem
from harness.types import (
    Chapter,
    Claim,
    Segment,
    SponsorSegment,
    SummaryUnit,
    TimestampBlock,
    Transcript,
    Verdict,
)
from harness.windows import bm25_tokens, build_windows


@pytest.fixture(autouse=True)
def _fresh_embedding_cache():
    """Each test starts with an empty process-wide embedding cache (its disk folder is per test)."""
    default_cache().clear()
    yield
    default_cache().clear()

ROOT = Path(__file__).resolve().parent.parent
ALIGN_YAML = ROOT / "configs" / "align" / "default.yaml"

# ----------------------------------------------------------------------------------------------
# A small synthetic transcript: 3 chapters, 8 turns (one turn per timestamp), one sponsor read.
# ----------------------------------------------------------------------------------------------

LONG_TURN = (
    "Alex Krizhevsky wrote extremely fast CUDA kernels for convolutional networks. "
    "Those kernels made it possible to train on ImageNet in about a week. "
    "Before that nobody believed a big network could be trained on a single machine. "
    "The result convinced the computer vision community almost overnight."
)  # 48 words, 4 sentences

TURNS = [
    # (chapter, seconds, speaker, text)
    (0, 0, "Host", "Welcome to the show. Today I talk with Ada about neural networks and their history."),
    (
        0,
        30,
        "Host",
        "This episode is sponsored by Acme Bank. Acme Bank lets you send money to friends. "
        "Use code ADA to get ten dollars.",
    ),
    (1, 60, "Host", "Who invented the Hessian-free optimizer?"),
    (
        1,
        80,
        "Ada",
        "James Martens invented the Hessian-free optimizer in 2010. "
        "He trained a ten-layer network from scratch without pre-training.",
    ),
    (1, 120, "Host", "And what about graphics cards?"),
    (1, 140, "Ada", LONG_TURN),
    (2, 240, "Host", "What is the meaning of life?"),
    (2, 270, "Ada", "I think the meaning of life is to be happy and to help other people flourish."),
]
CHAPTERS = ["Introduction", "Optimizers and GPUs", "Meaning of life"]
END_S = 300.0


def _clock(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def make_transcript(with_sponsor: bool = True) -> Transcript:
    parts: list[str] = ["---\ntitle: test\n---\n\n"]
    offset = len(parts[0])
    chapter_starts: dict[int, tuple[int, int]] = {}
    blocks: list[dict] = []
    segments: list[dict] = []
    line_no = 5
    for chapter, seconds, speaker, text in TURNS:
        if chapter not in chapter_starts:
            heading = f"## {CHAPTERS[chapter]}\n\n"
            chapter_starts[chapter] = (offset, line_no)
            parts.append(heading)
            offset += len(heading)
            line_no += 2
        stamp = f"[{_clock(seconds)}](https://youtu.be/xyz?t={seconds})\n"
        label = f"**{speaker}:** "
        blocks.append(
            dict(
                start_s=float(seconds),
                label=_clock(seconds),
                url=f"https://youtu.be/xyz?t={seconds}",
                chapter_index=chapter,
                line_no=line_no,
                char_start=offset,
            )
        )
        seg_start = offset + len(stamp) + len(label)
        segments.append(
            dict(
                speaker=speaker,
                text=text,
                chapter_index=chapter,
                line_no=line_no + 1,
                char_start=seg_start,
                char_end=seg_start + len(text),
                timestamp=_clock(seconds),
                start_s=float(seconds),
            )
        )
        chunk = stamp + label + text + "\n\n"
        parts.append(chunk)
        offset += len(chunk)
        line_no += 3
    text = "".join(parts)
    block_records = []
    for i, b in enumerate(blocks):
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        block_records.append(
            TimestampBlock(
                index=i,
                start_s=b["start_s"],
                end_s=nxt["start_s"] if nxt else None,
                label=b["label"],
                url=b["url"],
                chapter_index=b["chapter_index"],
                line_no=b["line_no"],
                char_start=b["char_start"],
                char_end=nxt["char_start"] if nxt else len(text),
            )
        )
    seg_records = []
    for i, s in enumerate(segments):
        end_s = segments[i + 1]["start_s"] if i + 1 < len(segments) else END_S
        seg_records.append(
            Segment(
                index=i,
                speaker=s["speaker"],
                text=s["text"],
                start_s=s["start_s"],
                end_s=end_s,
                timestamp=s["timestamp"],
                chapter_index=s["chapter_index"],
                line_no=s["line_no"],
                char_start=s["char_start"],
                char_end=s["char_end"],
            )
        )
    chapter_records = []
    order = sorted(chapter_starts)
    for k in order:
        start, line = chapter_starts[k]
        nxt = chapter_starts.get(k + 1)
        first_turn = next(t for t in TURNS if t[0] == k)
        next_turn = next((t for t in TURNS if t[0] == k + 1), None)
        chapter_records.append(
            Chapter(
                index=k,
                title=CHAPTERS[k],
                start_s=float(first_turn[1]),
                end_s=float(next_turn[1]) if next_turn else END_S,
                line_no=line,
                char_start=start,
                char_end=nxt[0] if nxt else len(text),
            )
        )
    sponsor = seg_records[1]
    sponsors = (
        (
            SponsorSegment(
                index=0,
                char_start=sponsor.char_start,
                char_end=sponsor.char_end,
                start_s=sponsor.start_s,
                end_s=sponsor.end_s,
                time_estimated=False,
                segment_indices=(1,),
                rules=("promo_code",),
                text=sponsor.text,
            ),
        )
        if with_sponsor
        else ()
    )
    transcript = Transcript(
        path="synthetic.md",
        sha256="0" * 64,
        text=text,
        format="markdown_blog",
        title="test",
        video_url="https://youtu.be/xyz",
        chapters=tuple(chapter_records),
        blocks=tuple(block_records),
        segments=tuple(seg_records),
        sponsor_segments=sponsors,
        duration_s=270.0,
    )
    for seg in transcript.segments:  # the fixture itself must be consistent
        assert transcript.text[seg.char_start : seg.char_end] == seg.text
    return transcript


# ----------------------------------------------------------------------------------------------
# Fakes
# ----------------------------------------------------------------------------------------------


class CountingEncoder:
    """A deterministic bag-of-stems encoder that counts what it is asked to encode."""

    model_id = "test/bag-of-stems"
    dim = 256

    def __init__(self) -> None:
        self.calls = 0
        self.texts: list[str] = []

    def encode(
        self, texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    ):
        self.calls += 1
        self.texts.extend(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for token in bm25_tokens(text):
                out[i, zlib.crc32(token.encode()) % self.dim] += 1.0
            out[i, self.dim - 1] += 0.01  # no zero vectors
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class ScriptedVerifier:
    """Scores a pair from a script: ``{claim text: (needle, support, contradiction)}``; the
    pair scores (support, contradiction) when the window contains the needle, else 0.02."""

    name = "scripted"

    def __init__(self, script: Mapping[str, tuple[str, float, float | None]]) -> None:
        self.script = dict(script)
        self.calls: list[list[VerifyPair]] = []

    def score(self, pairs: Sequence[VerifyPair]) -> list[PairScore]:
        self.calls.append(list(pairs))
        out = []
        for pair in pairs:
            needle, support, contradiction = self.script.get(pair.claim, ("\x00", 0.0, None))
            if needle in pair.evidence:
                out.append(
                    PairScore(support=support, contradiction=contradiction, features={"scripted": 1.0})
                )
            else:
                out.append(PairScore(support=0.02, contradiction=0.0 if contradiction is not None else None))
        return out

    def describe(self):
        return {"name": self.name}


def align_cfg(tmp_path: Path, **overrides) -> dict:
    cfg = OmegaConf.to_container(OmegaConf.load(ALIGN_YAML))
    cfg["cache_dir"] = str(tmp_path / "cache")
    cfg["window"].update(size_turns=2, stride_turns=1, max_words=60)
    cfg["retrieval"]["top_k"] = 3
    # The scripted verifier scores below are written against these cut points, not the
    # backend-specific defaults in the YAML.
    cfg["thresholds"] = {"supported": 0.5, "partial": 0.25, "contradicted": 0.5}
    for key, value in overrides.items():
        section, name = key.split("__")
        cfg[section][name] = value
    return cfg


def make_unit(n: int, text: str, **kw) -> SummaryUnit:
    return SummaryUnit(
        unit_id=f"u{n:03d}",
        index=n - 1,
        section="Key Insights",
        kind="key_insight",
        text=text,
        text_plain=text,
        line_no=n,
        **kw,
    )


def make_claim(unit: SummaryUnit, k: int, text: str) -> Claim:
    start = unit.text_plain.find(text)
    return Claim(
        claim_id=f"{unit.unit_id}.c{k + 1}",
        unit_id=unit.unit_id,
        index=k,
        text=text,
        char_start=max(0, start),
        char_end=max(0, start) + len(text),
        context=unit.section,
    )


# ----------------------------------------------------------------------------------------------
# Config
# ----------------------------------------------------------------------------------------------


def test_default_config_loads_and_validates():
    cfg = AlignConfig.from_mapping(OmegaConf.to_container(OmegaConf.load(ALIGN_YAML)))
    assert (cfg.window.size_turns, cfg.window.stride_turns, cfg.window.max_words) == (3, 2, 150)
    assert cfg.retrieval.top_k == 5 and cfg.retrieval.fusion == "weighted"
    assert cfg.thresholds == Thresholds(supported=0.35, partial=0.2, contradicted=0.5)
    assert (cfg.evidence.max_items, cfg.evidence.quote_max_words) == (3, 40)
    assert cfg.cache_dir is None and cfg.use_cache is True


def test_config_composes_under_the_align_group():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base=None):
        cfg = compose(
            config_name="config", overrides=["+align=default"] if "align" not in _defaults() else []
        )
    assert AlignConfig.from_mapping(OmegaConf.to_container(cfg.align, resolve=True)).retrieval.top_k == 5


def _defaults() -> str:
    return (ROOT / "configs" / "config.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "section, key, value, message",
    [
        ("window", "stride_turns", 0, "stride_turns"),
        ("retrieval", "fusion", "max", "fusion"),
        ("thresholds", "partial", 0.9, "partial <= supported"),
    ],
)
def test_bad_config_values_are_config_errors(section, key, value, message):
    cfg = OmegaConf.to_container(OmegaConf.load(ALIGN_YAML))
    cfg[section][key] = value
    with pytest.raises(ConfigError, match=message):
        AlignConfig.from_mapping(cfg)


def test_missing_config_section_is_a_config_error():
    cfg = OmegaConf.to_container(OmegaConf.load(ALIGN_YAML))
    del cfg["thresholds"]
    with pytest.raises(ConfigError, match="thresholds"):
        AlignConfig.from_mapping(cfg)


def test_cache_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "env"))
    assert resolve_cache_dir(None) == tmp_path / "env"
    assert resolve_cache_dir(str(tmp_path / "explicit")) == tmp_path / "explicit"
    monkeypatch.delenv("HARNESS_CACHE_DIR")
    assert resolve_cache_dir(None) == Path.home() / ".cache" / "harness"


# ----------------------------------------------------------------------------------------------
# Windows
# ----------------------------------------------------------------------------------------------


def test_windows_overlap_and_respect_chapters_and_sponsors():
    t = make_transcript()
    windows = build_windows(t, 2, 1, 200)
    assert [w.segment_indices for w in windows] == [(0,), (1,), (2, 3), (3, 4), (4, 5), (6, 7)]
    assert [w.index for w in windows] == list(range(6))
    assert [w.chapter_index for w in windows] == [0, 0, 1, 1, 1, 2]
    assert [w.is_sponsor for w in windows] == [False, True, False, False, False, False]
    # consecutive windows of a chapter share a turn
    assert set(windows[2].segment_indices) & set(windows[3].segment_indices) == {3}


def test_window_times_offsets_text_and_speakers():
    t = make_transcript()
    w = build_windows(t, 2, 1, 200)[2]
    s2, s3 = t.segments[2], t.segments[3]
    assert (w.start_s, w.end_s) == (60.0, 120.0)
    assert w.timestamp == "1:00"
    assert w.speakers == ("Host", "Ada")
    assert (w.char_start, w.char_end) == (s2.char_start, s3.char_end)
    assert w.text == s2.text + "\n" + s3.text


def test_without_breaks_a_window_mixes_chapters_and_its_sponsor_flag_is_the_majority():
    t = make_transcript()
    windows = build_windows(t, 2, 1, 200, break_at_chapters=False, break_at_sponsors=False)
    assert [w.segment_indices for w in windows] == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7)]
    # (0, 1): the sponsor turn is 47% of the span (markup between the turns counts); (1, 2): 51%
    shares = [t.sponsor_overlap(w.char_start, w.char_end) for w in windows[:2]]
    assert shares == [pytest.approx(0.4691, abs=1e-4), pytest.approx(0.5089, abs=1e-4)]
    assert [w.is_sponsor for w in windows] == [False, True, False, False, False, False, False]
    assert windows[1].chapter_index == 0 and windows[1].speakers == ("Host",)


def test_stride_larger_than_one_still_covers_every_turn():
    t = make_transcript(with_sponsor=False)
    windows = build_windows(t, 3, 2, 200)
    assert [w.segment_indices for w in windows] == [(0, 1), (2, 3, 4), (4, 5), (6, 7)]
    covered = {i for w in windows for i in w.segment_indices}
    assert covered == set(range(8))


def test_word_cap_splits_a_long_turn_at_sentence_ends():
    t = make_transcript()
    windows = build_windows(t, 2, 1, 25)
    assert max(len(w.text.split()) for w in windows) <= 25
    long_windows = [w for w in windows if 5 in w.segment_indices]
    # the 48-word turn becomes two pieces of two sentences each
    assert [w.text for w in long_windows if w.segment_indices == (5,)] == [
        "Alex Krizhevsky wrote extremely fast CUDA kernels for convolutional networks. "
        "Those kernels made it possible to train on ImageNet in about a week.",
        "Before that nobody believed a big network could be trained on a single machine. "
        "The result convinced the computer vision community almost overnight.",
    ]
    for w in long_windows:
        assert t.text[w.char_start : w.char_end].endswith(".")
    # no word of the long turn is lost
    words = [word for w in windows if w.segment_indices == (5,) for word in w.text.split()]
    assert words == LONG_TURN.split()
    # a split piece gets a time inside its turn
    second = [w for w in long_windows if w.segment_indices == (5,)][1]
    assert 140.0 < second.start_s < 240.0 and second.end_s == pytest.approx(240.0)


def test_a_sentence_longer_than_the_cap_is_cut_at_words():
    t = make_transcript()
    windows = build_windows(t, 1, 1, 5)
    assert max(len(w.text.split()) for w in windows) == 5
    assert sum(len(w.text.split()) for w in windows) == sum(len(s.text.split()) for s in t.segments)


def test_non_content_turns_are_left_out():
    t = make_transcript()
    preface = replace(t.segments[0], is_content=False)
    t2 = replace(t, segments=(preface,) + t.segments[1:])
    assert all(0 not in w.segment_indices for w in build_windows(t2, 2, 1, 200))


# ----------------------------------------------------------------------------------------------
# Retrieval and the embedding cache
# ----------------------------------------------------------------------------------------------


def test_bm25_tokens_lowercase_drop_stopwords_and_stem():
    assert bm25_tokens("The networks were Trained on the big Models in 2010") == [
        "network",
        "train",
        "big",
        "model",
        "2010",
    ]
    assert [stem(w) for w in ("studies", "classes", "learning", "invented", "gas", "analysis")] == [
        "study",
        "class",
        "learn",
        "invent",
        "gas",
        "analysis",
    ]


def test_embedding_cache_is_written_then_hit(tmp_path):
    t = make_transcript()
    windows = build_windows(t, 2, 1, 60)
    encoder = CountingEncoder()
    first = embed_windows(windows, encoder=encoder, cache_dir=tmp_path, config_key="k")
    assert encoder.calls == 1 and first.cache_hit is False
    files = sorted((tmp_path / "embeddings").glob("windows-*.npy"))
    assert [Path(first.cache_path)] == files
    assert not list((tmp_path / "embeddings").glob("*.tmp"))
    second = embed_windows(windows, encoder=encoder, cache_dir=tmp_path, config_key="k")
    assert encoder.calls == 1 and second.cache_hit is True
    np.testing.assert_array_equal(first.matrix, second.matrix)
    # another window config is another cache entry (on disk: the memory layer holds texts)
    default_cache().clear()
    embed_windows(windows, encoder=encoder, cache_dir=tmp_path, config_key="other")
    assert encoder.calls == 2


def test_corrupt_cache_file_is_re_encoded(tmp_path):
    windows = build_windows(make_transcript(), 2, 1, 60)
    encoder = CountingEncoder()
    path = Path(embed_windows(windows, encoder=encoder, cache_dir=tmp_path).cache_path)
    path.write_bytes(b"not a numpy file")
    default_cache().clear()  # a new process: only the disk file remains
    again = embed_windows(windows, encoder=encoder, cache_dir=tmp_path)
    assert encoder.calls == 2 and again.cache_hit is False
    assert np.load(path).shape == (len(windows), CountingEncoder.dim)


@pytest.mark.parametrize("fusion", ["weighted", "rrf"])
def test_retrieval_ranks_the_verbatim_window_first(fusion):
    t = make_transcript()
    windows = build_windows(t, 2, 1, 200)
    encoder = CountingEncoder()
    matrix = embed_windows(windows, encoder=encoder, use_cache=False).matrix
    index = WindowIndex(
        windows, matrix, RetrievalConfig(top_k=3, fusion=fusion, bm25_weight=0.5, dense_weight=0.5)
    )
    query = "James Martens invented the Hessian-free optimizer in 2010."
    hits = index.search([query], encoder.encode([query]), 3)[0]
    assert len(hits) == 3 and [h.rank for h in hits] == [0, 1, 2]
    assert windows[hits[0].window_index].segment_indices == (2, 3)
    assert hits[0].fused > hits[1].fused


@pytest.mark.slow
def test_retrieval_with_minilm_ranks_the_paraphrased_window_first():
    from harness.models import sentence_encoder

    encoder = sentence_encoder()
    t = make_transcript()
    windows = build_windows(t, 2, 1, 200)
    matrix = embed_windows(windows, encoder=encoder, use_cache=False).matrix
    index = WindowIndex(
        windows, matrix, RetrievalConfig(top_k=2, fusion="weighted", bm25_weight=0.0, dense_weight=1.0)
    )
    query = "Ada says life is about happiness and helping others thrive."
    hits = index.search([query], encoder.encode([query], normalize_embeddings=True), 2)[0]
    assert windows[hits[0].window_index].segment_indices == (6, 7)


# ----------------------------------------------------------------------------------------------
# Labels and aggregation
# ----------------------------------------------------------------------------------------------

TH = Thresholds(supported=0.5, partial=0.25, contradicted=0.5)


@pytest.mark.parametrize(
    "support, contradiction, label",
    [
        (0.9, None, "supported"),
        (0.5, None, "supported"),
        (0.49, None, "partially_supported"),
        (0.25, None, "partially_supported"),
        (0.24, None, "unsupported"),
        (0.3, 0.8, "contradicted"),
        (0.1, 0.5, "contradicted"),
        (0.6, 0.9, "supported"),
        (0.1, 0.49, "unsupported"),
    ],
)
def test_label_claim(support, contradiction, label):
    assert label_claim(support, contradiction, TH) == label


def _verdict(text: str, label: str, score: float) -> Verdict:
    claim = Claim(claim_id="u001.c1", unit_id="u001", index=0, text=text, char_start=0, char_end=len(text))
    return Verdict(claim=claim, label=label, score=score, evidence=())


@pytest.mark.parametrize(
    "labels, expected",
    [
        (["supported", "supported"], "supported"),
        (["supported", "contradicted"], "contradicted"),
        (["unsupported", "contradicted"], "contradicted"),
        (["unsupported", "unsupported"], "unsupported"),
        (["supported", "unsupported"], "partially_supported"),
        (["partially_supported"], "partially_supported"),
    ],
)
def test_unit_aggregation_labels(labels, expected):
    assert aggregate_unit("u001", [_verdict("a b c", label, 0.5) for label in labels]).label == expected


def test_unit_score_is_weighted_by_claim_length():
    uv = aggregate_unit(
        "u001",
        [
            _verdict("two words", "supported", 1.0),
            _verdict("one two three four five six", "unsupported", 0.0),
        ],
    )
    assert uv.score == pytest.approx(0.25)


# ----------------------------------------------------------------------------------------------
# The stage end to end, with fakes
# ----------------------------------------------------------------------------------------------

HESSIAN = "James Martens invented the Hessian-free optimizer in 2010."
MEANING = "The meaning of life is to be happy."
CUDA = "Alex Krizhevsky wrote fast CUDA kernels."
PIZZA = "Ada's favourite food is pizza from Naples."


def scenario(tmp_path, **overrides):
    t = make_transcript()
    units = [
        make_unit(1, f"{HESSIAN} {CUDA}"),
        make_unit(2, MEANING),
        make_unit(3, PIZZA),
        make_unit(4, "Share this summary", boilerplate=True, boilerplate_reason="site call to action"),
        make_unit(5, "It was great."),
    ]
    claims = [
        make_claim(units[0], 0, HESSIAN),
        make_claim(units[0], 1, CUDA),
        make_claim(units[1], 0, MEANING),
        make_claim(units[2], 0, PIZZA),
    ]
    verifier = ScriptedVerifier(
        {
            HESSIAN: ("James Martens invented", 0.93, 0.01),
            CUDA: ("CUDA kernels", 0.4, 0.05),
            MEANING: ("meaning of life is to be happy", 0.2, 0.85),
            PIZZA: ("pizza", 0.9, 0.0),  # the needle is nowhere in the transcript
        }
    )
    checkability = {"u005": Checkability(False, "too vague to check: 1 content word (fewer than 3)")}
    return t, units, claims, verifier, align_cfg(tmp_path, **overrides), checkability


def test_align_summary_labels_units_and_claims(tmp_path):
    t, units, claims, verifier, cfg, checkability = scenario(tmp_path)
    result = align_summary(
        t, units, claims, verifier, cfg, encoder=CountingEncoder(), checkability=checkability
    )
    by_unit = {uv.unit_id: uv for uv in result.unit_verdicts}
    assert [uv.unit_id for uv in result.unit_verdicts] == ["u001", "u002", "u003", "u004", "u005"]
    assert [v.label for v in by_unit["u001"].claims] == ["supported", "partially_supported"]
    assert by_unit["u001"].label == "partially_supported"
    # claim-length weighted: 8 words at 0.93, 6 words at 0.4
    assert by_unit["u001"].score == pytest.approx((8 * 0.93 + 6 * 0.4) / 14)
    assert (
        by_unit["u002"].label == "contradicted"
        and by_unit["u002"].claims[0].features["contradiction"] == 0.85
    )
    assert by_unit["u003"].label == "unsupported" and by_unit["u003"].score == pytest.approx(0.02)
    assert (by_unit["u004"].label, by_unit["u004"].score, by_unit["u004"].reason) == (
        "not_checkable",
        None,
        "boilerplate: site call to action",
    )
    assert (by_unit["u005"].label, by_unit["u005"].reason) == (
        "not_checkable",
        "too vague to check: 1 content word (fewer than 3)",
    )
    # every checked unit says in one line why it got its verdict
    assert {u: by_unit[u].reason for u in ("u001", "u002", "u003")} == {
        "u001": "1 of 2 claims supported (≥ 0.5); best 0.93 at 1:20 (Ada), weakest 0.40",
        "u002": "the claim: contradiction 0.85 ≥ 0.5 by the passage at 4:00 (Host)",
        "u003": "no claim reaches the partial threshold 0.25; best 0.02 at 0:00 (Host)",
    }


def test_all_pairs_go_to_the_verifier_in_one_call(tmp_path):
    t, units, claims, verifier, cfg, checkability = scenario(tmp_path)
    result = align_summary(
        t, units, claims, verifier, cfg, encoder=CountingEncoder(), checkability=checkability
    )
    assert len(verifier.calls) == 1
    assert len(verifier.calls[0]) == len(claims) * 3
    assert {p.context for p in verifier.calls[0]} == {"Key Insights"}
    n_windows = len(result.windows)
    assert result.stats["verifier_calls"] == 1
    assert result.stats["verifier_pairs"] == 12
    assert result.stats["exhaustive_pairs"] == 4 * n_windows
    assert result.stats["claims"] == 4 and result.stats["windows"] == n_windows
    assert result.stats["claim_labels"] == {
        "contradicted": 1,
        "partially_supported": 1,
        "supported": 1,
        "unsupported": 1,
    }
    assert set(result.timings) == {"windows", "embed", "retrieve", "verify", "evidence"}


def test_best_window_wins_and_evidence_points_at_it(tmp_path):
    t, units, claims, verifier, cfg, checkability = scenario(tmp_path)
    result = align_summary(
        t, units, claims, verifier, cfg, encoder=CountingEncoder(), checkability=checkability
    )
    hessian = result.unit_verdicts[0].claims[0]
    assert hessian.score == pytest.approx(0.93)
    best = hessian.evidence[0]
    assert best.quote == "James Martens invented the Hessian-free optimizer in 2010."
    assert best.score == pytest.approx(0.93)
    assert (best.timestamp, best.url, best.speaker, best.chapter) == (
        "1:20",
        "https://youtu.be/xyz?t=80",
        "Ada",
        "Optimizers and GPUs",
    )
    assert best.start_s == pytest.approx(t.time_at(best.char_start))
    assert best.end_s == pytest.approx(t.time_at(best.char_end))
    assert 80.0 <= best.start_s < best.end_s <= 120.0
    assert best.is_sponsor is False
    assert hessian.features["window_index"] == float(
        result.windows.index(next(w for w in result.windows if "James Martens invented" in w.text))
    )
    # further evidence comes from other windows, in descending score, with disjoint quotes
    assert len(hessian.evidence) == 3
    scores = [e.score for e in hessian.evidence]
    assert scores == sorted(scores, reverse=True)
    spans = [(e.char_start, e.char_end) for e in hessian.evidence]
    assert all(a2 >= b1 or a1 >= b2 for i, (a1, b1) in enumerate(spans) for (a2, b2) in spans[i + 1 :])


def test_evidence_quotes_are_verbatim_transcript_spans(tmp_path):
    t, units, claims, verifier, cfg, checkability = scenario(tmp_path, evidence__quote_max_words=12)
    result = align_summary(
        t, units, claims, verifier, cfg, encoder=CountingEncoder(), checkability=checkability
    )
    evidence = [e for v in result.verdicts for e in v.evidence]
    assert len(evidence) >= 8
    for e in evidence:
        assert t.text[e.char_start : e.char_end] == e.quote
        assert 1 <= len(e.quote.split()) <= 12
        # cut at word boundaries
        assert (
            e.char_start == 0
            or t.text[e.char_start - 1].isspace()
            or t.text[e.char_start - 2 : e.char_start] == ":*"
        )
        assert e.char_end == len(t.text) or t.text[e.char_end].isspace()
        block = t.block_at(e.char_start)
        assert (e.timestamp, e.url) == (block.label, block.url)
        segment = next(s for s in t.segments if s.char_start <= e.char_start < s.char_end)
        assert e.speaker == segment.speaker
        assert e.chapter == t.chapters[segment.chapter_index].title


def test_long_sentence_quote_is_cut_to_the_matching_words(tmp_path):
    t, units, claims, verifier, cfg, checkability = scenario(tmp_path, evidence__quote_max_words=6)
    result = align_summary(
        t, units, claims, verifier, cfg, encoder=CountingEncoder(), checkability=checkability
    )
    cuda = result.unit_verdicts[0].claims[1]
    assert cuda.evidence[0].quote == "Alex Krizhevsky wrote extremely fast CUDA"


def test_sponsor_evidence_is_flagged(tmp_path):
    t = make_transcript()
    unit = make_unit(1, "Acme Bank lets you send money to friends.")
    claim = make_claim(unit, 0, unit.text)
    verifier = ScriptedVerifier({unit.text: ("Acme Bank lets you", 0.95, 0.0)})
    result = align_summary(t, [unit], [claim], verifier, align_cfg(tmp_path), encoder=CountingEncoder())
    best = result.verdicts[0].evidence[0]
    assert best.quote == "Acme Bank lets you send money to friends."
    assert best.is_sponsor is True
    assert result.stats["sponsor_windows"] == 1


def test_second_run_hits_the_cache_and_encodes_nothing(tmp_path):
    t, units, claims, verifier, cfg, checkability = scenario(tmp_path)
    first_encoder, second_encoder = CountingEncoder(), CountingEncoder()
    first = align_summary(t, units, claims, verifier, cfg, encoder=first_encoder, checkability=checkability)
    default_cache().clear()  # the second run in a new process: only the disk cache remains
    second = align_summary(t, units, claims, verifier, cfg, encoder=second_encoder, checkability=checkability)
    assert (first.stats["cache_hit"], first.stats["sentence_cache_hit"]) == (False, False)
    assert (second.stats["cache_hit"], second.stats["sentence_cache_hit"]) == (True, True)
    assert {c.text for c in claims} <= set(first_encoder.texts)  # the first run encoded the claims
    assert second_encoder.texts == []  # the claims' embeddings are on disk too
    assert first.unit_verdicts == second.unit_verdicts


def test_alignment_is_deterministic(tmp_path):
    t, units, claims, verifier, cfg, checkability = scenario(tmp_path)
    cfg["use_cache"] = False
    runs = []
    for _ in range(2):
        default_cache().clear()  # the same inputs in a fresh process
        runs.append(align_summary(t, units, claims, verifier, cfg, encoder=CountingEncoder(), checkability=checkability))
    assert runs[0].unit_verdicts == runs[1].unit_verdicts
    assert runs[0].windows == runs[1].windows
    assert {k: v for k, v in runs[0].stats.items()} == {k: v for k, v in runs[1].stats.items()}


def test_verifier_returning_too_few_scores_is_an_error(tmp_path):
    t, units, claims, _, cfg, _ = scenario(tmp_path)

    class Broken(ScriptedVerifier):
        def score(self, pairs):
            return super().score(pairs)[:-1]

    with pytest.raises(HarnessError, match="returned 11 scores for 12 pairs"):
        align_summary(t, units, claims, Broken({}), cfg, encoder=CountingEncoder())


def test_no_claims_means_no_verifier_call(tmp_path):
    t = make_transcript()
    unit = make_unit(1, "It was great.")
    verifier = ScriptedVerifier({})
    encoder = CountingEncoder()
    result = align_summary(t, [unit], [], verifier, align_cfg(tmp_path), encoder=encoder)
    assert verifier.calls == []
    assert [(uv.label, uv.reason) for uv in result.unit_verdicts] == [
        ("not_checkable", "no checkable claim in the unit")
    ]
    assert result.stats["verifier_calls"] == 0


def test_claims_of_unknown_units_are_rejected(tmp_path):
    t = make_transcript()
    unit = make_unit(1, HESSIAN)
    stray = replace(make_claim(unit, 0, HESSIAN), unit_id="u999", claim_id="u999.c1")
    with pytest.raises(ValueError, match="u999"):
        align_summary(
            t, [unit], [stray], ScriptedVerifier({}), align_cfg(tmp_path), encoder=CountingEncoder()
        )


@pytest.mark.slow
def test_minilm_picks_the_matching_sentence_as_the_quote(tmp_path):
    t = make_transcript()
    unit = make_unit(1, "Krizhevsky's GPU code let them train on ImageNet within a week.")
    claim = make_claim(unit, 0, unit.text)
    verifier = ScriptedVerifier({unit.text: ("CUDA kernels", 0.8, 0.0)})
    result = align_summary(t, [unit], [claim], verifier, align_cfg(tmp_path))
    best = result.verdicts[0].evidence[0]
    assert best.quote in (
        "Those kernels made it possible to train on ImageNet in about a week.",
        "Alex Krizhevsky wrote extremely fast CUDA kernels for convolutional networks. "
        "Those kernels made it possible to train on ImageNet in about a week.",
    )
    assert t.text[best.char_start : best.char_end] == best.quote
    assert result.stats["encoder_truncated_windows"] == 0


# ----------------------------------------------------------------------------------------------
# The reference transcript
# ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_reference_hessian_free_claim_retrieves_the_alexnet_chapter(tmp_path, reference_transcript):
    t = reference_transcript
    from harness.models import sentence_encoder

    cfg = AlignConfig.from_mapping(OmegaConf.to_container(OmegaConf.load(ALIGN_YAML)))
    w = cfg.window
    windows = build_windows(t, w.size_turns, w.stride_turns, w.max_words)
    assert max(len(x.text.split()) for x in windows) <= w.max_words
    encoder = sentence_encoder()
    matrix = embed_windows(windows, encoder=encoder, cache_dir=tmp_path, config_key=cfg.window_key()).matrix
    index = WindowIndex(windows, matrix, cfg.retrieval)
    query = "James Martens invented the Hessian-free optimizer in 2010"
    hits = index.search([query], encoder.encode([query], normalize_embeddings=True), cfg.retrieval.top_k)[0]
    top = windows[hits[0].window_index]
    assert t.chapters[top.chapter_index].title == "AlexNet Paper and the ImageNet Moment"
    assert 143 - 60 <= top.start_s <= 210 + 60
    assert "James Martens invented the Hessian-free optimizer in 2010" in top.text
    assert not top.is_sponsor
    # The tldr_qa key insight taken from the sponsor read retrieves the sponsor read.
    query = "cryptocurrencies like Bitcoin could redefine the nature of money"
    hits = index.search([query], encoder.encode([query], normalize_embeddings=True), cfg.retrieval.top_k)[0]
    assert windows[hits[0].window_index].is_sponsor is True
    assert windows[hits[0].window_index].chapter_index == 0


def test_quotes_stay_verbatim_when_the_reader_removed_markup(tmp_path):
    # The segment text has emphasis removed; quotes are still cut from Transcript.text.
    raw = "## Talk\n\n[0:00](https://youtu.be/xyz?t=0)\n**Ada:** I *really* think the meaning of life is to help people.\n"
    start = raw.index("I *really*")
    end = raw.index("people.") + len("people.")
    seg = Segment(
        index=0,
        speaker="Ada",
        text="I really think the meaning of life is to help people.",
        start_s=0.0,
        end_s=10.0,
        timestamp="0:00",
        chapter_index=0,
        line_no=4,
        char_start=start,
        char_end=end,
    )
    t = Transcript(
        path="m.md",
        sha256="1" * 64,
        text=raw,
        format="markdown_blog",
        title=None,
        video_url=None,
        chapters=(Chapter(0, "Talk", 0.0, 10.0, 1, 0, len(raw)),),
        blocks=(
            TimestampBlock(
                0, 0.0, None, "0:00", "https://youtu.be/xyz?t=0", 0, 3, raw.index("[0:00]"), len(raw)
            ),
        ),
        segments=(seg,),
    )
    (window,) = build_windows(t, 1, 1, 50)
    assert (window.char_start, window.char_end) == (start, end)
    unit = make_unit(1, "The meaning of life is to help people.")
    verifier = ScriptedVerifier({unit.text: ("meaning of life", 0.9, 0.0)})
    result = align_summary(
        t, [unit], [make_claim(unit, 0, unit.text)], verifier, align_cfg(tmp_path), encoder=CountingEncoder()
    )
    (evidence,) = result.verdicts[0].evidence
    assert evidence.quote == "I *really* think the meaning of life is to help people."
    assert raw[evidence.char_start : evidence.char_end] == evidence.quote


def test_verdict_reason_names_score_place_and_threshold():
    from harness.align import aggregate_unit, verdict_reason
    from harness.types import Evidence

    th = Thresholds(supported=0.6, partial=0.35, contradicted=0.5)

    def v(i: int, score: float, label: str, **ev_kw) -> Verdict:
        claim = Claim(f"u001.c{i}", "u001", i, "Deep learning works well.", 0, 25)
        ev = Evidence(**{"start_s": 723.0, "end_s": 730.0, "timestamp": "12:03", "url": None, "speaker": "Ilya Sutskever",
                         "chapter": "Deep learning", "quote": "it works", "score": score, "is_sponsor": False,
                         "char_start": 10, "char_end": 18, **ev_kw})
        return Verdict(claim, label, score, (ev,))

    one = aggregate_unit("u001", [v(0, 0.81, "supported")])
    assert verdict_reason(one, th) == "best evidence 0.81 at 12:03 (Ilya Sutskever) ≥ supported threshold 0.6"
    low = aggregate_unit("u001", [v(0, 0.21, "unsupported"), v(1, 0.1, "unsupported")])
    assert verdict_reason(low, th) == "no claim reaches the partial threshold 0.35; best 0.21 at 12:03 (Ilya Sutskever)"
    # a transcript without times: the passage is placed by its chapter
    # a score that rounds onto a threshold it did not reach gets a third decimal
    edge = aggregate_unit("u001", [v(0, 0.3496, "unsupported")])
    assert verdict_reason(edge, th) == "no claim reaches the partial threshold 0.35; best 0.3496 at 12:03 (Ilya Sutskever)"
    untimed = aggregate_unit("u001", [v(0, 0.4, "partially_supported", start_s=None, end_s=None, timestamp=None, speaker=None)])
    assert verdict_reason(untimed, th) == 'best evidence 0.40 in "Deep learning": ≥ partial threshold 0.35, < supported 0.6'
