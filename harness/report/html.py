"""``report.html``: the run as one self-contained page a person reads unit by unit.

The page has no external resources: CSS and the (optional, tiny) script are inline, a timeline
figure the run directory holds (``timeline.svg`` / ``timeline.png``) is embedded as a data URI.

The markup lives in Jinja2 templates (``harness/templates/report.html.j2`` and
``report_macros.html.j2``, with ``report.css`` and ``report.js``); this module reads the run's
records and hands the templates what each section shows. Tables go through ``harness.tables``.

Summaries and transcripts are untrusted input. The templates autoescape every value they print
(attribute values included; ``harness.templates.escape``); a URL becomes a link only when it
starts with ``http://`` or ``https://``. A Content-Security-Policy that allows only the page's
own script (by hash) and data-URI images is a second line of defence should an escape ever be
missed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable, Mapping

from markupsafe import Markup

from harness.report.records import sponsor_parts_text
from harness.tables import Align, Cell, Column, Table, to_html
from harness.tables import format_number as fmt_num
from harness.templates import environment, static_text
from harness.text import format_clock

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
# What "2:23 (≈3:07)" on an evidence passage means (Evidence.timestamp vs Evidence.start_s);
# the page says it once more under the units' legend (report.html.j2).
APPROX_TITLE = (
    "2:23 is the transcript's own timestamp of the paragraph that holds the quote (the link "
    "goes there); ≈3:07 is the quote's estimated time, interpolated by its position between that "
    "timestamp and the next one"
)
MAX_FIGURE_BYTES = 8_000_000
MAX_GENERIC_ROWS = 300


def _asset(name: str) -> str:
    """The text of a file in ``harness/templates`` (the page's style and script), after a line
    break."""
    return "\n" + static_text(name)


# ----------------------------------------------------------------------------------------------
# values
# ----------------------------------------------------------------------------------------------


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


def video_time_url(video_url: Any, seconds: float | None) -> str | None:
    """A link to second ``seconds`` of the video (``?t=N``), when the video URL is http(s)."""
    base = safe_url(video_url)
    if base is None or seconds is None:
        return None
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}t={int(seconds)}"


def _text(value: Any) -> str:
    """A table cell's text: '' for None, else the value's text."""
    return "" if value is None else str(value)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _verdict_key(label: Any) -> str:
    return label if isinstance(label, str) and label in VERDICT_LABELS else "none"


def _share01(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= float(value) <= 1.0:
        return float(value)
    return None


def _plain(value: Any) -> str:
    """A value as text: strings as they are, anything else as key-sorted JSON (deterministic)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def unit_class(unit: Mapping[str, Any]) -> str:
    """The verdict class a unit is coloured by: boilerplate, its verdict, or ``none``."""
    if unit.get("boilerplate"):
        return "boilerplate"
    return _verdict_key(unit.get("verdict"))


def _is_approx(ev: Mapping[str, Any]) -> bool:
    """Whether the quote's own time differs from its paragraph's timestamp (shown as ≈)."""
    return ev.get("start_s") is not None and bool(ev.get("timestamp")) and format_clock(ev.get("start_s"), missing="") != ev.get("timestamp")


# ----------------------------------------------------------------------------------------------
# what each part of the page shows (the templates say how)
# ----------------------------------------------------------------------------------------------


def _evidence(evidence: Iterable[Any]) -> list[dict[str, Any]]:
    out = []
    for ev in evidence or ():
        if not isinstance(ev, Mapping):
            continue
        out.append({
            "label": ev.get("timestamp") or format_clock(ev.get("start_s"), missing="") or "?",
            "url": ev.get("url"),
            "approx": format_clock(ev.get("start_s"), missing="") if _is_approx(ev) else None,
            "speaker": ev.get("speaker"),
            "chapter": ev.get("chapter"),
            "score": fmt_num(ev["score"], 2) if isinstance(ev.get("score"), (int, float)) else None,
            "is_sponsor": bool(ev.get("is_sponsor")),
            "quote": ev.get("quote"),
        })
    return out


def _flags(flags: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "severity": "major" if f.get("severity") == "major" else "minor",
            "tag": f.get("tag"),
            "unit_id": f.get("unit_id"),
            "claim_index": f.get("claim_index"),
            "message": f.get("message"),
            "evidence": _evidence(f.get("evidence") or ()),
        }
        for f in flags
    ]


