"""The shape of ``harness/``, read from its source (``ast``; nothing is imported or run).

- No module-level mutable state: no module-level dict/list/set that a function mutates, no cache
  kept in a module global, no ``global`` rebinding. Constant lookup tables are fine when they
  read as constants (UPPER_CASE) and nothing mutates them; name → implementation registries
  filled by decorators at import are allowed by name below, each with its reason.
- No import cycles among the stages and the infrastructure they share (function-level and
  ``importlib`` imports count: a cycle hidden in a function is still a cycle).
- Layers: commands (and the Python API) are thin shells over the pipeline; the pipeline runs the
  stages; a stage never imports a command or the pipeline.
- One home per text helper: no two top-level functions named ``parse_clock``, ``split_sentences``
  and the like.

Each rule has a ``PENDING`` list of today's violations that are being removed on other branches
(issue #18). A violation not listed fails; a listed one that is gone fails too, so that the
lists shrink to nothing: when a test here says an entry is gone, delete the entry.
"""

from __future__ import annotations

import ast
import functools
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT

HARNESS = ROOT / "harness"


# ----------------------------------------------------------------------------------------------
# reading the package
# ----------------------------------------------------------------------------------------------


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@pytest.fixture(scope="module")
def modules() -> dict[str, ast.Module]:
    """Every module of ``harness/`` by dotted name, parsed."""
    return {module_name(p): ast.parse(p.read_text(encoding="utf-8"), filename=str(p)) for p in sorted(HARNESS.rglob("*.py"))}


@functools.lru_cache(maxsize=None)
def _source_path(module: str) -> str:
    path = HARNESS.parent / module.replace(".", "/") / "__init__.py"
    if not path.is_file():
        path = HARNESS.parent / (module.replace(".", "/") + ".py")
    return str(path.relative_to(ROOT))


def where(module: str, node: ast.AST) -> str:
    """``harness/x.py:LINE`` of a node."""
    return f"{_source_path(module)}:{getattr(node, 'lineno', '?')}"


# ----------------------------------------------------------------------------------------------
# a. module-level mutable state
# ----------------------------------------------------------------------------------------------

MUTABLE_CALLS = {"dict", "list", "set", "OrderedDict", "defaultdict", "Counter", "deque", "WeakValueDictionary", "WeakKeyDictionary", "bytearray"}
MUTATING_METHODS = {
    "append", "extend", "insert", "pop", "popitem", "clear", "update", "setdefault",
    "add", "discard", "remove", "sort", "reverse", "appendleft", "popleft", "move_to_end",
}  # fmt: skip
CACHE_NAME = re.compile(r"cache|memo|memory", re.IGNORECASE)
CONSTANT_NAME = re.compile(r"_*[A-Z][A-Z0-9_]*")

# Module-level containers allowed to be filled at import time (by name, wherever they live), with the reason.
ALLOWED_STATE: dict[str, str] = {
    "TRANSCRIPT_SNIFFERS": "a registry: @sniffer decorators fill it at import (one per reader); read-only afterwards",
}
# Instances of these classes are registries filled by @register decorators at import.
ALLOWED_STATE_TYPES: dict[str, str] = {
    "Registry": "harness.registry.Registry: name → implementation, filled by @register at import, read-only afterwards",
}

# Today's module-level caches, being removed by the "episode" helper (issue #18: one Episode
# built once and passed to the stages, one explicit cache object). The lead empties this after
# merging; a new entry is never the fix for a failing test here.
PENDING_STATE: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class StateFinding:
    module: str
    name: str
    why: str
    at: str


def _container_kind(value: ast.expr | None) -> str | None:
    """``"dict"``/``"list"``/... when ``value`` builds a mutable container, else ``None``."""
    if isinstance(value, (ast.Dict, ast.DictComp)):
        return "dict"
    if isinstance(value, (ast.List, ast.ListComp)):
        return "list"
    if isinstance(value, (ast.Set, ast.SetComp)):
        return "set"
    if isinstance(value, ast.Call):
        func = value.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name in MUTABLE_CALLS:
            return f"{name}()"
    return None


def _call_name(value: ast.expr | None) -> str | None:
    if isinstance(value, ast.Call):
        func = value.func
        return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    return None


