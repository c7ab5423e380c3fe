"""Write the bundle test vectors of docs/spec/bundle.md.

    /tmp/venv/bin/python tests/vectors/bundle/generate.py

Every key here is TEST-ONLY: the secret halves are published in vectors.json.

age encryption is randomized, so a vector is the *inner container* (the age payload's
plaintext, ``<name>.bin``) with its expected parse; a reader encrypts it to the
recipient's TEST-ONLY key and opens it as any bundle. Ed25519 signatures are
deterministic, so running this again gives the same bytes; tests/unit/test_bundle.py
checks that it does, and that ``bundle.write_bundle`` produces the valid containers
byte for byte.

The containers are built here from the specification with ``struct`` and ``json``,
not with securesubmit/core/bundle.py, so the vectors check the library rather than
repeat it. Only keys, statements and checkpoints come from the library's other
modules.

Invalid vectors are correctly signed wherever a signature can be made, so that the
rule named by the vector is what refuses them, not the signature.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import sys
from datetime import UTC, datetime
from pathlib import Path
from collections.abc import Sequence
from typing import Any

from securesubmit.core import crypto, identity, merkle, note

HERE = Path(__file__).resolve().parent

MAGIC = b"securesubmit-bundle v1\n"
LABEL = "bundle-manifest"
ZERO = bytes(32)

# TEST-ONLY secret keys: (Ed25519 seed, X25519 secret).
KEYS = {
    "sender": (b"\x11" * 32, b"\x12" * 32),
    "sender-old": (b"\x13" * 32, b"\x14" * 32),
    "recipient": (b"\x21" * 32, b"\x22" * 32),
    "other": (b"\x31" * 32, b"\x32" * 32),
}
LOG_SEED = b"\x41" * 32  # TEST-ONLY Ed25519 seed of the sender's audit log key

ROTATION_TIME = datetime(2026, 6, 1, 8, 0, 0, tzinfo=UTC)
REVOCATION_TIME = datetime(2026, 6, 1, 9, 0, 0, tzinfo=UTC)

MEMBERS_ONE = [("r-0001", b"sealed report 1 (TEST-ONLY opaque bytes, not a real age file)\n")]
MEMBERS_FULL = [
    ("r-0002", b"sealed report 2 (TEST-ONLY)\n" * 10),
    ("r-0003-attachments", b""),
    ("r-0004", bytes(range(256))),
]


def public(name: str) -> identity.PublicKeys:
    seed, secret = KEYS[name]
    return identity.PublicKeys(crypto.signing_public_key(seed), crypto.encryption_public_key(secret))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# --- an encoder written from the specification ------------------------------------


def canonical(value: Any) -> bytes:
    """RFC 8785 (JCS) for the values a manifest uses."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def manifest_object(
    *,
    sender: str = "sender",
    recipient: str = "recipient",
    bundle_id: str,
    created: str,
    sequence: int,
    previous_hash: bytes,
    members: list[tuple[str, bytes]],
    statements: Sequence[bytes] = (),
    audit: dict[str, Any] | None = None,
) -> dict[str, Any]:
    keys = public(sender)
    return {
        "format": "securesubmit-bundle v1",
        "bundle_id": bundle_id,
        "created": created,
        "sender": {
            "fingerprint": b64(keys.fingerprint),
            "signing_key": b64(keys.signing_public),
            "age_recipient": crypto.age_recipient(keys.encryption_public),
        },
        "recipient_fingerprint": b64(public(recipient).fingerprint),
        "sequence": sequence,
        "previous_hash": b64(previous_hash),
        "members": [[rid, len(data), b64(sha256(data))] for rid, data in members],
        "statements": [s.decode("utf-8") for s in statements],
        "audit": audit,
    }


def manifest_record(manifest: bytes, signer: str = "sender", length: int | None = None) -> bytes:
    signature = crypto.sign(KEYS[signer][0], LABEL, manifest)
    size = len(manifest) if length is None else length
    return b"M" + struct.pack(">I", size) + manifest + signature


def member_record(index: int, data: bytes, size: int | None = None) -> bytes:
    return b"R" + struct.pack(">IQ", index, len(data) if size is None else size) + data


def end_record(count: int, total: int) -> bytes:
    return b"E" + struct.pack(">IQ", count, total)


def container(manifest: dict[str, Any], members: list[tuple[str, bytes]], **kw: Any) -> bytes:
    body = MAGIC + manifest_record(canonical(manifest), kw.get("signer", "sender"))
    for index, (_, data) in enumerate(members):
        body += member_record(index, data)
    return body + end_record(len(members), sum(len(d) for _, d in members))


# --- the contents -------------------------------------------------------------------------


def statements() -> list[bytes]:
    old_seed, old_secret = KEYS["sender-old"]
    new_seed, new_secret = KEYS["sender"]
    rotation = identity.make_rotation(
        old_seed,
        crypto.encryption_public_key(old_secret),
        new_seed,
        crypto.encryption_public_key(new_secret),
        ROTATION_TIME,
    )
    revocation = identity.make_revocation(
        old_seed,
        crypto.encryption_public_key(old_secret),
        REVOCATION_TIME,
        "rotated to a new key (test vector)",
    )
    return [rotation.to_text(), revocation.to_text()]