def _unit(unit: Mapping[str, Any], flags: list[Mapping[str, Any]], video_url: Any) -> dict[str, Any]:
    cls = unit_class(unit)
    text = unit.get("text_plain") or unit.get("text") or ""
    n_major = sum(f.get("severity") == "major" for f in flags)
    claim_flags: dict[Any, list] = defaultdict(list)
    unit_flags = []
    for f in flags:
        if f.get("claim_index") is None:
            unit_flags.append(f)
        else:
            claim_flags[f.get("claim_index")].append(f)
    claims = []
    for i, c in enumerate(unit.get("claims") or []):
        if not isinstance(c, Mapping):
            continue
        claims.append({
            "verdict": _verdict_key(c.get("verdict")),
            "score": fmt_num(c["score"], 2) if isinstance(c.get("score"), (int, float)) else None,
            "claim_id": c.get("claim_id"),
            "text": c.get("text"),
            "flags": _flags(claim_flags.pop(i, [])),
            "evidence": _evidence(c.get("evidence") or ()),
        })
    leftover = [f for fs in claim_flags.values() for f in fs]  # claim_index beyond the claims
    cited_s = unit.get("cited_timestamp_s")
    return {
        "cls": cls,
        "uid": unit.get("unit_id"),
        "text": text,
        "n_major": n_major,
        "n_minor": len(flags) - n_major,
        "score": f"{float(unit['score']):.2f}" if isinstance(unit.get("score"), (int, float)) else None,
        "kind": unit.get("kind"),
        "line_no": unit.get("line_no"),
        "cited": format_clock(cited_s, missing="") if cited_s is not None else None,
        "cited_url": video_time_url(video_url, cited_s) if cited_s is not None else None,
        "boilerplate_reason": (unit.get("boilerplate_reason") or "site chrome") if unit.get("boilerplate") else None,
        "raw": unit.get("text") if unit.get("text") and unit.get("text") != text else None,
        "reason": unit.get("verdict_reason") if unit.get("verdict_reason") and not unit.get("boilerplate") else None,
        "verdict_label": VERDICT_LABELS.get(cls, cls),
        "claims": claims,
        "flags": _flags(unit_flags + leftover),
        "flags_where": bool(leftover),
        "section_heading": None,
    }


def _stack(counts: Mapping[str, int]) -> list[tuple[str, str, str]]:
    """The verdict bar: (verdict, width in %, tooltip) for each verdict counted."""
    total = sum(counts.values())
    if not total:
        return []
    return [
        (k, f"{100.0 * counts[k] / total:.3f}", f"{VERDICT_LABELS[k]}: {counts[k]}")
        for k in VERDICT_ORDER if counts.get(k, 0)
    ]


def _units(report: Mapping[str, Any], units: list[Mapping[str, Any]]) -> dict[str, Any]:
    flags_by_unit: dict[Any, list] = defaultdict(list)
    for f in report.get("flags") or []:
        if isinstance(f, Mapping):
            flags_by_unit[f.get("unit_id")].append(f)
    video_url = (report.get("transcript") or {}).get("video_url")
    counts = Counter(unit_class(u) for u in units)
    has_verdicts = any(u.get("verdict") for u in units)
    items = []
    section: Any = object()
    for u in units:
        item = _unit(u, flags_by_unit.get(u.get("unit_id"), []), video_url)
        if u.get("section") != section:
            section = u.get("section")
            item["section_heading"] = section or None
        items.append(item)
    ids = {u.get("unit_id") for u in units}
    return {
        "count": len(units),
        "counts": [(k, counts[k]) for k in VERDICT_ORDER if counts.get(k)],
        "stack": _stack(counts) if has_verdicts else [],
        "has_verdicts": has_verdicts,
        "approx": has_verdicts and any(
            isinstance(ev, Mapping) and _is_approx(ev)
            for u in units for c in u.get("claims") or [] if isinstance(c, Mapping) for ev in c.get("evidence") or []
        ),
        "entries": items,
        "orphans": _flags(f for uid, fs in flags_by_unit.items() if uid not in ids for f in fs),
    }


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