def _module_assignments(tree: ast.Module):
    """``(name, value, node)`` for module-level and class-level (``Class.attr``) assignments."""
    for node in tree.body:
        scopes = [("", [node])]
        if isinstance(node, ast.ClassDef):
            scopes = [(node.name + ".", node.body)]
        for prefix, body in scopes:
            for stmt in body:
                if isinstance(stmt, ast.Assign):
                    targets, value = stmt.targets, stmt.value
                elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                    targets, value = [stmt.target], stmt.value
                else:
                    continue
                for t in targets:
                    if isinstance(t, ast.Name):
                        yield prefix + t.id, value, stmt


def _top_functions(tree: ast.Module):
    """Module-level functions and the methods of module-level classes (nested code included)."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node
        elif isinstance(node, ast.ClassDef):
            yield from (n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))


def _mutations(modules: dict[str, ast.Module]):
    """Where functions mutate a name: ``(module, name)`` for a bare name, ``(None, attr)`` for an
    attribute (``other_module.X.clear()``, ``self.X[k] = v``), and rebinding through ``global``."""
    found: dict[tuple[str | None, str], str] = {}
    for module, tree in modules.items():
        for func in _top_functions(tree):
            nodes = list(ast.walk(func))
            declared_global = {name for n in nodes if isinstance(n, ast.Global) for name in n.names}
            local = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            local |= {n.arg for n in nodes if isinstance(n, ast.arg)}
            local -= declared_global
            for n in nodes:
                targets = []
                if isinstance(n, ast.Global):
                    for name in n.names:
                        found.setdefault((module, name), f"`global {name}` at {where(module, n)}")
                elif isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
                    targets = n.targets if isinstance(n, (ast.Assign, ast.Delete)) else [n.target]
                    targets = [t.value for t in targets if isinstance(t, ast.Subscript)]
                    verb = "item assignment"
                elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in MUTATING_METHODS:
                    targets, verb = [n.func.value], f".{n.func.attr}()"
                for t in targets:
                    if isinstance(t, ast.Name) and t.id not in local:
                        found.setdefault((module, t.id), f"{verb} at {where(module, n)}")
                    elif isinstance(t, ast.Attribute):
                        found.setdefault((None, t.attr), f"{verb} at {where(module, n)}")
    return found


def find_module_state(modules: dict[str, ast.Module]) -> list[StateFinding]:
    """Module-level mutable state in ``modules`` (allowed registries excluded)."""
    mutated = _mutations(modules)
    findings = []
    for module, tree in modules.items():
        for name, value, stmt in _module_assignments(tree):
            kind = _container_kind(value)
            at = where(module, stmt)
            attr = name.rpartition(".")[2]
            if attr in ALLOWED_STATE or _call_name(value) in ALLOWED_STATE_TYPES:
                continue
            hit = mutated.get((module, name)) or mutated.get((None, attr))
            in_class = "." in name  # class attributes: dataclass fields and the like, only mutation counts
            if kind and hit:
                findings.append(StateFinding(module, name, f"a module-level {kind} mutated by a function ({hit})", at))
            elif in_class:
                continue
            elif CACHE_NAME.search(attr) and (kind or CACHE_NAME.search(_call_name(value) or "")):
                findings.append(StateFinding(module, name, f"a module-level {kind or _call_name(value) + '()'} named as a cache", at))
            elif kind and name != "__all__" and not CONSTANT_NAME.fullmatch(attr):
                findings.append(
                    StateFinding(module, name, f"a module-level {kind} named like a variable: name a constant table UPPER_CASE (or make it a tuple/frozenset/MappingProxyType)", at)
                )
        seen = {f.name for f in findings if f.module == module}
        for (mod, name), hit in mutated.items():
            if mod == module and hit.startswith("`global") and name not in ALLOWED_STATE and name not in seen:
                findings.append(StateFinding(module, name, f"a module global rebound by a function ({hit})", hit.rpartition(" at ")[2]))
    return findings


@pytest.fixture(scope="module")
def state_findings(modules) -> list[StateFinding]:
    return find_module_state(modules)


def test_no_module_level_mutable_state(state_findings):
    findings = state_findings
    new = [f for f in findings if (f.module, f.name) not in PENDING_STATE]
    assert not new, "module-level mutable state (pass what a stage needs as an argument, or keep it in an object the caller owns):\n" + "\n".join(
        f"  {f.at}: {f.module}.{f.name}: {f.why}" for f in new
    )


def test_pending_module_state_is_still_there(state_findings):
    """An entry of PENDING_STATE that no longer exists must leave the list (so it shrinks to nothing)."""
    present = {(f.module, f.name) for f in state_findings}
    gone = sorted(set(PENDING_STATE) - present)
    assert not gone, f"removed, so delete from PENDING_STATE in tests/test_architecture.py: {gone}"


def test_allowed_state_still_exists(modules):
    defined = {name for tree in modules.values() for name, _, _ in _module_assignments(tree)}
    stale = sorted(set(ALLOWED_STATE) - defined)
    assert not stale, f"ALLOWED_STATE names something that no longer exists: {stale}"


STATE_CASES = {
    "cache dict mutated by item assignment": ("_SEEN = {}\ndef f(k):\n    _SEEN[k] = 1\n", ["_SEEN"]),
    "list mutated by a method": ("HISTORY = []\ndef f(x):\n    HISTORY.append(x)\n", ["HISTORY"]),
    "OrderedDict evicted with popitem": ("from collections import OrderedDict\nLRU = OrderedDict()\ndef f():\n    LRU.popitem()\n", ["LRU"]),
    "defaultdict via attribute": ("import collections\nCOUNTS = collections.defaultdict(int)\ndef f(k):\n    COUNTS[k] += 1\n", ["COUNTS"]),
    "a dict named as a cache, even unmutated here": ("_EMBEDDING_CACHE = {}\n", ["_EMBEDDING_CACHE"]),
    "a cache object in a global": ("_EMB_MEMO = EmbeddingCache()\n", ["_EMB_MEMO"]),
    "a cache directory is not a cache": ("CACHE_DIR = Path('x')\nCACHE_ENV = 'HARNESS_CACHE_DIR'\n", []),
    "dataclass field named cache": ("class Cfg:\n    cache_dir: str = field(default='x')\n    cache: dict = field(default_factory=dict)\n", []),
    "allowed registry filled by a decorator": ("TRANSCRIPT_SNIFFERS = {}\ndef sniffer(name):\n    def deco(fn):\n        TRANSCRIPT_SNIFFERS[name] = fn\n        return fn\n    return deco\n", []),
    "global rebinding": ("_MODEL = None\ndef f():\n    global _MODEL\n    _MODEL = 1\n", ["_MODEL"]),
    "lower-case module dict": ("lookup = {'a': 1}\n", ["lookup"]),
    "class-level dict mutated through self": ("class A:\n    SEEN = {}\n    def f(self, k):\n        self.SEEN[k] = 1\n", ["A.SEEN"]),
    "constant table read only": ("UNITS = {'k': 1000}\ndef f(k):\n    return UNITS[k]\n", []),
    "constant built at import": ("_TABLE = {}\n_TABLE['a'] = 1\n", []),
    "local shadowing a constant": ("TABLE = {}\ndef f():\n    TABLE = {}\n    TABLE['a'] = 1\n", []),
    "registry instance": ("from harness.registry import Registry\nTHINGS = Registry('thing')\n", []),
    "string constant named cache": ("CACHE_ENV = 'HARNESS_CACHE_DIR'\n", []),
    "__all__": ("__all__ = ['f']\n", []),
}


@pytest.mark.parametrize("case", sorted(STATE_CASES))
def test_state_scan_finds_what_it_should(case):
    source, expected = STATE_CASES[case]
    found = find_module_state({"harness.fake": ast.parse(source)})
    assert sorted(f.name for f in found) == expected


# ----------------------------------------------------------------------------------------------
# b. and c. imports: cycles, layers
# ----------------------------------------------------------------------------------------------

# The package root only re-exports the Python API lazily (``harness.evaluate``) and holds
# ``__version__``: importing it is fine from anywhere, so it takes part in no rule below.
PACKAGE_ROOT = "harness"

# Entry points: each a thin shell over the pipeline and the stages. The Python API counts as one
# (it is the commands' twin for Python callers). A package name covers its submodules.
COMMANDS = {
    "harness.__main__", "harness.cli", "harness.api", "harness.bench", "harness.check", "harness.leaderboard",
    "harness.corpus", "harness.corpus_leaderboard", "harness.corpus_ray", "harness.controls", "harness.meta_eval",
    "harness.fit", "harness.fit_conversation", "harness.train_verifier", "harness.sponsor_eval", "harness.throughput",
    "harness.benchmarks", "harness.commands",
}  # fmt: skip
# Runs the stages in order for one summary; only commands import it.
ORCHESTRATION = {"harness.pipeline"}
# The stages, in pipeline order, and the inputs and verifiers they plug in.
STAGES = {
    "harness.transcript", "harness.transcript_lookup", "harness.readers", "harness.formats", "harness.sponsors", "harness.stage_config",
    "harness.windows", "harness.episode",
    "harness.claims", "harness.align", "harness.align_checks", "harness.chunking", "harness.backends", "harness.quotes", "harness.background",
    "harness.segmentation", "harness.coverage", "harness.lexical", "harness.metrics", "harness.flags", "harness.report",
}  # fmt: skip
# Shared by every layer: records, errors, registries, text and file helpers, config, models.
INFRASTRUCTURE = {
    "harness.types", "harness.errors", "harness.registry", "harness.text", "harness.textio",
    "harness.cache", "harness.models", "harness.config", "harness.schema", "harness.signature", "harness.progress",
    "harness.video", "harness.bootstrap", "harness.tables", "harness.templates", "harness.runs", "harness.metric_specs",
}  # fmt: skip
LAYERS = {"command": COMMANDS, "orchestration": ORCHESTRATION, "stage": STAGES, "infrastructure": INFRASTRUCTURE}

# Today's cycles among stages and infrastructure (packages count as one node), each being broken
# on another branch of issue #18. The lead deletes an entry once the test says it is gone.
PENDING_CYCLES: dict[frozenset[str], str] = {}


# Today's imports of a command or the pipeline by a stage or infrastructure, with the reason.
PENDING_LAYER_VIOLATIONS: dict[tuple[str, str], str] = {}


def layer(module: str) -> str | None:
    """The layer of a module, by its longest classified prefix (``"root"`` for the package root)."""
    if module == PACKAGE_ROOT:
        return "root"
    best = None
    for name, members in LAYERS.items():
        for m in members:
            if (module == m or module.startswith(m + ".")) and (best is None or len(m) > len(best[1])):
                best = (name, m)
    return best[0] if best else None


def node(module: str) -> str:
    """A module's node in the stage graph: a subpackage counts as one node."""
    parts = module.split(".")
    if len(parts) > 2 and (HARNESS / parts[1]).is_dir():
        return ".".join(parts[:2])
    if len(parts) == 2 and (HARNESS / parts[1]).is_dir():
        return module
    return module


