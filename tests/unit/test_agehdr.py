"""The strict age v1 header check (securesubmit/core/agehdr.py).

Headers are built here with a small test-side encoder, so every rule of the age v1
ABNF and of our policy is exercised one at a time; the CCTV vectors are in
tests/interop/test_age_vectors.py.
"""

from __future__ import annotations

import base64
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securesubmit.core import agehdr, crypto
from securesubmit.errors import FormatError

# A real X25519 share (from the CCTV "x25519" vector): not a small-order point.
SHARE = base64.b64decode("TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc=")
WRAPPED = bytes(range(32))
MAC = bytes(range(100, 132))
NONCE = b"N" * agehdr.NONCE_SIZE
_P = 2**255 - 19


# --- a test-side encoder --------------------------------------------------------------


def b64(raw: bytes) -> bytes:
    return base64.b64encode(raw).rstrip(b"=")


def stanza(*args: bytes, body: bytes = b"") -> bytes:
    encoded = b64(body)
    lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    if not lines or len(lines[-1]) == 64:
        lines.append(b"")
    return b"-> " + b" ".join(args) + b"\n" + b"".join(line + b"\n" for line in lines)


def x25519(share: bytes = SHARE, body: bytes = WRAPPED) -> bytes:
    return stanza(b"X25519", b64(share), body=body)


def header(*stanzas: bytes, mac: bytes = MAC) -> bytes:
    return b"age-encryption.org/v1\n" + b"".join(stanzas) + b"--- " + b64(mac) + b"\n"


def age_file(*stanzas: bytes) -> bytes:
    return header(*(stanzas or (x25519(),))) + NONCE + b"payload"


def encode(parsed: agehdr.AgeHeader) -> bytes:
    """The canonical bytes of a parsed header."""
    return header(
        *(stanza(*(a.encode() for a in (s.type, *s.args)), body=s.body) for s in parsed.stanzas),
        mac=parsed.mac,
    )


def mac_line(line: bytes) -> bytes:
    """A file whose MAC line is ``line``."""
    return header(x25519())[:-48] + line + b"\n" + NONCE


def refused(data: bytes) -> str:
    with pytest.raises(FormatError) as caught:
        agehdr.check_header_bytes(data)
    message = str(caught.value)
    assert "\n" not in message and message == message.strip()
    return message


# --- what is accepted -------------------------------------------------------------------


def test_a_minimal_file_is_parsed_into_its_parts() -> None:
    data = age_file()
    parsed = agehdr.check_header_bytes(data)
    assert parsed.stanzas == (agehdr.Stanza("X25519", (b64(SHARE).decode(),), WRAPPED),)
    assert parsed.mac == MAC
    assert parsed.length == len(header(x25519()))
    assert data[parsed.length :].startswith(NONCE)
    assert parsed.x25519_stanzas == parsed.stanzas


def test_unknown_stanzas_of_any_valid_shape_are_kept_and_ignored() -> None:
    vchars = bytes(range(0x21, 0x7F))
    data = age_file(
        stanza(b"example.com/enigma", vchars[:40], vchars[40:]),
        x25519(),
        stanza(b"empty"),
        stanza(b"long", body=b"\xff" * 48),  # exactly one full line, then an empty one
        stanza(b"longer", body=b"\x00" * 100),
    )
    parsed = agehdr.check_header_bytes(data)
    assert [s.type for s in parsed.stanzas] == [
        "example.com/enigma",
        "X25519",
        "empty",
        "long",
        "longer",
    ]
    assert parsed.stanzas[0].args == (vchars[:40].decode(), vchars[40:].decode())
    assert parsed.stanzas[3].body == b"\xff" * 48
    assert len(parsed.x25519_stanzas) == 1
    assert encode(parsed) == data[: parsed.length]


def test_every_file_pyrage_writes_passes_and_carries_a_grease_stanza() -> None:
    import pyrage  # a test dependency: files from rage/pyrage still reach coordinators

    public = crypto.encryption_public_key(crypto.generate_encryption_key())
    recipient = pyrage.x25519.Recipient.from_str(crypto.age_recipient(public))
    for _ in range(40):
        data = pyrage.encrypt(b"report", [recipient, recipient])
        parsed = agehdr.check_header_bytes(data)
        others = [s for s in parsed.stanzas if s.type != "X25519"]
        assert len(parsed.x25519_stanzas) == 2
        assert len(others) == 1 and others[0].type.endswith("-grease")
        assert len(others[0].args) <= 4 and len(others[0].body) < 100
        assert encode(parsed) == data[: parsed.length]


