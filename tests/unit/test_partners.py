"""Partners in the vault: adding cards, fingerprints, rotation, revocation, trust store."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from securesubmit.core import identity
from securesubmit.core.identity import (
    CardExpired,
    FingerprintMismatch,
    KeyRevoked,
    parse_card,
)
from securesubmit.core.partners import (
    TEST_ONLY_FINGERPRINTS,
    VERIFIED_CONFIRMED,
    VERIFIED_TRUST_STORE,
    read_trust_store,
)
from securesubmit.core.service import Session, create_vault, unlock_vault, verify_audit
from securesubmit.errors import FormatError, NotFound, Refused
from tests.helpers import FAST_KDF, PASSPHRASE, FixedClock

KEYS = Path(__file__).resolve().parents[2] / "keys"


@pytest.fixture
def coordinator(tmp_path: Path, clock: FixedClock) -> Session:
    s = create_vault(
        tmp_path / "coord.db",
        PASSPHRASE,
        name="Free Press Org",
        role="coordinator",
        kdf=FAST_KDF,
        clock=clock,
    )
    yield s  # type: ignore[misc]
    s.close()


def test_reporter_adds_a_coordinator_card_and_sees_it_listed(
    session: Session, coordinator: Session, clock: FixedClock
) -> None:
    card = parse_card(coordinator.own_card().to_text())
    partner = session.add_partner(card, verified=VERIFIED_CONFIRMED)
    assert [p.name for p in session.list_partners()] == ["Free Press Org"]
    assert partner.display_fingerprint == identity.format_fingerprint(
        coordinator.identity.fingerprint
    )
    assert session.get_partner("free press org").id == partner.id
    assert session.get_partner(partner.display_fingerprint[:9]).id == partner.id
    assert partner.status(clock()) == "active"
    partner.check_usable(clock())


def test_partners_survive_closing_and_are_encrypted(
    session: Session, coordinator: Session, vault_path: Path
) -> None:
    session.add_partner(coordinator.own_card(), verified=VERIFIED_CONFIRMED)
    session.close()
    assert b"Free Press Org" not in vault_path.read_bytes()
    with unlock_vault(vault_path, PASSPHRASE) as again:
        assert [p.name for p in again.list_partners()] == ["Free Press Org"]


def test_typed_fingerprint_must_match(coordinator: Session) -> None:
    card = coordinator.own_card()
    shown = identity.format_fingerprint(card.fingerprint)
    identity.check_fingerprint(card.fingerprint, shown.lower().replace(" ", "-"))
    wrong = ("A" if shown[0] != "A" else "B") + shown[1:]
    with pytest.raises(FingerprintMismatch):
        identity.check_fingerprint(card.fingerprint, wrong)


def test_own_card_and_duplicates_are_refused(session: Session, coordinator: Session) -> None:
    with pytest.raises(Refused, match="your own card"):
        session.set_name("Aigerim")
        session.add_partner(session.own_card(), verified=VERIFIED_CONFIRMED)
    card = coordinator.own_card()
    session.add_partner(card, verified=VERIFIED_CONFIRMED)
    with pytest.raises(Refused, match="already one of your partners"):
        session.add_partner(card, verified=VERIFIED_CONFIRMED)
    assert len(session.list_partners()) == 1


def test_renewed_card_replaces_the_old_one(
    session: Session, coordinator: Session, clock: FixedClock
) -> None:
    session.add_partner(coordinator.own_card(valid_days=30), verified=VERIFIED_CONFIRMED)
    clock.advance(86400)
    renewed = session.add_partner(coordinator.own_card(valid_days=700), verified=VERIFIED_CONFIRMED)
    assert len(session.list_partners()) == 1
    assert session.list_partners()[0].card.expires == renewed.card.expires


def test_expired_card_is_refused(session: Session, coordinator: Session, clock: FixedClock) -> None:
    card = coordinator.own_card(valid_days=10)
    clock.advance(11 * 86400)
    with pytest.raises(CardExpired):
        session.add_partner(card, verified=VERIFIED_CONFIRMED)
    assert session.list_partners() == []


def test_partner_card_expiring_later_cannot_be_sealed_to(
    session: Session, coordinator: Session, clock: FixedClock
) -> None:
    partner = session.add_partner(coordinator.own_card(valid_days=10), verified=VERIFIED_CONFIRMED)
    clock.advance(11 * 86400)
    assert partner.status(clock()) == "expired"
    with pytest.raises(CardExpired):
        partner.check_usable(clock())


def test_rotation_is_followed_across_two_rotations(
    session: Session, coordinator: Session, clock: FixedClock
) -> None:
    session.add_partner(coordinator.own_card(), verified=VERIFIED_CONFIRMED)
    first_fp = coordinator.identity.fingerprint
    clock.advance(60)
    first = coordinator.rotate_identity()
    clock.advance(60)
    second = coordinator.rotate_identity()
    assert coordinator.identity.fingerprint not in (first_fp, first.new.fingerprint)
    session.apply_statement(identity.parse_statement(first.to_text()))
    partner = session.apply_statement(identity.parse_statement(second.to_text()))
    assert partner.fingerprint == coordinator.identity.fingerprint
    assert partner.rotations == 2
    assert partner.keys.encryption_public == coordinator.identity.encryption_public
    # The coordinator keeps its old encryption keys, to open what was sealed to them.
    assert len(coordinator.identity.previous_encryption_secrets) == 2


def test_broken_rotation_chain_is_refused_and_changes_nothing(
    session: Session, coordinator: Session, clock: FixedClock
) -> None:
    session.add_partner(coordinator.own_card(), verified=VERIFIED_CONFIRMED)
    clock.advance(60)
    coordinator.rotate_identity()
    clock.advance(60)
    second = coordinator.rotate_identity()
    with pytest.raises(NotFound, match="none of your partners has the key"):
        session.apply_statement(second)
    assert session.list_partners()[0].rotations == 0


def test_revoked_partner_cannot_be_sealed_to(
    session: Session, coordinator: Session, clock: FixedClock
) -> None:
    session.add_partner(coordinator.own_card(), verified=VERIFIED_CONFIRMED)
    clock.advance(60)
    revocation = coordinator.make_revocation("device seized")
    partner = session.apply_statement(identity.parse_statement(revocation.to_text()))
    clock.advance(60)
    assert partner.status(clock()) == "revoked"
    with pytest.raises(KeyRevoked):
        partner.check_usable(clock())
    with pytest.raises(Refused, match="already applied"):
        session.apply_statement(revocation)


def test_remove_partner(session: Session, coordinator: Session) -> None:
    session.add_partner(coordinator.own_card(), verified=VERIFIED_CONFIRMED)
    session.remove_partner("Free Press Org")
    assert session.list_partners() == []
    with pytest.raises(NotFound):
        session.get_partner("Free Press Org")


def test_every_partner_operation_is_in_the_audit_log(
    session: Session, coordinator: Session, vault_path: Path, clock: FixedClock
) -> None:
    session.add_partner(coordinator.own_card(), verified=VERIFIED_CONFIRMED)
    clock.advance(60)
    session.apply_statement(coordinator.rotate_identity())
    session.remove_partner("Free Press Org")
    session.rotate_identity()
    types = [e["type"] for e in session.audit_log()]
    assert types[-4:] == ["partner.added", "partner.updated", "partner.removed", "identity.rotated"]
    session.close()
    assert verify_audit(vault_path).events == len(types)


def test_shipped_trust_store_verifies_and_its_card_is_marked_test_only(
    session: Session, clock: FixedClock
) -> None:
    entries = read_trust_store(KEYS)
    assert [e.filename for e in entries] == ["example-partner.card"]
    assert entries[0].problem is None and entries[0].card is not None
    assert entries[0].fingerprint in TEST_ONLY_FINGERPRINTS
    partner = session.add_partner(entries[0].card, verified=VERIFIED_TRUST_STORE)
    assert partner.test_only and partner.status(clock()) == "test-only"


def test_trust_store_card_whose_fingerprint_differs_from_manifest_is_refused(
    tmp_path: Path, coordinator: Session
) -> None:
    store = tmp_path / "keys"
    shutil.copytree(KEYS, store)
    # Swap the card for another one, keeping the manifest line.
    (store / "example-partner.card").write_bytes(coordinator.own_card().to_text())
    (entry,) = read_trust_store(store)
    assert entry.problem is not None and "differs from the manifest" in entry.problem


@pytest.mark.parametrize(
    "manifest",
    [
        "not a manifest\n",
        "# securesubmit trust store v1\n3AYH 5HFZ  ../etc/passwd.card\n",
        "# securesubmit trust store v1\n3AYH 5HFZ KS4Z 2MET CLHU JQI6 UGI3 RSXN  ../x.card\n",
        "# securesubmit trust store v1\r\n",
        "# securesubmit trust store v1",
    ],
)
def test_malformed_manifests_are_refused(tmp_path: Path, manifest: str) -> None:
    (tmp_path / "MANIFEST").write_text(manifest)
    with pytest.raises(FormatError):
        read_trust_store(tmp_path)


def test_card_needs_a_name(session: Session, vault_path: Path, clock: FixedClock) -> None:
    nameless = create_vault(vault_path.with_name("nameless.db"), PASSPHRASE, kdf=FAST_KDF)
    with pytest.raises(Refused, match="needs a name"):
        nameless.own_card()
    nameless.set_name("Bakyt", "Kloop")
    card = nameless.own_card(valid_days=365)
    assert (card.name, card.organisation) == ("Bakyt", "Kloop")
    assert card.expires - card.created == timedelta(days=365)
    nameless.close()


def test_reapplying_a_rotation_says_it_was_already_applied(
    session: Session, coordinator: Session, clock: FixedClock
) -> None:
    session.add_partner(coordinator.own_card(), verified=VERIFIED_CONFIRMED)
    clock.advance(60)
    rotation = coordinator.rotate_identity()
    session.apply_statement(rotation)
    with pytest.raises(Refused, match="already applied"):
        session.apply_statement(rotation)
