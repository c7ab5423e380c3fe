"""Write the identity-card test vectors of docs/spec/identity-card.md.

    /tmp/venv/bin/python tests/vectors/identity/generate.py

Every key here is TEST-ONLY: the secret halves are published in vectors.json.
Ed25519 signatures are deterministic, so running this again gives the same bytes;
tests/unit/test_identity_card.py checks that it does.

Invalid vectors are signed correctly wherever a signature can be made, so that the
rule named by the file is what refuses them, not the signature. Those with a weak
signing key carry the signature of key A instead (no secret key exists for them; the
key check comes before the signature check).
"""

from __future__ import annotations

import base64
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from securesubmit.core import bech32, crypto, identity

HERE = Path(__file__).resolve().parent

# TEST-ONLY secret keys.
KEYS = {
    "A": (b"\x01" * 32, b"\x02" * 32),
    "B": (b"\x03" * 32, b"\x04" * 32),
    "C": (b"\x05" * 32, b"\x06" * 32),
}

NAME = "Әйгерім Тестова"
ORGANISATION = "Test-Only Media Collective"
ROLE = "reporter"
CREATED = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
EXPIRES = datetime(2028, 11, 23, 0, 0, 0, tzinfo=UTC)
ROTATION_TIME = datetime(2027, 6, 1, 8, 30, 0, tzinfo=UTC)
REVOCATION_TIME = datetime(2027, 6, 1, 9, 0, 0, tzinfo=UTC)
REVOCATION_REASON = "replaced after the laptop was lost (test vector)"

_P = 2**255 - 19


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _public(name: str) -> tuple[bytes, bytes]:
    seed, secret = KEYS[name]
    return crypto.signing_public_key(seed), crypto.encryption_public_key(secret)


def _key_json(name: str) -> dict[str, str]:
    seed, secret = KEYS[name]
    sign_pub, enc_pub = _public(name)
    fp = identity.fingerprint(sign_pub, enc_pub)
    return {
        "signing_seed_hex": seed.hex(),
        "x25519_secret_hex": secret.hex(),
        "age_identity": crypto.age_identity(secret),
        "signing_public_hex": sign_pub.hex(),
        "signing_public_base64": _b64(sign_pub),
        "encryption_public_hex": enc_pub.hex(),
        "age_recipient": crypto.age_recipient(enc_pub),
        "fingerprint_hex": fp.hex(),
        "fingerprint_display": identity.format_fingerprint(fp),
        "short_id": identity.short_id(fp),
    }


def _card_fields(name: str = "A") -> list[tuple[str, str]]:
    sign_pub, enc_pub = _public(name)
    return [
        ("name", NAME),
        ("organisation", ORGANISATION),
        ("role", ROLE),
        ("age-recipient", crypto.age_recipient(enc_pub)),
        ("signing-key", _b64(sign_pub)),
        ("created", "2026-11-23T10:00:00Z"),
        ("expires", "2028-11-23T00:00:00Z"),
    ]


def _lines(version: str, fields: list[tuple[str, str]]) -> str:
    out = [version]
    out += [f"{key}: {value}" if value else f"{key}:" for key, value in fields]
    return "\n".join(out) + "\n"


def _signed_card(fields: list[tuple[str, str]], signer: str = "A", version: str = "") -> bytes:
    body = _lines(version or identity.CARD_VERSION_LINE, fields).encode("utf-8")
    signature = crypto.sign(KEYS[signer][0], identity.CARD_SIGNATURE_LABEL, body)
    return body + f"signature: {_b64(signature)}\n".encode("ascii")


def _replace(fields: list[tuple[str, str]], key: str, value: str) -> list[tuple[str, str]]:
    return [(k, value if k == key else v) for k, v in fields]


def _with_signing_key(key: bytes) -> bytes:
    return _signed_card(_replace(_card_fields(), "signing-key", _b64(key)))


