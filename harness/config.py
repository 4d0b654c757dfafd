"""Compose and validate run configs from ``configs/`` (Hydra), for the CLI and the Python API.

Hydra reports a mistyped override as several lines of text and exit code 1; ``compose_config``
turns every such mistake into one ``ConfigError`` sentence that names the valid choices, and a
missing mandatory value by its full key (``summary.path``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from harness.errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"

# Nodes that moved, old key → new key: named in the error for the old one.
MOVED_KEYS = {"coverage.lexical": "lexical (its own group: configs/lexical/default.yaml)"}


def overrides_from(overrides: Sequence[str] | Mapping[str, Any] | None) -> list[str]:
    """Hydra override strings from a list of strings or a ``{"align.retrieval.top_k": 3}`` dict
    (values are written as Hydra values: lists as ``[a,b]``, ``None`` as ``null``)."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [f"{key}={_hydra_value(value)}" for key, value in overrides.items()]
    if isinstance(overrides, str):
        return [overrides]
    return [str(o) for o in overrides]


def _hydra_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_hydra_value(v) for v in value) + "]"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    # Quote anything Hydra's grammar would read as more than one plain string.
    if re.fullmatch(r"[\w./\-+~:@]+", text):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def compose_config(overrides: Sequence[str] | Mapping[str, Any] | None = None, config_name: str = "config") -> Any:
    """The run config composed from ``configs/`` with ``overrides``, as a ``DictConfig``.

    Raises:
        ConfigError: an unknown config group option, an unknown key, an override that does not
            parse, or a mandatory value (``???``) left unset; one sentence naming the choices.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from harness.schema import register_schemas

    register_schemas()  # the YAML options extend these (a test may have cleared the ConfigStore)
    items = overrides_from(overrides)
    was_initialized = GlobalHydra.instance().is_initialized()
    if was_initialized:  # e.g. inside a Hydra app: compose from our own config directory anyway
        GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
            try:
                cfg = compose(config_name=config_name, overrides=items)
            except Exception as exc:  # Hydra raises several unrelated types here
                raise ConfigError(_one_line(exc, items, config_name)) from None
    finally:
        if was_initialized:
            GlobalHydra.instance().clear()
    unknown = unknown_keys(cfg)
    if unknown:  # a key added with +key=VALUE that no schema declares
        raise ConfigError(f"config: {unknown[0]}: no such key in the config schema (harness/schema.py)")
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing and not (cfg.get("corpus") or {}).get("manifest"):
        raise ConfigError(
            f"config: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing; "
            f"give {'it' if len(missing) == 1 else 'them'} on the command line, e.g. {missing[0]}=FILE"
        )
    return cfg


def unknown_keys(cfg: Any, prefix: str = "") -> list[str]:
    """Full keys of ``cfg`` that its node's schema (a dataclass of ``harness.schema``) does not
    declare: Hydra lets ``+key=VALUE`` add them even to a typed node."""
    from dataclasses import fields, is_dataclass

    from omegaconf import DictConfig, ListConfig, OmegaConf

    out: list[str] = []
    if isinstance(cfg, DictConfig):
        node_type = OmegaConf.get_type(cfg)
        declared = {f.name for f in fields(node_type)} if node_type is not None and is_dataclass(node_type) else None
        for key in cfg.keys():
            full = f"{prefix}{key}"
            if declared is not None and key not in declared:
                out.append(full)
                continue
            child = cfg._get_node(key)
            if isinstance(child, (DictConfig, ListConfig)):
                out += unknown_keys(child, full + ".")
    elif isinstance(cfg, ListConfig):
        for i in range(len(cfg)):
            child = cfg._get_node(i)
            if isinstance(child, (DictConfig, ListConfig)):
                out += unknown_keys(child, f"{prefix}{i}.")
    return out


def validate_cli_overrides(args: Sequence[str], config_name: str = "config") -> None:
    """Check ``python -m harness run`` arguments before Hydra starts: every override and, with
    ``-m``/``--multirun``, every value of every sweep. Raises ``ConfigError`` (one sentence)."""
    multirun = any(a in ("-m", "--multirun") for a in args)
    overrides = [a for a in args if not a.startswith("-")]
    if any(a.startswith("-") and a not in ("-m", "--multirun") for a in args):
        return  # --help, --cfg job, --info …: Hydra's own options, left to Hydra
    if not multirun:
        compose_config([o for o in overrides if not _is_hydra_override(o)], config_name)
        return
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides([o for o in overrides if not _is_hydra_override(o)])
    except Exception as exc:  # noqa: BLE001 - Hydra's parse errors
        raise ConfigError(_one_line(exc, overrides, config_name)) from None
    first: list[str] = []
    sweeps: list[tuple[int, list[str]]] = []
    for o in parsed:
        if o.is_sweep_override():
            try:
                values = [f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()]
            except Exception:  # noqa: BLE001 - glob()/range() sweeps need Hydra's loader: Hydra checks them
                continue
            if not values:
                continue
            sweeps.append((len(first), values))
            first.append(values[0])
        else:
            first.append(o.input_line or f"{o.get_key_element()}={o.get_value_element_as_str()}")
    compose_config(first, config_name)
    for i, values in sweeps:
        for value in values[1:]:
            compose_config(first[:i] + [value] + first[i + 1 :], config_name)


def _is_hydra_override(override: str) -> bool:
    key = override.lstrip("+~")
    return key.startswith("hydra.") or key.startswith("hydra/")


def _one_line(exc: Exception, overrides: Iterable[str], config_name: str) -> str:
    """Hydra's multi-line error as one sentence that names the valid choices."""
    from hydra.errors import MissingConfigException

    text = str(exc)
    if isinstance(exc, MissingConfigException) and exc.options is not None:
        found = re.search(r"Could not find '([^']+)/([^']+)'", text)
        group, name = (found.group(1), found.group(2)) if found else ("config group", "?")
        options = [o for o in exc.options if not is_schema_option(o)]
        return f"config: {group}={name}: no such {group}; choose one of: {', '.join(options)}"
    cause = exc.__cause__
    full_key = getattr(cause, "full_key", None)
    if full_key and ("not in struct" in str(cause) or re.search(r"Key '[^']*' not in '", str(cause))):
        parent, _, key = str(full_key).rpartition(".")
        others = [o for o in overrides if not re.match(re.escape(str(full_key)) + r"[=.]", o.lstrip("+~"))]
        known = _keys_of(parent, others, config_name)
        where = parent or "the config"
        choices = f"; {where} has: {', '.join(known)}" if known else ""
        moved = next((new for old, new in MOVED_KEYS.items() if str(full_key) == old or str(full_key).startswith(old + ".")), None)
        if moved:
            choices += f" ({full_key} moved to {moved})"
        return f"config: {full_key}: no such key{choices}"
    if full_key and type(cause).__name__ == "ValidationError":
        # "Value 'five' of type 'str' could not be converted to Integer": the schema's type
        return f"config: {full_key}: {str(getattr(cause, 'msg', cause)).strip().splitlines()[0]}"
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"config: {first}"


def is_schema_option(name: str) -> bool:
    """Whether a group option is a schema from ``harness.schema`` (not a choice for users)."""
    return name == "schema" or name.endswith("_schema")


def _keys_of(node: str, overrides: list[str], config_name: str) -> list[str]:
    try:
        cfg = compose_config(overrides, config_name)
    except ConfigError:
        return []
    from omegaconf import OmegaConf

    sub = OmegaConf.select(cfg, node) if node else cfg
    return sorted(str(k) for k in sub.keys()) if hasattr(sub, "keys") else []
