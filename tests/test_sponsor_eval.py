"""Sponsor detection, measured: the scorer's arithmetic, the annotation file, and the committed
figures (``results/sponsors/sponsor_eval.json``) reproduced from the shared corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT, SHARED, compose
from harness.errors import InputFileError
from harness.sponsor_eval import (
    DEFAULT_SPANS,
    AnnotatedRead,
    DetectedSegment,
    EpisodeAnnotation,
    build_report,
    covered_share,
    evaluate,
    load_annotations,
    load_sponsor_config,
    main,
    merge_spans,
    render_markdown,
    score_episode,
    totals,
)
from harness.textio import sha256_file

CORPUS = SHARED / "episodes" / "lexicap-corpus"
RESULTS = ROOT / "results" / "sponsors" / "sponsor_eval.json"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not present at {CORPUS}")


def episode(reads=(), promo=(), split="dev", eid="ep-1") -> EpisodeAnnotation:
    return EpisodeAnnotation(eid, "t.vtt", "0" * 64, split, tuple(reads), tuple(promo))


# ----------------------------------------------------------------------------------------------
# Interval arithmetic and scores (invented spans, golden values)
# ----------------------------------------------------------------------------------------------


def test_merge_spans_sorts_joins_and_drops_empty() -> None:
    assert merge_spans([(5, 10), (0, 3), (8, 12), (20, 20), (30, 25)]) == [(0, 3), (5, 12)]
    assert merge_spans([(0, 3), (3, 4)]) == [(0, 4)]
    assert merge_spans([]) == []


def test_covered_share() -> None:
    assert covered_share((10, 20), [(0, 12), (18, 30)]) == pytest.approx(0.4)
    assert covered_share((10, 20), [(12, 15), (13, 16)]) == pytest.approx(0.4)  # overlap counted once
    assert covered_share((5, 5), [(0, 10)]) == 1.0  # zero-length span inside
    assert covered_share((15, 15), [(0, 10)]) == 0.0


def test_score_episode_golden() -> None:
    reads = [AnnotatedRead(10, 20, "Acme", "intro", "read"), AnnotatedRead(100, 110, "Acme, Zorb", "outro", "list")]
    score = score_episode(episode(reads, promo=[(20, 30)]), [(12, 28), (200, 210)])
    assert (score.annotated_s, score.detected_s, score.overlap_s) == (20.0, 26.0, 8.0)
    assert score.overlap_with_promo_s == 16.0
    assert (score.reads, score.reads_found, score.segments) == (2, 1, 2)
    # (12, 28) lies exactly 50% inside a read: not a false alarm; (200, 210) is one.
    assert score.false_alarms == 1 and score.false_alarm_spans == ((200.0, 210.0),)
    assert score.false_alarms_with_promo == 1
    assert score.missed == ((100, 110, "outro"),)
    assert score.read_results == (("intro", "read", True), ("outro", "list", False))

    t = totals([score])
    assert t.precision_s == pytest.approx(round(8 / 26, 4))
    assert t.recall_s == 0.4
    assert t.read_recall == 0.5
    assert t.read_part_precision == 0.5
    assert t.precision_with_promo_s == pytest.approx(round(16 / 26, 4))
    assert t.read_recall_by == {"kind:list": (0, 1), "kind:read": (1, 1), "position:intro": (1, 1), "position:outro": (0, 1)}


def test_reads_are_scored_on_read_parts_and_self_promotion_apart() -> None:
    # one segment 10-40 s: read 10-20, attached self-promotion 20-30, read 30-40; annotated:
    # reads 10-20 and 30-38, self-promotion 20-28 and 50-60 (the latter never detected)
    reads = [AnnotatedRead(10, 20, "Acme", "intro"), AnnotatedRead(30, 38, "Zorb", "intro")]
    segment = DetectedSegment(10, 40, ((10, 20), (30, 40)), ((20, 30),))
    score = score_episode(episode(reads, promo=[(20, 28), (50, 60)]), [segment])
    assert (score.annotated_s, score.detected_s, score.overlap_s) == (18.0, 20.0, 18.0)
    assert (score.read_parts, score.false_alarms, score.reads_found) == (2, 0, 2)
    assert (score.promo_annotated_s, score.promo_detected_s, score.promo_overlap_s) == (18.0, 10.0, 8.0)
    # the whole segment against reads and self-promotion together: 26 of its 30 s
    assert (score.segments, score.segment_s, score.overlap_with_promo_s, score.false_alarms_with_promo) == (1, 30.0, 26.0, 0)
    assert score.detected == ((10.0, 20.0), (30.0, 40.0)) and score.detected_promo == ((20.0, 30.0),)
    t = totals([score])
    assert (t.precision_s, t.recall_s) == (0.9, 1.0)
    assert (t.promo_precision_s, t.promo_recall_s) == (0.8, round(8 / 18, 4))
    assert t.precision_with_promo_s == round(26 / 30, 4)
    # a plain (start_s, end_s) is a segment that is all read
    plain = score_episode(episode(reads, promo=[(20, 28), (50, 60)]), [(10, 40)])
    assert (plain.detected_s, plain.overlap_s, plain.promo_detected_s, plain.segment_s) == (30.0, 18.0, 0.0, 30.0)


def test_a_read_part_of_self_promotion_only_is_a_false_alarm_but_not_with_promo_allowed() -> None:
    reads = [AnnotatedRead(0, 10, "Acme", "intro")]
    score = score_episode(episode(reads, promo=[(50, 60)]), [(0, 10), (50, 60)])
    assert (score.false_alarms, score.false_alarms_with_promo) == (1, 0)
    assert score.false_alarm_spans == ((50.0, 60.0),)


def test_read_found_at_exactly_half_and_missed_just_below() -> None:
    read = [AnnotatedRead(0, 10, "Acme", "intro")]
    assert score_episode(episode(read), [(5, 40)]).reads_found == 1
    assert score_episode(episode(read), [(5.01, 40)]).reads_found == 0


def test_split_detections_cover_a_read_together() -> None:
    read = [AnnotatedRead(0, 10, "Acme", "midroll")]
    score = score_episode(episode(read), [(0, 3), (7, 10)])
    assert score.reads_found == 1 and score.false_alarms == 0 and score.overlap_s == 6.0


def test_totals_sum_seconds_not_episode_means() -> None:
    a = score_episode(episode([AnnotatedRead(0, 100, "A", "intro")]), [(0, 100)])
    b = score_episode(episode([AnnotatedRead(0, 10, "B", "intro")], eid="ep-2"), [(0, 10), (50, 60)])
    t = totals([a, b])
    assert t.precision_s == pytest.approx(round(110 / 120, 4))  # not the mean of 1.0 and 0.5
    assert t.recall_s == 1.0


def test_totals_with_nothing_to_divide_by_are_none() -> None:
    t = totals([score_episode(episode(), [])])
    assert (t.precision_s, t.recall_s, t.read_recall, t.read_part_precision) == (None, None, None, None)
    t = totals([score_episode(episode(), [(0, 5)])])
    assert t.precision_s == 0.0 and t.false_alarms == 1 and t.recall_s is None


def test_report_and_markdown_carry_signature_and_splits() -> None:
    scores = [
        score_episode(episode([AnnotatedRead(0, 10, "A", "intro")]), [(0, 10)]),
        score_episode(episode(split="heldout", eid="ep-2"), [(3, 4)]),
        score_episode(episode([AnnotatedRead(0, 10, "A", "outro")], split="test", eid="ep-3"), [(0, 4)]),
        score_episode(episode([AnnotatedRead(0, 8, "A", "intro")], split="test2", eid="ep-4"), [(2, 8), (20, 30)]),
    ]
    report = build_report(scores, "a" * 64, "b" * 64)
    assert list(report["totals"]) == ["all", "dev", "heldout", "test", "test2"]
    assert report["totals"]["dev"]["precision_s"] == 1.0
    assert report["totals"]["heldout"]["false_alarms"] == 1
    assert (report["totals"]["test"]["recall_s"], report["totals"]["test"]["reads_found"]) == (0.4, 0)
    t2 = report["totals"]["test2"]
    assert (t2["episodes"], t2["reads_found"], t2["false_alarms"], t2["recall_s"], t2["precision_s"]) == (1, 1, 1, 0.75, 0.375)
    assert report["totals"]["all"]["episodes"] == 4
    assert report["signature"]["string"].startswith("sponsor-eval|spans:aaaaaaaaaaaa|sponsors-config:bbbbbbbbbbbb|")
    md = render_markdown(report)
    assert "| all (4) |" in md and "| heldout (1) |" in md and "| test (1) |" in md and "| test2 (1) |" in md
    assert "0:00:03–0:00:04" in md and "| ep-4 | test2 |" in md


# ----------------------------------------------------------------------------------------------
# The annotation file
# ----------------------------------------------------------------------------------------------

GOOD = {
    "episode_id": "ep-1",
    "split": "dev",
    "transcript": "t.vtt",
    "transcript_sha256": "0" * 64,
    "reads": [
        {"start_s": 1.0, "end_s": 5.0, "brand": "Acme", "position": "intro", "kind": "read"},
        {"start_s": 9.0, "end_s": 12.5, "brand": "Acme, Zorb", "position": "outro", "kind": "list"},
    ],
    "self_promo": [{"start_s": 5.0, "end_s": 9.0}],
    "annotator_note": "",
}


def write(tmp_path: Path, *rows: object) -> Path:
    path = tmp_path / "spans.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def test_loader_reads_a_valid_file(tmp_path: Path) -> None:
    (row,) = load_annotations(write(tmp_path, GOOD))
    assert row.reads[1] == AnnotatedRead(9.0, 12.5, "Acme, Zorb", "outro", "list")
    assert row.self_promo == ((5.0, 9.0),)


def bad(**changes: object) -> dict:
    row = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        if key.startswith("read0_"):
            row["reads"][0][key[6:]] = value
        else:
            row[key] = value
    return row


@pytest.mark.parametrize(
    "row, message",
    [
        ("{not json", "line 1: not valid JSON"),
        ({k: v for k, v in GOOD.items() if k != "split"}, "missing ['split']"),
        (bad(extra=1), "unknown ['extra']"),
        (bad(split="train"), "split must be one of dev, heldout, test, test2, got 'train'"),
        (bad(transcript_sha256="ABC"), "64 lower-case hex"),
        (bad(read0_position="preroll"), "position must be one of intro, midroll, outro"),
        (bad(read0_kind="ad"), "kind must be one of read, list"),
        (bad(read0_end_s=1.0), "end_s (1.0) must be after start_s (1.0)"),
        (bad(read0_start_s=-1), "must be a non-negative number"),
        (bad(read0_start_s="1"), "must be a non-negative number"),
        (bad(read0_end_s=10.0), "reads must be sorted and must not overlap"),
        (bad(read0_start_s=20.0, read0_end_s=30.0), "reads must be sorted and must not overlap"),
        (bad(self_promo=[{"start_s": 4.0, "end_s": 6.0}]), "overlaps a read"),
        (bad(self_promo=[{"start_s": 6.0, "end_s": 8.0}, {"start_s": 5.0, "end_s": 6.0}]), "spans must be sorted"),
        (bad(reads="none"), "reads must be a list"),
    ],
)
def test_loader_rejects_bad_rows(tmp_path: Path, row: object, message: str) -> None:
    with pytest.raises(InputFileError) as exc:
        load_annotations(write(tmp_path, row))
    assert message in str(exc.value) and "spans.jsonl" in str(exc.value)


def test_loader_rejects_a_repeated_episode_and_an_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="line 2: episode ep-1 is annotated twice"):
        load_annotations(write(tmp_path, GOOD, GOOD))
    with pytest.raises(InputFileError, match="no episodes"):
        load_annotations(write(tmp_path))


def test_loader_checks_transcripts_when_given_the_shared_folder(tmp_path: Path) -> None:
    spans = write(tmp_path, GOOD)
    with pytest.raises(InputFileError, match="transcript .*t.vtt not found"):
        load_annotations(spans, shared=tmp_path)
    (tmp_path / "t.vtt").write_text("WEBVTT\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="does not match transcript_sha256"):
        load_annotations(spans, shared=tmp_path)


def test_cli_bad_file_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spans = write(tmp_path, bad(split="train"))
    assert main(["--spans", str(spans), "--shared", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("harness: error: ") and "split must be one of" in err and "\n" not in err
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------------------------
# The committed data file and figures
# ----------------------------------------------------------------------------------------------


def test_committed_file_is_valid_and_spread_over_the_years() -> None:
    rows = load_annotations(DEFAULT_SPANS)
    numbers = {int(r.episode_id.rsplit("-", 1)[1]): r for r in rows}
    assert len(rows) >= 30
    assert {r.split for r in rows} == {"dev", "heldout", "test", "test2"}
    assert len([n for n, r in numbers.items() if n < 50 and not r.reads]) >= 3  # early negatives
    assert min(n for n, r in numbers.items() if r.reads) < 100 and max(numbers) >= 300
    assert sum(len(r.reads) for r in rows) >= 50
    for r in rows:
        assert r.transcript.startswith("episodes/lexicap-corpus/transcripts/")


#: The blind test split (issue #20): 22 episodes spread evenly over the corpus episodes that the
#: dev/heldout halves leave out, annotated from the WebVTT files alone before anyone ran the
#: detector on them (benchmarks/sponsors/README.md, Provenance).
TEST_EPISODES = (1, 59, 61, 69, 78, 88, 98, 109, 119, 128, 140, 151, 161, 170, 181, 191, 202, 211, 213, 244, 292, 324)


def test_committed_file_has_the_blind_test_split_after_the_tuning_halves() -> None:
    rows = load_annotations(DEFAULT_SPANS)
    assert len(rows) == 74
    test = [r for r in rows if r.split == "test"]
    # appended after the 34 dev/heldout rows, in episode-number order, none of them annotated twice
    assert [r.episode_id for r in test] == [f"lex-fridman-{n}" for n in TEST_EPISODES]
    assert rows[34:56] == tuple(test)
    assert [r.split for r in rows[:34]] == ["dev", "heldout"] * 17
    # golden counts of what was annotated (README, Episodes)
    assert sum(len(r.reads) for r in test) == 41
    assert sum(len(r.self_promo) for r in test) == 31
    kinds = sorted((read.position, read.kind) for r in test for read in r.reads)
    assert kinds.count(("intro", "read")) == 12 and kinds.count(("intro", "list")) == 12
    assert kinds.count(("outro", "read")) == 5 and kinds.count(("outro", "list")) == 11
    # #324's mid-roll plug (an affiliate address and product claims) was added after the test
    # scoring, by the guide's rule for plugs (README, Sponsor detection, measured)
    assert kinds.count(("midroll", "read")) == 1
    assert [int(r.episode_id.rsplit("-", 1)[1]) for r in test if not r.reads] == [1, 213, 244, 292]
    assert all(r.annotator_note for r in test)
    for r in test:
        assert r.transcript.startswith("episodes/lexicap-corpus/transcripts/")
        # the transcript path and sha are the corpus manifest's (the manifest path is relative to the corpus)
        number = int(r.episode_id.rsplit("-", 1)[1])
        assert r.transcript.rsplit("/", 1)[1].startswith(f"{number}-")


#: The second blind test split (issue #20): 18 episodes fixed by the lead, spread over the corpus
#: episodes not annotated before and weighted to the years with sponsors, annotated from the WebVTT
#: files alone after ``test`` had become tuning data (benchmarks/sponsors/README.md, Provenance).
TEST2_EPISODES = (19, 48, 77, 95, 111, 127, 147, 163, 180, 197, 215, 228, 241, 255, 278, 296, 309, 322)


def test_committed_file_has_the_second_blind_test_split_last() -> None:
    rows = load_annotations(DEFAULT_SPANS)
    test2 = [r for r in rows if r.split == "test2"]
    # appended after the 56 earlier rows, in episode-number order, none annotated twice
    assert [r.episode_id for r in test2] == [f"lex-fridman-{n}" for n in TEST2_EPISODES]
    assert rows[56:] == tuple(test2)
    assert not set(TEST2_EPISODES) & {int(r.episode_id.rsplit("-", 1)[1]) for r in rows[:56]}
    # golden counts of what was annotated (README, Episodes)
    assert sum(len(r.reads) for r in test2) == 17
    assert sum(len(r.self_promo) for r in test2) == 29
    kinds = sorted((read.position, read.kind) for r in test2 for read in r.reads)
    assert kinds.count(("intro", "read")) == 4 and kinds.count(("intro", "list")) == 5
    assert kinds.count(("outro", "read")) == 2 and kinds.count(("outro", "list")) == 6
    assert not [k for k in kinds if k[0] == "midroll"]
    assert [int(r.episode_id.rsplit("-", 1)[1]) for r in test2 if not r.reads] == [19, 48, 215, 228, 241, 255, 278, 296, 309, 322]
    # every read episode of the sponsor era has its outro; #197's intro falls in a gap of its captions
    assert [int(r.episode_id.rsplit("-", 1)[1]) for r in test2 if r.reads and r.reads[0].position != "intro"] == [197]
    assert all(r.annotator_note for r in test2)
    for r in test2:
        number = int(r.episode_id.rsplit("-", 1)[1])
        assert r.transcript.startswith(f"episodes/lexicap-corpus/transcripts/{number}-")


@pytest.mark.shared
@needs_corpus
@pytest.mark.parametrize("split, count", [("test", 22), ("test2", 18)])
def test_test_split_transcripts_are_the_annotated_files(split: str, count: int) -> None:
    manifest = {json.loads(line)["episode_id"]: json.loads(line) for line in (CORPUS / "manifest.jsonl").open()}
    rows = [r for r in load_annotations(DEFAULT_SPANS) if r.split == split]
    assert len(rows) == count
    for r in rows:
        entry = manifest[r.episode_id]
        assert r.transcript == f"episodes/lexicap-corpus/{entry['transcript']}"
        assert sha256_file(SHARED / r.transcript) == r.transcript_sha256 == entry["transcript_sha256"], r.episode_id


def test_sponsor_config_file_is_what_the_pipeline_composes() -> None:
    from omegaconf import OmegaConf

    assert load_sponsor_config() == OmegaConf.to_container(compose().sponsors, resolve=True)


@pytest.mark.shared
@needs_corpus
def test_committed_file_matches_the_shared_transcripts() -> None:
    rows = load_annotations(DEFAULT_SPANS, shared=SHARED)
    manifest = {json.loads(line)["episode_id"]: json.loads(line) for line in (CORPUS / "manifest.jsonl").open()}
    for r in rows:
        assert manifest[r.episode_id]["transcript_sha256"] == r.transcript_sha256


@pytest.mark.shared
@needs_corpus
def test_committed_figures_reproduce() -> None:
    committed = json.loads(RESULTS.read_text(encoding="utf-8"))
    signature = committed["signature"]
    assert signature["spans_sha256"] == sha256_file(DEFAULT_SPANS), "spans.jsonl changed: re-run python -m harness sponsor-eval"
    assert signature["sponsor_config_sha256"] == sha256_file(ROOT / "configs" / "sponsors" / "default.yaml"), (
        "configs/sponsors/default.yaml changed: re-run python -m harness sponsor-eval and commit the figures"
    )
    scores = evaluate(load_annotations(DEFAULT_SPANS, shared=SHARED), SHARED, load_sponsor_config())
    fresh = json.loads(json.dumps(build_report(scores, signature["spans_sha256"], signature["sponsor_config_sha256"])))
    assert fresh["totals"] == committed["totals"]
    assert fresh["episodes"] == committed["episodes"]


def test_committed_reads_only_figures_are_the_default_config_without_attached_self_promotion() -> None:
    # results/sponsors/reads_only/ is the same detector with self_promo.attach_adjacent off (the
    # README's sed command): the figures for reads alone, next to the default's promotional blocks
    import hashlib

    default = (ROOT / "configs" / "sponsors" / "default.yaml").read_text(encoding="utf-8")
    line = "\n  attach_adjacent: true\n"
    assert default.count(line) == 1
    variant = default.replace(line, "\n  attach_adjacent: false\n").encode("utf-8")
    committed = json.loads((RESULTS.parent / "reads_only" / "sponsor_eval.json").read_text(encoding="utf-8"))
    assert committed["signature"]["sponsor_config_sha256"] == hashlib.sha256(variant).hexdigest(), (
        "re-run the reads-only sponsor-eval command in the README"
    )
    assert committed["signature"]["spans_sha256"] == sha256_file(DEFAULT_SPANS)