def test_a_well_formed_mlkem768x25519_stanza_is_accepted_beside_an_x25519_one() -> None:
    enc = bytes(1088) + SHARE
    parsed = agehdr.check_header_bytes(
        age_file(x25519(), stanza(b"mlkem768x25519", b64(enc), body=WRAPPED))
    )
    assert parsed.stanzas[1].args == (b64(enc).decode(),)


# --- what is refused, one rule at a time ---------------------------------------------

MALFORMED = "the age header is malformed: "
POLICY = "the age header was refused: "

CASES: list[tuple[str, bytes, str]] = [
    ("empty file", b"", "the file is empty"),
    ("not age", b"PK\x03\x04 a zip file", "not an age file"),
    ("version prefix only", b"age-encr", "ends before the header does"),
    ("armored", b"-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n", "ASCII-armored"),
    ("armored after blank lines", b"\r\n \n-----BEGIN AGE ENCRYPTED FILE-----\n", "ASCII-armored"),
    ("version 2", age_file().replace(b"/v1\n", b"/v2\n"), MALFORMED + "only version"),
    ("version v1 suffix", age_file().replace(b"/v1\n", b"/v1 \n"), MALFORMED + "only version"),
    ("CRLF", age_file().replace(b"\n", b"\r\n"), MALFORMED + "its lines end with CR LF"),
    ("no stanza", header() + NONCE, MALFORMED + "it has no recipient stanza"),
    (
        "truncated in a stanza",
        header(x25519())[:40],
        MALFORMED + "the file ends before the header does",
    ),
    (
        "truncated before MAC",
        header(x25519())[:-48],
        MALFORMED + "the file ends before the header does",
    ),
    ("no LF after MAC", header(x25519())[:-1], MALFORMED + "the file ends before the header does"),
    ("stanza without space", age_file().replace(b"-> X25519", b"->X25519"), "neither"),
    ("stanza with no argument", age_file(stanza(b""), x25519()), "empty argument"),
    ("double space", age_file(stanza(b"a", b"", b"b"), x25519()), "empty argument"),
    ("trailing space", age_file(stanza(b"a "), x25519()), "empty argument"),
    ("tab in argument", age_file(stanza(b"a\tb"), x25519()), "not allowed"),
    ("DEL in argument", age_file(stanza(b"a\x7f"), x25519()), "not allowed"),
    ("UTF-8 in argument", age_file(stanza("é".encode()), x25519()), "not allowed"),
    ("body line of 65", age_file(b"-> a\n" + b"A" * 65 + b"\n\n", x25519()), "not wrapped"),
    (
        "padding",
        age_file(stanza(b"a", body=b"x").replace(b"eA\n", b"eA==\n"), x25519()),
        "not wrapped",
    ),
    (
        "non-canonical body",
        age_file(stanza(b"a", body=b"x").replace(b"eA\n", b"eB\n"), x25519()),
        "canonical",
    ),
    ("body of 4n+1 chars", age_file(b"-> a\nAAAAA\n", x25519()), "not canonical"),
    ("missing body", age_file(x25519(), b"-> grease\n"), "does not end with a body line"),
    (
        "missing final line",
        age_file(x25519(), stanza(b"g", body=bytes(48))[:-1]),
        "does not end with a body line",
    ),
    ("two short lines", age_file(x25519(), b"-> g\nAA\n\n"), "neither"),
    ("MAC without space", mac_line(b"---" + b64(MAC)), "does not start with '--- '"),
    ("MAC with two spaces", mac_line(b"---  " + b64(MAC)), "32 bytes"),
    ("MAC missing", mac_line(b"--- "), "32 bytes"),
    ("MAC dashes only", mac_line(b"---"), "does not start with '--- '"),
    ("MAC too short", mac_line(b"--- " + b64(MAC)[:-1]), "32 bytes"),
    ("MAC too long", mac_line(b"--- " + b64(MAC) + b"A"), "32 bytes"),
    ("MAC padded", mac_line(b"--- " + b64(MAC) + b"="), "32 bytes"),
    ("MAC non-canonical", mac_line(b"--- " + b"A" * 42 + b"B"), "32 bytes"),
    ("MAC trailing space", mac_line(b"--- " + b64(MAC) + b" "), "32 bytes"),
    (
        "X25519 without share",
        age_file(stanza(b"X25519", body=WRAPPED)),
        "exactly one 32-byte share",
    ),
    (
        "X25519 extra argument",
        age_file(stanza(b"X25519", b64(SHARE), b"x", body=WRAPPED)),
        "exactly one",
    ),
    ("X25519 31-byte share", age_file(x25519(share=SHARE[:31])), "exactly one 32-byte share"),
    ("X25519 33-byte share", age_file(x25519(share=SHARE + b"\x00")), "exactly one 32-byte share"),
    (
        "X25519 padded share",
        age_file(stanza(b"X25519", b64(SHARE) + b"=", body=WRAPPED)),
        "exactly one",
    ),
    ("X25519 33-byte body", age_file(x25519(body=WRAPPED + b"!")), "32-byte body"),
    ("X25519 16-byte body", age_file(x25519(body=WRAPPED[:16])), "32-byte body"),
    ("X25519 empty body", age_file(x25519(body=b"")), "32-byte body"),
    (
        "lowercase x25519 only",
        age_file(stanza(b"x25519", b64(SHARE), body=WRAPPED)),
        POLICY + "it has no X25519",
    ),
    ("grease only", age_file(stanza(b"abc-grease")), POLICY + "it has no X25519"),
    (
        "scrypt",
        age_file(stanza(b"scrypt", b64(bytes(16)), b"10", body=WRAPPED)),
        POLICY + "the file is protected by a passphrase",
    ),
    (
        "scrypt with X25519",
        age_file(x25519(), stanza(b"scrypt", b64(bytes(16)), b"18", body=WRAPPED)),
        "passphrase",
    ),
    (
        "scrypt work factor 23",
        age_file(stanza(b"scrypt", b64(bytes(16)), b"23", body=WRAPPED)),
        "passphrase",
    ),
    (
        "mlkem short enc",
        age_file(x25519(), stanza(b"mlkem768x25519", b64(bytes(1119)), body=WRAPPED)),
        "1120-byte",
    ),
    (
        "mlkem long enc",
        age_file(x25519(), stanza(b"mlkem768x25519", b64(bytes(1121)), body=WRAPPED)),
        "1120-byte",
    ),
    (
        "mlkem extra arg",
        age_file(x25519(), stanza(b"mlkem768x25519", b64(bytes(1088) + SHARE), b"x", body=WRAPPED)),
        "1120-byte",
    ),
    (
        "mlkem long body",
        age_file(x25519(), stanza(b"mlkem768x25519", b64(bytes(1088) + SHARE), body=bytes(33))),
        "32-byte body",
    ),
    ("no nonce", header(x25519()), "payload nonce is missing"),
    ("short nonce", header(x25519()) + NONCE[:-1], "payload nonce is missing"),
]


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_refuses_with_a_clear_message(data: bytes, expected: str) -> None:
    message = refused(data)
    assert expected in message
    assert message.startswith((MALFORMED, POLICY, "the age file is ", "the file is "))


