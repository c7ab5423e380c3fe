"""Regenerate keys/example-partner.card and keys/MANIFEST (``make example-card``).

TEST ONLY. The keys come from a public, fixed seed, so anyone can compute the secret
keys: this card exists to try the program and to test it. SecureSubmit refuses to seal
anything to it outside tests (securesubmit/core/partners.py, TEST_ONLY_FINGERPRINTS).
The matching secret keys are written to tests/vectors/example-partner/ for the tests.

The card is version 2 (hybrid: ML-KEM-768 + X25519, ML-DSA-65 + Ed25519). ML-DSA-65
signatures are randomised, so the card on disk is kept when it already carries exactly
the content made here (its signatures verify); otherwise it is written anew.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from securesubmit.core import bech32, crypto, identity, partners
from securesubmit.errors import SecureSubmitError

ROOT = Path(__file__).resolve().parents[1]
SEED = b"securesubmit example partner card -- TEST ONLY, secret is public"


def example_keys() -> tuple[bytes, bytes, bytes, bytes]:
    """(Ed25519 seed, X25519 secret, ML-DSA-65 seed, MLKEM768-X25519 seed), all public."""
    signing_seed = hashlib.sha256(SEED + b"/signing").digest()
    encryption_secret = hashlib.sha256(SEED + b"/encryption").digest()
    mldsa_seed = hashlib.sha256(SEED + b"/mldsa").digest()
    pq_seed = hashlib.sha256(SEED + b"/pq-encryption").digest()
    return signing_seed, encryption_secret, mldsa_seed, pq_seed


def make() -> identity.IdentityCard:
    signing_seed, encryption_secret, mldsa_seed, pq_seed = example_keys()
    return identity.make_card(
        signing_seed,
        crypto.encryption_public_key(encryption_secret),
        name="EXAMPLE Test Partner (NOT REAL)",
        organisation="SecureSubmit test fixture",
        role="coordinator",
        created=datetime(2026, 1, 1, tzinfo=UTC),
        expires=datetime(2030, 12, 31, tzinfo=UTC),
        mldsa_seed=mldsa_seed,
        pq_public=crypto.hybrid_public_key(pq_seed),
        require_hybrid=False,
    )


def _existing(path: Path, wanted: identity.IdentityCard) -> identity.IdentityCard | None:
    """The card on disk if it is ``wanted`` but for its randomised ML-DSA signature."""
    try:
        card = identity.parse_card(path.read_bytes())
    except (OSError, SecureSubmitError):
        return None
    return card if card.signed_text() == wanted.signed_text() else None


def main() -> None:
    keys = ROOT / "keys"
    card_path = keys / "example-partner.card"
    made = make()
    card = _existing(card_path, made) or made
    card_path.write_bytes(card.to_text())
    (keys / partners.MANIFEST_NAME).write_text(
        partners.format_manifest({"example-partner.card": card})
    )
    signing_seed, encryption_secret, mldsa_seed, pq_seed = example_keys()
    secret = {
        "comment": "TEST ONLY: the secret keys of keys/example-partner.card, derived from a "
        "public seed in scripts/make_example_card.py. Never a real key.",
        "signing_seed": signing_seed.hex(),
        "age_identity": crypto.age_identity(encryption_secret),
        "mldsa_seed": mldsa_seed.hex(),
        "pq_age_identity": bech32.encode("age-secret-key-pq-", pq_seed).upper(),
        "fingerprint": identity.format_fingerprint(card.fingerprint),
    }
    out = ROOT / "tests" / "vectors" / "example-partner" / "secret.json"
    out.write_text(json.dumps(secret, indent=2) + "\n")
    print(identity.format_fingerprint(card.fingerprint))


if __name__ == "__main__":
    main()
