"""``boilerplate``: site chrome on a summary page.

One unit-level flag per unit the parser marked as boilerplate (with the parser's reason), so a
user sees how much of the page is not summary, plus one per *content* unit that looks like
chrome the parser missed: a short unit matching one of the ``flags.boilerplate.patterns``
(view counts, "Subscribe", dates, bylines, navigation, calls to action).
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from harness.errors import ConfigError
from harness.flags.base import FLAGS, FlagContext, severity
from harness.flags.text import quoted
from harness.types import Flag


def _patterns(params: Mapping[str, Any]) -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for item in params["patterns"] or []:
        name, pattern = item.get("name"), item.get("pattern")
        if not name or not pattern:
            raise ConfigError(f"flags.boilerplate.patterns: every entry needs a name and a pattern ({item})")
        try:
            out.append((str(name), re.compile(str(pattern), re.I)))
        except re.error as exc:
            raise ConfigError(f"flags.boilerplate.patterns {name!r}: bad regular expression: {exc}") from None
    return out


@FLAGS.register("boilerplate")
def detect_boilerplate(ctx: FlagContext, params: Mapping[str, Any]) -> Iterable[Flag]:
    """Flags for parsed boilerplate units and for content units that look like chrome."""
    sev = severity(params, "severity")
    max_words = int(params["max_words"])
    patterns = _patterns(params)
    units = ctx.summary.units
    n_boiler = sum(u.boilerplate for u in units)
    for u in units:
        if u.boilerplate:
            reason = re.sub(r",?\s*not summary content\s*$", "", u.boilerplate_reason or "") or "site chrome"
            yield Flag(
                tag="boilerplate",
                severity=sev,
                unit_id=u.unit_id,
                claim_index=None,
                message=(
                    f"{quoted(u.text_plain, 8)} is not summary content ({reason}); "
                    f"{n_boiler} of the page's {len(units)} units are like this."
                ),
            )
            continue
        if params["check_content_units"] and len(u.text_plain.split()) <= max_words:
            hit = next((name for name, p in patterns if p.search(u.text_plain)), None)
            if hit:
                yield Flag(
                    tag="boilerplate",
                    severity=sev,
                    unit_id=u.unit_id,
                    claim_index=None,
                    message=(
                        f"{quoted(u.text_plain, 8)} looks like page chrome ({hit.replace('_', ' ')}) "
                        "but is counted as summary content."
                    ),
                )
