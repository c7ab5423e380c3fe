"""Version 2 (hybrid) identity cards, statements and key-set signatures.

docs/spec/identity-card.md §13 and docs/spec/crypto.md "ML-DSA-65". The vectors are in
tests/vectors/identity/ (card-v2.txt, rotation-v1-to-v2.txt, rotation-v2.txt,
revocation-v2.txt, invalid/*-v2-*, downgrade/).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from securesubmit.core import agev1, crypto, identity
from securesubmit.core.identity import (
    BrokenRotationChain,
    FingerprintMismatch,
    KeyRevoked,
    KeySetSignatures,
    PublicKeys,
    RevocationStatement,
    RotationStatement,
    SigningKeySet,
)
from securesubmit.core.partners import (
    TEST_ONLY_FINGERPRINTS,
    VERIFIED_CONFIRMED,
    format_manifest,
    read_trust_store,
)
from securesubmit.core.service import Session, create_vault, unlock_vault
from securesubmit.errors import (
    BadSignature,
    FormatError,
    InputError,
    Refused,
    SecureSubmitError,
    WeakKey,
)
from tests.helpers import FAST_KDF, PASSPHRASE, WEAK_INIT, FixedClock, cli_env, run_cli

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors" / "identity"
SPEC = ROOT / "docs" / "spec" / "identity-card.md"
DESCRIPTION = json.loads((VECTORS / "vectors.json").read_text(encoding="utf-8"))
CARD_V1 = (VECTORS / "card.txt").read_bytes()
CARD_V2 = (VECTORS / "card-v2.txt").read_bytes()
ROTATION_V1_TO_V2 = (VECTORS / "rotation-v1-to-v2.txt").read_bytes()
ROTATION_V2 = (VECTORS / "rotation-v2.txt").read_bytes()
REVOCATION_V2 = (VECTORS / "revocation-v2.txt").read_bytes()
V2_TEXTS = {
    "card-v2.txt": CARD_V2,
    "rotation-v1-to-v2.txt": ROTATION_V1_TO_V2,
    "rotation-v2.txt": ROTATION_V2,
    "revocation-v2.txt": REVOCATION_V2,
}


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _hybrid(name: str) -> tuple[bytes, bytes, bytes, bytes]:
    """(Ed25519 seed, X25519 secret, ML-DSA seed, MLKEM768-X25519 seed) of H or J."""
    entry = DESCRIPTION["hybrid_keys"][name]
    return (
        bytes.fromhex(entry["signing_seed_hex"]),
        bytes.fromhex(entry["x25519_secret_hex"]),
        bytes.fromhex(entry["mldsa_seed_hex"]),
        bytes.fromhex(entry["pq_seed_hex"]),
    )


def _public(name: str) -> PublicKeys:
    ed, x, mldsa, pq = _hybrid(name)
    return PublicKeys(
        crypto.signing_public_key(ed),
        crypto.encryption_public_key(x),
        crypto.mldsa_public_key(mldsa),
        crypto.hybrid_public_key(pq),
    )


H, J = _public("H"), _public("J")
CREATED = _time("2026-11-23T10:00:00Z")
EXPIRES = _time("2028-11-23T00:00:00Z")


def _card_v2(name: str = "H", **overrides: object) -> identity.IdentityCard:
    ed, x, mldsa, pq = _hybrid(name)
    arguments: dict[str, object] = {
        "name": "Әйгерім Тестова",
        "organisation": "Test-Only Media Collective",
        "role": "reporter",
        "created": CREATED,
        "expires": EXPIRES,
        "mldsa_seed": mldsa,
        "pq_public": crypto.hybrid_public_key(pq),
        "require_hybrid": True,
    }
    arguments.update(overrides)
    return identity.make_card(ed, crypto.encryption_public_key(x), **arguments)  # type: ignore[arg-type]


# --- vectors ------------------------------------------------------------------------------


def test_hybrid_vector_keys_derive_to_their_published_values() -> None:
    for name, entry in DESCRIPTION["hybrid_keys"].items():
        keys = _public(name)
        assert keys.is_hybrid and keys.mldsa_public is not None and keys.pq_public is not None
        assert len(keys.mldsa_public) == 1952 and len(keys.pq_public) == 1216
        assert keys.signing_public.hex() == entry["signing_public_hex"]
        assert crypto.sha256(keys.mldsa_public).hex() == entry["mldsa_public_sha256"]
        assert crypto.sha256(keys.pq_public).hex() == entry["pq_public_sha256"]
        assert keys.fingerprint.hex() == entry["fingerprint_hex"]
        assert keys.display() == entry["fingerprint_display"]
        assert keys.classical.display() == entry["classical_part_fingerprint_display"]
        # The published age identity opens what is sealed to the card's age1pq recipient.
        age_identity = agev1.parse_identity(entry["pq_age_identity"])
        assert str(age_identity.recipient()) == keys.pq_recipient


def test_v2_fingerprint_is_sha256_of_its_label_and_all_four_keys() -> None:
    assert H.mldsa_public is not None and H.pq_public is not None
    expected = crypto.sha256(
        b"securesubmit/v2/fingerprint\x00"
        + H.signing_public
        + H.encryption_public
        + H.mldsa_public
        + H.pq_public
    )
    assert H.fingerprint == expected
    assert H.fingerprint != H.classical.fingerprint
    assert H.classical.fingerprint == identity.fingerprint(H.signing_public, H.encryption_public)
    assert H.protection == identity.HYBRID_PROTECTION
    assert H.classical.protection == "classical only"


def test_v2_card_vector_parses_to_its_fields_and_round_trips() -> None:
    card = identity.parse_card(CARD_V2)
    assert card.is_hybrid and card.version == 2 and card.require_hybrid
    assert card.keys == H
    assert card.pq_recipient == H.pq_recipient and card.pq_recipient.startswith("age1pq1")
    assert identity.format_fingerprint(card.fingerprint) == DESCRIPTION["card_v2"][
        "fingerprint_display"
    ]
    assert len(card.signed_text()) == DESCRIPTION["card_v2"]["signed_text_bytes"]
    assert card.to_text() == CARD_V2
    assert len(CARD_V2) <= identity.MAX_CARD_V2_BYTES
    # What make_card writes is the vector but for the randomised ML-DSA signature.
    made = _card_v2()
    assert made.signed_text() == card.signed_text()
    assert made.signature == card.signature
    assert made.mldsa_signature != card.mldsa_signature
    assert identity.parse_card(made.to_text()) == made


def test_v1_card_is_classical_only() -> None:
    card = identity.parse_card(CARD_V1)
    assert not card.is_hybrid and card.version == 1 and not card.require_hybrid
    assert card.pq_recipient is None and card.protection == "classical only"


def test_statement_vectors_parse_and_round_trip() -> None:
    migration = identity.parse_statement(ROTATION_V1_TO_V2)
    assert isinstance(migration, RotationStatement) and migration.version == 2
    assert not migration.old.is_hybrid and migration.new == H
    assert migration.old_mldsa_signature is None and migration.new_mldsa_signature is not None
    assert migration.to_text() == ROTATION_V1_TO_V2
    rotation = identity.parse_statement(ROTATION_V2)
    assert isinstance(rotation, RotationStatement)
    assert (rotation.old, rotation.new) == (H, J)
    assert rotation.to_text() == ROTATION_V2 and len(ROTATION_V2) == 18750
    revocation = identity.parse_statement(REVOCATION_V2)
    assert isinstance(revocation, RevocationStatement) and revocation.version == 2
    assert revocation.keys == H and revocation.to_text() == REVOCATION_V2


def test_spec_shows_the_v2_vectors_with_long_values_shortened() -> None:
    spec = SPEC.read_text(encoding="utf-8")
    for name, text in V2_TEXTS.items():
        lines = []
        for line in text.decode("utf-8").rstrip("\n").split("\n"):
            key, _, value = line.partition(": ")
            lines.append(f"{key}: {value[:40]}…" if len(line) > 100 else line)
        assert "```\n" + "\n".join(lines) + "\n```" in spec, name
    assert DESCRIPTION["hybrid_keys"]["H"]["fingerprint_display"] in spec


# --- chains across versions ------------------------------------------------------------------


def test_a_v1_identity_migrates_to_hybrid_keys_and_rotates_on() -> None:
    card = identity.parse_card(CARD_V1)
    migration = identity.parse_statement(ROTATION_V1_TO_V2)
    rotation = identity.parse_statement(ROTATION_V2)
    history = identity.follow_rotations(card, [migration, rotation])
    assert [p.keys for p in history.periods] == [card.keys, H, J]
    assert history.periods[1].valid_from == _time("2027-03-01T08:30:00Z")
    assert history.current.is_hybrid
    # The renewed v2 card of H is accepted through the chain, without a new check.
    identity.check_rotated_card(card, [migration], identity.parse_card(CARD_V2))
    with pytest.raises(BrokenRotationChain):
        identity.check_rotated_card(card, [migration, rotation], identity.parse_card(CARD_V2))


def test_v2_revocation_revokes_the_hybrid_keys_from_its_time() -> None:
    revocation = identity.parse_statement(REVOCATION_V2)
    at = _time("2027-12-01T09:00:00Z")
    identity.check_not_revoked(H.fingerprint, at - timedelta(seconds=1), [revocation])
    with pytest.raises(KeyRevoked):
        identity.check_not_revoked(H.fingerprint, at, [revocation])
    # The classical part is another fingerprint: not what this revokes, and not H.
    identity.check_not_revoked(H.classical.fingerprint, at, [revocation])


def test_downgrade_documents_are_refused_where_the_spec_says() -> None:
    downgrade = VECTORS / "downgrade"
    card_v1 = identity.parse_card((downgrade / "card-v1-of-hybrid-keys.txt").read_bytes())
    assert card_v1.signing_public == H.signing_public and not card_v1.is_hybrid
    with pytest.raises(FingerprintMismatch):
        identity.check_fingerprint(card_v1.fingerprint, H.display())
    rotation = identity.parse_statement(
        (VECTORS / "downgrade" / "rotation-v1-from-hybrid-keys.txt").read_bytes()
    )
    with pytest.raises(BrokenRotationChain, match="names the old fingerprint"):
        identity.follow_rotations(identity.parse_card(CARD_V2), [rotation])
    assert set(DESCRIPTION["downgrade"]) == {
        p.name for p in (VECTORS / "downgrade").iterdir()
    }


def test_trust_store_line_with_the_v2_fingerprint_flags_a_v1_card(tmp_path: Path) -> None:
    card_v2 = identity.parse_card(CARD_V2)
    (tmp_path / "MANIFEST").write_text(format_manifest({"h.card": card_v2}))
    (tmp_path / "h.card").write_bytes(
        (VECTORS / "downgrade" / "card-v1-of-hybrid-keys.txt").read_bytes()
    )
    (entry,) = read_trust_store(tmp_path)
    assert entry.problem is not None and "differs from the manifest" in entry.problem
    (tmp_path / "h.card").write_bytes(CARD_V2)
    (entry,) = read_trust_store(tmp_path)
    assert entry.problem is None and entry.card == card_v2


# --- tampering --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(V2_TEXTS))
def test_byte_changes_of_v2_vectors_are_refused(name: str) -> None:
    """Every byte of the short lines, and every 61st byte of the long values, flipped."""
    text = V2_TEXTS[name]
    parse = identity.parse_card if name.startswith("card") else identity.parse_statement
    positions: list[int] = []
    offset = 0
    for line in text.split(b"\n")[:-1]:
        span = range(offset, offset + len(line) + 1)
        positions.extend(span if len(line) <= 100 else [*list(span)[::61], span[-2], span[-1]])
        offset += len(line) + 1
    accepted = []
    for index in positions:
        for mask in (0x01, 0x80):
            modified = bytearray(text)
            modified[index] ^= mask
            try:
                parse(bytes(modified))
            except SecureSubmitError:
                continue
            accepted.append((index, mask))
    assert accepted == []


def test_a_v2_card_cannot_be_built_around_a_signature_that_does_not_verify() -> None:
    card = identity.parse_card(CARD_V2)
    with pytest.raises(BadSignature, match="the card's signature does not verify"):
        dataclasses.replace(card, require_hybrid=False)
    other = _card_v2("J")
    with pytest.raises(BadSignature, match="the card's mldsa-signature does not verify"):
        dataclasses.replace(card, mldsa_signature=other.mldsa_signature)
    with pytest.raises(FormatError, match="some post-quantum parts but not all"):
        dataclasses.replace(card, mldsa_signature=None)


# --- key-set signatures -------------------------------------------------------------------------


def test_key_set_signatures_round_trip_and_require_both_for_hybrid_keys() -> None:
    ed, _, mldsa, _ = _hybrid("H")
    hybrid = SigningKeySet(ed, mldsa)
    signatures = identity.sign_with_key_set(hybrid, "sealed-report", b"message")
    assert signatures.is_hybrid and len(signatures.mldsa or b"") == crypto.MLDSA_SIGNATURE_SIZE
    identity.verify_key_set_signatures(H, "sealed-report", b"message", signatures)
    with pytest.raises(BadSignature, match="ML-DSA-65 signature is missing"):
        identity.verify_key_set_signatures(
            H, "sealed-report", b"message", KeySetSignatures(signatures.ed25519)
        )
    with pytest.raises(BadSignature, match="the Ed25519 signature does not verify"):
        identity.verify_key_set_signatures(H, "bundle-manifest", b"message", signatures)
    altered = bytearray(signatures.mldsa or b"")
    altered[5] ^= 1
    with pytest.raises(BadSignature, match="the ML-DSA-65 signature does not verify"):
        identity.verify_key_set_signatures(
            H, "sealed-report", b"message", KeySetSignatures(signatures.ed25519, bytes(altered))
        )
    with pytest.raises(BadSignature, match="the ML-DSA-65 signature does not verify"):
        identity.verify_key_set_signatures(
            J,
            "sealed-report",
            b"message",
            KeySetSignatures(
                crypto.sign(_hybrid("J")[0], "sealed-report", b"message"), signatures.mldsa
            ),
        )
    # A classical key set: Ed25519 alone, and an ML-DSA signature beside it is refused.
    classical = SigningKeySet(ed)
    plain = identity.sign_with_key_set(classical, "sealed-report", b"message")
    assert plain.mldsa is None
    identity.verify_key_set_signatures(H.classical, "sealed-report", b"message", plain)
    with pytest.raises(BadSignature, match="classical only"):
        identity.verify_key_set_signatures(H.classical, "sealed-report", b"message", signatures)
    assert "secret" in repr(hybrid) and ed.hex() not in repr(hybrid)


def test_mldsa_is_domain_separated_and_checks_lengths() -> None:
    seed = _hybrid("H")[2]
    public = crypto.mldsa_public_key(seed)
    signature = crypto.mldsa_sign(seed, "card", b"body")
    crypto.mldsa_verify(public, "card", b"body", signature)
    for label, message in (("statement", b"body"), ("card", b"bodY")):
        with pytest.raises(BadSignature):
            crypto.mldsa_verify(public, label, message, signature)
    with pytest.raises(BadSignature):
        crypto.mldsa_verify(public, "card", b"body", signature[:-1])
    with pytest.raises(WeakKey, match="wrong length"):
        crypto.check_mldsa_public_key(public[:-1])
    with pytest.raises(FormatError):
        crypto.parse_hybrid_age_recipient(crypto.age_recipient(H.encryption_public))
    assert crypto.parse_hybrid_age_recipient(H.pq_recipient or "") == H.pq_public


# --- making documents -----------------------------------------------------------------------------


def test_make_functions_refuse_what_version_2_does_not_allow() -> None:
    ed, x, mldsa, _ = _hybrid("H")
    with pytest.raises(InputError, match="only a card with post-quantum keys"):
        identity.make_card(
            ed,
            crypto.encryption_public_key(x),
            "Name",
            "",
            "reporter",
            CREATED,
            EXPIRES,
            require_hybrid=True,
        )
    b_seed, b_secret = b"\x03" * 32, b"\x04" * 32
    with pytest.raises(InputError, match="back to classical keys"):
        identity.make_rotation(
            ed,
            H.encryption_public,
            b_seed,
            crypto.encryption_public_key(b_secret),
            CREATED,
            old_mldsa_seed=mldsa,
            old_pq_public=H.pq_public,
        )
    with pytest.raises(InputError, match="post-quantum keys too"):
        identity.make_rotation(
            ed,
            H.encryption_public,
            b_seed,
            crypto.encryption_public_key(b_secret),
            CREATED,
            old_mldsa_seed=mldsa,
            old_pq_public=H.pq_public,
            new_mldsa_seed=mldsa,
            new_pq_public=J.pq_public,
        )


def test_made_v2_statements_round_trip() -> None:
    ed_h, _, mldsa_h, _ = _hybrid("H")
    ed_j, _, mldsa_j, _ = _hybrid("J")
    rotation = identity.make_rotation(
        ed_h,
        H.encryption_public,
        ed_j,
        J.encryption_public,
        _time("2027-12-01T08:30:00Z"),
        old_mldsa_seed=mldsa_h,
        old_pq_public=H.pq_public,
        new_mldsa_seed=mldsa_j,
        new_pq_public=J.pq_public,
    )
    assert rotation.signed_text() == identity.parse_statement(ROTATION_V2).signed_text()
    assert identity.parse_statement(rotation.to_text()) == rotation
    revocation = identity.make_revocation(
        ed_h, H.encryption_public, CREATED, "lost", mldsa_seed=mldsa_h, pq_public=H.pq_public
    )
    assert identity.parse_statement(revocation.to_text()) == revocation
    assert revocation.to_text().startswith(b"securesubmit-revocation v2\n")


# --- the vault, partners and the CLI ------------------------------------------------------------


@pytest.fixture
def hybrid_coordinator(tmp_path: Path, clock: FixedClock) -> Session:
    s = create_vault(
        tmp_path / "hybrid.db",
        PASSPHRASE,
        name="Hybrid Org",
        role="coordinator",
        kdf=FAST_KDF,
        clock=clock,
        post_quantum=True,
    )
    yield s  # type: ignore[misc]
    s.close()


def test_a_post_quantum_vault_makes_v2_cards_and_partners_see_hybrid(
    session: Session, hybrid_coordinator: Session, tmp_path: Path
) -> None:
    me = hybrid_coordinator.identity
    assert me.is_hybrid and me.keys.is_hybrid
    card = hybrid_coordinator.own_card(require_hybrid=True)
    assert card.is_hybrid and card.require_hybrid and card.fingerprint == me.fingerprint
    assert b"require-hybrid: yes\n" in card.to_text()
    partner = session.add_partner(identity.parse_card(card.to_text()), verified=VERIFIED_CONFIRMED)
    assert partner.is_hybrid and partner.requires_hybrid
    assert partner.protection == "hybrid (ML-KEM-768 + X25519, ML-DSA-65 + Ed25519)"
    (listed,) = session.list_partners()
    assert listed.is_hybrid and listed.requires_hybrid
    # The post-quantum keys survive closing the vault.
    path = tmp_path / "hybrid.db"
    hybrid_coordinator.close()
    with unlock_vault(path, PASSPHRASE) as reopened:
        assert reopened.identity.keys == me.keys
        assert reopened.identity.mldsa_seed == me.mldsa_seed


def test_a_classical_vault_upgrades_and_its_partner_follows(
    session: Session, tmp_path: Path, clock: FixedClock
) -> None:
    coordinator = create_vault(
        tmp_path / "old.db",
        PASSPHRASE,
        name="Old Org",
        kdf=FAST_KDF,
        clock=clock,
        post_quantum=False,
    )
    with coordinator:
        assert not coordinator.identity.is_hybrid
        with pytest.raises(Refused, match="cannot require hybrid"):
            coordinator.own_card(require_hybrid=True)
        old_card = coordinator.own_card()
        assert old_card.version == 1 and old_card.protection == "classical only"
        old_secret = coordinator.identity.encryption_secret
        session.add_partner(old_card, verified=VERIFIED_CONFIRMED)
        clock.advance(60)
        statement = coordinator.upgrade_identity()
        me = coordinator.identity
        assert statement.version == 2 and statement.new == me.keys and me.is_hybrid
        assert not statement.old.is_hybrid and statement.old == old_card.keys
        assert me.previous_encryption_secrets == (old_secret,)
        assert coordinator.audit_log()[-1]["type"] == "identity.upgraded"
        with pytest.raises(Refused, match="already has post-quantum keys"):
            coordinator.upgrade_identity()
        partner = session.apply_statement(identity.parse_statement(statement.to_text()))
        assert partner.is_hybrid and partner.fingerprint == me.fingerprint
        assert not partner.requires_hybrid
        # A later rotation stays hybrid and keeps the old age1pq identity for decryption.
        clock.advance(60)
        hybrid_seed = me.hybrid_seed
        again = coordinator.rotate_identity()
        assert again.old.is_hybrid and again.new.is_hybrid
        assert coordinator.identity.previous_hybrid_seeds == (hybrid_seed,)
        partner = session.apply_statement(identity.parse_statement(again.to_text()))
        assert partner.fingerprint == coordinator.identity.fingerprint
        # A classical card with the keys a hybrid partner uses is a downgrade.
        clock.advance(60)
        now = coordinator.identity
        downgrade = identity.make_card(
            now.signing_seed,
            now.encryption_public,
            "Old Org",
            "",
            "reporter",
            clock(),
            clock() + timedelta(days=30),
        )
        with pytest.raises(Refused, match="downgrade is refused"):
            session.add_partner(downgrade, verified=VERIFIED_CONFIRMED)
        revocation = coordinator.make_revocation("test")
        assert revocation.version == 2


def test_the_example_card_is_v2_and_test_only() -> None:
    (entry,) = read_trust_store(ROOT / "keys")
    assert entry.problem is None and entry.card is not None and entry.card.is_hybrid
    assert entry.fingerprint in TEST_ONLY_FINGERPRINTS
    secret_file = ROOT / "tests" / "vectors" / "example-partner" / "secret.json"
    secret = json.loads(secret_file.read_text())
    pq_identity = agev1.parse_identity(secret["pq_age_identity"])
    assert str(pq_identity.recipient()) == entry.card.pq_recipient
    assert crypto.mldsa_public_key(bytes.fromhex(secret["mldsa_seed"])) == entry.card.mldsa_public
    assert secret["fingerprint"] == entry.fingerprint


def test_cli_upgrade_require_hybrid_and_protection(tmp_path: Path) -> None:
    env = {**cli_env(tmp_path), "SECURESUBMIT_VAULT": str(tmp_path / "v.db")}
    assert run_cli(*WEAK_INIT, "--name", "Aigerim", "--classical", env=env).returncode == 0
    shown = run_cli("identity", "show", "--json", env=env)
    assert json.loads(shown.stdout)["protection"] == "classical only"
    refused = run_cli("card", "export", "--require-hybrid", env=env)
    assert refused.returncode == 1 and "cannot require hybrid" in refused.stderr
    assert "Traceback" not in refused.stderr
    out = tmp_path / "upgrade.txt"
    upgraded = run_cli("identity", "upgrade", "--out", str(out), env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert out.read_bytes().startswith(b"securesubmit-rotation v2\n")
    again = run_cli("identity", "upgrade", "--out", str(tmp_path / "again.txt"), env=env)
    assert again.returncode == 1 and "already has post-quantum keys" in again.stderr
    card_path = tmp_path / "me.card"
    exported = run_cli("card", "export", "--require-hybrid", "--out", str(card_path), env=env)
    assert exported.returncode == 0, exported.stderr
    card = json.loads(run_cli("card", "show", str(card_path), "--json", env=env).stdout)
    assert card["version"] == 2 and card["require_hybrid"] is True
    assert card["protection"] == "hybrid (ML-KEM-768 + X25519, ML-DSA-65 + Ed25519)"
    text = run_cli("card", "show", str(card_path), env=env).stdout
    assert "protection:    hybrid (ML-KEM-768 + X25519, ML-DSA-65 + Ed25519)" in text
    assert "requires hybrid sealing" in text
