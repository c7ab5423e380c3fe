"""Every C2SP/CCTV age test vector through the default, X25519-only opening path, and
the `age` CLI both ways.

The path here is ``agehdr.check_header`` with its default policy (the strict pre-check,
requiring an X25519 stanza: a refusal means no decryption runs), then
``agev1.decrypt_untrusted`` with the vector's X25519 identities into an ``io.BytesIO``
that is discarded on failure. (tests/interop/test_agev1_vectors.py runs the same vectors
through agev1 alone, post-quantum identities included.) Each vector states its expected
outcome (``expect``); where our policy deliberately differs, the vector is listed in
``POLICY`` with the outcome we assert instead and why. Nothing is skipped. Vectors:
tests/vectors/age (README, LICENSE).
"""

from __future__ import annotations

import base64
import collections
import enum
import hashlib
import io
import os
import shutil
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securesubmit.core import agehdr, agev1, crypto
from securesubmit.errors import DecryptionFailed, FormatError

VECTOR_DIR = Path(__file__).resolve().parents[1] / "vectors" / "age" / "testdata"
VECTOR_COUNT = 143


class Outcome(enum.Enum):
    OPENED = "opened, payload hash matches"
    REFUSED = "refused by the header pre-check (FormatError)"
    DECRYPT_FAILED = "DecryptionFailed from decryption"
    PQ_IDENTITY = "header accepted; the post-quantum identity is refused (FormatError)"


EXPECTED_BY_CLASS = {
    "success": Outcome.OPENED,
    "header failure": Outcome.REFUSED,
    "armor failure": Outcome.REFUSED,
    "no match": Outcome.DECRYPT_FAILED,
    "HMAC failure": Outcome.DECRYPT_FAILED,
    "payload failure": Outcome.DECRYPT_FAILED,
}

ARMOR = "ASCII-armored (PEM) files are refused: SecureSubmit only writes binary age files"
SCRYPT = "scrypt (passphrase) stanzas are refused: SecureSubmit never uses them"
NO_X25519 = (
    "no X25519 stanza, so not encrypted to a SecureSubmit key (pq-only or type not 'X25519')"
)
PQ = "this path parses X25519 identities only (test_agev1_vectors.py opens it with agev1)"

# Vectors whose outcome under our policy differs from their `expect`, with the reason and
# a fragment the refusal message must contain (so it is refused for *that* reason).
POLICY: dict[str, tuple[Outcome, str, str]] = {
    # expect: success
    "armor_crlf": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
    "armor_full_last_line": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
    "armor_hybrid": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
    "armor_no_eol": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
    "armor_scrypt": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
    "armor_whitespace_outside": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
    "armor_x25519": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
    "scrypt": (Outcome.REFUSED, SCRYPT, "passphrase (scrypt)"),
    "hybrid": (Outcome.REFUSED, NO_X25519, "no X25519 recipient stanza"),
    "hybrid_grease": (Outcome.REFUSED, NO_X25519, "no X25519 recipient stanza"),
    "hybrid_multiple_recipients": (Outcome.REFUSED, NO_X25519, "no X25519 recipient stanza"),
    "hybrid_and_x25519": (Outcome.PQ_IDENTITY, PQ, "not an age X25519 identity"),
    # expect: no match
    "armor_no_match": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
    "scrypt_bad_tag": (Outcome.REFUSED, SCRYPT, "passphrase (scrypt)"),
    "scrypt_no_match": (Outcome.REFUSED, SCRYPT, "passphrase (scrypt)"),
    "scrypt_work_factor_wrong": (Outcome.REFUSED, SCRYPT, "passphrase (scrypt)"),
    "scrypt_uppercase": (Outcome.REFUSED, NO_X25519, "no X25519 recipient stanza"),
    "x25519_lowercase": (Outcome.REFUSED, NO_X25519, "no X25519 recipient stanza"),
    "hybrid_bad_tag": (Outcome.REFUSED, NO_X25519, "no X25519 recipient stanza"),
    "hybrid_currupted_enc_mlkem": (Outcome.REFUSED, NO_X25519, "no X25519 recipient stanza"),
    "hybrid_currupted_enc_x25519": (Outcome.REFUSED, NO_X25519, "no X25519 recipient stanza"),
    "hybrid_no_match": (Outcome.REFUSED, NO_X25519, "no X25519 recipient stanza"),
    "hybrid_uppercase": (Outcome.REFUSED, NO_X25519, "no X25519 recipient stanza"),
    # expect: payload failure
    "armor_garbage_encoded": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
}

