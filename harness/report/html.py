"""``report.html``: the run as one self-contained page a person reads unit by unit.

The page has no external resources: CSS and the (optional, tiny) script are inline, a timeline
figure the run directory holds (``timeline.svg`` / ``timeline.png``) is embedded as a data URI.

Summaries and transcripts are untrusted input. Every piece of their text goes through
``html.escape`` (attribute values included); a URL becomes a link only when it starts with
``http://`` or ``https://``. A Content-Security-Policy that allows only the page's own script
(by hash) and data-URI images is a second line of defence should an escape ever be missed.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable, Mapping

from harness.transcript import format_clock

log = logging.getLogger(__name__)

VERDICT_LABELS = {
    "supported": "supported",
    "partially_supported": "partially supported",
    "unsupported": "unsupported",
    "contradicted": "contradicted",
    "not_checkable": "not checkable",
    "boilerplate": "boilerplate",
    "none": "no verdict",
}
VERDICT_ORDER = tuple(VERDICT_LABELS)
# What "2:23 (≈3:07)" on an evidence passage means (Evidence.timestamp vs Evidence.start_s).
APPROX_TITLE = (
    "2:23 is the transcript's own timestamp of the paragraph that holds the quote (the link "
    "goes there); ≈3:07 is the quote's estimated time, interpolated by its position between that "
    "timestamp and the next one"
)
APPROX_NOTE = (
    "Evidence times: <span class=\"mono\">2:23</span> is the transcript's timestamp of the "
    "paragraph holding the quote (linked to the video); <span class=\"mono\">(≈3:07)</span>, "
    "when shown, is the quote's own time, estimated from its position between that timestamp "
    "and the next."
)
MAX_FIGURE_BYTES = 8_000_000
MAX_GENERIC_ROWS = 300

CSS = """
:root{--fg:#1f2328;--muted:#6e7781;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;
--sup:#1a7f37;--sup-bg:#dafbe1;--par:#9a6700;--par-bg:#fff1c2;--uns:#57606a;--uns-bg:#eaeef2;
--con:#cf222e;--con-bg:#ffebe9;--nc:#8c959f;--nc-bg:#f6f8fa;}
*{box-sizing:border-box}
body{font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);
background:var(--bg);margin:0;padding:24px}
main{max-width:1120px;margin:0 auto}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3.section{font-size:15px;margin:18px 0 6px;color:var(--muted);font-weight:600}
a{color:#0969da}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.meta{color:var(--muted);font-size:13px;margin:2px 0}
table{border-collapse:collapse;width:100%;font-size:13.5px;margin:6px 0}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;white-space:nowrap;
border:1px solid transparent;line-height:18px}
.b-supported{color:var(--sup);background:var(--sup-bg);border-color:var(--sup)}
.b-partially_supported{color:var(--par);background:var(--par-bg);border-color:var(--par)}
.b-unsupported{color:var(--uns);background:var(--uns-bg);border-color:var(--uns)}
.b-contradicted{color:var(--con);background:var(--con-bg);border-color:var(--con)}
.b-not_checkable,.b-boilerplate,.b-none{color:var(--nc);background:var(--nc-bg);border-color:var(--line)}
.b-major{color:#fff;background:var(--con)}.b-minor{color:var(--par);background:var(--par-bg);border-color:var(--par)}
.b-sponsor{color:#8250df;background:#fbefff;border-color:#8250df}
details.unit{border:1px solid var(--line);border-left:6px solid var(--line);border-radius:6px;margin:6px 0;background:var(--bg)}
details.unit>summary{cursor:pointer;padding:6px 10px;list-style:none;display:flex;gap:8px;align-items:baseline}
details.unit>summary::-webkit-details-marker{display:none}
details.unit>summary:before{content:"\\25B8";color:var(--muted);flex:none}
details.unit[open]>summary:before{content:"\\25BE"}
details.unit .utext{flex:1 1 auto}
details.unit .uid{color:var(--muted);flex:none;font-size:12px}
details.unit .right{flex:none;display:flex;gap:6px;align-items:baseline}
details.unit.v-supported{border-left-color:var(--sup)}
details.unit.v-supported>summary{background:linear-gradient(90deg,var(--sup-bg),transparent 60%)}
details.unit.v-partially_supported{border-left-color:var(--par)}
details.unit.v-partially_supported>summary{background:linear-gradient(90deg,var(--par-bg),transparent 60%)}
details.unit.v-unsupported{border-left-color:var(--uns)}
details.unit.v-unsupported>summary{background:linear-gradient(90deg,var(--uns-bg),transparent 60%)}
details.unit.v-contradicted{border-left-color:var(--con)}
details.unit.v-contradicted>summary{background:linear-gradient(90deg,var(--con-bg),transparent 60%)}
details.unit.v-not_checkable>summary,details.unit.v-boilerplate>summary{color:var(--muted)}
details.unit.v-boilerplate .utext{text-decoration:line-through;text-decoration-color:#afb8c1}
.ubody{padding:4px 14px 10px 28px;border-top:1px dashed var(--line)}
.raw{white-space:pre-wrap;background:var(--soft);padding:4px 8px;border-radius:4px;font-size:13px}
ol.claims{padding-left:20px;margin:6px 0}ol.claims>li{margin:8px 0}
ul.evidence{list-style:none;padding-left:0;margin:4px 0}
ul.evidence>li{border-left:3px solid var(--line);padding:2px 10px;margin:6px 0}
ul.evidence>li.sponsor{border-left-color:#8250df}
blockquote{margin:2px 0;color:#424a53;font-style:italic}
.flags{margin:6px 0;padding:0;list-style:none}.flags li{margin:3px 0}
.legend span{margin-right:6px}
.stack{display:flex;height:14px;border-radius:3px;overflow:hidden;min-width:120px;background:var(--soft)}
.stack>span{display:block;height:100%}
.s-supported{background:var(--sup)}.s-partially_supported{background:#d4a72c}.s-unsupported{background:#afb8c1}
.s-contradicted{background:var(--con)}.s-not_checkable,.s-boilerplate,.s-none{background:#eaeef2}
.bar{background:var(--soft);border-radius:3px;height:10px;width:90px;display:inline-block;vertical-align:middle;margin-right:6px}
.bar>span{display:block;height:100%;background:#0969da;border-radius:3px}
.toolbar{margin:8px 0;display:flex;gap:8px;align-items:center;font-size:13px}
.toolbar button,.toolbar select{font:inherit;padding:2px 8px}
.hidden{display:none}
figure{margin:8px 0}figure img{max-width:100%;border:1px solid var(--line)}
.note{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:6px 10px;font-size:13.5px}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;font-size:13.5px}dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}.card{border:1px solid var(--line);border-radius:6px;padding:6px 12px;min-width:120px}
.card .cv{font-size:18px;font-weight:600;font-variant-numeric:tabular-nums}
footer{margin-top:40px;color:var(--muted);font-size:12px}
.tscroll{overflow-x:auto;max-width:100%}
main,dd,blockquote,.utext,.meta,code{overflow-wrap:anywhere}td,th{overflow-wrap:break-word}
abbr[title]{text-decoration:underline dotted;cursor:help}
@media (max-width:700px){body{padding:10px;font-size:14px}
details.unit>summary{flex-wrap:wrap}details.unit .utext{flex-basis:calc(100% - 40px)}
details.unit .right{margin-left:auto}.ubody{padding:4px 8px 8px 12px}
dl.kv{grid-template-columns:1fr}dl.kv dt{margin-top:6px}.card{min-width:0;flex:1 1 40%}
.toolbar{flex-wrap:wrap}
.tscroll>table{min-width:600px}
.tscroll>table.metrics{min-width:0}table.metrics thead{display:none}
table.metrics tr{display:grid;grid-template-columns:1fr auto auto;border-bottom:1px solid var(--line)}
table.metrics td{border:none}table.metrics td.mdesc{grid-column:1/-1;padding-top:0;color:var(--muted)}}
"""

# Expand/collapse all and a verdict filter; nothing else. Allowed by the CSP through its hash.
SCRIPT = """
(function(){
var bar=document.getElementById('toolbar');if(!bar)return;bar.classList.remove('hidden');
var units=function(){return document.querySelectorAll('details.unit');};
bar.addEventListener('click',function(e){var a=e.target.getAttribute('data-act');if(!a)return;
units().forEach(function(d){if(!d.classList.contains('hidden'))d.open=(a==='expand');});});
var sel=document.getElementById('vfilter');
sel.addEventListener('change',function(){var v=sel.value;
units().forEach(function(d){d.classList.toggle('hidden',v!=='all'&&!d.classList.contains('v-'+v));});});
})();
"""


# ----------------------------------------------------------------------------------------------
# escaping helpers
# ----------------------------------------------------------------------------------------------


def esc(value: Any) -> str:
    """HTML-escape any value (quotes included, so it is safe in attribute values); None → ''."""
    if value is None:
        return ""
    return html.escape(str(value), quote=True)


def safe_url(url: Any) -> str | None:
    """``url`` if it is an http(s) URL without whitespace or control characters, else None."""
    if not isinstance(url, str):
        return None
    u = url.strip()
    if not u.lower().startswith(("http://", "https://")):
        return None
    if any(ord(ch) <= 32 or ord(ch) == 127 for ch in u):
        return None
    return u


def link(url: Any, text: Any) -> str:
    """An escaped link to ``url`` (only http/https), else the escaped text alone."""
    target = safe_url(url)
    if target is None:
        return esc(text)
    return f'<a href="{esc(target)}" target="_blank" rel="noopener noreferrer">{esc(text)}</a>'


def video_time_url(video_url: Any, seconds: float | None) -> str | None:
    """A link to second ``seconds`` of the video (``?t=N``), when the video URL is http(s)."""
    base = safe_url(video_url)
    if base is None or seconds is None:
        return None
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}t={int(seconds)}"


def fmt_num(value: Any, digits: int = 4) -> str:
    """A number for a table cell: ints as ints, floats to ``digits`` significant digits."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.{digits}g}"
    return esc(value)


def _clock(seconds: Any) -> str:
    return (format_clock(float(seconds)) or "") if isinstance(seconds, (int, float)) else ""


def _verdict_key(label: Any) -> str:
    return label if isinstance(label, str) and label in VERDICT_LABELS else "none"


def badge(kind: str, text: str | None = None) -> str:
    return f'<span class="badge b-{esc(kind)}">{esc(text if text is not None else VERDICT_LABELS.get(kind, kind))}</span>'


def _share01(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= float(value) <= 1.0:
        return float(value)
    return None


# ----------------------------------------------------------------------------------------------
# page sections
# ----------------------------------------------------------------------------------------------


def unit_class(unit: Mapping[str, Any]) -> str:
    """The verdict class a unit is coloured by: boilerplate, its verdict, or ``none``."""
    if unit.get("boilerplate"):
        return "boilerplate"
    return _verdict_key(unit.get("verdict"))


def _evidence_html(evidence: Iterable[Mapping[str, Any]]) -> str:
    items = []
    for ev in evidence or ():
        if not isinstance(ev, Mapping):
            continue
        label = ev.get("timestamp") or _clock(ev.get("start_s")) or "?"
        when = link(ev.get("url"), label)
        if ev.get("start_s") is not None and ev.get("timestamp") and _clock(ev.get("start_s")) != ev.get("timestamp"):
            when += f' <abbr class="meta approx" title="{esc(APPROX_TITLE)}">(≈{esc(_clock(ev.get("start_s")))})</abbr>'
        parts = [f'<span class="mono">{when}</span>']
        if ev.get("speaker"):
            parts.append(f"<strong>{esc(ev['speaker'])}</strong>")
        if ev.get("chapter"):
            parts.append(f'<span class="meta">{esc(ev["chapter"])}</span>')
        if isinstance(ev.get("score"), (int, float)):
            parts.append(f'<span class="meta">support {fmt_num(ev["score"], 2)}</span>')
        if ev.get("is_sponsor"):
            parts.append(badge("sponsor", "sponsor read"))
        cls = ' class="sponsor"' if ev.get("is_sponsor") else ""
        items.append(f"<li{cls}>{' · '.join(parts)}<blockquote>{esc(ev.get('quote'))}</blockquote></li>")
    return f'<ul class="evidence">{"".join(items)}</ul>' if items else ""


def _flags_html(flags: Iterable[Mapping[str, Any]], *, show_where: bool = False) -> str:
    items = []
    for f in flags:
        sev = "major" if f.get("severity") == "major" else "minor"
        where = ""
        if show_where:
            where = f' <a href="#{esc(f.get("unit_id"))}" class="mono">{esc(f.get("unit_id"))}</a>'
            if f.get("claim_index") is not None:
                where += f' <span class="meta">claim {esc(f.get("claim_index"))}</span>'
        items.append(
            f"<li>{badge(sev, sev)} <code>{esc(f.get('tag'))}</code>{where} {esc(f.get('message'))}"
            f"{_evidence_html(f.get('evidence') or ())}</li>"
        )
    return f'<ul class="flags">{"".join(items)}</ul>' if items else ""


def _unit_html(unit: Mapping[str, Any], flags: list[Mapping[str, Any]], video_url: Any) -> str:
    cls = unit_class(unit)
    uid = unit.get("unit_id")
    text = unit.get("text_plain") or unit.get("text") or ""
    right = []
    n_major = sum(f.get("severity") == "major" for f in flags)
    n_minor = len(flags) - n_major
    if n_major:
        right.append(badge("major", f"⚑ {n_major} major"))
    if n_minor:
        right.append(badge("minor", f"⚑ {n_minor} minor"))
    if isinstance(unit.get("score"), (int, float)):
        right.append(f'<span class="meta" title="support score of the unit, 0 to 1">{float(unit["score"]):.2f}</span>')
    right.append(badge(cls))
    head = (
        f'<summary><span class="uid mono">{esc(uid)}</span><span class="utext">{esc(text)}</span>'
        f'<span class="right">{"".join(right)}</span></summary>'
    )
    meta = [f"kind <code>{esc(unit.get('kind'))}</code>"]
    if unit.get("line_no") is not None:
        meta.append(f"line {esc(unit.get('line_no'))}")
    if unit.get("cited_timestamp_s") is not None:
        cited = _clock(unit.get("cited_timestamp_s"))
        meta.append(f"cites {link(video_time_url(video_url, unit.get('cited_timestamp_s')), cited)}")
    if unit.get("boilerplate"):
        meta.append(f"boilerplate: {esc(unit.get('boilerplate_reason') or 'site chrome')}")
    body = [f'<p class="meta">{" · ".join(meta)}</p>']
    if unit.get("text") and unit.get("text") != text:
        body.append(f'<div class="raw">{esc(unit.get("text"))}</div>')
    if unit.get("verdict_reason") and not unit.get("boilerplate"):
        body.append(f'<p class="meta reason">Why {esc(VERDICT_LABELS.get(cls, cls))}: {esc(unit.get("verdict_reason"))}</p>')
    claim_flags: dict[Any, list] = defaultdict(list)
    unit_flags = []
    for f in flags:
        if f.get("claim_index") is None:
            unit_flags.append(f)
        else:
            claim_flags[f.get("claim_index")].append(f)
    claims = unit.get("claims") or []
    if claims:
        items = []
        for i, c in enumerate(claims):
            if not isinstance(c, Mapping):
                continue
            vk = _verdict_key(c.get("verdict"))
            score = f' <span class="meta">support {fmt_num(c["score"], 2)}</span>' if isinstance(c.get("score"), (int, float)) else ""
            ev = _evidence_html(c.get("evidence") or ())
            if not ev:
                ev = '<p class="meta">no evidence passage</p>'
            items.append(
                f'<li class="claim">{badge(vk)}{score} <span class="mono meta">{esc(c.get("claim_id"))}</span>'
                f'<div>{esc(c.get("text"))}</div>{_flags_html(claim_flags.pop(i, []))}{ev}</li>'
            )
        body.append(f'<ol class="claims">{"".join(items)}</ol>')
    leftover = [f for fs in claim_flags.values() for f in fs]  # claim_index beyond the claims
    if unit_flags or leftover:
        body.append(_flags_html(unit_flags + leftover, show_where=bool(leftover)))
    return (
        f'<details class="unit v-{esc(cls)}" id="{esc(uid)}">{head}'
        f'<div class="ubody">{"".join(body)}</div></details>'
    )


def _stack(counts: Mapping[str, int]) -> str:
    total = sum(counts.values())
    if not total:
        return ""
    spans = []
    for k in VERDICT_ORDER:
        n = counts.get(k, 0)
        if n:
            title = esc(f"{VERDICT_LABELS[k]}: {n}")
            spans.append(f'<span class="s-{k}" style="width:{100.0 * n / total:.3f}%" title="{title}"></span>')
    return f'<div class="stack">{"".join(spans)}</div>'


def _units_section(report: Mapping[str, Any], units: list[Mapping[str, Any]]) -> str:
    flags_by_unit: dict[Any, list] = defaultdict(list)
    for f in report.get("flags") or []:
        if isinstance(f, Mapping):
            flags_by_unit[f.get("unit_id")].append(f)
    video_url = (report.get("transcript") or {}).get("video_url")
    counts = Counter(unit_class(u) for u in units)
    has_verdicts = any(u.get("verdict") for u in units)
    out = ["<h2>Summary, unit by unit</h2>"]
    legend = " ".join(badge(k, f"{VERDICT_LABELS[k]}: {counts[k]}") for k in VERDICT_ORDER if counts.get(k))
    out.append(
        f'<p class="legend" title="summary units by verdict (the timeline counts claims)"><strong>{len(units)} units:</strong> {legend}</p>'
        + (_stack(counts) if has_verdicts else "")
    )
    if not has_verdicts:
        out.append(
            '<p class="note">No verdicts in this run (alignment did not run): units are shown without '
            "colour. Click a unit for its details.</p>"
        )
    else:
        out.append('<p class="meta">Click a unit to see its claims, the transcript evidence and any flags.</p>')
        if any(
            isinstance(ev, Mapping) and ev.get("start_s") is not None and ev.get("timestamp")
            and _clock(ev.get("start_s")) != ev.get("timestamp")
            for u in units for c in u.get("claims") or [] if isinstance(c, Mapping) for ev in c.get("evidence") or []
        ):
            out.append(f'<p class="meta">{APPROX_NOTE}</p>')
    options = "".join(
        f'<option value="{k}">{esc(VERDICT_LABELS[k])}</option>' for k in VERDICT_ORDER if counts.get(k)
    )
    out.append(
        '<div class="toolbar hidden" id="toolbar"><button type="button" data-act="expand">Expand all</button>'
        '<button type="button" data-act="collapse">Collapse all</button>'
        f'<label>Show <select id="vfilter"><option value="all">all units</option>{options}</select></label></div>'
    )
    section = object()
    for u in units:
        if u.get("section") != section:
            section = u.get("section")
            if section:
                out.append(f'<h3 class="section">{esc(section)}</h3>')
        out.append(_unit_html(u, flags_by_unit.get(u.get("unit_id"), []), video_url))
    orphans = [f for uid, fs in flags_by_unit.items() if uid not in {u.get("unit_id") for u in units} for f in fs]
    if orphans:
        out.append("<h3 class='section'>Flags on units not in units.jsonl</h3>" + _flags_html(orphans, show_where=True))
    return "\n".join(out)


def _coverage_chapter_records(coverage: Any) -> list[Mapping[str, Any]]:
    if not isinstance(coverage, Mapping):
        return []
    for key in ("chapters", "per_chapter", "by_chapter"):
        recs = coverage.get(key)
        if isinstance(recs, list) and all(isinstance(r, Mapping) for r in recs):
            return recs
    return []


_CHAPTER_KNOWN = {"index", "chapter_index", "title", "chapter", "start_s", "end_s", "start", "end", "line_no"}
# Per-chapter coverage fields shown first, in this order; the rest (sorted) after them. Fields in
# _CHAPTER_HIDDEN stay in report.json only (they are inputs of the ones shown).
_CHAPTER_ORDER = ("label", "score", "key_point_recall", "evidence_score", "sponsor_share", "excluded")
_CHAPTER_HIDDEN = {"weight_s", "evidence_credit", "key_points", "matched_key_points"}
_LABEL_BADGE = {"full": "supported", "partial": "partially_supported", "none": "unsupported", "excluded": "not_checkable"}


def _chapter_columns(cov: list[Mapping[str, Any]]) -> list[str]:
    keys: set[str] = set()
    for r in cov:
        for k, v in r.items():
            if k not in _CHAPTER_KNOWN and k not in _CHAPTER_HIDDEN and (v is None or isinstance(v, (int, float, str, bool))):
                keys.add(k)
    return [k for k in _CHAPTER_ORDER if k in keys] + sorted(keys - set(_CHAPTER_ORDER))


def _chapters_section(report: Mapping[str, Any], units: list[Mapping[str, Any]]) -> str:
    chapters = (report.get("transcript") or {}).get("chapters") or []
    if not chapters:
        return ""
    video_url = (report.get("transcript") or {}).get("video_url")
    cov = _coverage_chapter_records(report.get("coverage"))
    by_index: dict[Any, Mapping[str, Any]] = {}
    for pos, r in enumerate(cov):
        idx = r.get("index", r.get("chapter_index", pos))
        by_index[idx] = r
    extra_cols = _chapter_columns(cov)
    # claims whose best evidence lies in each chapter, by verdict
    best: dict[str, Counter] = defaultdict(Counter)
    for u in units:
        for c in u.get("claims") or []:
            ev = (c.get("evidence") or [None])[0] if isinstance(c, Mapping) else None
            if isinstance(ev, Mapping) and ev.get("chapter"):
                best[str(ev["chapter"])][_verdict_key(c.get("verdict"))] += 1
    head = ["#", "chapter", "start", "length"] + [esc(k.replace("_", " ")) for k in extra_cols]
    if best:
        head.append("claims with best evidence here")
    rows = []
    for ch in chapters:
        start, end = ch.get("start_s"), ch.get("end_s")
        length = _clock(end - start) if isinstance(start, (int, float)) and isinstance(end, (int, float)) else ""
        cells = [
            f'<td class="num">{esc(ch.get("index"))}</td>',
            f"<td>{esc(ch.get('title'))}</td>",
            f'<td class="num mono">{link(video_time_url(video_url, start), _clock(start)) if start is not None else ""}</td>',
            f'<td class="num mono">{esc(length)}</td>',
        ]
        rec = by_index.get(ch.get("index"), {})
        for k in extra_cols:
            v = rec.get(k)
            share = _share01(v) if isinstance(v, float) else None
            if share is not None:
                cells.append(
                    f'<td class="num"><span class="bar"><span style="width:{100 * share:.1f}%"></span></span>{fmt_num(v, 3)}</td>'
                )
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                cells.append(f'<td class="num">{fmt_num(v)}</td>')
            elif k == "label" and v in _LABEL_BADGE:
                cells.append(f"<td>{badge(_LABEL_BADGE[v], str(v))}</td>")
            else:
                cells.append(f"<td>{fmt_num(v) if isinstance(v, bool) else esc(v)}</td>")
        if best:
            counts = best.get(str(ch.get("title")), Counter())
            n = sum(counts.values())
            cells.append(f'<td><div style="display:flex;gap:6px;align-items:center">{_stack(counts)}<span class="num">{n}</span></div></td>' if n else "<td></td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    header = "".join(f"<th>{h}</th>" for h in head)
    note = "" if cov else '<p class="meta">No per-chapter coverage in this run.</p>'
    return f"<h2>Transcript chapters</h2>{note}<div class='tscroll'><table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"


def _generic_table(records: list[Mapping[str, Any]]) -> str:
    cols: list[str] = []
    for r in records[:MAX_GENERIC_ROWS]:
        for k, v in sorted(r.items()):
            if k not in cols and (v is None or isinstance(v, (int, float, str, bool))):
                cols.append(k)
    rows = []
    for r in records[:MAX_GENERIC_ROWS]:
        cells = []
        for k in cols:
            v = r.get(k)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                cells.append(f'<td class="num">{fmt_num(v)}</td>')
            else:
                cells.append(f"<td>{esc(v)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    more = f'<p class="meta">{len(records) - MAX_GENERIC_ROWS} more rows in report.json</p>' if len(records) > MAX_GENERIC_ROWS else ""
    header = "".join(f"<th>{esc(k)}</th>" for k in cols)
    return f"<div class='tscroll'><table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{more}"


_COVERAGE_LIST_ORDER = ("missed_chapters", "missed_key_points", "redundant_pairs", "key_points")
_COVERAGE_SKIP = {"config", "chapters", "per_chapter", "by_chapter"}


def _coverage_section(report: Mapping[str, Any]) -> str:
    cov = report.get("coverage")
    if not isinstance(cov, Mapping) or not cov:
        return ""
    scalars = [(k, v) for k, v in sorted(cov.items()) if v is None or isinstance(v, (int, float, str, bool))]
    out = ["<h2>Coverage</h2>"]
    if scalars:
        out.append(
            '<dl class="kv">'
            + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v) if isinstance(v, str) else fmt_num(v)}</dd>" for k, v in scalars)
            + "</dl>"
        )
    notes = cov.get("notes")
    if isinstance(notes, list) and notes:
        out.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
    lists = [k for k, v in cov.items() if k not in _COVERAGE_SKIP and isinstance(v, list) and all(isinstance(r, Mapping) for r in v)]
    lists = [k for k in _COVERAGE_LIST_ORDER if k in lists] + sorted(k for k in lists if k not in _COVERAGE_LIST_ORDER)
    for k in lists:
        v = cov[k]
        if v:
            out.append(f"<details><summary>{esc(k.replace('_', ' '))} ({len(v)})</summary>{_generic_table(v)}</details>")
        else:
            out.append(f'<p class="meta">{esc(k.replace("_", " "))}: none</p>')
    return "\n".join(out) if len(out) > 1 else ""


def _figure_section(run_dir: Path | None) -> str:
    if run_dir is None:
        return ""
    for name, mime in (("timeline.svg", "image/svg+xml"), ("timeline.png", "image/png")):
        path = Path(run_dir) / name
        try:
            if not path.is_file() or path.stat().st_size > MAX_FIGURE_BYTES:
                continue
            data = base64.b64encode(path.read_bytes()).decode("ascii")
        except OSError as exc:  # unreadable figure: leave it out, the page is still useful
            log.warning("could not embed %s: %s", path, exc)
            continue
        return (
            f'<h2>Timeline</h2><figure><img alt="summary claims and coverage along the episode timeline" '
            f'src="data:{mime};base64,{data}"></figure>'
        )
    return ""


def _breakable(name: str) -> str:
    """An escaped dotted/underscored name that may wrap after its dots and underscores."""
    return "".join(esc(ch) + ("<wbr>" if ch in "._" else "") for ch in name)


def _metrics_section(report: Mapping[str, Any]) -> str:
    metrics = report.get("metrics") or {}
    if not metrics:
        return ""
    rows = []
    for name, m in sorted(metrics.items()):
        if not isinstance(m, Mapping):
            continue
        better = "↑ higher" if m.get("higher_is_better") else "↓ lower"
        note = f'<div class="meta">{esc(m.get("note"))}</div>' if m.get("note") else ""
        rows.append(
            f'<tr><td class="mono mname">{_breakable(name)}</td><td class="num">{fmt_num(m.get("value"))}</td>'
            f'<td class="meta">{better}</td><td class="mdesc">{esc(m.get("description"))}{note}</td></tr>'
        )
    return (
        "<h2>Metrics</h2><div class='tscroll'><table class='metrics'><thead><tr><th>metric</th><th>value</th><th>better</th><th>what it measures</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _flags_section(report: Mapping[str, Any]) -> str:
    flags = [f for f in report.get("flags") or [] if isinstance(f, Mapping)]
    if "flags" not in report:
        return ""
    if not flags:
        return "<h2>Flags</h2><p class='meta'>No flags.</p>"
    flags = sorted(flags, key=lambda f: (f.get("severity") != "major", str(f.get("unit_id")), str(f.get("claim_index"))))
    by = Counter((f.get("severity"), f.get("tag")) for f in flags)
    summary = " ".join(f"{badge('major' if s == 'major' else 'minor', str(s))} <code>{esc(t)}</code> {n}" for (s, t), n in sorted(by.items(), key=lambda kv: (kv[0][0] != "major", str(kv[0][1]))))
    return f"<h2>Flags</h2><p>{summary}</p>{_flags_html(flags, show_where=True)}"


def _sponsors_section(report: Mapping[str, Any]) -> str:
    t = report.get("transcript") or {}
    sps = t.get("sponsor_segments")
    if sps is None:
        return ""
    if not sps:
        return "<h2>Sponsor reads in the transcript</h2><p class='meta'>None found.</p>"
    video_url = t.get("video_url")
    rows = []
    for sp in sps:
        approx = "≈" if sp.get("time_estimated") else ""
        start = link(video_time_url(video_url, sp.get("start_s")), f"{approx}{sp.get('start') or ''}")
        rows.append(
            f'<tr><td class="num">{esc(sp.get("index"))}</td><td class="num mono">{start}</td>'
            f'<td class="num mono">{esc(approx)}{esc(sp.get("end"))}</td><td class="num">{esc(sp.get("words"))}</td>'
            f'<td>{esc(", ".join(str(r) for r in sp.get("rules") or []))}</td></tr>'
        )
    return (
        "<h2>Sponsor reads in the transcript</h2><div class='tscroll'><table><thead><tr><th>#</th><th>from</th><th>to</th><th>words</th>"
        f"<th>rules</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _not_available_section(report: Mapping[str, Any]) -> str:
    items = [n for n in report.get("not_available") or [] if isinstance(n, Mapping)]
    if not items:
        return ""
    lis = "".join(f"<li><code>{esc(n.get('check'))}</code>: {esc(n.get('reason'))}</li>" for n in items)
    return (
        '<section id="not-available"><h2>Checks not available</h2><p class="meta">These checks were not made '
        f"because the inputs lack what they need; they are not scored as zero.</p><ul>{lis}</ul></section>"
    )


def _signature_section(report: Mapping[str, Any]) -> str:
    sig = report.get("signature") or {}
    if not sig:
        return ""
    items = [("signature", f"<code>{esc(sig.get('string'))}</code>")]
    for role, meta in sorted((sig.get("inputs") or {}).items()):
        if isinstance(meta, Mapping):
            items.append((f"{role} sha256", f"<code>{esc(meta.get('sha256'))}</code> ({esc(meta.get('format'))})"))
    if sig.get("config_sha256"):
        items.append(("config sha256", f"<code>{esc(sig.get('config_sha256'))}</code>"))
    for key in ("harness_version", "python"):
        if sig.get(key):
            items.append((key.replace("_", " "), esc(sig.get(key))))
    if sig.get("models"):
        items.append(("models", "<br>".join(f"<code>{esc(k)}</code>: {esc(_plain(v))}" for k, v in sorted(sig["models"].items()))))
    if sig.get("packages"):
        items.append(("packages", ", ".join(f"{esc(k)} {esc(v)}" for k, v in sorted(sig["packages"].items()))))
    body = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in items)
    return f'<h2>Signature</h2><dl class="kv">{body}</dl>'


GLANCE = (
    ("consistency.score", "consistency"),
    ("coverage.chapter_weighted", "chapter coverage"),
    ("coverage.time_weighted", "time coverage"),
    ("coverage.key_point_recall", "key-point recall"),
    ("consistency.claims.contradicted", "contradicted claims"),
    ("units.boilerplate_share", "boilerplate share"),
    ("units.content_words", "content words"),
)


def _glance(report: Mapping[str, Any]) -> str:
    metrics = report.get("metrics") or {}
    cards = []
    for name, label in GLANCE:
        m = metrics.get(name)
        if isinstance(m, Mapping) and m.get("value") is not None:
            cards.append((label, fmt_num(m.get("value"), 3), name))
    if isinstance(report.get("flags"), list):
        sev = Counter(f.get("severity") for f in report["flags"] if isinstance(f, Mapping))
        if report["flags"] or any(k.startswith("flags") for k in metrics):
            cards.append(("flags", f"{sev.get('major', 0)} major · {sev.get('minor', 0)} minor", "flags"))
    if not cards:
        return ""
    inner = "".join(
        f'<div class="card" title="{esc(name)}"><div class="cv">{value}</div><div class="meta">{esc(label)}</div></div>'
        for label, value, name in cards
    )
    return f'<div class="cards">{inner}</div>'


def _header(report: Mapping[str, Any], units: list[Mapping[str, Any]]) -> str:
    t, s = report.get("transcript") or {}, report.get("summary") or {}
    title = s.get("title") or s.get("path") or "summary"
    dur = _clock(t.get("duration_s")) or "unknown length"
    lines = [
        f"<h1>Summary evaluation: {esc(title)}</h1>",
        f'<p class="meta">Summary <code>{esc(s.get("path"))}</code> · format <code>{esc(s.get("format"))}</code> · '
        f'{esc(s.get("units", len(units)))} units ({esc(s.get("boilerplate_units", 0))} boilerplate)</p>',
        f'<p class="meta">Transcript {link(t.get("video_url"), t.get("title") or t.get("path"))} · '
        f'<code>{esc(t.get("path"))}</code> · {len(t.get("chapters") or [])} chapters · {esc(t.get("turns"))} turns · {esc(dur)}</p>',
    ]
    lines.append(_glance(report))
    warnings = t.get("warnings") or []
    if warnings:
        lines.append('<p class="note">Transcript warnings:<br>' + "<br>".join(esc(w) for w in warnings) + "</p>")
    return "\n".join(lines)


def _plain(value: Any) -> str:
    """A value as text: strings as they are, anything else as key-sorted JSON (deterministic)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _script_hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def render_html(report: dict[str, Any], units: list[dict[str, Any]], run_dir: Path | None) -> str:
    """The run as one self-contained HTML page.

    Args:
        report: the ``report.json`` content (sections other helpers add are optional).
        units: the ``units.jsonl`` rows, in document order.
        run_dir: the run directory, searched for ``timeline.svg`` / ``timeline.png`` to embed
            (``None``: no figure).
    """
    units = [u for u in units if isinstance(u, Mapping)]
    s = report.get("summary") or {}
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src '{_script_hash(SCRIPT)}'; base-uri 'none'; form-action 'none'"
    )
    body = [
        _header(report, units),
        _not_available_section(report),
        _figure_section(run_dir),
        _units_section(report, units),
        _flags_section(report),
        _chapters_section(report, units),
        _coverage_section(report),
        _sponsors_section(report),
        _metrics_section(report),
        _signature_section(report),
    ]
    timings = report.get("timings_s") or {}
    footer = " · ".join(f"{esc(k)} {fmt_num(v, 3)} s" for k, v in sorted(timings.items()))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc('Summary evaluation: ' + str(s.get('title') or s.get('path') or 'summary'))}</title>"
        f"<style>{CSS}</style></head>\n<body><main>\n"
        + "\n".join(part for part in body if part)
        + f"\n<footer>harness {esc((report.get('signature') or {}).get('harness_version'))} · report schema "
        f"{esc(report.get('schema_version'))}{' · stage timings: ' + footer if footer else ''}</footer>\n"
        f"</main><script>{SCRIPT}</script></body></html>\n"
    )


def write_html_for_run_dir(run_dir: str | Path) -> Path:
    """(Re)write ``report.html`` of an existing run directory from its report.json and units.jsonl."""
    from harness.textio import atomic_write_text

    run = Path(run_dir)
    report = json.loads((run / "report.json").read_text(encoding="utf-8"))
    units_path = run / "units.jsonl"
    units = []
    if units_path.exists():
        units = [json.loads(line) for line in units_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = run / "report.html"
    atomic_write_text(out, render_html(report, units, run))
    return out
