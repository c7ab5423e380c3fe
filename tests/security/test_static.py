"""Static rules for the package, on top of ruff's S rules (pyproject) and of
tests/unit/test_architecture.py (no pickle, eval, exec, yaml.load, shell=True):

* **No string-built SQL**: the query given to ``execute``/``executemany``/``executescript``
  is never an f-string, a ``%`` or ``+`` concatenation or a ``.format()`` call.
* **No file writes outside core/fs.py and core/vault.py**: no ``open(…, "w"/"a"/"x"/"+")``,
  ``os.fdopen`` for writing, ``Path.write_text``/``write_bytes``, ``os.open`` with a
  creating or writing flag, ``os.rename``/``replace``/``link``/``symlink``, ``shutil``
  copies and moves, or ``tempfile``. Everything else goes through fs.atomic_writer, which
  refuses symbolic links, never overwrites and never leaves a partial file.
* **No process execution** (``subprocess``, ``os.system``, ``os.popen``, ``os.exec*``,
  ``os.spawn*``) in the package: SecureSubmit runs nothing.

Each exception is allowlisted below with the reason it is safe, matched by file and by
the source text of the call (not by line number), and an entry that matches nothing fails
too, so the list cannot go stale.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "securesubmit"
WRITERS_ALLOWED = {"core/fs.py", "core/vault.py"}
SQL_METHODS = {"execute", "executemany", "executescript"}
WRITE_FLAGS = {"O_CREAT", "O_WRONLY", "O_RDWR", "O_APPEND", "O_TRUNC"}
RENAMES = {("os", "rename"), ("os", "replace"), ("os", "link"), ("os", "symlink")}
RUNS = {"system", "popen", "execv", "execve", "execvp", "execl", "spawnv", "spawnl", "posix_spawn"}


@dataclass(frozen=True)
class Allowed:
    file: str
    snippet: str  # a piece of the call's source text
    reason: str


ALLOWED = (
    Allowed(
        "core/audit.py",
        'f"SELECT {columns} FROM {table}"',
        "table is a key of the constant TABLE_CODES and columns one of two literals: no "
        "outside value reaches the query; SQLite cannot bind table or column names",
    ),
    Allowed(
        "core/vault.py",
        'f"PRAGMA application_id = {APPLICATION_ID}"',
        "a module constant; PRAGMA values cannot be bound parameters",
    ),
    Allowed(
        "core/vault.py",
        'f"PRAGMA user_version = {SCHEMA_VERSION}"',
        "a module constant; PRAGMA values cannot be bound parameters",
    ),
    Allowed(
        "core/vault.py",
        'f"PRAGMA page_size = {PAGE_SIZE}"',
        "a module constant; PRAGMA values cannot be bound parameters",
    ),
    Allowed(
        "tui/crash.py",
        "os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)",
        "the crash report: types and places only, no vault data (tests/tui/test_safety.py); "
        "0600, O_NOFOLLOW, in the user's 0700 state folder. Could use fs.write_file_atomic",
    ),
    Allowed(
        "tui/locale_tool.py",
        ".write_text(",
        "developer tool that regenerates the translation catalogues in the source tree; "
        "never run by the app",
    ),
    Allowed(
        "tui/locale_tool.py",
        ".write_bytes(",
        "developer tool that compiles .mo catalogues in the source tree; never run by the app",
    ),
)


def _source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _string_built(node: ast.AST) -> bool:
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    )


def _mode(call: ast.Call, position: int) -> str:
    value = call.args[position] if len(call.args) > position else None
    for keyword in call.keywords:
        if keyword.arg == "mode":
            value = keyword.value
    return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else ""


def _writes(mode: str) -> bool:
    return any(c in mode for c in "wax+")


def violations(source: str, relative: str) -> list[tuple[str, str, str]]:
    """(rule, file:line, source text of the call) for every violation in ``source``."""
    tree = ast.parse(source, relative)
    found = []

    def flag(rule: str, node: ast.AST) -> None:
        text = ast.get_source_segment(source, node) or ""
        found.append((rule, f"{relative}:{getattr(node, 'lineno', 0)}", text))

    writer_file = relative in WRITERS_ALLOWED
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            if any(m.split(".")[0] == "subprocess" for m in modules):
                flag("process", node)
            if not writer_file and any(m.split(".")[0] == "tempfile" for m in modules):
                flag("write", node)
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        attr = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        if attr in SQL_METHODS and node.args and _string_built(node.args[0]):
            flag("sql", node)
        if name.startswith("os.") and name.split(".")[1] in RUNS:
            flag("process", node)
        if writer_file:
            continue
        opens = name in ("open", "io.open", "os.fdopen")
        if (opens and _writes(_mode(node, 1))) or attr in ("write_text", "write_bytes"):
            flag("write", node)
        elif name == "os.open" and len(node.args) > 1:
            flags = {n.attr for n in ast.walk(node.args[1]) if isinstance(n, ast.Attribute)}
            if flags & WRITE_FLAGS:
                flag("write", node)
        elif tuple(name.split(".")) in RENAMES or (
            name.startswith("shutil.")
            and name.split(".")[1] in {"copy", "copy2", "copyfile", "copytree", "move"}
        ):
            flag("write", node)
    return found


def _allowed(relative: str, text: str) -> Allowed | None:
    for entry in ALLOWED:
        if entry.file == relative and entry.snippet in text:
            return entry
    return None


def test_the_package_builds_no_sql_from_strings_writes_no_files_and_runs_nothing() -> None:
    problems = []
    used: set[Allowed] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = str(path.relative_to(PACKAGE))
        for rule, where, text in violations(_source(path), relative):
            entry = _allowed(relative, text)
            if entry is None:
                problems.append(f"{rule}: {where}: {text[:100]}")
            else:
                used.add(entry)
    assert problems == []
    stale = [f"{e.file}: {e.snippet}" for e in ALLOWED if e not in used]
    assert stale == [], "allowlist entries that match nothing any more: remove them"


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ('conn.execute(f"SELECT * FROM t WHERE id = {x}")', "sql"),
        ('conn.execute("SELECT * FROM t WHERE id = %s" % x)', "sql"),
        ('conn.executemany("INSERT INTO " + table + " VALUES (?)", rows)', "sql"),
        ('db.execute("DELETE FROM {}".format(t))', "sql"),
        ('open(path, "w")', "write"),
        ('open(path, mode="ab")', "write"),
        ('open(path, "r+b")', "write"),
        ('os.fdopen(fd, "wb")', "write"),
        ('Path(p).write_text("x")', "write"),
        ("target.write_bytes(data)", "write"),
        ("os.open(p, os.O_WRONLY | os.O_CREAT, 0o600)", "write"),
        ("os.replace(a, b)", "write"),
        ("shutil.copyfile(a, b)", "write"),
        ("import tempfile", "write"),
        ("import subprocess", "process"),
        ('os.system("ls")', "process"),
    ],
)
def test_each_rule_sees_a_planted_violation(code: str, rule: str) -> None:
    assert [v[0] for v in violations(code, "core/planted.py")] == [rule]


@pytest.mark.parametrize(
    "code",
    [
        'conn.execute("SELECT * FROM t WHERE id = ?", (x,))',
        "conn.execute(statement)",
        'open(path, "rb")',
        "open(path)",
        'archive.open(name, "w")',  # a member of a ZIP stream, not a file
        "os.open(directory, os.O_RDONLY | os.O_DIRECTORY)",
    ],
)
def test_what_is_fine_is_not_flagged(code: str) -> None:
    assert violations(code, "core/planted.py") == []


def test_the_writers_themselves_may_write() -> None:
    assert violations('open(p, "wb")', "core/fs.py") == []
    assert violations('conn.execute(f"DROP {x}")', "core/fs.py") != []  # SQL rule still applies