def _chapters(report: Mapping[str, Any], units: list[Mapping[str, Any]], m: Any) -> dict[str, Any] | None:
    chapters = (report.get("transcript") or {}).get("chapters") or []
    if not chapters:
        return None
    video_url = (report.get("transcript") or {}).get("video_url")
    cov = _coverage_chapter_records(report.get("coverage"))
    by_index: dict[Any, Mapping[str, Any]] = {}
    for pos, r in enumerate(cov):
        by_index[r.get("index", r.get("chapter_index", pos))] = r
    extra_cols = _chapter_columns(cov)
    # claims whose best evidence lies in each chapter, by verdict
    best: dict[str, Counter] = defaultdict(Counter)
    for u in units:
        for c in u.get("claims") or []:
            ev = (c.get("evidence") or [None])[0] if isinstance(c, Mapping) else None
            if isinstance(ev, Mapping) and ev.get("chapter"):
                best[str(ev["chapter"])][_verdict_key(c.get("verdict"))] += 1
    columns = [
        Column("index", "#", Align.RIGHT),
        Column("chapter"),
        Column("start", html_class="num mono"),
        Column("length", html_class="num mono"),
    ] + [Column(k, k.replace("_", " ")) for k in extra_cols]
    if best:
        columns.append(Column("best", "claims with best evidence here"))
    rows = []
    for ch in chapters:
        start, end = ch.get("start_s"), ch.get("end_s")
        length = format_clock(end - start, missing="") if isinstance(start, (int, float)) and isinstance(end, (int, float)) else ""
        cells: list[Any] = [
            ch.get("index"),
            ch.get("title"),
            m.link(video_time_url(video_url, start), format_clock(start, missing="")) if start is not None else "",
            length,
        ]
        rec = by_index.get(ch.get("index"), {})
        for k in extra_cols:
            v = rec.get(k)
            share = _share01(v) if isinstance(v, float) else None
            if share is not None:
                cells.append(Cell(m.bar(share, fmt_num(v, 3)), html_class="num"))
            elif _number(v):
                cells.append(Cell(fmt_num(v), html_class="num"))
            elif k == "label" and v in _LABEL_BADGE:
                cells.append(m.badge(_LABEL_BADGE[v], str(v)))
            else:
                cells.append(fmt_num(v) if isinstance(v, bool) else v)
        if best:
            counts = best.get(str(ch.get("title")), Counter())
            n = sum(counts.values())
            cells.append(m.best_here(_stack(counts), n) if n else "")
        rows.append(cells)
    return {"has_coverage": bool(cov), "table": to_html(Table.of(columns, rows), _text)}


def _generic_table(records: list[Mapping[str, Any]]) -> Markup:
    cols: list[str] = []
    for r in records[:MAX_GENERIC_ROWS]:
        for k, v in sorted(r.items()):
            if k not in cols and (v is None or isinstance(v, (int, float, str, bool))):
                cols.append(k)
    rows = [
        [Cell(fmt_num(r.get(k)), html_class="num") if _number(r.get(k)) else r.get(k) for k in cols]
        for r in records[:MAX_GENERIC_ROWS]
    ]
    return to_html(Table.of([Column(k) for k in cols], rows), _text)


_COVERAGE_LIST_ORDER = ("missed_chapters", "missed_key_points", "redundant_pairs", "key_points")
_COVERAGE_SKIP = {"config", "chapters", "per_chapter", "by_chapter"}


