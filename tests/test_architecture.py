"""The package's shape: every import points down the data flow, and no module imports itself back.

Data flows one way: bytes -> devices (codec) -> session -> Recording -> signal -> analysis ->
report/table. The table below is the whole rule set: a package may import only the packages listed
for it (and the leaf modules). Imports inside functions count too, since they run as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "motorlab"

#: plumbing at the package root that every layer may use; it imports no other motorlab module
LEAVES = {"motorlab.errors", "motorlab.units", "motorlab.atomic"}
#: root modules that act as a layer of their own
ROOT_LAYERS = {"motorlab": "root", "motorlab.recording": "recording", "motorlab.__main__": "cli"}

#: layer -> the layers it may import (besides itself and the leaves). ``signal`` is pure arrays
#: and sits lowest; the typed Recording checks its timestamps with it; everything above reads
#: Recordings.
ALLOWED: dict[str, set[str]] = {
    "root": {"recording"},
    "signal": set(),
    "recording": {"signal"},
    "storage": {"recording", "signal"},
    "devices": {"recording"},
    "session": {"recording", "devices", "storage", "signal"},
    "streaming": {"recording", "devices", "session"},
    "analysis": {"recording", "signal", "storage"},
    "clinic": {"recording", "analysis", "signal", "storage"},
    "report": {"recording", "analysis", "clinic", "signal", "storage"},
    "sim": {"recording", "devices", "storage", "signal", "clinic", "session"},
    "ui": {"recording", "devices", "session", "storage", "signal", "analysis", "clinic", "report"},
    "cli": {
        "root",
        "recording",
        "devices",
        "session",
        "storage",
        "signal",
        "analysis",
        "clinic",
        "report",
        "ui",
        "sim",
        "streaming",
    },
}
#: production layers reach the simulators only through strings resolved at run time (devices/registry)
NEVER = {"devices": {"sim", "ui", "cli"}, "session": {"sim", "ui", "cli"}, "analysis": {"sim", "cli"}}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    mod = _module_name(path)
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "motorlab"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "motorlab":
                # ``from pkg import sub`` imports the submodule; ``from mod import name`` the module
                out |= {f"{target}.{a.name}" for a in node.names} | {f"{target}:"}
    return out


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for m, p in files.items():
        edges = set()
        raw = _imports(p)
        for t in raw:
            if t.endswith(":"):  # the module of a ``from`` import, unless all its names are submodules
                base = t[:-1]
                names = {
                    x.rsplit(".", 1)[1]
                    for x in raw
                    if x.startswith(base + ".")
                    and not x.endswith(":")
                    and x.count(".") == base.count(".") + 1
                }
                if base in files and not all(f"{base}.{n}" in files for n in names):
                    edges.add(base)
            elif t in files:
                edges.add(t)
        graph[m] = edges - {m}
    return graph


def _layer(module: str) -> str:
    if module in LEAVES:
        return ""
    if module in ROOT_LAYERS:
        return ROOT_LAYERS[module]
    return module.split(".")[1]


def test_every_package_is_in_the_layer_table():
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages | {"root", "recording"} == set(ALLOWED), "add the new package to ALLOWED"


def test_leaves_import_no_other_layer():
    bad = [f"{m} -> {t}" for m, ts in _graph().items() if m in LEAVES for t in ts if t not in LEAVES]
    assert bad == []


def test_no_module_imports_a_higher_layer():
    """Any layer may read the package root's ``__version__``; beyond that the table rules."""
    bad = []
    for mod, targets in _graph().items():
        layer = _layer(mod)
        if not layer:
            continue
        for t in targets:
            tl = _layer(t)
            if tl and tl not in (layer, "root") and tl not in ALLOWED[layer]:
                bad.append(f"{mod} -> {t}")
    assert bad == [], "imports against the data flow:\n" + "\n".join(sorted(bad))


def test_production_code_never_reaches_the_simulators_directly():
    bad = [
        f"{m} -> {t}"
        for m, targets in _graph().items()
        for t in targets
        if _layer(t) in NEVER.get(_layer(m), set())
    ]
    assert bad == []


def test_no_import_cycle_anywhere():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert cycles == [], "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)
    # the BLE transport reads its GATT layout from the device spec (once an import loop with the registry)
    assert "motorlab.devices.spec" in graph["motorlab.devices.transports.ble"]


def test_the_checker_sees_an_upward_import(tmp_path):
    # the rule set is not vacuous: an analysis module importing the session layer is caught
    fake = tmp_path / "motorlab" / "analysis"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("from ..session import Recorder\n")
    global ROOT
    saved = ROOT
    try:
        ROOT = tmp_path / "motorlab"
        (ROOT / "__init__.py").write_text("")
        (fake / "__init__.py").write_text("")
        (ROOT / "session").mkdir()
        (ROOT / "session" / "__init__.py").write_text("Recorder = 1\n")
        graph = _graph()
    finally:
        ROOT = saved
    assert "motorlab.session" in graph["motorlab.analysis.bad"]
    assert _layer("motorlab.session") not in ALLOWED[_layer("motorlab.analysis.bad")]
