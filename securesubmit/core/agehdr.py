"""Strict check of an age v1 header before core/agev1.py reads an untrusted file.

It was first written in front of pyrage: pyrage 1.4.0 accepts some malformed headers
(a stanza without its final body line), reports some failures as bare ``OSError``,
and would run an ``scrypt`` stanza with any work factor (2^23 costs about 8.4 GB of
memory). Every age file that comes from outside therefore passes
:func:`check_header` (or :func:`checked_reader`) first.

This module is a pure parser: no ``cryptography``, no ``pyrage``. It cannot check the
header MAC (that needs the file key); core/agev1.py does that afterwards. What it accepts and
refuses, and why, is in docs/spec/age-header-check.md. In short, the header must follow
the ABNF of the age v1 specification (https://c2sp.org/age) to the letter:

* the version line ``age-encryption.org/v1``;
* one or more stanzas ``-> ARG ARG...`` (arguments: non-empty runs of VCHAR, one space
  apart) whose body is canonical unpadded base64 wrapped at 64 columns and ends with a
  line shorter than 64 columns, possibly empty;
* the MAC line ``--- `` and 43 characters of canonical base64 (32 bytes);
* then at least the 16-byte payload nonce;

and on top of the specification, our policy:

* ``X25519`` stanzas: exactly one argument after the type, the canonical base64 of a
  32-byte share that is not a small-order point, and a 32-byte body;
* ``scrypt`` stanzas are refused: SecureSubmit never writes passphrase-encrypted files;
* ``mlkem768x25519`` stanzas are checked against their specified sizes (a 1120-byte
  encapsulated key whose X25519 part is not a small-order point, a 32-byte body) and
  left to core/agev1.py (pyrage 1.4.0 could not open them);
* any other stanza type (plugins, rage's "grease" stanzas) is ignored if it is within
  the size bounds below;
* at most :data:`MAX_STANZAS` stanzas, a header of at most :data:`MAX_HEADER_BYTES`,
  and at least one ``X25519`` stanza (a caller that can open other types, such as
  core/agev1.py with post-quantum identities, names them in ``recipient_types``);
* ASCII-armored (PEM) files are refused: SecureSubmit only writes binary age files.

Every failure raises :class:`~securesubmit.errors.FormatError` with one sentence for
the user.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

from securesubmit.errors import FormatError

VERSION_LINE = b"age-encryption.org/v1"
_VERSION_PREFIX = b"age-encryption.org/"
_ARMOR_DASHES = b"-----"  # "-----BEGIN AGE ENCRYPTED FILE-----", or a mangled form

MAX_HEADER_BYTES = 64 * 1024
"""Largest header accepted, from the version line to the MAC line's line feed."""
MAX_STANZAS = 64
"""Most recipient stanzas accepted in one header (grease and unknown ones included)."""
MAX_STANZA_ARGS = 16
"""Most arguments in one stanza, its type included."""
MAX_ARGUMENT_BYTES = 2048
"""Longest stanza argument (an mlkem768x25519 share is 1,494 characters)."""
MAX_UNKNOWN_BODY_BYTES = 4096
"""Largest decoded body of a stanza type we do not know (rage's grease: under 100)."""

NONCE_SIZE = 16
"""The payload nonce that follows the header; a file must contain it."""
READ_LIMIT = MAX_HEADER_BYTES + NONCE_SIZE
"""The most bytes :func:`check_header` and :func:`checked_reader` read from a stream."""

X25519_TYPE = "X25519"
SCRYPT_TYPE = "scrypt"
MLKEM768X25519_TYPE = "mlkem768x25519"

_BODY_COLUMNS = 64
_MAC_SIZE = 32
_X25519_SHARE_SIZE = 32
_WRAPPED_KEY_SIZE = 32  # a 16-byte file key and a 16-byte Poly1305 tag
_MLKEM768X25519_ENC_SIZE = 1120  # ML-KEM-768 ciphertext (1088) || X25519 share (32)

_B64_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_VCHAR = frozenset(range(0x21, 0x7F))

_P = 2**255 - 19
# u-coordinates of the X25519 points of small order, reduced mod p (libsodium's list;
# the same values as core/crypto.py, which this pure module may not import — a unit
# test keeps the two equal). A share is masked to 255 bits and reduced mod p before it
# is compared, as X25519 itself does, so no other encoding of these points slips by.
_X25519_SMALL_ORDER_U = frozenset(
    {
        0,
        1,
        _P - 1,
        int.from_bytes(
            bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
            "little",
        ),
        int.from_bytes(
            bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
            "little",
        ),
    }
)


@dataclass(frozen=True)
class Stanza:
    """One recipient stanza: ``-> type args...`` and its decoded body."""

    type: str
    args: tuple[str, ...]
    body: bytes


@dataclass(frozen=True)
class AgeHeader:
    """A header that passed the check. Its MAC is not verified yet (core/agev1.py does that)."""

    stanzas: tuple[Stanza, ...]
    length: int
    """Bytes from the start of the file to the MAC line's line feed, inclusive."""
    mac: bytes

    @property
    def x25519_stanzas(self) -> tuple[Stanza, ...]:
        return tuple(s for s in self.stanzas if s.type == X25519_TYPE)


