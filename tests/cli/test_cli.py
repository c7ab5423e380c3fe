"""Every command through the real entry point (``python -m securesubmit``), as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import PASSPHRASE, WEAK_INIT, cli_env, run_cli


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = cli_env(tmp_path)
    result = run_cli(*WEAK_INIT, "--name", "Aigerim", env=e)
    assert result.returncode == 0, result.stderr
    return e


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """A user error: an 'error:' line, maybe a 'hint:' line, never a traceback."""
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln and not ln.startswith("usage:")]
    assert lines[0].startswith("error: "), result.stderr
    assert all(ln.startswith(("error: ", "hint: ")) for ln in lines), result.stderr
    return lines[0]


def _new(env: dict[str, str], *args: str) -> str:
    result = run_cli("report", "new", *args, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_help_is_fast_and_does_not_import_textual(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom securesubmit.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'textual' not in sys.modules, 'textual was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "report" in result.stdout and "panic" in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["init"],
        ["vault", "info"],
        ["passphrase", "change"],
        ["report", "new"],
        ["report", "edit"],
        ["report", "list"],
        ["report", "show"],
        ["report", "delete"],
        ["report", "templates"],
        ["panic"],
        ["report", "attach"],
        ["report", "seal"],
        ["report", "attachment", "list"],
        ["report", "attachment", "save"],
        ["report", "attachment", "remove"],
        ["sealed", "list"],
        ["sealed", "show"],
        ["sealed", "export-file"],
        ["sealed", "open"],
        ["export"],
        ["import"],
        ["inbox", "list"],
        ["inbox", "show"],
        ["inbox", "save-attachment"],
        ["inbox", "status"],
        ["inbox", "tag"],
        ["inbox", "note"],
        ["inbox", "duplicate"],
        ["inbox", "export"],
        ["stats"],
        ["identity", "show"],
        ["identity", "rename"],
        ["identity", "rotate"],
        ["identity", "revoke"],
        ["card", "export"],
        ["card", "show"],
        ["partners", "list"],
        ["partners", "add"],
        ["partners", "show"],
        ["partners", "remove"],
        ["partners", "statement"],
        ["partners", "trust-store", "list"],
        ["partners", "trust-store", "import"],
        ["audit", "verify"],
        ["audit", "log"],
        ["audit", "checkpoint"],
    ],
)
def test_every_command_has_help_with_an_example(command: list[str], tmp_path: Path) -> None:
    result = run_cli(*command, "--help", env=cli_env(tmp_path))
    assert result.returncode == 0
    assert "example:" in result.stdout and "securesubmit" in result.stdout


def test_init_creates_a_private_vault(env: dict[str, str]) -> None:
    vault = Path(env["SECURESUBMIT_VAULT"])
    assert vault.stat().st_mode & 0o777 == 0o600
    assert vault.parent.stat().st_mode & 0o777 == 0o700


def test_init_twice_is_refused(env: dict[str, str]) -> None:
    result = run_cli(*WEAK_INIT, env=env)
    assert result.returncode == 1
    assert "already exists" in _one_error_line(result)


def test_init_refuses_a_weak_kdf_outside_tests(tmp_path: Path) -> None:
    e = cli_env(tmp_path)
    del e["SECURESUBMIT_ALLOW_WEAK_KDF"]
    result = run_cli(*WEAK_INIT, env=e)
    assert result.returncode == 1
    assert "at least 256 MiB" in _one_error_line(result)


def test_report_new_list_show_edit_delete(env: dict[str, str]) -> None:
    rid = _new(
        env,
        "--template",
        "environment-info",
        "--title",
        "Water data refused",
        "--country",
        "TJ",
        "--date",
        "2026-10",
        "--place",
        "Khujand",
        "--person",
        "Rustam;activist;sensitive",
        "--source",
        "letter from the ministry",
        "--tag",
        "water",
        "--field",
        "requested=water quality data",
        "--field",
        "requested_from=Ministry of Energy",
    )
    assert len(rid) == 32
    listed = json.loads(run_cli("report", "list", "--json", env=env).stdout)
    assert [r["id"] for r in listed] == [rid]
    assert listed[0]["category"] == "environment"
    assert listed[0]["people"] == [
        {"name": "Rustam", "role": "activist", "sensitive": True, "organisation": False}
    ]
    shown = run_cli("report", "show", rid[:6], env=env)
    assert shown.returncode == 0 and "Water data refused" in shown.stdout
    assert "Ministry of Energy" in shown.stdout
    edited = run_cli("report", "edit", rid[:6], "--title", "Water data refused twice", env=env)
    assert edited.returncode == 0, edited.stderr
    shown = json.loads(run_cli("report", "show", rid, "--json", env=env).stdout)
    assert shown["title"] == "Water data refused twice" and shown["place"] == "Khujand"
    deleted = run_cli("report", "delete", rid[:6], "--yes", env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(run_cli("report", "list", "--json", env=env).stdout) == []


def test_report_from_json_on_stdin(env: dict[str, str]) -> None:
    payload = {"title": "From a script", "category": "repression", "tags": ["a", "b"]}
    result = run_cli(
        "report", "new", "--from-json", "-", "--json", env=env, input=json.dumps(payload)
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tags"] == ["a", "b"]


def test_delete_without_terminal_needs_yes(env: dict[str, str]) -> None:
    rid = _new(env, "--title", "keep me", "--category", "other")
    result = run_cli("report", "delete", rid, env=env)
    assert result.returncode == 1
    assert "confirmation" in _one_error_line(result)
    assert len(json.loads(run_cli("report", "list", "--json", env=env).stdout)) == 1


def test_templates_are_listed(env: dict[str, str]) -> None:
    result = run_cli("report", "templates", "--json", env=env)
    ids = {t["id"] for t in json.loads(result.stdout)}
    assert ids == {"press-freedom", "repression", "environment-info"}


def test_vault_info_locked_and_unlocked(env: dict[str, str]) -> None:
    locked = json.loads(run_cli("vault", "info", "--json", env=env).stdout)
    assert locked["keyslots"] == 1 and "name" not in locked
    unlocked = json.loads(run_cli("vault", "info", "--unlock", "--json", env=env).stdout)
    assert unlocked["name"] == "Aigerim" and unlocked["age_recipient"].startswith("age1")


def test_passphrase_from_fd(env: dict[str, str], tmp_path: Path) -> None:
    e = dict(env)
    del e["SECURESUBMIT_PASSPHRASE_FILE"]
    read_fd, write_fd = os.pipe()
    os.write(write_fd, (PASSPHRASE + "\n").encode())
    os.close(write_fd)
    result = subprocess.run(
        [sys.executable, "-m", "securesubmit", "report", "list", "--passphrase-fd", str(read_fd)],
        env=e,
        pass_fds=(read_fd,),
        capture_output=True,
        text=True,
        check=False,
    )
    os.close(read_fd)
    assert result.returncode == 0, result.stderr


def test_no_passphrase_and_no_terminal_is_a_clear_error(env: dict[str, str]) -> None:
    e = dict(env)
    del e["SECURESUBMIT_PASSPHRASE_FILE"]
    result = run_cli("report", "list", env=e)
    assert result.returncode == 1
    assert "no passphrase was given" in _one_error_line(result)


def test_passphrase_change_through_cli(env: dict[str, str], tmp_path: Path) -> None:
    new = tmp_path / "new.txt"
    new.write_text("another long passphrase\n")
    result = run_cli(
        "passphrase",
        "change",
        "--kdf-memory-mib",
        "1",
        env={**env, "SECURESUBMIT_NEW_PASSPHRASE_FILE": str(new)},
    )
    assert result.returncode == 0, result.stderr
    assert run_cli("report", "list", env=env).returncode == 3
    assert (
        run_cli("report", "list", env={**env, "SECURESUBMIT_PASSPHRASE_FILE": str(new)}).returncode
        == 0
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["report", "show", "ffff"], 1, "no report with an id starting ffff"),
        (["report", "show", "zz"], 1, "is not a report id"),
        (["report", "new", "--title", "x", "--category", "sports"], 1, "unknown category"),
        (
            ["report", "new", "--title", "x", "--category", "other", "--date", "31/12/2026"],
            1,
            "must be YYYY",
        ),
        (["report", "new", "--category", "other"], 1, "a report needs a title"),
        (["report", "edit", "ffff"], 1, "nothing to change"),
        (
            ["report", "new", "--title", "x", "--category", "other", "--field", "novalue"],
            1,
            "key=value",
        ),
        (["report", "new", "--from-json", "/nonexistent/file.json"], 1, "not found"),
        (["report", "frobnicate"], 2, "invalid choice"),
        (["--no-such-option"], 2, "unrecognized arguments"),
    ],
)
def test_user_errors_are_one_line_with_their_exit_code(
    env: dict[str, str], args: list[str], code: int, message: str
) -> None:
    result = run_cli(*args, env=env)
    assert result.returncode == code, result.stderr
    assert message in _one_error_line(result)


def test_wrong_passphrase_exit_code_3(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("wrong passphrase here\n")
    result = run_cli("report", "list", env={**env, "SECURESUBMIT_PASSPHRASE_FILE": str(bad)})
    assert result.returncode == 3
    assert "passphrase is wrong" in _one_error_line(result)


def test_missing_vault_exit_code(tmp_path: Path) -> None:
    result = run_cli("report", "list", env=cli_env(tmp_path))
    assert result.returncode == 1
    assert "No vault exists" in _one_error_line(result)


def test_vault_in_use_exit_code_4(env: dict[str, str]) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom securesubmit.core.vault import Vault\n"
            "v = Vault.open(sys.argv[1]); print('ready', flush=True); time.sleep(30)",
            env["SECURESUBMIT_VAULT"],
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = run_cli("report", "list", env=env)
        assert result.returncode == 4
        assert "in use" in _one_error_line(result)
    finally:
        holder.kill()
        holder.wait()


def test_corrupt_vault_exit_code_6(env: dict[str, str]) -> None:
    Path(env["SECURESUBMIT_VAULT"]).write_bytes(b"garbage" * 1000)
    result = run_cli("report", "list", env=env)
    assert result.returncode == 6
    assert "damaged" in _one_error_line(result)


def test_destroyed_vault_exit_code_7(tmp_path: Path) -> None:
    e = cli_env(tmp_path)
    assert run_cli(*WEAK_INIT, "--max-failed-unlocks", "1", env=e).returncode == 0
    bad = tmp_path / "bad.txt"
    bad.write_text("wrong passphrase here\n")
    result = run_cli("report", "list", env={**e, "SECURESUBMIT_PASSPHRASE_FILE": str(bad)})
    assert result.returncode == 7
    assert "destroyed" in _one_error_line(result)
    assert run_cli("report", "list", env=e).returncode == 7


def test_panic_needs_confirmation_then_removes_the_vault(env: dict[str, str]) -> None:
    vault = Path(env["SECURESUBMIT_VAULT"])
    refused = run_cli("panic", env=env)
    assert refused.returncode == 1 and vault.exists()
    done = run_cli("panic", "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert not vault.exists()


def test_a_bug_shows_a_traceback_without_the_message(tmp_path: Path) -> None:
    code = (
        "import sys\nimport securesubmit.cli as cli\n"
        "def boom(args):\n    raise ValueError('SECRET-CANARY-in-bug')\n"
        "cli.cmd_report_templates = boom\n"
        "sys.exit(cli.main(['report', 'templates']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 70
    assert "Traceback" in result.stderr and "ValueError" in result.stderr
    assert "SECRET-CANARY" not in result.stderr + result.stdout


def test_audit_verify_log_and_checkpoint_through_cli(env: dict[str, str], tmp_path: Path) -> None:
    _new(env, "--title", "audited", "--category", "other")
    kept = tmp_path / "kept.txt"
    assert run_cli("audit", "checkpoint", "--out", str(kept), env=env).returncode == 0
    # The auditor needs no passphrase.
    no_pw = {k: v for k, v in env.items() if k != "SECURESUBMIT_PASSPHRASE_FILE"}
    verified = run_cli(
        "audit", "verify", env["SECURESUBMIT_VAULT"], "--against", str(kept), env=no_pw
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("intact: 3 events")
    as_json = json.loads(run_cli("audit", "verify", "--json", env=no_pw).stdout)
    assert as_json["intact"] is True and as_json["events"] == 3
    log = json.loads(run_cli("audit", "log", "--json", env=env).stdout)
    assert [e["type"] for e in log] == ["vault.created", "identity.created", "report.created"]


def test_audit_verify_reports_tampering_with_exit_code_5(env: dict[str, str]) -> None:
    import sqlite3

    _new(env, "--title", "to be altered", "--category", "other")
    conn = sqlite3.connect(env["SECURESUBMIT_VAULT"])
    conn.execute("DELETE FROM events WHERE seq = 2")
    conn.commit()
    conn.close()
    result = run_cli("audit", "verify", env=env)
    assert result.returncode == 5
    assert "problem: events after 2 are missing" in result.stdout
    assert _one_error_line(result).startswith("error: tampered:")


def test_card_exchange_between_coordinator_and_reporter(
    env: dict[str, str], tmp_path: Path
) -> None:
    coord = {**cli_env(tmp_path / "c"), "SECURESUBMIT_VAULT": str(tmp_path / "c" / "coord.db")}
    assert (
        run_cli(
            *WEAK_INIT, "--role", "coordinator", "--name", "Free Press Org", env=coord
        ).returncode
        == 0
    )
    card = tmp_path / "coord.card"
    assert run_cli("card", "export", "--out", str(card), env=coord).returncode == 0
    shown = json.loads(run_cli("card", "show", str(card), "--json", env=env).stdout)
    assert shown["role"] == "coordinator" and shown["name"] == "Free Press Org"
    # No terminal and no fingerprint: refused, nothing added.
    refused = run_cli("partners", "add", str(card), env=env)
    assert refused.returncode == 1 and "not confirmed" in _one_error_line(refused)
    wrong = shown["fingerprint"].replace(
        shown["fingerprint"][0], "A" if shown["fingerprint"][0] != "A" else "B", 1
    )
    mismatch = run_cli("partners", "add", str(card), "--fingerprint", wrong, env=env)
    assert mismatch.returncode == 5, mismatch.stderr
    assert json.loads(run_cli("partners", "list", "--json", env=env).stdout) == []
    added = run_cli(
        "partners", "add", str(card), "--fingerprint", shown["fingerprint"].lower(), env=env
    )
    assert added.returncode == 0, added.stderr
    listed = json.loads(run_cli("partners", "list", "--json", env=env).stdout)
    assert [(p["name"], p["status"], p["verified"]) for p in listed] == [
        ("Free Press Org", "active", "typed")
    ]
    # The coordinator rotates; the reporter follows the statement.
    rotation = tmp_path / "rotation.txt"
    assert run_cli("identity", "rotate", "--out", str(rotation), env=coord).returncode == 0
    followed = run_cli("partners", "statement", str(rotation), env=env)
    assert followed.returncode == 0, followed.stderr
    new_fp = json.loads(run_cli("identity", "show", "--json", env=coord).stdout)["fingerprint"]
    assert (
        json.loads(run_cli("partners", "show", "free press org", "--json", env=env).stdout)[
            "fingerprint"
        ]
        == new_fp
    )
    removed = run_cli("partners", "remove", "Free Press Org", "--yes", env=env)
    assert removed.returncode == 0, removed.stderr


def test_trust_store_import_of_the_shipped_example_card(env: dict[str, str]) -> None:
    listed = run_cli("partners", "trust-store", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert [e["file"] for e in json.loads(listed.stdout)] == ["example-partner.card"]
    refused = run_cli("partners", "trust-store", "import", env=env)
    assert refused.returncode == 1 and "confirmation" in _one_error_line(refused)
    imported = run_cli("partners", "trust-store", "import", "--yes", env=env)
    assert imported.returncode == 0, imported.stderr
    assert "TEST ONLY" in imported.stderr
    (partner,) = json.loads(run_cli("partners", "list", "--json", env=env).stdout)
    assert partner["status"] == "test-only" and partner["verified"] == "trust-store"


def test_malformed_card_file_is_one_clear_error(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.card"
    bad.write_text("securesubmit-card v1\nname: x\n")
    result = run_cli("card", "show", str(bad), env=env)
    assert result.returncode == 6
    assert str(bad) in _one_error_line(result)


def test_seal_and_open_through_the_cli(env: dict[str, str], tmp_path: Path) -> None:
    coord = {**cli_env(tmp_path / "c"), "SECURESUBMIT_VAULT": str(tmp_path / "c" / "coord.db")}
    assert (
        run_cli(
            *WEAK_INIT, "--role", "coordinator", "--name", "Free Press Org", env=coord
        ).returncode
        == 0
    )
    card = tmp_path / "coord.card"
    assert run_cli("card", "export", "--out", str(card), env=coord).returncode == 0
    assert run_cli("partners", "add", str(card), "--yes", env=env).returncode == 0
    rid = _new(env, "--title", "Editor detained", "--category", "media")
    photo = tmp_path / "scan.txt"
    photo.write_text("scan of the court order")
    attached = run_cli("report", "attach", rid, str(photo), env=env)
    assert attached.returncode == 0, attached.stderr
    unconfirmed = run_cli("report", "seal", rid, "--to", "Free Press Org", env=env)
    assert unconfirmed.returncode == 1 and "confirmation" in _one_error_line(unconfirmed)
    sealed = run_cli("report", "seal", rid, "--to", "Free Press Org", "--yes", "--json", env=env)
    assert sealed.returncode == 0, sealed.stderr
    receipt = json.loads(sealed.stdout)
    assert receipt["status"] == "sealed" and receipt["recipients"][0]["name"] == "Free Press Org"
    assert json.loads(run_cli("report", "list", "--json", env=env).stdout) == []
    out = tmp_path / "report.age"
    assert (
        run_cli("sealed", "export-file", receipt["id"][:8], "--out", str(out), env=env).returncode
        == 0
    )
    opened = run_cli(
        "sealed", "open", str(out), "--save-attachments", str(tmp_path / "ev"), "--json", env=coord
    )
    assert opened.returncode == 0, opened.stderr
    data = json.loads(opened.stdout)
    assert data["verified"] is True and data["report"]["title"] == "Editor detained"
    assert (tmp_path / "ev" / "scan.txt").read_text() == "scan of the court order"
    # The reporter cannot read it back.
    assert run_cli("sealed", "open", str(out), env=env).returncode == 5


def test_export_and_import_through_the_cli(env: dict[str, str], tmp_path: Path) -> None:
    coord = {**cli_env(tmp_path / "c"), "SECURESUBMIT_VAULT": str(tmp_path / "c" / "coord.db")}
    assert (
        run_cli(
            *WEAK_INIT, "--role", "coordinator", "--name", "Free Press Org", env=coord
        ).returncode
        == 0
    )
    for who, other, name in ((coord, env, "coord.card"), (env, coord, "rep.card")):
        card = tmp_path / name
        assert run_cli("card", "export", "--out", str(card), env=who).returncode == 0
        assert run_cli("partners", "add", str(card), "--yes", env=other).returncode == 0
    rid = _new(env, "--title", "Site blocked", "--category", "media")
    assert (
        run_cli("report", "seal", rid, "--to", "Free Press Org", "--yes", env=env).returncode == 0
    )
    out = tmp_path / "bundle.ssb"
    exported = run_cli("export", "--to", "Free Press Org", "--out", str(out), "--json", env=env)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["sequence"] == 1
    imported = run_cli("import", str(out), env=coord)
    assert imported.returncode == 0, imported.stderr
    assert "from Aigerim" in imported.stdout and "verified" in imported.stdout
    assert "1 new report(s)" in imported.stdout
    again = run_cli("import", str(out), env=coord)
    assert again.returncode == 0 and "already imported; nothing changed" in again.stdout
    (item,) = json.loads(run_cli("inbox", "list", "--json", env=coord).stdout)
    assert item["report"]["title"] == "Site blocked" and item["sender_name"] == "Aigerim"
    found = json.loads(run_cli("inbox", "list", "--search", "site", "--json", env=coord).stdout)
    assert [i["report"]["title"] for i in found] == ["Site blocked"]
    assert run_cli("inbox", "status", item["id"][:8], "verified", env=coord).returncode == 0
    assert run_cli("inbox", "tag", item["id"][:8], "=HYPERLINK(1)", env=coord).returncode == 0
    stats = json.loads(run_cli("stats", "--json", env=coord).stdout)
    assert json.dumps(stats).count("verified") >= 1
    export_dir = tmp_path / "exp"
    exported_csv = run_cli(
        "inbox", "export", "--format", "csv", "--out", str(export_dir), env=coord
    )
    assert exported_csv.returncode == 0, exported_csv.stderr
    assert "PLAINTEXT" in exported_csv.stderr
    csv_text = (export_dir / "reports.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(1)" in csv_text and "Site blocked" in csv_text
    assert export_dir.stat().st_mode & 0o777 == 0o700
    flipped = bytearray(out.read_bytes())
    flipped[len(flipped) // 2] ^= 1
    bad = tmp_path / "bad.ssb"
    bad.write_bytes(bytes(flipped))
    refused = run_cli("import", str(bad), env=coord)
    assert refused.returncode in (5, 6), refused.stderr
    _one_error_line(refused)