# What the whole run must add up to: (expect, our outcome) -> number of vectors. The same
# table is in docs/spec/age-header-check.md.
SUMMARY = {
    ("success", Outcome.OPENED): 14,
    ("success", Outcome.REFUSED): 11,
    ("success", Outcome.PQ_IDENTITY): 1,
    ("header failure", Outcome.REFUSED): 62,
    ("armor failure", Outcome.REFUSED): 22,
    ("no match", Outcome.DECRYPT_FAILED): 2,
    ("no match", Outcome.REFUSED): 11,
    ("HMAC failure", Outcome.DECRYPT_FAILED): 1,
    ("payload failure", Outcome.DECRYPT_FAILED): 18,
    ("payload failure", Outcome.REFUSED): 1,
}

KNOWN_KEYS = {
    "expect",
    "payload",
    "identity",
    "passphrase",
    "armored",
    "compressed",
    "file key",
    "comment",
}


@dataclass(frozen=True)
class Vector:
    name: str
    expect: str
    payload: str | None
    identities: tuple[str, ...]
    armored: bool
    data: bytes

    @property
    def outcome(self) -> Outcome:
        if self.name in POLICY:
            return POLICY[self.name][0]
        return EXPECTED_BY_CLASS[self.expect]


def load(path: Path) -> Vector:
    head, _, body = path.read_bytes().partition(b"\n\n")
    fields: dict[str, list[str]] = collections.defaultdict(list)
    for line in head.decode("utf-8").splitlines():
        key, sep, value = line.partition(": ")
        assert sep and key in KNOWN_KEYS, f"{path.name}: unknown header line {line!r}"
        fields[key].append(value)
    if fields.get("compressed") == ["zlib"]:
        body = zlib.decompress(body)
    else:
        assert "compressed" not in fields
    return Vector(
        name=path.name,
        expect=fields["expect"][0],
        payload=fields["payload"][0] if "payload" in fields else None,
        identities=tuple(fields["identity"]),
        armored=fields.get("armored") == ["yes"],
        data=body,
    )


VECTORS = [load(p) for p in sorted(VECTOR_DIR.iterdir())]


def open_vector(vector: Vector) -> tuple[Outcome, str, bytes]:
    """Our opening path; returns the outcome, the error message and the released output."""
    stream = io.BytesIO(vector.data)
    try:
        agehdr.check_header(stream)
    except FormatError as error:
        assert stream.tell() == 0
        return Outcome.REFUSED, str(error), b""
    assert stream.tell() == 0
    try:
        secrets = [crypto.parse_age_identity(i) for i in vector.identities]
    except FormatError as error:
        return Outcome.PQ_IDENTITY, str(error), b""
    out = io.BytesIO()
    try:
        agev1.decrypt_untrusted(stream, out, secrets)
    except DecryptionFailed as error:
        return Outcome.DECRYPT_FAILED, str(error), out.getvalue()
    return Outcome.OPENED, "", out.getvalue()


def test_all_vectors_are_here_and_classified() -> None:
    assert len(VECTORS) == VECTOR_COUNT
    assert {v.expect for v in VECTORS} == set(EXPECTED_BY_CLASS)
    names = {v.name for v in VECTORS}
    assert set(POLICY) <= names
    # A policy entry must really differ from the vector's own expectation.
    for vector in VECTORS:
        if vector.name in POLICY:
            assert POLICY[vector.name][0] != EXPECTED_BY_CLASS[vector.expect], vector.name
    counts = collections.Counter((v.expect, v.outcome) for v in VECTORS)
    assert counts == SUMMARY


