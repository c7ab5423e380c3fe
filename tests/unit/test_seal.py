"""Sealed reports (core/seal.py, docs/spec/sealed-report.md).

The vectors in tests/vectors/sealed/ are the spec's examples. Keys here are TEST-ONLY.
The sinks below are for tests only: production sinks write into the encrypted vault,
never into a plaintext file.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securesubmit.core import agev1, crypto, identity, seal
from securesubmit.core.identity import PublicKeys
from securesubmit.errors import (
    BadSignature,
    DecryptionFailed,
    FormatError,
    InputError,
    SecureSubmitError,
    WeakKey,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors" / "sealed"
SPEC = ROOT / "docs" / "spec" / "sealed-report.md"
DESCRIPTION = json.loads((VECTORS / "vectors.json").read_text(encoding="utf-8"))
ERRORS: dict[str, type[SecureSubmitError]] = {
    cls.__name__: cls
    for cls in (
        FormatError,
        BadSignature,
        WeakKey,
        DecryptionFailed,
        seal.AttachmentAltered,
        seal.ForwardedReport,
    )
}


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sealed_vectors", VECTORS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


GEN = _load_generator()


@dataclass(frozen=True)
class Party:
    seed: bytes
    secret: bytes

    @property
    def keys(self) -> PublicKeys:
        return PublicKeys(
            crypto.signing_public_key(self.seed), crypto.encryption_public_key(self.secret)
        )

    @property
    def fingerprint(self) -> bytes:
        return self.keys.fingerprint


A, B, C = (Party(*GEN.KEYS[name]) for name in "ABC")
CREATED = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
SEALED = datetime(2026, 11, 23, 12, 30, 0, tzinfo=UTC)
REPORT = {"title": "Журналист задержан (test)", "category": "media", "people": [{"name": "X"}]}


# --- test-only sinks ------------------------------------------------------------------


@dataclass
class MemorySink:
    """Keeps attachments in memory; records how it was ended."""

    parts: dict[int, bytearray] = field(default_factory=dict)
    chunk_sizes: list[int] = field(default_factory=list)
    committed: bool = False
    discarded: bool = False

    def write(self, index: int, chunk: bytes) -> None:
        assert not (self.committed or self.discarded), "write after the end"
        self.parts.setdefault(index, bytearray()).extend(chunk)
        self.chunk_sizes.append(len(chunk))

    def commit(self) -> None:
        assert not (self.committed or self.discarded)
        self.committed = True

    def discard(self) -> None:
        assert not self.committed
        self.parts.clear()
        self.discarded = True

    def content(self, index: int) -> bytes:
        return bytes(self.parts.get(index, b""))


class TempFileSink:
    """Writes each attachment to a file in ``directory``; deletes them all on discard."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._files: dict[int, BinaryIO] = {}
        self.committed = False
        self.discarded = False

    def path(self, index: int) -> Path:
        return self.directory / f"attachment-{index}.part"

    def write(self, index: int, chunk: bytes) -> None:
        if index not in self._files:
            self._files[index] = self.path(index).open("xb")
        self._files[index].write(chunk)

    def _close(self) -> None:
        for stream in self._files.values():
            stream.close()

    def commit(self) -> None:
        self._close()
        self.committed = True

    def discard(self) -> None:
        self._close()
        for index in self._files:
            self.path(index).unlink(missing_ok=True)
        self.discarded = True


class HashingSink:
    """Keeps only a hash and a count per attachment: for large reports."""

    def __init__(self) -> None:
        self.hashes: dict[int, Any] = {}
        self.sizes: dict[int, int] = {}
        self.committed = False
        self.discarded = False

    def write(self, index: int, chunk: bytes) -> None:
        self.hashes.setdefault(index, crypto.sha256_hasher()).update(chunk)
        self.sizes[index] = self.sizes.get(index, 0) + len(chunk)

    def commit(self) -> None:
        self.committed = True

    def discard(self) -> None:
        self.discarded = True


# --- helpers ----------------------------------------------------------------------------


def source(name: str, content: bytes, **kwargs: Any) -> seal.AttachmentSource:
    values: dict[str, Any] = {
        "name": name,
        "size": len(content),
        "media_type": "application/octet-stream",
        "open": lambda: io.BytesIO(content),
    }
    values.update(kwargs)
    return seal.AttachmentSource(**values)


def seal_bytes(
    attachments: list[seal.AttachmentSource] | None = None,
    *,
    to: tuple[Party, ...] = (B,),
    sender: Party = A,
    **kwargs: Any,
) -> tuple[bytes, seal.SealReceipt]:
    out = io.BytesIO()
    values: dict[str, Any] = {
        "report": REPORT,
        "attachments": attachments or [],
        "sender_seed": sender.seed,
        "sender_encryption_public": sender.keys.encryption_public,
        "recipients": [p.keys for p in to],
        "report_id": "r1",
        "created": CREATED,
        "sealed": SEALED,
    }
    values.update(kwargs)
    receipt = seal.seal_report(out, **values)
    return out.getvalue(), receipt


def open_bytes(
    data: bytes, reader: Party = B, sink: Any = None, **kwargs: Any
) -> seal.OpenedReport:
    return seal.open_sealed(
        io.BytesIO(data),
        identity_secrets=[reader.secret],
        my_fingerprint=reader.fingerprint,
        sink=sink if sink is not None else MemorySink(),
        known_senders=kwargs.pop("known_senders", None),
        **kwargs,
    )


def decrypt(data: bytes, reader: Party = B) -> bytes:
    out = io.BytesIO()
    agev1.decrypt_untrusted(io.BytesIO(data), out, [reader.secret])
    return out.getvalue()


def encrypt(container: bytes, *to: Party) -> bytes:
    out = io.BytesIO()
    agev1.encrypt_stream(io.BytesIO(container), out, seal.age_recipients(p.keys for p in to))
    return out.getvalue()


def verify(container: bytes, reader: Party = B, sink: Any = None) -> seal.OpenedReport:
    return seal.verify_container(
        io.BytesIO(container),
        my_fingerprint=reader.fingerprint,
        sink=sink if sink is not None else MemorySink(),
        known_senders=None,
    )


def header_of(container: bytes) -> tuple[dict[str, Any], int]:
    length = int.from_bytes(container[23:27], "big")
    return json.loads(container[27 : 27 + length]), 27 + length


def with_header(container: bytes, header: dict[str, Any]) -> bytes:
    """The container with another header and everything after the header unchanged."""
    _, end = header_of(container)
    raw = seal.canonical_json(header)
    return seal.MAGIC + len(raw).to_bytes(4, "big") + raw + container[end:]


