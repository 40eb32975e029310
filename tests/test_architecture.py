"""The package's shape: stages depend one way, no import cycles, no private names across modules."""

import ast
import doctest
import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "symderiv"
STAGES = (
    "core",
    "runtime",
    "notation",
    "reading",
    "answerkey",
    "evaluation",
    "truth",
    "judging",
    "grading",
    "output",
    "web",
)


def test_import_linter_contract_is_kept():
    proc = subprocess.run(
        [sys.executable, "-m", "importlinter.cli", "--config", str(ROOT / ".importlinter")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0 and "No module named importlinter.cli" in proc.stderr:
        proc = subprocess.run(
            [shutil.which("lint-imports") or "lint-imports", "--config", str(ROOT / ".importlinter")],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


def test_the_package_has_no_import_cycle():
    graph = grimp.build_graph("symderiv")
    modules = sorted(graph.modules)
    cycles = []
    for module in modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(imported=module, importer=imported):
                cycles.append(
                    f"{module} <-> {imported} "
                    f"({' -> '.join(graph.find_shortest_chain(importer=imported, imported=module))})"
                )
    assert not cycles, "\n".join(cycles)


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_underscore_name_is_imported_from_another_module(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    private = [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("symderiv")
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert not private


# Optional heavy dependencies loaded on first use, each with its reason in a comment at the import.
LAZY_IMPORTS = {
    ("notation/scalar.py", "latex2sympy2"),
    ("evaluation/backends.py", "sympy"),
    ("grading/cluster.py", "distributed"),
}


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_are_at_module_level(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    relative = str(path.relative_to(PACKAGE))
    inner = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, ast.ImportFrom):
                    name = sub.module
                elif isinstance(sub, ast.Import):
                    name = sub.names[0].name
                else:
                    continue
                if (relative, name.split(".")[0]) not in LAZY_IMPORTS:
                    inner.append(f"line {sub.lineno}: {name}")
    assert not inner


def test_every_module_belongs_to_a_stage():
    loose = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py", "cli.py")]
    assert not loose
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} >= set(STAGES)


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]' installs it)")
    proc = subprocess.run([ruff, "check", "symderiv", "tests", "benchmarks"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_ruff_format_leaves_the_tree_unchanged():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]' installs it)")
    proc = subprocess.run(
        [ruff, "format", "--check", "symderiv", "tests", "benchmarks"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout[-3000:]


# A [network] block is read where it is expanded into the key's model, and described in the handout;
# nothing that derives the truth, reads a claim, checks it or names its mistake may look at it.
SHORTHAND_READERS = {"answerkey/problem.py", "answerkey/expand.py", "output/export.py", "output/handout.py"}


def _attributes(path: Path, name: str) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == name]


def test_one_engine_for_every_key():
    readers = {str(p.relative_to(PACKAGE)) for p in _modules() if _attributes(p, "shorthand")}
    assert readers <= SHORTHAND_READERS, sorted(readers - SHORTHAND_READERS)
    branches = [
        f"{p.relative_to(PACKAGE)}:{n.lineno}"
        for p in _modules()
        if p.name != "schema.py"  # the key's schema: a file declares [network] or [model], exactly one
        for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        if isinstance(n, ast.Compare)
        and isinstance(n.left, ast.Attribute)
        and n.left.attr == "model"
        and any(isinstance(c, ast.Constant) and c.value is None for c in n.comparators)
    ]
    assert not branches, branches  # `problem.model is None`: every key has a model


def _modules_with_examples():
    return [p for p in _modules() if ">>> " in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("path", _modules_with_examples(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_docstring_examples_run(path):
    """Every runnable example in a docstring gives what it shows (examples that need files say +SKIP)."""
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed"
