"""Imports run one way: the window builds the reviewer, never the reverse (no import loop)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "xray_gui"


def imported(path: Path) -> set[str]:
    """Every module `path` imports, TYPE_CHECKING imports too."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_reviewer_and_the_review_package_do_not_import_the_main_window():
    files = [PACKAGE / "reviewer.py", *sorted((PACKAGE / "review").glob("*.py"))]
    assert len(files) > 5 and PACKAGE / "review" / "session.py" in files
    loops = [f.name for f in files if "xray_gui.main_window" in imported(f)]
    assert not loops, loops
    assert "xray_gui.reviewer" in imported(PACKAGE / "main_window.py")  # the one way it goes
