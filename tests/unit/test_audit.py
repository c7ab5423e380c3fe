"""The audit log: every change is an event; tampering with the file directly is detected."""

from __future__ import annotations

import base64
import json
import random
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from securesubmit.core import audit, crypto, note
from securesubmit.core.audit import LogTampered, encode_leaf, parse_leaf
from securesubmit.core.service import create_vault, unlock_vault, verify_audit
from securesubmit.core.vault import Write
from securesubmit.errors import FormatError
from tests.helpers import FAST_KDF, PASSPHRASE, FixedClock

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "audit" / "event-leaf.json"


@pytest.fixture
def vault_with_history(tmp_path: Path) -> Iterator[Path]:
    """A closed vault with 20 reports, some edited and deleted: 31 events in all."""
    path = tmp_path / "v" / "vault.db"
    clock = FixedClock()
    with create_vault(path, PASSPHRASE, kdf=FAST_KDF, clock=clock) as s:
        ids = []
        for i in range(20):
            clock.advance(60)
            ids.append(s.create_report(title=f"report {i}", category="media").id)
        for rid in ids[:5]:
            s.update_report(rid, place="Bishkek")
        for rid in ids[5:9]:
            s.delete_report(rid)
    yield path


def _sql(path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    conn = sqlite3.connect(path)
    for sql, params in statements:
        conn.execute(sql, params)
    conn.commit()
    conn.close()


def _one(path: Path, sql: str, params: tuple[object, ...] = ()) -> tuple[object, ...]:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute(sql, params).fetchone()
        assert row is not None
        return tuple(row)
    finally:
        conn.close()


def _problems(path: Path, against: list[bytes] | None = None) -> list[str]:
    with pytest.raises(LogTampered) as caught:
        verify_audit(path, against)
    return caught.value.problems


def test_untouched_vault_verifies_intact(vault_with_history: Path) -> None:
    result = verify_audit(vault_with_history)
    assert result.events == 2 + 20 + 5 + 4
    assert result.summary().startswith("intact: 31 events")


def test_every_operation_appends_one_readable_event(vault_with_history: Path) -> None:
    with unlock_vault(vault_with_history, PASSPHRASE) as s:
        s.change_passphrase("another passphrase here", kdf=FAST_KDF)
    with unlock_vault(vault_with_history, "another passphrase here") as s:
        types = [e["type"] for e in s.audit_log()]
    assert types[:2] == ["vault.created", "identity.created"]
    assert types.count("report.created") == 20
    assert types.count("report.edited") == 5
    assert types.count("report.deleted") == 4
    assert types[-1] == "passphrase.changed"
    verify_audit(vault_with_history)


def test_one_flipped_ciphertext_byte_is_reported(vault_with_history: Path) -> None:
    row, data = _one(vault_with_history, "SELECT id, data FROM objects LIMIT 1 OFFSET 3")
    bad = bytearray(data)  # type: ignore[arg-type]
    bad[40] ^= 1
    _sql(vault_with_history, ("UPDATE objects SET data = ? WHERE id = ?", (bytes(bad), row)))
    assert _problems(vault_with_history) == [f"objects row {bytes(row).hex()[:8]}… was altered"]  # type: ignore[arg-type]


def test_deleted_row_is_reported(vault_with_history: Path) -> None:
    (row,) = _one(vault_with_history, "SELECT id FROM objects LIMIT 1 OFFSET 2")
    _sql(vault_with_history, ("DELETE FROM objects WHERE id = ?", (row,)))
    assert _problems(vault_with_history) == [
        f"objects row {bytes(row).hex()[:8]}… was deleted outside the log"  # type: ignore[arg-type]
    ]


def test_inserted_row_is_reported(vault_with_history: Path) -> None:
    _sql(
        vault_with_history,
        ("INSERT INTO objects (id, version, data) VALUES (?, 1, ?)", (bytes(16), bytes(300))),
    )
    assert _problems(vault_with_history) == ["objects row 00000000… is not in the log"]


def test_deleting_the_last_ten_events_is_reported(vault_with_history: Path) -> None:
    _sql(vault_with_history, ("DELETE FROM events WHERE seq >= 21", ()))
    problems = _problems(vault_with_history)
    assert "events after 21 are missing (the signed checkpoint covers 31)" in problems


def test_reordered_events_are_reported(vault_with_history: Path) -> None:
    a = _one(vault_with_history, "SELECT leaf, data FROM events WHERE seq = 5")
    b = _one(vault_with_history, "SELECT leaf, data FROM events WHERE seq = 6")
    _sql(
        vault_with_history,
        ("UPDATE events SET leaf = ?, data = ? WHERE seq = 5", b),
        ("UPDATE events SET leaf = ?, data = ? WHERE seq = 6", a),
    )
    problems = _problems(vault_with_history)
    assert "event 5 was moved (it says it is event 6)" in problems
    assert "event 6 was moved (it says it is event 5)" in problems
    assert "the log was rewritten: its root differs from the signed one" in problems


def test_missing_event_in_the_middle_is_reported(vault_with_history: Path) -> None:
    _sql(vault_with_history, ("DELETE FROM events WHERE seq = 10", ()))
    assert "event 10 missing" in _problems(vault_with_history)


def test_altered_event_details_are_reported(vault_with_history: Path) -> None:
    (data,) = _one(vault_with_history, "SELECT data FROM events WHERE seq = 7")
    bad = bytearray(data)  # type: ignore[arg-type]
    bad[-1] ^= 0x80
    _sql(vault_with_history, ("UPDATE events SET data = ? WHERE seq = 7", (bytes(bad),)))
    assert _problems(vault_with_history) == ["event 7's details were altered"]


def test_swapped_row_ciphertexts_are_reported(vault_with_history: Path) -> None:
    conn = sqlite3.connect(vault_with_history)
    (r1, d1), (r2, d2) = conn.execute("SELECT id, data FROM objects LIMIT 2 OFFSET 4").fetchall()
    conn.close()
    _sql(
        vault_with_history,
        ("UPDATE objects SET data = ? WHERE id = ?", (d2, r1)),
        ("UPDATE objects SET data = ? WHERE id = ?", (d1, r2)),
    )
    problems = _problems(vault_with_history)
    assert sorted(problems) == sorted(
        [f"objects row {bytes(r).hex()[:8]}… was altered" for r in (r1, r2)]
    )


def test_log_replaced_with_an_older_copy_is_reported(
    vault_with_history: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old.db"
    shutil.copy(vault_with_history, old)
    with unlock_vault(vault_with_history, PASSPHRASE) as s:
        s.create_report(title="after the copy", category="other")
    # Put back the old log, checkpoint and tree state, keep the new rows.
    conn = sqlite3.connect(vault_with_history)
    conn.execute("ATTACH DATABASE ? AS old", (str(old),))
    conn.execute("DELETE FROM main.events")
    conn.execute("INSERT INTO main.events SELECT * FROM old.events")
    conn.execute("DELETE FROM main.checkpoints")
    conn.execute("INSERT INTO main.checkpoints SELECT * FROM old.checkpoints")
    conn.execute(
        "UPDATE main.meta SET value = (SELECT value FROM old.meta WHERE name = 'tree_state') "
        "WHERE name = 'tree_state'"
    )
    conn.commit()
    conn.close()
    problems = _problems(vault_with_history)
    assert len(problems) == 1 and "is not in the log" in problems[0]


def test_whole_file_rollback_is_caught_against_a_kept_checkpoint(
    vault_with_history: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old.db"
    shutil.copy(vault_with_history, old)
    with unlock_vault(vault_with_history, PASSPHRASE) as s:
        s.create_report(title="newer", category="other")
        kept = s.export_checkpoint(tmp_path / "kept.txt")
    verify_audit(vault_with_history, [kept])
    shutil.copy(old, vault_with_history)
    # Consistent in itself...
    verify_audit(vault_with_history)
    # ...but not with what a partner kept.
    assert _problems(vault_with_history, [kept]) == [
        "rolled back: a kept checkpoint covers 32 events, the vault has only 31"
    ]


def test_fork_is_caught_against_a_kept_checkpoint(vault_with_history: Path, tmp_path: Path) -> None:
    fork = tmp_path / "fork.db"
    shutil.copy(vault_with_history, fork)
    with unlock_vault(vault_with_history, PASSPHRASE) as s:
        s.create_report(title="branch A", category="other")
        kept = s.export_checkpoint(tmp_path / "a.txt")
    with unlock_vault(fork, PASSPHRASE) as s:
        s.create_report(title="branch B", category="other")
    assert _problems(fork, [kept]) == [
        "fork: the vault's first 32 events differ from a kept checkpoint"
    ]


def test_checkpoint_from_another_vault_is_refused(vault_with_history: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with create_vault(other, PASSPHRASE, kdf=FAST_KDF) as s:
        foreign = s.export_checkpoint(tmp_path / "foreign.txt")
    problems = _problems(vault_with_history, [foreign])
    assert len(problems) == 1 and "not from this vault's log key" in problems[0]


def test_substituted_log_key_is_reported(vault_with_history: Path) -> None:
    seed = crypto.generate_signing_key()
    _sql(
        vault_with_history,
        ("UPDATE meta SET value = ? WHERE name = 'log_key'", (crypto.signing_public_key(seed),)),
    )
    problems = _problems(vault_with_history)
    assert len(problems) == 1 and "checkpoint does not verify" in problems[0]


def test_checkpoint_we_write_is_a_c2sp_signed_note(
    vault_with_history: Path, tmp_path: Path
) -> None:
    with unlock_vault(vault_with_history, PASSPHRASE) as s:
        text = s.export_checkpoint(tmp_path / "c.txt")
        public, mldsa = s.vault.log_public_key(), s.vault.log_mldsa_public_key()
    body, _, signatures = text.decode().partition("\n\n")
    origin, size, _root = body.split("\n")
    assert origin == audit.log_name(public, mldsa) and size == "31"
    assert mldsa is None or origin != audit.log_name(public)  # a hybrid origin names both keys
    sig_line = signatures.strip()
    assert sig_line.startswith(f"— {origin} ")
    checkpoint = note.parse_and_verify_checkpoint(text, origin, public)
    assert checkpoint.root_hash == verify_audit(vault_with_history).root


def test_leaf_vector() -> None:
    vector = json.loads(VECTORS.read_text())
    writes = [
        Write.of(w["table"], bytes.fromhex(w["row"]), w["version"], bytes.fromhex(w["data"]))
        if w["version"]
        else Write.deletion(w["table"], bytes.fromhex(w["row"]))
        for w in vector["writes"]
    ]
    leaf = encode_leaf(vector["seq"], bytes.fromhex(vector["data_hash"]), writes)
    assert leaf.hex() == vector["leaf"]
    assert crypto.sha256(b"\x00" + leaf).hex() == vector["leaf_hash"]
    parsed = parse_leaf(leaf)
    assert parsed.seq == vector["seq"] and len(parsed.writes) == len(writes)
    assert parsed.writes[-1].deleted


@pytest.mark.parametrize("cut", [0, 10, 22, 30, 65, 66])
def test_malformed_leaves_are_refused(cut: int) -> None:
    leaf = encode_leaf(1, bytes(32), [Write.of("objects", bytes(16), 2, b"x")])
    with pytest.raises(FormatError):
        parse_leaf(leaf[:cut])
    with pytest.raises(FormatError):
        parse_leaf(leaf + b"\x00")


def test_leaf_vector_matches_the_spec_written_out_by_hand() -> None:
    import hashlib
    import struct

    vector = json.loads(VECTORS.read_text())
    expected = (
        b"securesubmit-event v1\n" + struct.pack(">Q", 7) + bytes.fromhex(vector["data_hash"])
    )
    expected += struct.pack(">I", 3)
    for code, row, version, data in (
        (1, "11", 3, "aabbcc"),
        (2, "22", 1, "ddee"),
        (1, "33", 0, ""),
    ):
        digest = hashlib.sha256(bytes.fromhex(data)).digest() if data else bytes(32)
        expected += (
            bytes([code, 16]) + bytes.fromhex(row * 16) + struct.pack(">Q", version) + digest
        )
    assert expected.hex() == vector["leaf"]


# --- the auditor's batch path (verify_vault checks events a batch at a time) ----------


def _one_write_leaves(count: int) -> list[bytes]:
    leaves = []
    for i in range(count):
        row = bytes([i + 1]) * (8 + i % 9)
        write = (
            Write.deletion("chunks", row)
            if i % 3 == 0
            else Write.of("objects", row, i + 1, bytes([i]))
        )
        leaves.append(encode_leaf(i, crypto.sha256(bytes([i])), [write]))
    return leaves


def _writes_one_by_one(leaves: list[bytes]) -> list[tuple[bytes, bytes]]:
    head = len(audit.LEAF_MAGIC)
    return [write for leaf in leaves for write in audit._leaf_writes(leaf, head, head + 44)]


def _batch(leaves: list[bytes]) -> list[tuple[bytes, bytes]]:
    keys, states = audit._batch_writes(leaves)
    return list(zip(keys, states, strict=True))


def test_the_batch_parse_of_leaves_agrees_with_the_one_by_one_parse() -> None:
    rng = random.Random(10)
    leaves = _one_write_leaves(12)
    two_writes = encode_leaf(
        12, bytes(32), [Write.of("objects", b"a" * 16, 1, b"x"), Write.deletion("chunks", b"b")]
    )
    batches = [leaves, [*leaves[:5], two_writes, *leaves[5:]]]
    for batch in batches:
        assert _batch(batch) == _writes_one_by_one(batch)
    head, good = len(audit.LEAF_MAGIC), leaves[1]  # one write, of an "objects" row
    deletion = leaves[0]
    bad_leaves = [
        encode_leaf(1, bytes(32), [Write("objects", b"", 1, bytes(range(32)))]),  # empty row
        good[: head + 44] + b"\x03" + good[head + 45 :],  # no such table
        good[: head + 44] + b"\x00" + good[head + 45 :],
        good[:-40] + bytes(8) + good[-32:],  # version 0 with a hash
        deletion[:-32] + b"\x01" + deletion[-31:],  # a deletion with a hash
        deletion[:-40] + b"\x00" * 7 + b"\x01" + deletion[-32:],  # a version with no hash
        good[: head + 40] + bytes(4) + good[head + 44 :],  # says no write
        good[: head + 40] + (2).to_bytes(4, "big") + good[head + 44 :],  # says two
        good[: head + 45] + bytes([good[head + 45] + 1]) + good[head + 46 :],  # row too long
        good[: head + 45] + bytes([good[head + 45] - 1]) + good[head + 46 :],  # too short
        good[:-1],
        good + b"\x00",
        b"securesubmit-event v2\n" + good[head:],
    ]
    for bad in bad_leaves:
        with pytest.raises(FormatError):
            _writes_one_by_one([bad])
        with pytest.raises(FormatError):
            audit._batch_writes([*leaves[:3], bad, *leaves[3:]])
    refused = 0
    for _ in range(4000):
        batch = list(rng.choice(batches))
        i = rng.randrange(len(batch))
        leaf = bytearray(batch[i])
        kind = rng.randrange(3)
        if kind == 0:
            leaf[rng.randrange(len(leaf))] = rng.randrange(256)
        elif kind == 1:
            del leaf[rng.randrange(len(leaf)) :]
        else:
            at = rng.randrange(len(leaf) + 1)
            leaf[at:at] = rng.randbytes(rng.randrange(1, 4))
        batch[i] = bytes(leaf)
        try:
            expected = _writes_one_by_one(batch)
        except FormatError:
            refused += 1
            with pytest.raises(FormatError):
                audit._batch_writes(batch)
        else:
            assert _batch(batch) == expected
    assert 1000 < refused < 3900  # both outcomes were exercised


def _tampered_copies(path: Path, tmp_path: Path) -> list[Path]:
    def copy(name: str, *statements: tuple[str, tuple[object, ...]]) -> Path:
        target = tmp_path / name / "vault.db"
        target.parent.mkdir()
        shutil.copy(path, target)
        _sql(target, *statements)
        return target

    (data,) = _one(path, "SELECT data FROM events WHERE seq = 7")
    (leaf,) = _one(path, "SELECT leaf FROM events WHERE seq = 12")
    moved = _one(path, "SELECT leaf, data FROM events WHERE seq = 20")
    assert isinstance(data, bytes) and isinstance(leaf, bytes)
    return [
        copy("intact"),
        copy("details", ("UPDATE events SET data = ? WHERE seq = 7", (data + b"!",))),
        copy("missing", ("DELETE FROM events WHERE seq IN (3, 4, 25)", ())),
        copy("moved", ("UPDATE events SET leaf = ?, data = ? WHERE seq = 21", moved)),
        copy("malformed", ("UPDATE events SET leaf = ? WHERE seq = 12", (leaf[:-1],))),
        copy("mistyped", ("UPDATE events SET data = 'text' WHERE seq = 9", ())),
        copy("row", ("DELETE FROM objects WHERE id IN (SELECT id FROM objects LIMIT 1)", ())),
    ]


def test_the_verdict_does_not_depend_on_the_batch_size(
    vault_with_history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def verdict(path: Path) -> object:
        try:
            return verify_audit(path)
        except LogTampered as error:
            return error.problems

    copies = _tampered_copies(vault_with_history, tmp_path)
    whole = [verdict(path) for path in copies]
    assert isinstance(whole[0], audit.AuditResult)
    assert all(isinstance(v, list) and v for v in whole[1:])
    for batch in (1, 2, 5, 8):
        monkeypatch.setattr(audit, "_EVENT_BATCH", batch)
        assert [verdict(path) for path in copies] == whole, batch


# --- hybrid logs: Ed25519 + ML-DSA-65 checkpoints (docs/spec/audit.md §3) ----------------


def _strip_mldsa_line(signed: bytes) -> bytes:
    """The checkpoint without its last (ML-DSA-65) signature line."""
    lines = signed.decode("utf-8").split("\n")
    assert len(lines[-2]) > 4000  # the ML-DSA-65 line, as we write it
    return ("\n".join(lines[:-2]) + "\n").encode("utf-8")


def test_a_hybrid_vault_signs_every_checkpoint_with_both_keys(
    vault_with_history: Path, tmp_path: Path
) -> None:
    mldsa_key = _one(vault_with_history, "SELECT value FROM meta WHERE name = 'log_mldsa_key'")[0]
    assert isinstance(mldsa_key, bytes) and len(mldsa_key) == crypto.MLDSA_PUBLIC_KEY_SIZE
    with unlock_vault(vault_with_history, PASSPHRASE) as s:
        text = s.export_checkpoint(tmp_path / "c.txt")
        public = s.vault.log_public_key()
        assert s.vault.log_mldsa_public_key() == mldsa_key
    name = audit.log_name(public, mldsa_key)
    assert text.count("\n— ".encode()) == 2
    note.parse_and_verify_checkpoint(text, name, public, mldsa_public=mldsa_key)
    result = verify_audit(vault_with_history, [text])
    assert result.log_mldsa_key == mldsa_key
    assert "(Ed25519 + ML-DSA-65)" in result.summary()


def test_a_classical_vault_keeps_ed25519_only_checkpoints_after_an_identity_upgrade(
    tmp_path: Path,
) -> None:
    path = tmp_path / "classical.db"
    with create_vault(path, PASSPHRASE, kdf=FAST_KDF, post_quantum=False) as s:
        s.create_report(title="one", category="other")
        assert s.vault.log_mldsa_public_key() is None
        s.upgrade_identity()
        assert s.identity.is_hybrid
        assert s.vault.log_mldsa_public_key() is None  # the log key does not change
        text = s.export_checkpoint(tmp_path / "c.txt")
    assert text.count("\n— ".encode()) == 1
    result = verify_audit(path)
    assert result.log_mldsa_key is None and "ML-DSA" not in result.summary()


def test_stripping_the_mldsa_line_of_the_latest_checkpoint_is_named(
    vault_with_history: Path,
) -> None:
    size, signed = _one(vault_with_history, "SELECT size, note FROM checkpoints")
    assert isinstance(signed, bytes)
    _sql(
        vault_with_history,
        ("UPDATE checkpoints SET note = ? WHERE size = ?", (_strip_mldsa_line(signed), size)),
    )
    assert _problems(vault_with_history) == [f"checkpoint {size} has no valid ML-DSA-65 signature"]


def test_an_altered_mldsa_signature_of_a_kept_checkpoint_is_named(
    vault_with_history: Path, tmp_path: Path
) -> None:
    with unlock_vault(vault_with_history, PASSPHRASE) as s:
        s.export_checkpoint(tmp_path / "kept.txt")  # keeps the checkpoint of size 31
        s.create_report(title="later", category="other")
    signed = _one(vault_with_history, "SELECT note FROM checkpoints WHERE size = 31")[0]
    assert isinstance(signed, bytes)
    lines = signed.decode().split("\n")
    head, _, encoded = lines[-2].rpartition(" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1
    lines[-2] = f"{head} {base64.b64encode(bytes(raw)).decode()}"
    altered = "\n".join(lines).encode()
    _sql(vault_with_history, ("UPDATE checkpoints SET note = ? WHERE size = 31", (altered,)))
    assert _problems(vault_with_history) == ["checkpoint 31 has no valid ML-DSA-65 signature"]


def test_a_given_checkpoint_without_its_mldsa_line_is_refused(
    vault_with_history: Path, tmp_path: Path
) -> None:
    with unlock_vault(vault_with_history, PASSPHRASE) as s:
        kept = s.export_checkpoint(tmp_path / "kept.txt")
    assert _problems(vault_with_history, [_strip_mldsa_line(kept)]) == [
        "a given checkpoint has no valid ML-DSA-65 signature by the log key"
    ]


def test_a_substituted_or_damaged_mldsa_log_key_is_reported(vault_with_history: Path) -> None:
    other = crypto.mldsa_public_key(crypto.generate_mldsa_key())
    copy = vault_with_history.with_name("copy.db")
    shutil.copy(vault_with_history, copy)
    _sql(vault_with_history, ("UPDATE meta SET value = ? WHERE name = 'log_mldsa_key'", (other,)))
    # The log's name (every checkpoint's origin, under the Ed25519 signature) covers the
    # ML-DSA-65 key too, so a substituted key fails before the ML-DSA line is even read.
    assert _problems(vault_with_history) == [
        "the vault's checkpoint does not verify (the signed note is not signed by the "
        "expected key)"
    ]
    _sql(copy, ("UPDATE meta SET value = ? WHERE name = 'log_mldsa_key'", (b"short",)))
    assert _problems(copy) == ["the vault's ML-DSA-65 log key is damaged"]


def test_audit_verify_checks_one_mldsa_signature_per_kept_checkpoint(
    vault_with_history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with unlock_vault(vault_with_history, PASSPHRASE) as s:
        for i in range(3):
            s.export_checkpoint(tmp_path / f"kept{i}.txt")
            s.create_report(title=f"r{i}", category="other")
    kept = _one(vault_with_history, "SELECT count(*) FROM checkpoints")[0]
    assert kept == 4
    calls = []
    real = crypto.mldsa_verify

    def counting(*args: bytes | str) -> None:
        calls.append(1)
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(crypto, "mldsa_verify", counting)
    verify_audit(vault_with_history)
    assert len(calls) == kept


def test_the_vault_refuses_to_unlock_with_an_mldsa_log_key_not_its_own(
    vault_with_history: Path,
) -> None:
    from securesubmit.errors import VaultCorrupt

    other = crypto.mldsa_public_key(crypto.generate_mldsa_key())
    _sql(vault_with_history, ("UPDATE meta SET value = ? WHERE name = 'log_mldsa_key'", (other,)))
    with pytest.raises(VaultCorrupt, match="ML-DSA-65 log key"):
        unlock_vault(vault_with_history, PASSPHRASE)


def test_removing_the_mldsa_log_key_and_every_mldsa_line_is_still_detected(
    vault_with_history: Path,
) -> None:
    """The downgrade an attacker with the file could try: delete the hybrid log's ML-DSA
    key from the metadata and the ML-DSA line from every stored checkpoint. The origin
    line of each checkpoint, signed by Ed25519, names both keys, so nothing verifies."""
    conn = sqlite3.connect(vault_with_history)
    with conn:
        conn.execute("DELETE FROM meta WHERE name = 'log_mldsa_key'")
        for size, text in conn.execute("SELECT size, note FROM checkpoints").fetchall():
            body, _, signatures = bytes(text).partition(b"\n\n")
            ed25519_line = signatures.split(b"\n")[0]  # the ML-DSA-65 line comes second
            conn.execute(
                "UPDATE checkpoints SET note = ? WHERE size = ?",
                (body + b"\n\n" + ed25519_line + b"\n", size),
            )
    conn.close()
    with pytest.raises(LogTampered, match=r"does not verify|not from"):
        verify_audit(vault_with_history)
