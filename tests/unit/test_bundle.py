"""The bundle format (securesubmit/core/bundle.py, docs/spec/bundle.md).

Round trips through write_bundle and read_bundle; every vector of tests/vectors/bundle
(containers built from the spec, not by the library); attacks on the container and on
the age layer; the sequence decisions; memory bounds measured in child processes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import random
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest

from securesubmit.core import agehdr, agev1, bundle, crypto, identity, merkle, note
from securesubmit.core.bundle import (
    AuditSlot,
    ChainLink,
    ConsistencyProof,
    Limits,
    Member,
    SeqState,
    SequenceKind,
    classify_sequence,
)
from securesubmit.errors import (
    BadSignature,
    DecryptionFailed,
    FormatError,
    InputError,
    NotFound,
    SecureSubmitError,
)
from tests.vectors.bundle import generate as vec

VECTOR_DIR = Path(__file__).resolve().parents[1] / "vectors" / "bundle"
SPEC = Path(__file__).resolve().parents[2] / "docs" / "spec" / "bundle.md"
REPO = Path(__file__).resolve().parents[2]
CREATED = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)

SENDER = vec.public("sender")
SENDER_SEED = vec.KEYS["sender"][0]
RECIPIENT = vec.public("recipient")
RECIPIENT_SECRET = vec.KEYS["recipient"][1]
OTHER = vec.public("other")
OTHER_SEED, OTHER_SECRET = vec.KEYS["other"]


# --- helpers ----------------------------------------------------------------------------


@dataclass
class RecordingSink:
    """Keeps every member's bytes and what was called, in order."""

    data: dict[int, bytearray] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    fail_write: BaseException | None = None
    fail_commit: BaseException | None = None

    def write(self, index: int, chunk: bytes) -> None:
        assert isinstance(chunk, bytes)
        if self.fail_write is not None:
            raise self.fail_write
        if not self.events or self.events[-1] != f"write {index}":
            self.events.append(f"write {index}")
        self.data.setdefault(index, bytearray()).extend(chunk)

    def commit(self) -> None:
        self.events.append("commit")
        if self.fail_commit is not None:
            raise self.fail_commit

    def discard(self) -> None:
        self.events.append("discard")

    @property
    def wrote(self) -> bool:
        return any(e.startswith("write") for e in self.events)


def lookup_of(*known: identity.PublicKeys) -> Callable[[bytes], identity.PublicKeys]:
    table = {keys.fingerprint: keys for keys in known}

    def lookup(fp: bytes) -> identity.PublicKeys:
        try:
            return table[fp]
        except KeyError:
            raise NotFound() from None

    return lookup


def encrypt(container: bytes, to: identity.PublicKeys = RECIPIENT) -> bytes:
    out = io.BytesIO()
    agev1.encrypt_stream(io.BytesIO(container), out, [agev1.X25519Recipient(to.encryption_public)])
    return out.getvalue()


def decrypt(data: bytes, secret: bytes = RECIPIENT_SECRET) -> bytes:
    out = io.BytesIO()
    agev1.decrypt_untrusted(io.BytesIO(data), out, [secret])
    return out.getvalue()


def open_bundle(
    data: bytes,
    sink: RecordingSink | None = None,
    lookup: Callable[[bytes], identity.PublicKeys] | None = None,
    **kw: Any,
) -> bundle.VerifiedBundle:
    return bundle.read_bundle(
        io.BytesIO(data),
        my_secret=kw.pop("my_secret", RECIPIENT_SECRET),
        my_fingerprint=RECIPIENT.fingerprint,
        sender_lookup=lookup or lookup_of(SENDER),
        sink=sink if sink is not None else RecordingSink(),
        **kw,
    )


def refused(
    data: bytes, error: type[Exception] = SecureSubmitError, **kw: Any
) -> tuple[Exception, RecordingSink]:
    """Open ``data``, expecting ``error``; checks the sink was discarded, not committed."""
    sink = RecordingSink()
    with pytest.raises(error) as caught:
        open_bundle(data, sink, **kw)
    assert sink.events.count("discard") == 1
    assert "commit" not in sink.events
    message = str(caught.value)
    assert message and "\n" not in message
    return caught.value, sink


def member(report_id: str, data: bytes) -> Member:
    return Member(report_id, len(data), hashlib.sha256(data).digest(), lambda: io.BytesIO(data))