def import_edges(modules: dict[str, ast.Module]) -> dict[tuple[str, str], list[str]]:
    """``{(importer, imported): [file:line, ...]}`` between harness modules: ``import``, ``from``
    (at any depth, so function-level imports count) and ``importlib.import_module`` of a literal
    (or of a literal module name held in a table by a module that calls ``import_module``).
    Imports under ``if TYPE_CHECKING:`` are left out: they never run."""
    known = set(modules)

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for module, tree in modules.items():
        is_pkg = (HARNESS.parent / module.replace(".", "/") / "__init__.py").is_file()
        package = module if is_pkg else module.rpartition(".")[0]
        dynamic = any(
            isinstance(n, ast.Call) and (getattr(n.func, "attr", None) or getattr(n.func, "id", None)) in ("import_module", "__import__")
            for n in ast.walk(tree)
        )
        type_only = {
            id(inner)
            for n in ast.walk(tree)
            if isinstance(n, ast.If) and ast.unparse(n.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
            for stmt in n.body
            for inner in ast.walk(stmt)
        }
        for n in ast.walk(tree):
            targets = []
            if id(n) in type_only:
                continue  # annotations only: not imported when the code runs
            if isinstance(n, ast.Import):
                targets = [a.name for a in n.names]
            elif isinstance(n, ast.ImportFrom):
                base = n.module or ""
                if n.level:
                    anchor = package
                    for _ in range(n.level - 1):
                        anchor = anchor.rpartition(".")[0]
                    base = f"{anchor}.{base}" if base else anchor
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in n.names]
            elif dynamic and isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in known and n.value != "harness":
                targets = [n.value]
            for t in targets:
                if not t.startswith("harness"):
                    continue
                target = resolve(t)
                if target and target != module:
                    edges[(module, target)].append(where(module, n))
    return dict(edges)


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


