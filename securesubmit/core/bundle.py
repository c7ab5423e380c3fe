"""Bundles: the container and the signed manifest that carry sealed reports to a partner.

This module owns the bundle format, versions 1 and 2 (docs/spec/bundle.md; vectors in
tests/vectors/bundle/). Version 2 (§13) is written by hybrid senders: its manifest is
signed with Ed25519 and ML-DSA-65 and states the protection of the age layer, which the
reader checks against the age header it opened. It works on streams only: it knows
nothing of vaults, files, receipts or stored sequence numbers; the caller brings those.

A bundle file (``.ssb``) is one age v1 file encrypted to the destination partner only.
Its plaintext, the *container*, is our own length-prefixed framing::

    "securesubmit-bundle v1\\n"
    'M' u32be(n) manifest[n] signature[64]          manifest = canonical JSON, signed
    'R' u32be(i) u64be(size) bytes[size]            one per member, i = 0, 1, 2, ...
    'E' u32be(count) u64be(total)                   the end record

Members (sealed reports) are opaque byte streams here: the manifest names their size
and SHA-256, and both are checked while the bytes stream through. Reading is a push
parser fed by the age decryption, so nothing but the manifest is ever held whole.

Whether a verified bundle is new, a duplicate, out of order or a fork needs the
caller's stored state; :func:`classify_sequence` makes that decision from it.
"""

from __future__ import annotations

import base64
import io
import json
import re
import struct
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, cast

from securesubmit.core import agev1, crypto, merkle, note
from securesubmit.core.identity import (
    KeySetSignatures,
    PublicKeys,
    RotationStatement,
    SigningKeySet,
    Statement,
    _decode_b64,
    _decode_mldsa_key,
    _decode_pq_recipient,
    _decode_recipient,
    _decode_signing_key,
    _decode_time,
    _encode_b64,
    _format_time,
    format_fingerprint,
    parse_statement,
    sign_with_key_set,
    verify_key_set_signatures,
)
from securesubmit.core.streams import IterReader
from securesubmit.errors import (
    BadSignature,
    DecryptionFailed,
    FormatError,
    InputError,
    NotFound,
    Refused,
    SecureSubmitError,
    VerificationError,
)

if TYPE_CHECKING:
    pass

FORMAT = "securesubmit-bundle v1"
MAGIC = FORMAT.encode("ascii") + b"\n"
"""The first 23 bytes of every version 1 container."""
FORMAT_V2 = "securesubmit-bundle v2"
MAGIC_V2 = FORMAT_V2.encode("ascii") + b"\n"
"""Version 2 (spec §13): a hybrid sender, the manifest signed with Ed25519 and ML-DSA-65,
and the protection of the age layer stated in the signed manifest."""
MANIFEST_SIGNATURE_LABEL = "bundle-manifest"
SIGNATURES_SIZE_V2 = crypto.SIGNATURE_SIZE + crypto.MLDSA_SIGNATURE_SIZE
HYBRID = "hybrid"
CLASSICAL = "classical"

TAG_MANIFEST = b"M"
TAG_MEMBER = b"R"
TAG_END = b"E"
_U32 = struct.Struct(">I")
_RECORD_HEAD = struct.Struct(">cIQ")  # tag, u32, u64: member header and end record
MANIFEST_HEAD_SIZE = 5  # 'M' and u32be(length)
RECORD_HEAD_SIZE = _RECORD_HEAD.size  # 13

HASH_SIZE = 32
BUNDLE_ID_BYTES = 16
ZERO_HASH = bytes(HASH_SIZE)
"""The previous_hash of a partner's first bundle (sequence 1)."""
MAX_JSON_INT = 2**53 - 1
"""Every integer in a manifest is at most this (exact in every JSON implementation)."""
MAX_REPORT_ID_CHARS = 64

_CHUNK = 64 * 1024
_BUNDLE_ID_RE = re.compile(r"[0-9a-f]{32}")
_REPORT_ID_RE = re.compile(r"[0-9a-z][0-9a-z_-]{0,63}")  # as in sealed reports
_INT_TEXT_RE = re.compile(r"-?[0-9]{1,17}")

_MANIFEST_KEYS = frozenset(
    {
        "audit",
        "bundle_id",
        "created",
        "format",
        "members",
        "previous_hash",
        "recipient_fingerprint",
        "sender",
        "sequence",
        "statements",
    }
)
_SENDER_KEYS = frozenset({"age_recipient", "fingerprint", "signing_key"})
_MANIFEST_KEYS_V2 = _MANIFEST_KEYS | {"encryption"}
_SENDER_KEYS_V2 = _SENDER_KEYS | {"mldsa_key", "pq_recipient"}
_AUDIT_KEYS = frozenset({"checkpoint", "consistency", "verifier_key"})
_AUDIT_MLDSA_KEY = "mldsa_verifier_key"
"""Version 2 only, and only present for a hybrid log (absent, never null, otherwise)."""
_CONSISTENCY_KEYS = frozenset({"old_size", "proof"})


# --- errors ---------------------------------------------------------------------------


class UnknownSender(Refused):
    """This bundle comes from a sender you have not added as a partner."""

    hint = (
        "if you expect bundles from this person, compare this fingerprint with them by phone "
        "or in person, add their identity card, and import the bundle again"
    )


class SenderKeyChanged(Refused):
    """This bundle is signed with a key that is no longer the sender's current key."""

    hint = "ask the sender to export a new bundle with their current key"


class WrongRecipient(VerificationError):
    """This bundle was made for another recipient."""

    hint = (
        "someone re-encrypted a bundle meant for another partner to you; "
        "ask the sender to export a bundle for you"
    )


class MemberMismatch(VerificationError):
    """A sealed report does not match the size or SHA-256 recorded for it."""


class EncryptionDowngraded(VerificationError):
    """The bundle's age layer is weaker than its signed manifest says, or than you require."""

    hint = (
        "someone replaced the bundle's encryption with a classical one, or the sender "
        "used an old card of yours; ask the sender to export the bundle again"
    )


class ChainForked(VerificationError):
    """This bundle contradicts a bundle already imported from the same sender."""

    hint = (
        "do not trust either bundle until you have compared them with the sender "
        "by phone or in person: someone may be forging or replaying bundles"
    )