def member_data(i: int, size: int = 100) -> bytes:
    seed = hashlib.sha256(b"member %d" % i).digest()
    return (seed * (size // 32 + 1))[:size]


def write(
    members: list[Member] | None = None, dest: BinaryIO | None = None, **kw: Any
) -> tuple[bytes, bundle.BundleInfo]:
    out = dest if dest is not None else io.BytesIO()
    args: dict[str, Any] = {
        "sender_seed": SENDER_SEED,
        "sender_keys": SENDER,
        "recipient": RECIPIENT,
        "sequence": 1,
        "previous_hash": bundle.ZERO_HASH,
        "members": members if members is not None else [],
        "statements": [],
        "audit": None,
        "created": CREATED,
    }
    args.update(kw)
    info = bundle.write_bundle(out, **args)
    return (out.getvalue() if isinstance(out, io.BytesIO) else b""), info


# --- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 1000])
def test_round_trip_keeps_every_member_byte_and_the_manifest(count: int) -> None:
    datas = [member_data(i, size=i % 300) for i in range(count)]
    members = [member(f"r{i}", d) for i, d in enumerate(datas)]
    data, info = write(members, sequence=7, previous_hash=b"\x07" * 32)
    sink = RecordingSink()
    seen: list[bundle.Manifest] = []

    result = open_bundle(data, sink, on_manifest=seen.append)

    assert sink.events[-1] == "commit" and "discard" not in sink.events
    assert {i: bytes(b) for i, b in sink.data.items()} == {i: d for i, d in enumerate(datas) if d}
    assert result.manifest == info.manifest
    assert seen == [info.manifest]
    assert result.manifest_bytes == info.manifest_bytes
    assert result.bundle_hash == info.bundle_hash == hashlib.sha256(decrypt(data)).digest()
    assert result.link == ChainLink(7, info.bundle_hash, b"\x07" * 32)
    assert len(result.manifest.members) == count
    crypto.verify(SENDER.signing_public, "bundle-manifest", result.manifest_bytes, result.signature)


def test_the_outer_layer_is_encrypted_to_the_recipient_only() -> None:
    data, _ = write([member("r1", b"x")])
    header = agehdr.check_header_bytes(data)
    assert len(header.x25519_stanzas) == 1
    with pytest.raises(DecryptionFailed):
        decrypt(data, vec.KEYS["sender"][1])
    assert decrypt(data).startswith(bundle.MAGIC)


def test_two_bundles_of_the_same_reports_differ_by_their_random_id() -> None:
    members = [member("r1", b"same")]
    _, first = write(members)
    _, second = write(members)
    assert first.manifest.bundle_id != second.manifest.bundle_id
    assert first.bundle_hash != second.bundle_hash


def test_the_parser_gives_the_same_result_whatever_the_write_sizes() -> None:
    data = (VECTOR_DIR / "full.bin").read_bytes()
    results = set()
    rng = random.Random(5)
    for pattern in ("1", "7", "8192", "random"):
        sink = RecordingSink()
        parser = bundle._Parser(RECIPIENT.fingerprint, lookup_of(SENDER), sink, Limits(), None)
        at = 0
        while at < len(data):
            step = rng.randint(1, 300) if pattern == "random" else int(pattern)
            parser.write(data[at : at + step])
            at += step
        result = parser.finish()
        results.add((result.bundle_hash, tuple((i, bytes(b)) for i, b in sink.data.items())))
    assert len(results) == 1


def test_a_parser_failure_sticks_even_if_the_decryption_swallowed_it() -> None:
    data = (VECTOR_DIR / "full.bin").read_bytes() + b"trailing"
    parser = bundle._Parser(
        RECIPIENT.fingerprint, lookup_of(SENDER), RecordingSink(), Limits(), None
    )
    with pytest.raises(FormatError, match="extra data") as first:
        parser.write(data)
    with pytest.raises(FormatError) as again:
        parser.write(b"more")
    with pytest.raises(FormatError) as finished:
        parser.finish()
    assert first.value is again.value is finished.value


# --- the vectors --------------------------------------------------------------------------

VECTORS = json.loads((VECTOR_DIR / "vectors.json").read_text())["vectors"]
VALID = [v for v in VECTORS if v["valid"]]
INVALID = [v for v in VECTORS if not v["valid"]]


def test_the_generator_reproduces_every_vector_file() -> None:
    files, document = vec.build()
    for name, data in files.items():
        assert (VECTOR_DIR / name).read_bytes() == data, name
    assert json.loads((VECTOR_DIR / "vectors.json").read_text()) == json.loads(
        json.dumps(document, ensure_ascii=False)
    )
    on_disk = {str(p.relative_to(VECTOR_DIR)) for p in VECTOR_DIR.rglob("*.bin")}
    # v2/ holds the version 2 vectors, made once by generate_v2.py (spec §13.6).
    assert {n for n in on_disk if not n.startswith("v2/")} == set(files)


@pytest.mark.parametrize("vector", VALID, ids=[v["name"] for v in VALID])
def test_valid_vector_parses_as_described(vector: dict[str, Any]) -> None:
    container = (VECTOR_DIR / vector["file"]).read_bytes()
    sink = RecordingSink()
    result = open_bundle(encrypt(container), sink)
    manifest = result.manifest
    assert result.bundle_hash.hex() == vector["bundle_hash_hex"]
    assert manifest.bundle_id == vector["bundle_id"]
    assert manifest.created == datetime.fromisoformat(vector["created"])
    assert manifest.sequence == vector["sequence"]
    assert manifest.previous_hash.hex() == vector["previous_hash_hex"]
    assert manifest.sender.fingerprint.hex() == vector["sender_fingerprint_hex"]
    assert manifest.recipient_fingerprint.hex() == vector["recipient_fingerprint_hex"]
    assert [
        {"report_id": m.report_id, "size": m.size, "sha256_hex": m.sha256.hex()}
        for m in manifest.members
    ] == vector["members"]
    for index, expected in enumerate(vector["members"]):
        got = bytes(sink.data.get(index, b""))
        assert hashlib.sha256(got).hexdigest() == expected["sha256_hex"]
    kinds = [type(s).__name__ for s in result.statements]
    assert kinds == [
        {"securesubmit-rotation": "RotationStatement"}.get(k, "RevocationStatement")
        for k in vector["statement_kinds"]
    ]
    size = None if result.checkpoint is None else result.checkpoint.size
    assert size == vector["checkpoint_size"]
    audit = manifest.audit
    old = None if audit is None or audit.consistency is None else audit.consistency.old_size
    assert old == vector["consistency_old_size"]


def test_the_vectors_form_a_chain() -> None:
    links = [
        ChainLink(
            v["sequence"],
            bytes.fromhex(v["bundle_hash_hex"]),
            bytes.fromhex(v["previous_hash_hex"]),
        )
        for v in VALID
    ]
    state = None
    for link in links:
        assert classify_sequence(state, link).kind is SequenceKind.NEW
        state = SeqState.of([*(state.links.values() if state else []), link])


@pytest.mark.parametrize("vector", INVALID, ids=[v["name"] for v in INVALID])
def test_invalid_vector_is_refused_with_its_error(vector: dict[str, Any]) -> None:
    container = (VECTOR_DIR / vector["file"]).read_bytes()
    error, _ = refused(encrypt(container))
    assert type(error).__name__ == vector["error"]
    assert vector["message_contains"] in str(error)


def _audit_slot(raw: dict[str, Any] | None) -> AuditSlot | None:
    if raw is None:
        return None
    consistency = raw["consistency"]
    return AuditSlot(
        checkpoint=raw["checkpoint"].encode(),
        verifier_key=raw["verifier_key"],
        consistency=None
        if consistency is None
        else ConsistencyProof(
            consistency["old_size"],
            tuple(merkle.decode_proof(base64.b64decode(consistency["proof"]))),
        ),
    )


@pytest.mark.parametrize("name", ["empty", "one-member", "full"])
def test_write_bundle_writes_the_valid_vectors_byte_for_byte(name: str) -> None:
    inputs = vec.valid_inputs()[name]
    data, info = write(
        [member(rid, d) for rid, d in inputs["members"]],
        sequence=inputs["sequence"],
        previous_hash=inputs["previous_hash"],
        statements=inputs.get("statements", []),
        audit=_audit_slot(inputs.get("audit")),
        created=datetime.fromisoformat(inputs["created"]),
        bundle_id=inputs["bundle_id"],
    )
    expected = (VECTOR_DIR / f"{name}.bin").read_bytes()
    assert decrypt(data) == expected
    assert info.bundle_hash == hashlib.sha256(expected).digest()


def test_the_spec_shows_the_empty_vector_verbatim() -> None:
    container = (VECTOR_DIR / "empty.bin").read_bytes()
    (length,) = bundle._U32.unpack(container[24:28])
    manifest = container[28 : 28 + length].decode()
    spec = SPEC.read_text()
    assert manifest in spec
    assert container[28 + length : 28 + length + 64].hex() in spec.replace("\n", "")
    assert hashlib.sha256(container).hexdigest() in spec


# --- attacks and damage --------------------------------------------------------------------


def test_a_manifest_signed_by_another_key_is_refused() -> None:
    inputs = vec.valid_inputs()["one-member"]
    forged = vec.MAGIC + vec.manifest_record(vec.canonical(vec.manifest_object(**inputs)), "other")
    forged += vec.member_record(0, vec.MEMBERS_ONE[0][1]) + vec.end_record(1, 63)
    error, sink = refused(encrypt(forged), BadSignature)
    assert "signature does not verify" in str(error)
    assert not sink.wrote


def test_a_manifest_from_a_revoked_key_is_refused_with_the_lookups_error() -> None:
    data, _ = write([member("r1", b"report")])
    revoked_message = "the key was revoked by its owner on 2026-11-01T00:00:00Z"

    def lookup(fp: bytes) -> identity.PublicKeys:
        raise identity.KeyRevoked(revoked_message)

    error, sink = refused(data, identity.KeyRevoked, lookup=lookup)
    assert str(error) == revoked_message
    assert not sink.wrote


def test_an_unknown_sender_is_refused_with_its_fingerprint_shown() -> None:
    data, _ = write([member("r1", b"report")])
    error, _ = refused(data, bundle.UnknownSender, lookup=lookup_of(OTHER))
    assert SENDER.display() in str(error)


def test_a_key_that_is_no_longer_the_senders_current_key_is_refused() -> None:
    data, _ = write()
    error, _ = refused(data, bundle.SenderKeyChanged, lookup=lambda fp: OTHER)
    assert SENDER.display() in str(error) and OTHER.display() in str(error)


def test_a_bundle_for_another_recipient_re_encrypted_to_me_is_refused() -> None:
    data, _ = write([member("r1", b"report for other")], recipient=OTHER)
    with pytest.raises(DecryptionFailed):  # not encrypted to me as written
        open_bundle(data)
    re_encrypted = encrypt(decrypt(data, OTHER_SECRET), to=RECIPIENT)
    error, sink = refused(re_encrypted, bundle.WrongRecipient)
    assert "made for another recipient" in str(error)
    assert not sink.wrote


@pytest.mark.parametrize("keep", [0, 1, 30, 200, -1, -17, -100])
def test_a_truncated_bundle_is_refused(keep: int) -> None:
    data, _ = write([member(f"r{i}", member_data(i, 40_000)) for i in range(3)])
    error, _ = refused(data[:keep])  # keep < 0: all but the last -keep bytes
    assert isinstance(error, FormatError | DecryptionFailed)


def test_extra_data_after_the_age_file_is_refused() -> None:
    data, _ = write([member("r1", b"report")])
    refused(data + b"\x00", DecryptionFailed)


def test_a_flipped_byte_at_200_random_offsets_is_always_refused() -> None:
    # Three members over several 64 KiB age chunks, so some flips fail only after
    # authenticated chunks were released into the sink: the discard is what protects.
    data, _ = write([member(f"r{i}", member_data(i, 70_000)) for i in range(3)])
    rng = random.Random(20261123)
    offsets = sorted(rng.sample(range(len(data)), 200))
    released_before_failure = 0
    for offset in offsets:
        damaged = bytearray(data)
        damaged[offset] ^= rng.randint(1, 255)
        sink = RecordingSink()
        with pytest.raises(SecureSubmitError):
            open_bundle(bytes(damaged), sink)
        assert sink.events.count("discard") == 1 and "commit" not in sink.events, offset
        released_before_failure += sink.wrote
    assert released_before_failure > 0


def test_an_oversized_manifest_is_refused_before_it_is_read() -> None:
    container = (VECTOR_DIR / "invalid" / "oversized-manifest.bin").read_bytes()
    error, _ = refused(encrypt(container), FormatError)
    assert "1,048,577 bytes" in str(error)
    # The limit is configurable, and applies to a bundle that is otherwise fine.
    data, info = write([member("r1", b"x")])
    error, _ = refused(data, FormatError, limits=Limits(max_manifest_bytes=100))
    assert f"{len(info.manifest_bytes):,} bytes" in str(error)


def test_the_writer_refuses_a_manifest_over_the_limit() -> None:
    members = [member(f"r{i}", b"") for i in range(20)]
    with pytest.raises(InputError, match="several bundles"):
        write(members, limits=Limits(max_manifest_bytes=1000))


@pytest.mark.parametrize(
    ("limits", "fragment"),
    [
        (Limits(max_members=2), "3 reports, more than the limit of 2"),
        (Limits(max_total_bytes=299), "more than the limit of 299 bytes"),
        (Limits(max_statements=1), "2 key statements, more than the limit of 1"),
    ],
)
def test_reader_limits_are_enforced(limits: Limits, fragment: str) -> None:
    container = (VECTOR_DIR / "full.bin").read_bytes()
    error, sink = refused(encrypt(container), FormatError, limits=limits)
    assert fragment in str(error)
    assert not sink.wrote


def _refused_before_decryption(hostile: bytes, fragment: str) -> None:
    """Opening ``hostile`` fails in the header check: nothing beyond the header's read
    limit is read (so pyrage never ran) and the sink sees only the discard."""
    source = _CountingReader(hostile)
    sink = RecordingSink()
    with pytest.raises(FormatError, match=fragment):
        bundle.read_bundle(
            cast(BinaryIO, source),
            my_secret=RECIPIENT_SECRET,
            my_fingerprint=RECIPIENT.fingerprint,
            sender_lookup=lookup_of(SENDER),
            sink=sink,
        )
    assert source.read_bytes <= agehdr.READ_LIMIT
    assert sink.events == ["discard"]


@pytest.mark.parametrize(
    ("stanza", "fragment"),
    [
        (b"-> x\n\n", "more than 64 recipient stanzas"),  # 10,000 fit in 60 KB
        (None, "more than 64 recipient stanzas"),  # 10,000 copies of the bundle's own
    ],
)
def test_10000_stanza_age_header_is_refused_before_decryption(
    stanza: bytes | None, fragment: str
) -> None:
    data, _ = write([member("r1", b"report")])
    header = agehdr.check_header_bytes(data)
    first = len(agehdr.VERSION_LINE) + 1
    mac_line = header.length - 48
    extra = data[first:mac_line] if stanza is None else stanza
    hostile = data[:first] + extra * 10_000 + data[first:]
    _refused_before_decryption(hostile, fragment)


def test_scrypt_stanza_age_header_is_refused_before_decryption() -> None:
    data, _ = write([member("r1", b"report")])
    first = len(agehdr.VERSION_LINE) + 1
    salt = base64.b64encode(bytes(16)).rstrip(b"=")
    body = base64.b64encode(bytes(32)).rstrip(b"=")
    scrypt = b"-> scrypt " + salt + b" 23\n" + body + b"\n"  # work factor 2^23: 8 GB
    _refused_before_decryption(data[:first] + scrypt + data[first:], r"passphrase \(scrypt\)")


def test_a_flipped_byte_anywhere_in_the_age_header_is_refused() -> None:
    data, _ = write([member("r1", b"report")])
    length = agehdr.check_header_bytes(data).length + agehdr.NONCE_SIZE
    kinds = set()
    for offset in range(length):
        damaged = bytearray(data)
        damaged[offset] ^= 0x20
        error, _ = refused(bytes(damaged))
        kinds.add(type(error))
    assert kinds == {FormatError, DecryptionFailed}


class _CountingReader(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = io.BytesIO(data)
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self.read_bytes += len(chunk)
        return len(chunk)


# --- the writer refuses what it should not write -------------------------------------


@pytest.mark.parametrize(
    ("stream", "fragment"),
    [
        (b"short", "is 5 bytes, not the 6 recorded"),
        (b"longer!", "longer than the 6 bytes"),
        (b"Report", "does not match the SHA-256"),
    ],
)
def test_a_member_that_does_not_match_its_record_stops_the_writer(
    stream: bytes, fragment: str
) -> None:
    good = member("r1", b"report")
    bad = Member("r2", 6, hashlib.sha256(b"report").digest(), lambda: io.BytesIO(stream))
    out = io.BytesIO()
    with pytest.raises(bundle.MemberMismatch, match=fragment):
        write([good, bad], dest=out)
    # What was written is no bundle: it never reaches the end record.
    partial = out.getvalue()
    with pytest.raises(SecureSubmitError):
        open_bundle(partial)


class _FullDisk(io.RawIOBase):
    """Accepts ``room`` writes, then fails like a full disk (or accepts no bytes)."""

    def __init__(self, room: int, silently: bool = False) -> None:
        super().__init__()
        self.room, self.silently, self.writes = room, silently, 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.writes += 1
        if self.writes > self.room:
            if self.silently:
                return 0
            raise OSError(28, "No space left on device")
        return len(data)


@pytest.mark.parametrize("silently", [False, True])
@pytest.mark.parametrize("members", [0, 1])
def test_the_writers_own_disk_error_is_never_lost(members: int, silently: bool) -> None:
    # Fail at each write in turn, the last included: pyrage ignores an error in its
    # final flush (the only write of a small bundle), and loses bytes on a short write.
    content = [member("r1", member_data(1, 200_000))][:members]
    counter = _FullDisk(room=10**9)
    write(content, dest=counter)  # type: ignore[arg-type]
    assert counter.writes >= 1
    for room in range(counter.writes):
        with pytest.raises(OSError, match=r"No space left|accepted no bytes") as caught:
            write(content, dest=_FullDisk(room, silently))  # type: ignore[arg-type]
        assert caught.type is OSError


def test_every_member_stream_is_closed_even_when_the_writer_fails() -> None:
    opened: list[io.BytesIO] = []

    def opener(data: bytes) -> Callable[[], BinaryIO]:
        def open_() -> BinaryIO:
            opened.append(io.BytesIO(data))
            return opened[-1]

        return open_

    datas = [member_data(i, 300_000) for i in range(3)]
    members = [
        Member(f"r{i}", len(d), hashlib.sha256(d).digest(), opener(d)) for i, d in enumerate(datas)
    ]
    with pytest.raises(OSError, match="No space left"):
        write(members, dest=_FullDisk(room=2))  # type: ignore[arg-type]
    assert opened and len(opened) < 3  # it stopped inside the members
    assert all(stream.closed for stream in opened)


def test_short_writes_are_completed() -> None:
    class Trickle(io.RawIOBase):
        def __init__(self) -> None:
            super().__init__()
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, data: Any) -> int:
            self.data += bytes(data[:100])
            return min(len(data), 100)

    dest = Trickle()
    _, info = write([member("r1", member_data(1, 50_000))], dest=dest)  # type: ignore[arg-type]
    assert hashlib.sha256(decrypt(bytes(dest.data))).digest() == info.bundle_hash


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"sequence": 1, "previous_hash": b"\x01" * 32}, "all-zero previous bundle hash"),
        ({"sequence": 2, "previous_hash": bundle.ZERO_HASH}, "all-zero previous bundle hash"),
        ({"sequence": 0}, "the sequence number is 0"),
        ({"bundle_id": "ABC"}, "32 lower-case hex digits"),
        ({"members": [member("../x", b"a")]}, "the id of report 0"),
        ({"members": [member("a", b"1"), member("a", b"2")]}, "repeats the report id"),
        ({"statements": [b"not a statement\n"]}, "key statement 0"),
        ({"audit": AuditSlot()}, "the audit slot is empty"),
        ({"audit": AuditSlot(verifier_key="not a key")}, "audit checkpoint is refused"),
    ],
)
def test_the_writer_refuses_what_a_reader_would_refuse(
    overrides: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(InputError, match=fragment):
        write(**overrides)


def test_the_writer_refuses_a_seed_that_is_not_the_senders() -> None:
    with pytest.raises(ValueError, match="sender_seed"):
        write(sender_seed=OTHER_SEED)


def test_a_checkpoint_not_signed_by_the_verifier_key_is_refused() -> None:
    raw = vec.audit_slot(5, 3)
    wrong_key = note.verifier_key(vec.log_name(), crypto.signing_public_key(b"\x55" * 32))
    slot = replace(_audit_slot(raw), verifier_key=wrong_key)  # type: ignore[type-var]
    with pytest.raises(InputError, match="audit checkpoint is refused"):
        write(audit=slot)
    too_old = replace(
        _audit_slot(raw),  # type: ignore[type-var]
        consistency=ConsistencyProof(6, ()),
    )
    with pytest.raises(InputError, match="larger tree than its checkpoint"):
        write(audit=too_old)


# --- the reader's interaction with the caller ---------------------------------------------


def test_on_manifest_runs_before_any_member_byte_and_can_stop_the_import() -> None:
    data, _ = write([member("r1", b"report")], sequence=3, previous_hash=b"\x03" * 32)
    sink = RecordingSink()

    def stop(manifest: bundle.Manifest) -> None:
        assert not sink.wrote
        raise bundle.ChainForked(f"bundle {manifest.sequence} was seen with another hash")

    with pytest.raises(bundle.ChainForked, match="bundle 3"):
        open_bundle(data, sink, on_manifest=stop)
    assert sink.events == ["discard"]


def test_a_sink_write_error_passes_unchanged_and_discards() -> None:
    data, _ = write([member("r1", b"report")])
    sink = RecordingSink(fail_write=OSError(28, "No space left on device"))
    with pytest.raises(OSError, match="No space left") as caught:
        open_bundle(data, sink)
    assert caught.type is OSError
    assert sink.events == ["discard"]


def test_a_failed_commit_is_followed_by_a_discard() -> None:
    data, _ = write([member("r1", b"report")])
    sink = RecordingSink(fail_commit=OSError("database is locked"))
    with pytest.raises(OSError, match="locked"):
        open_bundle(data, sink)
    assert sink.events[-2:] == ["commit", "discard"]


# --- the manifest's JSON ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b'{"a":"\\ud800"}', "invalid Unicode escape"),
        (b'{"a":NaN}', "NaN"),
        (b'{"a":1e3}', "fractional"),
        (b'{"a":123456789012345678}', "too long"),
        (b'{"a":-0}', "canonical form"),
        (b'{"b":1,"a":2}', "canonical form"),
        (b'{"a":"\\u00e9"}', "canonical form"),
        (b'{"a":"\xff"}', "not valid UTF-8"),
        (b'{"a":1} ', "canonical form"),
        (b"[]", "not a JSON object"),
        (b"{}", "no field 'audit'"),
    ],
)
def test_manifest_json_outside_the_canonical_form_is_refused(raw: bytes, fragment: str) -> None:
    with pytest.raises(FormatError, match=re.escape(fragment)):
        bundle.decode_manifest(raw)


