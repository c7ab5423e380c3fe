"""Write the identity-card test vectors of docs/spec/identity-card.md.

    /tmp/venv/bin/python tests/vectors/identity/generate.py

Every key here is TEST-ONLY: the secret halves are published in vectors.json.
Ed25519 signatures are deterministic, so running this again gives the same bytes;
tests/unit/test_identity_card.py checks that it does. ML-DSA-65 signatures are not
(the library signs in FIPS 204's hedged mode): an ML-DSA signature already on disk is
reused when it verifies over the message being signed, and a fresh one is made only
when the message changed. The vector files hold signatures that verify, not bytes that
can be regenerated.

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
from securesubmit.errors import BadSignature

HERE = Path(__file__).resolve().parent

# TEST-ONLY secret keys.
KEYS = {
    "A": (b"\x01" * 32, b"\x02" * 32),
    "B": (b"\x03" * 32, b"\x04" * 32),
    "C": (b"\x05" * 32, b"\x06" * 32),
}
# TEST-ONLY hybrid key sets: (Ed25519 seed, X25519 secret, ML-DSA-65 seed,
# MLKEM768-X25519 seed).
HYBRID_KEYS = {
    "H": (b"\x09" * 32, b"\x0a" * 32, b"\x0b" * 32, b"\x0c" * 32),
    "J": (b"\x0d" * 32, b"\x0e" * 32, b"\x0f" * 32, b"\x10" * 32),
}
ROTATION_V1_TO_V2_TIME = "2027-03-01T08:30:00Z"

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
            _signed_card(fields, version="securesubmit-card v3"),
            "card",
            "FormatError",
            "unsupported version 'v3'",
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
            _signed_revocation(_revocation_fields(), "A", version="securesubmit-revocation v3"),
            "statement",
            "FormatError",
            "the revocation statement has the unsupported version 'v3'",
        ),
        "card-given-as-statement.txt": (
            card,
            "statement",
            "FormatError",
            "this is an identity card, not a statement",
        ),
    }
    return vectors


# --- version 2 (hybrid) ---------------------------------------------------------------------

_KNOWN_MLDSA: list[bytes] | None = None


def _known_mldsa_signatures() -> list[bytes]:
    """Every ML-DSA-65 signature in the vector files on disk (see the module docstring)."""
    global _KNOWN_MLDSA
    if _KNOWN_MLDSA is None:
        _KNOWN_MLDSA = []
        for path in sorted(HERE.rglob("*.txt")):
            for line in path.read_bytes().split(b"\n"):
                key, _, value = line.partition(b": ")
                if key.endswith(b"mldsa-signature"):
                    try:
                        signature = base64.b64decode(value, validate=True)
                    except ValueError:
                        continue
                    if len(signature) == crypto.MLDSA_SIGNATURE_SIZE:
                        _KNOWN_MLDSA.append(signature)
    return _KNOWN_MLDSA


def _mldsa_sign(seed: bytes, label: str, body: bytes) -> bytes:
    public = crypto.mldsa_public_key(seed)
    for signature in _known_mldsa_signatures():
        try:
            crypto.mldsa_verify(public, label, body, signature)
        except BadSignature:
            continue
        return signature
    signature = crypto.mldsa_sign(seed, label, body)
    _known_mldsa_signatures().append(signature)
    return signature


def _hybrid_public(name: str) -> tuple[bytes, bytes, bytes, bytes]:
    ed_seed, x_secret, mldsa_seed, pq_seed = HYBRID_KEYS[name]
    return (
        crypto.signing_public_key(ed_seed),
        crypto.encryption_public_key(x_secret),
        crypto.mldsa_public_key(mldsa_seed),
        crypto.hybrid_public_key(pq_seed),
    )


def _hybrid_keys(name: str) -> identity.PublicKeys:
    return identity.PublicKeys(*_hybrid_public(name))


def _hybrid_key_json(name: str) -> dict[str, str]:
    ed_seed, x_secret, mldsa_seed, pq_seed = HYBRID_KEYS[name]
    keys = _hybrid_keys(name)
    classical_fp = identity.fingerprint(keys.signing_public, keys.encryption_public)
    assert keys.mldsa_public is not None and keys.pq_public is not None
    return {
        "signing_seed_hex": ed_seed.hex(),
        "x25519_secret_hex": x_secret.hex(),
        "mldsa_seed_hex": mldsa_seed.hex(),
        "pq_seed_hex": pq_seed.hex(),
        "pq_age_identity": bech32.encode("age-secret-key-pq-", pq_seed).upper(),
        "signing_public_hex": keys.signing_public.hex(),
        "encryption_public_hex": keys.encryption_public.hex(),
        "age_recipient": keys.age_recipient,
        "mldsa_public_sha256": crypto.sha256(keys.mldsa_public).hex(),
        "pq_public_sha256": crypto.sha256(keys.pq_public).hex(),
        "fingerprint_hex": keys.fingerprint.hex(),
        "fingerprint_display": keys.display(),
        "short_id": identity.short_id(keys.fingerprint),
        "classical_part_fingerprint_display": identity.format_fingerprint(classical_fp),
    }


def _card_v2_fields(name: str = "H", require_hybrid: str = "yes") -> list[tuple[str, str]]:
    sign_pub, enc_pub, mldsa_pub, pq_pub = _hybrid_public(name)
    return [
        ("name", NAME),
        ("organisation", ORGANISATION),
        ("role", ROLE),
        ("age-recipient", crypto.age_recipient(enc_pub)),
        ("pq-age-recipient", crypto.hybrid_age_recipient(pq_pub)),
        ("signing-key", _b64(sign_pub)),
        ("mldsa-signing-key", _b64(mldsa_pub)),
        ("require-hybrid", require_hybrid),
        ("created", "2026-11-23T10:00:00Z"),
        ("expires", "2028-11-23T00:00:00Z"),
    ]


def _signed_card_v2(
    fields: list[tuple[str, str]],
    ed_signer: str = "H",
    mldsa_signer: str = "H",
    version: str = identity.CARD_V2_VERSION_LINE,
) -> bytes:
    body = _lines(version, fields).encode("utf-8")
    label = identity.CARD_SIGNATURE_LABEL
    ed_sig = crypto.sign(HYBRID_KEYS[ed_signer][0], label, body)
    ml_sig = _mldsa_sign(HYBRID_KEYS[mldsa_signer][2], label, body)
    return body + f"signature: {_b64(ed_sig)}\nmldsa-signature: {_b64(ml_sig)}\n".encode()


def _v2_key_fields(prefix: str, keys: identity.PublicKeys) -> list[tuple[str, str]]:
    return [
        (prefix + "fingerprint", keys.display()),
        (prefix + "age-recipient", keys.age_recipient),
        (prefix + "pq-age-recipient", keys.pq_recipient or ""),
        (prefix + "signing-key", _b64(keys.signing_public)),
        (
            prefix + "mldsa-signing-key",
            "" if keys.mldsa_public is None else _b64(keys.mldsa_public),
        ),
    ]


def _classical_keys(name: str) -> identity.PublicKeys:
    return identity.PublicKeys(*_public(name))


def _rotation_v2_fields(
    old: identity.PublicKeys, new: identity.PublicKeys, time: str = "2027-12-01T08:30:00Z"
) -> list[tuple[str, str]]:
    return [*_v2_key_fields("old-", old), *_v2_key_fields("new-", new), ("time", time)]


def _seeds(name: str) -> tuple[bytes, bytes | None]:
    """(Ed25519 seed, ML-DSA seed or None) of a classical or hybrid test key set."""
    if name in KEYS:
        return KEYS[name][0], None
    return HYBRID_KEYS[name][0], HYBRID_KEYS[name][2]


def _signed_rotation_v2(
    fields: list[tuple[str, str]],
    old_signer: str,
    new_signer: str,
    *,
    old_mldsa_signer: str | None = None,
    new_mldsa_signer: str | None = None,
) -> bytes:
    """A version 2 rotation; each key set signs with its keys (an ML-DSA signer may be
    named to sign in its place, or "" for no ML-DSA signature)."""
    body = _lines(identity.ROTATION_V2_VERSION_LINE, fields).encode("utf-8")
    label = identity.STATEMENT_SIGNATURE_LABEL
    lines = []
    for prefix, signer, mldsa_signer in (
        ("old-", old_signer, old_mldsa_signer),
        ("new-", new_signer, new_mldsa_signer),
    ):
        ed_seed, mldsa_seed = _seeds(signer)
        if mldsa_signer is not None:
            mldsa_seed = _seeds(mldsa_signer)[1] if mldsa_signer else None
        lines.append(f"{prefix}signature: {_b64(crypto.sign(ed_seed, label, body))}")
        mldsa = "" if mldsa_seed is None else _b64(_mldsa_sign(mldsa_seed, label, body))
        lines.append(f"{prefix}mldsa-signature: {mldsa}" if mldsa else f"{prefix}mldsa-signature:")
    return body + ("\n".join(lines) + "\n").encode()


def _revocation_v2_fields(keys: identity.PublicKeys) -> list[tuple[str, str]]:
    return [
        *_v2_key_fields("", keys),
        ("time", "2027-12-01T09:00:00Z"),
        ("reason", REVOCATION_REASON),
    ]


def _signed_revocation_v2(
    fields: list[tuple[str, str]], signer: str = "H", mldsa_signer: str = "H"
) -> bytes:
    body = _lines(identity.REVOCATION_V2_VERSION_LINE, fields).encode("utf-8")
    label = identity.STATEMENT_SIGNATURE_LABEL
    ed_sig = crypto.sign(HYBRID_KEYS[signer][0], label, body)
    ml_sig = _mldsa_sign(HYBRID_KEYS[mldsa_signer][2], label, body)
    return body + f"signature: {_b64(ed_sig)}\nmldsa-signature: {_b64(ml_sig)}\n".encode()


def _flip_in_value(text: bytes, field: bytes, index: int) -> bytes:
    """``text`` with one byte of the base64-decoded value of ``field`` changed, re-encoded."""
    start = text.index(b"\n" + field + b": ") + len(field) + 3
    end = text.index(b"\n", start)
    raw = bytearray(base64.b64decode(text[start:end]))
    raw[index] ^= 0x01
    return text[:start] + base64.b64encode(bytes(raw)) + text[end:]


def _drop_line(text: bytes, field: bytes) -> bytes:
    start = text.index(b"\n" + field + b":") + 1
    return text[:start] + text[text.index(b"\n", start) + 1 :]


def _invalid_v2(
    card_v2: bytes, rotation_v1_to_v2: bytes, rotation_v2: bytes, revocation_v2: bytes
) -> dict[str, tuple[bytes, str, str, str]]:
    """The refusals of version 2 (docs/spec/identity-card.md §8.4)."""
    fields = _card_v2_fields()
    h, j = _hybrid_keys("H"), _hybrid_keys("J")
    mldsa_b64 = dict(fields)["mldsa-signing-key"]
    pq_public = _hybrid_public("H")[3]
    bad_mlkem = bytearray(pq_public)
    bad_mlkem[0], bad_mlkem[1] = 0xFF, bad_mlkem[1] | 0x0F  # first coefficient 4095 ≥ q
    small_x25519 = pq_public[:1184] + bytes(32)
    classical_j = identity.format_fingerprint(
        identity.fingerprint(j.signing_public, j.encryption_public)
    )
    j_same_mldsa = identity.PublicKeys(
        j.signing_public, j.encryption_public, h.mldsa_public, j.pq_public
    )
    return {
        # signatures: both required, both checked
        "card-v2-mldsa-signature-stripped.txt": (
            card_v2[: card_v2.index(b"mldsa-signature: ")],
            "card",
            "FormatError",
            "the card ends before its 'mldsa-signature' line (line 13)",
        ),
        "card-v2-ed25519-signature-stripped.txt": (
            _drop_line(card_v2, b"signature"),
            "card",
            "FormatError",
            "line 12 of the card has the field 'mldsa-signature' where 'signature' belongs",
        ),
        "card-v2-mldsa-signature-empty.txt": (
            card_v2[: card_v2.index(b"mldsa-signature: ")] + b"mldsa-signature:\n",
            "card",
            "FormatError",
            "line 13 of the card has no value for 'mldsa-signature'",
        ),
        "card-v2-mldsa-signature-altered.txt": (
            _flip_in_value(card_v2, b"mldsa-signature", 100),
            "card",
            "BadSignature",
            "the card's mldsa-signature does not verify",
        ),
        "card-v2-mldsa-signature-by-another-key.txt": (
            _signed_card_v2(fields, mldsa_signer="J"),
            "card",
            "BadSignature",
            "the card's mldsa-signature does not verify",
        ),
        "card-v2-ed25519-signature-by-another-key.txt": (
            _signed_card_v2(fields, ed_signer="J"),
            "card",
            "BadSignature",
            "the card's signature does not verify",
        ),
        "card-v2-mldsa-key-replaced.txt": (
            _signed_card_v2(_replace(fields, "mldsa-signing-key", _b64(j.mldsa_public or b""))),
            "card",
            "BadSignature",
            "the card's mldsa-signature does not verify",
        ),
        "card-v2-altered-name.txt": (
            card_v2.replace(NAME.encode(), "Әйгерім Тестовa".encode()),
            "card",
            "BadSignature",
            "the card's signature does not verify",
        ),
        # keys
        "card-v2-mldsa-key-wrong-length.txt": (
            _signed_card_v2(
                _replace(fields, "mldsa-signing-key", _b64(base64.b64decode(mldsa_b64)[:-1]))
            ),
            "card",
            "FormatError",
            "the card's mldsa-signing-key is not the canonical padded base64 of 1952 bytes",
        ),
        "card-v2-mldsa-key-base64-non-canonical.txt": (
            # 1,952 bytes leave one character with four padding bits; set one of them.
            _signed_card_v2(
                _replace(
                    fields,
                    "mldsa-signing-key",
                    mldsa_b64[:-3] + chr(ord(mldsa_b64[-3]) + 1) + "==",
                )
            ),
            "card",
            "FormatError",
            "the card's mldsa-signing-key is not the canonical padded base64 of 1952 bytes",
        ),
        "card-v2-pq-recipient-bad-checksum.txt": (
            _signed_card_v2(
                _replace(
                    fields,
                    "pq-age-recipient",
                    dict(fields)["pq-age-recipient"][:-1]
                    + ("q" if dict(fields)["pq-age-recipient"][-1] != "q" else "p"),
                )
            ),
            "card",
            "FormatError",
            "the card's pq-age-recipient is not an age post-quantum recipient",
        ),
        "card-v2-pq-recipient-is-x25519.txt": (
            _signed_card_v2(_replace(fields, "pq-age-recipient", dict(fields)["age-recipient"])),
            "card",
            "FormatError",
            "the card's pq-age-recipient is not an age post-quantum recipient",
        ),
        "card-v2-pq-recipient-invalid-ml-kem-key.txt": (
            _signed_card_v2(
                _replace(fields, "pq-age-recipient", bech32.encode("age1pq", bytes(bad_mlkem)))
            ),
            "card",
            "WeakKey",
            "the card's pq-age-recipient is refused: the post-quantum encryption key is not a "
            "valid ML-KEM-768 key",
        ),
        "card-v2-pq-recipient-small-order-x25519.txt": (
            _signed_card_v2(
                _replace(fields, "pq-age-recipient", bech32.encode("age1pq", small_x25519))
            ),
            "card",
            "WeakKey",
            "the card's pq-age-recipient is refused: the encryption key is a small-order point",
        ),
        "card-v2-require-hybrid-not-yes-or-no.txt": (
            _signed_card_v2(_replace(fields, "require-hybrid", "true")),
            "card",
            "FormatError",
            "the card's require-hybrid is 'true'; it must be 'yes' or 'no'",
        ),
        # versions: a v2 card is not a v1 card, and the other way round
        "card-v2-under-v1-version-line.txt": (
            card_v2.replace(b"securesubmit-card v2\n", b"securesubmit-card v1\n", 1),
            "card",
            "FormatError",
            "the card is larger than 4096 bytes",  # the size limit of v1 comes first
        ),
        "card-v1-under-v2-version-line.txt": (
            _signed_card(_card_fields(), version=identity.CARD_V2_VERSION_LINE),
            "card",
            "FormatError",
            "line 6 of the card has the field 'signing-key' where 'pq-age-recipient' belongs",
        ),
        "card-v2-oversized.txt": (
            card_v2 + b"x" * (identity.MAX_CARD_V2_BYTES + 1 - len(card_v2)),
            "card",
            "FormatError",
            "the card is larger than 10240 bytes",
        ),
        # rotations
        "rotation-v2-old-mldsa-signature-stripped.txt": (
            _signed_rotation_v2(_rotation_v2_fields(h, j), "H", "J", old_mldsa_signer=""),
            "statement",
            "FormatError",
            "the rotation statement's old key set has post-quantum keys but no ML-DSA-65 "
            "signature",
        ),
        "rotation-v2-old-mldsa-signature-altered.txt": (
            _flip_in_value(rotation_v2, b"old-mldsa-signature", 7),
            "statement",
            "BadSignature",
            "the rotation statement's old-mldsa-signature does not verify",
        ),
        "rotation-v2-new-mldsa-signature-by-another-key.txt": (
            _signed_rotation_v2(_rotation_v2_fields(h, j), "H", "J", new_mldsa_signer="H"),
            "statement",
            "BadSignature",
            "the rotation statement's new-mldsa-signature does not verify",
        ),
        "rotation-v2-new-signature-by-another-key.txt": (
            _signed_rotation_v2(_rotation_v2_fields(h, j), "H", "H", new_mldsa_signer="J"),
            "statement",
            "BadSignature",
            "the rotation statement's new-signature does not verify",
        ),
        "rotation-v1-to-v2-mldsa-signature-without-mldsa-key.txt": (
            _signed_rotation_v2(
                _rotation_v2_fields(_classical_keys("A"), h, ROTATION_V1_TO_V2_TIME),
                "A",
                "H",
                old_mldsa_signer="J",
            ),
            "statement",
            "FormatError",
            "the rotation statement's old key set has an ML-DSA-65 signature but no ML-DSA-65 "
            "key",
        ),
        "rotation-v2-old-pq-recipient-without-mldsa-key.txt": (
            _signed_rotation_v2(
                _replace(_rotation_v2_fields(h, j), "old-mldsa-signing-key", ""),
                "H",
                "J",
            ),
            "statement",
            "FormatError",
            "the rotation statement's old-mldsa-signing-key and the rotation statement's "
            "old-pq-age-recipient must both be present or both be empty",
        ),
        "rotation-v2-to-classical-keys.txt": (
            _signed_rotation_v2(_rotation_v2_fields(h, _classical_keys("B")), "H", "B"),
            "statement",
            "FormatError",
            "line 9 of the rotation statement has no value for 'new-pq-age-recipient'",
        ),
        "rotation-v2-classical-fingerprint-for-hybrid-keys.txt": (
            _signed_rotation_v2(
                _replace(_rotation_v2_fields(h, j), "new-fingerprint", classical_j), "H", "J"
            ),
            "statement",
            "FormatError",
            "the rotation statement's new-fingerprint does not match the keys beside it",
        ),
        "rotation-v2-keeps-the-mldsa-key.txt": (
            _signed_rotation_v2(
                _rotation_v2_fields(h, j_same_mldsa), "H", "J", new_mldsa_signer="H"
            ),
            "statement",
            "FormatError",
            "the rotation statement does not replace the ML-DSA-65 key",
        ),
        "rotation-v1-to-v2-new-mldsa-signature-stripped.txt": (
            rotation_v1_to_v2[: rotation_v1_to_v2.index(b"new-mldsa-signature: ")],
            "statement",
            "FormatError",
            "the rotation statement ends before its 'new-mldsa-signature' line (line 16)",
        ),
        "rotation-v2-oversized.txt": (
            rotation_v2 + b"x" * (identity.MAX_ROTATION_V2_BYTES + 1 - len(rotation_v2)),
            "statement",
            "FormatError",
            "the rotation statement is larger than 20480 bytes",
        ),
        # revocations
        "revocation-v2-mldsa-signature-stripped.txt": (
            revocation_v2[: revocation_v2.index(b"mldsa-signature: ")],
            "statement",
            "FormatError",
            "the revocation statement ends before its 'mldsa-signature' line (line 10)",
        ),
        "revocation-v2-mldsa-signature-by-another-key.txt": (
            _signed_revocation_v2(_revocation_v2_fields(h), mldsa_signer="J"),
            "statement",
            "BadSignature",
            "the revocation statement's mldsa-signature does not verify",
        ),
        "revocation-v2-of-classical-keys.txt": (
            _signed_revocation_v2(_revocation_v2_fields(_classical_keys("A"))),
            "statement",
            "FormatError",
            "line 4 of the revocation statement has no value for 'pq-age-recipient'",
        ),
    }


def _downgrades() -> dict[str, tuple[bytes, str]]:
    """Well-formed, correctly signed documents that a reader still refuses when it holds
    the hybrid fingerprint of key set H (§8.4): file name -> (content, what refuses it)."""
    h = _hybrid_keys("H")
    seed_h = HYBRID_KEYS["H"][0]
    card_v1 = identity.make_card(
        seed_h, h.encryption_public, NAME, ORGANISATION, ROLE, CREATED, EXPIRES
    )
    rotation_v1 = identity.make_rotation(
        seed_h,
        h.encryption_public,
        KEYS["B"][0],
        crypto.encryption_public_key(KEYS["B"][1]),
        ROTATION_TIME,
    )
    return {
        "card-v1-of-hybrid-keys.txt": (
            card_v1.to_text(),
            "check_fingerprint with H's fingerprint: FingerprintMismatch",
        ),
        "rotation-v1-from-hybrid-keys.txt": (
            rotation_v1.to_text(),
            "follow_rotations from card-v2.txt: BrokenRotationChain",
        ),
    }


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
    h, j = _hybrid_keys("H"), _hybrid_keys("J")
    card_v2 = _signed_card_v2(_card_v2_fields())
    rotation_v1_to_v2 = _signed_rotation_v2(
        _rotation_v2_fields(_classical_keys("A"), h, ROTATION_V1_TO_V2_TIME), "A", "H"
    )
    rotation_v2 = _signed_rotation_v2(_rotation_v2_fields(h, j), "H", "J")
    revocation_v2 = _signed_revocation_v2(_revocation_v2_fields(h))
    # The version 2 examples are what the reader accepts, and what make_* write but for
    # the (randomised) ML-DSA signatures.
    for text in (card_v2, rotation_v1_to_v2, rotation_v2, revocation_v2):
        parsed = (identity.parse_card if text is card_v2 else identity.parse_statement)(text)
        assert parsed.to_text() == text
    files = {
        "card.txt": card.to_text(),
        "rotation.txt": rotation.to_text(),
        "revocation.txt": revocation.to_text(),
        "card-v2.txt": card_v2,
        "rotation-v1-to-v2.txt": rotation_v1_to_v2,
        "rotation-v2.txt": rotation_v2,
        "revocation-v2.txt": revocation_v2,
    }
    manifest = {}
    invalid = _invalid(card.to_text(), rotation.to_text())
    invalid.update(_invalid_v2(card_v2, rotation_v1_to_v2, rotation_v2, revocation_v2))
    for file_name, (content, parser, error, message) in invalid.items():
        files[f"invalid/{file_name}"] = content
        manifest[file_name] = {"parser": parser, "error": error, "message": message}
    downgrades = {}
    for file_name, (content, refused_by) in _downgrades().items():
        files[f"downgrade/{file_name}"] = content
        downgrades[file_name] = refused_by
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
        "hybrid_keys": {name: _hybrid_key_json(name) for name in HYBRID_KEYS},
        "card_v2": {
            "file": "card-v2.txt",
            "keys": "H",
            "require_hybrid": True,
            "fingerprint_display": h.display(),
            "signed_text_bytes": card_v2.index(b"signature: "),
            "bytes": len(card_v2),
        },
        "rotation_v1_to_v2": {
            "file": "rotation-v1-to-v2.txt",
            "old": "A",
            "new": "H",
            "time": ROTATION_V1_TO_V2_TIME,
            "bytes": len(rotation_v1_to_v2),
        },
        "rotation_v2": {
            "file": "rotation-v2.txt",
            "old": "H",
            "new": "J",
            "time": "2027-12-01T08:30:00Z",
            "bytes": len(rotation_v2),
        },
        "revocation_v2": {
            "file": "revocation-v2.txt",
            "keys": "H",
            "time": "2027-12-01T09:00:00Z",
            "reason": REVOCATION_REASON,
            "bytes": len(revocation_v2),
        },
        "invalid": manifest,
        "downgrade": downgrades,
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
    built = set(build())
    for folder in ("invalid", "downgrade"):
        for path in (HERE / folder).iterdir():
            if f"{folder}/{path.name}" not in built:
                path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