SMALL = os.urandom(1000)
MULTI = os.urandom(2 * 1024 * 1024 + 70_001)  # several age chunks and several 1 MiB blocks


def three_attachments() -> list[seal.AttachmentSource]:
    return [
        source("empty.txt", b"", media_type="text/plain"),
        source(
            "фото 1.jpg",
            SMALL,
            media_type="image/jpeg",
            scrubbed=["EXIF GPSInfo"],
            original_sha256=crypto.sha256(b"original"),
        ),
        source("video.mp4", MULTI, media_type="video/mp4", sha256=crypto.sha256(MULTI)),
    ]


# --- round trip ---------------------------------------------------------------------------


def test_round_trip_with_an_empty_a_small_and_a_multi_chunk_attachment() -> None:
    progress: list[int] = []
    data, receipt = seal_bytes(three_attachments(), progress=progress.append)
    sink = MemorySink()
    opened = open_bytes(data, sink=sink)

    assert sink.committed and not sink.discarded
    assert sink.content(0) == b"" and 0 not in sink.parts
    assert sink.content(1) == SMALL
    assert sink.content(2) == MULTI
    assert opened.report == REPORT
    assert opened.report_id == "r1"
    assert (opened.created, opened.sealed) == (CREATED, SEALED)
    assert opened.sender == A.keys and opened.sender_fingerprint == A.fingerprint
    assert opened.recipients == (B.fingerprint,)
    assert [a.name for a in opened.attachments] == ["empty.txt", "фото 1.jpg", "video.mp4"]
    assert [a.size for a in opened.attachments] == [0, len(SMALL), len(MULTI)]
    assert opened.attachments[1].scrubbed == ("EXIF GPSInfo",)
    assert opened.attachments[1].original_sha256 == crypto.sha256(b"original")
    assert opened.attachments[2].sha256 == crypto.sha256(MULTI)

    assert receipt.attachments == opened.attachments
    assert receipt.payload_sha256 == opened.payload_sha256
    assert receipt.signature == opened.signature
    assert receipt.recipients == opened.recipients
    assert receipt.sealed_size == len(data)
    assert receipt.container_size == opened.container_size == len(decrypt(data))
    assert receipt.payload_sha256 == crypto.sha256(decrypt(data)[:-64])
    assert progress[0] == 0 and progress[-1] == len(SMALL) + len(MULTI)
    assert progress == sorted(progress)


def test_round_trip_into_a_temp_file_sink(tmp_path: Path) -> None:
    data, _ = seal_bytes(three_attachments())
    sink = TempFileSink(tmp_path)
    open_bytes(data, sink=sink)
    assert sink.committed
    assert sink.path(1).read_bytes() == SMALL and sink.path(2).read_bytes() == MULTI
    assert not sink.path(0).exists()


def test_a_temp_file_sink_is_emptied_when_verification_fails(tmp_path: Path) -> None:
    container = decrypt(seal_bytes(three_attachments())[0])
    forged = container[:-1] + bytes([container[-1] ^ 1])
    sink = TempFileSink(tmp_path)
    with pytest.raises(BadSignature):
        open_bytes(encrypt(forged, B), sink=sink)
    assert sink.discarded and list(tmp_path.iterdir()) == []


def test_the_sender_can_reopen_only_when_keeping_it_readable() -> None:
    kept, receipt = seal_bytes([source("a.txt", b"x")], keep_readable=True)
    assert receipt.recipients == tuple(sorted([A.fingerprint, B.fingerprint]))
    assert open_bytes(kept, reader=A).recipients == receipt.recipients
    assert open_bytes(kept, reader=B).report == REPORT

    not_kept, receipt = seal_bytes([source("a.txt", b"x")])
    assert receipt.recipients == (B.fingerprint,)
    sink = MemorySink()
    with pytest.raises(DecryptionFailed):
        open_bytes(not_kept, reader=A, sink=sink)
    assert sink.discarded


def test_several_partners_each_open_it() -> None:
    data, receipt = seal_bytes([source("a.txt", b"abc")], to=(B, C))
    assert receipt.recipients == tuple(sorted([B.fingerprint, C.fingerprint]))
    for reader in (B, C):
        sink = MemorySink()
        open_bytes(data, reader=reader, sink=sink)
        assert sink.content(0) == b"abc"


def test_a_container_split_anywhere_gives_the_same_result() -> None:
    container = (VECTORS / "report.container").read_bytes()

    class Trickle(io.RawIOBase):
        """Returns 1 to 7 bytes per read, so every field boundary falls mid-write."""

        def __init__(self) -> None:
            super().__init__()
            self.pos = 0
            self.rng = random.Random(7)

        def readable(self) -> bool:
            return True

        def read(self, size: int | None = -1) -> bytes:
            n = self.rng.randint(1, 7)
            piece = container[self.pos : self.pos + n]
            self.pos += len(piece)
            return piece

    sink = MemorySink()
    opened = seal.verify_container(
        Trickle(),  # type: ignore[arg-type]
        my_fingerprint=B.fingerprint,
        sink=sink,
        known_senders=None,
    )
    assert opened.payload_sha256 == bytes.fromhex(
        DESCRIPTION["valid"]["report.container"]["payload_sha256"]
    )
    assert sink.content(1) == GEN.NOTE and sink.content(2) == GEN.PHOTO


# --- vectors ------------------------------------------------------------------------------


def test_generator_reproduces_every_vector_file() -> None:
    built = GEN.build()
    on_disk = {
        str(path.relative_to(VECTORS)): path.read_bytes()
        for path in VECTORS.rglob("*")
        if path.is_file()
        and path.name not in ("generate.py", "generate_v2.py", "report.age")
        and "__pycache__" not in path.parts
        and "v2" not in path.relative_to(VECTORS).parts  # version 2: made once (§12.5)
    }
    assert set(built) == set(on_disk)
    for relative, content in built.items():
        assert content == on_disk[relative], relative


def test_seal_report_writes_the_vector_container_byte_for_byte() -> None:
    out = io.BytesIO()
    receipt = seal.seal_report(out, **GEN.seal_inputs())
    assert decrypt(out.getvalue()) == (VECTORS / "report.container").read_bytes()
    assert (
        receipt.payload_sha256.hex() == DESCRIPTION["valid"]["report.container"]["payload_sha256"]
    )


def test_seal_report_writes_the_minimal_vector_byte_for_byte() -> None:
    inputs = {**GEN.seal_inputs(), "attachments": [], "report": {"title": "minimal"}}
    inputs["keep_readable"] = False
    out = io.BytesIO()
    seal.seal_report(out, **inputs)
    assert decrypt(out.getvalue()) == (VECTORS / "minimal.container").read_bytes()