# --- data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """Bounds on what a bundle may contain, so that hostile input cannot exhaust memory
    or time. Every check happens before the bytes it protects are read."""

    max_manifest_bytes: int = 1024 * 1024
    max_members: int = 100_000
    max_total_bytes: int = 64 * 1024**3
    max_statements: int = 100

    def __post_init__(self) -> None:
        if not 1 <= self.max_manifest_bytes <= 2**32 - 1:
            raise ValueError("max_manifest_bytes must fit a u32")
        if not 0 <= self.max_members <= 2**32 - 1:
            raise ValueError("max_members must fit a u32")
        if not 0 <= self.max_total_bytes <= MAX_JSON_INT:
            raise ValueError("max_total_bytes must be at most 2^53 - 1")
        if self.max_statements < 0:
            raise ValueError("max_statements must not be negative")


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class MemberEntry:
    """One sealed report as the manifest names it."""

    report_id: str
    size: int
    sha256: bytes


@dataclass(frozen=True)
class Member:
    """A sealed report to write into a bundle. ``open`` is called once, when its turn
    comes, and must return a stream of exactly ``size`` bytes hashing to ``sha256``."""

    report_id: str
    size: int
    sha256: bytes
    open: Callable[[], BinaryIO]

    @property
    def entry(self) -> MemberEntry:
        return MemberEntry(self.report_id, self.size, self.sha256)


@dataclass(frozen=True)
class ConsistencyProof:
    """A Merkle consistency proof from the tree of ``old_size`` leaves to the checkpoint."""

    old_size: int
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "hashes", tuple(self.hashes))  # a list is welcome too


@dataclass(frozen=True)
class AuditSlot:
    """The sender's audit log as the bundle carries it (docs/spec/audit.md).

    ``checkpoint`` is a signed checkpoint note, ``verifier_key`` the signed-note
    verifier key of the log key that signs it, ``consistency`` a proof from the
    tree size the recipient last saw. A checkpoint needs its verifier key; a proof
    needs a checkpoint. ``mldsa_verifier_key`` (version 2 manifests only) says that the
    sender's log is hybrid: its checkpoint must carry a valid ML-DSA-65 signature by it.
    """

    checkpoint: bytes | None = None
    verifier_key: str | None = None
    consistency: ConsistencyProof | None = None
    mldsa_verifier_key: str | None = None


@dataclass(frozen=True)
class Manifest:
    """The signed description of a bundle (docs/spec/bundle.md §4)."""

    bundle_id: str
    created: datetime
    sender: PublicKeys
    recipient_fingerprint: bytes
    sequence: int
    previous_hash: bytes
    members: tuple[MemberEntry, ...]
    statements: tuple[bytes, ...]
    audit: AuditSlot | None
    encryption: str | None = None
    """Version 2 only: the age layer the sender wrote, ``hybrid`` or ``classical``."""

    @property
    def version(self) -> int:
        """2 for a hybrid sender (Ed25519 + ML-DSA-65), 1 for a classical one."""
        return 2 if self.sender.is_hybrid else 1

    @property
    def total_size(self) -> int:
        return sum(member.size for member in self.members)


@dataclass(frozen=True)
class ChainLink:
    """One bundle's place in a sender's chain of bundles to one recipient."""

    sequence: int
    bundle_hash: bytes
    previous_hash: bytes

    def __post_init__(self) -> None:
        if not 1 <= self.sequence <= MAX_JSON_INT:
            raise ValueError("a bundle sequence number is between 1 and 2^53 - 1")
        if len(self.bundle_hash) != HASH_SIZE or len(self.previous_hash) != HASH_SIZE:
            raise ValueError("bundle hashes are 32 bytes")
        if (self.sequence == 1) != (self.previous_hash == ZERO_HASH):
            raise ValueError("exactly the first bundle (sequence 1) has an all-zero previous_hash")


@dataclass(frozen=True)
class BundleInfo:
    """What :func:`write_bundle` wrote."""

    manifest: Manifest
    manifest_bytes: bytes
    signature: bytes
    bundle_hash: bytes
    mldsa_signature: bytes | None = None
    encryption: str = CLASSICAL
    """The age layer written: ``hybrid`` (mlkem768x25519) or ``classical`` (X25519)."""

    @property
    def link(self) -> ChainLink:
        return ChainLink(self.manifest.sequence, self.bundle_hash, self.manifest.previous_hash)


@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle whose every check passed. ``manifest_bytes`` and ``signature`` are kept
    as evidence: anyone with the sender's public key can check them again."""

    manifest: Manifest
    manifest_bytes: bytes
    signature: bytes
    bundle_hash: bytes
    statements: tuple[Statement, ...]
    checkpoint: note.Checkpoint | None
    mldsa_signature: bytes | None = None
    encryption: str = CLASSICAL
    """The age layer as found: ``hybrid`` (mlkem768x25519 only) or ``classical``."""

    @property
    def signature_protection(self) -> str:
        """``hybrid`` (Ed25519 and ML-DSA-65, version 2) or ``classical`` (Ed25519)."""
        return HYBRID if self.manifest.version == 2 else CLASSICAL

    @property
    def link(self) -> ChainLink:
        return ChainLink(self.manifest.sequence, self.bundle_hash, self.manifest.previous_hash)


class _Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


class MemberSink(Protocol):
    """Where :func:`read_bundle` puts members' bytes while they stream.

    ``write`` receives each member's bytes in order, in chunks. Nothing may be used
    before ``commit``: the chunks are released before the whole bundle is
    authenticated. Exactly one of ``commit`` and ``discard`` is called at the end.
    """

    def write(self, index: int, chunk: bytes) -> None: ...

    def commit(self) -> None: ...

    def discard(self) -> None: ...


# --- the manifest ----------------------------------------------------------------------


def _refuse(reason: str) -> FormatError:
    return FormatError(f"the bundle manifest is malformed: {reason}")


def _json_int(text: str) -> int:
    if not _INT_TEXT_RE.fullmatch(text):
        raise _refuse("it contains an integer that is too long")
    return int(text)