def test_a_manifest_field_of_the_wrong_type_is_refused() -> None:
    obj = vec.manifest_object(**vec.valid_inputs()["full"])
    for key, value, fragment in [
        ("sequence", True, "not a whole number"),
        ("sequence", "3", "not a whole number"),
        ("members", [["r", 1]], "not a list [report id, size, SHA-256]"),
        ("members", [["r", -1, obj["members"][0][2]]], "outside 0 to"),
        ("statements", [3], "not a string"),
        ("audit", {"checkpoint": None, "verifier_key": None, "consistency": None}, "empty"),
        ("created", "2026-11-23 10:00:00", "not a time"),
        ("format", "securesubmit-bundle v2", "this program reads"),
    ]:
        with pytest.raises(FormatError, match=re.escape(fragment)):
            bundle.decode_manifest(vec.canonical({**obj, key: value}))


# --- sequence decisions ----------------------------------------------------------------


def h(n: int) -> bytes:
    return bytes([n]) * 32


def link(seq: int, own: int, prev: int | None = None) -> ChainLink:
    """Bundle ``seq`` with hash h(own) whose previous hash is h(prev) (zero for seq 1)."""
    return ChainLink(
        seq, h(own), bundle.ZERO_HASH if seq == 1 else h(seq - 1 if prev is None else prev)
    )


