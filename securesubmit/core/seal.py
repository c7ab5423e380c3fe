"""Sealed reports (format versions 1 and 2): a signed container inside one age file.

This module owns the format of docs/spec/sealed-report.md. A sealed report is an age v1
file encrypted to the partners the reporter chose, and to the reporter only when they
chose to be able to re-read it: to their MLKEM768-X25519 (age1pq) recipients when every
reader has one, else to their X25519 recipients. A classical sender writes version 1; a
hybrid sender writes version 2 (spec §12): its whole key set in the header, the age
layer's protection in the signed statement, and an ML-DSA-65 signature after the
Ed25519 one. Inside is the *container*::

    "securesubmit-sealed v1\\n" | u32be header length | header (canonical JSON)
    | attachment 1 bytes | ... | attachment n bytes | Ed25519 signature (64 bytes)

The signature comes last so that a multi-gigabyte report is written in one pass with
bounded memory, and it names the sender, every recipient, the report id, both times and
the SHA-256 of everything before it, so that a recipient cannot re-encrypt the report to
someone else and pass it off as sent to them (Davis, "Defective Sign & Encrypt", 2001).

The module is pure over streams: no vault, no files of its own, no clock. Attachments
come from ``AttachmentSource.open()`` and go to an ``AttachmentSink``; neither is ever
held whole in memory. Every check raises a ``SecureSubmitError`` subclass; opening calls
``sink.discard()`` on any failure, because the age layer releases plaintext before the
whole file is authenticated and the container's signature is only checked at its end.
"""

from __future__ import annotations

import itertools
import json
import re
import unicodedata
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, cast

if TYPE_CHECKING:
    pass

from securesubmit.core import agev1, crypto, identity
from securesubmit.core.identity import PublicKeys
from securesubmit.core.streams import IterReader
from securesubmit.errors import (
    BadSignature,
    FormatError,
    InputError,
    SecureSubmitError,
    VerificationError,
    WeakKey,
)

MAGIC = b"securesubmit-sealed v1\n"
MAGIC_V2 = b"securesubmit-sealed v2\n"
"""Version 2: a hybrid sender (Ed25519 + ML-DSA-65), both signatures in the trailer, and
the protection of the age layer signed (spec §12)."""
_MAGIC_STEM = b"securesubmit-sealed v"
HEADER_LENGTH_SIZE = 4
SIGNATURE_LABEL = "sealed-report"
SIGNED_VERSION_LINE = "securesubmit-sealed-report v1"
SIGNED_VERSION_LINE_V2 = "securesubmit-sealed-report v2"
TRAILER_SIZE_V2 = crypto.SIGNATURE_SIZE + crypto.MLDSA_SIGNATURE_SIZE
"""Ed25519 (64 bytes) then ML-DSA-65 (3,309 bytes)."""
HYBRID = "hybrid"
CLASSICAL = "classical"
ENCRYPTIONS = (HYBRID, CLASSICAL)

MAX_HEADER_BYTES = 1024 * 1024
MAX_ATTACHMENTS = 1000
MAX_RECIPIENTS = 64
"""Readers named in one report (the age header check accepts at most 64 stanzas)."""
MAX_NAME_BYTES = 255
MAX_ATTACHMENT_SIZE = 1 << 40
"""1 TiB: far above any real attachment, and exact as a JSON number everywhere."""
MAX_SCRUBBED_ITEMS = 100
MAX_SCRUBBED_ITEM_BYTES = 200
MAX_JSON_DEPTH = 16
MAX_JSON_INTEGER = 2**53 - 1
"""Integers in the header stay within what every JSON reader holds exactly."""

_BLOCK = 1024 * 1024
"""How much of an attachment is read, hashed and handed on at a time."""

_REPORT_ID_RE = re.compile(r"[0-9a-z][0-9a-z_-]{0,63}")
_HEX32_RE = re.compile(r"[0-9a-f]{64}")
_MEDIA_TYPE_RE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})

_HEADER_KEYS = frozenset(
    {"attachments", "created", "recipients", "report", "report_id", "sealed", "sender"}
)
_SENDER_KEYS = frozenset({"encryption_public", "fingerprint", "signing_public"})
_HEADER_KEYS_V2 = _HEADER_KEYS | {"encryption"}
_SENDER_KEYS_V2 = _SENDER_KEYS | {"mldsa_public", "pq_public"}
_HEX_RE = re.compile(r"(?:[0-9a-f]{2})+")
_ATTACHMENT_KEYS = frozenset(
    {"media_type", "name", "original_sha256", "scrubbed", "sha256", "size"}
)


# --- errors ----------------------------------------------------------------------------


class ForwardedReport(VerificationError):
    """This report was sealed for other recipients and re-encrypted to you."""

    hint = (
        "its author sent it to someone else, who passed it on to you: do not treat it as "
        "addressed to you; ask the author, over a channel you trust, whether they meant you "
        "to have it"
    )


class AttachmentAltered(VerificationError):
    """An attachment does not match the SHA-256 recorded in the sealed report."""

    hint = "the report was altered or damaged; ask the sender to export it again"


class ProtectionDowngraded(VerificationError):
    """The sealed report's age layer is not the one its sender signed for (spec §12.3)."""

    hint = (
        "someone who could decrypt the report replaced its encryption with a weaker one; "
        "do not trust this copy, ask the sender for the report again"
    )


class AttachmentChanged(SecureSubmitError):
    """An attachment changed while the report was being sealed; nothing usable was written."""

    hint = "discard the partial output and seal the report again"