def log_name() -> str:
    return "securesubmit/vault/" + sha256(crypto.signing_public_key(LOG_SEED))[:8].hex()


def log_leaves(size: int) -> list[bytes]:
    return [merkle.leaf_hash(b"TEST-ONLY event %d" % i) for i in range(size)]


def audit_slot(size: int, old_size: int | None) -> dict[str, Any]:
    leaves = log_leaves(size)
    body = note.format_checkpoint_body(
        note.Checkpoint(log_name(), size, merkle.root_from_leaves(leaves))
    )
    signed = note.sign_checkpoint(body, log_name(), LOG_SEED)
    return {
        "checkpoint": signed.decode("utf-8"),
        "verifier_key": note.verifier_key(log_name(), crypto.signing_public_key(LOG_SEED)),
        "consistency": None
        if old_size is None
        else {
            "old_size": old_size,
            "proof": b64(merkle.encode_proof(merkle.consistency_proof(old_size, size, leaves))),
        },
    }


def valid_inputs() -> dict[str, dict[str, Any]]:
    """The three valid bundles, as inputs to manifest_object; a chain 1 → 2 → 3."""
    empty: dict[str, Any] = {
        "bundle_id": "0123456789abcdef0123456789abcdef",
        "created": "2026-11-23T10:00:00Z",
        "sequence": 1,
        "previous_hash": ZERO,
        "members": [],
    }
    empty_hash = sha256(container(manifest_object(**empty), []))
    one: dict[str, Any] = {
        "bundle_id": "fedcba9876543210fedcba9876543210",
        "created": "2026-11-24T11:30:00Z",
        "sequence": 2,
        "previous_hash": empty_hash,
        "members": MEMBERS_ONE,
        "audit": audit_slot(3, None),
    }
    one_hash = sha256(container(manifest_object(**one), MEMBERS_ONE))
    full: dict[str, Any] = {
        "bundle_id": "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5",
        "created": "2026-11-25T08:15:00Z",
        "sequence": 3,
        "previous_hash": one_hash,
        "members": MEMBERS_FULL,
        "statements": statements(),
        "audit": audit_slot(5, 3),
    }
    return {"empty": empty, "one-member": one, "full": full}


def expected_parse(name: str, inputs: dict[str, Any], data: bytes) -> dict[str, Any]:
    audit = inputs.get("audit")
    return {
        "name": name,
        "file": f"{name}.bin",
        "valid": True,
        "bundle_hash_hex": sha256(data).hex(),
        "bundle_id": inputs["bundle_id"],
        "created": inputs["created"],
        "sequence": inputs["sequence"],
        "previous_hash_hex": inputs["previous_hash"].hex(),
        "sender_fingerprint_hex": public("sender").fingerprint.hex(),
        "recipient_fingerprint_hex": public("recipient").fingerprint.hex(),
        "members": [
            {"report_id": rid, "size": len(d), "sha256_hex": sha256(d).hex()}
            for rid, d in inputs["members"]
        ],
        "statement_kinds": [
            s.split(b" ", 1)[0].decode() for s in inputs.get("statements", [])
        ],
        "checkpoint_size": None if audit is None else int(audit["checkpoint"].split("\n")[1]),
        "consistency_old_size": None
        if audit is None or audit["consistency"] is None
        else audit["consistency"]["old_size"],
    }


# --- invalid containers ------------------------------------------------------------------