def chain(*seqs: int) -> SeqState:
    """The honest links ``seqs``: bundle s has hash h(s) and follows h(s - 1)."""
    return SeqState.of(link(s, s) for s in seqs)


@pytest.mark.parametrize(
    ("state", "incoming", "kind", "missing", "fragment"),
    [
        # nothing imported yet
        (None, link(1, 1), SequenceKind.NEW, range(0), "the first from this sender"),
        (None, link(2, 2), SequenceKind.GAP, range(1, 2), "bundle 1 from this sender is missing"),
        (None, link(5, 5), SequenceKind.GAP, range(1, 5), "bundles 1 to 4"),
        # the next one
        (chain(1), link(2, 2), SequenceKind.NEW, range(0), "the next"),
        (chain(1, 2, 3), link(4, 4), SequenceKind.NEW, range(0), "bundle 4"),
        # duplicates: nothing changes
        (chain(1), link(1, 1), SequenceKind.DUPLICATE, range(0), "nothing changed"),
        (chain(1, 2, 3), link(2, 2), SequenceKind.DUPLICATE, range(0), "already imported"),
        (chain(1, 2, 3), link(3, 3), SequenceKind.DUPLICATE, range(0), "bundle 3"),
        # gaps
        (chain(1, 2), link(5, 5), SequenceKind.GAP, range(3, 5), "bundles 3 to 4"),
        (chain(1, 2), link(4, 4), SequenceKind.GAP, range(3, 4), "bundle 3 from this sender"),
        # older ones, filling a gap
        (chain(1, 2, 5), link(3, 3), SequenceKind.OLDER, range(0), "older than bundle 5"),
        (chain(1, 2, 5), link(4, 4), SequenceKind.OLDER, range(0), "out of order"),
        (chain(2, 5), link(1, 1), SequenceKind.OLDER, range(0), "bundle 1"),
        # forks
        (chain(1, 2), link(2, 99), SequenceKind.FORK, range(0), "differs from the bundle 2"),
        (chain(1), link(1, 99), SequenceKind.FORK, range(0), "differs from the bundle 1"),
        (chain(1, 2), link(3, 3, prev=98), SequenceKind.FORK, range(0), "does not follow"),
        (chain(1, 2, 5), link(3, 3, prev=98), SequenceKind.FORK, range(0), "bundle 2"),
        (chain(1, 2, 5), link(4, 97), SequenceKind.FORK, range(0), "the bundle 5 already"),
        (chain(2, 5), link(1, 96), SequenceKind.FORK, range(0), "the bundle 2 already"),
    ],
)
def test_classify_sequence(
    state: SeqState | None,
    incoming: ChainLink,
    kind: SequenceKind,
    missing: range,
    fragment: str,
) -> None:
    decision = classify_sequence(state, incoming)
    assert decision.kind is kind
    assert decision.missing == missing
    assert fragment in decision.message
    assert decision.should_import == (
        kind in {SequenceKind.NEW, SequenceKind.GAP, SequenceKind.OLDER}
    )
    if kind is SequenceKind.FORK:
        with pytest.raises(bundle.ChainForked):
            decision.raise_if_fork()
    else:
        decision.raise_if_fork()