def test_the_sixteen_nonce_bytes_after_the_header_are_enough() -> None:
    assert agehdr.check_header_bytes(header(x25519()) + NONCE).length == len(header(x25519()))


def _small_order_encodings() -> list[int]:
    values = []
    for u in sorted(agehdr._X25519_SMALL_ORDER_U):
        values += [u, u | 1 << 255]  # X25519 ignores the top bit
        if u + _P < 1 << 255:
            values.append(u + _P)  # a non-canonical encoding of the same point
    return values


@pytest.mark.parametrize("u", _small_order_encodings())
def test_small_order_shares_are_refused_in_every_encoding(u: int) -> None:
    share = u.to_bytes(32, "little")
    assert "small-order" in refused(age_file(x25519(share=share)))
    mlkem = stanza(b"mlkem768x25519", b64(bytes(1088) + share), body=WRAPPED)
    assert "small-order" in refused(age_file(x25519(), mlkem))


def test_the_small_order_list_is_the_one_in_core_crypto() -> None:
    assert agehdr._X25519_SMALL_ORDER_U == crypto._X25519_SMALL_ORDER_U
    assert len(_small_order_encodings()) == 12


# --- bounds --------------------------------------------------------------------------


def test_at_most_max_stanzas() -> None:
    many = [stanza(b"g")] * (agehdr.MAX_STANZAS - 1)
    assert len(agehdr.check_header_bytes(age_file(x25519(), *many)).stanzas) == agehdr.MAX_STANZAS
    assert "more than 64 recipient stanzas" in refused(age_file(x25519(), *many, stanza(b"g")))


