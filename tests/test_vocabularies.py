"""Closed vocabularies as str-valued enums (issue #18): verdict label, severity, unit kind and
line role serialize exactly as the strings they replace, and the tuple constants other modules
use are derived from them."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from harness.types import (
    LINE_ROLES,
    SEVERITIES,
    UNIT_KINDS,
    UNIT_VERDICTS,
    VERDICTS,
    Flag,
    LineRoleKind,
    Severity,
    UnitKind,
    VerdictLabel,
)


def test_tuple_constants_are_derived_and_unchanged():
    assert VERDICTS == ("supported", "partially_supported", "unsupported", "contradicted")
    assert UNIT_VERDICTS == VERDICTS + ("not_checkable",)
    assert SEVERITIES == ("major", "minor", "info")
    assert LINE_ROLES == ("unit", "heading", "question", "front_matter", "markup")
    assert "key_insight" in UNIT_KINDS and "boilerplate" in UNIT_KINDS
    assert all(type(v) is str for v in VERDICTS + SEVERITIES + UNIT_KINDS + LINE_ROLES)


@pytest.mark.parametrize("member", [VerdictLabel.PARTIALLY_SUPPORTED, Severity.MAJOR, UnitKind.QA_ANSWER, LineRoleKind.FRONT_MATTER])
def test_a_member_is_its_value_in_text_and_json(member):
    value = member.value
    assert member == value and hash(member) == hash(value)
    assert str(member) == f"{member}" == "%s" % member == value
    assert json.dumps(member) == json.dumps(value)
    assert json.dumps({member: [member]}, sort_keys=True) == json.dumps({value: [value]}, sort_keys=True)
    assert type(member)(value) is member


def test_a_record_holding_members_serializes_byte_identically():
    def flag(severity):
        return Flag(tag="misquote", severity=severity, unit_id="u001", claim_index=None, message="m")

    assert json.dumps(asdict(flag(Severity.MAJOR)), sort_keys=True) == json.dumps(asdict(flag("major")), sort_keys=True)


def test_the_formats_use_only_declared_unit_kinds_and_line_roles():
    """The three references with their own formats, and the generic pages with `markdown`."""
    from conftest import ROOT, SUMMARIES
    from harness.formats import FormatOptions, load_summary

    pages = [(path, name) for name, path in SUMMARIES.items()]
    pages += [(p, "markdown") for p in sorted((ROOT / "tests" / "data" / "summaries").iterdir())]
    kinds, roles = set(), set()
    for path, fmt in pages:
        summary = load_summary(str(path), fmt, FormatOptions())
        kinds |= {u.kind for u in summary.units}
        roles |= {r.role for r in summary.line_roles}
    assert kinds <= set(UNIT_KINDS), kinds - set(UNIT_KINDS)
    assert roles <= set(LINE_ROLES), roles - set(LINE_ROLES)
    assert {"key_insight", "qa_answer", "wiki_sentence", "boilerplate"} <= kinds  # the test reads real pages
    assert {"unit", "heading"} <= roles


def test_flag_config_severities_are_declared():
    from harness.config import compose_config

    flags = compose_config([]).flags
    found = {v for node in flags.values() if hasattr(node, "items") for k, v in node.items() if "severity" in k}
    found.add(flags.background_max_severity)
    assert found and found <= set(SEVERITIES)


def test_page_kinds_are_declared():
    from harness.formats.page_kinds import PAGE_KINDS

    assert set(PAGE_KINDS) <= set(UNIT_KINDS)
