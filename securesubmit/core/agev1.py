"""The age v1 file format (https://c2sp.org/age), our own implementation: streaming, strict,
and with the hybrid post-quantum recipient type of age 1.3.

It is composed only of the named primitives in core/crypto.py (X25519, HKDF-SHA256,
HMAC-SHA256, ChaCha20-Poly1305, HPKE with the MLKEM768-X25519 KEM); this module imports no
cryptographic library and implements no primitive. The whole format, every decision where
the specification leaves room, and the test results are in docs/spec/age-implementation.md.
In short:

* Recipients: ``X25519`` (``age1…`` / ``AGE-SECRET-KEY-1…``) and ``mlkem768x25519``
  (``age1pq1…`` / ``AGE-SECRET-KEY-PQ-1…``), as objects or as their strings. By default
  a file is encrypted to recipients of one kind only: mixing post-quantum and classical
  recipients is refused, as age does, because the classical stanza makes the whole file
  breakable by a quantum computer. A caller that needs one file for both kinds (a
  partner who has no post-quantum key yet) says so with ``allow_mixed=True``; such a
  file is only as strong as X25519, and ``is_post_quantum`` reports it as classical.
* No grease stanza is written. A file holds exactly one stanza per recipient, in order.
* Decryption parses the header with core/agehdr.py (the same strict check as everywhere,
  here accepting ``X25519`` and ``mlkem768x25519`` stanzas; ``scrypt`` and armor are
  refused), unwraps the file key, verifies the header MAC, and only then reads the
  payload, chunk by chunk: each 64 KiB chunk is written to the destination as soon as it
  has authenticated. A payload failure raises DecryptionFailed after the chunks before the
  failing one were released (never a byte of an unauthenticated chunk), so the caller
  MUST discard the destination on any exception.
* Errors: FormatError for a header that agehdr refuses, DecryptionFailed for no matching
  identity, a wrong header MAC or a bad payload; an exception of ``source`` or
  ``destination`` themselves propagates unchanged.
* Output comes in large pieces: one ``write`` per 64 KiB payload chunk (65,552 bytes when
  encrypting, 65,536 when decrypting) and one for the header, so a buffering destination
  such as the vault's ChunkWriter copies each byte once.

This is SecureSubmit's only age implementation: core/seal.py and core/bundle.py encrypt
with :func:`encrypt_stream` and open files from outside with :func:`decrypt_untrusted`.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, ClassVar, cast

from securesubmit.core import agehdr, bech32, crypto
from securesubmit.errors import DecryptionFailed, FormatError, Refused, WeakKey

CHUNK_SIZE = 64 * 1024
"""Plaintext bytes per payload chunk; only the final chunk may be shorter."""
TAG_SIZE = 16
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
FILE_KEY_SIZE = crypto.AGE_FILE_KEY_SIZE
PAYLOAD_NONCE_SIZE = agehdr.NONCE_SIZE
MAC_SIZE = 32

X25519_TYPE = agehdr.X25519_TYPE
HYBRID_TYPE = agehdr.MLKEM768X25519_TYPE
OPENABLE_TYPES = (HYBRID_TYPE, X25519_TYPE)
"""The stanza types this module can open; agehdr refuses a header without one of them."""

X25519_RECIPIENT_HRP = "age"
X25519_IDENTITY_HRP = "age-secret-key-"
HYBRID_RECIPIENT_HRP = "age1pq"
HYBRID_IDENTITY_HRP = "age-secret-key-pq-"

_X25519_INFO = b"age-encryption.org/v1/X25519"
_HYBRID_INFO = b"age-encryption.org/mlkem768x25519"
_ZERO_NONCE = bytes(12)
_WRAPPED_KEY_SIZE = FILE_KEY_SIZE + TAG_SIZE
_SECRET_SIZE = 32
_BODY_COLUMNS = 64
_MAC_LINE_TAIL = 1 + 43 + 1  # " " + base64 of the 32-byte MAC + LF, after "---"
_MAX_KEY_STRING = 2048  # an age1pq recipient is 1,959 characters
_ABSTRACT_READINTO = io.RawIOBase.readinto
_LAST = b"\x01"
_NOT_LAST = b"\x00"


# --- recipients and identities -------------------------------------------------------


@dataclass(frozen=True)
class X25519Recipient:
    """A classical age recipient: an X25519 public key, ``age1…``."""

    public: bytes
    post_quantum: ClassVar[bool] = False

    def __post_init__(self) -> None:
        crypto.check_encryption_public_key(self.public)

    def __str__(self) -> str:
        return bech32.encode(X25519_RECIPIENT_HRP, self.public)


@dataclass(frozen=True)
class HybridRecipient:
    """A post-quantum age recipient: an MLKEM768-X25519 public key, ``age1pq1…``."""

    public: bytes
    post_quantum: ClassVar[bool] = True

    def __post_init__(self) -> None:
        crypto.check_hybrid_public_key(self.public)

    def __str__(self) -> str:
        return bech32.encode(HYBRID_RECIPIENT_HRP, self.public)


Recipient = X25519Recipient | HybridRecipient


@dataclass(frozen=True, repr=False)
class X25519Identity:
    """A classical age identity: a 32-byte X25519 secret key. Its repr hides the secret;
    :meth:`encode` gives the ``AGE-SECRET-KEY-1…`` string."""

    secret: bytes
    public: bytes = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.secret) != _SECRET_SIZE:
            raise ValueError("an X25519 identity is 32 bytes")
        object.__setattr__(self, "public", crypto.encryption_public_key(self.secret))

    def __repr__(self) -> str:
        return f"X25519Identity(recipient={self.recipient()})"

    def recipient(self) -> X25519Recipient:
        return X25519Recipient(self.public)

    def encode(self) -> str:
        return bech32.encode(X25519_IDENTITY_HRP, self.secret).upper()


@dataclass(frozen=True, repr=False)
class HybridIdentity:
    """A post-quantum age identity: the 32-byte MLKEM768-X25519 seed. Its repr hides the
    seed; :meth:`encode` gives the ``AGE-SECRET-KEY-PQ-1…`` string."""

    seed: bytes
    public: bytes = field(init=False, compare=False)
    key: object = field(init=False, compare=False)
    """The expanded private key, built once: files are opened without expanding again."""

    def __post_init__(self) -> None:
        if len(self.seed) != _SECRET_SIZE:
            raise ValueError("an MLKEM768-X25519 identity is 32 bytes")
        object.__setattr__(self, "public", crypto.hybrid_public_key(self.seed))
        object.__setattr__(self, "key", crypto.hybrid_private_key(self.seed))

    def __repr__(self) -> str:
        return f"HybridIdentity(recipient={str(self.recipient())[:20]}…)"

    def recipient(self) -> HybridRecipient:
        return HybridRecipient(self.public)

    def encode(self) -> str:
        return bech32.encode(HYBRID_IDENTITY_HRP, self.seed).upper()


Identity = X25519Identity | HybridIdentity


def generate_x25519_identity() -> X25519Identity:
    return X25519Identity(crypto.generate_encryption_key())


def generate_hybrid_identity() -> HybridIdentity:
    return HybridIdentity(crypto.random_bytes(_SECRET_SIZE))


def parse_recipient(text: str) -> Recipient:
    """An ``age1…`` (X25519) or ``age1pq1…`` (MLKEM768-X25519) recipient string.

    Only the lower-case form is accepted, as age does; weak keys are refused (WeakKey)."""
    if text != text.lower():
        raise FormatError("an age recipient is written in lower case")
    hrp, data = bech32.decode(text, max_length=_MAX_KEY_STRING)
    if hrp == X25519_RECIPIENT_HRP and len(data) == crypto.PUBLIC_KEY_SIZE:
        return X25519Recipient(data)
    if hrp == HYBRID_RECIPIENT_HRP and len(data) == crypto.AGE_HYBRID_PUBLIC_KEY_SIZE:
        return HybridRecipient(data)
    raise FormatError("not an age recipient (age1… or age1pq1…)")


def as_recipient(recipient: Recipient | str) -> Recipient:
    """A Recipient object, or one parsed from its ``age1…`` / ``age1pq1…`` string."""
    if isinstance(recipient, str):
        return parse_recipient(recipient)
    if not isinstance(recipient, X25519Recipient | HybridRecipient):
        raise TypeError("an age recipient is an X25519Recipient, a HybridRecipient or a string")
    return recipient


def as_identity(identity: Identity | str | bytes) -> Identity:
    """An Identity object; one parsed from its ``AGE-SECRET-KEY-1…`` /
    ``AGE-SECRET-KEY-PQ-1…`` string; or, for ``bytes``, the X25519 identity of that
    32-byte secret (the form in which vaults hold their X25519 keys)."""
    if isinstance(identity, str):
        return parse_identity(identity)
    if isinstance(identity, bytes):
        return X25519Identity(identity)
    if not isinstance(identity, X25519Identity | HybridIdentity):
        raise TypeError(
            "an age identity is an X25519Identity, a HybridIdentity, a string or 32 bytes"
        )
    return identity


def parse_identity(text: str) -> Identity:
    """An ``AGE-SECRET-KEY-1…`` or ``AGE-SECRET-KEY-PQ-1…`` identity string (upper case)."""
    if text != text.upper():
        raise FormatError("an age identity is written in upper case")
    hrp, data = bech32.decode(text, max_length=_MAX_KEY_STRING)
    if len(data) == _SECRET_SIZE:
        if hrp == X25519_IDENTITY_HRP:
            return X25519Identity(data)
        if hrp == HYBRID_IDENTITY_HRP:
            return HybridIdentity(data)
    raise FormatError("not an age identity (AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1…)")


# --- header ------------------------------------------------------------------------------


def _b64encode(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _b64decode(text: str) -> bytes:
    """Decode base64 that agehdr has already checked to be canonical and unpadded."""
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise FormatError("the age header is malformed: a stanza argument is not base64") from None


def encode_stanza(stanza: agehdr.Stanza) -> bytes:
    """``-> type args…`` and the body in base64, wrapped at 64 columns, ending with a
    line shorter than 64 columns (empty if the encoding fills its last line)."""
    encoded = _b64encode(stanza.body)
    lines = [encoded[i : i + _BODY_COLUMNS] for i in range(0, len(encoded), _BODY_COLUMNS)]
    if len(encoded) % _BODY_COLUMNS == 0:
        lines.append(b"")
    first = b"-> " + " ".join((stanza.type, *stanza.args)).encode("ascii") + b"\n"
    return first + b"".join(line + b"\n" for line in lines)


def header_without_mac(stanzas: Iterable[agehdr.Stanza]) -> bytes:
    """The header up to and including ``---``: what the header MAC covers."""
    return agehdr.VERSION_LINE + b"\n" + b"".join(encode_stanza(s) for s in stanzas) + b"---"


def header_mac(file_key: bytes, covered: bytes) -> bytes:
    """HMAC-SHA256 under HKDF-SHA256(file key, salt empty, info "header")."""
    return crypto.hmac_sha256(crypto.hkdf_sha256(file_key, b"", b"header"), covered)


def payload_key(file_key: bytes, nonce: bytes) -> bytes:
    """HKDF-SHA256(file key, salt = the 16-byte payload nonce, info "payload")."""
    return crypto.hkdf_sha256(file_key, nonce, b"payload")


def is_post_quantum(header: agehdr.AgeHeader) -> bool:
    """True if every stanza of the header is ``mlkem768x25519``, so no stanza can be
    opened without breaking ML-KEM-768. A stanza of any other type (X25519, and also
    unknown types such as grease, whose contents we cannot vouch for) makes it False."""
    return bool(header.stanzas) and all(s.type == HYBRID_TYPE for s in header.stanzas)


# --- wrapping the file key -----------------------------------------------------------


def wrap_file_key(file_key: bytes, recipient: Recipient) -> agehdr.Stanza:
    """One recipient stanza carrying ``file_key`` (fresh randomness in each call)."""
    if len(file_key) != FILE_KEY_SIZE:
        raise ValueError("the file key is 16 bytes")
    if isinstance(recipient, X25519Recipient):
        ephemeral = crypto.generate_encryption_key()
        share = crypto.encryption_public_key(ephemeral)
        shared = crypto.x25519_shared(ephemeral, recipient.public)
        wrap_key = crypto.hkdf_sha256(shared, share + recipient.public, _X25519_INFO)
        body = crypto.chacha20poly1305_seal(wrap_key, _ZERO_NONCE, file_key)
        return agehdr.Stanza(X25519_TYPE, (_b64encode(share).decode("ascii"),), body)
    enc, body = crypto.hpke_hybrid_seal(recipient.public, file_key, _HYBRID_INFO)
    return agehdr.Stanza(HYBRID_TYPE, (_b64encode(enc).decode("ascii"),), body)


def _unwrap_x25519(stanza: agehdr.Stanza, identity: X25519Identity) -> bytes | None:
    share = _b64decode(stanza.args[0]) if len(stanza.args) == 1 else b""
    if len(share) != crypto.PUBLIC_KEY_SIZE or len(stanza.body) != _WRAPPED_KEY_SIZE:
        raise FormatError("the age header is malformed: an X25519 stanza has the wrong sizes")
    try:
        shared = crypto.x25519_shared(identity.secret, share)
    except WeakKey:
        raise FormatError("the age header was refused: an X25519 share is weak") from None
    wrap_key = crypto.hkdf_sha256(shared, share + identity.public, _X25519_INFO)
    try:
        return crypto.chacha20poly1305_open(wrap_key, _ZERO_NONCE, stanza.body)
    except DecryptionFailed:
        return None


def _unwrap_hybrid(stanza: agehdr.Stanza, identity: HybridIdentity) -> bytes | None:
    enc = _b64decode(stanza.args[0]) if len(stanza.args) == 1 else b""
    if len(enc) != crypto.AGE_HYBRID_ENC_SIZE or len(stanza.body) != _WRAPPED_KEY_SIZE:
        raise FormatError(
            "the age header is malformed: an mlkem768x25519 stanza has the wrong sizes"
        )
    try:
        return crypto.hpke_hybrid_open(identity.key, enc, stanza.body, _HYBRID_INFO)
    except DecryptionFailed:
        return None


def unwrap_file_key(
    stanzas: Sequence[agehdr.Stanza], identities: Sequence[Identity]
) -> bytes | None:
    """The file key from the first stanza that one of ``identities`` opens, trying each
    identity in order against every stanza of its type in header order (as age does);
    None if none opens. Stanzas of other types are ignored."""
    for identity in identities:
        for stanza in stanzas:
            if isinstance(identity, X25519Identity):
                if stanza.type != X25519_TYPE:
                    continue
                file_key = _unwrap_x25519(stanza, identity)
            else:
                if stanza.type != HYBRID_TYPE:
                    continue
                file_key = _unwrap_hybrid(stanza, identity)
            if file_key is not None:
                return file_key
    return None


# --- streams -----------------------------------------------------------------------------


def _read_some(stream: BinaryIO | _Continued, view: memoryview) -> int:
    """One read into ``view``: the count, 0 at the end of the stream. Uses ``readinto``
    when the stream implements it (an ``io.RawIOBase`` that defines only ``read`` inherits
    a ``readinto`` that raises NotImplementedError: ``read`` is used for it)."""
    readinto = getattr(stream, "readinto", None)
    if readinto is not None and getattr(type(stream), "readinto", None) is not _ABSTRACT_READINTO:
        n: int | None = readinto(view)
    else:
        chunk = cast(BinaryIO, stream).read(len(view))  # _Continued has readinto
        n = None if chunk is None else len(chunk)
        if n is not None and n > len(view):
            raise ValueError("the stream returned more bytes than were asked for")
        if n:
            view[:n] = chunk
    if n is None:
        raise ValueError("the stream returned no data without ending (non-blocking?)")
    return n


def _fill(stream: BinaryIO | _Continued, buffer: bytearray) -> int:
    """Read into ``buffer`` until it is full or the stream ends; the count read."""
    view = memoryview(buffer)
    total = 0
    while total < len(buffer):
        n = _read_some(stream, view[total:])
        if n == 0:
            break
        total += n
    return total


class _Continued:
    """The payload bytes that the header check already read, then the rest of the
    stream, read straight into the caller's buffer (no second buffer, no copy)."""

    def __init__(self, already_read: bytes, stream: BinaryIO) -> None:
        self._pending = memoryview(already_read)
        self._stream = stream

    def readinto(self, view: memoryview) -> int:
        if self._pending:
            n = min(len(view), len(self._pending))
            view[:n] = self._pending[:n]
            self._pending = self._pending[n:]
            return n
        return _read_some(self._stream, view)