def _malformed(reason: str) -> FormatError:
    return FormatError(f"the age header is malformed: {reason}")


def _refused(reason: str) -> FormatError:
    return FormatError(f"the age header was refused: {reason}")


def _b64decode(text: bytes) -> bytes | None:
    """Decode canonical unpadded base64 (RFC 4648 §3.5); None if it is not that."""
    if not _B64_CHARS.issuperset(text) or len(text) % 4 == 1:
        return None
    try:
        raw = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except binascii.Error:  # pragma: no cover - excluded by the checks above
        return None
    if base64.b64encode(raw).rstrip(b"=") != text:
        return None  # non-zero padding bits: another encoder could not have made this
    return raw


def _is_small_order(share: bytes) -> bool:
    u = (int.from_bytes(share, "little") & ((1 << 255) - 1)) % _P
    return u in _X25519_SMALL_ORDER_U


class _Lines:
    """Hands out the header's lines one by one, never past MAX_HEADER_BYTES."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._end = min(len(data), MAX_HEADER_BYTES)
        self.pos = 0
        self.number = 0

    def next(self) -> bytes:
        newline = self._data.find(b"\n", self.pos, self._end)
        if newline < 0:
            if len(self._data) > MAX_HEADER_BYTES:
                raise _refused(f"it is longer than {MAX_HEADER_BYTES // 1024} KiB")
            raise _malformed("the file ends before the header does")
        line = self._data[self.pos : newline]
        if line.endswith(b"\r"):
            raise _malformed("its lines end with CR LF instead of LF")
        self.pos = newline + 1
        self.number += 1
        return line


def check_header_bytes(
    data: bytes, *, recipient_types: Collection[str] = (X25519_TYPE,)
) -> AgeHeader:
    """Check the header at the start of ``data``, which must be a whole age file or at
    least its first :data:`READ_LIMIT` bytes (the header and the payload nonce).

    The header must hold at least one stanza of one of ``recipient_types``: the stanza
    types the caller's identities can open (``X25519`` for the pyrage path)."""
    if isinstance(recipient_types, str):  # "X25519" would match the type "X2" too
        raise TypeError("recipient_types is a collection of stanza types, not one string")
    if not data:
        raise FormatError("the file is empty; it is not an age file")
    if data[:READ_LIMIT].lstrip(b" \t\r\n").startswith(_ARMOR_DASHES):
        raise FormatError(
            "the file is ASCII-armored (PEM) age, which SecureSubmit does not accept; "
            "SecureSubmit bundles are always binary age files"
        )
    if data[: len(_VERSION_PREFIX)] != _VERSION_PREFIX[: len(data)]:
        raise FormatError(
            "the file is not an age file (it does not start with 'age-encryption.org/')"
        )

    lines = _Lines(data)
    version = lines.next()
    if version != VERSION_LINE:
        raise _malformed("only version 'age-encryption.org/v1' is supported")

    stanzas: list[Stanza] = []
    while True:
        line = lines.next()
        if line.startswith(b"-> "):
            if len(stanzas) == MAX_STANZAS:
                raise _refused(f"it has more than {MAX_STANZAS} recipient stanzas")
            stanza = _read_stanza(line, lines, len(stanzas) + 1)
            _apply_policy(stanza, len(stanzas) + 1)
            stanzas.append(stanza)
        elif line.startswith(b"---"):
            mac = _read_mac(line)
            break
        else:
            raise _malformed(f"line {lines.number} is neither a recipient stanza nor the MAC line")

    if not stanzas:
        raise _malformed("it has no recipient stanza")
    if not any(s.type in recipient_types for s in stanzas):
        names = " or ".join(sorted(recipient_types))
        raise _refused(
            f"it has no {names} recipient stanza, so it was not encrypted to a SecureSubmit key"
        )
    if len(data) - lines.pos < NONCE_SIZE:
        raise FormatError("the age file is truncated: its payload nonce is missing")
    return AgeHeader(stanzas=tuple(stanzas), length=lines.pos, mac=mac)


def _read_stanza(first: bytes, lines: _Lines, index: int) -> Stanza:
    raw_args = first[3:].split(b" ")
    if len(raw_args) > MAX_STANZA_ARGS:
        raise _refused(f"stanza {index} has more than {MAX_STANZA_ARGS} arguments")
    for arg in raw_args:
        if not arg:
            raise _malformed(f"stanza {index} has an empty argument")
        if not _VCHAR.issuperset(arg):
            raise _malformed(f"stanza {index} has an argument with a character that is not allowed")
        if len(arg) > MAX_ARGUMENT_BYTES:
            raise _refused(f"stanza {index} has an argument longer than {MAX_ARGUMENT_BYTES} bytes")
    body_lines: list[bytes] = []
    while True:
        line = lines.next()
        if line.startswith((b"-> ", b"---")):
            raise _malformed(
                f"stanza {index} does not end with a body line shorter than 64 columns"
            )
        if len(line) > _BODY_COLUMNS or not _B64_CHARS.issuperset(line):
            raise _malformed(f"stanza {index} has a body line that is not wrapped base64")
        body_lines.append(line)
        if len(line) < _BODY_COLUMNS:
            break
    body = _b64decode(b"".join(body_lines))
    if body is None:
        raise _malformed(f"stanza {index} has a body that is not canonical base64")
    args = tuple(arg.decode("ascii") for arg in raw_args)
    return Stanza(type=args[0], args=args[1:], body=body)