def _coverage(report: Mapping[str, Any]) -> dict[str, Any] | None:
    cov = report.get("coverage")
    if not isinstance(cov, Mapping) or not cov:
        return None
    scalars = [
        (k, v if isinstance(v, str) else fmt_num(v))
        for k, v in sorted(cov.items()) if v is None or isinstance(v, (int, float, str, bool))
    ]
    notes = cov.get("notes") if isinstance(cov.get("notes"), list) else []
    names = [k for k, v in cov.items() if k not in _COVERAGE_SKIP and isinstance(v, list) and all(isinstance(r, Mapping) for r in v)]
    names = [k for k in _COVERAGE_LIST_ORDER if k in names] + sorted(k for k in names if k not in _COVERAGE_LIST_ORDER)
    lists = []
    for k in names:
        v = cov[k]
        more = len(v) - MAX_GENERIC_ROWS if len(v) > MAX_GENERIC_ROWS else 0
        lists.append((k.replace("_", " "), len(v), _generic_table(v) if v else "", more))
    if not (scalars or notes or lists):
        return None
    return {"scalars": scalars, "notes": notes, "lists": lists}


def _figure(run_dir: Path | None) -> dict[str, str] | None:
    if run_dir is None:
        return None
    for name, mime in (("timeline.svg", "image/svg+xml"), ("timeline.png", "image/png")):
        path = Path(run_dir) / name
        try:
            if not path.is_file() or path.stat().st_size > MAX_FIGURE_BYTES:
                continue
            data = base64.b64encode(path.read_bytes()).decode("ascii")
        except OSError as exc:  # unreadable figure: leave it out, the page is still useful
            log.warning("could not embed %s: %s", path, exc)
            continue
        return {"mime": mime, "data": data}
    return None


def _metrics(report: Mapping[str, Any], m: Any) -> Markup | None:
    metrics = report.get("metrics") or {}
    if not metrics:
        return None
    columns = [
        Column("metric", html_class="mono mname"),
        Column("value", align=Align.RIGHT),
        Column("better", html_class="meta"),
        Column("what it measures", html_class="mdesc"),
    ]
    rows = [
        [m.breakable(name), fmt_num(mm.get("value")), {True: "↑ higher", False: "↓ lower"}.get(mm.get("higher_is_better"), "neither (a size)"),
         m.description(mm.get("description"), mm.get("note"))]
        for name, mm in sorted(metrics.items()) if isinstance(mm, Mapping)
    ]
    return to_html(Table.of(columns, rows, html_class="metrics"), _text)


def _flag_summary(report: Mapping[str, Any]) -> dict[str, Any] | None:
    if "flags" not in report:
        return None
    flags = [f for f in report.get("flags") or [] if isinstance(f, Mapping)]
    flags = sorted(flags, key=lambda f: (f.get("severity") != "major", str(f.get("unit_id")), str(f.get("claim_index"))))
    by = Counter((f.get("severity"), f.get("tag")) for f in flags)
    counts = [(str(s), t, n) for (s, t), n in sorted(by.items(), key=lambda kv: (kv[0][0] != "major", str(kv[0][1])))]
    return {"entries": _flags(flags), "counts": counts}


def _sponsors(report: Mapping[str, Any], m: Any) -> Markup | str | None:
    t = report.get("transcript") or {}
    sps = t.get("sponsor_segments")
    if sps is None:
        return None
    if not sps:
        return ""
    video_url = t.get("video_url")
    columns = [
        Column("index", "#", Align.RIGHT),
        Column("from", html_class="num mono"),
        Column("to", html_class="num mono"),
        Column("words", align=Align.RIGHT),
        Column("parts"),
        Column("rules"),
    ]
    rows = []
    for sp in sps:
        approx = "≈" if sp.get("time_estimated") else ""
        rows.append([
            sp.get("index"),
            m.link(video_time_url(video_url, sp.get("start_s")), f"{approx}{sp.get('start') or ''}"),
            f"{approx}{_text(sp.get('end'))}",
            sp.get("words"),
            sponsor_parts_text(sp),
            ", ".join(str(r) for r in sp.get("rules") or []),
        ])
    return to_html(Table.of(columns, rows), _text)