def _json_float(text: str) -> Any:
    raise _refuse("it contains a fractional number, but only whole numbers are used")


def _json_constant(text: str) -> Any:
    raise _refuse(f"it contains {text}, which JSON does not allow")


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _refuse(f"the field '{key[:40]}' appears twice in one object")
        result[key] = value
    return result


def canonical_json(value: Any) -> bytes:
    """The canonical encoding of a manifest: RFC 8785 (JCS) for the values we use,
    which is Python's ``json.dumps`` with sorted keys, no spaces, UTF-8 output."""
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def _load_canonical(data: bytes) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse("it is not valid UTF-8") from None
    try:
        value = json.loads(
            text,
            object_pairs_hook=_json_object,
            parse_int=_json_int,
            parse_float=_json_float,
            parse_constant=_json_constant,
        )
    except (ValueError, RecursionError):
        raise _refuse("it is not valid JSON") from None
    try:
        canonical = canonical_json(value)
    except UnicodeEncodeError:  # a lone surrogate written as an escape
        raise _refuse("it contains an invalid Unicode escape") from None
    if canonical != data:
        raise _refuse(
            "it is not in canonical form (sorted keys, no spaces, minimal escapes, UTF-8)"
        )
    if not isinstance(value, dict):
        raise _refuse("it is not a JSON object")
    return value