def _rotation_fields(
    old: str = "A", new: str = "B", old_fp_of: str | None = None
) -> list[tuple[str, str]]:
    (old_sign, old_enc), (new_sign, new_enc) = _public(old), _public(new)
    fp_sign, fp_enc = _public(old_fp_of or old)
    return [
        ("old-fingerprint", identity.format_fingerprint(identity.fingerprint(fp_sign, fp_enc))),
        ("old-age-recipient", crypto.age_recipient(old_enc)),
        ("old-signing-key", _b64(old_sign)),
        ("new-fingerprint", identity.format_fingerprint(identity.fingerprint(new_sign, new_enc))),
        ("new-age-recipient", crypto.age_recipient(new_enc)),
        ("new-signing-key", _b64(new_sign)),
        ("time", "2027-06-01T08:30:00Z"),
    ]


def _signed_rotation(fields: list[tuple[str, str]], old_signer: str, new_signer: str) -> bytes:
    body = _lines(identity.ROTATION_VERSION_LINE, fields).encode("utf-8")
    label = identity.STATEMENT_SIGNATURE_LABEL
    old_sig = crypto.sign(KEYS[old_signer][0], label, body)
    new_sig = crypto.sign(KEYS[new_signer][0], label, body)
    return body + f"old-signature: {_b64(old_sig)}\nnew-signature: {_b64(new_sig)}\n".encode()


def _revocation_fields(reason: str = REVOCATION_REASON) -> list[tuple[str, str]]:
    sign_pub, enc_pub = _public("A")
    return [
        ("fingerprint", identity.format_fingerprint(identity.fingerprint(sign_pub, enc_pub))),
        ("age-recipient", crypto.age_recipient(enc_pub)),
        ("signing-key", _b64(sign_pub)),
        ("time", "2027-06-01T09:00:00Z"),
        ("reason", reason),
    ]


def _signed_revocation(fields: list[tuple[str, str]], signer: str, version: str = "") -> bytes:
    body = _lines(version or identity.REVOCATION_VERSION_LINE, fields).encode("utf-8")
    signature = crypto.sign(KEYS[signer][0], identity.STATEMENT_SIGNATURE_LABEL, body)
    return body + f"signature: {_b64(signature)}\n".encode("ascii")


