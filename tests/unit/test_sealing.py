"""Sealing drafts to partners: write-only afterwards, receipts kept, partners checked."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from securesubmit.core import agev1, crypto, identity
from securesubmit.core.identity import CardExpired, KeyRevoked
from securesubmit.core.partners import VERIFIED_CONFIRMED, VERIFIED_TRUST_STORE, read_trust_store
from securesubmit.core.seal import ForwardedReport
from securesubmit.core.service import Session, create_vault, verify_audit
from securesubmit.errors import DecryptionFailed, InputError, NotFound, Refused
from tests.helpers import FAST_KDF, PASSPHRASE, FixedClock

CANARY = "SEALCANARY93"
KEYS = Path(__file__).resolve().parents[2] / "keys"


@pytest.fixture
def coordinator(tmp_path: Path, clock: FixedClock) -> Iterator[Session]:
    s = create_vault(
        tmp_path / "coord.db",
        PASSPHRASE,
        name="Free Press Org",
        role="coordinator",
        kdf=FAST_KDF,
        clock=clock,
    )
    yield s
    s.close()


@pytest.fixture
def sealed_file(session: Session, coordinator: Session, tmp_path: Path) -> Path:
    session.add_partner(coordinator.own_card(), verified=VERIFIED_CONFIRMED)
    rid = session.create_report(
        title=f"{CANARY} title", category="media", description=f"{CANARY} body"
    ).id
    photo = tmp_path / "photo.bin"
    photo.write_bytes(f"{CANARY} photo bytes".encode() * 1000)
    session.attach_file(rid, photo)
    receipt = session.seal_report(rid, ["Free Press Org"])
    out = tmp_path / "report.age"
    session.export_sealed_file(receipt.id, out)
    return out


def test_sealing_destroys_the_draft_and_keeps_a_receipt(
    session: Session, coordinator: Session, sealed_file: Path, vault_path: Path
) -> None:
    assert session.list_reports() == []
    (receipt,) = session.list_receipts()
    assert receipt.title == f"{CANARY} title" and receipt.status == "sealed"
    assert [r["name"] for r in receipt.recipients] == ["Free Press Org"]
    assert [a["name"] for a in receipt.attachments] == ["photo.bin"]
    session.close()
    conn = sqlite3.connect(vault_path)
    # Only the sealed copy's chunks remain: the attachment's chunks are gone.
    assert conn.execute("SELECT count(*) FROM chunks").fetchone()[0] == receipt.chunks
    conn.close()
    for suffix in ("", "-wal", "-shm"):
        f = Path(f"{vault_path}{suffix}")
        if f.exists():
            assert CANARY.encode() not in f.read_bytes()
    assert verify_audit(vault_path).events > 0


def test_the_partner_opens_and_verifies_it(
    session: Session, coordinator: Session, sealed_file: Path, tmp_path: Path
) -> None:
    opened, saved = coordinator.open_sealed_file(sealed_file, tmp_path / "evidence")
    assert opened.report["title"] == f"{CANARY} title"
    assert opened.sender_fingerprint == session.identity.fingerprint
    assert [p.name for p in saved] == ["photo.bin"]
    assert saved[0].read_bytes() == f"{CANARY} photo bytes".encode() * 1000


def test_the_reporter_cannot_read_it_back(session: Session, sealed_file: Path) -> None:
    with pytest.raises(DecryptionFailed):
        session.open_sealed_file(sealed_file)


def test_keep_readable_lets_the_reporter_read_it(
    session: Session, coordinator: Session, tmp_path: Path
) -> None:
    session.add_partner(coordinator.own_card(), verified=VERIFIED_CONFIRMED)
    rid = session.create_report(title="mine too", category="other").id
    receipt = session.seal_report(rid, ["Free Press Org"], keep_readable=True)
    out = tmp_path / "mine.age"
    session.export_sealed_file(receipt.id, out)
    opened, _ = session.open_sealed_file(out)
    assert opened.report["title"] == "mine too"


def test_forwarded_to_a_third_party_is_detected(
    session: Session, coordinator: Session, sealed_file: Path, tmp_path: Path, clock: FixedClock
) -> None:
    import io

    third = create_vault(tmp_path / "third.db", PASSPHRASE, name="Third", kdf=FAST_KDF, clock=clock)
    plain = io.BytesIO()
    agev1.decrypt_untrusted(
        io.BytesIO(sealed_file.read_bytes()), plain, coordinator.identity.age_identities
    )
    forwarded = io.BytesIO()
    # Re-encrypted with the same (hybrid) protection, so only the recipient list betrays it.
    hybrid_public = third.identity.hybrid_public
    assert hybrid_public is not None
    third_recipient = agev1.HybridRecipient(hybrid_public)
    agev1.encrypt_stream(io.BytesIO(plain.getvalue()), forwarded, [third_recipient])
    path = tmp_path / "forwarded.age"
    path.write_bytes(forwarded.getvalue())
    with pytest.raises(ForwardedReport):
        third.open_sealed_file(path)
    third.close()


def test_flipped_byte_in_the_sealed_file_is_refused_and_nothing_is_saved(
    coordinator: Session, sealed_file: Path, tmp_path: Path
) -> None:
    data = bytearray(sealed_file.read_bytes())
    data[len(data) // 2] ^= 1
    bad = tmp_path / "bad.age"
    bad.write_bytes(bytes(data))
    with pytest.raises(DecryptionFailed):
        coordinator.open_sealed_file(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_sealing_needs_a_usable_partner(
    session: Session, coordinator: Session, clock: FixedClock
) -> None:
    rid = session.create_report(title="t", category="other").id
    with pytest.raises(InputError, match="at least one partner"):
        session.seal_report(rid, [])
    with pytest.raises(NotFound):
        session.seal_report(rid, ["nobody"])
    session.add_partner(coordinator.own_card(valid_days=5), verified=VERIFIED_CONFIRMED)
    clock.advance(6 * 86400)
    with pytest.raises(CardExpired):
        session.seal_report(rid, ["Free Press Org"])
    assert [r.id for r in session.list_reports()] == [rid]


def test_revoked_partner_is_refused(
    session: Session, coordinator: Session, clock: FixedClock
) -> None:
    session.add_partner(coordinator.own_card(), verified=VERIFIED_CONFIRMED)
    clock.advance(60)
    session.apply_statement(identity.parse_statement(coordinator.make_revocation().to_text()))
    clock.advance(60)
    rid = session.create_report(title="t", category="other").id
    with pytest.raises(KeyRevoked):
        session.seal_report(rid, ["Free Press Org"])


def test_the_test_only_example_card_is_refused(session: Session) -> None:
    (entry,) = read_trust_store(KEYS)
    assert entry.card is not None
    session.add_partner(entry.card, verified=VERIFIED_TRUST_STORE)
    rid = session.create_report(title="t", category="other").id
    with pytest.raises(Refused, match="TEST-ONLY"):
        session.seal_report(rid, [entry.card.name])


def test_required_template_fields_are_needed_to_seal(
    session: Session, coordinator: Session
) -> None:
    session.add_partner(coordinator.own_card(), verified=VERIFIED_CONFIRMED)
    rid = session.create_report(title="t", template="repression").id
    with pytest.raises(InputError, match="required fields before sealing: What was done"):
        session.seal_report(rid, ["Free Press Org"])


@pytest.mark.skipif(shutil.which("age") is None and not os.environ.get("CI"), reason="needs age")
def test_sealed_file_opens_with_the_age_cli(
    session: Session, tmp_path: Path, clock: FixedClock
) -> None:
    """The age CLI installed here (1.1.1) has no post-quantum recipients: a classical
    partner's copy opens with it (and a hybrid one with age >= 1.3, or our agev1)."""
    import io

    from securesubmit.core import seal
    from tests.unit.test_seal import MemorySink

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
        session.add_partner(classical.own_card(), verified=VERIFIED_CONFIRMED)
        rid = session.create_report(title=f"{CANARY} title", category="media").id
        receipt = session.seal_report(rid, ["Classic Org"])
        # A hybrid sender to a classical partner: version 2, signed "encryption: classical".
        assert (receipt.encryption, receipt.signature) == ("classical", "hybrid")
        sealed_file = tmp_path / "report.age"
        session.export_sealed_file(receipt.id, sealed_file)
        key = tmp_path / "coord.key"
        key.write_text(crypto.age_identity(classical.identity.encryption_secret) + "\n")
        out = subprocess.run(
            ["age", "-d", "-i", str(key), str(sealed_file)], capture_output=True, check=True
        ).stdout
        assert out.startswith(b"securesubmit-sealed v2\n")
        verified = seal.verify_container(
            io.BytesIO(out),
            my_fingerprint=classical.identity.fingerprint,
            sink=MemorySink(),
            known_senders=None,
        )
    assert verified.report["title"] == f"{CANARY} title"
    assert verified.signature_protection == "hybrid" and verified.encryption == "classical"
    assert json.dumps(verified.report)
