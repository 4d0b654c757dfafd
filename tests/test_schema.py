"""Typed config (issue #18): every config group option composes against the structured schemas
of harness/schema.py; wrong types and unknown keys stop the app at start; each value is written
once (in the YAML); lexical settings are their own group; writer reads one typed report node."""

from __future__ import annotations

import dataclasses
import json
import typing

import pytest
from omegaconf import MISSING, OmegaConf

from harness import schema
from harness.config import CONFIG_DIR, compose_config
from harness.errors import ConfigError

# Groups of configs/config.yaml whose options are YAML files, and values for the ??? keys.
RUN_GROUPS = ("transcript", "summary", "sponsors", "claims", "model", "align", "quotes", "flags", "coverage", "lexical", "report")
REQUIRED = ["transcript.path=episode.vtt", "summary.path=page.md"]


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


ALL_OPTIONS = [(g, o) for g in RUN_GROUPS for o in _options(g)]


def test_every_group_has_options_and_the_list_covers_configs_dir():
    groups_on_disk = {p.name for p in CONFIG_DIR.iterdir() if p.is_dir()} - {"hydra", "check"}
    assert groups_on_disk == set(RUN_GROUPS)  # check/ is the gate's own file, hydra/ Hydra's
    assert ("model", "cascade") in ALL_OPTIONS and ("summary", "markdown") in ALL_OPTIONS
    assert len(ALL_OPTIONS) >= 20


@pytest.mark.parametrize("group, option", ALL_OPTIONS, ids=[f"{g}={o}" for g, o in ALL_OPTIONS])
def test_every_config_group_option_composes_and_validates(group, option):
    cfg = compose_config([f"{group}={option}", *REQUIRED])
    node = cfg[group]
    node_type = OmegaConf.get_type(node)
    if group in schema.OPTION_SCHEMAS:  # the option's YAML extends its own schema
        assert node_type is schema.OPTION_SCHEMAS[group][f"{option}_schema"]
    else:  # typed by the run schema's field
        assert node_type is schema.GROUP_SCHEMAS[group]
    assert OmegaConf.missing_keys(cfg) == set()
    # every key of the YAML is declared, every declared key is set: the node round-trips
    assert OmegaConf.to_object(node) is not None


def test_meta_eval_config_composes_against_its_schema():
    cfg = compose_config([], config_name="meta_eval")
    assert OmegaConf.get_type(cfg) is schema.MetaEvalConfig
    assert OmegaConf.get_type(cfg.align) is schema.AlignConfig
    assert "lexical" not in cfg and "coverage" not in cfg  # meta-eval runs no coverage stage


def test_cascade_nests_two_typed_backends():
    cfg = compose_config(["model=cascade"])
    assert OmegaConf.get_type(cfg.model.offline) is schema.OfflineModelConfig
    assert OmegaConf.get_type(cfg.model.judge) is schema.GgufModelConfig
    assert cfg.model.thresholds == cfg.model.judge.thresholds  # the interpolation still resolves


def test_cascade_judge_is_swapped_by_a_group_override():
    """The comment in configs/model/cascade.yaml: a server judge instead of the GGUF one."""
    cfg = compose_config(["model=cascade", "model@model.judge=llm", "model.judge.base_url=http://127.0.0.1:8080/v1"])
    assert OmegaConf.get_type(cfg.model.judge) is schema.LlmModelConfig
    assert cfg.model.judge.base_url == "http://127.0.0.1:8080/v1"
    assert cfg.model.thresholds.supported == cfg.model.judge.thresholds.supported


@pytest.mark.parametrize(
    "override, message",
    [
        ("align.retrieval.top_k=five", "config: align.retrieval.top_k: Value 'five' of type 'str' could not be converted to Integer"),
        ("align.thresholds.supported=high", "config: align.thresholds.supported: Value 'high' of type 'str' could not be converted to Float"),
        ("report.write_html=sometimes", "config: report.write_html: Value 'sometimes' is not a valid bool (type str)"),
        ("+flags.ad_content.extra=1", "config: flags.ad_content.extra: no such key in the config schema (harness/schema.py)"),
        ("+model.temperature=0", "config: model.temperature: no such key in the config schema (harness/schema.py)"),
        ("+sponsors.rules.0.note=x", "config: sponsors.rules.0.note: no such key in the config schema (harness/schema.py)"),
        ("+surprise=1", "config: surprise: no such key in the config schema (harness/schema.py)"),
    ],
)
def test_wrong_type_or_unknown_key_is_one_config_error(override, message):
    with pytest.raises(ConfigError) as err:
        compose_config([override])
    assert str(err.value) == message


def test_unknown_key_names_the_nodes_keys():
    with pytest.raises(ConfigError, match=r"^config: lexical\.bertscore_layers: no such key; lexical has: bertscore, "):
        compose_config(["lexical.bertscore_layers=3"])


def test_old_coverage_lexical_key_says_where_it_moved():
    with pytest.raises(ConfigError) as err:
        compose_config(["coverage.lexical.bertscore=false"])
    assert str(err.value).endswith("(coverage.lexical moved to lexical (its own group: configs/lexical/default.yaml))")


