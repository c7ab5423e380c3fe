"""No plaintext on disk: a canary written into every field is found nowhere afterwards.

Searched: the vault file, its -wal/-shm/-journal files, and the process's temp directory,
after save, after edit, after delete and after close, in UTF-8 and UTF-16 spellings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import WEAK_INIT, cli_env, run_cli

CANARY = "CANARY7f3a9e"
CANARY_RU = "КАНАРЕЙКА7f3a"


def _spellings(text: str) -> list[bytes]:
    return [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be")]


def _hits(directory: Path) -> list[str]:
    found = []
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.name != "passphrase.txt" and path.suffix != ".json":
            data = path.read_bytes()
            for needle in _spellings(CANARY) + _spellings(CANARY_RU):
                if needle in data:
                    found.append(f"{path.name}: {needle!r}")
    return found


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = cli_env(tmp_path)
    assert run_cli(*WEAK_INIT, "--name", f"{CANARY}-name", env=e).returncode == 0
    return e


def test_canary_in_every_field_never_reaches_disk(env: dict[str, str], tmp_path: Path) -> None:
    fields = {
        "title": f"{CANARY} title {CANARY_RU}",
        "category": "repression",
        "template": "repression",
        "incident_date": "2026-11-01",
        "country": "UZ",
        "place": f"{CANARY} place",
        "people": [{"name": f"{CANARY} person", "role": f"{CANARY} role", "sensitive": True}],
        "description": f"{CANARY} description {CANARY_RU}\n" * 50,
        "sources": [f"{CANARY} source"],
        "tags": [f"{CANARY}-tag"],
        "fields": {"action": f"{CANARY} action", "case_number": f"{CANARY} case"},
    }
    source = tmp_path / "report.json"
    source.write_text(json.dumps(fields))
    created = run_cli("report", "new", "--from-json", str(source), env=env)
    assert created.returncode == 0, created.stderr
    rid = created.stdout.strip()
    vault_dir = Path(env["SECURESUBMIT_VAULT"]).parent
    temp_dir = Path(env["TMPDIR"])
    assert _hits(vault_dir) == [] and _hits(temp_dir) == []

    edited = run_cli("report", "edit", rid, "--place", f"{CANARY} new place", env=env)
    assert edited.returncode == 0, edited.stderr
    assert _hits(vault_dir) == [] and _hits(temp_dir) == []

    deleted = run_cli("report", "delete", rid, "--yes", env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert _hits(vault_dir) == [] and _hits(temp_dir) == []
    # Nothing in the temp directory at all: SQLite keeps its temp data in memory.
    assert list(temp_dir.iterdir()) == []
    # After close no side files linger: the WAL is checkpointed and truncated.
    leftovers = [p.name for p in vault_dir.iterdir() if p.name != "vault.db"]
    assert all(Path(vault_dir, n).stat().st_size == 0 for n in leftovers), leftovers


def test_partner_names_never_reach_disk(env: dict[str, str], tmp_path: Path) -> None:
    coord = {**cli_env(tmp_path / "c"), "SECURESUBMIT_VAULT": str(tmp_path / "c" / "c.db")}
    assert (
        run_cli(
            *WEAK_INIT, "--role", "coordinator", "--name", f"{CANARY} partner", env=coord
        ).returncode
        == 0
    )
    card = tmp_path / "c" / "partner.card"
    assert run_cli("card", "export", "--out", str(card), env=coord).returncode == 0
    assert run_cli("partners", "add", str(card), "--yes", env=env).returncode == 0
    # The card file itself is public and holds the name; the vault must not.
    assert _hits(Path(env["SECURESUBMIT_VAULT"]).parent) == []
    assert _hits(Path(env["TMPDIR"])) == []


def test_timestamps_are_not_stored_in_clear(env: dict[str, str], tmp_path: Path) -> None:
    # The creation time is inside the ciphertext: no ISO date of today appears in the file.
    created = run_cli("report", "new", "--title", "t", "--category", "other", "--json", env=env)
    stamp = json.loads(created.stdout)["created"]
    vault = Path(env["SECURESUBMIT_VAULT"])
    data = vault.read_bytes()
    assert stamp[:10].encode() not in data
    assert stamp[:10].replace("-", "").encode() not in data


def test_error_output_does_not_echo_secrets(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{CANARY}-wrong-passphrase\n")
    result = run_cli("report", "list", env={**env, "SECURESUBMIT_PASSPHRASE_FILE": str(bad)})
    assert result.returncode == 3
    assert CANARY not in result.stderr + result.stdout
