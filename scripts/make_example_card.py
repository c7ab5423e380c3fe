"""Regenerate keys/example-partner.card and keys/MANIFEST (``make example-card``).

TEST ONLY. The keys come from a public, fixed seed, so anyone can compute the secret
key: this card exists to try the program and to test it. SecureSubmit refuses to seal
anything to it outside tests (securesubmit/core/partners.py, TEST_ONLY_FINGERPRINTS).
The matching secret age identity is written to tests/vectors/identity/ for the tests.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from securesubmit.core import crypto, identity, partners

ROOT = Path(__file__).resolve().parents[1]
SEED = b"securesubmit example partner card -- TEST ONLY, secret is public"


def example_keys() -> tuple[bytes, bytes]:
    signing_seed = hashlib.sha256(SEED + b"/signing").digest()
    encryption_secret = hashlib.sha256(SEED + b"/encryption").digest()
    return signing_seed, encryption_secret


def make() -> identity.IdentityCard:
    signing_seed, encryption_secret = example_keys()
    return identity.make_card(
        signing_seed,
        crypto.encryption_public_key(encryption_secret),
        name="EXAMPLE Test Partner (NOT REAL)",
        organisation="SecureSubmit test fixture",
        role="coordinator",
        created=datetime(2026, 1, 1, tzinfo=UTC),
        expires=datetime(2030, 12, 31, tzinfo=UTC),
    )


def main() -> None:
    card = make()
    keys = ROOT / "keys"
    (keys / "example-partner.card").write_bytes(card.to_text())
    (keys / partners.MANIFEST_NAME).write_text(
        partners.format_manifest({"example-partner.card": card})
    )
    signing_seed, encryption_secret = example_keys()
    secret = {
        "comment": "TEST ONLY: the secret keys of keys/example-partner.card, derived from a "
        "public seed in scripts/make_example_card.py. Never a real key.",
        "signing_seed": signing_seed.hex(),
        "age_identity": crypto.age_identity(encryption_secret),
        "fingerprint": identity.format_fingerprint(card.fingerprint),
    }
    out = ROOT / "tests" / "vectors" / "example-partner" / "secret.json"
    out.write_text(json.dumps(secret, indent=2) + "\n")
    print(identity.format_fingerprint(card.fingerprint))


if __name__ == "__main__":
    main()
