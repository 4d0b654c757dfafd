"""The conversation benchmark's loader (harness/benchmarks/conversation.py) and its fixed split."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from harness.benchmarks.conversation import (
    CLAIM_KINDS,
    ERROR_KINDS,
    check_sources,
    load_benchmark,
    resolve_data_path,
    shared_dir,
    summary_pages,
)
from harness.errors import InputFileError

PROJECT = Path(__file__).resolve().parents[1]
PAGE = "# Title\n\n- Ada says depth beats width. She trains nets.\n- Buy our mattress.\n"


def sha(text: str, algo: str = "sha256") -> str:
    return hashlib.new(algo, text.encode("utf-8")).hexdigest()


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def fake(tmp_path):
    """A tiny benchmark: two episodes (dev, test), one page, one project: transcript."""
    shared = tmp_path / "shared"
    project = tmp_path / "project"
    (shared / "eps").mkdir(parents=True)
    (project / "refs").mkdir(parents=True)
    (shared / "eps" / "page.md").write_text(PAGE, encoding="utf-8")
    (shared / "eps" / "t.vtt").write_text("WEBVTT\n", encoding="utf-8")
    (project / "refs" / "t.md").write_text("x\n", encoding="utf-8")
    root = tmp_path / "bench"
    root.mkdir()
    write_jsonl(
        root / "episodes.jsonl",
        [
            {"episode_id": "ep-a", "split": "dev", "transcript": "eps/t.vtt", "transcript_format": "webvtt",
             "transcript_sha256": sha("WEBVTT\n"), "has_speakers": False},
            {"episode_id": "ep-b", "split": "test", "transcript": "project:refs/t.md",
             "transcript_format": "markdown_blog", "transcript_sha256": sha("x\n"), "has_speakers": True},
        ],
    )
    line = PAGE.split("\n")[2]
    span = line.index("Ada"), line.index("She") - 1
    unit = {
        "episode_id": "ep-a", "split": "dev", "summary": "eps/page.md", "summary_format": "markdown",
        "summary_sha256": sha(PAGE), "unit_index": 0, "line": 3, "char_start": span[0], "char_end": span[1],
        "text_sha1": sha(line[span[0]:span[1]], "sha1"), "role": "content", "label": "supported",
        "error_kind": None, "moments": [{"start_s": 10.0, "end_s": 20.0}], "reason": "she says so",
    }
    write_jsonl(root / "units_ep-a.jsonl", [unit])
    claims = [
        {"claim_id": "ep-a.c001", "episode_id": "ep-a", "split": "dev", "text": "Ada prefers depth.",
         "kind": "faithful_paraphrase", "label": "supported", "source_claim_id": None, "cited_time_s": None,
         "speaker": "guest", "moments": [{"start_s": 10.0, "end_s": 20.0}], "reason": "r"},
        {"claim_id": "ep-b.c001", "episode_id": "ep-b", "split": "test", "text": "Ada prefers width.",
         "kind": "entity_swap", "label": "contradicted", "source_claim_id": None, "cited_time_s": None,
         "speaker": None, "moments": [], "reason": "r"},
    ]
    write_jsonl(root / "claims_ep-a.jsonl", claims[:1])
    write_jsonl(root / "claims_ep-b.jsonl", claims[1:])
    return root, shared, project, unit, claims


def load(fake_tuple, **kw):
    root, shared, project, *_ = fake_tuple
    return load_benchmark(root, shared=shared, project=project, **kw)


def test_loads_units_with_text_and_claims(fake):
    bench = load(fake)
    assert [e.episode_id for e in bench.episodes] == ["ep-a", "ep-b"]
    (u,) = bench.units
    assert u.text == "Ada says depth beats width."
    assert u.is_problem is False and u.moments[0].start_s == 10.0
    assert [c.claim_id for c in bench.claims] == ["ep-a.c001", "ep-b.c001"]
    assert bench.claims[1].is_problem
    assert [f["path"] for f in bench.files] == ["episodes.jsonl", "units_ep-a.jsonl", "claims_ep-a.jsonl", "claims_ep-b.jsonl"]
    assert all(len(f["sha256"]) == 64 for f in bench.files)
    assert summary_pages(bench.units) == {("ep-a", "eps/page.md"): [u]}


def test_split_keeps_episodes_apart(fake):
    bench = load(fake)
    assert [c.claim_id for c in bench.dev.claims] == ["ep-a.c001"] and len(bench.dev.units) == 1
    assert [c.claim_id for c in bench.test.claims] == ["ep-b.c001"] and bench.test.units == ()
    with pytest.raises(ValueError, match="unknown split"):
        bench.split("val")


def test_paths_resolve_shared_and_project(fake):
    root, shared, project, *_ = fake
    bench = load(fake)
    assert bench.episode("ep-a").transcript_path == shared / "eps" / "t.vtt"
    assert bench.episode("ep-b").transcript_path == project / "refs" / "t.md"
    assert check_sources(bench) == []
    (shared / "eps" / "t.vtt").write_text("WEBVTT\n\nchanged\n", encoding="utf-8")
    (problem,) = check_sources(bench)
    assert problem.startswith("ep-a: transcript eps/t.vtt has sha256")
    with pytest.raises(ValueError, match="without '..'"):
        resolve_data_path("../secret.md", shared=shared)
    with pytest.raises(ValueError):
        resolve_data_path("/etc/passwd", shared=shared)


def test_span_mismatch_is_a_clear_error(fake):
    root, shared, project, unit, _ = fake
    write_jsonl(root / "units_ep-a.jsonl", [{**unit, "char_end": unit["char_end"] - 1}])
    with pytest.raises(InputFileError, match=r"units_ep-a.jsonl: line 1: text of eps/page.md line 3 \[2:28\] has sha1"):
        load(fake)
    # without the shared pages the text check can be skipped
    assert load(fake, check_text=False).units[0].text == ""


def test_changed_page_is_a_clear_error(fake):
    root, shared, *_ = fake
    (shared / "eps" / "page.md").write_text(PAGE + "more\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="the page changed"):
        load(fake)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"split": "test"}, "split 'test' disagrees with episodes.jsonl"),
        ({"episode_id": "ep-z"}, "episode 'ep-z' is not in episodes.jsonl"),
        ({"label": "fine"}, "unknown label 'fine'"),
        ({"line": 99}, "line 99 is outside eps/page.md"),
        ({"char_start": 50, "char_end": 400}, "span 50:400 is outside line 3"),
        ({"moments": [{"start_s": 5.0}]}, "numeric start_s and end_s"),
    ],
)
def test_unit_errors(fake, change, message):
    root, _, _, unit, _ = fake
    write_jsonl(root / "units_ep-a.jsonl", [{**unit, **change}])
    with pytest.raises(InputFileError, match=message):
        load(fake)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"split": "test"}, "disagrees with episodes.jsonl"),
        ({"kind": "made_up"}, "unknown kind 'made_up'"),
        ({"label": "contradicted"}, "does not go with label"),
        ({"kind": "wrong_citation", "label": "unsupported"}, "needs cited_time_s"),
        ({"text": ""}, "field 'text' is empty"),
    ],
)
def test_claim_errors(fake, change, message):
    root, _, _, _, claims = fake
    write_jsonl(root / "claims_ep-a.jsonl", [{**claims[0], **change}])
    with pytest.raises(InputFileError, match=message):
        load(fake)


def test_repeated_claim_id_across_files(fake):
    root, _, _, _, claims = fake
    write_jsonl(root / "claims_ep-b.jsonl", [{**claims[1], "claim_id": "ep-a.c001"}])
    with pytest.raises(InputFileError, match="also appears in another claims file"):
        load(fake)


def test_missing_episodes_file(tmp_path):
    with pytest.raises(InputFileError, match="episodes.jsonl"):
        load_benchmark(tmp_path)


# ---- the committed benchmark ------------------------------------------------------------------

FIXED_SPLIT = {
    "dev": {"lex-fridman-94", "lex-fridman-10", "lex-fridman-40", "lex-fridman-90", "lex-fridman-120",
            "lex-fridman-180", "lex-fridman-280"},
    "test": {"lex-fridman-416", "lex-fridman-60", "lex-fridman-105", "lex-fridman-140", "lex-fridman-240",
             "lex-fridman-300", "lex-fridman-320"},
}


def test_committed_split_is_the_fixed_one():
    bench = load_benchmark(check_text=False)
    got = {s: {e.episode_id for e in bench.episodes if e.split == s} for s in ("dev", "test")}
    assert got == FIXED_SPLIT
    # every unit and claim sits in its episode's split (the loader enforces it; pinned here)
    for rec in (*bench.units, *bench.claims):
        assert rec.split == bench.episode(rec.episode_id).split
    assert set(ERROR_KINDS) < set(CLAIM_KINDS)


@pytest.mark.skipif(not (shared_dir() / "episodes").is_dir(), reason="needs the shared data folder (../shared)")
def test_committed_benchmark_against_shared_files():
    bench = load_benchmark()  # re-extracts every unit and checks its sha1
    assert check_sources(bench) == []
    assert all(u.text for u in bench.units)


# ---- the #94 reference pages (bundled in references/, so checked without the shared folder) ----

REFERENCE_UNITS = {  # page: (units, labels), hand-labelled blind from the transcript (README provenance)
    "summify": (92, {"not_checkable": 29, "background": 6, "supported": 50, "partially_supported": 7}),
    "tldr_qa": (77, {"not_checkable": 39, "supported": 27, "partially_supported": 9, "contradicted": 1, "ad": 1}),
    "wiki": (35, {"not_checkable": 13, "background": 2, "supported": 19, "partially_supported": 1}),
}


def test_reference_pages_labelled_whole_and_matched_to_pipeline_units():
    from collections import Counter

    from harness.benchmarks.conversation import load_episodes, load_units
    from harness.benchmarks.conversation_eval import match_units
    from harness.formats import FormatOptions, load_summary

    root = PROJECT / "benchmarks" / "conversation"
    episodes = {e.episode_id: e for e in load_episodes(root / "episodes.jsonl")}
    # check_text: every span re-extracted from the bundled page and its sha1 compared
    units_94 = load_units(root / "units_lex-fridman-94.jsonl", episodes, check_text=True)
    pages = summary_pages(units_94)
    assert sorted(p for _, p in pages) == [f"project:references/lex-fridman-94/summaries/{n}.md" for n in REFERENCE_UNITS]
    for name, (n_units, labels) in REFERENCE_UNITS.items():
        rel = f"references/lex-fridman-94/summaries/{name}.md"
        units = pages[("lex-fridman-94", f"project:{rel}")]
        assert (len(units), dict(Counter(u.label for u in units))) == (n_units, labels), name
        assert [u.unit_index for u in units] == list(range(n_units))
        lines = (PROJECT / rel).read_text(encoding="utf-8").split("\n")
        # every non-empty line of the page is labelled
        assert {u.line for u in units} == {i for i, ln in enumerate(lines, 1) if ln.strip()}
        # the units are the harness's own: each checkable unit falls on its own pipeline content unit
        summary = load_summary(str(PROJECT / rel), name, FormatOptions(split="sentence"))
        matched = match_units(units, summary, lines)
        checkable = [u for u in units if u.label != "not_checkable"]
        assert all(matched[u.unit_index] for u in checkable), name
        assert len({matched[u.unit_index] for u in checkable}) == len(checkable)
        by_id = {su.unit_id: su for su in summary.units}
        assert not any(by_id[matched[u.unit_index]].boilerplate for u in checkable)
        # a problem unit names the moment that decides it; a clear-cut one its error kind
        for u in units:
            if u.is_problem:
                assert u.moments and u.reason, (name, u.unit_index)
            if u.label in ("contradicted", "ad"):
                assert u.error_kind is not None, (name, u.unit_index)