@pytest.mark.parametrize("vector", VECTORS, ids=[v.name for v in VECTORS])
def test_vector(vector: Vector) -> None:
    outcome, message, released = open_vector(vector)
    assert outcome == vector.outcome, message
    if vector.name in POLICY:
        assert POLICY[vector.name][2] in message
    if outcome is Outcome.OPENED or (
        outcome is Outcome.DECRYPT_FAILED and vector.expect == "payload failure"
    ):
        # A payload failure must release exactly the chunks that authenticated.
        assert vector.payload is not None
        assert hashlib.sha256(released).hexdigest() == vector.payload
    else:
        assert released == b""
    if outcome is Outcome.REFUSED:
        assert message.startswith(("the age header ", "the age file ", "the file "))


def test_the_pq_identity_vector_passes_the_pre_check_as_specified() -> None:
    (vector,) = [v for v in VECTORS if v.name == "hybrid_and_x25519"]
    header = agehdr.check_header_bytes(vector.data)
    assert [s.type for s in header.stanzas] == ["X25519", "mlkem768x25519"]
    assert all(i.startswith("AGE-SECRET-KEY-PQ-1") for i in vector.identities)




# --- the untrusted path leaves the caller's own I/O errors alone --------------------


class FailingWriter(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        raise OSError(28, "No space left on device")


class FailingReader(io.RawIOBase):
    def __init__(self, data: bytes, fail_after: int) -> None:
        super().__init__()
        self._data, self._fail_after, self._pos = data, fail_after, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._pos >= self._fail_after:
            raise OSError(5, "Input/output error")
        out = self._data[self._pos : min(self._pos + size, self._fail_after)]
        self._pos += len(out)
        return out


def _vector(name: str) -> Vector:
    (vector,) = [v for v in VECTORS if v.name == name]
    return vector


def test_a_full_disk_is_not_reported_as_a_forgery() -> None:
    vector = _vector("stream_two_chunks")
    secrets = [crypto.parse_age_identity(i) for i in vector.identities]
    with pytest.raises(OSError, match="No space left") as caught:
        agev1.decrypt_untrusted(io.BytesIO(vector.data), FailingWriter(), secrets)
    assert not isinstance(caught.value, DecryptionFailed)


def test_a_read_error_is_not_reported_as_a_forgery() -> None:
    vector = _vector("stream_two_chunks")
    assert len(vector.data) > agehdr.READ_LIMIT + 1000
    secrets = [crypto.parse_age_identity(i) for i in vector.identities]
    source = FailingReader(vector.data, fail_after=agehdr.READ_LIMIT + 1000)
    with pytest.raises(OSError, match="Input/output error"):
        agev1.decrypt_untrusted(source, io.BytesIO(), secrets)


# --- differential: whatever the pre-check accepts, pyrage can parse ----------------------

SEED_NAMES = ["x25519", "x25519_grease", "stanza_valid_characters", "x25519_multiple_recipients"]
PYRAGE_PARSE_ERRORS = (
    "Unknown age format",
    "Header is invalid",
    "Incomplete header",
    "failed to fill",
)


BASE64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def same_class(byte: int) -> frozenset[int]:
    """Bytes that can stand where ``byte`` stands: base64 for base64, VCHAR for VCHAR."""
    if byte in BASE64:
        return BASE64
    return frozenset(range(0x21, 0x7F)) if 0x21 <= byte < 0x7F else frozenset({byte})


@st.composite
def mutated_vector(draw: st.DrawFn) -> tuple[bytes, tuple[str, ...]]:
    vector = _vector(draw(st.sampled_from(SEED_NAMES)))
    data = bytearray(vector.data)
    end = data.find(b"\n---") + 1
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, end + 50))
        byte = draw(st.sampled_from(list(b" \n-=>A/+\x00\x7f")) | st.integers(0, 255))
        kind = draw(st.sampled_from(["replace", "insert", "delete", "same class"]))
        if kind == "replace" and pos < len(data):
            data[pos] = byte
        elif kind == "same class" and pos < len(data):
            data[pos] = draw(st.sampled_from(sorted(same_class(data[pos]))))
        elif kind == "insert":
            data[pos:pos] = bytes([byte])
        else:
            del data[pos : pos + draw(st.integers(1, 50))]
    return bytes(data), vector.identities