PARTIES = {"A": A, "B": B, "C": C}


@pytest.mark.parametrize("name", sorted(DESCRIPTION["valid"]))
def test_valid_vectors_verify_as_the_manifest_says(name: str) -> None:
    expected = DESCRIPTION["valid"][name]
    container = (VECTORS / name).read_bytes()
    assert crypto.sha256(container).hex() == expected["container_sha256"]
    for who, result in expected["opened_as"].items():
        sink = MemorySink()
        if result == "valid":
            opened = verify(container, PARTIES[who], sink)
            assert sink.committed
            assert opened.payload_sha256.hex() == expected["payload_sha256"]
            assert opened.signature.hex() == expected["signature_hex"]
            assert opened.report_id == expected["report_id"]
            assert opened.sender_fingerprint == PARTIES[expected["sender"]].fingerprint
            assert [fp.hex() for fp in opened.recipients] == expected["recipients"]
            assert [
                {"name": a.name, "size": a.size, "sha256": a.sha256.hex()}
                for a in opened.attachments
            ] == expected["attachments"]
            assert opened.container_size == expected["container_size"]
            statement = seal.signed_message(
                sender_fingerprint=opened.sender_fingerprint,
                recipients=opened.recipients,
                report_id=opened.report_id,
                created=opened.created,
                sealed=opened.sealed,
                payload_sha256=opened.payload_sha256,
            )
            assert statement.decode("ascii") == expected["signed_statement"]
        else:
            with pytest.raises(ERRORS[result]):
                verify(container, PARTIES[who], sink)
            assert sink.discarded


def test_every_invalid_vector_file_is_in_the_manifest() -> None:
    assert {p.name for p in (VECTORS / "invalid").iterdir()} == set(DESCRIPTION["invalid"])


@pytest.mark.parametrize("name", sorted(DESCRIPTION["invalid"]))
def test_invalid_vector_is_refused_with_its_error(name: str) -> None:
    expected = DESCRIPTION["invalid"][name]
    reader = PARTIES[DESCRIPTION["invalid_opened_as"]]
    sink = MemorySink()
    with pytest.raises(SecureSubmitError) as caught:
        verify((VECTORS / "invalid" / name).read_bytes(), reader, sink)
    assert type(caught.value) is ERRORS[expected["error"]]
    assert expected["message"] in str(caught.value)
    assert sink.discarded and not sink.committed and not sink.parts


@pytest.mark.parametrize("name", sorted(DESCRIPTION["invalid"]))
def test_invalid_vector_is_refused_inside_age_too(name: str) -> None:
    # Same verdict through the whole opening path, with the container age-encrypted to B.
    expected = DESCRIPTION["invalid"][name]
    sink = MemorySink()
    with pytest.raises(ERRORS[expected["error"]]):
        open_bytes(encrypt((VECTORS / "invalid" / name).read_bytes(), B), B, sink)
    assert sink.discarded and not sink.committed


def test_the_sealed_vector_file_opens_as_its_readers_and_not_as_others() -> None:
    sealed = (VECTORS / DESCRIPTION["sealed"]["file"]).read_bytes()
    plaintext = (VECTORS / DESCRIPTION["sealed"]["plaintext"]).read_bytes()
    for who in DESCRIPTION["sealed"]["opens_with"]:
        sink = MemorySink()
        opened = open_bytes(sealed, PARTIES[who], sink)
        assert decrypt(sealed, PARTIES[who]) == plaintext
        assert opened.container_size == len(plaintext)
        assert sink.content(2) == GEN.PHOTO
    for who, error in DESCRIPTION["sealed"]["refuses"].items():
        sink = MemorySink()
        with pytest.raises(ERRORS[error]):
            open_bytes(sealed, PARTIES[who], sink)
        assert sink.discarded


def test_the_spec_shows_the_vectors_verbatim() -> None:
    spec = SPEC.read_text(encoding="utf-8")
    for name, expected in DESCRIPTION["valid"].items():
        assert expected["signed_statement"] in spec, name
    minimal = (VECTORS / "minimal.container").read_bytes()
    _, end = header_of(minimal)
    assert minimal[27:end].decode("utf-8") in spec
    assert minimal[:27].hex() in spec
    assert minimal[-64:].hex() in spec
    for party in DESCRIPTION["keys"].values():
        assert party["fingerprint_hex"] in spec and party["age_recipient"] in spec
    assert f"{len(DESCRIPTION['invalid'])} invalid containers" in spec


# --- forgery, forwarding, tampering -----------------------------------------------------------


def test_a_forged_signature_is_refused() -> None:
    container = decrypt(seal_bytes([source("a.txt", b"content")])[0])
    # C signs A's report (the header still names A as the sender).
    statement = seal.signed_message(
        sender_fingerprint=A.fingerprint,
        recipients=[B.fingerprint],
        report_id="r1",
        created=CREATED,
        sealed=SEALED,
        payload_sha256=crypto.sha256(container[:-64]),
    )
    forged = container[:-64] + crypto.sign(C.seed, seal.SIGNATURE_LABEL, statement)
    sink = MemorySink()
    with pytest.raises(BadSignature, match="signature does not verify"):
        open_bytes(encrypt(forged, B), sink=sink)
    assert sink.discarded and not sink.parts
    # ... while A's own signature over the same statement verifies.
    genuine = container[:-64] + crypto.sign(A.seed, seal.SIGNATURE_LABEL, statement)
    assert genuine == container
    open_bytes(encrypt(genuine, B))


def test_a_swapped_recipient_list_is_refused() -> None:
    # B rewrites the header to name C instead of B and re-encrypts to C: the signature
    # covers the recipients, so C refuses it.
    container = decrypt(seal_bytes([source("a.txt", b"content")])[0])
    header, _ = header_of(container)
    header["recipients"] = [C.fingerprint.hex()]
    sink = MemorySink()
    with pytest.raises(BadSignature):
        open_bytes(encrypt(with_header(container, header), C), reader=C, sink=sink)
    assert sink.discarded