def _write_all(destination: BinaryIO, data: bytes) -> None:
    """Write every byte of ``data``, looping on short writes. The destination gets
    ``bytes`` objects it may keep: no buffer of ours is ever reused under it."""
    while data:
        written = destination.write(data)
        if not written or written < 0:
            raise OSError("the destination accepted no bytes (is the disk full?)")
        data = data[written:]


def _chunk_nonce(counter: int, last: bool) -> bytes:
    """The 12-byte STREAM nonce: an 11-byte big-endian chunk counter, then the flag."""
    return counter.to_bytes(11, "big") + (_LAST if last else _NOT_LAST)


def encrypt_payload(source: BinaryIO, destination: BinaryIO, key: bytes) -> None:
    """The STREAM payload (without its nonce): 64 KiB chunks, the last one flagged.

    The next chunk is read before the current one is sealed, so a payload that is an
    exact multiple of 64 KiB ends with a full final chunk (as age writes it), and an
    empty payload is one empty final chunk."""
    aead = crypto.ChunkAead(key)
    current, following = bytearray(CHUNK_SIZE), bytearray(CHUNK_SIZE)
    size = _fill(source, current)
    counter = 0
    while True:
        next_size = _fill(source, following) if size == CHUNK_SIZE else 0
        last = next_size == 0
        plaintext = current if size == CHUNK_SIZE else memoryview(current)[:size]
        _write_all(destination, aead.seal(_chunk_nonce(counter, last), plaintext))
        if last:
            return
        current, following = following, current
        size = next_size
        counter += 1


