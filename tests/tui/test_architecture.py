"""Textual stays inside securesubmit/tui and out of the command line's import path."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "securesubmit"


def _imports_textual(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        if any(n == "textual" or n.startswith("textual.") for n in names):
            return True
    return False


def test_only_the_tui_package_imports_textual() -> None:
    importers = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if _imports_textual(p)}
    assert importers, "the check must see the app's own imports"
    assert {p for p in importers if not p.startswith("tui/")} == set()


def test_the_command_line_does_not_load_textual() -> None:
    code = (
        "import sys, securesubmit.cli; "
        "securesubmit.cli.build_parser(); "
        "print('textual' in sys.modules, 'rich' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]


def test_the_app_never_writes_logs_or_uses_the_command_palette(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from textual import constants

    from securesubmit.tui.app import SecureSubmitApp

    monkeypatch.setattr(constants, "LOG_FILE", str(tmp_path / "textual.log"))
    monkeypatch.setenv("TEXTUAL", "devtools,debug")
    app = SecureSubmitApp(tmp_path / "vault.db", "en")
    assert constants.LOG_FILE is None
    assert app.devtools is None and not ({"devtools", "debug"} & app.features)
    assert SecureSubmitApp.ENABLE_COMMAND_PALETTE is False  # its screenshot writes files
