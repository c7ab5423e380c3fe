"""Bundles between two real vaults: round trip, and every attack refused or reported."""

from __future__ import annotations

import io
import random
import shutil
from pathlib import Path

import pytest

from securesubmit.core import agev1, bundle, crypto, identity
from securesubmit.core.identity import KeyRevoked
from securesubmit.core.partners import VERIFIED_CONFIRMED
from securesubmit.core.service import Session, create_vault, unlock_vault, verify_audit
from securesubmit.errors import Refused, SecureSubmitError
from tests.helpers import FAST_KDF, PASSPHRASE, FixedClock


def _seal(
    reporter: Session, title: str, attachment: bytes | None = None, tmp: Path | None = None
) -> str:
    rid = reporter.create_report(title=title, category="repression", description=f"{title} text")
    if attachment is not None and tmp is not None:
        f = tmp / f"{title}.bin"
        f.write_bytes(attachment)
        reporter.attach_file(rid.id, f)
    return reporter.seal_report(rid.id, ["Free Press Org"]).id


def _export(reporter: Session, tmp: Path, name: str) -> Path:
    out = tmp / name
    reporter.export_bundle("Free Press Org", out)
    return out


def _inbox_titles(coord: Session) -> list[str]:
    return sorted(i.report["title"] for i in coord.list_inbox())