@pytest.fixture(scope="module")
def edges(modules) -> dict[tuple[str, str], list[str]]:
    return import_edges(modules)


def stage_graph(edges: dict[tuple[str, str], list[str]]) -> tuple[dict[str, set[str]], dict[tuple[str, str], list[str]]]:
    """Import graph among stage and infrastructure nodes, and where each node edge comes from."""
    graph: dict[str, set[str]] = defaultdict(set)
    sites: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (a, b), at in edges.items():
        if layer(a) not in ("stage", "infrastructure") or layer(b) not in ("stage", "infrastructure"):
            continue
        na, nb = node(a), node(b)
        if na != nb:
            graph[na].add(nb)
            sites[(na, nb)] += at
    return graph, sites


def _describe(component: frozenset[str], graph: dict[str, set[str]], sites: dict[tuple[str, str], list[str]]) -> str:
    lines = [f"  {a} → {b} ({', '.join(sites[(a, b)][:3])})" for a in sorted(component) for b in sorted(graph.get(a, ())) if b in component]
    return "{" + ", ".join(sorted(component)) + "}:\n" + "\n".join(lines)


def test_every_module_has_a_layer(modules):
    unclassified = sorted(m for m in modules if layer(m) is None)
    assert not unclassified, f"classify these modules in tests/test_architecture.py (COMMANDS, STAGES, INFRASTRUCTURE): {unclassified}"