def test_the_statement_names_every_recipient_sorted() -> None:
    values: dict[str, Any] = {
        "sender_fingerprint": A.fingerprint,
        "report_id": "r1",
        "created": CREATED,
        "sealed": SEALED,
        "payload_sha256": bytes(32),
    }
    both = seal.signed_message(recipients=[C.fingerprint, B.fingerprint], **values)
    assert both == seal.signed_message(recipients=[B.fingerprint, C.fingerprint], **values)
    lines = both.decode("ascii").splitlines()
    assert lines[0] == "securesubmit-sealed-report v1"
    assert [line for line in lines if line.startswith("recipient: ")] == [
        f"recipient: {fp.hex()}" for fp in sorted([B.fingerprint, C.fingerprint])
    ]
    signature = crypto.sign(A.seed, seal.SIGNATURE_LABEL, both)
    check: dict[str, Any] = {
        "sender": A.keys,
        "report_id": "r1",
        "created": CREATED,
        "sealed": SEALED,
        "payload_sha256": bytes(32),
        "signature": signature,
    }
    seal.verify_sealed_signature(recipients=[B.fingerprint, C.fingerprint], **check)
    for recipients in ([B.fingerprint], [C.fingerprint], [A.fingerprint, B.fingerprint]):
        with pytest.raises(BadSignature):
            seal.verify_sealed_signature(recipients=recipients, **check)


def test_a_report_re_encrypted_to_a_third_party_raises_the_forwarding_error() -> None:
    data, _ = seal_bytes([source("a.txt", b"secret evidence")])
    forwarded = encrypt(decrypt(data, B), C)  # B passes A's report on to C
    sink = MemorySink()
    with pytest.raises(seal.ForwardedReport) as caught:
        open_bytes(forwarded, reader=C, sink=sink)
    assert "sealed for other recipients and re-encrypted to you" in str(caught.value)
    assert "possible surreptitious forwarding" in str(caught.value)
    assert sink.discarded and not sink.parts and not sink.committed


