"""The ``markdown`` summary format: MDX, MkDocs, Docusaurus, Jekyll pages and their site chrome.

Fixtures are invented pages under tests/data/summaries/; the three #416 summaries from ../shared
are parsed when present (skipped with a reason otherwise).
"""

from __future__ import annotations

import pytest

from conftest import ROOT, SHARED, compose
from harness.cli import execute_run
from harness.errors import InputFileError
from harness.formats import FormatOptions, load_summary

DATA = ROOT / "tests" / "data" / "summaries"
SUMMARIES_416 = SHARED / "episodes" / "lex-fridman-416-yann-lecun" / "summaries"


def parse(name: str, **options):
    return load_summary(str(DATA / name), "markdown", FormatOptions(**options))


def roles(summary) -> dict[int, str]:
    return {r.line_no: r.role for r in summary.line_roles}


def units_on(summary, line_no: int):
    ids = next(r.unit_ids for r in summary.line_roles if r.line_no == line_no)
    return [u for u in summary.units if u.unit_id in ids]


def plain_units(summary) -> list[str]:
    return [u.text_plain for u in summary.content_units]


def test_every_non_empty_line_has_a_role():
    for name in ("docs_page.mdx", "blog_post.md"):
        s = parse(name)
        lines = (DATA / name).read_text(encoding="utf-8").splitlines()
        assert sorted(roles(s)) == [i for i, line in enumerate(lines, start=1) if line.strip()]


def test_mdx_page_content():
    s = parse("docs_page.mdx")
    assert s.title == "Lanterns at Sea: episode notes"  # front matter wins over the # heading
    assert plain_units(s) == [
        "The host talks with a lighthouse keeper about thirty years on a rock.",
        "She explains why the lamp was never allowed to go dark.",
        "The keeper trimmed the wick every four hours through the night.",  # inside <Callout>
        "The tower is forty metres tall.",
        "Ninety steps lead to the lamp.",
        "The last ten steps are a ladder.",  # nested bullet: its own unit
        "Ships counted the flashes to know which lighthouse they saw.",
        "Storms were worse in spring than in winter.",
        "Topic: Fog signals; Minute: 12",  # table rows pair cells with their columns
        "Topic: The last keeper; Minute: 40",
    ]
    assert all(u.kind == "sentence" for u in s.content_units)


def test_mdx_markup_lines():
    s = parse("docs_page.mdx")
    r = roles(s)
    # imports (one over four lines), the MDX comment, the HTML comment, component tags, a tag whose
    # attributes span lines, the Docusaurus closer, the math block
    for line_no in (5, 6, 7, 8, 9, 11, 13, 21, 23, 25, 26, 27, 28, 38, 52, 53, 54):
        assert r[line_no] == "markup", line_no
    assert r[15] == "heading" and r[43] == "heading"  # the # heading; the table header row


def test_admonitions_and_callouts_join_the_section_path():
    s = parse("docs_page.mdx")
    sections = {u.text_plain: u.section for u in s.content_units}
    assert sections["The tower is forty metres tall."] == "Lanterns at Sea > Key numbers"  # !!! note "Key numbers"
    assert sections["The last ten steps are a ladder."] == "Lanterns at Sea > Key numbers"
    assert sections["Ships counted the flashes to know which lighthouse they saw."] == "Lanterns at Sea > Why it matters"  # :::tip
    assert sections["Storms were worse in spring than in winter."] == "Lanterns at Sea > Keeper's view"  # > [!info]
    assert sections["Topic: Fog signals; Minute: 12"] == "Lanterns at Sea"  # the admonitions are closed
    assert roles(s)[30] == "heading" and roles(s)[36] == "heading"


def test_site_chrome_is_boilerplate_with_a_reason():
    s = parse("docs_page.mdx")
    chrome = {u.text_plain: u.boilerplate_reason for u in s.units if u.boilerplate}
    assert chrome == {
        "Home | Episodes | About": "navigation or link-only line",
        "Source: Maritime Archive": "attribution or link line",
        "Share this episode on social media!": "share or subscribe prompt",
        "Was this page helpful?": "site navigation",
        "© 2026 Lantern Notes. All rights reserved.": "copyright notice",
    }
    blog = parse("blog_post.md")
    assert blog.title == "Beetles of the old forest"
    assert {u.text_plain: u.boilerplate_reason for u in blog.units if u.boilerplate} == {
        "Posted on March 3 by the editors": "byline or metadata",
        "Previous post": "site navigation",
        "Next post": "site navigation",
        "Follow us on Mastodon for new episode notes.": "share or subscribe prompt",
    }
    assert plain_units(blog)[2:4] == ["Dry summers did most of the damage.", "Dead wood dried out and fewer larvae survived."]


def test_prose_that_mentions_chrome_words_stays_content(tmp_path):
    page = tmp_path / "p.md"
    page.write_text(
        "# Notes\n\nNext, the guest explains why copyright law matters for training data.\n\n"
        "Previously he worked at a newspaper.\n",
        encoding="utf-8",
    )
    s = load_summary(str(page), "markdown", FormatOptions())
    assert not any(u.boilerplate for u in s.units) and len(s.units) == 2


def test_configured_patterns_and_line_split(tmp_path):
    s = parse("blog_post.md", boilerplate_patterns=(r"^The guest has counted",))
    assert any(u.boilerplate and u.text_plain.startswith("The guest has counted") for u in s.units)
    by_line = parse("blog_post.md", split="line")
    assert "The guest has counted beetles in one valley for twenty years. The number of species dropped by a third." in plain_units(by_line)


def test_a_page_of_chrome_only_is_an_error(tmp_path):
    page = tmp_path / "chrome.md"
    page.write_text("[Home](/) | [About](/about)\n\n© 2026 Nobody\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="no summary content found"):
        load_summary(str(page), "markdown", FormatOptions())


def test_plain_still_reads_bare_text(tmp_path):
    page = tmp_path / "bare.txt"
    page.write_text("The keeper climbed ninety steps. He never complained.\n", encoding="utf-8")
    s = load_summary(str(page), "plain", FormatOptions())
    assert [u.text_plain for u in s.units] == ["The keeper climbed ninety steps.", "He never complained."]


def test_markdown_summary_config_runs(tmp_path):
    cfg = compose(["summary=markdown", f"summary.path={DATA / 'docs_page.mdx'}", "stages.align=false",
                   "stages.flags=false", "stages.timeline=false", "report.write_html=false", "metrics=[units]"])
    report = execute_run(cfg, tmp_path)
    assert report["summary"]["format"] == "markdown" and report["summary"]["boilerplate_units"] == 5


@pytest.mark.shared
@pytest.mark.parametrize("name", ["allenlsy-lex-summary.md", "lexnotes.md", "lumentis-docs.md"])
def test_episode_416_summaries_parse_with_every_line_accounted_for(name):
    path = SUMMARIES_416 / name
    if not path.exists():
        pytest.skip(f"{path} not found (../shared/episodes is not checked out)")
    s = load_summary(str(path), "markdown", FormatOptions())
    lines = path.read_text(encoding="utf-8").splitlines()
    assert sorted(r.line_no for r in s.line_roles) == [i for i, line in enumerate(lines, start=1) if line.strip()]
    assert len(s.content_units) >= 30
    for r in s.line_roles:
        text = lines[r.line_no - 1].lstrip()
        if text.startswith("import ") or text.startswith("<!--"):
            assert r.role == "markup"