def decrypt_payload(source: BinaryIO | _Continued, destination: BinaryIO, key: bytes) -> None:
    """Decrypt the STREAM payload (after its nonce) into ``destination``, chunk by chunk,
    with age's semantics: a short chunk must be the final one and not empty (unless it
    is the only one); a full chunk that does not open as a middle chunk is tried as the
    final one; the stream must end exactly after the final chunk. Each chunk is written
    as soon as it has authenticated; any failure raises DecryptionFailed."""
    aead = crypto.ChunkAead(key)
    buffer = bytearray(ENCRYPTED_CHUNK_SIZE)
    counter = 0
    while True:
        size = _fill(source, buffer)
        if size == 0:
            raise DecryptionFailed("the age file is truncated: it ends before its last chunk")
        if size < ENCRYPTED_CHUNK_SIZE:
            if size < TAG_SIZE or (size == TAG_SIZE and counter > 0):
                raise DecryptionFailed(
                    "the age file is damaged: its last chunk is empty or shorter than a tag"
                )
            last = True
            plaintext = _open_chunk(aead, counter, True, memoryview(buffer)[:size])
        else:
            try:
                plaintext = aead.open(_chunk_nonce(counter, False), buffer)
                last = False
            except DecryptionFailed:
                plaintext = _open_chunk(aead, counter, True, buffer)
                last = True
        if plaintext:
            _write_all(destination, plaintext)
        if last:
            # A short chunk was read up to the end of the stream; after a full one, look.
            # (Like age, the final chunk is released first: it did authenticate as final.)
            if size == ENCRYPTED_CHUNK_SIZE and _fill(source, bytearray(1)):
                raise DecryptionFailed("the age file is damaged: data follows its last chunk")
            return
        counter += 1