@settings(max_examples=300, deadline=None)
@given(mutated_vector())
def test_the_pre_check_is_never_more_lenient_than_pyrage(
    case: tuple[bytes, tuple[str, ...]],
) -> None:
    import pyrage  # a test dependency only: an independent parser to compare with

    data, identities = case
    try:
        agehdr.check_header_bytes(data)
    except FormatError:
        return
    try:
        pyrage.decrypt(data, [pyrage.x25519.Identity.from_str(i) for i in identities])
    except (pyrage.DecryptError, OSError) as error:
        assert not str(error).startswith(PYRAGE_PARSE_ERRORS), str(error)


# --- the age command-line tool ------------------------------------------------------


@pytest.fixture
def age_cli() -> str:
    path = shutil.which("age")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("the age command-line tool is required in CI (apt-get install age)")
        pytest.skip("the age command-line tool is not installed")
    return path


def _keypair() -> tuple[bytes, str]:
    secret = crypto.generate_encryption_key()
    return secret, crypto.age_recipient(crypto.encryption_public_key(secret))


PLAINTEXT = os.urandom(200_000)  # four STREAM chunks


@pytest.mark.interop
def test_a_file_from_the_age_cli_opens_on_our_path(age_cli: str, tmp_path: Path) -> None:
    secret, recipient = _keypair()
    _, other = _keypair()
    sealed = tmp_path / "report.age"
    subprocess.run(
        [age_cli, "-r", other, "-r", recipient, "-o", str(sealed)], input=PLAINTEXT, check=True
    )
    with sealed.open("rb") as source:
        header = agehdr.check_header(source)
        assert [s.type for s in header.stanzas] == ["X25519", "X25519"]
        out = io.BytesIO()
        agev1.decrypt_untrusted(source, out, [secret])
    assert out.getvalue() == PLAINTEXT


@pytest.mark.interop
def test_a_file_we_write_passes_the_pre_check_and_opens_with_the_age_cli(
    age_cli: str, tmp_path: Path
) -> None:
    secret, _ = _keypair()
    sealed = tmp_path / "report.age"
    with sealed.open("wb") as destination:
        agev1.encrypt_stream(
            io.BytesIO(PLAINTEXT),
            destination,
            [agev1.X25519Recipient(crypto.encryption_public_key(secret))],
        )
    with sealed.open("rb") as source:
        agehdr.check_header(source)
    identity = tmp_path / "key.txt"
    identity.write_text(crypto.age_identity(secret) + "\n")
    identity.chmod(0o600)
    result = subprocess.run(
        [age_cli, "-d", "-i", str(identity), str(sealed)], capture_output=True, check=True
    )
    assert result.stdout == PLAINTEXT


@pytest.mark.interop
def test_an_armored_file_from_the_age_cli_is_refused(age_cli: str, tmp_path: Path) -> None:
    secret, recipient = _keypair()
    result = subprocess.run(
        [age_cli, "-a", "-r", recipient], input=b"report", capture_output=True, check=True
    )
    assert result.stdout.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----")
    with pytest.raises(FormatError, match="ASCII-armored"):
        agev1.decrypt_untrusted(io.BytesIO(result.stdout), io.BytesIO(), [secret])
    # The same bytes de-armored open fine: the refusal is about the encoding only.
    lines = result.stdout.decode().strip().splitlines()
    binary = base64.b64decode("".join(lines[1:-1]))
    out = io.BytesIO()
    agev1.decrypt_untrusted(io.BytesIO(binary), out, [secret])
    assert out.getvalue() == b"report"
