"""``report.md``: the run as a page to read, with what ``report.json`` and ``units.jsonl`` hold.

Sections, in reading order: the inputs and signature line; the headline figures; checks that
were not available; the summary unit by unit (a table of verdicts, then each unit's claims with
their verdict, score and evidence: time, speaker, quote, in a collapsible block); flags;
coverage per chapter and what was missed; sponsor reads; every metric with its description;
the signature in full; stage timings.

Summaries and transcripts are untrusted: their text is escaped with Markdown backslash escapes
(``\\<``, ``\\|``, ``\\*``…), never with HTML entities, so the page reads the same as plain text
and as rendered Markdown. Only fixed markup of our own (``<details>``) is HTML.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Mapping

from harness.report.records import sponsor_parts_text
from harness.tables import Column, MarkdownText, Table, to_markdown
from harness.tables import format_number as _num
from harness.text import format_clock

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")
_QUOTE_WORDS = 40
_UNIT_TEXT_CHARS = 160
_VERDICT_WORDS = {
    "supported": "supported",
    "partially_supported": "partly supported",
    "unsupported": "unsupported",
    "contradicted": "contradicted",
    "not_checkable": "not checkable",
}
_CHAPTER_SOURCE = {
    "headings": " from its headings",
    "file": " from the chapter list",
    "auto": " found by topic segmentation",
    "none": "",
}
_GLANCE = (
    ("consistency.score", "consistency score"),
    ("coverage.chapter_weighted", "chapter coverage"),
    ("coverage.key_point_recall", "key-point recall"),
    ("units.boilerplate_share", "boilerplate share"),
    ("units.content_words", "content words"),
)


def md_escape(text: Any) -> str:
    """Untrusted text for a Markdown line or table cell: one line, Markdown syntax backslash-escaped
    (no HTML entities)."""
    if text is None:
        return ""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _link(url: Any, text: str) -> str:
    """``[text](url)`` for an http(s) URL without spaces or brackets, else the text alone."""
    if isinstance(url, str) and url.lower().startswith(("http://", "https://")) and not re.search(r"[\s()<>]", url):
        return f"[{text}]({url})"
    return text


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _verdict(label: Any) -> str:
    return _VERDICT_WORDS.get(label, str(label)) if label else "no verdict"


def _table(head: list[str], rows: Iterable[list[str]]) -> list[str]:
    """A Markdown table (``harness.tables``) as lines; the cells are Markdown already."""
    table = Table.of([Column(h) for h in head], [[MarkdownText(cell) for cell in r] for r in rows])
    return to_markdown(table).rstrip("\n").split("\n")


# ----------------------------------------------------------------------------------------------
# sections
# ----------------------------------------------------------------------------------------------


def _header(report: Mapping[str, Any]) -> list[str]:
    t, s = report["transcript"], report["summary"]
    chapters = t.get("chapters") or []
    video = f", video {_link(t['video_url'], t['video_url'])}" if t.get("video_url") else ""
    return [
        f"# Summary evaluation: {md_escape(s.get('title') or s.get('path'))}",
        "",
        f"- Summary: `{s['path']}` (format `{s['format']}`, sha256 `{s['sha256'][:12]}…`)",
        f"- Transcript: `{t['path']}` (format `{t['format']}`, {len(chapters)} chapters"
        f"{_CHAPTER_SOURCE.get(t.get('chapter_source') or 'none', '')}, "
        f"{t['turns']} turns, "
        f"{format_clock(t['duration_s']) or 'unknown length'}"
        f"{'' if t.get('timestamps', True) else '; timestamps unavailable'}{video})",
        f"- Signature: `{report['signature']['string']}`",
        *([f"- Settings: `{report['signature']['readable']}`"] if report["signature"].get("readable") else []),
        "",
    ]


def _glance(report: Mapping[str, Any], units: list[Mapping[str, Any]]) -> list[str]:
    metrics = report.get("metrics") or {}
    parts = [
        f"{label} **{_num(metrics[name]['value'], 3)}**"
        for name, label in _GLANCE
        if isinstance(metrics.get(name), Mapping) and metrics[name].get("value") is not None
    ]
    flags = report.get("flags") or []
    major = sum(f.get("severity") == "major" for f in flags)
    parts.append(f"flags **{major} major, {len(flags) - major} minor**")
    out = ["## At a glance", "", " · ".join(parts), ""]
    counts: dict[str, int] = {}
    claim_counts: dict[str, int] = {}
    for u in units:
        key = "boilerplate" if u.get("boilerplate") else (u.get("verdict") or "none")
        counts[key] = counts.get(key, 0) + 1
        for c in u.get("claims") or []:
            claim_counts[c.get("verdict")] = claim_counts.get(c.get("verdict"), 0) + 1
    if units:
        order = list(_VERDICT_WORDS) + ["boilerplate", "none"]
        out.append(
            f"{len(units)} units: "
            + ", ".join(f"{counts[k]} {_verdict(k) if k in _VERDICT_WORDS else ('boilerplate' if k == 'boilerplate' else 'without verdict')}" for k in order if counts.get(k))
            + "."
        )
        if claim_counts:
            out.append(
                f"{sum(claim_counts.values())} claims: "
                + ", ".join(f"{claim_counts[k]} {_verdict(k)}" for k in _VERDICT_WORDS if claim_counts.get(k))
                + "."
            )
        out.append("")
    return out


def _not_available(report: Mapping[str, Any]) -> list[str]:
    items = report.get("not_available") or []
    if not items:
        return []
    out = ["## Checks not available", "", "Not made because the inputs lack what they need (not scored as zero):", ""]
    out += [f"- **{md_escape(n['check'])}**: {md_escape(n['reason'])}" for n in items]
    return out + [""]


def _evidence_line(ev: Mapping[str, Any]) -> str:
    when = ev.get("timestamp") or format_clock(ev.get("start_s"), missing="")
    where = _link(ev.get("url"), when) if when else "(no time)"
    approx = format_clock(ev.get("start_s"), missing="")
    if approx and ev.get("timestamp") and approx != ev.get("timestamp"):
        where += f" (≈{approx})"
    bits = [where]
    if ev.get("speaker"):
        bits.append(f"**{md_escape(ev['speaker'])}**")
    if ev.get("chapter"):
        bits.append(f"_{md_escape(ev['chapter'])}_")
    if isinstance(ev.get("score"), (int, float)):
        bits.append(f"support {ev['score']:.2f}")
    if ev.get("is_sponsor"):
        bits.append("**sponsor read**")
    words = str(ev.get("quote") or "").split()
    quote = " ".join(words[:_QUOTE_WORDS]) + (" …" if len(words) > _QUOTE_WORDS else "")
    return f"{' · '.join(bits)}: “{md_escape(quote)}”"


def _units(report: Mapping[str, Any], units: list[Mapping[str, Any]]) -> list[str]:
    if not units:
        return []
    flags_by_unit: dict[Any, list[Mapping[str, Any]]] = {}
    for f in report.get("flags") or []:
        flags_by_unit.setdefault(f.get("unit_id"), []).append(f)
    out = [
        "## Summary, unit by unit",
        "",
        "Each unit's verdict and support score (0 to 1); its claims and their transcript evidence follow below.",
        "",
    ]
    rows = []
    for u in units:
        verdict = "boilerplate" if u.get("boilerplate") else _verdict(u.get("verdict"))
        score = f"{u['score']:.2f}" if isinstance(u.get("score"), (int, float)) else ""
        fl = flags_by_unit.get(u.get("unit_id"), [])
        major = sum(f.get("severity") == "major" for f in fl)
        flag_cell = ", ".join(p for p in (f"{major} major" if major else "", f"{len(fl) - major} minor" if len(fl) - major else "") if p)
        text = _shorten(str(u.get("text_plain") or u.get("text") or ""), _UNIT_TEXT_CHARS)
        rows.append([f"[{u.get('unit_id')}](#{u.get('unit_id')})", md_escape(u.get("kind")), verdict, score, flag_cell, md_escape(text)])
    out += _table(["unit", "kind", "verdict", "score", "flags", "text"], rows)
    out += ["", "### Claims and evidence", ""]
    has_approx = False
    for u in units:
        if u.get("boilerplate") or not (u.get("claims") or u.get("verdict_reason") or flags_by_unit.get(u.get("unit_id"))):
            continue
        uid = str(u.get("unit_id"))
        label = _verdict(u.get("verdict"))
        score = f" {u['score']:.2f}" if isinstance(u.get("score"), (int, float)) else ""
        out += [
            f'<a id="{md_escape(uid)}"></a>',
            f"<details><summary>{md_escape(uid)} · {label}{score}</summary>",
            "",
            f"> {md_escape(u.get('text_plain') or u.get('text'))}",
            "",
        ]
        section = [f"section: {md_escape(u['section'])}"] if u.get("section") else []
        meta = section + [f"kind `{u.get('kind')}`", f"line {u.get('line_no')}"]
        if u.get("cited_timestamp_s") is not None:
            meta.append(f"cites {format_clock(u['cited_timestamp_s'], missing='')}")
        out += [" · ".join(meta), ""]
        if u.get("verdict_reason"):
            out += [f"Why {label}: {md_escape(u['verdict_reason'])}", ""]
        for i, c in enumerate(u.get("claims") or [], 1):
            cscore = f" {c['score']:.2f}" if isinstance(c.get("score"), (int, float)) else ""
            out.append(f"{i}. **{_verdict(c.get('verdict'))}{cscore}**: {md_escape(c.get('text'))}")
            for ev in c.get("evidence") or []:
                has_approx = has_approx or bool(ev.get("timestamp") and format_clock(ev.get("start_s"), missing="") not in ("", ev.get("timestamp")))
                out.append(f"   - {_evidence_line(ev)}")
            if not c.get("evidence"):
                out.append("   - no evidence passage")
        for f in flags_by_unit.get(u.get("unit_id"), []):
            where = f" (claim {f['claim_index'] + 1})" if isinstance(f.get("claim_index"), int) else ""
            out.append(f"- ⚑ {f.get('severity')} `{f.get('tag')}`{where}: {md_escape(f.get('message'))}")
        out += ["", "</details>", ""]
    if has_approx:
        out += [
            "Evidence times: `2:23` is the transcript's timestamp of the paragraph holding the quote "
            "(linked to the video); `(≈3:07)`, when shown, is the quote's own time, estimated from its "
            "position between that timestamp and the next.",
            "",
        ]
    return out


def _flags(report: Mapping[str, Any]) -> list[str]:
    flags = report.get("flags") or []
    out = ["## Flags", ""]
    if not flags:
        return out + ["No flags.", ""]
    ordered = sorted(flags, key=lambda f: (f.get("severity") != "major", str(f.get("unit_id")), f.get("claim_index") or 0))
    rows = []
    for f in ordered:
        ev = (f.get("evidence") or [None])[0]
        at = ""
        if isinstance(ev, Mapping):
            when = ev.get("timestamp") or format_clock(ev.get("start_s"), missing="")
            at = _link(ev.get("url"), when) if when else ""
        claim = str(f["claim_index"] + 1) if isinstance(f.get("claim_index"), int) else ""
        rows.append([str(f.get("severity")), f"`{f.get('tag')}`", f"[{f.get('unit_id')}](#{f.get('unit_id')})", claim, at, md_escape(f.get("message"))])
    return out + _table(["severity", "tag", "unit", "claim", "evidence at", "message"], rows) + [""]


def _coverage(report: Mapping[str, Any]) -> list[str]:
    cov = report.get("coverage")
    t = report["transcript"]
    chapters = t.get("chapters") or []
    out: list[str] = []
    if not isinstance(cov, Mapping):
        if chapters:
            out += ["## Transcript chapters", ""]
            out += _table(["#", "chapter", "start"], ([str(c["index"] + 1), md_escape(c["title"]), format_clock(c.get("start_s"), missing="")] for c in chapters))
            out.append("")
        return out
    out += ["## Coverage", ""]
    scalars = [
        f"{k.replace('_', ' ')} **{_num(v, 3)}**"
        for k, v in sorted(cov.items())
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    ]
    if scalars:
        out += [" · ".join(scalars), ""]
    out += [f"- {md_escape(n)}" for n in cov.get("notes") or []]
    if cov.get("notes"):
        out.append("")
    recs = cov.get("chapters") or []
    if recs:
        timed = any(r.get("start_s") is not None for r in recs)
        head = ["#", "chapter"] + (["start", "length"] if timed else []) + ["label", "score", "key points", "key-point recall", "evidence score", "sponsor share"]
        rows = []
        for r in recs:
            start, end = r.get("start_s"), r.get("end_s")
            length = format_clock(end - start, missing="") if isinstance(start, (int, float)) and isinstance(end, (int, float)) else ""
            times = [format_clock(start, missing=""), length] if timed else []
            label = r.get("label") or ""
            if r.get("excluded"):
                label = f"{label} ({md_escape(r['excluded'])})"
            kp = f"{r.get('matched_key_points', '')}/{r.get('key_points', '')}" if r.get("key_points") is not None else ""
            rows.append(
                [str(r.get("index", 0) + 1), md_escape(r.get("title"))] + times
                + [label, _num(r.get("score"), 3), kp, _num(r.get("key_point_recall"), 3), _num(r.get("evidence_score"), 3), _num(r.get("sponsor_share"), 3)]
            )
        out += ["### Per chapter", ""]
        if not timed:
            out += ["The transcript has no timestamps: chapters are numbered by position.", ""]
        out += _table(head, rows) + [""]
    missed = cov.get("missed_chapters") or []
    if missed:
        out += ["### Chapters missed", ""]
        out += [f"- {md_escape(m.get('title'))}" + (f" ({m['start']})" if m.get("start") else "") for m in missed]
        out.append("")
    kps = cov.get("missed_key_points") or []
    if kps:
        out += [f"<details><summary>Key points missed ({len(kps)})</summary>", ""]
        out += [
            f"- {m.get('time') or ''}{' ' if m.get('time') else ''}**{md_escape(m.get('speaker'))}** _{md_escape(m.get('chapter'))}_: “{md_escape(m.get('text'))}”"
            for m in kps
        ]
        out += ["", "</details>", ""]
    pairs = cov.get("redundant_pairs") or []
    if pairs:
        out += [f"<details><summary>Redundant claim pairs ({len(pairs)})</summary>", ""]
        out += [f"- {p.get('a')} / {p.get('b')} (cosine {_num(p.get('cosine'), 3)}): “{md_escape(p.get('a_text'))}” / “{md_escape(p.get('b_text'))}”" for p in pairs]
        out += ["", "</details>", ""]
    return out


def _sponsors(report: Mapping[str, Any]) -> list[str]:
    t = report["transcript"]
    out = ["## Sponsor segments in the transcript", ""]
    if t["sponsor_segments"]:
        rows = []
        for sp in t["sponsor_segments"]:
            approx = "≈" if sp["time_estimated"] else ""
            rows.append([str(sp["index"]), f"{approx}{sp['start'] or ''}", f"{approx}{sp['end'] or ''}", str(sp["words"]),
                         sponsor_parts_text(sp), ", ".join(sp["rules"])])
        out += _table(["#", "from", "to", "words", "parts", "rules"], rows)
    else:
        out.append("None found.")
    if t["warnings"]:
        out += ["", "## Transcript warnings", ""] + [f"- {md_escape(w)}" for w in t["warnings"]]
    return out + [""]


def _metrics(report: Mapping[str, Any]) -> list[str]:
    rows = []
    for name, m in report["metrics"].items():
        better = {True: "higher", False: "lower"}.get(m["higher_is_better"], "neither (a size)")
        note = f" ({md_escape(m['note'])})" if m.get("note") else ""
        rows.append([name, _num(m["value"]), better, f"{md_escape(m['description'])}{note}"])
    return ["## Metrics", ""] + _table(["metric", "value", "better", "what it measures"], rows) + [""]


def _signature(report: Mapping[str, Any]) -> list[str]:
    sig = report.get("signature") or {}
    out = ["## Signature", "", f"`{sig.get('string')}`", ""]
    for role, meta in sorted((sig.get("inputs") or {}).items()):
        if isinstance(meta, Mapping):
            out.append(f"- {role}: sha256 `{meta.get('sha256')}` (format `{meta.get('format')}`)")
    if sig.get("config_sha256"):
        out.append(f"- config: sha256 `{sig['config_sha256']}`")
    for key in ("harness_version", "python"):
        if sig.get(key):
            out.append(f"- {key.replace('_', ' ')}: {sig[key]}")
    for name, model in sorted((sig.get("models") or {}).items()):
        text = model if isinstance(model, str) else json.dumps(model, sort_keys=True, ensure_ascii=False, default=str)
        out.append(f"- model `{name}`: {md_escape(text)}")
    if sig.get("packages"):
        out.append("- packages: " + ", ".join(f"{k} {v}" for k, v in sorted(sig["packages"].items())))
    return out + [""]


def render_markdown(report: dict[str, Any], units: list[dict[str, Any]] | None = None) -> str:
    """Render a run (``report_dict`` output and the ``units.jsonl`` rows) as Markdown."""
    rows = [u for u in units or [] if isinstance(u, Mapping)]
    lines = _header(report) + _glance(report, rows) + _not_available(report) + _units(report, rows)
    lines += _flags(report) + _coverage(report) + _sponsors(report) + _metrics(report) + _signature(report)
    lines += ["## Stage timings", ""] + [f"- {k}: {v:.3f} s" for k, v in report["timings_s"].items()]
    return "\n".join(lines) + "\n"