def test_argument_count_and_length_and_unknown_body_are_bounded() -> None:
    args = [b"a"] * (agehdr.MAX_STANZA_ARGS - 1)
    agehdr.check_header_bytes(age_file(x25519(), stanza(b"t", *args)))
    assert "more than 16 arguments" in refused(age_file(x25519(), stanza(b"t", *args, b"a")))
    long_arg = b"a" * agehdr.MAX_ARGUMENT_BYTES
    agehdr.check_header_bytes(age_file(x25519(), stanza(b"t", long_arg)))
    assert "longer than 2048" in refused(age_file(x25519(), stanza(b"t", long_arg + b"a")))
    body = bytes(agehdr.MAX_UNKNOWN_BODY_BYTES)
    agehdr.check_header_bytes(age_file(x25519(), stanza(b"t", body=body)))
    assert "larger than 4096" in refused(age_file(x25519(), stanza(b"t", body=body + b"\x00")))


def _header_of_exactly(size: int) -> bytes:
    """A valid header of ``size`` bytes: filler stanzas, then one padded to fit."""
    fixed = len(header(x25519(), stanza(b"p", b"")))  # the last stanza's argument is empty here
    fillers: list[bytes] = []
    while size - fixed - sum(map(len, fillers)) > agehdr.MAX_ARGUMENT_BYTES:
        fillers.append(stanza(b"f", body=bytes(1000)))
    pad = size - fixed - sum(map(len, fillers))
    result = header(x25519(), *fillers, stanza(b"p", b"a" * pad))
    assert len(result) == size
    return result


def test_the_header_may_be_max_header_bytes_long_and_no_longer() -> None:
    exact = _header_of_exactly(agehdr.MAX_HEADER_BYTES)
    assert agehdr.check_header_bytes(exact + NONCE).length == agehdr.MAX_HEADER_BYTES
    longer = _header_of_exactly(agehdr.MAX_HEADER_BYTES + 1)
    assert "longer than 64 KiB" in refused(longer + NONCE)
    # Cut at the limit, as check_header reads it, the verdict is the same.
    assert "longer than 64 KiB" in refused((longer + NONCE)[: agehdr.READ_LIMIT])


# --- streams --------------------------------------------------------------------------