# --- public data -----------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentDescriptor:
    """What the header says about one attachment (everything but its bytes)."""

    name: str
    size: int
    media_type: str
    sha256: bytes
    """SHA-256 of the bytes sealed (after metadata scrubbing)."""
    original_sha256: bytes | None
    """SHA-256 of the untouched original, when it differs from what was sealed."""
    scrubbed: tuple[str, ...]
    """What metadata scrubbing removed, in the scrubber's words."""


@dataclass(kw_only=True)
class AttachmentSource:
    """An attachment to seal. Its bytes are read from ``open()`` in blocks, never whole.

    ``sha256`` is the SHA-256 of exactly the ``size`` bytes ``open()`` gives (the vault
    records it when the file is attached). When it is None, sealing reads the content
    twice: once to hash it for the header, once to seal it. The bytes are hashed again as
    they are sealed, and a difference raises AttachmentChanged — unless ``authenticated``
    is set: then ``open()`` reads storage that authenticates every block it returns
    against the same ``sha256`` and ``size`` that were recorded together with it (the
    vault's chunks: AEAD bound to their attachment and index, count and hash in the
    attachment's own authenticated record), so hashing them again would detect nothing
    that reading them does not. The size is still checked (too short, too long).
    """

    name: str
    size: int
    media_type: str
    open: Callable[[], BinaryIO]
    original_sha256: bytes | None = None
    scrubbed: Sequence[str] = ()
    sha256: bytes | None = None
    authenticated: bool = False
    """The bytes of ``open()`` are authenticated storage matching ``sha256`` (see above);
    ignored when ``sha256`` is None."""


class AttachmentSink(Protocol):
    """Where opening puts attachment bytes: ``write`` in order, then exactly one of
    ``commit`` (everything verified) or ``discard`` (throw away all that was written).

    Production sinks write into the encrypted vault; nothing written before ``commit``
    may become visible or stay on disk after ``discard``.
    """

    def write(self, index: int, chunk: bytes) -> None: ...

    def commit(self) -> None: ...

    def discard(self) -> None: ...


@dataclass(frozen=True)
class SealReceipt:
    """What the reporter's device may keep about a report it sealed."""

    report_id: str
    created: datetime
    sealed: datetime
    sender_fingerprint: bytes
    recipients: tuple[bytes, ...]
    """Fingerprints of every reader, sorted; includes the sender's own if kept readable."""
    attachments: tuple[AttachmentDescriptor, ...]
    payload_sha256: bytes
    signature: bytes
    container_size: int
    """Bytes of the container (the age plaintext)."""
    sealed_size: int
    """Bytes of the age file written to ``dest``."""
    version: int = 1
    """1: classical sender (Ed25519); 2: hybrid sender (Ed25519 + ML-DSA-65)."""
    encryption: str = CLASSICAL
    """The age layer: ``hybrid`` (mlkem768x25519 stanzas only) or ``classical`` (X25519)."""
    mldsa_signature: bytes | None = None

    @property
    def signature_protection(self) -> str:
        return HYBRID if self.version == 2 else CLASSICAL


@dataclass(frozen=True)
class OpenedReport:
    """A sealed report that passed every check. Its attachments went to the sink, in the
    order of ``attachments`` (a 0-byte attachment gets no ``write``)."""

    report: dict[str, Any]
    report_id: str
    created: datetime
    sealed: datetime
    sender: PublicKeys
    recipients: tuple[bytes, ...]
    attachments: tuple[AttachmentDescriptor, ...]
    payload_sha256: bytes
    signature: bytes
    container_size: int
    version: int = 1
    encryption: str | None = None
    """The age layer as found: ``hybrid`` or ``classical``; None when the container was
    decrypted by other means (verify_container) and the age layer was not seen."""
    mldsa_signature: bytes | None = None

    @property
    def sender_fingerprint(self) -> bytes:
        return self.sender.fingerprint

    @property
    def signature_protection(self) -> str:
        """``hybrid`` (Ed25519 and ML-DSA-65, version 2) or ``classical`` (Ed25519)."""
        return HYBRID if self.version == 2 else CLASSICAL


@dataclass(frozen=True)
class _Header:
    report: dict[str, Any]
    report_id: str
    created: datetime
    sealed: datetime
    sender: PublicKeys
    recipients: tuple[bytes, ...]
    attachments: tuple[AttachmentDescriptor, ...]
    version: int = 1
    encryption: str | None = None
    """Version 2 only: the age layer the sender chose (``hybrid`` or ``classical``)."""


# --- the signed statement --------------------------------------------------------------


def signed_message(
    *,
    sender_fingerprint: bytes,
    recipients: Iterable[bytes],
    report_id: str,
    created: datetime,
    sealed: datetime,
    payload_sha256: bytes,
    encryption: str | None = None,
) -> bytes:
    """The statement the sender signs (label ``sealed-report``): §5 of the spec, or, with
    ``encryption`` (``hybrid`` or ``classical``), the version 2 statement of §12.2."""
    if encryption is not None and encryption not in ENCRYPTIONS:
        raise ValueError("encryption is 'hybrid' or 'classical'")
    version_line = SIGNED_VERSION_LINE if encryption is None else SIGNED_VERSION_LINE_V2
    lines = [version_line, f"sender: {sender_fingerprint.hex()}"]
    lines += [f"recipient: {fp.hex()}" for fp in sorted(recipients)]
    lines += [
        f"report-id: {report_id}",
        f"created: {identity._format_time(created)}",
        f"sealed: {identity._format_time(sealed)}",
    ]
    if encryption is not None:
        lines.append(f"encryption: {encryption}")
    lines.append(f"payload-sha256: {payload_sha256.hex()}")
    return ("\n".join(lines) + "\n").encode("ascii")