def _open_chunk(
    aead: crypto.ChunkAead, counter: int, last: bool, ciphertext: bytearray | memoryview
) -> bytes:
    try:
        return aead.open(_chunk_nonce(counter, last), ciphertext)
    except DecryptionFailed:
        raise DecryptionFailed(
            "the age file was altered or damaged: a payload chunk does not authenticate"
        ) from None


# --- files -------------------------------------------------------------------------------


def encrypt_stream(
    source: BinaryIO,
    destination: BinaryIO,
    recipients: Iterable[Recipient | str],
    *,
    allow_mixed: bool = False,
) -> None:
    """Encrypt ``source`` to ``recipients`` as a binary age v1 file on ``destination``.

    ``recipients`` are X25519Recipient / HybridRecipient objects or their ``age1…`` /
    ``age1pq1…`` strings, one stanza each, in order. Recipients of both kinds in one
    file are refused (Refused), as age does: a classical stanza beside a post-quantum one
    lets a quantum computer open the file, so the post-quantum one protects nothing.
    ``allow_mixed=True`` writes such a file anyway (valid age, which age ≥ 1.3 and we
    open); choose it knowingly. Also refuses more recipients than a header we would read
    back may hold (agehdr.MAX_STANZAS stanzas, agehdr.MAX_HEADER_BYTES bytes: 42
    post-quantum or 64 classical recipients). Exceptions of ``source`` and
    ``destination`` propagate unchanged; the partial output must then be discarded."""
    chosen = [as_recipient(r) for r in recipients]
    if not chosen:
        raise ValueError("at least one recipient is required")
    if not allow_mixed and len({r.post_quantum for r in chosen}) > 1:
        raise Refused(
            "post-quantum and classical recipients cannot be mixed in one file: the "
            "classical one would leave the file open to a quantum computer"
        )
    if len(chosen) > agehdr.MAX_STANZAS:
        raise Refused(f"an age file can be encrypted to at most {agehdr.MAX_STANZAS} recipients")
    file_key = crypto.random_bytes(FILE_KEY_SIZE)
    covered = header_without_mac(wrap_file_key(file_key, r) for r in chosen)
    header = covered + b" " + _b64encode(header_mac(file_key, covered)) + b"\n"
    if len(header) > agehdr.MAX_HEADER_BYTES:
        raise Refused(
            f"too many recipients: the age header would be larger than "
            f"{agehdr.MAX_HEADER_BYTES // 1024} KiB"
        )
    nonce = crypto.random_bytes(PAYLOAD_NONCE_SIZE)
    # What we write must pass our own reader's check: a bug here fails loudly.
    agehdr.check_header_bytes(header + nonce, recipient_types=OPENABLE_TYPES)
    _write_all(destination, header + nonce)
    encrypt_payload(source, destination, payload_key(file_key, nonce))
    flush = getattr(destination, "flush", None)
    if flush is not None:
        flush()


