"""Imports run one way (models <- predict <- bundle <- evaluate <- train <- cli): screening loads no
training code, and no engine module imports its way back to itself, not even inside a function."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each test imports torch in a fresh interpreter

REPO = Path(__file__).resolve().parents[2]
TRAINING = ("engine.detection.train", "engine.classification.train", "engine.training")


def test_screening_a_scan_loads_no_training_module(tiny_bundle, test_piece_files):
    code = (
        "import sys\n"
        "from engine.pipeline import Screener\n"
        f"Screener.from_bundle({str(tiny_bundle)!r}, 'cpu')({str(test_piece_files)!r})\n"
        f"loaded = [m for m in {TRAINING!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=300)


def test_model_and_evaluation_modules_do_not_import_training():
    code = (
        "import sys\n"
        "import engine.bundle, engine.detection.evaluate, engine.classification.evaluate\n"
        "import engine.detection.models, engine.classification.models\n"
        f"loaded = [m for m in {TRAINING!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=300)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The engine modules `path` imports anywhere in it, inside functions too."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n for n in names if n in modules}
    return found


def test_no_import_cycle_in_the_engine_even_inside_functions():
    """A deferred import breaks no cycle: the layers still lean on each other (issue 18)."""
    files = {
        ".".join(p.relative_to(REPO).with_suffix("").parts): p
        for p in (REPO / "engine").rglob("*.py")
    }
    files = {m.removesuffix(".__init__"): p for m, p in files.items()}
    graph = {m: _imports(p, set(files)) - {m} for m, p in files.items()}
    cycles = []
    for start in graph:  # a depth-first walk from each module back to itself
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    cycles.append(path)
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    assert not cycles, sorted({" -> ".join(sorted(c)) for c in cycles})