def test_a_truncated_file_is_refused_and_discarded() -> None:
    data, _ = seal_bytes(three_attachments())
    for cut in (0, 10, 100, 400, 70_000, len(data) // 2, len(data) - 17, len(data) - 1):
        sink = MemorySink()
        with pytest.raises(SecureSubmitError):
            open_bytes(data[:cut], sink=sink)
        assert sink.discarded and not sink.committed, cut


def test_a_truncated_container_is_refused_even_when_properly_encrypted() -> None:
    container = decrypt(seal_bytes(three_attachments())[0])
    for cut in (0, 5, 30, len(container) // 2, len(container) - 64, len(container) - 1):
        sink = MemorySink()
        with pytest.raises(FormatError, match=r"empty|truncated"):
            open_bytes(encrypt(container[:cut], B), sink=sink)
        assert sink.discarded, cut


def _flip_and_open(data: bytes, rng: random.Random, offsets: list[int]) -> None:
    for offset in offsets:
        mutated = bytearray(data)
        mutated[offset] ^= rng.randint(1, 255)
        sink = MemorySink()
        with pytest.raises(SecureSubmitError):
            open_bytes(bytes(mutated), sink=sink)
        assert sink.discarded and not sink.committed and not sink.parts, offset


def test_a_flipped_byte_anywhere_in_the_age_file_is_refused() -> None:
    data, _ = seal_bytes([source("a.bin", os.urandom(150_000)), source("b.txt", b"x")])
    rng = random.Random(1)
    header_end = data.index(b"\n---") + 48
    offsets = rng.sample(range(header_end), 15) + rng.sample(range(header_end, len(data)), 35)
    _flip_and_open(data, rng, offsets)


def test_a_flipped_byte_anywhere_in_the_container_is_refused() -> None:
    container = decrypt(seal_bytes([source("a.bin", os.urandom(150_000)), source("b", b"x")])[0])
    _, header_end = header_of(container)
    rng = random.Random(2)
    offsets = (
        rng.sample(range(header_end), 25)
        + rng.sample(range(header_end, len(container) - 64), 20)
        + rng.sample(range(len(container) - 64, len(container)), 5)
    )
    for offset in offsets:
        mutated = bytearray(container)
        mutated[offset] ^= rng.randint(1, 255)
        sink = MemorySink()
        with pytest.raises(SecureSubmitError):
            open_bytes(encrypt(bytes(mutated), B), sink=sink)
        assert sink.discarded and not sink.committed and not sink.parts, offset


def test_the_wrong_recipient_key_cannot_open_it() -> None:
    data, _ = seal_bytes([source("a.txt", b"x")])
    sink = MemorySink()
    with pytest.raises(DecryptionFailed):
        seal.open_sealed(
            io.BytesIO(data),
            identity_secrets=[C.secret],
            my_fingerprint=B.fingerprint,
            sink=sink,
            known_senders=None,
        )
    assert sink.discarded


def test_a_signed_container_whose_size_disagrees_with_its_content_is_refused() -> None:
    # The sender (or a bug) records one byte more than the content: correctly signed.
    container = decrypt(seal_bytes([source("a.bin", b"12345"), source("b.bin", b"67")])[0])
    header, _ = header_of(container)
    header["attachments"][0]["size"] = 6
    body = with_header(container, header)[:-64]
    statement = seal.signed_message(
        sender_fingerprint=A.fingerprint,
        recipients=[B.fingerprint],
        report_id="r1",
        created=CREATED,
        sealed=SEALED,
        payload_sha256=crypto.sha256(body),
    )
    resigned = body + crypto.sign(A.seed, seal.SIGNATURE_LABEL, statement)
    sink = MemorySink()
    with pytest.raises(seal.AttachmentAltered, match="attachment 1"):
        open_bytes(encrypt(resigned, B), sink=sink)
    assert sink.discarded


# --- the sealing side refuses what it must ---------------------------------------------------


@pytest.mark.parametrize(
    ("attachment", "message"),
    [
        (source("a", b"1234", size=5), "5 bytes"),
        (source("a", b"123456", size=5), "5 bytes"),
        (source("a", b"1234", size=5, sha256=crypto.sha256(b"1234")), "no longer has"),
        (source("a", b"123456", size=5, sha256=crypto.sha256(b"12345")), "grown beyond"),
        (source("a", b"12345", sha256=crypto.sha256(b"other")), "changed while"),
    ],
    ids=["short", "long", "short-with-hash", "long-with-hash", "hash-differs"],
)
def test_an_attachment_that_differs_from_its_description_stops_the_seal(
    attachment: seal.AttachmentSource, message: str
) -> None:
    with pytest.raises(seal.AttachmentChanged, match=message):
        seal_bytes([attachment])


def test_an_attachment_changed_between_hashing_and_sealing_stops_the_seal() -> None:
    versions = iter([b"original", b"modified"])
    attachment = source("a.txt", b"original", open=lambda: io.BytesIO(next(versions)))
    with pytest.raises(seal.AttachmentChanged, match="changed while"):
        seal_bytes([attachment])


def test_an_error_of_the_attachment_stream_propagates_unchanged() -> None:
    class Failing(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            raise OSError(5, "Input/output error")

    with pytest.raises(OSError, match="Input/output error") as caught:
        seal_bytes([source("a", b"x" * 10, open=Failing, sha256=bytes(32))])
    assert not isinstance(caught.value, SecureSubmitError)


class FullDisk(io.RawIOBase):
    """Accepts ``room`` bytes, then fails like a full USB stick."""

    def __init__(self, room: int, *, silently: bool = False) -> None:
        super().__init__()
        self.room = room
        self.silently = silently

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        n = min(len(data), self.room)
        self.room -= n
        if n == 0 and not self.silently:
            raise OSError(28, "No space left on device")
        return n


@pytest.mark.parametrize("room", ["none", "half", "all-but-the-end"])
@pytest.mark.parametrize("silently", [False, True], ids=["raises", "writes-nothing"])
@pytest.mark.parametrize("content", [b"small", os.urandom(150_000)], ids=["small", "large"])
def test_a_destination_that_fills_up_stops_the_seal(
    room: str, silently: bool, content: bytes
) -> None:
    # pyrage 1.4.0 alone ignores both failures when they happen in its final flush.
    values: dict[str, Any] = {
        "report": REPORT,
        "attachments": [source("a.bin", content)],
        "sender_seed": A.seed,
        "sender_encryption_public": A.keys.encryption_public,
        "recipients": [B.keys],
        "report_id": "r1",
        "created": CREATED,
        "sealed": SEALED,
    }
    # pyrage's random "grease" stanza makes the size vary by up to about 200 bytes.
    size = seal.seal_report(io.BytesIO(), **values).sealed_size
    space = {"none": 0, "half": size // 2, "all-but-the-end": size - 300}[room]
    with pytest.raises(OSError, match=r"No space left|accepted no bytes") as caught:
        seal.seal_report(FullDisk(space, silently=silently), **values)  # type: ignore[arg-type]
    assert not isinstance(caught.value, SecureSubmitError)


def test_a_parser_error_stays_raised_even_if_the_caller_swallows_it() -> None:
    # pyrage swallows some exceptions of the streams it is given; the parser must not
    # let a later finish() accept what an earlier write() refused.
    container = (VECTORS / "report.container").read_bytes()
    parser = seal._ContainerParser(MemorySink())
    with pytest.raises(FormatError, match="after its signature"):
        parser.write(container + b"!")
    with pytest.raises(FormatError, match="after its signature"):
        parser.write(b"")
    with pytest.raises(FormatError, match="after its signature"):
        parser.finish(B.fingerprint, None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"recipients": []}, "at least one partner"),
        ({"recipients": [B.keys, B.keys]}, "listed twice"),
        ({"recipients": [A.keys], "keep_readable": True}, "listed twice"),
        ({"report_id": "Has Spaces"}, "report id"),
        ({"report_id": ""}, "report id"),
        ({"report": {"score": 1.5}}, "fraction"),
        ({"report": {"tags": ("a", "b")}}, "tuples"),
        ({"report": {1: "a"}}, "text keys"),
        ({"report": {"when": CREATED}}, "cannot be sealed"),
        ({"report": {"n": 2**60}}, "too large"),
        ({"report": {"deep": GEN._deep(15)}}, "nested"),
        ({"report": {"text": "x" * (1024 * 1024)}}, "too large to seal"),
        ({"sealed": datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)}, "sealed before it was created"),
    ],
)
def test_seal_refuses_what_the_format_cannot_hold(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        seal_bytes([], **changes)


@pytest.mark.parametrize(
    ("attachment", "message"),
    [
        (source("../etc/passwd", b""), "contains '/'"),
        (source("a\\b", b""), "contains '\\\\'"),
        (source("..", b""), "is '..'"),
        (source("", b""), "is empty"),
        (source("photo\u202egpj.exe", b""), "U\\+202E"),
        (source("a" * 256, b""), "longer than 255"),
        (source("a", b"", media_type="Image/JPEG"), "media type"),
        (source("a", b"", media_type="text/plain; charset=utf-8"), "media type"),
        (source("a", b"", scrubbed=["GPS\n"]), "scrubbed"),
        (source("a", b"", size=-1), "size"),
    ],
)
def test_seal_refuses_bad_attachment_descriptions(
    attachment: seal.AttachmentSource, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        seal_bytes([attachment])


def test_seal_refuses_more_than_the_limits() -> None:
    with pytest.raises(InputError, match="at most 1000 attachments"):
        seal_bytes([source(f"{i}.txt", b"") for i in range(1001)])
    many = [Party(bytes([i]) * 32, bytes([i + 100]) * 32) for i in range(10, 75)]
    with pytest.raises(InputError, match="at most 64"):
        seal_bytes([], to=tuple(many))


def test_seal_checks_everything_cheap_before_hashing_a_large_file() -> None:
    def never() -> BinaryIO:
        raise AssertionError("the content was read before the name was checked")

    with pytest.raises(InputError, match="contains '/'"):
        seal_bytes([source("a/b", b"", size=10**9, open=never)])
    with pytest.raises(InputError, match="fraction"):
        seal_bytes([source("a.mp4", b"", size=10**9, open=never)], report={"x": 0.5})
    with pytest.raises(InputError, match="too large to seal"):
        seal_bytes([source("a.mp4", b"", size=10**9, open=never)], report={"x": "y" * 2**20})


def test_times_are_stored_as_utc_whole_seconds() -> None:
    from datetime import timedelta, timezone

    almaty = timezone(timedelta(hours=5))
    _, receipt = seal_bytes(
        [], created=datetime(2026, 11, 23, 15, 0, 0, 999_999, tzinfo=almaty), sealed=SEALED
    )
    assert receipt.created == CREATED


# --- the opening side: limits, sinks, callbacks ----------------------------------------------


def _resigned(header: dict[str, Any], contents: bytes = b"") -> bytes:
    raw = seal.canonical_json(header)
    body = seal.MAGIC + len(raw).to_bytes(4, "big") + raw + contents
    statement = seal.signed_message(
        sender_fingerprint=A.fingerprint,
        recipients=[bytes.fromhex(r) for r in header["recipients"]],
        report_id=header["report_id"],
        created=CREATED,
        sealed=SEALED,
        payload_sha256=crypto.sha256(body),
    )
    return body + crypto.sign(A.seed, seal.SIGNATURE_LABEL, statement)


def test_open_refuses_more_than_1000_attachments() -> None:
    header, _ = header_of(decrypt(seal_bytes([source("a", b"")])[0]))
    header["attachments"] = header["attachments"] * 1000
    assert verify(_resigned(header)).attachments  # 1000 is allowed
    header["attachments"].append(header["attachments"][0])
    with pytest.raises(FormatError, match="at most 1000"):
        verify(_resigned(header))


def test_open_refuses_more_than_64_recipients() -> None:
    header, _ = header_of(decrypt(seal_bytes([])[0]))
    header["recipients"] = sorted({B.fingerprint.hex()} | {f"{i:064x}" for i in range(64)})
    with pytest.raises(FormatError, match="1 to 64"):
        verify(_resigned(header))


def test_open_accepts_a_header_of_exactly_1_mib_and_refuses_one_byte_more() -> None:
    header, _ = header_of(decrypt(seal_bytes([])[0]))
    header["report"] = {"text": ""}
    room = seal.MAX_HEADER_BYTES - len(seal.canonical_json(header))
    header["report"] = {"text": "x" * room}
    assert len(seal.canonical_json(header)) == seal.MAX_HEADER_BYTES
    assert verify(_resigned(header)).report["text"] == "x" * room
    header["report"] = {"text": "x" * (room + 1)}
    with pytest.raises(FormatError, match="larger than 1024 KiB"):
        verify(_resigned(header))


def test_open_checks_the_sender_with_the_callers_callback_after_the_signature() -> None:
    data, _ = seal_bytes([source("a", b"x")])
    seen: list[bytes] = []
    open_bytes(data, known_senders=seen.append)
    assert seen == [A.fingerprint]

    class UnknownSender(SecureSubmitError):
        """This report is from a sender you do not know."""

    def refuse(fp: bytes) -> None:
        raise UnknownSender()

    sink = MemorySink()
    with pytest.raises(UnknownSender):
        open_bytes(data, sink=sink, known_senders=refuse)
    assert sink.discarded and not sink.committed

    # A forged report never reaches the callback.
    forged = decrypt(data)
    forged = forged[:-1] + bytes([forged[-1] ^ 1])
    called: list[bytes] = []
    with pytest.raises(BadSignature):
        open_bytes(encrypt(forged, B), known_senders=called.append)
    assert called == []


def test_a_failing_sink_is_discarded_and_its_error_propagates_unchanged() -> None:
    class FullVault(MemorySink):
        def write(self, index: int, chunk: bytes) -> None:
            raise OSError(28, "No space left on device")

    data, _ = seal_bytes([source("a", b"x" * 100_000)])
    sink = FullVault()
    with pytest.raises(OSError, match="No space left") as caught:
        open_bytes(data, sink=sink)
    assert not isinstance(caught.value, SecureSubmitError)
    assert sink.discarded


def test_attachment_bytes_reach_the_sink_in_small_pieces() -> None:
    data, _ = seal_bytes([source("big", MULTI)])
    sink = MemorySink()
    open_bytes(data, sink=sink)
    assert sink.content(0) == MULTI
    assert max(sink.chunk_sizes) <= 64 * 1024


def test_seal_reads_attachments_in_bounded_blocks() -> None:
    sizes: list[int] = []

    class Recording(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            sizes.append(-1 if size is None else size)
            return super().read(size)

    seal_bytes([source("big", MULTI, open=lambda: Recording(MULTI))])
    assert sizes and all(0 < s <= 1024 * 1024 for s in sizes)


def test_the_same_parser_runs_under_open_and_verify() -> None:
    data, _ = seal_bytes(three_attachments())
    via_age = open_bytes(data)
    via_container = verify(decrypt(data))
    # Only the age layer differs: seen through age, not seen when decrypted by other means.
    assert (via_age.encryption, via_container.encryption) == ("classical", None)
    assert dataclasses.replace(via_age, encryption=None) == via_container


def test_my_fingerprint_must_be_a_fingerprint() -> None:
    data, _ = seal_bytes([])
    with pytest.raises(ValueError, match="32-byte"):
        seal.open_sealed(
            io.BytesIO(data),
            identity_secrets=[B.secret],
            my_fingerprint=B.fingerprint.hex().encode(),
            sink=MemorySink(),
            known_senders=None,
        )


# --- property tests ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes_are_refused_with_our_errors_only(data: bytes) -> None:
    sink = MemorySink()
    with pytest.raises(SecureSubmitError):
        verify(data, B, sink)
    assert sink.discarded


VECTOR_CONTAINER = (VECTORS / "report.container").read_bytes()


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_vector_containers_are_refused_with_our_errors_only(data: st.DataObject) -> None:
    mutated = bytearray(VECTOR_CONTAINER)
    offsets = data.draw(
        st.lists(st.integers(0, len(mutated) - 1), min_size=1, max_size=4, unique=True)
    )
    for offset in offsets:
        mutated[offset] ^= data.draw(st.integers(1, 255))
    sink = MemorySink()
    with pytest.raises(SecureSubmitError):
        verify(bytes(mutated), B, sink)
    assert sink.discarded and not sink.parts


# --- memory ------------------------------------------------------------------------------------

PEAK_RSS = r"""
import resource, sys

def vm_hwm_kib():
    # Peak RSS of this process image. Not getrusage's ru_maxrss: Linux carries the
    # parent's high-water mark across fork and exec into it (a pytest parent is ~70 MiB).
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None
"""

CHILD = (
    PEAK_RSS
    + r"""
import io, json, time
from datetime import UTC, datetime
from securesubmit.core import crypto, seal
from securesubmit.core.identity import PublicKeys

size, path = int(sys.argv[1]), sys.argv[2]
BLOCK = crypto.sha256(b"generated") * 32768  # 1 MiB, repeated: never the whole file

class Generated(io.RawIOBase):
    def __init__(self):
        super().__init__()
        self.left = size
    def readable(self):
        return True
    def read(self, n=-1):  # exactly n bytes, as a file would give: the sealer must ask little
        n = self.left if n is None or n < 0 else min(n, self.left)
        self.left -= n
        whole, part = divmod(n, len(BLOCK))
        return BLOCK * whole + BLOCK[:part]

class HashingSink:
    def __init__(self):
        self.hasher, self.count, self.state = crypto.sha256_hasher(), 0, None
    def write(self, index, chunk):
        self.hasher.update(chunk)
        self.count += len(chunk)
    def commit(self):
        self.state = "committed"
    def discard(self):
        self.state = "discarded"

a = (b"\x01" * 32, b"\x02" * 32)
b = (b"\x03" * 32, b"\x04" * 32)
keys = lambda p: PublicKeys(crypto.signing_public_key(p[0]), crypto.encryption_public_key(p[1]))
when = datetime(2026, 11, 23, tzinfo=UTC)
start = time.perf_counter()
with open(path, "wb") as out:
    receipt = seal.seal_report(
        out, report={"title": "large"}, sender_seed=a[0],
        attachments=[seal.AttachmentSource(name="video.mp4", size=size, media_type="video/mp4",
                                           open=Generated)],
        sender_encryption_public=keys(a).encryption_public, recipients=[keys(b)],
        report_id="large", created=when, sealed=when)
middle = time.perf_counter()
sink = HashingSink()
with open(path, "rb") as source:
    opened = seal.open_sealed(source, identity_secrets=[b[1]], my_fingerprint=keys(b).fingerprint,
                              sink=sink, known_senders=None)
end = time.perf_counter()
print(json.dumps({
    "peak_rss_kib": vm_hwm_kib(),
    "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "seal_seconds": middle - start,
    "open_seconds": end - middle,
    "committed": sink.state == "committed",
    "sink_bytes": sink.count,
    "hash_matches": sink.hasher.digest() == receipt.attachments[0].sha256
                    == opened.attachments[0].sha256,
}))
"""
)


@pytest.mark.slow
def test_a_1_gib_attachment_seals_and_opens_within_64_mib(tmp_path: Path) -> None:
    size = 1024**3
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(size), str(tmp_path / "large.age")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["committed"] and report["hash_matches"] and report["sink_bytes"] == size
    if report["peak_rss_kib"] is None:
        pytest.skip("no /proc/self/status VmHWM on this system to measure peak RSS")
    assert report["peak_rss_kib"] <= 64 * 1024, report


CRAFTED_HEADER = r"""
import io
from securesubmit.core import seal

class Sink:
    def write(self, index, chunk): pass
    def commit(self): pass
    def discard(self): pass

unit = sys.argv[1]
count = (seal.MAX_HEADER_BYTES - 600) // (len(unit) + 1)
raw = ('{"attachments":[],"created":"2026-11-23T10:00:00Z","recipients":["' + "b" * 64
       + '"],"report":{"a":[' + ",".join([unit] * count) + ']},"report_id":"x",'
       + '"sealed":"2026-11-23T12:30:00Z","sender":{"encryption_public":"' + "9" * 64
       + '","fingerprint":"' + "9" * 64 + '","signing_public":"' + "9" * 64 + '"}}').encode()
assert len(raw) <= seal.MAX_HEADER_BYTES
try:
    seal.verify_container(io.BytesIO(seal.MAGIC + len(raw).to_bytes(4, "big") + raw),
                          my_fingerprint=bytes(32), sink=Sink(), known_senders=None)
except seal.SecureSubmitError:
    pass
print(vm_hwm_kib())
"""


@pytest.mark.parametrize("unit", ["[]", "{}", "0", '""'])
def test_a_crafted_1_mib_header_stays_within_64_mib(unit: str) -> None:
    # Hundreds of thousands of tiny values: the parser's own bookkeeping must not grow
    # with their number (a depth check that queued every value once took 81 MiB here).
    out = subprocess.run(
        [sys.executable, "-c", PEAK_RSS + CRAFTED_HEADER, unit],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    if out.stdout.strip() == "None":
        pytest.skip("no /proc/self/status VmHWM on this system to measure peak RSS")
    assert int(out.stdout) <= 64 * 1024


def test_nesting_of_exactly_16_levels_is_accepted() -> None:
    data, _ = seal_bytes([], report={"deep": GEN._deep(14)})  # header 1, report 2, lists 3-16
    assert open_bytes(data).report == {"deep": GEN._deep(14)}


def test_the_memory_measurement_sees_a_buffer_of_100_mib() -> None:
    # Guard for the test above: the same measurement, in a child started the same way,
    # stays under the bound for an idle interpreter with our modules and exceeds it when
    # 100 MiB are held, so the bound is one that can fail.
    code = PEAK_RSS + (
        "from securesubmit.core import seal\n"
        "hold = bytearray(int(sys.argv[1]) * 1024 * 1024)\n"
        "hold[::4096] = b'1' * len(hold[::4096])\n"
        "print(vm_hwm_kib())\n"
    )
    results = []
    for mib in (0, 100):
        out = subprocess.run(
            [sys.executable, "-c", code, str(mib)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        results.append(out.stdout.strip())
    if "None" in results:
        pytest.skip("no /proc/self/status VmHWM on this system to measure peak RSS")
    idle, holding = (int(r) for r in results)
    assert idle < 64 * 1024 < holding, (idle, holding)


# --- the age layer (agev1): keys of both kinds; authenticated sources ------------------


def test_open_sealed_takes_hybrid_and_x25519_keys_of_agev1() -> None:
    data, _ = seal_bytes([source("a.bin", os.urandom(70_000))], to=(B, C))
    container = decrypt(data, B)
    # B's post-quantum key (as a partner card will carry it) beside C's X25519 key.
    b_hybrid = agev1.generate_hybrid_identity()
    mixed = io.BytesIO()
    recipients = [b_hybrid.recipient(), *seal.age_recipients([C.keys])]
    agev1.encrypt_stream(io.BytesIO(container), mixed, recipients, allow_mixed=True)
    opened = seal.open_sealed(
        io.BytesIO(mixed.getvalue()),
        identity_secrets=[agev1.generate_hybrid_identity(), b_hybrid],
        my_fingerprint=B.fingerprint,
        sink=MemorySink(),
        known_senders=None,
    )
    assert opened.report == REPORT
    opened = open_bytes(mixed.getvalue(), C)  # C's X25519 secret, as bytes
    assert opened.report == REPORT
    sink = MemorySink()
    with pytest.raises(DecryptionFailed):
        open_bytes(mixed.getvalue(), B, sink)  # B's X25519 key is not in this file
    assert sink.discarded


def test_a_bad_identity_is_refused_with_the_sink_discarded() -> None:
    data, _ = seal_bytes([])
    sink = MemorySink()
    with pytest.raises(ValueError, match="32 bytes"):
        seal.open_sealed(
            io.BytesIO(data),
            identity_secrets=[B.secret[:31]],
            my_fingerprint=B.fingerprint,
            sink=sink,
            known_senders=None,
        )
    assert sink.discarded


def test_an_authenticated_source_is_not_hashed_again_but_its_size_is_checked() -> None:
    content = os.urandom(3000)
    wrong = crypto.sha256(b"not the content")
    # Storage that authenticates its blocks is trusted to match its recorded hash: a
    # mismatch here is only possible if the vault is broken, and the reader still
    # catches it (AttachmentAltered), as with any altered attachment.
    data, receipt = seal_bytes([source("a", content, sha256=wrong, authenticated=True)])
    assert receipt.attachments[0].sha256 == wrong
    with pytest.raises(seal.AttachmentAltered):
        open_bytes(data)
    # Without the flag the same source is re-hashed and refused while sealing.
    with pytest.raises(seal.AttachmentChanged, match="changed while"):
        seal_bytes([source("a", content, sha256=wrong)])
    # The size is checked either way: shorter or longer than recorded is refused.
    for stream in (content[:-1], content + b"x"):
        shifted = source("a", content, sha256=crypto.sha256(content), authenticated=True)
        shifted.open = lambda s=stream: io.BytesIO(s)  # type: ignore[misc]
        with pytest.raises(seal.AttachmentChanged):
            seal_bytes([shifted])
    # And a correct authenticated source seals and opens as usual.
    data, _ = seal_bytes([source("a", content, sha256=crypto.sha256(content), authenticated=True)])
    sink = MemorySink()
    open_bytes(data, sink=sink)
    assert sink.content(0) == content


def test_sealing_writes_the_age_file_in_whole_chunks() -> None:
    """The vault's ChunkWriter gets 64 KiB pieces (one per age chunk), not small ones."""
    sizes: list[int] = []

    class Recording(io.BytesIO):
        def write(self, data: bytes) -> int:  # type: ignore[override]
            sizes.append(len(data))
            return super().write(data)

    dest = Recording()
    content = os.urandom(5 * 65536 + 3)
    seal.seal_report(
        dest,
        report=REPORT,
        attachments=[source("a", content)],
        sender_seed=A.seed,
        sender_encryption_public=A.keys.encryption_public,
        recipients=[B.keys],
        report_id="r1",
        created=CREATED,
        sealed=SEALED,
    )
    assert all(size == 65536 + 16 for size in sizes[1:-1]), sizes
    assert len(sizes) == 2 + len(content) // 65536


# --- version 2: hybrid senders (spec §12) -----------------------------------------------------

V2 = VECTORS / "v2"
V2_DESCRIPTION = json.loads((V2 / "vectors.json").read_text(encoding="utf-8"))
V2_KEYS = {
    name: (
        identity.PublicKeys(
            crypto.signing_public_key(bytes.fromhex(k["ed25519_seed"])),
            crypto.encryption_public_key(bytes.fromhex(k["x25519_secret"])),
            crypto.mldsa_public_key(bytes.fromhex(k["mldsa_seed"])),
            crypto.hybrid_public_key(bytes.fromhex(k["hybrid_seed"])),
        ),
        k,
    )
    for name, k in V2_DESCRIPTION["keys"].items()
}


def _v2_open(name: str, sink: MemorySink) -> seal.OpenedReport:
    keys, secret = V2_KEYS[V2_DESCRIPTION["opened_as"]]
    data = (V2 / name).read_bytes()
    if name.endswith(".age"):
        return seal.open_sealed(
            io.BytesIO(data),
            identity_secrets=[
                agev1.HybridIdentity(bytes.fromhex(secret["hybrid_seed"])),
                agev1.X25519Identity(bytes.fromhex(secret["x25519_secret"])),
            ],
            my_fingerprint=keys.fingerprint,
            sink=sink,
            known_senders=None,
        )
    return seal.verify_container(
        io.BytesIO(data), my_fingerprint=keys.fingerprint, sink=sink, known_senders=None
    )


def test_v2_vector_keys_are_the_published_fingerprints() -> None:
    for keys, secret in V2_KEYS.values():
        assert keys.is_hybrid and keys.fingerprint.hex() == secret["fingerprint"]


@pytest.mark.parametrize("name", sorted(V2_DESCRIPTION["valid"]))
def test_v2_valid_vector_opens_with_both_signatures(name: str) -> None:
    expected = V2_DESCRIPTION["valid"][name]
    sink = MemorySink()
    opened = _v2_open(name, sink)
    assert sink.committed and not sink.discarded
    assert opened.version == 2 and opened.signature_protection == "hybrid"
    assert opened.mldsa_signature is not None
    assert len(opened.mldsa_signature) == crypto.MLDSA_SIGNATURE_SIZE
    assert opened.sender == V2_KEYS["A"][0]
    assert opened.encryption == (expected["encryption"] or expected["statement_encryption"])


@pytest.mark.parametrize("name", sorted(V2_DESCRIPTION["invalid"]))
def test_v2_vector_is_refused_with_its_error(name: str) -> None:
    error, message = V2_DESCRIPTION["invalid"][name]
    sink = MemorySink()
    with pytest.raises(SecureSubmitError) as caught:
        _v2_open(f"invalid/{name}", sink)
    assert type(caught.value).__name__ == error
    assert message in str(caught.value)
    assert sink.discarded and not sink.committed


def test_a_hybrid_sender_seals_version_2_and_the_reader_checks_the_age_layer() -> None:
    (a_keys, a), (b_keys, b) = V2_KEYS["A"], V2_KEYS["B"]
    common = {
        "report": {"title": "hybrid"},
        "attachments": [source("note.txt", b"hybrid note")],
        "sender_seed": bytes.fromhex(a["ed25519_seed"]),
        "sender_encryption_public": a_keys.encryption_public,
        "report_id": "hybrid-1",
        "created": datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        "sealed": datetime(2026, 11, 23, 10, 5, tzinfo=UTC),
        "sender_mldsa_seed": bytes.fromhex(a["mldsa_seed"]),
        "sender_pq_public": a_keys.pq_public,
    }
    reader = [
        agev1.HybridIdentity(bytes.fromhex(b["hybrid_seed"])),
        agev1.X25519Identity(bytes.fromhex(b["x25519_secret"])),
    ]
    for to, layer in (([b_keys], "hybrid"), ([b_keys, C.keys], "classical")):
        out = io.BytesIO()
        receipt = seal.seal_report(out, recipients=to, **common)
        assert (receipt.version, receipt.encryption, receipt.signature_protection) == (
            2,
            layer,
            "hybrid",
        )
        data = out.getvalue()
        opened = seal.open_sealed(
            io.BytesIO(data),
            identity_secrets=reader,
            my_fingerprint=b_keys.fingerprint,
            sink=MemorySink(),
            known_senders=None,
        )
        assert (opened.version, opened.encryption) == (2, layer)
        # Re-encrypting the same container with the other kind of age layer is refused.
        plain = io.BytesIO()
        agev1.decrypt_untrusted(io.BytesIO(data), plain, reader)
        other = (
            agev1.X25519Recipient(b_keys.encryption_public)
            if layer == "hybrid"
            else agev1.HybridRecipient(cast(bytes, b_keys.pq_public))
        )
        swapped = io.BytesIO()
        agev1.encrypt_stream(io.BytesIO(plain.getvalue()), swapped, [other])
        with pytest.raises(seal.ProtectionDowngraded):
            seal.open_sealed(
                io.BytesIO(swapped.getvalue()),
                identity_secrets=reader,
                my_fingerprint=b_keys.fingerprint,
                sink=MemorySink(),
                known_senders=None,
            )