def _fields(value: Any, keys: frozenset[str], what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _refuse(f"{what} is not an object")
    unknown = sorted(set(value) - keys)
    if unknown:
        raise _refuse(f"{what} has the unknown field '{unknown[0][:40]}'")
    missing = sorted(keys - set(value))
    if missing:
        raise _refuse(f"{what} has no field '{missing[0]}'")
    return value


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _refuse(f"{what} is not a string")
    return value


def _int(value: Any, what: str, low: int, high: int) -> int:
    if type(value) is not int:  # bool is a subclass of int
        raise _refuse(f"{what} is not a whole number")
    if not low <= value <= high:
        raise _refuse(f"{what} is {value}, outside {low} to {high}")
    return value


def _list(value: Any, what: str, most: int) -> list[Any]:
    if not isinstance(value, list):
        raise _refuse(f"{what} is not a list")
    if len(value) > most:
        raise FormatError(
            f"the bundle was refused: it has {len(value)} {what}, more than the limit of {most}"
        )
    return value


def _decode_proof_b64(value: str) -> bytes:
    # Canonical padded base64 of k × 32 bytes, k ≤ 64; merkle.decode_proof checks k.
    if len(value) > 4 * ((merkle.MAX_PROOF_HASHES * HASH_SIZE + 2) // 3):
        raise _refuse("the consistency proof is too long")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise _refuse("the consistency proof is not base64") from None
    if base64.b64encode(raw).decode("ascii") != value:
        raise _refuse("the consistency proof is not canonical padded base64")
    return raw


def _hash(value: Any, what: str) -> bytes:
    return _decode_b64(_str(value, what), HASH_SIZE, what)


def _manifest_object(manifest: Manifest) -> dict[str, Any]:
    keys = manifest.sender
    audit: dict[str, Any] | None = None
    if manifest.audit is not None:
        slot = manifest.audit
        if slot.mldsa_verifier_key is not None and manifest.version == 1:
            raise ValueError("an ML-DSA-65 log verifier key needs a version 2 (hybrid) manifest")
        audit = {
            "checkpoint": None if slot.checkpoint is None else slot.checkpoint.decode("utf-8"),
            "verifier_key": slot.verifier_key,
            **(
                {}
                if slot.mldsa_verifier_key is None
                else {_AUDIT_MLDSA_KEY: slot.mldsa_verifier_key}
            ),
            "consistency": None
            if slot.consistency is None
            else {
                "old_size": slot.consistency.old_size,
                "proof": _encode_b64(merkle.encode_proof(slot.consistency.hashes)),
            },
        }
    sender: dict[str, Any] = {
        "fingerprint": _encode_b64(keys.fingerprint),
        "signing_key": _encode_b64(keys.signing_public),
        "age_recipient": keys.age_recipient,
    }
    extra: dict[str, Any] = {}
    if keys.mldsa_public is not None:
        sender.update(mldsa_key=_encode_b64(keys.mldsa_public), pq_recipient=keys.pq_recipient)
        extra["encryption"] = manifest.encryption
    return {
        **extra,
        "format": FORMAT if manifest.version == 1 else FORMAT_V2,
        "bundle_id": manifest.bundle_id,
        "created": _format_time(manifest.created),
        "sender": sender,
        "recipient_fingerprint": _encode_b64(manifest.recipient_fingerprint),
        "sequence": manifest.sequence,
        "previous_hash": _encode_b64(manifest.previous_hash),
        "members": [[m.report_id, m.size, _encode_b64(m.sha256)] for m in manifest.members],
        "statements": [s.decode("utf-8") for s in manifest.statements],
        "audit": audit,
    }


def decode_manifest(data: bytes, limits: Limits = DEFAULT_LIMITS, version: int = 1) -> Manifest:
    """Parse manifest bytes strictly, as the manifest of a container of ``version`` (1 or
    2). Checks form only: no signature, no statement signatures, no checkpoint (see
    :func:`read_bundle` for the order of checks)."""
    if version not in (1, 2):
        raise ValueError("bundle versions are 1 and 2")
    if len(data) > limits.max_manifest_bytes:
        raise FormatError(
            f"the bundle was refused: its manifest is {len(data):,} bytes, more than "
            f"the limit of {limits.max_manifest_bytes:,}"
        )
    expected = FORMAT if version == 1 else FORMAT_V2
    top = _fields(
        _load_canonical(data),
        _MANIFEST_KEYS if version == 1 else _MANIFEST_KEYS_V2,
        "the manifest",
    )
    if top["format"] != expected:
        shown = str(top["format"])[:40]
        raise FormatError(
            f"the bundle manifest has the format {shown!r}; this program reads {expected!r} "
            "in this container",
            hint="a newer version of SecureSubmit may read it",
        )
    encryption: str | None = None
    if version == 2:
        encryption = top["encryption"]
        if encryption not in (HYBRID, CLASSICAL):
            raise _refuse("the encryption is not 'hybrid' or 'classical'")
    bundle_id = _str(top["bundle_id"], "the bundle id")
    if not _BUNDLE_ID_RE.fullmatch(bundle_id):
        raise _refuse("the bundle id is not 32 lower-case hex digits")
    created = _decode_time(_str(top["created"], "the creation time"), "the creation time")

    sender_fields = _fields(
        top["sender"], _SENDER_KEYS if version == 1 else _SENDER_KEYS_V2, "the sender"
    )
    mldsa_public = pq_public = None
    if version == 2:
        mldsa_public = _decode_mldsa_key(
            _str(sender_fields["mldsa_key"], "the sender's ML-DSA-65 key"),
            "the sender's ML-DSA-65 key",
        )
        pq_public = _decode_pq_recipient(
            _str(sender_fields["pq_recipient"], "the sender's post-quantum recipient"),
            "the sender's post-quantum recipient",
        )
    sender = PublicKeys(
        signing_public=_decode_signing_key(
            _str(sender_fields["signing_key"], "the sender's signing key"),
            "the sender's signing key",
        ),
        encryption_public=_decode_recipient(
            _str(sender_fields["age_recipient"], "the sender's age recipient"),
            "the sender's age recipient",
        ),
        mldsa_public=mldsa_public,
        pq_public=pq_public,
    )
    if _hash(sender_fields["fingerprint"], "the sender's fingerprint") != sender.fingerprint:
        raise _refuse("the sender's fingerprint does not match the sender's keys")
    recipient = _hash(top["recipient_fingerprint"], "the recipient fingerprint")

    sequence = _int(top["sequence"], "the sequence number", 1, MAX_JSON_INT)
    previous_hash = _hash(top["previous_hash"], "the previous bundle hash")
    if (sequence == 1) != (previous_hash == ZERO_HASH):
        raise _refuse(
            "the first bundle (sequence 1), and only it, has an all-zero previous bundle hash"
        )

    members: list[MemberEntry] = []
    seen_ids: set[str] = set()
    total = 0
    for number, item in enumerate(_list(top["members"], "reports", limits.max_members)):
        what = f"report {number}"
        if not isinstance(item, list) or len(item) != 3:
            raise _refuse(f"{what} is not a list [report id, size, SHA-256]")
        report_id = _str(item[0], f"the id of {what}")
        if not _REPORT_ID_RE.fullmatch(report_id):
            raise _refuse(
                f"the id of {what} is not 1 to {MAX_REPORT_ID_CHARS} lower-case letters, "
                "digits, '_' or '-' starting with a letter or digit"
            )
        if report_id in seen_ids:
            raise _refuse(f"{what} repeats the report id {report_id!r}")
        seen_ids.add(report_id)
        size = _int(item[1], f"the size of {what}", 0, MAX_JSON_INT)
        total += size
        if total > limits.max_total_bytes:
            raise FormatError(
                f"the bundle was refused: its reports add up to more than the limit of "
                f"{limits.max_total_bytes:,} bytes"
            )
        members.append(MemberEntry(report_id, size, _hash(item[2], f"the SHA-256 of {what}")))

    statements: list[bytes] = []
    for number, item in enumerate(
        _list(top["statements"], "key statements", limits.max_statements)
    ):
        text = _str(item, f"key statement {number}").encode("utf-8")
        if text in statements:
            raise _refuse(f"key statement {number} repeats an earlier one")
        statements.append(text)

    return Manifest(
        bundle_id=bundle_id,
        created=created,
        sender=sender,
        recipient_fingerprint=recipient,
        sequence=sequence,
        previous_hash=previous_hash,
        members=tuple(members),
        statements=tuple(statements),
        audit=_decode_audit(top["audit"], version),
        encryption=encryption,
    )


def _decode_audit(value: Any, version: int) -> AuditSlot | None:
    if value is None:
        return None
    keys = _AUDIT_KEYS
    if version == 2 and isinstance(value, dict) and _AUDIT_MLDSA_KEY in value:
        keys = _AUDIT_KEYS | {_AUDIT_MLDSA_KEY}
    slot = _fields(value, keys, "the audit slot")
    checkpoint = slot["checkpoint"]
    verifier_key = slot["verifier_key"]
    mldsa_verifier_key = slot.get(_AUDIT_MLDSA_KEY)
    if _AUDIT_MLDSA_KEY in slot and mldsa_verifier_key is None:
        raise _refuse("the audit slot's ML-DSA-65 verifier key is null (leave it out instead)")
    if mldsa_verifier_key is not None and (checkpoint is None or verifier_key is None):
        raise _refuse("the audit slot has an ML-DSA-65 verifier key but no checkpoint")
    consistency: ConsistencyProof | None = None
    if slot["consistency"] is not None:
        proof = _fields(slot["consistency"], _CONSISTENCY_KEYS, "the consistency proof")
        old_size = _int(proof["old_size"], "the proof's old size", 0, merkle.MAX_TREE_SIZE)
        raw = _decode_proof_b64(_str(proof["proof"], "the consistency proof"))
        consistency = ConsistencyProof(old_size, tuple(merkle.decode_proof(raw)))
    if checkpoint is None and verifier_key is None and consistency is None:
        raise _refuse("the audit slot is empty (write null instead)")
    if checkpoint is not None and verifier_key is None:
        raise _refuse("the audit slot has a checkpoint but no verifier key")
    if consistency is not None and checkpoint is None:
        raise _refuse("the audit slot has a consistency proof but no checkpoint")
    return AuditSlot(
        checkpoint=None
        if checkpoint is None
        else _str(checkpoint, "the checkpoint").encode("utf-8"),
        verifier_key=None if verifier_key is None else _str(verifier_key, "the verifier key"),
        consistency=consistency,
        mldsa_verifier_key=None
        if mldsa_verifier_key is None
        else _str(mldsa_verifier_key, "the ML-DSA-65 verifier key"),
    )


def encode_manifest(manifest: Manifest, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The canonical bytes of ``manifest``; refuses what :func:`decode_manifest` would."""
    data = canonical_json(_manifest_object(manifest))
    if len(data) > limits.max_manifest_bytes:
        raise InputError(
            f"these reports do not fit in one bundle: its manifest would be {len(data):,} "
            f"bytes, more than the limit of {limits.max_manifest_bytes:,}; "
            "export them in several bundles"
        )
    if decode_manifest(data, limits, manifest.version) != manifest:
        raise ValueError("the manifest does not survive encoding (a value out of range?)")
    return data


def _verify_contents(manifest: Manifest) -> tuple[tuple[Statement, ...], note.Checkpoint | None]:
    """The signature checks inside a manifest: key statements and the audit checkpoint."""
    statements: list[Statement] = []
    for number, text in enumerate(manifest.statements):
        try:
            statements.append(parse_statement(text))
        except SecureSubmitError as error:
            raise type(error)(
                f"key statement {number} in the bundle is refused: {error}", hint=error.hint
            ) from None
    checkpoint: note.Checkpoint | None = None
    slot = manifest.audit
    if slot is not None and slot.verifier_key is not None:
        try:
            name, public_key = note.parse_verifier_key(slot.verifier_key)
            mldsa_public = None
            if slot.mldsa_verifier_key is not None:
                # A hybrid log: both signatures are required (docs/spec/bundle.md §3).
                mldsa_name, mldsa_public = note.parse_mldsa_verifier_key(slot.mldsa_verifier_key)
                if mldsa_name != name:
                    raise FormatError("its two verifier keys name different logs")
            if slot.checkpoint is not None:
                checkpoint = note.parse_and_verify_checkpoint(
                    slot.checkpoint, name, public_key, mldsa_public=mldsa_public
                )
        except SecureSubmitError as error:
            raise type(error)(
                f"the bundle's audit checkpoint is refused: {error}", hint=error.hint
            ) from None
        if (
            checkpoint is not None
            and slot.consistency is not None
            and slot.consistency.old_size > checkpoint.size
        ):
            raise FormatError(
                "the bundle's consistency proof starts from a larger tree than its checkpoint"
            )
    return tuple(statements), checkpoint


# --- writing ----------------------------------------------------------------------------


def _member_chunks(index: int, member: Member) -> Iterator[bytes]:
    """The member record of ``member``: its header, then its bytes, checked as they go."""
    yield _RECORD_HEAD.pack(TAG_MEMBER, index, member.size)
    hasher = crypto.sha256_hasher()
    remaining = member.size
    with member.open() as stream:
        while remaining:
            chunk = stream.read(min(_CHUNK, remaining))
            if not chunk:
                raise MemberMismatch(
                    f"the sealed report {member.report_id} is {member.size - remaining:,} "
                    f"bytes, not the {member.size:,} recorded for it: it was altered or "
                    "damaged on this device"
                )
            if len(chunk) > remaining:
                raise ValueError("the stream returned more bytes than were asked for")
            hasher.update(chunk)
            remaining -= len(chunk)
            yield chunk
        if stream.read(1):
            raise MemberMismatch(
                f"the sealed report {member.report_id} is longer than the {member.size:,} "
                "bytes recorded for it: it was altered or damaged on this device"
            )
    if not crypto.constant_time_equal(hasher.digest(), member.sha256):
        raise MemberMismatch(
            f"the sealed report {member.report_id} does not match the SHA-256 recorded "
            "for it: it was altered or damaged on this device"
        )


def _container_chunks(
    manifest_bytes: bytes,
    signature: bytes,
    members: Sequence[Member],
    hasher: _Hasher,
    magic: bytes = MAGIC,
) -> Generator[bytes, None, None]:
    """The container's bytes, each chunk hashed into ``hasher`` as it is produced.
    ``signature`` is the whole signature field: Ed25519, then ML-DSA-65 in version 2."""

    def records() -> Generator[bytes, None, None]:
        yield magic
        yield TAG_MANIFEST + _U32.pack(len(manifest_bytes)) + manifest_bytes + signature
        for index, member in enumerate(members):
            yield from _member_chunks(index, member)
        total = sum(member.size for member in members)
        yield _RECORD_HEAD.pack(TAG_END, len(members), total)

    inner = records()
    try:
        for chunk in inner:
            hasher.update(chunk)
            yield chunk
    finally:
        inner.close()  # closes the member stream that is open, if any


def write_bundle(
    dest: BinaryIO,
    *,
    sender_seed: bytes,
    sender_keys: PublicKeys,
    recipient: PublicKeys,
    sequence: int,
    previous_hash: bytes,
    members: Sequence[Member],
    statements: Iterable[bytes],
    audit: AuditSlot | None,
    created: datetime,
    bundle_id: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    sender_mldsa_seed: bytes | None = None,
) -> BundleInfo:
    """Write one bundle to ``dest``: the container, age-encrypted to ``recipient`` only.

    A hybrid ``sender_keys`` (give its ``sender_mldsa_seed``) writes version 2: the
    manifest signed with Ed25519 and ML-DSA-65 and naming the age layer's protection. The
    age layer is hybrid (mlkem768x25519) when ``recipient`` has a post-quantum key, else
    X25519, in both versions.

    Members are streamed one at a time (memory stays bounded whatever their size) and
    checked against their declared size and SHA-256; a mismatch raises MemberMismatch
    before the end record is written. ``dest`` then holds an unusable partial file:
    write to a temporary file and discard it on any exception.
    """
    key_set = SigningKeySet(sender_seed, sender_mldsa_seed)
    if (
        key_set.signing_public != sender_keys.signing_public
        or key_set.mldsa_public != sender_keys.mldsa_public
    ):
        raise ValueError("sender_seed and sender_mldsa_seed are not the secret half of sender_keys")
    encryption = HYBRID if recipient.pq_public is not None else CLASSICAL
    if created.tzinfo is None or created.utcoffset() is None:
        raise ValueError("created must be a timezone-aware datetime")
    manifest = Manifest(
        bundle_id=crypto.random_bytes(BUNDLE_ID_BYTES).hex() if bundle_id is None else bundle_id,
        created=created.astimezone(UTC).replace(microsecond=0),
        sender=sender_keys,
        recipient_fingerprint=recipient.fingerprint,
        sequence=sequence,
        previous_hash=previous_hash,
        members=tuple(member.entry for member in members),
        statements=tuple(statements),
        audit=audit,
        encryption=encryption if sender_keys.is_hybrid else None,
    )
    try:
        manifest_bytes = encode_manifest(manifest, limits)
        _verify_contents(manifest)
    except UnicodeDecodeError:
        raise InputError("this bundle cannot be written: a text is not valid UTF-8") from None
    except (FormatError, VerificationError) as error:
        # What we were asked to write would be refused by the reader: the caller's bug
        # or damaged local data, said in the reader's words.
        raise InputError(f"this bundle cannot be written: {error}") from None
    signatures = sign_with_key_set(key_set, MANIFEST_SIGNATURE_LABEL, manifest_bytes)
    signature = signatures.ed25519
    magic = MAGIC if manifest.version == 1 else MAGIC_V2
    age_recipient: agev1.Recipient = (
        agev1.HybridRecipient(recipient.pq_public)
        if recipient.pq_public is not None
        else agev1.X25519Recipient(recipient.encryption_public)
    )

    hasher = crypto.sha256_hasher()
    chunks = _container_chunks(
        manifest_bytes, signature + (signatures.mldsa or b""), members, hasher, magic
    )
    reader = IterReader(chunks)
    try:
        # The streams' own errors (a member that does not match its hash, a full disk)
        # propagate unchanged from the age layer.
        agev1.encrypt_stream(
            io.BufferedReader(reader, _CHUNK),
            dest,
            [age_recipient],
        )
    finally:
        chunks.close()
    if not reader.exhausted:
        raise RuntimeError("the encryption stopped before the end of the container")
    return BundleInfo(
        manifest=manifest,
        manifest_bytes=manifest_bytes,
        signature=signature,
        bundle_hash=hasher.digest(),
        mldsa_signature=signatures.mldsa,
        encryption=encryption,
    )


# --- reading --------------------------------------------------------------------------


def _known_through_rotations(lookup: SenderLookup, manifest: Manifest) -> PublicKeys:
    """The sender's keys when they are new to us but the manifest carries the rotations
    from keys we know: each rotation is signed by its old and its new key, so walking
    back from the signing key to a known key proves the hand-over. The caller still
    re-checks the whole chain from the partner's original card before storing it."""
    rotations = {}
    for text in manifest.statements:
        try:
            statement = parse_statement(text)
        except SecureSubmitError:
            continue  # judged later with everything else in the manifest
        if isinstance(statement, RotationStatement):
            rotations[statement.new.fingerprint] = statement
    current = manifest.sender.fingerprint
    for _ in range(len(rotations)):
        step = rotations.get(current)
        if step is None:
            break
        current = step.old.fingerprint
        try:
            lookup(current)
        except NotFound:
            continue
        return manifest.sender
    raise UnknownSender(
        f"unknown sender {manifest.sender.display()}: no partner with this fingerprint is known"
    )


class _State(StrEnum):
    MAGIC = "the version line"
    MANIFEST_HEAD = "the manifest record's header"
    MANIFEST = "the manifest"
    MEMBER_HEAD = "a report record's header"
    MEMBER_BODY = "a report"
    DONE = "the end"


SenderLookup = Callable[[bytes], PublicKeys]


@dataclass
class _Parser:
    """The container parser, fed by the age decryption through ``write``."""

    my_fingerprint: bytes
    sender_lookup: SenderLookup
    sink: MemberSink
    limits: Limits
    on_manifest: Callable[[Manifest], None] | None
    state: _State = _State.MAGIC
    need: int = len(MAGIC)
    buffer: bytearray = field(default_factory=bytearray)
    hasher: _Hasher = field(default_factory=crypto.sha256_hasher)
    manifest: Manifest | None = None
    manifest_bytes: bytes = b""
    signature: bytes = b""
    mldsa_signature: bytes | None = None
    version: int = 1
    statements: tuple[Statement, ...] = ()
    checkpoint: note.Checkpoint | None = None
    index: int = 0
    remaining: int = 0
    member_hasher: _Hasher = field(default_factory=crypto.sha256_hasher)
    failure: BaseException | None = None

    # agev1 calls write() with the plaintext, 64 KiB at a time, as chunks authenticate.
    def write(self, data: bytes) -> int:
        # A failure sticks: should a caller ever swallow it, finish() raises it again.
        if self.failure is not None:
            raise self.failure
        try:
            self._push(data)
        except BaseException as error:
            self.failure = error
            raise
        return len(data)

    def _push(self, data: bytes) -> None:
        self.hasher.update(data)
        view = memoryview(data)
        while view:
            if self.state is _State.MEMBER_BODY:
                take = min(len(view), self.remaining)
                chunk = bytes(view[:take])
                view = view[take:]
                self.member_hasher.update(chunk)
                self.remaining -= take
                self.sink.write(self.index, chunk)
                if not self.remaining:
                    self._end_member()
                continue
            if self.state is _State.DONE:
                raise FormatError("the bundle has extra data after its end record: it was altered")
            take = min(len(view), self.need - len(self.buffer))
            self.buffer += view[:take]
            view = view[take:]
            if len(self.buffer) == self.need:
                record = bytes(self.buffer)
                self.buffer.clear()
                self._advance(record)

    def flush(self) -> None:
        pass

    def _expect(self, state: _State, need: int) -> None:
        self.state, self.need = state, need

    def _advance(self, record: bytes) -> None:
        if self.state is _State.MAGIC:
            self._check_magic(record)
            self._expect(_State.MANIFEST_HEAD, MANIFEST_HEAD_SIZE)
        elif self.state is _State.MANIFEST_HEAD:
            if record[:1] != TAG_MANIFEST:
                raise FormatError("the bundle is malformed: its manifest record is missing")
            (length,) = _U32.unpack(record[1:])
            if length > self.limits.max_manifest_bytes:
                raise FormatError(
                    f"the bundle was refused: its manifest is {length:,} bytes, more than "
                    f"the limit of {self.limits.max_manifest_bytes:,}"
                )
            if length == 0:
                raise FormatError("the bundle is malformed: its manifest is empty")
            signatures = crypto.SIGNATURE_SIZE if self.version == 1 else SIGNATURES_SIZE_V2
            self._expect(_State.MANIFEST, length + signatures)
        elif self.state is _State.MANIFEST:
            self._check_manifest(record)
        elif self.state is _State.MEMBER_HEAD:
            self._start_member(record)

    def _check_magic(self, record: bytes) -> None:
        if record in (MAGIC, MAGIC_V2):
            self.version = 1 if record == MAGIC else 2
            return
        stem = b"securesubmit-bundle v"
        if record.startswith(stem):
            raise FormatError(
                "this bundle has a format version this program cannot read",
                hint="a newer version of SecureSubmit may read it",
            )
        raise FormatError("this is not a SecureSubmit bundle: its version line is missing")

    def _check_manifest(self, record: bytes) -> None:
        size = crypto.SIGNATURE_SIZE if self.version == 1 else SIGNATURES_SIZE_V2
        data, signatures = record[:-size], record[-size:]
        signature = signatures[: crypto.SIGNATURE_SIZE]
        mldsa = signatures[crypto.SIGNATURE_SIZE :] if self.version == 2 else None
        manifest = decode_manifest(data, self.limits, self.version)
        try:
            known = self.sender_lookup(manifest.sender.fingerprint)
        except NotFound:
            known = _known_through_rotations(self.sender_lookup, manifest)
        if known != manifest.sender:
            raise SenderKeyChanged(
                f"this bundle is signed with the key {manifest.sender.display()}, but the "
                f"sender's current key is {known.display()}"
            )
        try:
            verify_key_set_signatures(
                manifest.sender,
                MANIFEST_SIGNATURE_LABEL,
                data,
                KeySetSignatures(signature, mldsa),
            )
        except BadSignature as error:
            which = "" if self.version == 1 else f" ({error})"
            raise BadSignature(
                f"the bundle's manifest signature does not verify: it was forged or altered{which}"
            ) from None
        if manifest.recipient_fingerprint != self.my_fingerprint:
            raise WrongRecipient(
                "this bundle was made for another recipient "
                f"({format_fingerprint(manifest.recipient_fingerprint)}), not for you"
            )
        self.statements, self.checkpoint = _verify_contents(manifest)
        self.manifest, self.manifest_bytes, self.signature = manifest, data, signature
        self.mldsa_signature = mldsa
        if self.on_manifest is not None:
            self.on_manifest(manifest)
        self._expect(_State.MEMBER_HEAD, RECORD_HEAD_SIZE)

    @property
    def _manifest(self) -> Manifest:
        if self.manifest is None:  # the states come in order: a bug if this happens
            raise RuntimeError("the bundle parser reached a member before the manifest")
        return self.manifest

    def _start_member(self, record: bytes) -> None:
        members = self._manifest.members
        tag, number, size = _RECORD_HEAD.unpack(record)
        if self.index == len(members):
            if tag != TAG_END:
                raise FormatError(
                    f"the bundle is malformed: it has more reports than the {len(members)} "
                    "its manifest names"
                )
            if number != len(members) or size != self._manifest.total_size:
                raise FormatError(
                    "the bundle is malformed: its end record does not match its manifest"
                )
            self._expect(_State.DONE, 0)
            return
        if tag == TAG_END:
            raise FormatError(
                f"the bundle is malformed: it ends after {self.index} of the "
                f"{len(members)} reports its manifest names"
            )
        if tag != TAG_MEMBER:
            raise FormatError(
                f"the bundle is malformed: record {self.index + 1} is not a report record"
            )
        if number != self.index:
            raise FormatError(
                f"the bundle is malformed: report record {self.index} carries the index "
                f"{number} (records repeated, missing or out of order)"
            )
        entry = members[self.index]
        if size != entry.size:
            raise FormatError(
                f"the bundle is malformed: report {self.index} ({entry.report_id}) is "
                f"{size:,} bytes long, but its manifest says {entry.size:,}"
            )
        self.member_hasher = crypto.sha256_hasher()
        self.remaining = size
        self.state = _State.MEMBER_BODY
        if not size:
            self._end_member()

    def _end_member(self) -> None:
        entry = self._manifest.members[self.index]
        if not crypto.constant_time_equal(self.member_hasher.digest(), entry.sha256):
            raise VerificationError(
                f"report {self.index} ({entry.report_id}) of the bundle does not match "
                "its SHA-256 in the signed manifest: it was altered"
            )
        self.index += 1
        self._expect(_State.MEMBER_HEAD, RECORD_HEAD_SIZE)

    def _result(self, bundle_hash: bytes, encryption: str) -> VerifiedBundle:
        return VerifiedBundle(
            manifest=self._manifest,
            manifest_bytes=self.manifest_bytes,
            signature=self.signature,
            bundle_hash=bundle_hash,
            statements=self.statements,
            checkpoint=self.checkpoint,
            mldsa_signature=self.mldsa_signature,
            encryption=encryption,
        )

    def finish(self, post_quantum: bool = False, require_hybrid: bool = False) -> VerifiedBundle:
        """The verified bundle, once the whole container and the age layer ended well.
        ``post_quantum`` says whether the age header had mlkem768x25519 stanzas only."""
        if self.failure is not None:
            raise self.failure
        if self.state is _State.DONE:
            found = HYBRID if post_quantum else CLASSICAL
            stated = self._manifest.encryption
            if stated is not None and stated != found:
                raise EncryptionDowngraded(
                    f"the bundle's age layer is {found}, but its signed manifest says "
                    f"{stated}: its encryption was replaced"
                )
            if require_hybrid and found != HYBRID:
                raise EncryptionDowngraded(
                    "the bundle's age layer is classical (X25519), but your card requires "
                    "hybrid (post-quantum) encryption"
                )
            return self._result(self.hasher.digest(), found)
        if self.state is _State.MAGIC and not self.buffer:
            raise FormatError("the bundle is empty: it holds no container")
        if self.state is _State.MEMBER_HEAD and not self.buffer and self.manifest is not None:
            where = f"after {self.index} of its {len(self.manifest.members)} reports"
        else:
            where = f"inside {self.state.value}"
        raise FormatError(f"the bundle was cut short: it ends {where}, before its end record")


def read_bundle(
    source: BinaryIO,
    *,
    my_secret: bytes | agev1.Identity | Sequence[bytes | agev1.Identity],
    my_fingerprint: bytes,
    sender_lookup: SenderLookup,
    sink: MemberSink,
    limits: Limits = DEFAULT_LIMITS,
    on_manifest: Callable[[Manifest], None] | None = None,
    require_hybrid: bool = False,
) -> VerifiedBundle:
    """Open, check and stream one bundle from outside.

    Version 1 and 2 containers are read; a version 2 manifest needs both its Ed25519 and
    its ML-DSA-65 signature, and the protection it states must be the age layer's
    (EncryptionDowngraded). ``require_hybrid`` refuses a classical (X25519) age layer.

    ``my_secret`` is the recipient's age key: their 32-byte X25519 secret or an
    ``agev1`` identity (X25519 or post-quantum hybrid), or several of these, tried in
    order; ``my_fingerprint`` their fingerprint. ``sender_lookup(fingerprint)`` returns
    the known partner's current keys or raises NotFound (or another SecureSubmitError,
    such as KeyRevoked, which is passed on). ``on_manifest``, if given, sees the verified
    manifest before any member byte reaches ``sink`` (its ``bundle_hash`` is still
    empty); it may raise to stop, for example after :func:`classify_sequence` found a
    duplicate.

    On success, ``sink.commit()`` is called and the verified bundle returned; the
    caller then decides about its sequence with :func:`classify_sequence`. On any
    failure ``sink.discard()`` is called and the error re-raised: a SecureSubmitError
    for everything wrong with the bundle; an OSError of ``source`` or of the sink
    itself passes unchanged.
    """
    keys: list[bytes | agev1.Identity]
    if isinstance(my_secret, bytes | agev1.X25519Identity | agev1.HybridIdentity):
        keys = [my_secret]
    else:
        keys = list(my_secret)
    parser = _Parser(my_fingerprint, sender_lookup, sink, limits, on_manifest)
    try:
        try:
            header = agev1.decrypt_untrusted(source, cast(BinaryIO, parser), keys)
        except DecryptionFailed:
            raise DecryptionFailed(
                "the bundle could not be opened: it is not encrypted to your key, "
                "or it was altered or cut short"
            ) from None
        result = parser.finish(agev1.is_post_quantum(header), require_hybrid)
    except BaseException:
        sink.discard()
        raise
    try:
        sink.commit()
    except BaseException:
        sink.discard()
        raise
    return result


# --- sequence decisions -------------------------------------------------------------------


@dataclass(frozen=True)
class SeqState:
    """What the recipient stored about one sender's bundles: their chain links, by
    sequence number. Pass them all, or at least the newest and those at the incoming
    sequence and its two neighbours, where they exist."""

    links: Mapping[int, ChainLink]

    def __post_init__(self) -> None:
        if not self.links:
            raise ValueError("a SeqState holds at least one link (use None for no state)")
        for sequence, link in self.links.items():
            if sequence != link.sequence:
                raise ValueError("links must be keyed by their own sequence number")

    @classmethod
    def of(cls, links: Iterable[ChainLink]) -> SeqState:
        return cls({link.sequence: link for link in links})

    @property
    def newest(self) -> ChainLink:
        return self.links[max(self.links)]


class SequenceKind(StrEnum):
    NEW = "new"
    """The next bundle in the chain: import it."""
    GAP = "gap"
    """Import it, and warn that the bundles in ``missing`` have not arrived."""
    OLDER = "older"
    """Older than the newest one seen, but not seen before: import it, and say so."""
    DUPLICATE = "duplicate"
    """Already imported: nothing to do."""
    FORK = "fork"
    """Contradicts what was imported: refuse as a possible attack."""


@dataclass(frozen=True)
class Decision:
    kind: SequenceKind
    message: str
    missing: range = range(0)

    @property
    def should_import(self) -> bool:
        return self.kind in (SequenceKind.NEW, SequenceKind.GAP, SequenceKind.OLDER)

    def raise_if_fork(self) -> None:
        if self.kind is SequenceKind.FORK:
            raise ChainForked(self.message)


def _numbers(missing: range) -> str:
    if len(missing) == 1:
        return f"bundle {missing[0]} from this sender is missing"
    return f"bundles {missing[0]} to {missing[-1]} from this sender are missing"


def classify_sequence(last_seen: SeqState | None, incoming: ChainLink) -> Decision:
    """Decide what a verified bundle's place in its sender's chain means.

    Pure: ``last_seen`` is what was stored for this sender (None if nothing was
    imported from them yet), ``incoming`` the new bundle's link.
    """
    s = incoming.sequence
    if last_seen is None:
        if s == 1:
            return Decision(SequenceKind.NEW, "bundle 1, the first from this sender")
        missing = range(1, s)
        return Decision(
            SequenceKind.GAP,
            f"bundle {s} is the first to arrive from this sender; {_numbers(missing)}",
            missing,
        )
    links = last_seen.links
    same = links.get(s)
    if same is not None:
        if same.bundle_hash == incoming.bundle_hash:
            return Decision(
                SequenceKind.DUPLICATE, f"bundle {s} was already imported; nothing changed"
            )
        return Decision(
            SequenceKind.FORK,
            f"bundle {s} differs from the bundle {s} already imported from this sender",
        )
    before = links.get(s - 1)
    if before is not None and before.bundle_hash != incoming.previous_hash:
        return Decision(
            SequenceKind.FORK,
            f"bundle {s} does not follow the bundle {s - 1} already imported from this sender",
        )
    after = links.get(s + 1)
    if after is not None and after.previous_hash != incoming.bundle_hash:
        return Decision(
            SequenceKind.FORK,
            f"the bundle {s + 1} already imported from this sender does not follow this bundle {s}",
        )
    newest = last_seen.newest.sequence
    if s < newest:
        return Decision(
            SequenceKind.OLDER,
            f"bundle {s} is older than bundle {newest}, the newest already imported from "
            "this sender: it arrived out of order",
        )
    if s == newest + 1:
        return Decision(SequenceKind.NEW, f"bundle {s}, the next from this sender")
    missing = range(newest + 1, s)
    return Decision(SequenceKind.GAP, f"bundle {s} arrived; {_numbers(missing)}", missing)