def verify_sealed_signature(
    *,
    sender: PublicKeys,
    recipients: Iterable[bytes],
    report_id: str,
    created: datetime,
    sealed: datetime,
    payload_sha256: bytes,
    signature: bytes,
    encryption: str | None = None,
    mldsa_signature: bytes | None = None,
) -> None:
    """Raise BadSignature unless ``signature`` is ``sender``'s over the statement of §5.

    Version 2 (``encryption`` given, ``sender`` hybrid): both ``signature`` (Ed25519) and
    ``mldsa_signature`` (ML-DSA-65) must verify over the statement of §12.2
    (identity.verify_key_set_signatures). crypto.verify refuses small-order and
    non-canonical sender keys (WeakKey)."""
    message = signed_message(
        sender_fingerprint=sender.fingerprint,
        recipients=recipients,
        report_id=report_id,
        created=created,
        sealed=sealed,
        payload_sha256=payload_sha256,
        encryption=encryption,
    )
    if encryption is not None and not sender.is_hybrid:
        raise BadSignature("a version 2 sealed report must name a hybrid sender")
    try:
        identity.verify_key_set_signatures(
            sender,
            SIGNATURE_LABEL,
            message,
            identity.KeySetSignatures(signature, mldsa_signature),
        )
    except BadSignature as error:
        which = "" if encryption is None else f" ({error})"
        raise BadSignature(
            "the sealed report's signature does not verify: it was altered, or it was not "
            f"signed by the sender it names{which}"
        ) from None


def _message_for(header: _Header, payload_sha256: bytes) -> bytes:
    return signed_message(
        sender_fingerprint=header.sender.fingerprint,
        recipients=header.recipients,
        report_id=header.report_id,
        created=header.created,
        sealed=header.sealed,
        payload_sha256=payload_sha256,
        encryption=header.encryption,
    )


# --- canonical JSON ----------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """The one byte form of a header (spec §3.2). Defined here, not shared with the
    vault's records, so that the sealed-report format cannot change by accident."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise FormatError(f"the sealed report's header repeats the key {identity._show(key)}")
        out[key] = value
    return out


def _no_float(_text: str) -> Any:
    raise FormatError(
        "the sealed report's header contains a number with a fraction or an exponent; "
        "only whole numbers are allowed"
    )


def _no_constant(_text: str) -> Any:
    raise FormatError("the sealed report's header contains NaN or Infinity")


def _bounded_int(text: str) -> int:
    if len(text) > 17:  # '-' and 16 digits: more cannot be within the bound
        raise FormatError("the sealed report's header contains a number that is too large")
    value = int(text)
    if abs(value) > MAX_JSON_INTEGER:
        raise FormatError("the sealed report's header contains a number that is too large")
    return value


def _children(container: dict[str, Any] | list[Any]) -> Iterator[Any]:
    return iter(container.values() if isinstance(container, dict) else container)


def _depth_exceeds(value: Any, limit: int) -> bool:
    # Depth first with one iterator per level: memory grows with the depth (at most
    # ``limit``), not with the number of values, which a crafted header makes huge.
    if not isinstance(value, dict | list):
        return False
    stack = [_children(value)]
    while stack:
        for child in stack[-1]:
            if isinstance(child, dict | list):
                if len(stack) >= limit:
                    return True
                stack.append(_children(child))
                break
        else:
            stack.pop()
    return False


