"""Error flags (harness/flags/): every detector on small synthetic inputs (positive and negative)
and on the reference summaries, where the reference has a real case.

Verdicts are built by hand here (the aligner is tested in test_align.py): a flag detector reads
only ``UnitVerdict``/``Verdict``/``Evidence`` and must work without them.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest
from omegaconf import OmegaConf

from conftest import CONFIG_DIR, SUMMARIES, compose
from harness.errors import ConfigError
from harness.flags import FLAGS, default_flags_config, detect_flags, flag_counts
from harness.flags.numbers import extract_numbers, same_value
from harness.flags.text import skeleton
from harness.formats import FormatOptions, load_summary
from harness.sponsors import mark_sponsors, sponsor_config_from_mapping
from harness.readers.markdown_blog import read_markdown_blog
from harness.text import edit_distance, edit_similarity, format_clock
from harness.transcript_lookup import evidence_from_span
from harness.types import Claim, Summary, SummaryUnit, UnitVerdict, Verdict

DETECTORS = [
    "ad_content",
    "boilerplate",
    "misspelled_entity",
    "extrinsic_entity",
    "extrinsic_fact",
    "number_mismatch",
    "wrong_timestamp",
    "misattribution",
    "unsupported_claim",
    "contradicted_claim",
    "misquote",
    "quote_paraphrased",
    "misattributed_quote",
]

# ----------------------------------------------------------------------------------------------
# Synthetic transcript and summaries
# ----------------------------------------------------------------------------------------------

SYNTHETIC = """---
title: Synthetic episode
---

## Introduction

