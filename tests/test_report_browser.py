"""report.html in a real browser (Chromium driven by Playwright): what a person does with it.

Open the page from disk, click a unit to read its claims and evidence, filter by verdict, follow
a timestamp link, and look at the page at a phone width and a desktop width (screenshots kept in
the test's tmp directory; nothing may overflow the viewport sideways).

Chromium is Debian's (``apt-get install chromium``; ``.ci/run`` installs it). Outside CI a
machine without it skips these tests with the reason; in CI (``CI=true``) a missing browser or
Playwright fails them, so CI cannot pass by skipping.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from test_report_html import _evidence, _report, _unit, require_chromium

from harness.report.html import render_html

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LONG_WORD = "https://example.org/" + "a" * 120  # a long unbreakable token in a summary


def require_browser() -> str:
    """Chromium's path; skip (outside CI) or fail (``CI=true``) when it or Playwright is missing."""
    chromium = require_chromium()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "playwright not installed (pip install -e '.[dev]')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}: the browser tests must run in CI")
        pytest.skip(reason)
    return chromium


def test_missing_browser_skips_outside_ci_and_fails_in_ci(monkeypatch):
    import test_report_html

    monkeypatch.setattr(test_report_html, "CHROMIUM", None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium not installed"):
        test_report_html.require_chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true but chromium not installed"):
        test_report_html.require_chromium()


def _page_units() -> list[dict]:
    units = [
        _unit(
            "u001",
            "Sutskever co-wrote AlexNet with Krizhevsky and Hinton.",
            verdict="supported",
            score=0.91,
            kind="key_insight",
            verdict_reason="best evidence 0.91 at 2:23 (Ilya Sutskever) ≥ supported threshold 0.35",
            claims=[
                {
                    "claim_id": "u001.c0",
                    "text": "Sutskever co-wrote AlexNet.",
                    "verdict": "supported",
                    "score": 0.91,
                    "evidence": [_evidence(quote="You were one of the three authors of the famed AlexNet paper.")],
                }
            ],
        ),
        _unit("u002", "Buy our mattress today. " + LONG_WORD, verdict="unsupported", score=0.05,
              verdict_reason="no claim reaches the partial threshold 0.2; best 0.05 at 9:58 (Lex Fridman)",
              claims=[{"claim_id": "u002.c0", "text": "Buy our mattress today.", "verdict": "unsupported", "score": 0.05,
                       "evidence": [_evidence(score=0.05, timestamp="9:58", start_s=598.0, url="https://youtu.be/VID?t=598",
                                              speaker="Lex Fridman", quote="This show is sponsored by a mattress.", is_sponsor=True)]}]),
        _unit("u003", "More from this site", boilerplate=True, boilerplate_reason="site chrome", kind="boilerplate"),
    ]
    for i in range(4, 30):  # enough units to scroll
        units.append(_unit(f"u{i:03d}", f"Point {i} about deep learning and neural networks, said at some length.",
                           verdict="partially_supported", score=0.3, claims=[]))
    return units


def _write_page(tmp_path: Path) -> Path:
    # a wide figure, as the real timeline is (14 in at 110 dpi)
    (tmp_path / "timeline.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="1540" height="600"><rect width="1540" height="600" fill="#eee"/></svg>',
        encoding="utf-8",
    )
    flags = [{"tag": "ad_content", "severity": "major", "unit_id": "u002", "claim_index": 0,
              "message": "A claim from a sponsor read, presented as an insight.", "evidence": []}]
    report = _report(
        flags=flags,
        not_available=[{"check": "misattribution", "reason": "the transcript has no speaker labels"}],
        coverage={"chapter_weighted": 0.5, "chapters": [
            {"index": 0, "title": "Intro", "label": "none", "score": 0.0, "key_point_recall": 0.0, "evidence_score": 0.1, "sponsor_share": 0.66},
            {"index": 1, "title": "What's harder to solve: language or vision?", "label": "full", "score": 0.9, "key_point_recall": 0.75, "evidence_score": 1.0, "sponsor_share": 0.0},
        ]},
    )
    report["transcript"]["chapters"][1]["title"] = "What's harder to solve: language or vision?"
    for i in range(25):  # a long metrics table with long names and descriptions
        report["metrics"][f"lexical.rouge_lsum_precision_vs_transcript_{i}"] = {
            "value": 0.123456, "higher_is_better": True, "note": None,
            "description": "ROUGE-Lsum precision of the summary against the whole transcript, chunked, Unicode tokenizer.",
        }
    path = tmp_path / "report.html"
    path.write_text(render_html(report, _page_units(), tmp_path), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    """One Chromium for the module, with a fresh profile; network requests are answered locally."""
    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=chromium, headless=True, args=CHROMIUM_ARGS, viewport=DESKTOP
        )
        # The page must not need the network; a followed video link is answered here instead.
        context.route(re.compile(r"^https?://"), lambda route: route.fulfill(status=200, content_type="text/html", body="<title>video</title>"))
        try:
            yield context
        finally:
            context.close()


@pytest.fixture()
def page(browser_context, tmp_path):
    path = _write_page(tmp_path)
    pg = browser_context.new_page()
    pg.goto(path.as_uri())
    yield pg
    pg.close()


def test_click_a_unit_to_see_its_claims_and_evidence(page):
    unit = page.locator("details#u001")
    assert unit.get_attribute("open") is None
    assert not page.get_by_text("You were one of the three authors").is_visible()
    unit.locator("summary").click()
    assert unit.get_attribute("open") is not None
    quote = unit.locator("blockquote").first
    assert quote.is_visible() and quote.inner_text() == "You were one of the three authors of the famed AlexNet paper."
    assert unit.locator("li.claim .badge").first.inner_text() == "supported"
    assert unit.get_by_text("Ilya Sutskever", exact=True).is_visible()
    assert unit.get_by_text("Why supported: best evidence 0.91").is_visible()
    # the two times of the passage are explained on hover
    assert "transcript's own timestamp" in unit.locator("abbr.approx").first.get_attribute("title")
    # a click again closes it
    unit.locator("summary").click()
    assert unit.get_attribute("open") is None


def test_filter_by_verdict(page):
    visible = lambda: [d.get_attribute("id") for d in page.locator("details.unit").all() if d.is_visible()]  # noqa: E731
    assert len(visible()) == 29
    page.select_option("#vfilter", "unsupported")
    assert visible() == ["u002"]
    page.select_option("#vfilter", "supported")
    assert visible() == ["u001"]
    page.get_by_role("button", name="Expand all").click()
    assert page.locator("details#u001").get_attribute("open") is not None
    assert page.locator("details#u002").get_attribute("open") is None  # hidden units stay closed
    page.select_option("#vfilter", "all")
    assert len(visible()) == 29


def test_follow_a_timestamp_link(page, browser_context):
    page.locator("details#u001 summary").click()
    link = page.locator("details#u001 ul.evidence a").first
    assert link.inner_text() == "2:23"
    assert link.get_attribute("href") == "https://youtu.be/VID?t=143"
    assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")
    with browser_context.expect_page() as opened:
        link.click()
    video = opened.value
    video.wait_for_load_state()
    assert video.url == "https://youtu.be/VID?t=143"
    video.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone-390", "desktop-1280"])
def test_layout_at_phone_and_desktop_width(page, viewport, tmp_path):
    page.set_viewport_size(viewport)
    page.locator("details#u002 summary").click()  # an open unit with a long unbreakable link
    width = viewport["width"]
    page.screenshot(path=str(tmp_path / f"report-{width}.png"), full_page=True)
    # nothing pushes the page wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate("document.body.scrollWidth") <= width
    # key elements are there and inside the viewport's width
    for selector in ("h1", ".cards", "#not-available", "details#u001 > summary", "details#u002 blockquote",
                     "#toolbar", "figure img", ".tscroll"):
        element = page.locator(selector).first
        assert element.is_visible(), selector
        box = element.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (selector, box)
    # the unit's verdict badge is on screen next to its text, not pushed off the right edge
    badge = page.locator("details#u001 > summary .badge").last.bounding_box()
    assert badge["x"] + badge["width"] <= width
    # a wide table scrolls inside its own box instead of widening the page
    metrics = page.locator(".tscroll").last
    assert metrics.bounding_box()["width"] <= width
    # no squeezed column: a table cell wraps at words, never a letter per line
    tallest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('td')].filter(td => td.checkVisibility())"
        ".map(td => td.getBoundingClientRect().height))"
    )
    assert tallest < 150, tallest
    # the text stays readable: no font smaller than 11 px in a unit
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('details#u001 .utext')).fontSize)") >= 11