def test_no_import_cycles_among_stages(edges):
    graph, sites = stage_graph(edges)
    new = [c for c in cycles(graph) if c not in PENDING_CYCLES]
    shrunk = [c for c in new if any(c < p for p in PENDING_CYCLES)]
    assert not shrunk, "a pending cycle got smaller (good): replace its entry in PENDING_CYCLES with:\n" + "\n".join(
        _describe(c, graph, sites) for c in shrunk
    )
    assert not new, "import cycles among stages (let the later stage import the earlier one, never both ways):\n" + "\n".join(
        _describe(c, graph, sites) for c in new
    )


def test_pending_cycles_are_still_there(edges):
    graph, _ = stage_graph(edges)
    gone = [sorted(c) for c in PENDING_CYCLES if c not in cycles(graph)]
    assert not gone, f"these cycles are broken or changed: delete (or shrink) them in PENDING_CYCLES: {gone}"


def _layer_violations(edges: dict[tuple[str, str], list[str]]) -> dict[tuple[str, str], list[str]]:
    return {
        (a, b): at
        for (a, b), at in edges.items()
        if layer(a) in ("stage", "infrastructure") and layer(b) in ("command", "orchestration")
    }


def test_no_stage_imports_a_command(edges):
    new = {k: v for k, v in _layer_violations(edges).items() if k not in PENDING_LAYER_VIOLATIONS}
    assert not new, "a stage (or shared infrastructure) imports a command or the pipeline; pass what it needs instead:\n" + "\n".join(
        f"  {a} → {b} ({', '.join(at)})" for (a, b), at in sorted(new.items())
    )


def test_pending_layer_violations_are_still_there(edges):
    gone = sorted(set(PENDING_LAYER_VIOLATIONS) - set(_layer_violations(edges)))
    assert not gone, f"fixed, so delete from PENDING_LAYER_VIOLATIONS: {gone}"


def test_import_scan_sees_function_level_and_importlib_imports():
    fake = {
        "harness.a": ast.parse("def f():\n    from harness.b import g\n"),
        "harness.b": ast.parse("import importlib\nMODS = {'x': 'harness.a'}\ndef g():\n    importlib.import_module(MODS['x'])\n"),
        "harness.c": ast.parse("import harness.a\n"),
        "harness.d": ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from harness.a import f\n"),
    }
    assert set(import_edges(fake)) == {("harness.a", "harness.b"), ("harness.b", "harness.a"), ("harness.c", "harness.a")}
    assert cycles({"a": {"b"}, "b": {"a", "c"}, "c": set()}) == [frozenset({"a", "b"})]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_layers_are_disjoint():
    names = [m for members in LAYERS.values() for m in members]
    assert len(names) == len(set(names))


# ----------------------------------------------------------------------------------------------
# d. one home per text helper
# ----------------------------------------------------------------------------------------------

# Names (leading underscores ignored) that must be implemented at most once in harness/, as
# {name: group}: a group's names are the same helper spelled differently.
HELPERS = {
    "parse_clock": "parse_clock",
    "format_clock": "format_clock",
    "split_sentences": "split_sentences",
    "content_words": "content_words",
    "stem": "stem",
    "load_run": "load_run",
    "read_run": "load_run",
    "stop_words": "stop_words",
    "levenshtein": "edit_distance",
    "edit_distance": "edit_distance",
}
# Where each group lives once consolidated (issue #18: one text toolkit, one run loader).
HOME = {group: "harness.text" for group in set(HELPERS.values())} | {"load_run": "harness.runs"}