def invalid() -> list[tuple[str, bytes, str, str]]:
    """(name, container, error class, a fragment of the message)."""
    inputs = valid_inputs()
    full_in = inputs["full"]
    full_obj = manifest_object(**full_in)
    members = MEMBERS_FULL
    good = container(full_obj, members)
    head = MAGIC + manifest_record(canonical(full_obj))
    records = [member_record(i, d) for i, (_, d) in enumerate(members)]
    end = end_record(len(members), sum(len(d) for _, d in members))
    out: list[tuple[str, bytes, str, str]] = []

    def add(name: str, data: bytes, error: str, fragment: str) -> None:
        out.append((name, data, error, fragment))

    def with_manifest(obj: dict[str, Any], signer: str = "sender") -> bytes:
        return MAGIC + manifest_record(canonical(obj), signer) + b"".join(records) + end

    def raw_manifest(raw: bytes) -> bytes:
        return MAGIC + manifest_record(raw) + b"".join(records) + end

    add("empty-container", b"", "FormatError", "is empty")
    add("bad-magic", b"securesubmit-bundle v9\n" + good[len(MAGIC) :], "FormatError",
        "format version")
    add("not-a-bundle", b"PK\x03\x04" + good[4:], "FormatError", "not a SecureSubmit bundle")
    add("truncated-in-member", good[: len(head) + 20], "FormatError", "cut short")
    add("missing-end-record", head + b"".join(records), "FormatError", "after 3 of its 3")
    add("trailing-data", good + b"\x00", "FormatError", "extra data after its end record")
    add("oversized-manifest", MAGIC + b"M" + struct.pack(">I", 1024 * 1024 + 1) + b"{",
        "FormatError", "more than the limit")
    add("zero-length-manifest", MAGIC + b"M" + struct.pack(">I", 0), "FormatError",
        "manifest is empty")
    add("forged-signature", with_manifest(full_obj, signer="other"), "BadSignature",
        "signature does not verify")
    add("unknown-sender", with_manifest(manifest_object(**full_in, sender="other"), "other"),
        "UnknownSender", "unknown sender " + public("other").display())
    add("other-recipient", with_manifest(manifest_object(**full_in, recipient="other")),
        "WrongRecipient", "made for another recipient")
    add("member-size-mismatch",
        head + member_record(0, members[0][1] + b"!", len(members[0][1]) + 1)
        + b"".join(records[1:]) + end, "FormatError", "but its manifest says")
    altered = bytearray(members[0][1])
    altered[5] ^= 1
    add("member-hash-mismatch", head + member_record(0, bytes(altered)) + b"".join(records[1:])
        + end, "VerificationError", "does not match its SHA-256")
    add("duplicate-member-index", head + records[0] + member_record(0, members[1][1])
        + records[2] + end, "FormatError", "carries the index 0")
    add("extra-member", head + b"".join(records) + member_record(3, b"x") + end, "FormatError",
        "more reports than")
    add("end-record-mismatch", head + b"".join(records) + end_record(3, 1), "FormatError",
        "end record does not match")
    add("early-end-record", head + records[0] + end, "FormatError", "ends after 1 of the 3")
    text = canonical(full_obj)
    add("non-canonical-spaces", raw_manifest(text.replace(b'":', b'": ', 1)), "FormatError",
        "canonical form")
    add("non-canonical-escape", raw_manifest(text.replace(b'"format"', b'"\\u0066ormat"')),
        "FormatError", "canonical form")
    add("duplicate-key", raw_manifest(b'{"format":"a",' + text[1:]), "FormatError",
        "appears twice")
    add("unknown-field", with_manifest({**full_obj, "comment": "hi"}), "FormatError",
        "unknown field 'comment'")
    add("missing-field", with_manifest({k: v for k, v in full_obj.items() if k != "audit"}),
        "FormatError", "no field 'audit'")
    add("float-size", raw_manifest(text.replace(b',256,', b',256.0,', 1)), "FormatError",
        "fractional")
    add("first-bundle-with-previous-hash",
        with_manifest(manifest_object(**{**full_in, "sequence": 1})), "FormatError",
        "all-zero previous bundle hash")
    add("path-in-report-id",
        with_manifest(manifest_object(**{**full_in, "members": [("../x", members[0][1])]})),
        "FormatError", "the id of report 0")
    add("absolute-report-id",
        with_manifest(manifest_object(**{**full_in, "members": [("/etc/x", members[0][1])]})),
        "FormatError", "the id of report 0")
    bad_statement = statements()[0].replace(b"08:00:00Z", b"08:00:01Z")
    add("altered-statement",
        with_manifest(manifest_object(**{**full_in, "statements": [bad_statement]})),
        "BadSignature", "key statement 0")
    add("sender-fingerprint-mismatch",
        with_manifest({**full_obj, "sender": {**full_obj["sender"],
                                              "fingerprint": b64(public("other").fingerprint)}}),
        "FormatError", "fingerprint does not match")
    return out


# --- writing -------------------------------------------------------------------------------


def build() -> tuple[dict[str, bytes], dict[str, Any]]:
    files: dict[str, bytes] = {}
    vectors: list[dict[str, Any]] = []
    for name, inputs in valid_inputs().items():
        data = container(manifest_object(**inputs), inputs["members"])
        files[f"{name}.bin"] = data
        vectors.append(expected_parse(name, inputs, data))
    for name, data, error, fragment in invalid():
        files[f"invalid/{name}.bin"] = data
        vectors.append(
            {"name": name, "file": f"invalid/{name}.bin", "valid": False, "error": error,
             "message_contains": fragment}
        )
    keys = {}
    for name, (seed, secret) in KEYS.items():
        keys[name] = {
            "signing_seed_hex": seed.hex(),
            "x25519_secret_hex": secret.hex(),
            "age_identity": crypto.age_identity(secret),
            "age_recipient": crypto.age_recipient(crypto.encryption_public_key(secret)),
            "fingerprint_hex": public(name).fingerprint.hex(),
        }
    document = {
        "WARNING": "TEST ONLY. Every secret key here is public. Never use one for real data.",
        "spec": "docs/spec/bundle.md",
        "keys": keys,
        "log_key_seed_hex": LOG_SEED.hex(),
        "how_to_use": (
            "Encrypt a .bin file to the 'recipient' key with any age implementation and open "
            "it as a bundle: the sender lookup knows only the 'sender' key; 'valid' vectors "
            "must parse as described, the others must be refused with the named error."
        ),
        "vectors": vectors,
    }
    return files, document


def main() -> int:
    files, document = build()
    (HERE / "invalid").mkdir(exist_ok=True)
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    (HERE / "vectors.json").write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(files)} containers and vectors.json to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