class Stream(io.RawIOBase):
    """``data``, then ``filler`` forever; counts what was read; short reads optional."""

    def __init__(self, data: bytes, filler: bytes = b"", chunk: int = 0, seekable: bool = True):
        super().__init__()
        self._data, self._filler, self._chunk, self._seekable = data, filler, chunk, seekable
        self.pos = 0
        self.served = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def tell(self) -> int:
        return self.pos

    def seek(self, pos: int, whence: int = 0) -> int:
        assert self._seekable and whence == 0
        self.pos = pos
        return pos

    def read(self, size: int = -1) -> bytes:
        assert size >= 0, "an unbounded read"
        if self._chunk:
            size = min(size, self._chunk)
        out = self._data[self.pos : self.pos + size]
        need = size - len(out)
        if need and self._filler:
            turn = (self.pos + len(out) - len(self._data)) % len(self._filler)
            rotated = self._filler[turn:] + self._filler[:turn]
            out += (rotated * (need // len(rotated) + 1))[:need]
        self.pos += len(out)
        self.served += len(out)
        return out


def test_check_header_restores_the_position_after_success_and_failure() -> None:
    good = age_file()
    stream = Stream(b"JUNK" + good)
    stream.seek(4)
    assert agehdr.check_header(stream).length == len(header(x25519()))
    assert stream.tell() == 4
    bad = Stream(b"JUNK" + good.replace(b"X25519", b"scrypt"))
    bad.seek(4)
    with pytest.raises(FormatError):
        agehdr.check_header(bad)
    assert bad.tell() == 4


def test_check_header_then_the_same_stream_opens() -> None:
    from securesubmit.core import agev1

    secret = crypto.generate_encryption_key()
    sealed = io.BytesIO()
    recipient = agev1.X25519Recipient(crypto.encryption_public_key(secret))
    agev1.encrypt_stream(io.BytesIO(b"evidence"), sealed, [recipient])
    stream = io.BytesIO(b"prefix" + sealed.getvalue())
    stream.seek(6)
    agehdr.check_header(stream)
    out = io.BytesIO()
    agev1.decrypt_untrusted(stream, out, [secret])
    assert out.getvalue() == b"evidence"


def test_check_header_refuses_a_stream_it_cannot_rewind() -> None:
    stream = Stream(age_file(), seekable=False)
    with pytest.raises(ValueError, match="seekable"):
        agehdr.check_header(stream)
    assert stream.served == 0


@pytest.mark.parametrize("chunk", [0, 1, 7, 4096])
def test_reads_stop_at_the_limit_on_an_endless_stream(chunk: int) -> None:
    endless = Stream(b"age-encryption.org/v1\n-> X ", filler=b"A", chunk=chunk)
    with pytest.raises(FormatError, match="longer than 64 KiB"):
        agehdr.check_header(endless)
    assert endless.served == agehdr.READ_LIMIT
    pipe = Stream(b"", filler=b"age-encryption.org/v1\n", chunk=chunk, seekable=False)
    with pytest.raises(FormatError):
        agehdr.checked_reader(pipe)
    assert pipe.served == agehdr.READ_LIMIT


@pytest.mark.parametrize("size", [0, 10, agehdr.READ_LIMIT - 100, agehdr.READ_LIMIT, 300_000])
def test_checked_reader_replays_exactly_the_stream(size: int) -> None:
    data = age_file() + bytes(range(256)) * (size // 256) + b"end"
    pipe = Stream(data, seekable=False, chunk=1000)
    parsed, reader = agehdr.checked_reader(pipe)
    assert parsed.length == len(header(x25519()))
    assert pipe.served == min(len(data), agehdr.READ_LIMIT)
    assert reader.read() == data


# --- properties --------------------------------------------------------------------------

SEEDS = [
    age_file(),
    age_file(stanza(b"a-grease", b"$", body=bytes(70)), x25519(), x25519(share=SHARE[::-1])),
    age_file(x25519(), stanza(b"mlkem768x25519", b64(bytes(1088) + SHARE), body=WRAPPED)),
    age_file(stanza(b"example.com/x", b"!~"), x25519(), stanza(b"e", body=bytes(48))),
]
INTERESTING = b" \n\r-=>A/+\x00\x7f\xff"
BASE64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def same_class(byte: int) -> frozenset[int]:
    """Bytes that can stand where ``byte`` stands: base64 for base64, VCHAR for VCHAR."""
    if byte in BASE64:
        return BASE64
    return frozenset(range(0x21, 0x7F)) if 0x21 <= byte < 0x7F else frozenset({byte})


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data)))
        kinds = ["replace", "insert", "delete", "truncate", "duplicate", "same class"]
        kind = draw(st.sampled_from(kinds))
        byte = draw(st.one_of(st.sampled_from(list(INTERESTING)), st.integers(0, 255)))
        if kind == "replace" and pos < len(data):
            data[pos] = byte
        elif kind == "same class" and pos < len(data):
            # Keeps the header well formed more often, so the checks behind the syntax run.
            data[pos] = draw(st.sampled_from(sorted(same_class(data[pos]))))
        elif kind == "insert":
            data[pos:pos] = bytes([byte])
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(1, 70))]
        elif kind == "truncate":
            del data[pos:]
        elif kind == "duplicate":
            end = data.find(b"\n", pos)
            start = data.rfind(b"\n", 0, pos) + 1
            if end >= 0:
                data[end + 1 : end + 1] = data[start : end + 1]
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutations_raise_only_format_error_and_what_passes_is_canonical(data: bytes) -> None:
    try:
        parsed = agehdr.check_header_bytes(data)
    except FormatError:
        return
    # Whatever is accepted is the one canonical encoding of what was parsed...
    assert encode(parsed) == data[: parsed.length]
    # ...and obeys the policy.
    assert parsed.x25519_stanzas and len(parsed.stanzas) <= agehdr.MAX_STANZAS
    assert all(len(s.body) == 32 and len(s.args) == 1 for s in parsed.x25519_stanzas)
    assert len(data) - parsed.length >= agehdr.NONCE_SIZE


@settings(max_examples=150, deadline=None)
@given(
    prefix=st.one_of(st.binary(max_size=300), mutated(), st.sampled_from(SEEDS)),
    filler=st.binary(min_size=1, max_size=64),
    chunk=st.integers(0, 5000),
    seekable=st.booleans(),
)
def test_never_reads_more_than_the_limit(
    prefix: bytes, filler: bytes, chunk: int, seekable: bool
) -> None:
    stream = Stream(prefix, filler=filler, chunk=chunk, seekable=seekable)
    try:
        if seekable:
            agehdr.check_header(stream)
            assert stream.tell() == 0
        else:
            agehdr.checked_reader(stream)
    except FormatError:
        pass
    assert stream.served <= agehdr.READ_LIMIT