def _signature(report: Mapping[str, Any]) -> dict[str, Any] | None:
    sig = report.get("signature") or {}
    if not sig:
        return None
    return {
        "string": sig.get("string"),
        "inputs": [
            (role, meta.get("sha256"), meta.get("format"))
            for role, meta in sorted((sig.get("inputs") or {}).items()) if isinstance(meta, Mapping)
        ],
        "config_sha256": sig.get("config_sha256"),
        "versions": [(key.replace("_", " "), sig.get(key)) for key in ("harness_version", "python") if sig.get(key)],
        "models": [(k, _plain(v)) for k, v in sorted((sig.get("models") or {}).items())],
        "packages": sorted((sig.get("packages") or {}).items()),
    }


GLANCE = (
    ("consistency.score", "consistency"),
    ("coverage.chapter_weighted", "chapter coverage"),
    ("coverage.time_weighted", "time coverage"),
    ("coverage.key_point_recall", "key-point recall"),
    ("consistency.claims.contradicted", "contradicted claims"),
    ("units.boilerplate_share", "boilerplate share"),
    ("units.content_words", "content words"),
)


def _cards(report: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The headline figures: (label, value, metric name)."""
    metrics = report.get("metrics") or {}
    cards = []
    for name, label in GLANCE:
        mm = metrics.get(name)
        if isinstance(mm, Mapping) and mm.get("value") is not None:
            cards.append((label, fmt_num(mm.get("value"), 3), name))
    if isinstance(report.get("flags"), list):
        sev = Counter(f.get("severity") for f in report["flags"] if isinstance(f, Mapping))
        if report["flags"] or any(k.startswith("flags") for k in metrics):
            cards.append(("flags", f"{sev.get('major', 0)} major · {sev.get('minor', 0)} minor", "flags"))
    return cards


def _script_hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def render_html(report: dict[str, Any], units: list[dict[str, Any]], run_dir: Path | None) -> str:
    """The run as one self-contained HTML page (template ``report.html.j2``).

    Args:
        report: the ``report.json`` content (sections other helpers add are optional).
        units: the ``units.jsonl`` rows, in document order.
        run_dir: the run directory, searched for ``timeline.svg`` / ``timeline.png`` to embed
            (``None``: no figure).
    """
    units = [u for u in units if isinstance(u, Mapping)]
    env = environment()
    env.globals.update(verdict_labels=VERDICT_LABELS, safe_url=safe_url, approx_title=APPROX_TITLE)
    m = env.get_template("report_macros.html.j2").module
    t, s = report.get("transcript") or {}, report.get("summary") or {}
    # The page's own script (expand/collapse all, a verdict filter) is allowed by its hash.
    script = _asset("report.js")
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src '{_script_hash(script)}'; base-uri 'none'; form-action 'none'"
    )
    timings = report.get("timings_s") or {}
    return env.get_template("report.html.j2").render(
        csp=csp,
        css=Markup(_asset("report.css")),
        script=Markup(script),
        title=str(s.get("title") or s.get("path") or "summary"),
        summary={"path": s.get("path"), "format": s.get("format"), "units": s.get("units", len(units)),
                 "boilerplate_units": s.get("boilerplate_units", 0)},
        transcript={"video_url": t.get("video_url"), "label": t.get("title") or t.get("path"), "path": t.get("path"),
                    "chapters": len(t.get("chapters") or []), "turns": t.get("turns"),
                    "duration": format_clock(t.get("duration_s"), missing="") or "unknown length"},
        cards=_cards(report),
        warnings=t.get("warnings") or [],
        not_available=[n for n in report.get("not_available") or [] if isinstance(n, Mapping)],
        figure=_figure(run_dir),
        units=_units(report, units),
        flags=_flag_summary(report),
        chapters=_chapters(report, units, m),
        coverage=_coverage(report),
        sponsors=_sponsors(report, m),
        metrics=_metrics(report, m),
        signature=_signature(report),
        harness_version=(report.get("signature") or {}).get("harness_version"),
        schema_version=report.get("schema_version"),
        timings=" · ".join(f"{k} {fmt_num(v, 3)} s" for k, v in sorted(timings.items())),
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