def test_classify_sequence_on_every_small_history_agrees_with_a_brute_force_rule() -> None:
    # Every honest history of bundles 1..5 (as a subset), every incoming bundle 1..6,
    # honest or with a forged hash or previous hash: the decision follows from the rules
    # in docs/spec/bundle.md §8, restated here independently.
    for mask in range(1, 2**5):
        have = [s for s in range(1, 6) if mask >> (s - 1) & 1]
        state = chain(*have)
        for s in range(1, 7):
            for own, prev in [(s, s - 1), (90 + s, s - 1), (s, 80 + s)]:
                if s == 1 and prev != 0:
                    continue
                incoming = link(s, own, prev if s > 1 else None)
                honest_hash, honest_prev = own == s, prev == s - 1
                if s in have:
                    expected = SequenceKind.DUPLICATE if honest_hash else SequenceKind.FORK
                elif (s - 1 in have and not honest_prev) or (s + 1 in have and not honest_hash):
                    expected = SequenceKind.FORK
                elif s < max(have):
                    expected = SequenceKind.OLDER
                elif s == max(have) + 1:
                    expected = SequenceKind.NEW
                else:
                    expected = SequenceKind.GAP
                decision = classify_sequence(state, incoming)
                assert decision.kind is expected, (have, s, own, prev)
                if expected is SequenceKind.GAP:
                    assert list(decision.missing) == list(range(max(have) + 1, s))