def _read_mac(line: bytes) -> bytes:
    if not line.startswith(b"--- "):
        raise _malformed("the MAC line does not start with '--- '")
    encoded = line[4:]
    mac = _b64decode(encoded) if len(encoded) == 43 else None
    if mac is None or len(mac) != _MAC_SIZE:
        raise _malformed("the MAC line does not hold 32 bytes of canonical base64")
    return mac


def _apply_policy(stanza: Stanza, index: int) -> None:
    if stanza.type == X25519_TYPE:
        share = _b64decode(stanza.args[0].encode("ascii")) if len(stanza.args) == 1 else None
        if share is None or len(share) != _X25519_SHARE_SIZE:
            raise _malformed(f"X25519 stanza {index} does not have exactly one 32-byte share")
        if len(stanza.body) != _WRAPPED_KEY_SIZE:
            raise _malformed(f"X25519 stanza {index} does not have a 32-byte body")
        if _is_small_order(share):
            raise _refused(f"X25519 stanza {index} uses a weak (small-order) share")
    elif stanza.type == SCRYPT_TYPE:
        raise _refused(
            "the file is protected by a passphrase (scrypt), which SecureSubmit never uses"
        )
    elif stanza.type == MLKEM768X25519_TYPE:
        enc = _b64decode(stanza.args[0].encode("ascii")) if len(stanza.args) == 1 else None
        if enc is None or len(enc) != _MLKEM768X25519_ENC_SIZE:
            raise _malformed(
                f"mlkem768x25519 stanza {index} does not have exactly one 1120-byte share"
            )
        if len(stanza.body) != _WRAPPED_KEY_SIZE:
            raise _malformed(f"mlkem768x25519 stanza {index} does not have a 32-byte body")
        if _is_small_order(enc[-_X25519_SHARE_SIZE:]):
            raise _refused(f"mlkem768x25519 stanza {index} uses a weak (small-order) share")
    elif len(stanza.body) > MAX_UNKNOWN_BODY_BYTES:
        raise _refused(f"stanza {index} has a body larger than {MAX_UNKNOWN_BODY_BYTES} bytes")


# --- streams ----------------------------------------------------------------------


def _read_prefix(stream: BinaryIO) -> bytes:
    """Read up to READ_LIMIT bytes, fewer only at the end of the stream."""
    parts: list[bytes] = []
    remaining = READ_LIMIT
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        if len(chunk) > remaining:  # a stream that ignores the size it was given
            raise ValueError("the stream returned more bytes than were asked for")
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def check_header(
    stream: BinaryIO, *, recipient_types: Collection[str] = (X25519_TYPE,)
) -> AgeHeader:
    """Check the age header that starts at the current position of a seekable stream.

    Reads at most :data:`READ_LIMIT` bytes, then puts the position back where it was,
    whether the check passed or raised, so the same stream can go to pyrage (which reads
    from the current position). Raises ValueError for a stream that cannot seek: use
    :func:`checked_reader` for pipes, and also whenever the file could change between
    the check and the decryption (a USB stick can return different bytes when read
    twice); the reader replays exactly the bytes that were checked.
    """
    if not stream.seekable():
        raise ValueError("check_header needs a seekable stream; use checked_reader")
    start = stream.tell()
    try:
        return check_header_bytes(_read_prefix(stream), recipient_types=recipient_types)
    finally:
        stream.seek(start)


def checked_reader(
    stream: BinaryIO, *, recipient_types: Collection[str] = (X25519_TYPE,)
) -> tuple[AgeHeader, BinaryIO]:
    """Check the header at the current position of ``stream`` (seekable or not).

    Returns the header and a reader that yields the bytes already read for the check,
    then the rest of ``stream``. Give that reader, not ``stream``, to the decryption:
    what pyrage parses is then exactly what was checked. Reads at most
    :data:`READ_LIMIT` bytes before returning; on failure those bytes are consumed.
    """
    prefix = _read_prefix(stream)
    header = check_header_bytes(prefix, recipient_types=recipient_types)
    return header, io.BufferedReader(_Replay(prefix, stream))


class _Replay(io.RawIOBase):
    """The bytes already read, then the rest of the underlying stream."""

    def __init__(self, prefix: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._prefix:
            n = min(len(view), len(self._prefix))
            view[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        chunk = self._rest.read(len(view)) or b""
        n = len(chunk)
        if n > len(view):
            raise ValueError("the stream returned more bytes than were asked for")
        view[:n] = chunk
        return n
