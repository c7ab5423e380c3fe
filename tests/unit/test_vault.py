"""The vault: key slots, encrypted records bound to their row, locking, failed unlocks, panic."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from securesubmit.core import crypto
from securesubmit.core.models import Person
from securesubmit.core.service import Session, create_vault, panic, read_locked_info, unlock_vault
from securesubmit.core.vault import Vault
from securesubmit.errors import (
    FormatError,
    InputError,
    NewerSchema,
    NotFound,
    VaultCorrupt,
    VaultDestroyed,
    VaultExists,
    VaultInUse,
    VaultNotFound,
    WrongPassphrase,
)
from tests.helpers import FAST_KDF, PASSPHRASE, FixedClock

FULL_REPORT = dict(
    title="Журналист задержан в Алматы",
    template="press-freedom",
    category="media",
    incident_date="2026-11-02",
    date_approximate=True,
    country="KZ",
    place="Almaty, Abay avenue",
    people=[
        Person("Айгерим", "journalist", True, False),
        Person("Vlast.kz", "outlet", False, True),
    ],
    description="Line one\nLine two\twith a tab",
    sources=["https://example.org/a", "eyewitness"],
    tags=["detention", "press"],
    language="ru",
    fields={"outlet": "Vlast.kz", "restriction": "detention"},
)


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path)


def test_every_report_field_round_trips_through_a_closed_vault(
    session: Session, vault_path: Path, clock: FixedClock
) -> None:
    created = session.create_report(**FULL_REPORT)
    session.close()
    with unlock_vault(vault_path, PASSPHRASE, clock=clock) as again:
        loaded = again.get_report(created.id)
    assert loaded == created
    for key, value in FULL_REPORT.items():
        assert getattr(loaded, key) == value


def test_edit_changes_fields_and_updated_time_only(session: Session, clock: FixedClock) -> None:
    report = session.create_report(title="First", category="other")
    clock.advance(60)
    edited = session.update_report(report.id[:6], title="Second", tags=["x"])
    assert edited.title == "Second" and edited.tags == ["x"]
    assert edited.created == report.created and edited.updated != report.updated
    assert session.get_report(report.id).title == "Second"


def test_list_is_newest_first_and_delete_removes(session: Session, clock: FixedClock) -> None:
    first = session.create_report(title="one", category="other")
    clock.advance(1)
    second = session.create_report(title="two", category="other")
    assert [r.id for r in session.list_reports()] == [second.id, first.id]
    session.delete_report(first.id)
    assert [r.id for r in session.list_reports()] == [second.id]
    with pytest.raises(NotFound):
        session.get_report(first.id)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "title is required"),
        ("category", "sports", "unknown category"),
        ("incident_date", "2026-13-01", "not a real date"),
        ("incident_date", "yesterday", "must be YYYY"),
        ("country", "FR", "unknown country"),
        ("language", "xx", "unknown language"),
        ("template", "nope", "unknown template"),
        ("title", "x" * 301, "too long"),
        ("title", "bell\x07", "control characters"),
    ],
)
def test_invalid_fields_are_refused_with_their_own_message(
    session: Session, field: str, value: str, message: str
) -> None:
    values = {"title": "ok", "category": "other", field: value}
    with pytest.raises(InputError, match=message):
        session.create_report(**values)
    assert session.list_reports() == []


def test_template_field_unknown_to_template_is_refused(session: Session) -> None:
    with pytest.raises(InputError, match="has no field 'colour'"):
        session.create_report(title="t", template="repression", fields={"colour": "red"})


def test_wrong_passphrase_is_refused_and_counted(session: Session, vault_path: Path) -> None:
    session.close()
    with pytest.raises(WrongPassphrase, match="9 attempts left"):
        unlock_vault(vault_path, "not the passphrase")
    assert read_locked_info(vault_path).failed_unlocks == 1
    unlock_vault(vault_path, PASSPHRASE).close()
    assert read_locked_info(vault_path).failed_unlocks == 0


def test_too_many_failed_unlocks_destroy_the_keys(vault_path: Path) -> None:
    create_vault(vault_path, PASSPHRASE, kdf=FAST_KDF, max_failed=3).close()
    for left in (2, 1):
        with pytest.raises(WrongPassphrase, match=f"{left} attempt"):
            unlock_vault(vault_path, "wrong wrong")
    with pytest.raises(VaultDestroyed, match="too many wrong passphrases"):
        unlock_vault(vault_path, "wrong wrong")
    # Even the right passphrase can no longer open it, and the slot bytes are gone.
    with pytest.raises(VaultDestroyed):
        unlock_vault(vault_path, PASSPHRASE)
    assert read_locked_info(vault_path).keyslots == 0


def test_a_guess_counts_even_if_the_process_dies_during_it(vault_path: Path) -> None:
    create_vault(vault_path, PASSPHRASE, kdf=FAST_KDF).close()
    # The counter is committed before the key derivation starts: a killed guess still counts.
    code = (
        "import os, sys\n"
        "from securesubmit.core import crypto\n"
        "from securesubmit.core.vault import Vault\n"
        "crypto.derive_passphrase_key = lambda *a: os._exit(9)\n"
        "Vault.open(sys.argv[1]).unlock('guess')\n"
    )
    subprocess.run([sys.executable, "-c", code, str(vault_path)], check=False)
    assert read_locked_info(vault_path).failed_unlocks == 1


def test_passphrase_change_rewrites_only_the_key_slot(session: Session, vault_path: Path) -> None:
    report = session.create_report(title="kept", category="other")
    session.close()
    before = _raw_rows(vault_path, "objects")
    with unlock_vault(vault_path, PASSPHRASE) as again:
        again.change_passphrase("a brand new passphrase", kdf=FAST_KDF)
    assert _raw_rows(vault_path, "objects") == before
    with pytest.raises(WrongPassphrase):
        unlock_vault(vault_path, PASSPHRASE)
    with unlock_vault(vault_path, "a brand new passphrase") as again:
        assert again.get_report(report.id).title == "kept"


def test_short_new_passphrase_is_refused(session: Session, vault_path: Path) -> None:
    with pytest.raises(InputError, match="too short"):
        session.change_passphrase("short")
    with pytest.raises(InputError, match="too short"):
        create_vault(vault_path.with_name("other.db"), "short", kdf=FAST_KDF)


def _raw_rows(path: Path, table: str) -> list[tuple[bytes, ...]]:
    conn = _raw(path)
    try:
        return sorted(conn.execute(f"SELECT * FROM {table}").fetchall())  # noqa: S608
    finally:
        conn.close()


def test_ciphertext_moved_to_another_row_is_refused(session: Session, vault_path: Path) -> None:
    a = session.create_report(title="report A", category="other")
    b = session.create_report(title="report B", category="other")
    session.close()
    conn = _raw(vault_path)
    data_a = conn.execute(
        "SELECT data FROM objects WHERE id = ?", (bytes.fromhex(a.id),)
    ).fetchone()
    conn.execute("UPDATE objects SET data = ? WHERE id = ?", (data_a[0], bytes.fromhex(b.id)))
    conn.commit()
    conn.close()
    with (
        unlock_vault(vault_path, PASSPHRASE) as again,
        pytest.raises(VaultCorrupt, match=f"record {b.id[:8]} failed authentication"),
    ):
        again.get_report(b.id)


def test_ciphertext_with_another_version_number_is_refused(
    session: Session, vault_path: Path
) -> None:
    a = session.create_report(title="report A", category="other")
    session.close()
    conn = _raw(vault_path)
    conn.execute("UPDATE objects SET version = version + 1 WHERE id = ?", (bytes.fromhex(a.id),))
    conn.commit()
    conn.close()
    with unlock_vault(vault_path, PASSPHRASE) as again, pytest.raises(VaultCorrupt):
        again.list_reports()


def test_lowering_the_kdf_cost_in_the_file_breaks_the_slot(vault_path: Path) -> None:
    create_vault(vault_path, PASSPHRASE, kdf=crypto.KdfParams(128, 1, 1)).close()
    conn = _raw(vault_path)
    conn.execute(
        "UPDATE keyslots SET params = ?",
        ('{"iterations":1,"kdf":"argon2id","lanes":1,"memory_kib":64}',),
    )
    conn.commit()
    conn.close()
    with pytest.raises(WrongPassphrase):
        unlock_vault(vault_path, PASSPHRASE)


def test_crafted_huge_kdf_cost_is_refused_before_deriving(vault_path: Path) -> None:
    create_vault(vault_path, PASSPHRASE, kdf=FAST_KDF).close()
    conn = _raw(vault_path)
    conn.execute(
        "UPDATE keyslots SET params = ?",
        ('{"iterations":1,"kdf":"argon2id","lanes":4,"memory_kib":1073741824}',),
    )
    conn.commit()
    conn.close()
    with pytest.raises(FormatError, match="memory cost out of range"):
        unlock_vault(vault_path, PASSPHRASE)


def test_second_process_gets_vault_in_use(session: Session, vault_path: Path) -> None:
    code = (
        "import sys\n"
        "from securesubmit.core.vault import Vault\n"
        "from securesubmit.errors import VaultInUse\n"
        "try:\n    Vault.open(sys.argv[1])\nexcept VaultInUse:\n    sys.exit(42)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(vault_path)], check=False)
    assert result.returncode == 42
    with pytest.raises(VaultInUse):
        Vault.open(vault_path)


def test_missing_vault_and_existing_vault(vault_path: Path, session: Session) -> None:
    with pytest.raises(VaultNotFound):
        unlock_vault(vault_path.with_name("nothing.db"), PASSPHRASE)
    with pytest.raises(VaultExists):
        create_vault(vault_path, PASSPHRASE, kdf=FAST_KDF)


def test_file_that_is_not_a_vault_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(VaultCorrupt):
        unlock_vault(junk, PASSPHRASE)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE x (y)")
    conn.commit()
    conn.close()
    with pytest.raises(VaultCorrupt):
        unlock_vault(other, PASSPHRASE)


def test_truncated_vault_is_refused(session: Session, vault_path: Path) -> None:
    session.create_report(title="x", category="other")
    session.close()
    data = vault_path.read_bytes()
    vault_path.write_bytes(data[: len(data) // 3])
    with pytest.raises((VaultCorrupt, VaultDestroyed)), unlock_vault(vault_path, PASSPHRASE) as s:
        s.list_reports()


def test_vault_from_a_newer_version_is_refused(session: Session, vault_path: Path) -> None:
    session.close()
    conn = _raw(vault_path)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(NewerSchema):
        unlock_vault(vault_path, PASSPHRASE)


def test_panic_destroys_keys_and_removes_files(session: Session, vault_path: Path) -> None:
    session.create_report(title="to be destroyed", category="other")
    session.close()
    copy = vault_path.read_bytes()
    panic(vault_path)
    assert not vault_path.exists()
    assert not Path(f"{vault_path}-wal").exists()
    # The zeroed key slot: a copy of the directory taken after panic has no slot bytes left.
    assert len(copy) > 0


def test_panic_leaves_no_key_slot_even_in_a_copy_taken_during_it(
    session: Session, vault_path: Path, tmp_path: Path
) -> None:
    session.close()
    slot = _raw_rows(vault_path, "keyslots")[0]
    wrapped = slot[3]
    with Vault.open(vault_path) as vault:
        vault.destroy_keyslots()
    image = vault_path.read_bytes() + (
        Path(f"{vault_path}-wal").read_bytes() if Path(f"{vault_path}-wal").exists() else b""
    )
    assert wrapped not in image


def test_files_are_private(session: Session, vault_path: Path) -> None:
    assert vault_path.stat().st_mode & 0o777 == 0o600
    assert vault_path.parent.stat().st_mode & 0o777 == 0o700


def test_connection_settings_hold(session: Session) -> None:
    conn = session.vault._conn
    assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA temp_store").fetchone()[0] == 2


def test_identity_keys_are_created_and_kept(session: Session, vault_path: Path) -> None:
    identity = session.identity
    assert identity.name == "Test Reporter" and identity.role == "reporter"
    assert crypto.parse_age_recipient(identity.age_recipient) == identity.encryption_public
    assert "secret" not in repr(identity).replace("<secret keys hidden>", "")
    session.close()
    with unlock_vault(vault_path, PASSPHRASE) as again:
        assert again.identity.signing_public == identity.signing_public


def test_chunks_round_trip_and_are_bound_to_their_attachment(session: Session) -> None:
    import io

    vault = session.vault
    data = bytes(range(256)) * 9000  # a little over 2 MiB: three chunks
    att = Vault.new_id()
    with vault.transaction("test"):
        count = vault.write_chunks(att, io.BytesIO(data).read)
    assert count == 3
    assert b"".join(vault.read_chunks(att, count)) == data
    other = Vault.new_id()
    with pytest.raises(VaultCorrupt, match="missing"):
        list(vault.read_chunks(other, 1))
    with vault.transaction("test"):
        vault.delete_chunks(att, count)
    assert vault._conn.execute("SELECT count(*) FROM chunks").fetchone()[0] == 0


@pytest.mark.parametrize("size", [0, 5, 1024 * 1024, 2 * 1024 * 1024 + 3])
def test_chunk_writer_and_reader_stream_any_size(session: Session, size: int) -> None:
    import io
    import os

    vault = session.vault
    data = os.urandom(size)
    blob = Vault.new_id()
    with vault.transaction("test"):
        writer = vault.chunk_writer(blob)
        source = io.BytesIO(data)
        while block := source.read(70_000):
            writer.write(block)
        count = writer.close()
    assert count == -(-size // (1024 * 1024))
    reader = io.BufferedReader(vault.chunk_reader(blob, count))
    assert reader.read() == data


def test_wrong_passphrase_carries_attempts_left_and_closed_is_public(
    session: Session, vault_path: Path
) -> None:
    session.close()
    assert session.closed
    with pytest.raises(WrongPassphrase) as caught:
        unlock_vault(vault_path, "definitely wrong")
    assert caught.value.attempts_left == 9


def test_os_error_on_create_is_a_user_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from securesubmit.core import fs

    def refuse(path: Path) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fs, "ensure_private_dir", refuse)
    with pytest.raises(InputError, match=r"cannot create a vault.*Permission denied"):
        create_vault(tmp_path / "x" / "vault.db", PASSPHRASE, kdf=FAST_KDF)