def test_a_huge_gap_is_reported_as_a_range_not_a_list() -> None:
    decision = classify_sequence(chain(1), link(2**53 - 1, 7, prev=6))
    assert decision.kind is SequenceKind.GAP
    assert len(decision.missing) == 2**53 - 3
    assert "bundles 2 to 9007199254740990" in decision.message


@pytest.mark.parametrize(
    "make",
    [
        lambda: ChainLink(0, h(1), h(2)),
        lambda: ChainLink(1, h(1), h(2)),
        lambda: ChainLink(2, h(1), bundle.ZERO_HASH),
        lambda: ChainLink(2, b"short", h(1)),
        lambda: SeqState({}),
        lambda: SeqState({3: link(2, 2)}),
    ],
)
def test_malformed_chain_state_is_a_programming_error(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        make()


# --- bounded memory and time --------------------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import hashlib, io, json, re, sys, time
    from datetime import UTC, datetime
    from securesubmit.core import bundle
    from tests.vectors.bundle import generate as vec

    mode, path, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    sender, recipient = vec.public("sender"), vec.public("recipient")

    def status(field):
        # VmHWM and VmRSS belong to this process's memory since exec; ru_maxrss does
        # not (Linux carries the parent's peak across fork and exec).
        text = open("/proc/self/status").read()
        return int(re.search(field + r":\\s+(\\d+) kB", text).group(1))

    class Pattern(io.RawIOBase):
        # Member i: its own 32-byte pattern repeated, made as it is read, never whole.
        def __init__(self, i):
            self.seed, self.left = hashlib.sha256(b"member %d" % i).digest() * 2049, size
        def readable(self):
            return True
        def readinto(self, buffer):
            n, phase = min(len(buffer), self.left, 65536), (size - self.left) % 32
            buffer[:n] = self.seed[phase : phase + n]
            self.left -= n
            return n

    def digest(i):
        h, stream = hashlib.sha256(), Pattern(i)
        while chunk := stream.read(65536):
            h.update(chunk)
        return h.digest()

    members = [
        bundle.Member(f"r{i:031d}", size, digest(i), lambda i=i: io.BufferedReader(Pattern(i)))
        for i in range(count)
    ] if mode == "write" else []

    class Sink:
        total = 0
        def write(self, index, chunk):
            self.total += len(chunk)
        def commit(self):
            pass
        def discard(self):
            pass

    start_kib = status("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
        reset = True
    except OSError:
        reset = False
    began = time.perf_counter()
    if mode == "write":
        with open(path, "wb") as out:
            bundle.write_bundle(
                out, sender_seed=vec.KEYS["sender"][0], sender_keys=sender,
                recipient=recipient, sequence=1, previous_hash=bundle.ZERO_HASH,
                members=members, statements=[], audit=None,
                created=datetime(2026, 11, 23, tzinfo=UTC))
    else:
        sink = Sink()
        with open(path, "rb") as source:
            result = bundle.read_bundle(
                source, my_secret=vec.KEYS["recipient"][1],
                my_fingerprint=recipient.fingerprint,
                sender_lookup=lambda fp: sender, sink=sink)
        assert sink.total == count * size and len(result.manifest.members) == count
    print(json.dumps({
        "seconds": time.perf_counter() - began,
        "start_kib": start_kib,
        "peak_kib": status("VmHWM"),
        "peak_is_of_the_operation": reset,
    }))
    """
)


def run_child(mode: str, path: Path, count: int, size: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(path), str(count), str(size)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, float] = json.loads(done.stdout)
    return result


def test_10000_members_are_written_and_read_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "many.ssb"
    wrote = run_child("write", path, 10_000, 2048)
    read = run_child("read", path, 10_000, 2048)
    for measured in (wrote, read):
        assert measured["peak_kib"] < 64 * 1024, measured
        # The members' 20 MB never sit in memory at once.
        if measured["peak_is_of_the_operation"]:
            assert measured["peak_kib"] - measured["start_kib"] < 16 * 1024, measured


def test_a_48_mib_member_streams_through_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.ssb"
    wrote = run_child("write", path, 1, 48 * 1024 * 1024)
    read = run_child("read", path, 1, 48 * 1024 * 1024)
    for measured in (wrote, read):
        assert measured["peak_kib"] < 64 * 1024, measured


# --- the age layer (agev1): keys as objects, several keys, hybrid recipients -----------


def test_read_bundle_takes_agev1_identities_and_several_keys() -> None:
    datas = [member_data(i, size=70_000) for i in range(2)]
    data, info = write([member(f"r{i}", d) for i, d in enumerate(datas)])
    for key in (
        agev1.X25519Identity(RECIPIENT_SECRET),
        [agev1.generate_hybrid_identity(), agev1.generate_x25519_identity(), RECIPIENT_SECRET],
    ):
        sink = RecordingSink()
        result = open_bundle(data, sink, my_secret=key)
        assert result.bundle_hash == info.bundle_hash
        assert {i: bytes(b) for i, b in sink.data.items()} == dict(enumerate(datas))
    # The container encrypted to a post-quantum key of the recipient opens with it.
    hybrid = agev1.generate_hybrid_identity()
    pq = io.BytesIO()
    agev1.encrypt_stream(io.BytesIO(decrypt(data)), pq, [hybrid.recipient()])
    assert open_bundle(pq.getvalue(), my_secret=[RECIPIENT_SECRET, hybrid]).link == info.link
    _, sink = refused(pq.getvalue(), DecryptionFailed)  # the X25519 key alone: not for it
    assert not sink.wrote


def test_bundle_members_reach_the_sink_in_pieces_of_64_kib() -> None:
    """agev1 hands the parser whole 64 KiB chunks (pyrage gave 8 KiB)."""
    data, _ = write([member("r0", member_data(0, size=300_000))])

    class Sizes(RecordingSink):
        def __init__(self) -> None:
            super().__init__()
            self.sizes: list[int] = []

        def write(self, index: int, chunk: bytes) -> None:
            self.sizes.append(len(chunk))
            super().write(index, chunk)

    sink = Sizes()
    open_bundle(data, sink)
    assert sum(sink.sizes) == 300_000
    assert max(sink.sizes) == 65536 and len(sink.sizes) <= 6


# --- version 2: hybrid senders (spec §13) ----------------------------------------------------

V2_DIR = VECTOR_DIR / "v2"
V2 = json.loads((V2_DIR / "vectors.json").read_text())


def _v2_keys(name: str) -> tuple[identity.PublicKeys, list[agev1.Identity], bytes, bytes]:
    k = V2["keys"][name]
    fields = ("ed25519_seed", "x25519_secret", "mldsa_seed", "hybrid_seed")
    ed, x, mldsa, pq = (bytes.fromhex(k[f]) for f in fields)
    keys = identity.PublicKeys(
        crypto.signing_public_key(ed),
        crypto.encryption_public_key(x),
        crypto.mldsa_public_key(mldsa),
        crypto.hybrid_public_key(pq),
    )
    assert keys.fingerprint.hex() == k["fingerprint"]
    return keys, [agev1.HybridIdentity(pq), agev1.X25519Identity(x)], ed, mldsa


V2_SENDER, _, V2_SENDER_SEED, V2_SENDER_MLDSA = _v2_keys("sender")
V2_RECIPIENT, V2_IDENTITIES, _, _ = _v2_keys("recipient")


def _v2_read(name: str, sink: RecordingSink, **kw: Any) -> bundle.VerifiedBundle:
    data = (V2_DIR / name).read_bytes()
    if name.endswith(".bin"):
        out = io.BytesIO()
        agev1.encrypt_stream(
            io.BytesIO(data), out, [agev1.HybridRecipient(cast(bytes, V2_RECIPIENT.pq_public))]
        )
        data = out.getvalue()
    return bundle.read_bundle(
        io.BytesIO(data),
        my_secret=V2_IDENTITIES,
        my_fingerprint=V2_RECIPIENT.fingerprint,
        sender_lookup=lookup_of(V2_SENDER),
        sink=sink,
        **kw,
    )


@pytest.mark.parametrize("name", sorted(V2["valid"]))
def test_v2_valid_vector_is_read_with_both_signatures(name: str) -> None:
    expected = V2["valid"][name]
    sink = RecordingSink()
    result = _v2_read(name, sink)
    assert sink.events[-1] == "commit"
    container = (V2_DIR / expected["container"]).read_bytes()
    assert result.bundle_hash == hashlib.sha256(container).digest()
    assert result.manifest.version == 2 and result.signature_protection == "hybrid"
    assert result.manifest.sender == V2_SENDER
    assert result.manifest.encryption == expected["encryption"]
    assert result.encryption == expected["encryption"]
    assert result.mldsa_signature is not None


@pytest.mark.parametrize("name", sorted(V2["invalid"]))
def test_v2_vector_is_refused_with_its_error(name: str) -> None:
    error, message = V2["invalid"][name]
    sink = RecordingSink()
    with pytest.raises(SecureSubmitError) as caught:
        _v2_read(f"invalid/{name}", sink)
    assert type(caught.value).__name__ == error
    assert message in str(caught.value)
    assert "discard" in sink.events and "commit" not in sink.events


def test_v2_a_classical_outer_layer_is_refused_when_hybrid_is_required() -> None:
    name, error, message = V2["require_hybrid_refuses"]
    sink = RecordingSink()
    with pytest.raises(SecureSubmitError) as caught:
        _v2_read(name, sink, require_hybrid=True)
    assert type(caught.value).__name__ == error and message in str(caught.value)


@pytest.mark.parametrize("hybrid_recipient", [True, False])
def test_v2_write_bundle_signs_with_both_and_states_the_age_layer(hybrid_recipient: bool) -> None:
    recipient = V2_RECIPIENT if hybrid_recipient else V2_RECIPIENT.classical
    out = io.BytesIO()
    info = bundle.write_bundle(
        out,
        sender_seed=V2_SENDER_SEED,
        sender_keys=V2_SENDER,
        recipient=recipient,
        sequence=1,
        previous_hash=bundle.ZERO_HASH,
        members=[member("r-1", b"opaque")],
        statements=(),
        audit=None,
        created=CREATED,
        sender_mldsa_seed=V2_SENDER_MLDSA,
    )
    layer = "hybrid" if hybrid_recipient else "classical"
    assert info.encryption == layer and info.manifest.encryption == layer
    assert info.mldsa_signature is not None and info.manifest.version == 2
    header = agehdr.check_header_bytes(out.getvalue(), recipient_types=agev1.OPENABLE_TYPES)
    assert agev1.is_post_quantum(header) is hybrid_recipient
    result = bundle.read_bundle(
        io.BytesIO(out.getvalue()),
        my_secret=V2_IDENTITIES,
        my_fingerprint=recipient.fingerprint,
        sender_lookup=lookup_of(V2_SENDER),
        sink=RecordingSink(),
    )
    assert result.bundle_hash == info.bundle_hash and result.encryption == layer
    with pytest.raises(ValueError, match="secret half"):
        bundle.write_bundle(
            io.BytesIO(),
            sender_seed=V2_SENDER_SEED,
            sender_keys=V2_SENDER,
            recipient=recipient,
            sequence=1,
            previous_hash=bundle.ZERO_HASH,
            members=[],
            statements=(),
            audit=None,
            created=CREATED,
        )


# --- the audit slot of a hybrid log (docs/spec/bundle.md §5) ------------------------------

HYBRID_CHECKPOINT = json.loads(
    (REPO / "tests" / "vectors" / "audit" / "checkpoint-hybrid.json").read_text(encoding="utf-8")
)
_HYBRID_CASES = {case["name"]: case["note"].encode() for case in HYBRID_CHECKPOINT["cases"]}


def _hybrid_slot(checkpoint: bytes, *, with_key: bool = True) -> AuditSlot:
    return AuditSlot(
        checkpoint=checkpoint,
        verifier_key=HYBRID_CHECKPOINT["verifier_key"],
        mldsa_verifier_key=HYBRID_CHECKPOINT["mldsa_verifier_key"] if with_key else None,
    )


def _v2_bundle_with(slot: AuditSlot | None) -> bytes:
    out = io.BytesIO()
    bundle.write_bundle(
        out,
        sender_seed=V2_SENDER_SEED,
        sender_keys=V2_SENDER,
        recipient=V2_RECIPIENT,
        sequence=1,
        previous_hash=bundle.ZERO_HASH,
        members=[member("r-1", b"opaque")],
        statements=(),
        audit=slot,
        created=CREATED,
        sender_mldsa_seed=V2_SENDER_MLDSA,
    )
    return out.getvalue()


def _read_v2(data: bytes) -> bundle.VerifiedBundle:
    return bundle.read_bundle(
        io.BytesIO(data),
        my_secret=V2_IDENTITIES,
        my_fingerprint=V2_RECIPIENT.fingerprint,
        sender_lookup=lookup_of(V2_SENDER),
        sink=RecordingSink(),
    )


def test_a_hybrid_log_checkpoint_travels_in_a_v2_bundle_and_is_verified_with_both_keys() -> None:
    result = _read_v2(_v2_bundle_with(_hybrid_slot(_HYBRID_CASES["hybrid"])))
    assert result.checkpoint is not None and result.checkpoint.size == 8
    assert result.manifest.audit is not None
    assert result.manifest.audit.mldsa_verifier_key == HYBRID_CHECKPOINT["mldsa_verifier_key"]


@pytest.mark.parametrize("case", ["ML-DSA-65 line stripped", "ML-DSA-65 signature altered"])
def test_a_hybrid_log_checkpoint_without_a_valid_mldsa_signature_is_refused(case: str) -> None:
    # The writer checks what a reader would check, so it refuses to write it...
    with pytest.raises(InputError, match=r"audit checkpoint is refused.*ML-DSA-65"):
        _v2_bundle_with(_hybrid_slot(_HYBRID_CASES[case]))
    # ...and a reader given such a manifest refuses it too.
    manifest = bundle.Manifest(
        bundle_id="0" * 32,
        created=CREATED,
        sender=V2_SENDER,
        recipient_fingerprint=V2_RECIPIENT.fingerprint,
        sequence=1,
        previous_hash=bundle.ZERO_HASH,
        members=(),
        statements=(),
        audit=_hybrid_slot(_HYBRID_CASES[case]),
        encryption="hybrid",
    )
    data = bundle.canonical_json(bundle._manifest_object(manifest))
    decoded = bundle.decode_manifest(data, version=2)
    with pytest.raises(BadSignature, match="ML-DSA-65"):
        bundle._verify_contents(decoded)


def test_the_mldsa_verifier_key_lives_only_in_v2_manifests_and_is_never_null() -> None:
    data = _v2_bundle_with(_hybrid_slot(_HYBRID_CASES["hybrid"]))
    manifest = _read_v2(data).manifest
    raw = json.loads(bundle.canonical_json(bundle._manifest_object(manifest)))
    assert raw["audit"]["mldsa_verifier_key"] == HYBRID_CHECKPOINT["mldsa_verifier_key"]
    raw["audit"]["mldsa_verifier_key"] = None
    with pytest.raises(FormatError, match="null"):
        bundle.decode_manifest(bundle.canonical_json(raw), version=2)
    # A classical log's slot has no such field at all (the committed v2 vectors).
    classical = replace(manifest, audit=replace(manifest.audit, mldsa_verifier_key=None))
    raw = json.loads(bundle.canonical_json(bundle._manifest_object(classical)))
    assert "mldsa_verifier_key" not in raw["audit"]
    # Version 1 has no place for it: the writer refuses, and so does the reader.
    v1 = replace(
        classical, sender=SENDER, encryption=None, audit=_hybrid_slot(_HYBRID_CASES["hybrid"])
    )
    with pytest.raises(ValueError, match="version 2"):
        bundle.encode_manifest(v1)
    raw = json.loads(bundle.canonical_json(bundle._manifest_object(replace(v1, audit=None))))
    raw["audit"] = {
        "checkpoint": _HYBRID_CASES["hybrid"].decode(),
        "consistency": None,
        "verifier_key": HYBRID_CHECKPOINT["verifier_key"],
        "mldsa_verifier_key": HYBRID_CHECKPOINT["mldsa_verifier_key"],
    }
    with pytest.raises(FormatError, match="unknown field 'mldsa_verifier_key'"):
        bundle.decode_manifest(bundle.canonical_json(raw), version=1)


def test_an_mldsa_verifier_key_for_another_log_or_of_the_wrong_kind_is_refused() -> None:
    name = HYBRID_CHECKPOINT["key_name"]
    mldsa_public = bytes.fromhex(HYBRID_CHECKPOINT["mldsa_public_key_hex"])
    other = note.mldsa_verifier_key("securesubmit/vault/0000000000000000", mldsa_public)
    checkpoint = _HYBRID_CASES["hybrid"]
    for bad, fragment in (
        (other, "different logs"),
        (HYBRID_CHECKPOINT["verifier_key"], "ML-DSA-65 public key"),
    ):
        slot = AuditSlot(checkpoint, HYBRID_CHECKPOINT["verifier_key"], None, bad)
        with pytest.raises(InputError, match=fragment):
            _v2_bundle_with(slot)
    assert name in HYBRID_CHECKPOINT["mldsa_verifier_key"]


def test_stripping_the_mldsa_verifier_key_from_a_signed_manifest_breaks_its_signature() -> None:
    data = _v2_bundle_with(_hybrid_slot(_HYBRID_CASES["hybrid"]))
    plain = io.BytesIO()
    agev1.decrypt_untrusted(io.BytesIO(data), plain, V2_IDENTITIES)
    container = plain.getvalue()
    key = b',"mldsa_verifier_key":"' + HYBRID_CHECKPOINT["mldsa_verifier_key"].encode() + b'"'
    assert container.count(key) == 1
    stripped = container.replace(key, b"")
    # Keep the container's framing: fix the manifest's length field.
    head = len(bundle.MAGIC_V2)
    old_len = int.from_bytes(container[head + 1 : head + 5], "big")
    stripped = (
        stripped[: head + 1] + (old_len - len(key)).to_bytes(4, "big") + stripped[head + 5 :]
    )
    out = io.BytesIO()
    agev1.encrypt_stream(
        io.BytesIO(stripped), out, [agev1.HybridRecipient(cast(bytes, V2_RECIPIENT.pq_public))]
    )
    with pytest.raises(BadSignature):
        _read_v2(out.getvalue())