def _load_canonical(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError("the sealed report's header is not valid UTF-8") from None
    try:
        value = json.loads(
            text,
            object_pairs_hook=_unique_pairs,
            parse_float=_no_float,
            parse_constant=_no_constant,
            parse_int=_bounded_int,
        )
    except RecursionError:
        raise FormatError("the sealed report's header is nested too deeply") from None
    except ValueError:
        raise FormatError("the sealed report's header is not valid JSON") from None
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise FormatError(
            f"the sealed report's header is nested more than {MAX_JSON_DEPTH} levels deep"
        )
    try:
        canonical = canonical_json(value)
    except UnicodeEncodeError:  # a lone surrogate written as a \\u escape
        raise FormatError("the sealed report's header contains an invalid \\u escape") from None
    if canonical != raw:
        raise FormatError("the sealed report's header is not in its canonical form")
    return value


# --- the header ------------------------------------------------------------------------


def _check_keys(value: Any, expected: frozenset[str], what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FormatError(f"{what} is not a JSON object")
    unknown = sorted(set(value) - expected)
    if unknown:
        raise FormatError(f"{what} has the unknown key {identity._show(unknown[0])}")
    missing = sorted(expected - set(value))
    if missing:
        raise FormatError(f"{what} lacks the key '{missing[0]}'")
    return value


def _hex32(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not _HEX32_RE.fullmatch(value):
        raise FormatError(f"{what} is not 64 lower-case hex digits")
    return bytes.fromhex(value)


def _text_problem(value: Any, max_bytes: int) -> str | None:
    if not isinstance(value, str):
        return "is not text"
    if not value:
        return "is empty"
    if len(value.encode("utf-8", "surrogatepass")) > max_bytes:
        return f"is longer than {max_bytes} bytes (UTF-8)"
    for ch in value:
        if unicodedata.category(ch) in _FORBIDDEN_CATEGORIES:
            return f"contains the invisible or control character U+{ord(ch):04X}"
    return None


def _name_problem(name: Any) -> str | None:
    problem = _text_problem(name, MAX_NAME_BYTES)
    if problem is not None:
        return problem
    for forbidden, shown in (("/", "'/'"), ("\\", "'\\'"), ("\x00", "NUL")):
        if forbidden in name:
            return f"contains {shown}"
    if name in (".", ".."):
        return f"is '{name}'"
    return None


def _parse_time(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise FormatError(f"{what} is not text")
    return identity._decode_time(value, what)


def _parse_attachment(value: Any, number: int) -> AttachmentDescriptor:
    what = f"attachment {number} of the sealed report"
    raw = _check_keys(value, _ATTACHMENT_KEYS, what)
    name = raw["name"]
    problem = _name_problem(name)
    if problem is not None:
        raise FormatError(f"the name of {what} {problem}")
    size = raw["size"]
    if type(size) is not int or not 0 <= size <= MAX_ATTACHMENT_SIZE:
        raise FormatError(f"the size of {what} is not a whole number from 0 to 2^40")
    media_type = raw["media_type"]
    if not isinstance(media_type, str) or not _MEDIA_TYPE_RE.fullmatch(media_type):
        raise FormatError(f"the media type of {what} is not a lower-case 'type/subtype'")
    sha256 = _hex32(raw["sha256"], f"the sha256 of {what}")
    original = raw["original_sha256"]
    original_sha256 = (
        None if original is None else _hex32(original, f"the original_sha256 of {what}")
    )
    scrubbed = raw["scrubbed"]
    if not isinstance(scrubbed, list) or len(scrubbed) > MAX_SCRUBBED_ITEMS:
        raise FormatError(f"the scrubbed list of {what} is not a list of at most 100 entries")
    for entry in scrubbed:
        problem = _text_problem(entry, MAX_SCRUBBED_ITEM_BYTES)
        if problem is not None:
            raise FormatError(f"an entry of the scrubbed list of {what} {problem}")
    return AttachmentDescriptor(
        name=name,
        size=size,
        media_type=media_type,
        sha256=sha256,
        original_sha256=original_sha256,
        scrubbed=tuple(scrubbed),
    )


def _hex_key(value: Any, size: int, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * size or not _HEX_RE.fullmatch(value):
        raise FormatError(f"{what} is not {2 * size} lower-case hex digits")
    return bytes.fromhex(value)


def _parse_sender(value: Any, version: int) -> PublicKeys:
    keys = _SENDER_KEYS if version == 1 else _SENDER_KEYS_V2
    sender_raw = _check_keys(value, keys, "the sealed report's sender")
    signing_public = _hex32(sender_raw["signing_public"], "the sender's signing key")
    encryption_public = _hex32(sender_raw["encryption_public"], "the sender's encryption key")
    mldsa_public = pq_public = None
    if version == 2:
        mldsa_public = _hex_key(
            sender_raw["mldsa_public"], crypto.MLDSA_PUBLIC_KEY_SIZE, "the sender's ML-DSA-65 key"
        )
        pq_public = _hex_key(
            sender_raw["pq_public"],
            crypto.AGE_HYBRID_PUBLIC_KEY_SIZE,
            "the sender's post-quantum encryption key",
        )
    stated = _hex32(sender_raw["fingerprint"], "the sender's fingerprint")
    try:
        sender = PublicKeys(signing_public, encryption_public, mldsa_public, pq_public)
    except WeakKey as error:
        raise WeakKey(f"the sealed report's sender key is refused: {error}") from None
    if sender.fingerprint != stated:
        raise FormatError("the sender's fingerprint in the sealed report does not match its keys")
    return sender


def _parse_header(raw: bytes, version: int = 1) -> _Header:
    """Every rule of spec §3 (and §12 for version 2), in the order of spec §7."""
    value = _check_keys(
        _load_canonical(raw),
        _HEADER_KEYS if version == 1 else _HEADER_KEYS_V2,
        "the sealed report's header",
    )
    report_id = value["report_id"]
    if not isinstance(report_id, str) or not _REPORT_ID_RE.fullmatch(report_id):
        raise FormatError(
            "the sealed report's id is not 1 to 64 characters of a-z, 0-9, '_' and '-'"
        )
    created = _parse_time(value["created"], "the sealed report's creation time")
    sealed = _parse_time(value["sealed"], "the sealed report's sealing time")
    if sealed < created:
        raise FormatError("the sealed report says it was sealed before it was created")

    encryption: str | None = None
    if version == 2:
        encryption = value["encryption"]
        if encryption not in ENCRYPTIONS:
            raise FormatError("the sealed report's encryption is not 'hybrid' or 'classical'")
    sender = _parse_sender(value["sender"], version)

    recipients_raw = value["recipients"]
    if not isinstance(recipients_raw, list) or not 1 <= len(recipients_raw) <= MAX_RECIPIENTS:
        raise FormatError(
            f"the sealed report's recipients are not a list of 1 to {MAX_RECIPIENTS} fingerprints"
        )
    recipients = tuple(
        _hex32(fp, f"recipient {n} of the sealed report") for n, fp in enumerate(recipients_raw, 1)
    )
    if any(a >= b for a, b in itertools.pairwise(recipients)):
        raise FormatError(
            "the sealed report's recipients are not sorted, or one of them is listed twice"
        )

    attachments_raw = value["attachments"]
    if not isinstance(attachments_raw, list) or len(attachments_raw) > MAX_ATTACHMENTS:
        raise FormatError(
            f"the sealed report's attachments are not a list of at most {MAX_ATTACHMENTS}"
        )
    attachments = tuple(_parse_attachment(a, n) for n, a in enumerate(attachments_raw, 1))

    report = value["report"]
    if not isinstance(report, dict):
        raise FormatError("the sealed report's fields are not a JSON object")
    return _Header(
        report=report,
        report_id=report_id,
        created=created,
        sealed=sealed,
        sender=sender,
        recipients=recipients,
        attachments=attachments,
        version=version,
        encryption=encryption,
    )


def _header_json(header: _Header) -> dict[str, Any]:
    value: dict[str, Any] = {
        "attachments": [
            {
                "media_type": a.media_type,
                "name": a.name,
                "original_sha256": None if a.original_sha256 is None else a.original_sha256.hex(),
                "scrubbed": list(a.scrubbed),
                "sha256": a.sha256.hex(),
                "size": a.size,
            }
            for a in header.attachments
        ],
        "created": identity._format_time(header.created),
        "recipients": [fp.hex() for fp in header.recipients],
        "report": header.report,
        "report_id": header.report_id,
        "sealed": identity._format_time(header.sealed),
        "sender": {
            "encryption_public": header.sender.encryption_public.hex(),
            "fingerprint": header.sender.fingerprint.hex(),
            "signing_public": header.sender.signing_public.hex(),
        },
    }
    if header.version == 2:
        sender = header.sender
        if sender.mldsa_public is None or sender.pq_public is None:
            raise ValueError("a version 2 sealed report has a hybrid sender")
        value["encryption"] = header.encryption
        value["sender"].update(
            mldsa_public=sender.mldsa_public.hex(), pq_public=sender.pq_public.hex()
        )
    return value


def _encode_header(header: _Header) -> bytes:
    """The header's bytes, refusing (InputError) anything a reader would refuse."""
    try:
        raw = canonical_json(_header_json(header))
    except (TypeError, ValueError, UnicodeEncodeError, RecursionError):
        raise InputError(
            "the report's fields cannot be sealed: only text, whole numbers, true/false, "
            "null, lists and objects with text keys are allowed"
        ) from None
    if len(raw) > MAX_HEADER_BYTES:
        raise InputError(
            "the report's text and attachment list are too large to seal "
            f"(more than {MAX_HEADER_BYTES // 1024} KiB)"
        )
    try:
        parsed = _parse_header(raw, header.version)
    except FormatError as error:
        raise InputError(f"the report cannot be sealed: {error}") from None
    if parsed.report != header.report:
        raise InputError(
            "the report's fields cannot be sealed exactly: use text keys and lists, not tuples"
        )
    return raw


# --- sealing ---------------------------------------------------------------------------


class _CountingWriter:
    """Counts what reaches ``dest`` (the sealed file's size for the receipt)."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner
        self.count = 0

    def write(self, data: bytes) -> int:
        written = self._inner.write(data)
        self.count += written
        return written

    def flush(self) -> None:
        self._inner.flush()


@dataclass
class _Signed:
    payload_sha256: bytes = b""
    signature: bytes = b""
    mldsa_signature: bytes | None = None


def _hash_source(source: AttachmentSource, number: int) -> bytes:
    hasher = crypto.sha256_hasher()
    seen = 0
    with source.open() as stream:
        while block := stream.read(_BLOCK):
            hasher.update(block)
            seen += len(block)
            if seen > source.size:
                break
    if seen != source.size:
        raise AttachmentChanged(
            f"attachment {number} does not have the {source.size} bytes its size says"
        )
    return hasher.digest()


_UNHASHED = bytes(32)
"""Stands for a SHA-256 not computed yet: the header is checked before any file is hashed."""


def _describe(source: AttachmentSource, number: int) -> AttachmentDescriptor:
    # Cheap checks first: hashing a large file only to refuse its name wastes minutes.
    problem = _name_problem(source.name)
    if problem is not None:
        raise InputError(f"the name of attachment {number} {problem}")
    if not isinstance(source.media_type, str) or not _MEDIA_TYPE_RE.fullmatch(source.media_type):
        raise InputError(
            f"the media type of attachment {number} is not a lower-case 'type/subtype'"
        )
    for entry in source.scrubbed:
        problem = _text_problem(entry, MAX_SCRUBBED_ITEM_BYTES)
        if problem is not None:
            raise InputError(f"an entry of the scrubbed list of attachment {number} {problem}")
    if type(source.size) is not int or not 0 <= source.size <= MAX_ATTACHMENT_SIZE:
        raise InputError(f"attachment {number} has a size that is not from 0 bytes to 1 TiB")
    for digest in (source.sha256, source.original_sha256):
        if digest is not None and (not isinstance(digest, bytes) or len(digest) != 32):
            raise ValueError("SHA-256 digests are 32 bytes")
    return AttachmentDescriptor(
        name=source.name,
        size=source.size,
        media_type=source.media_type,
        sha256=source.sha256 if source.sha256 is not None else _UNHASHED,
        original_sha256=source.original_sha256,
        scrubbed=tuple(source.scrubbed),
    )


def _container_chunks(
    prefix: bytes,
    header: _Header,
    sources: Sequence[AttachmentSource],
    key_set: identity.SigningKeySet,
    signed: _Signed,
    progress: Callable[[int], None] | None,
) -> Generator[bytes, None, None]:
    payload = crypto.sha256_hasher()
    payload.update(prefix)
    yield prefix
    done = 0
    if progress is not None:
        progress(done)
    for number, (source, descriptor) in enumerate(zip(sources, header.attachments, strict=True), 1):
        # Re-hashing proves that the bytes sealed are the ones the header's SHA-256 names;
        # authenticated storage already proves it (AttachmentSource), so once is enough.
        recheck = not (source.authenticated and source.sha256 is not None)
        hasher = crypto.sha256_hasher()
        remaining = descriptor.size
        with source.open() as stream:
            while remaining:
                block = stream.read(min(_BLOCK, remaining))
                if not block or len(block) > remaining:
                    raise AttachmentChanged(
                        f"attachment {number} no longer has the {descriptor.size} bytes it had"
                    )
                if recheck:
                    hasher.update(block)
                payload.update(block)
                remaining -= len(block)
                done += len(block)
                yield block
                if progress is not None:
                    progress(done)
            if stream.read(1):
                raise AttachmentChanged(
                    f"attachment {number} has grown beyond the {descriptor.size} bytes it had"
                )
        if recheck and hasher.digest() != descriptor.sha256:
            raise AttachmentChanged(f"attachment {number} changed while it was being sealed")
    signed.payload_sha256 = payload.digest()
    signatures = identity.sign_with_key_set(
        key_set, SIGNATURE_LABEL, _message_for(header, signed.payload_sha256)
    )
    signed.signature, signed.mldsa_signature = signatures.ed25519, signatures.mldsa
    yield signed.signature + (signatures.mldsa or b"")


def encryption_for(readers: Iterable[PublicKeys]) -> str:
    """``hybrid`` when every reader has a post-quantum (age1pq) recipient, else
    ``classical``: age never mixes the two kinds in one file (a classical stanza would
    leave the file open to a quantum computer), so one classical reader makes the whole
    file X25519 (spec §12.1)."""
    chosen = list(readers)
    return HYBRID if chosen and all(k.pq_public is not None for k in chosen) else CLASSICAL


def age_recipients(readers: Iterable[PublicKeys]) -> list[agev1.Recipient]:
    """The age recipients a report for ``readers`` is encrypted to: one per reader, in
    order: each reader's MLKEM768-X25519 key when every reader has one, otherwise each
    reader's X25519 key (encryption_for)."""
    chosen = list(readers)
    if encryption_for(chosen) == HYBRID:
        return [agev1.HybridRecipient(cast(bytes, k.pq_public)) for k in chosen]
    return [agev1.X25519Recipient(keys.encryption_public) for keys in chosen]


def seal_report(
    dest: BinaryIO,
    *,
    report: Mapping[str, Any],
    attachments: Sequence[AttachmentSource],
    sender_seed: bytes,
    sender_encryption_public: bytes,
    recipients: Sequence[PublicKeys],
    report_id: str,
    created: datetime,
    sealed: datetime,
    keep_readable: bool = False,
    progress: Callable[[int], None] | None = None,
    sender_mldsa_seed: bytes | None = None,
    sender_pq_public: bytes | None = None,
) -> SealReceipt:
    """Write ``report`` and its attachments to ``dest`` as one sealed report.

    A hybrid sender (``sender_mldsa_seed`` and ``sender_pq_public`` given) writes version
    2: its full key set in the header, Ed25519 and ML-DSA-65 signatures, and the age
    layer's protection signed (spec §12); a classical sender writes version 1. The age
    layer is hybrid when every reader has a post-quantum recipient (encryption_for).

    The age file is encrypted to every key in ``recipients`` and, when ``keep_readable``,
    to the sender's own ``sender_encryption_public`` (then the sender's fingerprint is
    named among the recipients, as every reader must be). Attachments are streamed: memory
    stays at a few MiB whatever their size. ``progress`` is called with the number of
    attachment bytes sealed so far (the total is the sum of their sizes).

    Raises InputError for anything the format cannot hold, AttachmentChanged when an
    attachment's bytes differ from its size or SHA-256. On any exception ``dest`` holds a
    partial file that the caller must discard. Times are taken as UTC whole seconds.
    """
    if (sender_mldsa_seed is None) != (sender_pq_public is None):
        raise ValueError("a hybrid sender gives both its ML-DSA-65 seed and its age1pq key")
    key_set = identity.SigningKeySet(sender_seed, sender_mldsa_seed)
    sender = PublicKeys(
        crypto.signing_public_key(sender_seed),
        sender_encryption_public,
        key_set.mldsa_public,
        sender_pq_public,
    )
    version = 2 if sender.is_hybrid else 1
    if not recipients:
        raise InputError("a report must be sealed to at least one partner")
    readers = [*recipients, sender] if keep_readable else list(recipients)
    fingerprints = [keys.fingerprint for keys in readers]
    if len(set(fingerprints)) != len(fingerprints):
        raise InputError("a recipient is listed twice (or you listed yourself as a partner)")
    if len(readers) > MAX_RECIPIENTS:
        raise InputError(f"a report can be sealed to at most {MAX_RECIPIENTS} keys")
    if len(attachments) > MAX_ATTACHMENTS:
        raise InputError(f"a report can have at most {MAX_ATTACHMENTS} attachments")
    if not isinstance(report_id, str) or not _REPORT_ID_RE.fullmatch(report_id):
        raise InputError("a report id is 1 to 64 characters of a-z, 0-9, '_' and '-'")
    header = _Header(
        report=dict(report),
        report_id=report_id,
        created=identity._normalise_time(created),
        sealed=identity._normalise_time(sealed),
        sender=sender,
        recipients=tuple(sorted(fingerprints)),
        attachments=tuple(_describe(a, n) for n, a in enumerate(attachments, 1)),
        version=version,
        encryption=encryption_for(readers) if version == 2 else None,
    )
    raw = _encode_header(header)  # refuses bad input before hours are spent hashing
    if any(a.sha256 is None for a in attachments):
        hashed = tuple(
            replace(d, sha256=_hash_source(a, n)) if a.sha256 is None else d
            for n, (a, d) in enumerate(zip(attachments, header.attachments, strict=True), 1)
        )
        header = replace(header, attachments=hashed)
        raw = _encode_header(header)
    magic = MAGIC if version == 1 else MAGIC_V2
    prefix = magic + len(raw).to_bytes(HEADER_LENGTH_SIZE, "big") + raw

    signed = _Signed()
    chunks = _container_chunks(prefix, header, attachments, key_set, signed, progress)
    reader = IterReader(chunks)
    writer = _CountingWriter(dest)
    try:
        # The streams' own errors (an attachment that changed while sealing, a full
        # disk) propagate unchanged from the age layer.
        agev1.encrypt_stream(
            cast(BinaryIO, reader), cast(BinaryIO, writer), age_recipients(readers)
        )
    finally:
        chunks.close()
    if not signed.signature:  # pragma: no cover - agev1 reads to the end or raises
        raise RuntimeError("the age encryption stopped before the end of the report")
    return SealReceipt(
        report_id=header.report_id,
        created=header.created,
        sealed=header.sealed,
        sender_fingerprint=sender.fingerprint,
        recipients=header.recipients,
        attachments=header.attachments,
        payload_sha256=signed.payload_sha256,
        signature=signed.signature,
        container_size=len(prefix)
        + sum(a.size for a in header.attachments)
        + (crypto.SIGNATURE_SIZE if version == 1 else TRAILER_SIZE_V2),
        sealed_size=writer.count,
        version=version,
        encryption=encryption_for(readers),
        mldsa_signature=signed.mldsa_signature,
    )


# --- opening ---------------------------------------------------------------------------

# Where the parser is in the container (spec §3), in order.
_MAGIC_STATE = 0
_LENGTH_STATE = 1
_HEADER_STATE = 2
_ATTACHMENT_STATE = 3
_TRAILER_STATE = 4
_DONE_STATE = 5


class _ContainerParser:
    """A push parser: ``write`` is fed the container in pieces of any size (by
    ``agev1.decrypt_untrusted`` or by ``verify_container``); ``finish`` checks what needs
    the whole.

    It holds at most the header (≤ 1 MiB) and forwards attachment bytes to the sink as
    they come, hashing them on the way.
    """

    def __init__(self, sink: AttachmentSink) -> None:
        self._sink = sink
        self._state = _MAGIC_STATE
        self._field = bytearray()
        self._need = len(MAGIC)
        self._payload = crypto.sha256_hasher()
        self._size = 0
        self._header: _Header | None = None
        self._index = -1
        self._remaining = 0
        self._attachment = crypto.sha256_hasher()
        self._signature = b""
        self._version = 1
        self._error: BaseException | None = None

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        pass

    def write(self, data: bytes) -> int:
        # The first error is kept and raised again by every later call and by finish(),
        # so a caller that loses an exception cannot go on to accept the report.
        if self._error is not None:
            raise self._error
        try:
            return self._consume(data)
        except BaseException as error:
            self._error = error
            raise

    def _consume(self, data: bytes) -> int:
        total = len(data)
        offset = 0
        while offset < total:
            if self._state == _ATTACHMENT_STATE:
                take = min(self._remaining, total - offset)
                chunk = data if take == total else bytes(data[offset : offset + take])
                self._payload.update(chunk)
                self._attachment.update(chunk)
                self._sink.write(self._index, chunk)
                self._remaining -= take
                offset += take
                if not self._remaining:
                    self._end_attachment()
            elif self._state == _DONE_STATE:
                raise FormatError("the sealed report has data after its signature")
            else:
                take = min(self._need - len(self._field), total - offset)
                piece = data[offset : offset + take]
                self._field += piece
                if self._state != _TRAILER_STATE:
                    self._payload.update(piece)
                offset += take
                if self._state == _MAGIC_STATE:
                    self._check_magic()
                if len(self._field) == self._need:
                    self._end_field()
        self._size += total
        return total

    def _check_magic(self) -> None:
        seen = bytes(self._field)
        if MAGIC.startswith(seen) or MAGIC_V2.startswith(seen):
            return
        if seen.startswith(_MAGIC_STEM):
            raise FormatError(
                "this sealed report uses another version of the format, which this program "
                "does not read",
                hint="a newer version of SecureSubmit may read it",
            )
        raise FormatError("this is not a SecureSubmit sealed report")

    def _end_field(self) -> None:
        field = bytes(self._field)
        self._field.clear()
        if self._state == _MAGIC_STATE:
            self._version = 2 if field == MAGIC_V2 else 1
            self._state, self._need = _LENGTH_STATE, HEADER_LENGTH_SIZE
        elif self._state == _LENGTH_STATE:
            length = int.from_bytes(field, "big")
            if length == 0:
                raise FormatError("the sealed report's header is empty")
            if length > MAX_HEADER_BYTES:
                raise FormatError(
                    f"the sealed report's header is larger than {MAX_HEADER_BYTES // 1024} KiB"
                )
            self._state, self._need = _HEADER_STATE, length
        elif self._state == _HEADER_STATE:
            self._header = _parse_header(field, self._version)
            self._next_attachment()
        else:  # the trailer
            self._signature = field
            self._state = _DONE_STATE

    def _parsed_header(self) -> _Header:
        if self._header is None:  # pragma: no cover - the states make this unreachable
            raise RuntimeError("the header has not been parsed")
        return self._header

    def _next_attachment(self) -> None:
        header = self._parsed_header()
        while True:
            self._index += 1
            if self._index == len(header.attachments):
                trailer = crypto.SIGNATURE_SIZE if self._version == 1 else TRAILER_SIZE_V2
                self._state, self._need = _TRAILER_STATE, trailer
                return
            self._attachment = crypto.sha256_hasher()
            self._remaining = header.attachments[self._index].size
            if self._remaining:
                self._state = _ATTACHMENT_STATE
                return
            self._check_attachment()  # a 0-byte attachment ends where it starts

    def _end_attachment(self) -> None:
        self._check_attachment()
        self._next_attachment()

    def _check_attachment(self) -> None:
        if self._attachment.digest() != self._parsed_header().attachments[self._index].sha256:
            raise AttachmentAltered(
                f"attachment {self._index + 1} of the sealed report does not match the "
                "SHA-256 recorded for it: the report was altered or damaged"
            )

    def finish(
        self,
        my_fingerprint: bytes,
        known_senders: Callable[[bytes], None] | None,
        age_post_quantum: bool | None = None,
    ) -> OpenedReport:
        if self._error is not None:
            raise self._error
        if self._state != _DONE_STATE:
            if self._size == 0:
                raise FormatError("the sealed report is empty")
            raise FormatError("the sealed report is truncated: it ends before its signature")
        header = self._parsed_header()
        payload_sha256 = self._payload.digest()
        ed25519 = self._signature[: crypto.SIGNATURE_SIZE]
        mldsa = self._signature[crypto.SIGNATURE_SIZE :] if header.version == 2 else None
        verify_sealed_signature(
            sender=header.sender,
            recipients=header.recipients,
            report_id=header.report_id,
            created=header.created,
            sealed=header.sealed,
            payload_sha256=payload_sha256,
            signature=ed25519,
            encryption=header.encryption,
            mldsa_signature=mldsa,
        )
        found = None if age_post_quantum is None else HYBRID if age_post_quantum else CLASSICAL
        if found is not None and header.encryption is not None and found != header.encryption:
            raise ProtectionDowngraded(
                f"the sealed report's age layer is {found}, but its sender sealed it "
                f"{header.encryption}: its encryption was replaced"
            )
        if my_fingerprint not in header.recipients:
            raise ForwardedReport(
                "this report was sealed for other recipients and re-encrypted to you — "
                "possible surreptitious forwarding"
            )
        if known_senders is not None:
            known_senders(header.sender.fingerprint)
        return OpenedReport(
            report=header.report,
            report_id=header.report_id,
            created=header.created,
            sealed=header.sealed,
            sender=header.sender,
            recipients=header.recipients,
            attachments=header.attachments,
            payload_sha256=payload_sha256,
            signature=ed25519,
            container_size=self._size,
            version=header.version,
            encryption=found if found is not None else header.encryption,
            mldsa_signature=mldsa,
        )


def _verify_into(
    feed: Callable[[_ContainerParser], bool | None],
    sink: AttachmentSink,
    my_fingerprint: bytes,
    known_senders: Callable[[bytes], None] | None,
) -> OpenedReport:
    """``feed`` writes the container into the parser and returns whether the age layer
    it came through is post-quantum (None when there was no age layer to see)."""
    if not isinstance(my_fingerprint, bytes) or len(my_fingerprint) != identity.FINGERPRINT_SIZE:
        raise ValueError("my_fingerprint must be a 32-byte fingerprint")
    parser = _ContainerParser(sink)
    try:
        age_post_quantum = feed(parser)
        opened = parser.finish(my_fingerprint, known_senders, age_post_quantum)
        sink.commit()
    except BaseException:
        sink.discard()
        raise
    return opened


def open_sealed(
    source: BinaryIO,
    *,
    identity_secrets: Sequence[bytes | agev1.Identity],
    my_fingerprint: bytes,
    sink: AttachmentSink,
    known_senders: Callable[[bytes], None] | None,
) -> OpenedReport:
    """Decrypt, parse and verify a sealed report from outside, streaming.

    ``identity_secrets`` are the keys to try, in order: 32-byte X25519 secrets (as the
    vault holds them) or ``agev1`` identities (X25519 or post-quantum hybrid);
    ``my_fingerprint`` is the fingerprint of the keys they belong to, which the report
    must name among its recipients (else ForwardedReport). ``known_senders``, if given,
    is called with the verified sender's fingerprint and raises if that sender is not
    accepted.

    Attachment bytes go to ``sink`` as they are decrypted; ``sink.commit()`` is called
    once every check has passed, and ``sink.discard()`` on any failure before the
    exception propagates. Raises FormatError (malformed age header or container),
    DecryptionFailed (not for these keys, or the age file was altered), BadSignature,
    WeakKey, AttachmentAltered, ForwardedReport, or whatever ``known_senders`` or the
    sink raise.
    """
    if not identity_secrets:
        raise ValueError("at least one identity secret is required")

    def feed(parser: _ContainerParser) -> bool:
        header = agev1.decrypt_untrusted(source, cast(BinaryIO, parser), identity_secrets)
        return agev1.is_post_quantum(header)

    return _verify_into(feed, sink, my_fingerprint, known_senders)


def verify_container(
    source: BinaryIO,
    *,
    my_fingerprint: bytes,
    sink: AttachmentSink,
    known_senders: Callable[[bytes], None] | None,
) -> OpenedReport:
    """Verify a container that was decrypted by other means (``age -d``), streaming.

    The same checks, errors and sink protocol as ``open_sealed``, without the age layer.
    """

    def feed(parser: _ContainerParser) -> None:
        while block := source.read(_BLOCK):
            parser.write(block)
        return None

    return _verify_into(feed, sink, my_fingerprint, known_senders)