[0:00](https://youtu.be/XYZ?t=0)
**Host Person:** Welcome to the show, today I talk with Ada Lovelace about neural networks. This show is presented by Acme Bank, the number one bank app. Use code SHOW to get ten dollars. Acme Bank lets you send money to friends and buy Bitcoin. Debits and credits on ledgers started thousands of years ago, and Bitcoin may redefine the nature of money.

**Host Person:** And now, here is my conversation with Ada Lovelace.

## Networks

[1:00](https://youtu.be/XYZ?t=60)
**Host Person:** When did you first train a deep network?

**Ada Lovelace:** In about 2010, James Martens invented the Hessian-free optimizer and trained a ten-layer network from scratch. Then Alex Krizhevsky wrote fast CUDA kernels, and Alex Krizhevsky trained AlexNet on ImageNet at DeepMind.

[5:00](https://youtu.be/XYZ?t=300)
**AAda Lovelace:** GPT-2 has one and a half billion parameters. Depth matters more than width for these models.

[10:00](https://youtu.be/XYZ?t=600)
**Host Person:** So you think that bigger models simply generalize better than small ones?

**Ada Lovelace:** Yes. Mostly, yes.

**Host Person:** I believe that small models will always win on cost.

**Ada Lovelace:** Maybe.

## Meaning

[20:00](https://youtu.be/XYZ?t=1200)
**Ada Lovelace:** I think the meaning of life is to be happy and to help other people flourish.

[30:00](https://youtu.be/XYZ?t=1800)
**Host Person:** Thank you for listening.
"""


@pytest.fixture(scope="module")
def flags_cfg() -> dict:
    return default_flags_config()


@pytest.fixture(scope="module")
def synth():
    cfg = OmegaConf.to_container(compose().sponsors)
    t = read_markdown_blog(SYNTHETIC, "synthetic.md", "0" * 64)
    t = mark_sponsors(t, sponsor_config_from_mapping(cfg))
    assert len(t.sponsor_segments) == 1
    return t


def unit(uid: str, text: str, kind: str = "key_insight", *, index: int = 0, cited: int | None = None,
         section: str | None = None, boilerplate_reason: str | None = None, raw: str | None = None) -> SummaryUnit:
    return SummaryUnit(
        unit_id=uid,
        index=index,
        section=section,
        kind=kind,
        text=raw if raw is not None else text,
        text_plain=text,
        line_no=index + 1,
        cited_timestamp_s=cited,
        boilerplate=boilerplate_reason is not None,
        boilerplate_reason=boilerplate_reason,
    )


def summary(*units: SummaryUnit) -> Summary:
    numbered = tuple(replace(u, index=i) for i, u in enumerate(units))
    return Summary(path="s.md", sha256="1" * 64, format="plain", title=None, units=numbered, line_roles=())


def ev(transcript, phrase: str, score: float = 0.8, **changes):
    """Evidence for the first occurrence of ``phrase`` in the transcript."""
    start = transcript.text.index(phrase)
    e = evidence_from_span(transcript, start, start + len(phrase), score=score)
    return replace(e, **changes) if changes else e


def verdict(u: SummaryUnit, label: str, evidence=(), score: float = 0.8, text: str | None = None, index: int = 0) -> Verdict:
    text = text if text is not None else u.text_plain
    start = max(0, u.text_plain.find(text))
    claim = Claim(f"{u.unit_id}.c{index + 1}", u.unit_id, index, text, start, start + len(text))
    return Verdict(claim=claim, label=label, score=score, evidence=tuple(evidence))


def uv(*verdicts: Verdict) -> UnitVerdict:
    return UnitVerdict(unit_id=verdicts[0].claim.unit_id, label=verdicts[0].label, score=verdicts[0].score,
                       claims=tuple(verdicts))


def only(cfg: dict, *names: str, **overrides) -> dict:
    out = copy.deepcopy(cfg)
    out["enabled"] = list(names)
    for key, value in overrides.items():
        out[key] = {**out.get(key, {}), **value}
    return out


def tags(flags, tag: str | None = None, unit_id: str | None = None):
    return [f for f in flags if (tag is None or f.tag == tag) and (unit_id is None or f.unit_id == unit_id)]


# ----------------------------------------------------------------------------------------------
# Reference fixtures: the three summaries, flagged once without verdicts
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ref_summaries():
    return {name: load_summary(str(SUMMARIES[name]), name, FormatOptions()) for name in SUMMARIES}


@pytest.fixture(scope="module")
def ref_flags(reference_transcript, ref_summaries, flags_cfg):
    return {name: detect_flags(reference_transcript, s, (), flags_cfg) for name, s in ref_summaries.items()}


def unit_by_prefix(s: Summary, prefix: str) -> SummaryUnit:
    found = [u for u in s.units if u.text_plain.startswith(prefix)]
    assert len(found) == 1, f"{len(found)} units start with {prefix!r}"
    return found[0]


# ----------------------------------------------------------------------------------------------
# Registry, config, API
# ----------------------------------------------------------------------------------------------


def test_every_detector_is_registered_and_enabled_by_default(flags_cfg):
    assert set(DETECTORS) <= set(FLAGS.names())
    assert flags_cfg["enabled"] == DETECTORS


def _composed_flags():
    cfg = compose()
    if "flags" not in cfg:  # until configs/config.yaml lists the group in its defaults
        cfg = compose(["+flags=default"])
    return cfg.flags


def test_flags_group_composes_with_hydra_and_is_accepted_as_is(synth):
    flags = _composed_flags()
    assert list(flags.enabled) == DETECTORS
    s = summary(unit("u001", "Subscribe to our newsletter", "summary_sentence"))
    (flag,) = detect_flags(synth, s, (), flags)  # a DictConfig straight from Hydra
    assert flag.tag == "boilerplate"
    assert detect_flags(synth, s, ()) == (flag,)  # cfg=None: the bundled defaults


def test_a_missing_setting_is_a_config_error_naming_it(synth, flags_cfg):
    cfg = only(flags_cfg, "wrong_timestamp")
    del cfg["wrong_timestamp"]["tolerance_s"]
    s = summary(unit("u001", "Depth matters.", "wiki_sentence", cited=10))
    with pytest.raises(ConfigError, match="flags.wrong_timestamp.tolerance_s is missing"):
        detect_flags(synth, s, (), cfg)


def test_every_threshold_in_the_config_is_commented():
    lines = (CONFIG_DIR / "flags" / "default.yaml").read_text().splitlines()
    numeric = [i for i, line in enumerate(lines) if line.strip() and ":" in line
               and line.split(":", 1)[1].strip().split("#")[0].strip().replace(".", "", 1).isdigit()]
    assert numeric
    for i in numeric:
        # a comment on the line or in the comment block just above it (within the same key group)
        block = lines[max(0, i - 12) : i + 1]
        assert "#" in lines[i] or any(line.strip().startswith("#") for line in block), lines[i]


def test_unknown_detector_and_bad_severity_are_config_errors(synth, flags_cfg):
    s = summary(unit("u001", "Ada Lovelace trained networks."))
    with pytest.raises(ConfigError, match="unknown flag detector 'nope'"):
        detect_flags(synth, s, (), only(flags_cfg, "nope"))
    with pytest.raises(ConfigError, match="severity"):
        detect_flags(synth, s, (), only(flags_cfg, "boilerplate", boilerplate={"severity": "critical"}))


def test_flags_are_sorted_and_deterministic(synth, flags_cfg):
    u1 = unit("u001", "Alex Krizhevksy wrote kernels in 2012.", "key_insight")
    u2 = unit("u002", "Subscribe", "summary_sentence")
    u3 = unit("u003", "Ada said the meaning of life is to be happy.", "qa_answer")
    s = summary(u1, u2, u3)
    verdicts = (
        uv(verdict(u1, "contradicted", [ev(synth, "In about 2010, James Martens invented the Hessian-free optimizer")])),
        uv(verdict(u3, "unsupported", [])),
    )
    a = detect_flags(synth, s, verdicts, flags_cfg)
    b = detect_flags(synth, s, verdicts, flags_cfg)
    assert a == b
    keys = [({"u001": 0, "u002": 1, "u003": 2}[f.unit_id], -1 if f.claim_index is None else f.claim_index, f.tag) for f in a]
    assert keys == sorted(keys)
    assert {f.tag for f in a} >= {"misspelled_entity", "number_mismatch", "contradicted_claim", "boilerplate", "unsupported_claim"}
    counts = flag_counts(a)
    assert counts["contradicted_claim"]["major"] == 1


def test_without_verdicts_evidence_detectors_are_silent(synth, flags_cfg):
    u = unit("u001", "In 2012 Host Person emphasizes that the meaning of life is to be happy.", "key_insight", cited=3000)
    s = summary(u)
    names = ["number_mismatch", "misattribution", "unsupported_claim", "contradicted_claim"]
    assert detect_flags(synth, s, (), only(flags_cfg, *names)) == ()


# ----------------------------------------------------------------------------------------------
# ad_content
# ----------------------------------------------------------------------------------------------


def test_ad_content_reference_crypto_insight_is_major(ref_flags, ref_summaries):
    s = ref_summaries["tldr_qa"]
    crypto = unit_by_prefix(s, "Cryptocurrency and the nature of money")
    found = tags(ref_flags["tldr_qa"], "ad_content", crypto.unit_id)
    assert len(found) == 1
    flag = found[0]
    assert flag.severity == "major"
    assert "sponsor read" in flag.message
    assert flag.evidence and flag.evidence[0].is_sponsor
    assert flag.evidence[0].start_s is not None and flag.evidence[0].start_s < 143  # the intro, before 2:23


@pytest.mark.parametrize(
    "name,prefix",
    [
        ("tldr_qa", "Deep learning revolution: The conversation highlights"),
        ("tldr_qa", "Double descent and model size"),
        ("tldr_qa", "The \"deep double descent\" phenomenon"),
        ("tldr_qa", "Compute and data"),
        ("summify", "The pivotal moment for deep learning"),
        ("summify", "The success of deep learning over the past decade"),
        ("summify", "GPT-2's success demonstrated"),
        ("summify", "The meaning of life, rather than a singular objective answer"),
        ("wiki", "Sutskever emphasizes the importance of gradually building trust"),
    ],
)
def test_ad_content_spares_conversation_units(ref_flags, ref_summaries, name, prefix):
    u = unit_by_prefix(ref_summaries[name], prefix)
    assert not tags(ref_flags[name], "ad_content", u.unit_id)


def test_ad_content_only_one_unit_on_the_references(ref_flags):
    assert [len(tags(ref_flags[n], "ad_content")) for n in ("summify", "tldr_qa", "wiki")] == [0, 1, 0]


def test_ad_content_text_signal_and_kind_severity(synth, flags_cfg):
    ad = "Acme Bank lets you send money and buy Bitcoin; debits and credits on ledgers may redefine money."
    s = summary(
        unit("u001", ad, "key_insight"),
        unit("u002", ad, "section_sentence"),
        unit("u003", "Alex Krizhevsky wrote fast CUDA kernels to train AlexNet on ImageNet.", "key_insight"),
    )
    flags = detect_flags(synth, s, (), only(flags_cfg, "ad_content"))
    assert [(f.unit_id, f.severity) for f in flags] == [("u001", "major"), ("u002", "minor")]
    # the lexical signal alone (no MiniLM) also catches it
    flags = detect_flags(synth, s, (), only(flags_cfg, "ad_content", ad_content={"use_embeddings": False}))
    assert [f.unit_id for f in flags] == ["u001", "u002"]


def test_ad_content_evidence_signal(synth, flags_cfg):
    u = unit("u001", "The host recommends a bank for young people.", "takeaway")
    sponsor_ev = ev(synth, "Acme Bank lets you send money to friends", 0.7)
    assert sponsor_ev.is_sponsor
    conv_ev = ev(synth, "I think the meaning of life is to be happy", 0.2)
    cfg = only(flags_cfg, "ad_content", ad_content={"use_embeddings": False})
    flags = detect_flags(synth, summary(u), (uv(verdict(u, "supported", [sponsor_ev, conv_ev])),), cfg)
    assert len(flags) == 1 and flags[0].severity == "major" and flags[0].claim_index == 0
    assert flags[0].evidence == (sponsor_ev,)
    # a conversation passage nearly as good: the claim is also in the conversation
    close = replace(conv_ev, score=0.65)
    assert detect_flags(synth, summary(u), (uv(verdict(u, "supported", [sponsor_ev, close])),), cfg) == ()
    # unsupported claims are not "built on" their best passage
    assert detect_flags(synth, summary(u), (uv(verdict(u, "unsupported", [sponsor_ev])),), cfg) == ()


def test_ad_content_needs_sponsor_segments(synth, flags_cfg):
    bare = replace(synth, sponsor_segments=())
    s = summary(unit("u001", "Acme Bank lets you send money and buy Bitcoin; debits and credits on ledgers.", "key_insight"))
    assert detect_flags(bare, s, (), only(flags_cfg, "ad_content")) == ()


# ----------------------------------------------------------------------------------------------
# boilerplate
# ----------------------------------------------------------------------------------------------


def test_boilerplate_one_minor_flag_per_boilerplate_unit(ref_flags, ref_summaries):
    for name, s in ref_summaries.items():
        flagged = tags(ref_flags[name], "boilerplate")
        assert sorted(f.unit_id for f in flagged) == sorted(u.unit_id for u in s.units if u.boilerplate)
        assert all(f.severity == "minor" and f.claim_index is None for f in flagged)
    views = tags(ref_flags["tldr_qa"], "boilerplate", "u001")[0]
    assert "541.7K views" in views.message and "view count" in views.message


def test_boilerplate_chrome_the_parser_missed(synth, flags_cfg):
    s = summary(
        unit("u001", "1.2M views", "summary_sentence"),
        unit("u002", "Subscribe to our newsletter", "summary_sentence"),
        unit("u003", "March 3, 2021", "summary_sentence"),
        unit("u004", "by Jane Doe", "summary_sentence"),
        unit("u005", "The host asks listeners to subscribe on YouTube and then turns to the history of deep learning.",
             "summary_sentence"),
        unit("u006", "Deep networks can be trained end to end.", "summary_sentence"),
    )
    flags = detect_flags(synth, s, (), only(flags_cfg, "boilerplate"))
    assert [f.unit_id for f in flags] == ["u001", "u002", "u003", "u004"]
    assert "counted as summary content" in flags[0].message


# ----------------------------------------------------------------------------------------------
# misspelled_entity
# ----------------------------------------------------------------------------------------------


def test_misspelled_entity_reference_krazewski(ref_flags, ref_summaries):
    s = ref_summaries["summify"]
    krazewski = [u.unit_id for u in s.content_units if "Krazewski" in u.text_plain]
    assert len(krazewski) == 2
    for uid in krazewski:
        found = [f for f in tags(ref_flags["summify"], "misspelled_entity", uid) if "Krazewski" in f.message]
        assert len(found) == 1
        assert "“Alex Krazewski” is not in the transcript; did you mean “Alex Krizhevsky”" in found[0].message
        assert found[0].evidence and "Krizhevsky" in found[0].evidence[0].quote


def test_misspelled_entity_transcript_side_garbles_are_hedged(ref_flags, ref_summaries):
    pioneers = unit_by_prefix(ref_summaries["summify"], "Early pioneers like Rosenblatt")
    (mcc,) = tags(ref_flags["summify"], "misspelled_entity", pioneers.unit_id)
    assert mcc.severity == "minor"
    assert "“McCulloch”" in mcc.message and "“McCollum”" in mcc.message and "check which spelling" in mcc.message
    hinton = unit_by_prefix(ref_summaries["wiki"], "Sutskever, alongside Alex Krizhevsky and Geoffrey Hinton")
    (geoff,) = tags(ref_flags["wiki"], "misspelled_entity", hinton.unit_id)
    assert "Geoffrey Hinton" in geoff.message and "Jeffrey Hinton" in geoff.message and "check which spelling" in geoff.message
    assert "Krizhevsky" not in geoff.message  # correctly spelled names are not flagged


def test_misspelled_entity_caption_garble_in_excerpt(ref_flags, ref_summaries):
    excerpt = next(u for u in ref_summaries["tldr_qa"].units if u.kind == "transcript_excerpt")
    found = tags(ref_flags["tldr_qa"], "misspelled_entity", excerpt.unit_id)
    assert len(found) == 1 and "“elias discover”" in found[0].message and "Ilya Sutskever" in found[0].message
    assert found[0].severity == "minor"


def test_misspelled_entity_no_false_alarms_on_references(ref_flags):
    flagged = {f.message.split("”")[0].lstrip("“") for n in ref_flags for f in tags(ref_flags[n], "misspelled_entity")}
    assert flagged == {"Alex Krazewski", "McCulloch", "Geoffrey Hinton", "elias discover"}


def test_misspelled_entity_person_org_and_model(synth, flags_cfg):
    s = summary(
        unit("u001", "Later, Alex Krizhevksy trained the network."),   # transposed letters
        unit("u002", "The work was done at DeepMindd with GTP-2 as a baseline."),
        unit("u003", "Ada Lovelace credits Alex Krizhevsky and DeepMind for AlexNet and GPT-2."),
    )
    flags = detect_flags(synth, s, (), only(flags_cfg, "misspelled_entity"))
    msgs = {f.unit_id: [] for f in flags}
    for f in flags:
        msgs[f.unit_id].append(f.message)
    assert set(msgs) == {"u001", "u002"}
    assert any("Alex Krizhevksy" in m and "Alex Krizhevsky" in m for m in msgs["u001"])
    assert any("DeepMindd" in m and "“DeepMind”" in m for m in msgs["u002"])
    assert any("GTP-2" in m and "“GPT-2”" in m for m in msgs["u002"])


def test_string_helpers():
    assert skeleton("Krazewski") == skeleton("Krizhevsky")
    assert skeleton("elias discover") == skeleton("Ilya Sutskever")
    assert skeleton("Geoffrey") == skeleton("Jeffrey")
    assert edit_distance("GTP-2", "GPT-2") == 1 and edit_distance("kitten", "sitting") == 3
    assert edit_similarity("McCulloch", "McCollum") == pytest.approx(5 / 9)


# ----------------------------------------------------------------------------------------------
# extrinsic_entity / extrinsic_fact
# ----------------------------------------------------------------------------------------------


def test_extrinsic_reference_gloss_background_is_minor(ref_flags, ref_summaries):
    s = ref_summaries["summify"]
    lincoln = unit_by_prefix(s, "The 16th U.S. President")
    (fact,) = tags(ref_flags["summify"], "extrinsic_fact", lincoln.unit_id)
    assert fact.severity == "minor" and "“16th”" in fact.message
    alphago = unit_by_prefix(s, "A computer program that plays the game of Go")
    (ent,) = tags(ref_flags["summify"], "extrinsic_entity", alphago.unit_id)
    assert ent.severity == "minor" and "DeepMind" in ent.message
    gpt2 = unit_by_prefix(s, "A large language model developed by OpenAI")  # 1.5 billion = "one and a half billion"
    assert not tags(ref_flags["summify"], "extrinsic_fact", gpt2.unit_id)
    # nothing extrinsic is major without verdicts
    assert not [f for n in ref_flags for f in ref_flags[n] if f.tag.startswith("extrinsic") and f.severity == "major"]


def test_extrinsic_major_only_when_attributed_and_unsupported(synth, flags_cfg):
    text = "In 1997 Ada Lovelace met Charles Babbage at Bletchley Park."
    u = unit("u001", text, "key_insight")
    g = unit("u002", text, "gloss")
    cfg = only(flags_cfg, "extrinsic_entity", "extrinsic_fact")
    flags = detect_flags(synth, summary(u, g), (uv(verdict(u, "unsupported")), uv(verdict(g, "unsupported"))), cfg)
    major = {(f.unit_id, f.tag) for f in flags if f.severity == "major"}
    assert major == {("u001", "extrinsic_entity"), ("u001", "extrinsic_fact")}
    assert {f.tag for f in flags if f.unit_id == "u002"} == {"extrinsic_entity", "extrinsic_fact"}
    assert any("Charles Babbage" in f.message for f in flags)
    assert any("“1997”" in f.message for f in flags)
    # supported → minor
    flags = detect_flags(synth, summary(u), (uv(verdict(u, "supported")),), cfg)
    assert flags and all(f.severity == "minor" for f in flags)


def test_extrinsic_fact_normalises_numbers(synth, flags_cfg):
    s = summary(
        unit("u001", "GPT-2 has 1.5 billion parameters and Martens trained a 10-layer network in 2010."),
        unit("u002", "Acme gives you $10 and GPT-2 has 1,500,000,000 parameters."),
        unit("u003", "GPT-2 has 2 billion parameters."),
    )
    flags = detect_flags(synth, s, (), only(flags_cfg, "extrinsic_fact"))
    assert [(f.unit_id, f.message.split("”")[0]) for f in flags] == [("u003", "The number “2 billion")]


def test_extract_numbers():
    def vals(text):
        return [(n.value, n.kind, n.unit) for n in extract_numbers(text)]

    assert vals("over 165,000 citations") == [(165000.0, "count", "citation")]
    assert vals("one and a half billion parameters") == [(1.5e9, "count", "parameter")]
    assert vals("in 2010-2011") == [(2010.0, "year", None), (2011.0, "year", None)]
    assert vals("the 1980s and the 80s") == [(1980.0, "decade", None), (1980.0, "decade", None)]
    assert vals("ten dollars") == [(10.0, "money", "dollar")]
    assert vals("GPT-2 and Podcast #94") == []
    assert vals("one of the authors, thousands of years") == []
    assert vals("The 16th president") == [(16.0, "ordinal", None)]
    assert vals("2 or 3 layers")[0] == (2.0, "count", "layer")
    assert same_value(1.5e9, 1_500_000_000) and not same_value(2010, 2012)


# ----------------------------------------------------------------------------------------------
# number_mismatch
# ----------------------------------------------------------------------------------------------


def test_number_mismatch_year(synth, flags_cfg):
    cfg = only(flags_cfg, "number_mismatch")
    e = ev(synth, "In about 2010, James Martens invented the Hessian-free optimizer")
    wrong = unit("u001", "James Martens invented the Hessian-free optimizer in 2012.")
    (flag,) = detect_flags(synth, summary(wrong), (uv(verdict(wrong, "partially_supported", [e])),), cfg)
    assert flag.severity == "major" and flag.tag == "number_mismatch" and flag.claim_index == 0
    assert "“2012”" in flag.message and "“2010”" in flag.message and flag.evidence == (e,)
    right = unit("u001", "James Martens invented the Hessian-free optimizer in 2010.")
    assert detect_flags(synth, summary(right), (uv(verdict(right, "supported", [e])),), cfg) == ()


def test_number_mismatch_needs_same_kind_and_unit(synth, flags_cfg):
    cfg = only(flags_cfg, "number_mismatch")
    e = ev(synth, "In about 2010, James Martens invented the Hessian-free optimizer and trained a ten-layer network")
    layers = unit("u001", "Martens trained a 10-layer network.")  # ten-layer = 10-layer
    other = unit("u001", "Martens trained the network for 3 weeks.")  # no weeks in the evidence
    wrong = unit("u001", "Martens trained a 12-layer network.")
    assert detect_flags(synth, summary(layers), (uv(verdict(layers, "supported", [e])),), cfg) == ()
    assert detect_flags(synth, summary(other), (uv(verdict(other, "supported", [e])),), cfg) == ()
    (flag,) = detect_flags(synth, summary(wrong), (uv(verdict(wrong, "supported", [e])),), cfg)
    assert "“12”" in flag.message
    # weak evidence is not compared
    weak = replace(e, score=0.1)
    assert detect_flags(synth, summary(wrong), (uv(verdict(wrong, "unsupported", [weak])),), cfg) == ()


# ----------------------------------------------------------------------------------------------
# wrong_timestamp
# ----------------------------------------------------------------------------------------------


def test_wrong_timestamp_reference_wiki_with_synthetic_evidence(reference_transcript, ref_summaries, flags_cfg):
    s = ref_summaries["wiki"]
    cfg = only(flags_cfg, "wrong_timestamp")
    # cites 01:01:03; the transcript explains the transformer at 1:01:53: within reach
    u = unit_by_prefix(s, "By employing attention mechanisms")
    assert u.cited_timestamp_s == 3663
    right = ev(reference_transcript, "The transformer is designed in such a way that it runs really fast on the GPU", 0.8)
    assert detect_flags(reference_transcript, s, (uv(verdict(u, "supported", [right])),), cfg) == ()
    # the same quote placed elsewhere still is not flagged: the cited moment itself says it
    moved = replace(right, start_s=3430.0, end_s=3440.0)
    assert detect_flags(reference_transcript, s, (uv(verdict(u, "supported", [moved])),), cfg) == ()
    # cites 01:09:51 for "gradually building trust", which the transcript says at 1:12:39
    trust = unit_by_prefix(s, "Sutskever emphasizes the importance of gradually building trust")
    assert trust.cited_timestamp_s == 4191
    said = ev(reference_transcript, "I think that's a place where it's important to gradually build trust between companies", 0.8)
    (flag,) = detect_flags(reference_transcript, s, (uv(verdict(trust, "supported", [said])),), cfg)
    assert flag.unit_id == trust.unit_id and flag.evidence == (said,)
    assert f"cites 1:09:51, but the transcript says this at {format_clock(said.start_s)}" in flag.message
    assert format_clock(said.start_s).startswith("1:12:")
    assert flag.severity == "minor"  # under 5 minutes off: the same exchange, a loose pointer
    # whatever the verdict: the citation is still 2:48 from the claim's best evidence (#16)
    (unsupported_flag,) = detect_flags(reference_transcript, s, (uv(verdict(trust, "unsupported", [said])),), cfg)
    assert unsupported_flag.unit_id == trust.unit_id
    # the earlier behaviour, on request: only supported claims are compared
    strict = {**cfg, "wrong_timestamp": {**cfg["wrong_timestamp"], "require_supported": True}}
    assert detect_flags(reference_transcript, s, (uv(verdict(trust, "unsupported", [said])),), strict) == ()
    # without verdicts the valid citations of the reference raise nothing
    assert detect_flags(reference_transcript, s, (), cfg) == ()


def test_wrong_timestamp_far_off_is_major(synth, flags_cfg):
    cfg = only(flags_cfg, "wrong_timestamp")
    depth = ev(synth, "Depth matters more than width for these models", 0.8)
    far = unit("u001", "Depth matters more than width.", "wiki_sentence", cited=1200)
    near = unit("u001", "Depth matters more than width.", "wiki_sentence", cited=int(depth.start_s) + 30)
    (flag,) = detect_flags(synth, summary(far), (uv(verdict(far, "supported", [depth])),), cfg)
    assert flag.severity == "major" and "cites 20:00" in flag.message
    assert detect_flags(synth, summary(near), (uv(verdict(near, "supported", [depth])),), cfg) == ()
    # the 90 s tolerance (configs/flags/default.yaml): 80 s past the evidence passes, 150 s past
    # it (in the next turn, which does not say it) is flagged as minor (under major_after_s),
    # for an unsupported claim as well
    assert depth.end_s is not None
    at80 = unit("u001", "Depth matters more than width.", "wiki_sentence", cited=int(depth.end_s) + 80)
    at100 = unit("u001", "Depth matters more than width.", "wiki_sentence", cited=int(depth.end_s) + 150)
    assert detect_flags(synth, summary(at80), (uv(verdict(at80, "unsupported", [depth])),), cfg) == ()
    (late,) = detect_flags(synth, summary(at100), (uv(verdict(at100, "unsupported", [depth], score=0.05)),), cfg)
    assert late.severity == "minor"


def test_wrong_timestamp_invalid_and_past_the_end(synth, flags_cfg):
    cfg = only(flags_cfg, "wrong_timestamp")
    late = unit("u001", "The meaning of life is to be happy.", "wiki_sentence", cited=3 * 3600,
                raw='The meaning of life is to be happy. <a class="yt-timestamp" data-t="03:00:00">[03:00:00]</a>')
    bad = unit("u002", "Depth matters.", "wiki_sentence",
               raw='Depth matters. <a class="yt-timestamp" data-t="00:99:99">[00:99:99]</a>')
    flags = detect_flags(synth, summary(late, bad), (), cfg)
    assert [(f.unit_id, f.severity) for f in flags] == [("u001", "major"), ("u002", "major")]
    assert "ends at about 30:00" in flags[0].message
    assert "“00:99:99”, which is not a valid time" in flags[1].message


# ----------------------------------------------------------------------------------------------
# misattribution
# ----------------------------------------------------------------------------------------------


def test_misattribution_named_speaker(synth, flags_cfg):
    cfg = only(flags_cfg, "misattribution")
    host_says = ev(synth, "I believe that small models will always win on cost.", 0.8)
    assert host_says.speaker == "Host Person"
    u = unit("u001", "Ada Lovelace argues that small models will always win on cost.", "section_sentence")
    (flag,) = detect_flags(synth, summary(u), (uv(verdict(u, "supported", [host_says])),), cfg)
    assert flag.severity == "major" and flag.tag == "misattribution" and flag.evidence == (host_says,)
    assert "attributes this to Ada Lovelace, but in the transcript Host Person says it" in flag.message
    right = unit("u001", "The host argues that small models will always win on cost.", "section_sentence")
    assert detect_flags(synth, summary(right), (uv(verdict(right, "supported", [host_says])),), cfg) == ()
    # the named speaker also says it, nearly as well: not a misattribution
    ada_says = ev(synth, "Depth matters more than width for these models", 0.75)
    assert detect_flags(synth, summary(u), (uv(verdict(u, "supported", [host_says, ada_says])),), cfg) == ()
    # a non-speaker subject ("Chomsky argues") is about the content, not the speaker
    other = unit("u001", "Chomsky argues that small models will always win on cost.", "section_sentence")
    assert detect_flags(synth, summary(other), (uv(verdict(other, "supported", [host_says])),), cfg) == ()
    # a topic verb is not an attribution
    topic = unit("u001", "Ada Lovelace discusses whether small models will always win on cost.", "section_sentence")
    assert detect_flags(synth, summary(topic), (uv(verdict(topic, "supported", [host_says])),), cfg) == ()
    # unsupported or weak evidence: nothing to compare
    assert detect_flags(synth, summary(u), (uv(verdict(u, "unsupported", [host_says])),), cfg) == ()
    assert detect_flags(synth, summary(u), (uv(verdict(u, "supported", [replace(host_says, score=0.1)])),), cfg) == ()


def test_misattribution_question_answered_by_the_named_speaker(synth, flags_cfg):
    cfg = only(flags_cfg, "misattribution")
    question = ev(synth, "So you think that bigger models simply generalize better than small ones?", 0.8)
    u = unit("u001", "Ada Lovelace argues that bigger models generalize better than small ones.", "section_sentence")
    assert detect_flags(synth, summary(u), (uv(verdict(u, "supported", [question])),), cfg) == ()
    off = only(flags_cfg, "misattribution", misattribution={"question_answered_by_next_turn": False})
    assert len(detect_flags(synth, summary(u), (uv(verdict(u, "supported", [question])),), off)) == 1


def test_misattribution_pronoun_role_and_label_variants(synth, flags_cfg):
    cfg = only(flags_cfg, "misattribution")
    host_says = ev(synth, "I believe that small models will always win on cost.", 0.8)
    first = unit("u001", "Ada Lovelace talks about scale.", "section_sentence", section="Scale")
    second = unit("u002", "He posits that small models will always win on cost.", "section_sentence", section="Scale")
    (flag,) = detect_flags(synth, summary(first, second), (uv(verdict(second, "supported", [host_says])),), cfg)
    assert flag.unit_id == "u002" and "Ada Lovelace" in flag.message
    guest = unit("u001", "The guest explains that small models will always win on cost.", "section_sentence")
    assert detect_flags(synth, summary(guest), (uv(verdict(guest, "supported", [host_says])),), cfg)
    # "AAda Lovelace" is a misspelled label of the same speaker
    gpt = ev(synth, "GPT-2 has one and a half billion parameters", 0.9)
    assert gpt.speaker == "AAda Lovelace"
    u = unit("u001", "Lovelace explains that GPT-2 has 1.5 billion parameters.", "section_sentence")
    assert detect_flags(synth, summary(u), (uv(verdict(u, "supported", [gpt])),), cfg) == ()


def test_misattribution_reference_label_lilya(reference_transcript, flags_cfg):
    start = reference_transcript.text.index("**LIlya Sutskever:**") + len("**LIlya Sutskever:**") + 1
    e = evidence_from_span(reference_transcript, start, start + 120, score=0.9)
    assert e.speaker == "LIlya Sutskever"
    u = unit("u001", "Sutskever explains his view on this.", "section_sentence")
    cfg = only(flags_cfg, "misattribution")
    assert detect_flags(reference_transcript, summary(u), (uv(verdict(u, "supported", [e])),), cfg) == ()
    lex = unit("u001", "Lex Fridman explains his view on this.", "section_sentence")
    (flag,) = detect_flags(reference_transcript, summary(lex), (uv(verdict(lex, "supported", [e])),), cfg)
    assert "Ilya Sutskever says it" in flag.message


# ----------------------------------------------------------------------------------------------
# unsupported_claim / contradicted_claim
# ----------------------------------------------------------------------------------------------


def test_unsupported_and_contradicted(synth, flags_cfg):
    cfg = only(flags_cfg, "unsupported_claim", "contradicted_claim")
    e = ev(synth, "I think the meaning of life is to be happy", 0.1)
    insight = unit("u001", "The meaning of life is money.", "key_insight")
    gloss = unit("u002", "A nineteenth-century mathematician.", "gloss")
    contra = unit("u003", "Ada says life has no meaning.", "section_sentence")
    verdicts = (
        uv(verdict(insight, "unsupported", [e])),
        uv(verdict(gloss, "unsupported", [])),
        uv(verdict(contra, "contradicted", [e])),
    )
    flags = detect_flags(synth, summary(insight, gloss, contra), verdicts, cfg)
    assert [(f.unit_id, f.tag, f.severity) for f in flags] == [
        ("u001", "unsupported_claim", "minor"),
        ("u003", "contradicted_claim", "major"),
    ]
    assert f"closest passage is at {format_clock(e.start_s)}" in flags[0].message and flags[1].evidence == (e,)