def _invalid(card: bytes, rotation: bytes) -> dict[str, tuple[bytes, str, str, str]]:
    """file name -> (content, parser, error class, a part of the expected message)."""
    fields = _card_fields()
    sig_line_start = card.rindex(b"signature: ")
    body = card[:sig_line_start]
    key_b64 = _b64(crypto.signing_public_key(KEYS["A"][0]))
    ed_order_8 = [
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    ]
    altered_reason = _signed_revocation(_revocation_fields(), "A").replace(
        b"laptop was lost", b"laptop was LOST"
    )
    vectors: dict[str, tuple[bytes, str, str, str]] = {
        # signatures
        "signature-altered-name.txt": (
            card.replace(NAME.encode(), "Әйгерім Тестовa".encode()),  # Latin 'a' at the end
            "card",
            "BadSignature",
            "the card's signature does not verify",
        ),
        "signature-by-another-key.txt": (
            _signed_card(fields, signer="C"),
            "card",
            "BadSignature",
            "the card's signature does not verify",
        ),
        "signature-wrong-length.txt": (
            body + f"signature: {_b64(bytes(63))}\n".encode(),
            "card",
            "FormatError",
            "the card's signature is not the canonical padded base64 of 64 bytes",
        ),
        # structure
        "crlf-line-endings.txt": (
            card.replace(b"\n", b"\r\n"),
            "card",
            "FormatError",
            "carriage returns",
        ),
        "oversized.txt": (
            card + b"x" * (4097 - len(card)),
            "card",
            "FormatError",
            "larger than 4096 bytes",
        ),
        "empty.txt": (b"", "card", "FormatError", "the card is empty"),
        "not-utf8.txt": (
            card.replace(b"Collective", b"Collectiv\xe9"),
            "card",
            "FormatError",
            "not valid UTF-8",
        ),
        "byte-order-mark.txt": (
            b"\xef\xbb\xbf" + card,
            "card",
            "FormatError",
            "this is not a SecureSubmit card",
        ),
        "wrong-version.txt": (
            _signed_card(fields, version="securesubmit-card v2"),
            "card",
            "FormatError",
            "unsupported version 'v2'",
        ),
        "rotation-statement-given-as-card.txt": (
            rotation,
            "card",
            "FormatError",
            "this is a rotation statement, not a card",
        ),
        "missing-final-line-break.txt": (
            card[:-1],
            "card",
            "FormatError",
            "does not end with a line break",
        ),
        "extra-line-after-signature.txt": (
            card + b"comment: hello\n",
            "card",
            "FormatError",
            "extra lines after its 'signature' line",
        ),
        "unknown-field.txt": (
            _signed_card([fields[0], ("nickname", "Ai"), *fields[1:]]),
            "card",
            "FormatError",
            "line 3 of the card has an unknown field 'nickname'",
        ),
        "duplicated-field.txt": (
            _signed_card([fields[0], fields[0], *fields[1:]]),
            "card",
            "FormatError",
            "line 3 of the card repeats the field 'name'",
        ),
        "reordered-fields.txt": (
            _signed_card([fields[0], fields[2], fields[1], *fields[3:]]),
            "card",
            "FormatError",
            "line 3 of the card has the field 'role' where 'organisation' belongs",
        ),
        "missing-field.txt": (
            _signed_card(fields[:-1]),
            "card",
            "FormatError",
            "line 8 of the card has the field 'signature' where 'expires' belongs",
        ),
        "truncated.txt": (
            card[: card.index(b"created:")],
            "card",
            "FormatError",
            "the card ends before its 'created' line (line 7)",
        ),
        "trailing-space.txt": (
            _signed_card(_replace(fields, "role", "reporter ")),
            "card",
            "FormatError",
            "line 4 of the card ends with a space",
        ),
        "two-spaces-after-colon.txt": (
            _signed_card(_replace(fields, "role", " reporter")),
            "card",
            "FormatError",
            "line 4 of the card must have exactly one space after 'role:'",
        ),
        "no-space-after-colon.txt": (
            card.replace(b"role: reporter", b"role:reporter"),
            "card",
            "FormatError",
            "line 4 of the card must have exactly one space after 'role:'",
        ),
        # values
        "empty-name.txt": (
            _signed_card(_replace(fields, "name", "")),
            "card",
            "FormatError",
            "line 2 of the card has no value for 'name'",
        ),
        "name-too-long.txt": (
            _signed_card(_replace(fields, "name", "Ә" * 101)),
            "card",
            "FormatError",
            "the card's name is longer than 100 characters",
        ),
        "name-with-bidi-override.txt": (
            _signed_card(_replace(fields, "name", "Әйгерім \u202eавотсеТ")),
            "card",
            "FormatError",
            "the card's name contains the invisible or control character U+202E",
        ),
        "name-with-nul.txt": (
            _signed_card(_replace(fields, "name", "Әйгерім\x00Тестова")),
            "card",
            "FormatError",
            "the card's name contains the invisible or control character U+0000",
        ),
        "name-not-nfc.txt": (
            _signed_card(_replace(fields, "name", "Иван Петрови\u0306")),  # и + combining breve
            "card",
            "FormatError",
            "the card's name is not in Unicode normal form C (NFC)",
        ),
        "unknown-role.txt": (
            _signed_card(_replace(fields, "role", "auditor")),
            "card",
            "FormatError",
            "the card's role is 'auditor'",
        ),
        "signing-key-all-zero.txt": (
            _with_signing_key(bytes(32)),
            "card",
            "WeakKey",
            "the card's signing-key is refused: the signing key is a small-order point",
        ),
        "signing-key-identity-point.txt": (
            _with_signing_key((1).to_bytes(32, "little")),
            "card",
            "WeakKey",
            "the signing key is a small-order point",
        ),
        "signing-key-order-2.txt": (
            _with_signing_key((_P - 1).to_bytes(32, "little")),
            "card",
            "WeakKey",
            "the signing key is a small-order point",
        ),
        "signing-key-order-8-a.txt": (
            _with_signing_key(bytes.fromhex(ed_order_8[0])),
            "card",
            "WeakKey",
            "the signing key is a small-order point",
        ),
        "signing-key-order-8-b.txt": (
            _with_signing_key(bytes.fromhex(ed_order_8[1])),
            "card",
            "WeakKey",
            "the signing key is a small-order point",
        ),
        "signing-key-non-canonical.txt": (
            _with_signing_key((_P + 2).to_bytes(32, "little")),
            "card",
            "WeakKey",
            "the signing key is not canonically encoded",
        ),
        "signing-key-base64-non-canonical.txt": (
            # The last character carries two padding bits; setting one keeps the same bytes.
            _signed_card(
                _replace(fields, "signing-key", key_b64[:-2] + chr(ord(key_b64[-2]) + 1) + "=")
            ),
            "card",
            "FormatError",
            "the card's signing-key is not the canonical padded base64 of 32 bytes",
        ),
        "signing-key-base64-unpadded.txt": (
            _signed_card(_replace(fields, "signing-key", key_b64.rstrip("="))),
            "card",
            "FormatError",
            "the card's signing-key is not the canonical padded base64 of 32 bytes",
        ),
        "age-recipient-small-order.txt": (
            _signed_card(_replace(fields, "age-recipient", crypto.age_recipient(bytes(32)))),
            "card",
            "WeakKey",
            "the card's age-recipient is refused: the encryption key is a small-order point",
        ),
        "age-recipient-not-x25519.txt": (
            _signed_card(
                _replace(fields, "age-recipient", bech32.encode("age1yubikey", b"\x02" * 33))
            ),
            "card",
            "FormatError",
            "the card's age-recipient is not an age X25519 recipient",
        ),
        "age-recipient-upper-case.txt": (
            _signed_card(_replace(fields, "age-recipient", dict(fields)["age-recipient"].upper())),
            "card",
            "FormatError",
            "the card's age-recipient is not an age X25519 recipient",
        ),
        "age-recipient-bad-checksum.txt": (
            _signed_card(
                _replace(fields, "age-recipient", dict(fields)["age-recipient"][:-1] + "q")
            ),
            "card",
            "FormatError",
            "the card's age-recipient is not an age X25519 recipient",
        ),
        "created-after-expires.txt": (
            _signed_card(_replace(fields, "created", "2028-11-24T00:00:00Z")),
            "card",
            "FormatError",
            "the card's expiry (2028-11-23T00:00:00Z) is not after its creation time "
            "(2028-11-24T00:00:00Z)",
        ),
        "created-equals-expires.txt": (
            _signed_card(_replace(fields, "created", "2028-11-23T00:00:00Z")),
            "card",
            "FormatError",
            "the card's expiry (2028-11-23T00:00:00Z) is not after its creation time",
        ),
        "lifetime-too-long.txt": (
            _signed_card(_replace(fields, "expires", "2036-11-23T00:00:00Z")),
            "card",
            "FormatError",
            "the card is valid for longer than the 1830 days allowed",
        ),
        "timestamp-with-offset.txt": (
            _signed_card(_replace(fields, "created", "2026-11-23T10:00:00+00:00")),
            "card",
            "FormatError",
            "the card's creation time is not a time of the form 2026-11-23T10:00:00Z (UTC)",
        ),
        "timestamp-fractional-seconds.txt": (
            _signed_card(_replace(fields, "created", "2026-11-23T10:00:00.5Z")),
            "card",
            "FormatError",
            "the card's creation time is not a time of the form",
        ),
        "timestamp-lower-case-z.txt": (
            _signed_card(_replace(fields, "expires", "2028-11-23T00:00:00z")),
            "card",
            "FormatError",
            "the card's expiry time is not a time of the form",
        ),
        "timestamp-impossible-date.txt": (
            _signed_card(_replace(fields, "created", "2026-02-30T10:00:00Z")),
            "card",
            "FormatError",
            "the card's creation time is not a real date and time",
        ),
        # statements
        "rotation-new-signature-by-another-key.txt": (
            _signed_rotation(_rotation_fields(), "A", "C"),
            "statement",
            "BadSignature",
            "the rotation statement's new-signature does not verify",
        ),
        "rotation-old-signature-by-another-key.txt": (
            _signed_rotation(_rotation_fields(), "C", "B"),
            "statement",
            "BadSignature",
            "the rotation statement's old-signature does not verify",
        ),
        "rotation-fingerprint-mismatch.txt": (
            _signed_rotation(_rotation_fields(old_fp_of="C"), "A", "B"),
            "statement",
            "FormatError",
            "the rotation statement's old-fingerprint does not match the keys beside it",
        ),
        "rotation-to-the-same-key.txt": (
            _signed_rotation(_rotation_fields(old="A", new="A"), "A", "A"),
            "statement",
            "FormatError",
            "the rotation statement does not replace the signing key",
        ),
        "revocation-signed-by-another-key.txt": (
            _signed_revocation(_revocation_fields(), "C"),
            "statement",
            "BadSignature",
            "the revocation statement's signature does not verify",
        ),
        "revocation-altered-reason.txt": (
            altered_reason,
            "statement",
            "BadSignature",
            "the revocation statement's signature does not verify",
        ),
        "revocation-wrong-version.txt": (
            _signed_revocation(_revocation_fields(), "A", version="securesubmit-revocation v2"),
            "statement",
            "FormatError",
            "the revocation statement has the unsupported version 'v2'",
        ),
        "card-given-as-statement.txt": (
            card,
            "statement",
            "FormatError",
            "this is an identity card, not a statement",
        ),
    }
    return vectors


