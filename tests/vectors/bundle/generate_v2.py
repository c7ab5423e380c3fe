"""Write the version 2 (hybrid) bundle vectors of docs/spec/bundle.md §13.

    /tmp/venv/bin/python tests/vectors/bundle/generate_v2.py           # only missing files
    /tmp/venv/bin/python tests/vectors/bundle/generate_v2.py --force   # all of them again

(Each ``.age`` file must hold its stored ``.bin`` container: after removing any file,
regenerate with --force.)

Every key here is TEST-ONLY: the secret halves are published in v2/vectors.json.

ML-DSA-65 signing is hedged (randomised) and age is randomised, so the files are made once
and kept; tests/unit/test_bundle.py reads each with ``read_bundle`` and checks the result
named in v2/vectors.json. Containers are assembled from the specification with ``struct``
and ``json``, without bundle.py; only the primitives come from core/crypto.py and
core/agev1.py. Each ``*.bin`` is a container, read after encryption to the recipient's
post-quantum key; each ``*.age`` is a whole bundle file, read as it is.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import sys
from pathlib import Path
from typing import Any

from securesubmit.core import agev1, crypto

HERE = Path(__file__).resolve().parent / "v2"
LABEL = "bundle-manifest"
MAGIC_V2 = b"securesubmit-bundle v2\n"
MAGIC_V1 = b"securesubmit-bundle v1\n"

# TEST-ONLY: (Ed25519 seed, X25519 secret, ML-DSA-65 seed, MLKEM768-X25519 seed)
KEYS = {
    "sender": (b"\x11" * 32, b"\x12" * 32, b"\x15" * 32, b"\x16" * 32),
    "recipient": (b"\x21" * 32, b"\x22" * 32, b"\x25" * 32, b"\x26" * 32),
}
MEMBER = ("r-0001", b"sealed report 1 (TEST-ONLY opaque bytes, not a real age file)\n")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def public(name: str) -> dict[str, bytes]:
    ed, x, mldsa, pq = KEYS[name]
    return {
        "signing": crypto.signing_public_key(ed),
        "encryption": crypto.encryption_public_key(x),
        "mldsa": crypto.mldsa_public_key(mldsa),
        "pq": crypto.hybrid_public_key(pq),
    }


def fingerprint(name: str, version: int = 2) -> bytes:
    k = public(name)
    if version == 1:
        return hashlib.sha256(
            b"securesubmit/v1/fingerprint\x00" + k["signing"] + k["encryption"]
        ).digest()
    data = k["signing"] + k["encryption"] + k["mldsa"] + k["pq"]
    return hashlib.sha256(b"securesubmit/v2/fingerprint\x00" + data).digest()


def manifest(encryption: str = "hybrid", **changes: Any) -> dict[str, Any]:
    k = public("sender")
    value: dict[str, Any] = {
        "audit": None,
        "bundle_id": "0123456789abcdef0123456789abcdef",
        "created": "2026-11-23T10:00:00Z",
        "encryption": encryption,
        "format": "securesubmit-bundle v2",
        "members": [[MEMBER[0], len(MEMBER[1]), b64(hashlib.sha256(MEMBER[1]).digest())]],
        "previous_hash": b64(bytes(32)),
        "recipient_fingerprint": b64(fingerprint("recipient")),
        "sender": {
            "age_recipient": crypto.age_recipient(k["encryption"]),
            "fingerprint": b64(fingerprint("sender")),
            "mldsa_key": b64(k["mldsa"]),
            "pq_recipient": crypto.hybrid_age_recipient(k["pq"]),
            "signing_key": b64(k["signing"]),
        },
        "sequence": 1,
        "statements": [],
    }
    value.update(changes)
    return value


def canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def container(m: dict[str, Any], *, magic: bytes = MAGIC_V2, signatures: Any = None) -> bytes:
    data = canonical(m)
    ed = crypto.sign(KEYS["sender"][0], LABEL, data)
    mldsa = crypto.mldsa_sign(KEYS["sender"][2], LABEL, data)
    sig = ed + mldsa if signatures is None else signatures(ed, mldsa)
    out = magic + b"M" + struct.pack(">I", len(data)) + data + sig
    out += b"R" + struct.pack(">IQ", 0, len(MEMBER[1])) + MEMBER[1]
    return out + b"E" + struct.pack(">IQ", 1, len(MEMBER[1]))


def age_to_recipient(data: bytes, *, hybrid: bool = True) -> bytes:
    k = public("recipient")
    recipient: agev1.Recipient = (
        agev1.HybridRecipient(k["pq"]) if hybrid else agev1.X25519Recipient(k["encryption"])
    )
    out = io.BytesIO()
    agev1.encrypt_stream(io.BytesIO(data), out, [recipient])
    return out.getvalue()


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


def build() -> tuple[dict[str, bytes], dict[str, Any]]:
    valid = container(manifest())
    classical_claim = container(manifest("classical"))
    k = public("sender")
    v1_sender = {
        "age_recipient": crypto.age_recipient(k["encryption"]),
        "fingerprint": b64(fingerprint("sender", 1)),
        "signing_key": b64(k["signing"]),
    }
    files = {
        "one-member.bin": valid,
        "one-member.age": age_to_recipient(valid),
        "classical-claim.bin": classical_claim,
        "classical-claim.age": age_to_recipient(classical_claim, hybrid=False),
        "invalid/mldsa-stripped.bin": container(manifest(), signatures=lambda e, m: e),
        "invalid/mldsa-altered.bin": container(
            manifest(), signatures=lambda e, m: e + flip(m, 2000)
        ),
        "invalid/mldsa-zeroed.bin": container(
            manifest(), signatures=lambda e, m: e + bytes(len(m))
        ),
        "invalid/ed25519-altered.bin": container(
            manifest(), signatures=lambda e, m: flip(e, 5) + m
        ),
        "invalid/sender-without-post-quantum-keys.bin": container(manifest(sender=v1_sender)),
        "invalid/encryption-missing.bin": container(
            {k: v for k, v in manifest().items() if k != "encryption"}
        ),
        "invalid/format-v1-in-v2-container.bin": container(
            manifest(format="securesubmit-bundle v1")
        ),
        "invalid/v2-manifest-in-v1-container.bin": container(manifest(), magic=MAGIC_V1),
        "invalid/age-replaced-by-x25519.age": age_to_recipient(valid, hybrid=False),
        "invalid/classical-claim-in-hybrid-age.age": age_to_recipient(classical_claim),
    }
    description = {
        "WARNING": (
            "TEST-ONLY KEYS. Their secret halves are published here; never use them for "
            "anything but tests."
        ),
        "keys": {
            name: {
                "ed25519_seed": key[0].hex(),
                "x25519_secret": key[1].hex(),
                "mldsa_seed": key[2].hex(),
                "hybrid_seed": key[3].hex(),
                "fingerprint": fingerprint(name).hex(),
            }
            for name, key in KEYS.items()
        },
        "valid": {
            "one-member.bin": {"encryption": "hybrid", "container": "one-member.bin"},
            "one-member.age": {"encryption": "hybrid", "container": "one-member.bin"},
            "classical-claim.age": {"encryption": "classical", "container": "classical-claim.bin"},
        },
        "invalid": {
            "mldsa-stripped.bin": ["FormatError", "cut short"],
            "mldsa-altered.bin": ["BadSignature", "ML-DSA-65 signature does not verify"],
            "mldsa-zeroed.bin": ["BadSignature", "ML-DSA-65 signature does not verify"],
            "ed25519-altered.bin": ["BadSignature", "Ed25519 signature does not verify"],
            "sender-without-post-quantum-keys.bin": ["FormatError", "has no field 'mldsa_key'"],
            "encryption-missing.bin": ["FormatError", "has no field 'encryption'"],
            "format-v1-in-v2-container.bin": ["FormatError", "securesubmit-bundle v1"],
            "v2-manifest-in-v1-container.bin": ["FormatError", "unknown field"],
            "age-replaced-by-x25519.age": ["EncryptionDowngraded", "says hybrid"],
            "classical-claim-in-hybrid-age.age": ["EncryptionDowngraded", "says classical"],
        },
        "require_hybrid_refuses": [
            "classical-claim.age",
            "EncryptionDowngraded",
            "requires hybrid",
        ],
        "sizes": {"one-member.bin": len(valid)},
    }
    return files, description


def main() -> int:
    force = "--force" in sys.argv[1:]
    files, description = build()
    written = 0
    for relative, content in files.items():
        path = HERE / relative
        if path.exists() and not force:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written += 1
    (HERE / "vectors.json").write_text(json.dumps(description, indent=2) + "\n")
    print(f"wrote {written} files to {HERE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
