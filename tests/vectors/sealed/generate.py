"""Write the sealed-report test vectors of docs/spec/sealed-report.md.

    /tmp/venv/bin/python tests/vectors/sealed/generate.py          # containers, manifest
    /tmp/venv/bin/python tests/vectors/sealed/generate.py --age    # also a new report.age

Every key here is TEST-ONLY: the secret halves are published in vectors.json.

A container is deterministic (canonical JSON, Ed25519), so build() gives the same bytes
on every run and tests/unit/test_seal.py checks that it does. The age layer is
randomized, so ``report.age`` (the valid report, sealed to A and B) is written once and
only replaced on request; the test opens it and compares its plaintext with
``report.container``.

The containers are assembled here from the specification, independently of
securesubmit/core/seal.py (json.dumps, struct-free byte concatenation and the signed
statement written out with f-strings); only Ed25519 comes from core/crypto.py. The test
checks that seal_report produces exactly the same valid containers. Invalid containers
are signed correctly wherever a signature can be made, so that the rule named by the
file is what refuses them; the expected error of each is written by hand below, never
computed by the code under test.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from securesubmit.core import crypto, identity, seal

HERE = Path(__file__).resolve().parent

# TEST-ONLY secret keys: A is the reporter, B the partner, C a third party.
KEYS = {
    "A": (b"\x01" * 32, b"\x02" * 32),
    "B": (b"\x03" * 32, b"\x04" * 32),
    "C": (b"\x05" * 32, b"\x06" * 32),
}

MAGIC = b"securesubmit-sealed v1\n"
LABEL = b"securesubmit/v1/sealed-report\x00"
REPORT_ID = "5e1ec7ed0a9e4c3b8d2f6a7b9c0d1e2f"
CREATED = "2026-11-23T10:00:00Z"
SEALED = "2026-11-23T12:30:00Z"

REPORT = {
    "category": "media",
    "country": "KZ",
    "description": (
        "Независимый новостной сайт недоступен с утра; провайдеры ссылаются на "
        "«технические работы». Test vector, not a real incident."
    ),
    "incident_date": "2026-11-20",
    "language": "ru",
    "people": [{"name": "Редакция (test)", "organisation": True, "role": "", "sensitive": False}],
    "place": "Алматы",
    "tags": ["blocking", "test-vector"],
    "title": "Новостной сайт заблокирован (test vector)",
}


def _pattern(label: bytes, size: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(label + counter.to_bytes(8, "big")).digest()
        counter += 1
    return out[:size]


NOTE = "Заметка: скриншоты сделаны в 09:40 по местному времени.\n".encode()
PHOTO = b"\xff\xd8\xff\xe0" + _pattern(b"test-only photo", 380) + b"\xff\xd9"
PHOTO_ORIGINAL_SHA256 = hashlib.sha256(b"test-only original photo with its EXIF").digest()

ATTACHMENTS: list[tuple[dict[str, Any], bytes]] = [
    (
        {
            "media_type": "text/plain",
            "name": "empty.txt",
            "original_sha256": None,
            "scrubbed": [],
        },
        b"",
    ),
    (
        {
            "media_type": "text/plain",
            "name": "заметка.txt",
            "original_sha256": None,
            "scrubbed": [],
        },
        NOTE,
    ),
    (
        {
            "media_type": "image/jpeg",
            "name": "screenshot 1.jpg",
            "original_sha256": PHOTO_ORIGINAL_SHA256.hex(),
            "scrubbed": ["EXIF GPSLatitude", "EXIF GPSLongitude", "EXIF Make", "EXIF Model", "XMP"],
        },
        PHOTO,
    ),
]


def _public(name: str) -> tuple[bytes, bytes]:
    seed, secret = KEYS[name]
    return crypto.signing_public_key(seed), crypto.encryption_public_key(secret)


def _fp(name: str) -> bytes:
    return identity.fingerprint(*_public(name))


def _key_json(name: str) -> dict[str, str]:
    seed, secret = KEYS[name]
    sign_pub, enc_pub = _public(name)
    return {
        "signing_seed_hex": seed.hex(),
        "x25519_secret_hex": secret.hex(),
        "age_identity": crypto.age_identity(secret),
        "signing_public_hex": sign_pub.hex(),
        "encryption_public_hex": enc_pub.hex(),
        "age_recipient": crypto.age_recipient(enc_pub),
        "fingerprint_hex": _fp(name).hex(),
    }


def canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def statement(
    sender: bytes, recipients: list[bytes], report_id: str, created: str, sealed: str, digest: bytes
) -> bytes:
    lines = ["securesubmit-sealed-report v1", f"sender: {sender.hex()}"]
    lines += [f"recipient: {r.hex()}" for r in sorted(recipients)]
    lines += [
        f"report-id: {report_id}",
        f"created: {created}",
        f"sealed: {sealed}",
        f"payload-sha256: {digest.hex()}",
    ]
    return ("\n".join(lines) + "\n").encode("ascii")


def header_dict(
    readers: tuple[str, ...] = ("A", "B"),
    attachments: list[tuple[dict[str, Any], bytes]] | None = None,
    report: dict[str, Any] | None = None,
) -> dict[str, Any]:
    sign_pub, enc_pub = _public("A")
    items = ATTACHMENTS if attachments is None else attachments
    return {
        "attachments": [
            {**meta, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
            for meta, content in items
        ],
        "created": CREATED,
        "recipients": sorted(_fp(r).hex() for r in readers),
        "report": REPORT if report is None else report,
        "report_id": REPORT_ID,
        "sealed": SEALED,
        "sender": {
            "encryption_public": enc_pub.hex(),
            "fingerprint": _fp("A").hex(),
            "signing_public": sign_pub.hex(),
        },
    }


@dataclass
class Container:
    """The parts of a container; ``bytes()`` assembles and signs it as the spec says."""

    header: dict[str, Any] = field(default_factory=header_dict)
    contents: list[bytes] = field(default_factory=lambda: [c for _, c in ATTACHMENTS])
    raw_header: bytes | None = None  # written instead of canonical(header)
    magic: bytes = MAGIC
    length: int | None = None  # written instead of len(header bytes)
    signer: str = "A"
    signed_recipients: list[bytes] | None = None  # the statement's, if not the header's
    signature: bytes | None = None  # written instead of the real one

    def payload(self) -> bytes:
        raw = canonical(self.header) if self.raw_header is None else self.raw_header
        length = len(raw) if self.length is None else self.length
        return self.magic + length.to_bytes(4, "big") + raw + b"".join(self.contents)

    def statement(self) -> bytes:
        recipients = self.signed_recipients
        if recipients is None:
            recipients = [bytes.fromhex(r) for r in self.header["recipients"]]
        return statement(
            _fp("A"),
            recipients,
            REPORT_ID,
            CREATED,
            SEALED,
            hashlib.sha256(self.payload()).digest(),
        )

    def __bytes__(self) -> bytes:
        signature = self.signature
        if signature is None:
            signature = crypto.sign(KEYS[self.signer][0], "sealed-report", self.statement())
        return self.payload() + signature


def _edited(edit: Any, **kwargs: Any) -> bytes:
    """A valid container whose header dict is changed by ``edit`` and signed again."""
    container = Container(**kwargs)
    container.header = copy.deepcopy(container.header)
    edit(container.header)
    return bytes(container)


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def edit(header: dict[str, Any]) -> None:
        target = header
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


def _deep(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = [value]
    return value


# (file name) -> (container bytes, error class, fragment of the message, why)
Invalid = dict[str, tuple[bytes, str, str, str]]


def _invalid(valid: bytes) -> Invalid:
    good = Container()
    raw = canonical(good.header)
    header_end = len(MAGIC) + 4 + len(raw)
    photo_start = header_end + len(NOTE)
    out: Invalid = {}

    def add(name: str, data: bytes, error: str, message: str, why: str) -> None:
        out[name] = (data, error, message, why)

    # framing
    add(
        "not-sealed.container",
        b"hello, this is a text file\n",
        "FormatError",
        "not a SecureSubmit sealed report",
        "no magic line",
    )
    add(
        "other-version.container",
        bytes(Container(magic=b"securesubmit-sealed v3\n")),
        "FormatError",
        "another version of the format",
        "magic line of version 3",
    )
    add("empty.container", b"", "FormatError", "is empty", "no bytes at all")
    add(
        "truncated-magic.container",
        MAGIC[:10],
        "FormatError",
        "truncated",
        "ends inside the magic line",
    )
    add(
        "truncated-header.container",
        valid[: len(MAGIC) + 4 + 100],
        "FormatError",
        "truncated",
        "ends inside the header",
    )
    add(
        "truncated-attachment.container",
        valid[: photo_start + 10],
        "FormatError",
        "truncated",
        "ends inside attachment 3",
    )
    add(
        "truncated-signature.container",
        valid[:-1],
        "FormatError",
        "truncated",
        "the last byte of the signature is missing",
    )
    add(
        "trailing-byte.container",
        valid + b"\x00",
        "FormatError",
        "data after its signature",
        "one byte after the signature",
    )
    add(
        "header-length-zero.container",
        MAGIC + bytes(4) + raw,
        "FormatError",
        "header is empty",
        "header length 0",
    )
    add(
        "header-length-too-large.container",
        MAGIC + (1024 * 1024 + 1).to_bytes(4, "big") + raw,
        "FormatError",
        "larger than 1024 KiB",
        "header length 1 MiB + 1, refused before it is read",
    )
    add(
        "header-length-short.container",
        bytes(Container(length=len(raw) - 1)),
        "FormatError",
        "not valid JSON",
        "header length one byte short of the JSON",
    )

    # canonical JSON
    add(
        "header-not-utf8.container",
        bytes(Container(raw_header=raw.replace(b"empty.txt", b"empty\xff.txt"))),
        "FormatError",
        "not valid UTF-8",
        "a name holds the byte 0xff",
    )
    add(
        "header-bom.container",
        bytes(Container(raw_header=b"\xef\xbb\xbf" + raw)),
        "FormatError",
        "not valid JSON",
        "a UTF-8 byte-order mark before the JSON",
    )
    add(
        "header-duplicate-key.container",
        bytes(Container(raw_header=raw[:-1] + b',"sealed":"' + SEALED.encode() + b'"}')),
        "FormatError",
        "repeats the key 'sealed'",
        "the key 'sealed' twice",
    )
    add(
        "header-whitespace.container",
        bytes(
            Container(
                raw_header=json.dumps(
                    good.header, sort_keys=True, ensure_ascii=False, separators=(", ", ": ")
                ).encode()
            )
        ),
        "FormatError",
        "canonical form",
        "a space after each separator",
    )
    add(
        "header-unsorted-keys.container",
        bytes(
            Container(
                raw_header=json.dumps(
                    dict(reversed(good.header.items())), ensure_ascii=False, separators=(",", ":")
                ).encode()
            )
        ),
        "FormatError",
        "canonical form",
        "keys in reverse order",
    )
    add(
        "header-ascii-escapes.container",
        bytes(
            Container(
                raw_header=json.dumps(
                    good.header, sort_keys=True, ensure_ascii=True, separators=(",", ":")
                ).encode()
            )
        ),
        "FormatError",
        "canonical form",
        "Cyrillic written as \\u escapes",
    )
    add(
        "header-escaped-letter.container",
        bytes(Container(raw_header=raw.replace(b'"empty.txt"', b'"\\u0065mpty.txt"'))),
        "FormatError",
        "canonical form",
        "the letter e written as \\u0065",
    )
    add(
        "header-float.container",
        _edited(_set(("report", "rating"), 1.5)),
        "FormatError",
        "fraction or an exponent",
        "a number 1.5 in the report",
    )
    add(
        "header-float-integral.container",
        bytes(
            Container(raw_header=raw.replace(b'"category":"media"', b'"category":"media","n":1.0'))
        ),
        "FormatError",
        "fraction or an exponent",
        "the number 1.0",
    )
    add(
        "header-big-integer.container",
        _edited(_set(("report", "n"), 2**53)),
        "FormatError",
        "too large",
        "the integer 2^53",
    )
    add(
        "header-nan.container",
        bytes(
            Container(raw_header=raw.replace(b'"category":"media"', b'"category":"media","n":NaN'))
        ),
        "FormatError",
        "NaN or Infinity",
        "NaN",
    )
    add(
        "header-lone-surrogate.container",
        bytes(
            Container(raw_header=raw.replace(b'"category":"media"', b'"category":"media\\ud800"'))
        ),
        "FormatError",
        "invalid \\u escape",
        "a lone surrogate \\ud800",
    )
    add(
        "header-too-deep.container",
        _edited(_set(("report", "deep"), _deep(15))),
        "FormatError",
        "nested more than 16 levels",
        "17 levels of nesting",
    )
    add(
        "header-array.container",
        bytes(Container(raw_header=b"[]")),
        "FormatError",
        "not a JSON object",
        "the header is a JSON array",
    )

    # header keys and values
    add(
        "header-unknown-key.container",
        _edited(_set(("version",), 1)),
        "FormatError",
        "unknown key 'version'",
        "an extra key",
    )
    add(
        "header-missing-key.container",
        _edited(lambda h: h.pop("sealed")),
        "FormatError",
        "lacks the key 'sealed'",
        "no 'sealed' key",
    )
    add(
        "report-id-uppercase.container",
        _edited(_set(("report_id",), "ABC")),
        "FormatError",
        "id is not",
        "upper-case report id",
    )
    add(
        "time-offset.container",
        _edited(_set(("created",), "2026-11-23T10:00:00+00:00")),
        "FormatError",
        "not a time of the form",
        "a time with an offset",
    )
    add(
        "time-not-real.container",
        _edited(_set(("sealed",), "2026-02-30T10:00:00Z")),
        "FormatError",
        "not a real date",
        "30 February",
    )
    add(
        "sealed-before-created.container",
        _edited(_set(("sealed",), "2026-11-23T09:59:59Z")),
        "FormatError",
        "sealed before it was created",
        "sealed one second before created",
    )
    add(
        "sender-unknown-key.container",
        _edited(_set(("sender", "name"), "A")),
        "FormatError",
        "unknown key 'name'",
        "an extra key in sender",
    )
    add(
        "sender-fingerprint-mismatch.container",
        _edited(_set(("sender", "fingerprint"), _fp("B").hex())),
        "FormatError",
        "does not match its keys",
        "the sender's fingerprint is B's",
    )
    add(
        "sender-small-order-key.container",
        _edited(_set(("sender", "signing_public"), (1).to_bytes(32, "little").hex())),
        "WeakKey",
        "small-order",
        "the sender's signing key is the identity point",
    )
    add(
        "sender-uppercase-hex.container",
        _edited(_set(("sender", "fingerprint"), _fp("A").hex().upper())),
        "FormatError",
        "64 lower-case hex digits",
        "upper-case hex",
    )
    add(
        "recipients-empty.container",
        _edited(_set(("recipients",), [])),
        "FormatError",
        "1 to 64 fingerprints",
        "no recipient",
    )
    add(
        "recipients-unsorted.container",
        _edited(lambda h: h["recipients"].reverse()),
        "FormatError",
        "not sorted",
        "recipients in descending order",
    )
    add(
        "recipients-duplicate.container",
        _edited(_set(("recipients",), [_fp("B").hex(), _fp("B").hex()])),
        "FormatError",
        "listed twice",
        "B twice",
    )
    add(
        "report-not-object.container",
        _edited(_set(("report",), ["title"])),
        "FormatError",
        "fields are not a JSON object",
        "the report is a list",
    )
    for name, value, message in (
        ("slash", "../../.bashrc", "contains '/'"),
        ("backslash", "..\\evil.exe", "contains '\\'"),
        ("nul", "a\x00b", "control character U+0000"),
        ("newline", "a\nb", "control character U+000A"),
        ("bidi-override", "photo\u202egpj.exe", "control character U+202E"),
        ("dotdot", "..", "is '..'"),
        ("empty", "", "is empty"),
        ("too-long", "я" * 128, "longer than 255 bytes"),
    ):
        add(
            f"attachment-name-{name}.container",
            _edited(_set(("attachments", 1, "name"), value)),
            "FormatError",
            message,
            f"attachment 2 named {value!r}",
        )
    add(
        "attachment-unknown-key.container",
        _edited(_set(("attachments", 0, "path"), "/home/reporter/empty.txt")),
        "FormatError",
        "unknown key 'path'",
        "an extra key in an attachment",
    )
    add(
        "attachment-size-negative.container",
        _edited(_set(("attachments", 0, "size"), -1)),
        "FormatError",
        "size of attachment 1",
        "size -1",
    )
    add(
        "attachment-size-bool.container",
        _edited(_set(("attachments", 1, "size"), True)),
        "FormatError",
        "size of attachment 2",
        "size true",
    )
    add(
        "attachment-size-too-large.container",
        _edited(_set(("attachments", 0, "size"), 2**40 + 1)),
        "FormatError",
        "size of attachment 1",
        "size 2^40 + 1",
    )
    add(
        "attachment-media-type-uppercase.container",
        _edited(_set(("attachments", 2, "media_type"), "image/JPEG")),
        "FormatError",
        "media type of attachment 3",
        "image/JPEG",
    )
    add(
        "attachment-media-type-parameter.container",
        _edited(_set(("attachments", 1, "media_type"), "text/plain; charset=utf-8")),
        "FormatError",
        "media type of attachment 2",
        "a media type with a parameter",
    )
    add(
        "attachment-sha256-short.container",
        _edited(_set(("attachments", 1, "sha256"), "00" * 31)),
        "FormatError",
        "sha256 of attachment 2",
        "a 31-byte hash",
    )
    add(
        "attachment-scrubbed-control.container",
        _edited(_set(("attachments", 2, "scrubbed"), ["EXIF\x1b[31m"])),
        "FormatError",
        "scrubbed list of attachment 3",
        "an escape character in a scrubbed entry",
    )

    # signature and content
    forged = bytearray(valid)
    forged[-1] ^= 0x01
    add(
        "bad-signature.container",
        bytes(forged),
        "BadSignature",
        "signature does not verify",
        "one bit of the signature flipped",
    )
    add(
        "signed-by-other-key.container",
        bytes(Container(signer="C")),
        "BadSignature",
        "signature does not verify",
        "signed by C while the header names A",
    )
    add(
        "swapped-recipients.container",
        bytes(
            Container(
                header={**header_dict(), "recipients": sorted([_fp("A").hex(), _fp("C").hex()])},
                signed_recipients=[_fp("A"), _fp("B")],
            )
        ),
        "BadSignature",
        "signature does not verify",
        "header names A and C; the statement A signed names A and B (same payload hash)",
    )
    altered = bytearray(valid)
    altered[photo_start + 100] ^= 0x01
    add(
        "attachment-altered.container",
        bytes(altered),
        "AttachmentAltered",
        "attachment 3",
        "one bit of attachment 3 flipped (found before the signature is read)",
    )
    add(
        "attachment-hash-wrong-signed.container",
        _edited(_set(("attachments", 1, "sha256"), hashlib.sha256(b"other").hexdigest())),
        "AttachmentAltered",
        "attachment 2",
        "a correctly signed header with a wrong hash",
    )
    add(
        "attachment-size-larger-signed.container",
        _edited(_set(("attachments", 2, "size"), len(PHOTO) + 1)),
        "AttachmentAltered",
        "attachment 3",
        "size one byte larger than the content, correctly signed",
    )
    add(
        "attachment-size-smaller-signed.container",
        _edited(_set(("attachments", 2, "size"), len(PHOTO) - 1)),
        "AttachmentAltered",
        "attachment 3",
        "size one byte smaller than the content, correctly signed",
    )
    return out


def build() -> dict[str, bytes]:
    """Every reproducible vector file, by its path relative to this directory."""
    valid = bytes(Container())
    minimal_container = Container(
        header=header_dict(readers=("B",), attachments=[], report={"title": "minimal"}),
        contents=[],
    )
    minimal = bytes(minimal_container)
    files = {"report.container": valid, "minimal.container": minimal}
    manifest = {}
    for name, (data, error, message, why) in _invalid(valid).items():
        files[f"invalid/{name}"] = data
        manifest[name] = {"error": error, "message": message, "why": why}

    def expected(container: Container, data: bytes) -> dict[str, Any]:
        return {
            "result": "valid",
            "container_sha256": hashlib.sha256(data).hexdigest(),
            "container_size": len(data),
            "header_length": len(canonical(container.header)),
            "payload_sha256": hashlib.sha256(data[:-64]).hexdigest(),
            "signed_statement": container.statement().decode("ascii"),
            "signature_hex": data[-64:].hex(),
            "report_id": REPORT_ID,
            "created": CREATED,
            "sealed": SEALED,
            "sender": "A",
            "recipients": container.header["recipients"],
            "attachments": [
                {"name": a["name"], "size": a["size"], "sha256": a["sha256"]}
                for a in container.header["attachments"]
            ],
        }

    description = {
        "WARNING": (
            "TEST-ONLY KEYS. Their secret halves are published here; never use them for "
            "anything but tests."
        ),
        "keys": {name: _key_json(name) for name in KEYS},
        "valid": {
            "report.container": {
                **expected(Container(), valid),
                "opened_as": {"A": "valid", "B": "valid", "C": "ForwardedReport"},
            },
            "minimal.container": {
                **expected(minimal_container, minimal),
                "opened_as": {"A": "ForwardedReport", "B": "valid", "C": "ForwardedReport"},
            },
        },
        "sealed": {
            "file": "report.age",
            "plaintext": "report.container",
            "opens_with": ["A", "B"],
            "refuses": {"C": "DecryptionFailed"},
        },
        "invalid_opened_as": "B",
        "invalid": manifest,
    }
    files["vectors.json"] = (json.dumps(description, ensure_ascii=False, indent=2) + "\n").encode(
        "utf-8"
    )
    return files


def seal_inputs() -> dict[str, Any]:
    """The arguments with which seal_report makes report.container (keep-readable by A)."""
    seed_a, secret_a = KEYS["A"]

    def opener(content: bytes) -> Any:
        return lambda: io.BytesIO(content)

    return {
        "report": REPORT,
        "attachments": [
            seal.AttachmentSource(
                name=meta["name"],
                size=len(content),
                media_type=meta["media_type"],
                open=opener(content),
                original_sha256=(
                    None
                    if meta["original_sha256"] is None
                    else bytes.fromhex(meta["original_sha256"])
                ),
                scrubbed=meta["scrubbed"],
            )
            for meta, content in ATTACHMENTS
        ],
        "sender_seed": seed_a,
        "sender_encryption_public": crypto.encryption_public_key(secret_a),
        "recipients": [identity.PublicKeys(*_public("B"))],
        "report_id": REPORT_ID,
        "created": datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC),
        "sealed": datetime(2026, 11, 23, 12, 30, 0, tzinfo=UTC),
        "keep_readable": True,
    }


def main() -> int:
    files = build()
    for relative, content in files.items():
        path = HERE / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    age_path = HERE / "report.age"
    if "--age" in sys.argv[1:] or not age_path.exists():
        out = io.BytesIO()
        seal.seal_report(out, **seal_inputs())
        age_path.write_bytes(out.getvalue())
    print(f"wrote {len(files)} files to {HERE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