def test_lexical_is_its_own_top_level_group():
    cfg = compose_config([])
    assert "lexical" not in cfg.coverage
    assert cfg.lexical.bertscore_num_layers == 4 and cfg.lexical.bertscore_max_tokens == 256
    assert compose_config(["lexical.bertscore=false"]).lexical.bertscore is False
    assert "lexical" not in (CONFIG_DIR / "coverage" / "default.yaml").read_text().split("\n# Embedding cache")[1]


def _all_schemas() -> list[type]:
    """Every dataclass reachable from the stored schemas (nested nodes, list items)."""
    seen: list[type] = []
    todo: list[type] = [*schema.PRIMARY_SCHEMAS.values(), *schema.GROUP_SCHEMAS.values()]
    todo += [t for options in schema.OPTION_SCHEMAS.values() for t in options.values()]
    while todo:
        t = todo.pop()
        if t in seen:
            continue
        seen.append(t)
        for hint in typing.get_type_hints(t).values():
            for arg in (hint, *typing.get_args(hint), *(a for h in typing.get_args(hint) for a in typing.get_args(h))):
                if isinstance(arg, type) and dataclasses.is_dataclass(arg):
                    todo.append(arg)
    return seen


def test_values_are_written_once_in_the_yaml_schemas_declare_types_only():
    schemas = _all_schemas()
    assert len(schemas) > 40
    for t in schemas:
        for f in dataclasses.fields(t):
            assert f.default is MISSING and f.default_factory is dataclasses.MISSING, f"{t.__name__}.{f.name} has a default"


def test_a_yaml_option_missing_a_key_fails_at_start(tmp_path, monkeypatch):
    """The schema requires every value: an option that leaves one out is an error, not a default."""
    import shutil

    configs = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, configs)
    report = configs / "report" / "default.yaml"
    report.write_text(report.read_text().replace("write_html: true\n", ""))
    monkeypatch.setattr("harness.config.CONFIG_DIR", configs)
    with pytest.raises(ConfigError, match=r"report\.write_html is missing"):
        compose_config([])


def test_schema_keeps_the_resolved_config_of_the_yaml_files():
    """Types follow the YAML literals: integers stay integers, so config_sha256 is unchanged by
    the schemas (only the lexical move and the quoted "no" changed the resolved config)."""
    from harness.cli import plain_config

    config = plain_config(compose_config([]))
    assert config["sponsors"]["rules"][0]["weight"] == 2 and isinstance(config["sponsors"]["rules"][0]["weight"], int)
    assert isinstance(config["coverage"]["auto_segmentation"]["block_s"], int)
    assert isinstance(config["align"]["retrieval"]["bm25_weight"], float)
    assert list(config)[:3] == ["transcript", "summary", "sponsors"]  # the defaults-list order
    assert json.dumps(config)  # plain containers only


def test_quotes_meaning_words_hold_the_word_no():
    """YAML 1.1 reads a bare `no` as false: the list held False ("false"), not the word "no"."""
    words = compose_config([]).quotes.meaning_words
    assert "no" in words and "False" not in words


# ----------------------------------------------------------------------------------------------
# stage_config and the report node
# ----------------------------------------------------------------------------------------------


def test_stage_config_fills_a_partial_node_from_the_groups_yaml():
    report = schema.stage_config({"report": {"write_markdown": False}}, "report")
    assert report == schema.ReportConfig(write_markdown=False, write_html=True, progress=True)
    assert schema.stage_config({}, "report") == schema.ReportConfig(write_markdown=True, write_html=True, progress=True)
    lexical = schema.stage_config({}, "lexical")
    assert lexical.bertscore_max_tokens == 256 and lexical.bertscore_model_type is None


@pytest.mark.parametrize("node", [{"write_html": "sometimes"}, {"write_pdf": True}])
def test_stage_config_rejects_bad_report_settings(node):
    with pytest.raises(ConfigError, match=r"^config: report: "):
        schema.stage_config({"report": node}, "report")


def test_group_defaults_leave_the_schema_line_out():
    assert "defaults" not in schema.group_defaults("model", "offline")
    assert schema.group_defaults("claims", "clause")["splitter"] == "clause"
    with pytest.raises(ConfigError, match="no such option"):
        schema.group_defaults("report", "nope")


def test_schema_options_are_not_offered_as_choices():
    with pytest.raises(ConfigError) as err:
        compose_config(["model=nli"])
    assert "schema" not in str(err.value)


@pytest.mark.parametrize(
    "argv, line",
    [
        (["run", "align.window.size_turns=3.5"], "config: align.window.size_turns: Value '3.5' of type 'float' could not be converted to Integer"),
        (["meta-eval", "cv_folds=five"], "config: cv_folds: Value 'five' of type 'str' could not be converted to Integer"),
        (["meta-eval", "+lexical.bertscore=false"], "config: lexical: no such key in the config schema (harness/schema.py)"),
    ],
)
def test_run_and_meta_eval_stop_at_start_with_one_line(capsys, argv, line):
    from harness.__main__ import main

    assert main(argv) == 2
    assert capsys.readouterr().err == f"harness: error: {line}\n"


def test_the_judge_schema_types_every_key_the_judge_reads():
    from harness.backends.judge import JUDGE_KEYS

    fields = {f.name for f in dataclasses.fields(schema.JudgeModelConfig)}
    assert JUDGE_KEYS <= fields
    for backend in (schema.GgufModelConfig, schema.LlmModelConfig):
        assert issubclass(backend, schema.JudgeModelConfig)
