"""Architecture rules that keep the security argument small.

* core/ imports nothing from the user interfaces.
* Only core/crypto.py imports cryptographic libraries.
* No pickle, eval/exec, yaml.load or shell=True anywhere in the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "securesubmit"
CRYPTO_LIBS = ("cryptography", "pyrage", "hashlib", "hmac", "nacl", "Crypto")
UI_MODULES = ("textual", "rich", "securesubmit.cli", "securesubmit.tui", "click", "typer")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _matches(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_core_does_not_import_user_interfaces() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(n for n in _imports(path) if _matches(n, UI_MODULES))
        for path in (PACKAGE / "core").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_crypto_module_imports_cryptographic_libraries() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            n for n in _imports(path) if _matches(n, CRYPTO_LIBS)
        )
        for path in PACKAGE.rglob("*.py")
        if path != PACKAGE / "core" / "crypto.py"
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_dangerous_calls_in_the_package() -> None:
    problems = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        if {"pickle", "marshal", "shelve"} & _imports(path):
            problems.append(f"{path.name}: imports pickle/marshal/shelve")
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in ("eval", "exec") and isinstance(func, ast.Name):
                    problems.append(f"{path.name}:{node.lineno}: {name}()")
                if (
                    name == "load"
                    and isinstance(func, ast.Attribute)
                    and getattr(func.value, "id", "") == "yaml"
                ):
                    problems.append(f"{path.name}:{node.lineno}: yaml.load")
                for kw in node.keywords:
                    if kw.arg == "shell" and isinstance(kw.value, ast.Constant) and kw.value.value:
                        problems.append(f"{path.name}:{node.lineno}: shell=True")
    assert problems == []


def test_the_rules_see_a_violation(tmp_path: Path) -> None:
    # Guard against a rule that can never fire: it must flag a planted import.
    planted = tmp_path / "x.py"
    planted.write_text("import textual.app\nfrom cryptography import x509\n")
    assert _matches("textual.app", UI_MODULES) and "textual.app" in _imports(planted)
    assert _matches("cryptography", CRYPTO_LIBS) and "cryptography" in _imports(planted)