def build() -> dict[str, bytes]:
    """Every vector file, by its path relative to this directory."""
    seed_a, secret_a = KEYS["A"]
    seed_b, secret_b = KEYS["B"]
    enc_a = crypto.encryption_public_key(secret_a)
    card = identity.make_card(seed_a, enc_a, NAME, ORGANISATION, ROLE, CREATED, EXPIRES)
    rotation = identity.make_rotation(
        seed_a, enc_a, seed_b, crypto.encryption_public_key(secret_b), ROTATION_TIME
    )
    revocation = identity.make_revocation(seed_a, enc_a, REVOCATION_TIME, REVOCATION_REASON)
    files = {
        "card.txt": card.to_text(),
        "rotation.txt": rotation.to_text(),
        "revocation.txt": revocation.to_text(),
    }
    manifest = {}
    for file_name, (content, parser, error, message) in _invalid(
        card.to_text(), rotation.to_text()
    ).items():
        files[f"invalid/{file_name}"] = content
        manifest[file_name] = {"parser": parser, "error": error, "message": message}
    description = {
        "WARNING": (
            "TEST-ONLY KEYS. Their secret halves are published here; never use them for "
            "anything but tests."
        ),
        "keys": {name: _key_json(name) for name in KEYS},
        "card": {
            "file": "card.txt",
            "keys": "A",
            "name": NAME,
            "organisation": ORGANISATION,
            "role": ROLE,
            "created": "2026-11-23T10:00:00Z",
            "expires": "2028-11-23T00:00:00Z",
            "fingerprint_display": identity.format_fingerprint(card.fingerprint),
            "signed_text_bytes": len(card.signed_text()),
        },
        "rotation": {
            "file": "rotation.txt",
            "old": "A",
            "new": "B",
            "time": "2027-06-01T08:30:00Z",
        },
        "revocation": {
            "file": "revocation.txt",
            "keys": "A",
            "time": "2027-06-01T09:00:00Z",
            "reason": REVOCATION_REASON,
        },
        "invalid": manifest,
    }
    files["vectors.json"] = (
        json.dumps(description, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    ).encode("utf-8")
    return files


def main() -> int:
    for relative, content in build().items():
        path = HERE / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    stale = {p.name for p in (HERE / "invalid").iterdir()} - {
        r.removeprefix("invalid/") for r in build() if r.startswith("invalid/")
    }
    for name in stale:
        (HERE / "invalid" / name).unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