def test_round_trip_with_attachment_and_provenance(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    reporter, coord = pair
    _seal(reporter, "arrest", b"photo bytes" * 5000, tmp_path)
    result = coord.import_bundle(_export(reporter, tmp_path, "b1.ssb"))
    assert (result.decision, result.sender, len(result.imported)) == ("new", "Aigerim", 1)
    (item,) = coord.list_inbox()
    assert item.report["title"] == "arrest" and item.sequence == 1
    assert item.sender_fingerprint == reporter.identity.fingerprint.hex()
    saved = coord.save_inbox_attachment(item.id, "arrest.bin", tmp_path / "out.bin")
    assert saved.read_bytes() == b"photo bytes" * 5000
    (receipt,) = reporter.list_receipts()
    assert receipt.status == "exported" and receipt.exports[0]["sequence"] == 1


def test_replay_is_a_duplicate_and_changes_nothing(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    reporter, coord = pair
    _seal(reporter, "one")
    b1 = _export(reporter, tmp_path, "b1.ssb")
    coord.import_bundle(b1)
    events_before = len(coord.audit_log())
    again = coord.import_bundle(b1)
    assert again.decision == "duplicate" and "already imported" in again.message
    assert _inbox_titles(coord) == ["one"] and len(coord.audit_log()) == events_before


def test_gap_is_imported_and_the_missing_numbers_are_reported(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    reporter, coord = pair
    for n in (1, 2, 3):
        _seal(reporter, f"r{n}")
        _export(reporter, tmp_path, f"b{n}.ssb")
    coord.import_bundle(tmp_path / "b1.ssb")
    result = coord.import_bundle(tmp_path / "b3.ssb")
    assert result.decision == "gap" and "2" in result.message
    assert any("2" in w for w in result.warnings)
    late = coord.import_bundle(tmp_path / "b2.ssb")
    assert late.decision == "older"
    assert _inbox_titles(coord) == ["r1", "r2", "r3"]


def test_fork_after_restoring_an_old_copy_is_refused(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    reporter, coord = pair
    _seal(reporter, "first")
    coord.import_bundle(_export(reporter, tmp_path, "b1.ssb"))
    backup = tmp_path / "backup.db"
    reporter.close()
    shutil.copy(tmp_path / "r.db", backup)
    reporter2 = unlock_vault(tmp_path / "r.db", PASSPHRASE)
    _seal(reporter2, "second")
    coord.import_bundle(_export(reporter2, tmp_path, "b2.ssb"))
    reporter2.close()
    shutil.copy(backup, tmp_path / "r.db")  # the device is rolled back to the old copy
    with unlock_vault(tmp_path / "r.db", PASSPHRASE) as rolled:
        _seal(rolled, "other second")
        forked = _export(rolled, tmp_path, "b2-fork.ssb")
    with pytest.raises(bundle.ChainForked):
        coord.import_bundle(forked)
    assert _inbox_titles(coord) == ["first", "second"]


def test_unknown_sender_is_refused_with_its_fingerprint(
    pair: tuple[Session, Session], tmp_path: Path, clock: FixedClock
) -> None:
    _, coord = pair
    stranger = create_vault(
        tmp_path / "s.db", PASSPHRASE, name="Stranger", kdf=FAST_KDF, clock=clock
    )
    stranger.add_partner(coord.own_card(), verified=VERIFIED_CONFIRMED)
    rid = stranger.create_report(title="x", category="other").id
    stranger.seal_report(rid, ["Free Press Org"])
    out = tmp_path / "s.ssb"
    stranger.export_bundle("Free Press Org", out)
    shown = identity.format_fingerprint(stranger.identity.fingerprint)
    stranger.close()
    with pytest.raises(bundle.UnknownSender, match=shown):
        coord.import_bundle(out)
    assert coord.list_inbox() == []


def test_bundle_re_encrypted_for_another_recipient_is_refused(
    pair: tuple[Session, Session], tmp_path: Path, clock: FixedClock
) -> None:
    reporter, coord = pair
    _seal(reporter, "for coord")
    b1 = _export(reporter, tmp_path, "b1.ssb")
    other = create_vault(
        tmp_path / "o.db",
        PASSPHRASE,
        name="Other Org",
        role="coordinator",
        kdf=FAST_KDF,
        clock=clock,
    )
    other.add_partner(reporter.own_card(), verified=VERIFIED_CONFIRMED)
    plain = io.BytesIO()
    agev1.decrypt_untrusted(io.BytesIO(b1.read_bytes()), plain, coord.identity.age_identities)
    forwarded = io.BytesIO()
    other_public = other.identity.hybrid_public
    assert other_public is not None
    agev1.encrypt_stream(
        io.BytesIO(plain.getvalue()),
        forwarded,
        [agev1.HybridRecipient(other_public)],  # the same protection, so only the name differs
    )
    path = tmp_path / "fwd.ssb"
    path.write_bytes(forwarded.getvalue())
    with pytest.raises(bundle.WrongRecipient):
        other.import_bundle(path)
    assert other.list_inbox() == []
    other.close()


def test_bundle_from_a_revoked_key_is_refused(
    pair: tuple[Session, Session], tmp_path: Path, clock: FixedClock
) -> None:
    reporter, coord = pair
    revocation = reporter.make_revocation("laptop seized")
    coord.apply_statement(identity.parse_statement(revocation.to_text()))
    clock.advance(3600)
    _seal(reporter, "after seizure")
    with pytest.raises(KeyRevoked):
        coord.import_bundle(_export(reporter, tmp_path, "b1.ssb"))
    assert coord.list_inbox() == []


def test_truncated_and_flipped_bundles_change_nothing(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    reporter, coord = pair
    _seal(reporter, "evidence", b"x" * 200_000, tmp_path)
    data = _export(reporter, tmp_path, "b1.ssb").read_bytes()
    bad = tmp_path / "bad.ssb"
    rng = random.Random(7)
    cases = [data[:n] for n in (0, 10, len(data) // 2, len(data) - 1)]
    for _ in range(30):
        flipped = bytearray(data)
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        cases.append(bytes(flipped))
    events = len(coord.audit_log())
    for case in cases:
        bad.write_bytes(case)
        with pytest.raises(SecureSubmitError):
            coord.import_bundle(bad)
    assert coord.list_inbox() == [] and len(coord.audit_log()) == events
    coord.vault.checkpoint()


def test_delete_after_export_keeps_the_receipt_only(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    reporter, coord = pair
    receipt_id = _seal(reporter, "gone after export")
    out = tmp_path / "b1.ssb"
    reporter.export_bundle("Free Press Org", out, delete_after_export=True)
    (receipt,) = reporter.list_receipts()
    assert receipt.id == receipt_id and receipt.copy_deleted and receipt.status == "exported"
    with pytest.raises(Refused, match="deleted"):
        reporter.export_bundle("Free Press Org", tmp_path / "again.ssb", report_refs=[receipt_id])
    assert not (tmp_path / "again.ssb").exists()
    coord.import_bundle(out)
    assert _inbox_titles(coord) == ["gone after export"]


def test_export_with_nothing_to_send_is_refused_and_writes_nothing(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    reporter, _ = pair
    with pytest.raises(Refused, match="no sealed reports"):
        reporter.export_bundle("Free Press Org", tmp_path / "empty.ssb")
    assert list(tmp_path.glob("*.ssb")) == [] and list(tmp_path.glob(".*.part")) == []


def test_rotation_travels_in_the_bundle_and_is_followed(
    pair: tuple[Session, Session], tmp_path: Path, clock: FixedClock
) -> None:
    reporter, coord = pair
    _seal(reporter, "before")
    coord.import_bundle(_export(reporter, tmp_path, "b1.ssb"))
    clock.advance(60)
    reporter.rotate_identity()
    _seal(reporter, "after rotation")
    result = coord.import_bundle(_export(reporter, tmp_path, "b2.ssb"))
    assert result.decision == "new" and result.warnings == []
    (partner,) = coord.list_partners()
    assert partner.fingerprint == reporter.identity.fingerprint and partner.rotations == 1


def test_both_vaults_stay_intact_and_audited(pair: tuple[Session, Session], tmp_path: Path) -> None:
    reporter, coord = pair
    _seal(reporter, "audited", b"a" * 3000, tmp_path)
    coord.import_bundle(_export(reporter, tmp_path, "b1.ssb"))
    _seal(reporter, "audited 2")
    result = coord.import_bundle(_export(reporter, tmp_path, "b2.ssb"))
    assert result.warnings == []  # the reporter's log grew consistently
    assert [e["type"] for e in coord.audit_log()][-2:] == ["bundle.imported", "bundle.imported"]
    reporter.close()
    coord.close()
    verify_audit(tmp_path / "r.db")
    verify_audit(tmp_path / "c.db")


def test_a_second_rotation_from_a_retired_key_is_refused_as_a_fork(
    pair: tuple[Session, Session], tmp_path: Path, clock: FixedClock
) -> None:
    from dataclasses import replace

    reporter, coord = pair
    old = reporter.identity
    clock.advance(60)
    reporter.rotate_identity()
    _seal(reporter, "legit")
    coord.import_bundle(_export(reporter, tmp_path, "b1.ssb"))
    # Someone holding the retired key hands "the identity" to their own key.
    thief_seed, thief_secret = crypto.generate_signing_key(), crypto.generate_encryption_key()
    clock.advance(60)
    rotation = identity.make_rotation(
        old.signing_seed,
        old.encryption_public,
        thief_seed,
        crypto.encryption_public_key(thief_secret),
        clock().replace(microsecond=0),
    )
    thief = replace(
        reporter.identity,
        signing_seed=thief_seed,
        encryption_secret=thief_secret,
        statements=(rotation.to_text().decode(),),
    )
    reporter._save_identity(thief, "test.thief", {})
    _seal(reporter, "forged")
    with pytest.raises(SecureSubmitError):
        coord.import_bundle(_export(reporter, tmp_path, "b2.ssb"))
    assert _inbox_titles(coord) == ["legit"]


# --- post-quantum (issue 12): protection recorded, require-hybrid, upgrade -------------------


def test_hybrid_round_trip_records_the_protection_on_both_sides(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    reporter, coord = pair
    assert reporter.identity.is_hybrid and coord.identity.is_hybrid  # the default now
    _seal(reporter, "hybrid")
    (receipt,) = reporter.list_receipts()
    assert (receipt.encryption, receipt.signature) == ("hybrid", "hybrid")
    exported = reporter.export_bundle("Free Press Org", tmp_path / "b1.ssb")
    assert (exported.encryption, exported.signature) == ("hybrid", "hybrid")
    result = coord.import_bundle(exported.path)
    assert (result.encryption, result.signature) == ("hybrid", "hybrid")
    (item,) = coord.list_inbox()
    assert (item.encryption, item.signature) == ("hybrid", "hybrid")


def test_a_partner_requiring_hybrid_refuses_a_classical_reader_in_one_line(
    pair: tuple[Session, Session], tmp_path: Path, clock: FixedClock
) -> None:
    reporter, coord = pair
    classical = create_vault(
        tmp_path / "classic.db",
        PASSPHRASE,
        name="Classic Org",
        role="coordinator",
        kdf=FAST_KDF,
        clock=clock,
        post_quantum=False,
    )
    with classical:
        reporter.add_partner(classical.own_card(), verified=VERIFIED_CONFIRMED)
        strict = coord.own_card(require_hybrid=True)
        reporter.remove_partner("Free Press Org")
        reporter.add_partner(strict, verified=VERIFIED_CONFIRMED)
        rid = reporter.create_report(title="both", category="repression", description="x").id
        with pytest.raises(Refused, match=r"requires post-quantum .hybrid. sealing") as caught:
            reporter.seal_report(rid, ["Free Press Org", "Classic Org"])
        assert "\n" not in str(caught.value) and "Classic Org" in str(caught.value)
        # Alone, it is sealed hybrid; to the classical partner alone, classical.
        assert reporter.seal_report(rid, ["Free Press Org"]).encryption == "hybrid"
        other = reporter.create_report(title="other", category="repression", description="x")
        assert reporter.seal_report(other.id, ["Classic Org"]).encryption == "classical"


def test_after_identity_upgrade_the_next_bundle_carries_the_rotation(
    tmp_path: Path, clock: FixedClock
) -> None:
    reporter = create_vault(
        tmp_path / "r.db", PASSPHRASE, name="Aigerim", kdf=FAST_KDF, clock=clock, post_quantum=False
    )
    coord = create_vault(
        tmp_path / "c.db",
        PASSPHRASE,
        name="Free Press Org",
        role="coordinator",
        kdf=FAST_KDF,
        clock=clock,
    )
    with reporter, coord:
        reporter.add_partner(coord.own_card(), verified=VERIFIED_CONFIRMED)
        coord.add_partner(reporter.own_card(), verified=VERIFIED_CONFIRMED)
        _seal(reporter, "classical era")
        first = coord.import_bundle(_export(reporter, tmp_path, "b1.ssb"))
        # A classical sender to a hybrid coordinator: hybrid age layers, Ed25519 only.
        assert (first.encryption, first.signature) == ("hybrid", "classical")
        assert [(i.encryption, i.signature) for i in coord.list_inbox()] == [
            ("hybrid", "classical")
        ]
        clock.advance(60)
        reporter.upgrade_identity()
        _seal(reporter, "hybrid era")
        second = coord.import_bundle(_export(reporter, tmp_path, "b2.ssb"))
        assert (second.decision, second.signature) == ("new", "hybrid")
        (partner,) = coord.list_partners()
        assert partner.is_hybrid and partner.fingerprint == reporter.identity.fingerprint
        assert sorted(i.signature for i in coord.list_inbox()) == ["classical", "hybrid"]


def test_identity_upgrade_is_refused_while_sealed_reports_wait_for_export(
    tmp_path: Path, clock: FixedClock
) -> None:
    """Reports sealed by the classical keys could not travel in a bundle signed by the
    hybrid keys (the coordinator refuses the mix as a downgrade): upgrade after export."""
    reporter = create_vault(
        tmp_path / "r.db", PASSPHRASE, name="Aigerim", kdf=FAST_KDF, clock=clock, post_quantum=False
    )
    coord = create_vault(
        tmp_path / "c.db", PASSPHRASE, name="Free Press Org", role="coordinator", kdf=FAST_KDF,
        clock=clock,
    )
    with reporter, coord:
        reporter.add_partner(coord.own_card(), verified=VERIFIED_CONFIRMED)
        coord.add_partner(reporter.own_card(), verified=VERIFIED_CONFIRMED)
        _seal(reporter, "waiting")
        before = reporter.identity.fingerprint
        with pytest.raises(Refused, match="1 sealed report"):
            reporter.upgrade_identity()
        assert reporter.identity.fingerprint == before and not reporter.identity.is_hybrid
        coord.import_bundle(_export(reporter, tmp_path, "b1.ssb"))
        reporter.upgrade_identity()
        assert reporter.identity.is_hybrid