# Functions that share a helper's name without being that helper, with the reason.
NAMESAKES: dict[tuple[str, str], str] = {
    ("content_words", "harness.controls"): "the word budget of a corpus row's summary (a count), not the text helper",
}

# Today's duplicates, being consolidated into harness/text.py and harness/runs.py by the "text"
# helper of issue #18: {group: modules implementing it today}. A thin adapter that calls the
# group's helper (say ``check.load_run`` over ``runs.read_run``) is not a duplicate. The lead
# empties this after merging.
PENDING_DUPLICATES: dict[str, frozenset[str]] = {}


def _imported_helpers(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """Names bound by ``from harness... import x [as y]`` ({y: x}) and aliases of imported harness
    modules, anywhere in the module."""
    names, module_aliases = {}, set()
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("harness"):
            for a in n.names:
                names[a.asname or a.name] = a.name
        elif isinstance(n, ast.Import):
            module_aliases |= {(a.asname or a.name).split(".")[0] for a in n.names if a.name.startswith("harness")}
    return names, module_aliases


def _is_adapter(func: ast.FunctionDef | ast.AsyncFunctionDef, group: str, imported: dict[str, str], module_aliases: set[str]) -> bool:
    """Whether ``func`` calls the group's helper from another harness module (so it adapts it)."""
    for n in ast.walk(func):
        if not isinstance(n, ast.Call):
            continue
        f = n.func
        if isinstance(f, ast.Name) and HELPERS.get(imported.get(f.id, "").lstrip("_")) == group:
            return True
        if isinstance(f, ast.Attribute) and HELPERS.get(f.attr.lstrip("_")) == group:
            root = f.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and (root.id in module_aliases or root.id in imported):
                return True
    return False


def helper_definitions(modules: dict[str, ast.Module]) -> dict[str, dict[str, str]]:
    """``{group: {module: file:line}}`` of top-level functions implementing a helper group
    (adapters over the group's helper and listed namesakes left out)."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for module, tree in modules.items():
        imported, aliases = _imported_helpers(tree)
        for n in tree.body:
            if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) or n.name.lstrip("_") not in HELPERS:
                continue
            group = HELPERS[n.name.lstrip("_")]
            if (group, module) in NAMESAKES or _is_adapter(n, group, imported, aliases):
                continue
            found[group][module] = where(module, n)
    return found


def test_no_helper_is_implemented_twice(modules):
    problems = []
    for group, defs in sorted(helper_definitions(modules).items()):
        allowed = PENDING_DUPLICATES.get(group, frozenset()) | {HOME[group]}
        if len(defs) > 1 and set(defs) - allowed:
            problems.append(f"  {group}: {', '.join(f'{m} ({at})' for m, at in sorted(defs.items()))}")
    assert not problems, "a helper implemented more than once (import the one in its home, HOME in this file):\n" + "\n".join(problems)


def test_pending_duplicates_are_still_there(modules):
    defs = helper_definitions(modules)
    stale = []
    for group, pending in sorted(PENDING_DUPLICATES.items()):
        gone = sorted(pending - set(defs.get(group, {})))
        if gone:
            stale.append(f"{group}: no longer implemented in {gone}")
        elif len(defs.get(group, {})) <= 1:
            stale.append(f"{group}: no longer duplicated")
    assert not stale, "consolidated, so update PENDING_DUPLICATES in tests/test_architecture.py: " + "; ".join(stale)


def test_namesakes_still_exist(modules):
    defined = {(HELPERS[n.name.lstrip("_")], m) for m, tree in modules.items() for n in tree.body
               if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.lstrip("_") in HELPERS}
    stale = sorted(set(NAMESAKES) - defined)
    assert not stale, f"NAMESAKES lists functions that no longer exist: {stale}"


def test_helper_scan_ignores_underscores_knows_aliases_and_adapters():
    fake = {
        "harness.a": ast.parse("def _stop_words():\n    pass\ndef read_run(p):\n    pass\n"),
        "harness.b": ast.parse("def stop_words():\n    pass\ndef helper():\n    def stem(w):\n        return w\n"),
        "harness.c": ast.parse("from harness.a import read_run\ndef load_run(p):\n    return read_run(p).report\n"),
        "harness.d": ast.parse("import harness.text\ndef levenshtein(a, b):\n    return harness.text.edit_distance(a, b)\n"),
    }
    assert helper_definitions(fake) == {
        "stop_words": {"harness.a": "harness/a.py:1", "harness.b": "harness/b.py:1"},
        "load_run": {"harness.a": "harness/a.py:3"},
    }