def decrypt_untrusted(
    source: BinaryIO, destination: BinaryIO, identities: Sequence[Identity | str | bytes]
) -> agehdr.AgeHeader:
    """Open an age file from outside into ``destination``; returns its checked header.

    ``identities`` are X25519Identity / HybridIdentity objects, their strings, or 32-byte
    X25519 secrets (see :func:`as_identity`), tried in order.

    The header passes agehdr's strict check first (FormatError: armor, scrypt, anything
    malformed, weak shares, no X25519 or mlkem768x25519 stanza); at most
    agehdr.READ_LIMIT bytes are read for it, once, and the header, MAC and nonce used
    afterwards are exactly the bytes checked. Then the file key is unwrapped
    (DecryptionFailed if no identity matches), the header MAC verified (DecryptionFailed),
    and only then is the payload decrypted, streaming. ``destination`` MUST be discarded
    if this raises: the chunks before a failing one have already been written to it."""
    keys = [as_identity(i) for i in identities]
    if not keys:
        raise ValueError("at least one identity is required")
    # What agehdr.checked_reader does, without its replay buffer on the payload path: read
    # the check's prefix once, check it, and parse only those bytes; the payload then
    # continues with the rest of the prefix and the stream, read straight into our buffer.
    prefix = bytearray(agehdr.READ_LIMIT)
    prefix_size = _fill(source, prefix)
    checked = bytes(memoryview(prefix)[:prefix_size])
    del prefix
    header = agehdr.check_header_bytes(checked, recipient_types=OPENABLE_TYPES)
    covered = checked[: header.length - _MAC_LINE_TAIL]
    if not covered.endswith(b"\n---"):  # pragma: no cover - agehdr guarantees it
        raise RuntimeError("the checked header does not end with its MAC line")
    payload_at = header.length + PAYLOAD_NONCE_SIZE
    nonce = checked[header.length : payload_at]  # agehdr checked that it is all there

    file_key = unwrap_file_key(header.stanzas, keys)
    if file_key is None:
        raise DecryptionFailed("the age file is not encrypted to any of these keys")
    if not crypto.constant_time_equal(header_mac(file_key, covered), header.mac):
        raise DecryptionFailed("the age file was altered: its header MAC does not match")
    decrypt_payload(
        _Continued(checked[payload_at:], source), destination, payload_key(file_key, nonce)
    )
    return header
