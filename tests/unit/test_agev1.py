"""Our age v1 implementation (securesubmit/core/agev1.py) and the primitives it uses.

The CCTV vectors, the age CLI, pyrage and the throughput run are in
tests/interop/test_agev1_vectors.py; here: key strings (against the examples of the
C2SP specification), the header encoding, wrapping, the STREAM payload rule by rule
with payloads built here chunk by chunk, round trips of every size class (and a
property), the mixing rule and the header limits, error attribution, and the memory
bound on 1 GiB in a child process.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securesubmit.core import agehdr, agev1, bech32, crypto
from securesubmit.errors import DecryptionFailed, FormatError, Refused, WeakKey

CHUNK = agev1.CHUNK_SIZE
ENC_CHUNK = agev1.ENCRYPTED_CHUNK_SIZE

# The examples of the C2SP age specification (c2sp.org/age, commit 5ba5ee8).
SPEC_X25519_IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
SPEC_X25519_RECIPIENT = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
SPEC_PQ_IDENTITY = "AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCCH4X06SE84UN3VPM33W6HWDX0H3SK3ZQFR"
SPEC_PQ_RECIPIENT = "".join(
    (
        "age1pq1x34nzsvr0rxjsgdn8zgyhfe8j7ceq5r9rdelkjuh3y235jzxshfg87pzf5zrqtzdxz95paef6caq5aapdmw"
        "jjqpjfdyxnzr2zampc3uxy0dg4z2n2gm9su72p0pc3u0jvev55l694v78snxg3yzvcl7yda0eyytqj6a0ec477lnhc"
        "y5hzpz4zq3pxanve4cn62gqj3pjy5lqj9c6kyj4v2z8alktn8zh99970x79gjkv7522hv9kfz35zsnxhsx8wwtmu9c"
        "y3ftzjgwcp4sshn3llnylnpdsyz5jm72vefv4x5vfwytrefxg4wq3mv42wcrvkj742479zrxzpvp2p3e9fed9f0739"
        "vcu80r7ma28qfhnvlv4gfzel9q654dj3zmuvvz893azhxdvs9fxd0r7jzchzcfcs5mkyyjxhw0n2z6dvp9yn9qfdp2"
        "9h0azxqyjw6v7fhyuzj7zel0uq6j9rd7wgrpz7mf5dnj43jwsgvrc8qcnhy7tu6dkdujuxzkp9xj43xe8h92ktre2a"
        "3u3s8mm5mrp9nr9pwkgtz4mdlq9hgn4fps4k57ff6wddn2fy23t47sm20r8km8sd2pcyyafnet8f0dajsrlyjeah4n"
        "3mssr6aseevuuskdvq5lzguyvpgwpta742c6698vgutzqgny8usfg0w2he7kq5vyxjd0f9hqg8xk26y9e4th0gezq9"
        "2q4cpp5p2y9hf5f2cje5l0c3sa3a2qxmm38pxxvhxh99yzmfz0zk7r2s64nnwjhkfgfr3gf8xnmppcgmaykvh5sh6g"
        "7vk9790rf8ws0axmr2t7z8aae5fq2029uvcn2ghgt4fu4wgwdc0k0cz52qkvwmuzj8p8k5jgf3xzk5zmrkavjekjrp"
        "eq408xz3zxazwkc6tyfmhayrkfpjhwtz5mp8j8guqe43k2q6m2kte03vrw27y3wmqyu5etmt9dnkwcnnpmu9gz9dek"
        "fhdevf42ucshphnrk38ra6hx8w5f8q5ru0xdhrjxmwqf6cused7zc5xvq43r0zscjglpwlptpwydhqw64xz7ptjdye"
        "yzpq2zkxtmzg29gzjpvzva4d3l0cenn9xs297wf4y4ukwrunf57xj6pm7nvrkwvtrt8hwcmgv8x7ajw7258ugf9wvk"
        "mk4052ekg87tw5vnx8nq2swyzv77v8yqlwsenvamr0zssknwts8rrhfuwj7ykysnq9jxy0uv3kuyt22djszjdtvpz6"
        "d0s0kwh8ryynddzud92emeyvvyqktd0jtj7rvvg5gch25v8smlvny3kvn5gagyz475ze2y6q466xqmz2n3hs77ldde"
        "qyta2nch5k2u5yacuk9ywnwfdzvyejnucz724hj77hrrmakm7pr3kxsrxq22ejexlud9fy2kdqmkg5yncz7jm5wv2q"
        "jk5w5kvcpqsry2yqffh2la52dxfjkjq5rzhjzeyn6dupn0qwtyv7s4lwg3xdarsdlwe2y3tujy480y7z39q259fzx6"
        "jhd2j0f5hagqpcpees7hzc2yrk5cy788uk3s7qvp5cpepx24gvws3m2g433exgwppnkjscec8qu4y9z9r7vccexjcj"
        "aen42245lmgmxmuavg9alej92322gvvyy2t6267v09ch64y0m53jff0vjj96s0ypk60hr3jw4myd6m5hpn3xjstx7t"
        "l2szhpr5qe8jj08ydjc4wy2rch2fhuy3pdfjax5awe9j99ly5hkntzz9fe5zatgjvzdd0kgtxs25njnajyf6ssekp7"
        "gelxquusn4pt25czh3scj68kq79wdn5tgm6yvm9nzavrg043x3msnygf8dweknw5jmqd0uvny6ttsn09508k0c55zf"
        "negrm9efhxpfqdkmhh6gjtqmwze9pyyzk3tlhl53k2ykx3qheyty7saeq0d3fzv49zc0k",
    )
)

X1 = agev1.generate_x25519_identity()
X2 = agev1.generate_x25519_identity()
H1 = agev1.generate_hybrid_identity()
H2 = agev1.generate_hybrid_identity()


def seal(plaintext: bytes, recipients: Sequence[agev1.Recipient]) -> bytes:
    out = io.BytesIO()
    agev1.encrypt_stream(io.BytesIO(plaintext), out, recipients)
    return out.getvalue()


def open_(data: bytes, identities: Sequence[agev1.Identity]) -> bytes:
    out = io.BytesIO()
    agev1.decrypt_untrusted(io.BytesIO(data), out, identities)
    return out.getvalue()


def payload_start(data: bytes) -> int:
    header = agehdr.check_header_bytes(data, recipient_types=agev1.OPENABLE_TYPES)
    return header.length + agev1.PAYLOAD_NONCE_SIZE


# --- the primitives added to core/crypto.py ------------------------------------------


def test_hkdf_sha256_matches_rfc_5869_case_1() -> None:
    okm = crypto.hkdf_sha256(
        bytes.fromhex("0b" * 22),
        bytes.fromhex("000102030405060708090a0b0c"),
        bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"),
        42,
    )
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )
    # An empty salt is HKDF's default salt (HashLen zero bytes), as age relies on.
    empty_salt = crypto.hkdf_sha256(b"k", b"", b"header")
    assert empty_salt == crypto.hkdf_sha256(b"k", bytes(32), b"header")


def test_hmac_sha256_matches_rfc_4231_case_2() -> None:
    assert crypto.hmac_sha256(b"Jefe", b"what do ya want for nothing?").hex() == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


def test_x25519_shared_agrees_and_refuses_small_order_points() -> None:
    a, b = crypto.generate_encryption_key(), crypto.generate_encryption_key()
    ab = crypto.x25519_shared(a, crypto.encryption_public_key(b))
    assert ab == crypto.x25519_shared(b, crypto.encryption_public_key(a))
    for u in (0, 1):
        with pytest.raises(WeakKey):
            crypto.x25519_shared(a, u.to_bytes(32, "little"))
    with pytest.raises(ValueError, match="32 bytes"):
        crypto.x25519_shared(a, bytes(31))


def test_chacha20poly1305_with_explicit_nonces() -> None:
    key, nonce = os.urandom(32), os.urandom(12)
    sealed = crypto.chacha20poly1305_seal(key, nonce, b"file key 16 byte")
    assert len(sealed) == 32
    assert crypto.chacha20poly1305_open(key, nonce, sealed) == b"file key 16 byte"
    with pytest.raises(DecryptionFailed):
        crypto.chacha20poly1305_open(key, bytes(12), sealed)
    chunks = crypto.ChunkAead(key)
    assert chunks.open(nonce, chunks.seal(nonce, b"x" * 100)) == b"x" * 100
    for short in (b"", b"abc", bytes(15)):  # shorter than a tag
        with pytest.raises(DecryptionFailed):
            chunks.open(nonce, short)


def test_hpke_hybrid_seal_and_open() -> None:
    enc, ct = crypto.hpke_hybrid_seal(H1.public, b"0123456789abcdef", b"info")
    assert (len(enc), len(ct)) == (crypto.AGE_HYBRID_ENC_SIZE, 32)
    assert crypto.hpke_hybrid_open(H1.seed, enc, ct, b"info") == b"0123456789abcdef"
    for seed, e, c, info in (
        (H2.seed, enc, ct, b"info"),  # another key: implicit rejection, then a bad tag
        (H1.seed, enc, ct, b"other info"),
        (H1.seed, bytes([enc[0] ^ 1]) + enc[1:], ct, b"info"),
        (H1.seed, enc[:-1], ct, b"info"),
    ):
        with pytest.raises(DecryptionFailed):
            crypto.hpke_hybrid_open(seed, e, c, info)


def test_hybrid_public_keys_are_checked() -> None:
    crypto.check_hybrid_public_key(H1.public)
    with pytest.raises(WeakKey, match="wrong length"):
        crypto.check_hybrid_public_key(H1.public[:-1])
    with pytest.raises(WeakKey, match="small-order"):
        crypto.check_hybrid_public_key(H1.public[:1184] + (1).to_bytes(32, "little"))
    # An ML-KEM coefficient of 0xFFF (>= q = 3329) fails FIPS 203's modulus check.
    with pytest.raises(WeakKey, match="ML-KEM"):
        crypto.check_hybrid_public_key(b"\xff\xff\xff" + H1.public[3:])


# --- key strings ----------------------------------------------------------------------


def test_the_specification_examples() -> None:
    x = agev1.parse_identity(SPEC_X25519_IDENTITY)
    assert isinstance(x, agev1.X25519Identity)
    assert str(x.recipient()) == SPEC_X25519_RECIPIENT
    assert x.encode() == SPEC_X25519_IDENTITY
    pq = agev1.parse_identity(SPEC_PQ_IDENTITY)
    assert isinstance(pq, agev1.HybridIdentity)
    assert len(SPEC_PQ_RECIPIENT) == 1959
    assert str(pq.recipient()) == SPEC_PQ_RECIPIENT
    assert pq.encode() == SPEC_PQ_IDENTITY
    assert agev1.parse_recipient(SPEC_PQ_RECIPIENT) == pq.recipient()
    assert agev1.parse_recipient(SPEC_X25519_RECIPIENT) == x.recipient()


def test_key_strings_round_trip() -> None:
    for identity in (X1, H1):
        assert agev1.parse_identity(identity.encode()) == identity
        assert agev1.parse_recipient(str(identity.recipient())) == identity.recipient()
    assert str(H1.recipient()).startswith("age1pq1")
    assert H1.encode().startswith("AGE-SECRET-KEY-PQ-1")


@pytest.mark.parametrize(
    "text",
    [
        SPEC_X25519_RECIPIENT.upper(),  # recipients are lower case
        SPEC_PQ_RECIPIENT[:-1] + "q",  # bad checksum
        SPEC_X25519_RECIPIENT[:-7] + "qqqqqqq",
        bech32.encode("age", bytes(31)),
        bech32.encode("age1pq", bytes(32)),
        bech32.encode("age2", os.urandom(32)),
        SPEC_PQ_RECIPIENT + "q" * 100,  # over the length bound
        "",
    ],
)
def test_malformed_recipients_are_refused(text: str) -> None:
    with pytest.raises(FormatError):
        agev1.parse_recipient(text)


def test_weak_recipients_are_refused() -> None:
    with pytest.raises(WeakKey):
        agev1.parse_recipient(bech32.encode("age", (1).to_bytes(32, "little")))
    with pytest.raises(WeakKey):
        agev1.parse_recipient(bech32.encode("age1pq", b"\xff" * 1216))


@pytest.mark.parametrize(
    "text",
    [
        SPEC_PQ_IDENTITY.lower(),  # identities are upper case
        SPEC_X25519_IDENTITY[:-1] + "Q",
        bech32.encode("age-secret-key-", bytes(31)).upper(),
        bech32.encode("age-secret-key-pq-", bytes(33)).upper(),
        bech32.encode("age-secret-key-xx-", bytes(32)).upper(),
        SPEC_X25519_RECIPIENT,
    ],
)
def test_malformed_identities_are_refused(text: str) -> None:
    with pytest.raises(FormatError):
        agev1.parse_identity(text)


def test_identity_reprs_hide_the_secret() -> None:
    for identity in (X1, H1):
        text = repr(identity)
        assert identity.encode() not in text
        assert identity.encode()[20:40] not in text.upper()
    assert "secret" not in repr(X1) and X1.secret.hex() not in repr(X1)


def test_the_bech32_length_bound_is_unchanged_by_default() -> None:
    with pytest.raises(FormatError):
        bech32.decode(SPEC_PQ_RECIPIENT)  # 1,959 > 1,024: only agev1 raises the bound
    assert bech32.decode(SPEC_PQ_RECIPIENT, max_length=2048)[0] == "age1pq"


# --- the header check accepts post-quantum headers only when asked ---------------------


def test_agehdr_keeps_its_default_and_accepts_pq_headers_when_asked() -> None:
    data = seal(b"report", [H1.recipient()])
    with pytest.raises(FormatError, match="no X25519 recipient stanza"):
        agehdr.check_header_bytes(data)
    header = agehdr.check_header_bytes(data, recipient_types=agev1.OPENABLE_TYPES)
    assert [s.type for s in header.stanzas] == ["mlkem768x25519"]
    unknown = data.replace(b"-> mlkem768x25519 ", b"-> MLKEM768X25519 ", 1)
    with pytest.raises(FormatError, match="no X25519 or mlkem768x25519 recipient stanza"):
        agehdr.check_header_bytes(unknown, recipient_types=agev1.OPENABLE_TYPES)
    with pytest.raises(TypeError):
        agehdr.check_header_bytes(data, recipient_types="mlkem768x25519")


# --- header encoding ---------------------------------------------------------------------


@pytest.mark.parametrize("body_size", [0, 1, 32, 47, 48, 49, 95, 96, 97, 200])
def test_stanza_bodies_wrap_at_64_columns_and_end_with_a_short_line(body_size: int) -> None:
    stanza = agehdr.Stanza("example.org/test", ("a", "b!"), os.urandom(body_size))
    encoded = agev1.encode_stanza(stanza)
    lines = encoded.split(b"\n")
    assert lines[0] == b"-> example.org/test a b!" and lines[-1] == b""
    body_lines = lines[1:-1]
    assert all(len(line) == 64 for line in body_lines[:-1])
    assert len(body_lines[-1]) < 64
    assert base64.b64decode(b"".join(body_lines) + b"==") == stanza.body
    # The check reads back exactly what we encode.
    header = agev1.header_without_mac([stanza]) + b" " + b"A" * 43 + b"\n" + bytes(16)
    parsed = agehdr.check_header_bytes(header, recipient_types=("example.org/test",))
    assert parsed.stanzas == (stanza,)


def test_what_we_write_x25519() -> None:
    data = seal(b"hello", [X1.recipient(), X2.recipient()])
    header = agehdr.check_header_bytes(data)  # passes the default (pyrage-path) check too
    assert [s.type for s in header.stanzas] == ["X25519", "X25519"]  # no grease
    assert data.startswith(b"age-encryption.org/v1\n-> X25519 ")
    assert len(data) == header.length + 16 + len(b"hello") + 16
    assert not agev1.is_post_quantum(header)
    # A fresh file key, nonce and ephemeral share every time.
    again = seal(b"hello", [X1.recipient(), X2.recipient()])
    assert again[: header.length] != data[: header.length]
    assert again[header.length : header.length + 16] != data[header.length : header.length + 16]


def test_what_we_write_hybrid() -> None:
    data = seal(b"hello", [H1.recipient(), H2.recipient()])
    header = agehdr.check_header_bytes(data, recipient_types=agev1.OPENABLE_TYPES)
    assert [s.type for s in header.stanzas] == ["mlkem768x25519"] * 2
    assert all(len(s.body) == 32 for s in header.stanzas)
    assert agev1.is_post_quantum(header)
    assert open_(data, [H2]) == open_(data, [H1]) == b"hello"


# --- mixing, and the limits of what our reader accepts --------------------------------


def test_mixing_post_quantum_and_classical_recipients_is_refused() -> None:
    mixed: list[list[agev1.Recipient]] = [
        [X1.recipient(), H1.recipient()],
        [H1.recipient(), X1.recipient()],
    ]
    for recipients in mixed:
        destination = io.BytesIO()
        with pytest.raises(Refused, match="cannot be mixed"):
            agev1.encrypt_stream(io.BytesIO(b"x"), destination, recipients)
        assert destination.getvalue() == b""


def test_with_allow_mixed_one_file_holds_both_kinds_and_each_identity_opens_it() -> None:
    plaintext = os.urandom(2 * agev1.CHUNK_SIZE + 7)
    out = io.BytesIO()
    agev1.encrypt_stream(
        io.BytesIO(plaintext), out, [H1.recipient(), str(X1.recipient())], allow_mixed=True
    )
    data = out.getvalue()
    for identities in ([H1], [X1], [H1.encode()], [X1.secret], [X2, H2, X1]):
        opened = io.BytesIO()
        header = agev1.decrypt_untrusted(io.BytesIO(data), opened, identities)
        assert opened.getvalue() == plaintext
        assert [s.type for s in header.stanzas] == [agev1.HYBRID_TYPE, agev1.X25519_TYPE]
        assert not agev1.is_post_quantum(header)  # the X25519 stanza makes it classical
    with pytest.raises(DecryptionFailed, match="not encrypted to any"):
        open_(data, [H2, X2])


def test_recipients_and_identities_as_objects_strings_or_secrets() -> None:
    assert agev1.as_recipient(str(H1.recipient())) == H1.recipient()
    assert agev1.as_recipient(X1.recipient()) is not None
    assert agev1.as_identity(X1.secret) == X1
    assert agev1.as_identity(H1.encode()) == H1
    assert agev1.as_identity(H1) is H1
    with pytest.raises(FormatError):
        agev1.as_recipient(H1.encode())  # a secret where a recipient belongs
    with pytest.raises(FormatError):
        agev1.as_identity(str(X1.recipient()))
    with pytest.raises(ValueError, match="32 bytes"):
        agev1.as_identity(X1.secret[:31])
    with pytest.raises(TypeError):
        agev1.as_recipient(X1.public)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        agev1.as_identity(bytearray(X1.secret))  # type: ignore[arg-type]
    data = seal(b"report", [X1.recipient()])
    assert open_(data, [X1]) == b"report"
    opened = io.BytesIO()
    agev1.decrypt_untrusted(io.BytesIO(data), opened, [X1.secret])
    assert opened.getvalue() == b"report"
    strings = io.BytesIO()
    agev1.encrypt_stream(io.BytesIO(b"pq"), strings, [str(H1.recipient()), str(H2.recipient())])
    assert open_(strings.getvalue(), [H2]) == b"pq"


def test_every_write_is_one_whole_chunk_or_the_header() -> None:
    """The destination gets one write per 64 KiB chunk (plus the header when
    encrypting), so a buffering destination never reassembles small pieces."""

    class Recording(io.BytesIO):
        def __init__(self) -> None:
            super().__init__()
            self.sizes: list[int] = []

        def write(self, data: bytes) -> int:  # type: ignore[override]
            self.sizes.append(len(data))
            return super().write(data)

    plaintext = os.urandom(3 * agev1.CHUNK_SIZE + 100)
    sealed = Recording()
    agev1.encrypt_stream(io.BytesIO(plaintext), sealed, [X1.recipient()])
    assert sealed.sizes[1:] == [agev1.ENCRYPTED_CHUNK_SIZE] * 3 + [100 + agev1.TAG_SIZE]
    assert sealed.sizes[0] == payload_start(sealed.getvalue())
    opened = Recording()
    agev1.decrypt_untrusted(io.BytesIO(sealed.getvalue()), opened, [X1])
    assert opened.sizes == [agev1.CHUNK_SIZE] * 3 + [100]


def test_no_recipient_and_no_identity_are_errors() -> None:
    with pytest.raises(ValueError, match="at least one recipient"):
        agev1.encrypt_stream(io.BytesIO(b"x"), io.BytesIO(), [])
    with pytest.raises(ValueError, match="at least one identity"):
        agev1.decrypt_untrusted(io.BytesIO(seal(b"x", [X1.recipient()])), io.BytesIO(), [])


def test_the_header_limits_are_enforced_when_writing() -> None:
    many = [agev1.generate_x25519_identity() for _ in range(agehdr.MAX_STANZAS)]
    data = seal(b"x", [i.recipient() for i in many])
    assert open_(data, [many[-1]]) == b"x"
    with pytest.raises(Refused, match="at most 64 recipients"):
        seal(b"x", [i.recipient() for i in [*many, X1]])
    # A hybrid stanza is 1,557 bytes: 42 fit in the 64 KiB header (65,464 bytes), 43 do not.
    pq = [H1.recipient()] * 41 + [H2.recipient()]
    assert open_(seal(b"x", pq), [H2]) == b"x"
    with pytest.raises(Refused, match="larger than 64 KiB"):
        seal(b"x", [*pq, H1.recipient()])


# --- round trips ---------------------------------------------------------------------------

SIZES = [0, 1, 100, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 7, 5 * 1024 * 1024 + 3]


@pytest.mark.parametrize("size", SIZES)
def test_round_trips_of_every_size_class(size: int) -> None:
    plaintext = os.urandom(size)
    for recipients, identity in (
        ([X2.recipient(), X1.recipient()], X1),
        ([H1.recipient(), H2.recipient()], H2),
    ):
        data = seal(plaintext, recipients)
        chunks = max(1, -(-size // CHUNK))
        assert len(data) == payload_start(data) + size + 16 * chunks
        assert open_(data, [identity]) == plaintext


def test_several_identities_are_tried_in_order() -> None:
    data = seal(b"report", [X2.recipient()])
    assert open_(data, [H1, X1, X2]) == b"report"
    with pytest.raises(DecryptionFailed, match="not encrypted to any of these keys"):
        open_(data, [H1, X1])


class Dribble(io.RawIOBase):
    """A stream that reads and writes in small irregular pieces, as pipes and sockets do."""

    def __init__(self, data: bytes = b"", pieces: list[int] | None = None) -> None:
        super().__init__()
        self.data, self.pos, self.pieces, self.i = data, 0, pieces or [1], 0
        self.out = bytearray()

    def _piece(self, size: int) -> int:
        self.i += 1
        return max(1, min(size, self.pieces[self.i % len(self.pieces)]))

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def readinto(self, buffer: object) -> int:
        view = memoryview(buffer).cast("B")  # type: ignore[arg-type]
        n = min(self._piece(len(view)), len(self.data) - self.pos)
        view[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n

    def write(self, data: object) -> int:
        view = memoryview(data).cast("B")  # type: ignore[arg-type]
        n = self._piece(len(view))
        self.out += view[:n]
        return n


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.one_of(
        st.integers(0, 4 * CHUNK + 100),
        st.sampled_from([k * CHUNK + d for k in range(4) for d in (-1, 0, 1)]).filter(
            lambda n: n >= 0
        ),
    ),
    post_quantum=st.booleans(),
    pieces=st.lists(st.integers(1, 3 * ENC_CHUNK), min_size=1, max_size=5),
)
def test_round_trip_property(size: int, post_quantum: bool, pieces: list[int]) -> None:
    plaintext = hashlib.shake_256(size.to_bytes(8, "big")).digest(size)
    identity: agev1.Identity = H1 if post_quantum else X1
    # Irregular reads of the plaintext, irregular (short) writes of the file.
    sealed = Dribble(pieces=pieces)
    agev1.encrypt_stream(Dribble(plaintext, pieces), sealed, [identity.recipient()])  # type: ignore[arg-type]
    opened = Dribble(pieces=pieces)
    agev1.decrypt_untrusted(Dribble(bytes(sealed.out), pieces), opened, [identity])  # type: ignore[arg-type]
    assert bytes(opened.out) == plaintext


# --- decryption failures: what is released, and what is read ---------------------------


def test_a_wrong_header_mac_releases_nothing_and_reads_no_payload() -> None:
    data = bytearray(seal(os.urandom(5 * ENC_CHUNK), [X1.recipient()]))
    mac_at = payload_start(bytes(data)) - 16 - 20  # a middle character of the MAC's base64
    data[mac_at] = ord("A") if data[mac_at] != ord("A") else ord("B")
    source = Dribble(bytes(data), [ENC_CHUNK])
    out = io.BytesIO()
    with pytest.raises(DecryptionFailed, match="header MAC"):
        agev1.decrypt_untrusted(source, out, [X1])  # type: ignore[arg-type]
    assert out.getvalue() == b""
    assert source.pos <= agehdr.READ_LIMIT  # the check's prefix, no payload chunk


def test_a_changed_stanza_does_not_open() -> None:
    data = bytearray(seal(b"report", [X1.recipient()]))
    body_line = bytes(data).index(b"\n", bytes(data).index(b"-> X25519")) + 1
    data[body_line] = ord("A") if data[body_line] != ord("A") else ord("B")
    with pytest.raises(DecryptionFailed, match="not encrypted to any of these keys"):
        open_(bytes(data), [X1])


@pytest.mark.parametrize("bad_chunk", [0, 1, 3])
def test_a_changed_chunk_releases_exactly_the_chunks_before_it(bad_chunk: int) -> None:
    plaintext = os.urandom(4 * CHUNK - 10)
    data = bytearray(seal(plaintext, [H1.recipient()]))
    data[payload_start(bytes(data)) + bad_chunk * ENC_CHUNK + 5] ^= 0x40
    out = io.BytesIO()
    with pytest.raises(DecryptionFailed, match="does not authenticate"):
        agev1.decrypt_untrusted(io.BytesIO(bytes(data)), out, [H1])
    assert out.getvalue() == plaintext[: bad_chunk * CHUNK]


def test_truncation_and_trailing_data_are_detected() -> None:
    plaintext = os.urandom(3 * CHUNK)  # three full chunks, the last one final
    data = seal(plaintext, [X1.recipient()])
    start = payload_start(data)
    cut = data[: start + 2 * ENC_CHUNK]  # at a chunk boundary: looks complete but is not
    out = io.BytesIO()
    with pytest.raises(DecryptionFailed, match="truncated"):
        agev1.decrypt_untrusted(io.BytesIO(cut), out, [X1])
    assert out.getvalue() == plaintext[: 2 * CHUNK]
    out = io.BytesIO()
    with pytest.raises(DecryptionFailed, match="data follows its last chunk"):
        agev1.decrypt_untrusted(io.BytesIO(data + b"\x00"), out, [X1])
    assert out.getvalue() == plaintext  # the final chunk did authenticate as final
    with pytest.raises(DecryptionFailed):
        open_(data[:-1], [X1])


# --- the STREAM payload rule by rule, on payloads built here chunk by chunk -----------

KEY = bytes(range(32))


def build(chunks: list[tuple[int, bytes, bool]]) -> bytes:
    """Encrypt (counter, plaintext, final flag) triples with the STREAM nonce layout."""
    aead = crypto.ChunkAead(KEY)
    return b"".join(
        aead.seal(counter.to_bytes(11, "big") + (b"\x01" if final else b"\x00"), text)
        for counter, text, final in chunks
    )


def decrypt(payload: bytes) -> tuple[bytes, str]:
    out = io.BytesIO()
    try:
        agev1.decrypt_payload(io.BytesIO(payload), out, KEY)
    except DecryptionFailed as error:
        return out.getvalue(), str(error)
    return out.getvalue(), ""


FULL_A, FULL_B, SHORT = b"a" * CHUNK, b"b" * CHUNK, b"tail"


@pytest.mark.parametrize(
    ("chunks", "released", "error"),
    [
        ([(0, b"", True)], b"", ""),  # the empty payload: one empty final chunk
        ([(0, SHORT, True)], SHORT, ""),
        ([(0, FULL_A, True)], FULL_A, ""),  # a full final chunk
        ([(0, FULL_A, False), (1, SHORT, True)], FULL_A + SHORT, ""),
        ([(0, FULL_A, False), (1, FULL_B, True)], FULL_A + FULL_B, ""),
        ([], b"", "truncated"),
        ([(0, FULL_A, False)], FULL_A, "truncated"),
        ([(0, SHORT, False)], b"", "does not authenticate"),  # a short chunk must be final
        ([(0, FULL_A, False), (1, b"", True)], FULL_A, "empty"),  # only the only chunk
        ([(0, FULL_A, True), (1, SHORT, True)], FULL_A, "data follows"),
        ([(0, FULL_A, False), (2, SHORT, True)], FULL_A, "does not authenticate"),
        ([(1, SHORT, True)], b"", "does not authenticate"),
        ([(0, FULL_A, False), (0, FULL_B, False), (1, SHORT, True)], FULL_A, "authenticate"),
    ],
)
def test_stream_rules(chunks: list[tuple[int, bytes, bool]], released: bytes, error: str) -> None:
    got, message = decrypt(build(chunks))
    assert got == released
    assert (error in message) if error else message == ""


def test_stream_chunk_shorter_than_a_tag() -> None:
    got, message = decrypt(build([(0, FULL_A, False)]) + b"\x00" * 5)
    assert got == FULL_A and "shorter than a tag" in message


def test_stream_encryption_layout() -> None:
    for size in (0, 1, CHUNK, CHUNK + 1, 2 * CHUNK):
        plaintext = os.urandom(size)
        out = io.BytesIO()
        agev1.encrypt_payload(io.BytesIO(plaintext), out, KEY)
        pieces = [plaintext[i : i + CHUNK] for i in range(0, size, CHUNK)] or [b""]
        expected = [(i, p, i == len(pieces) - 1) for i, p in enumerate(pieces)]
        assert out.getvalue() == build(expected)


# --- other policies and error attribution -----------------------------------------------


def test_scrypt_and_armor_are_refused_before_any_decryption() -> None:
    scrypt = (
        b"age-encryption.org/v1\n-> scrypt "
        + base64.b64encode(bytes(16)).rstrip(b"=")
        + b" 18\n"
        + base64.b64encode(bytes(32)).rstrip(b"=")
        + b"\n--- "
        + b"A" * 43
        + b"\n"
        + bytes(16)
        + bytes(32)
    )
    with pytest.raises(FormatError, match="scrypt"):
        open_(scrypt, [X1])
    armored = (
        b"-----BEGIN AGE ENCRYPTED FILE-----\n"
        + base64.b64encode(seal(b"x", [X1.recipient()]))
        + b"\n-----END AGE ENCRYPTED FILE-----\n"
    )
    with pytest.raises(FormatError, match="ASCII-armored"):
        open_(armored, [X1])


class Failing(io.RawIOBase):
    def __init__(self, data: bytes = b"", fail_after: int = 0) -> None:
        super().__init__()
        self.data, self.fail_after, self.pos = data, fail_after, 0

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def readinto(self, buffer: object) -> int:
        if self.pos >= self.fail_after:
            raise OSError(5, "Input/output error")
        view = memoryview(buffer).cast("B")  # type: ignore[arg-type]
        n = min(len(view), self.fail_after - self.pos)
        view[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n

    def write(self, data: object) -> int:
        raise OSError(28, "No space left on device")


class Refusing(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        return 0


def test_io_errors_of_the_caller_pass_unchanged() -> None:
    data = seal(os.urandom(3 * CHUNK), [X1.recipient()])
    with pytest.raises(OSError, match="No space left") as caught:
        agev1.decrypt_untrusted(io.BytesIO(data), Failing(), [X1])  # type: ignore[arg-type]
    assert not isinstance(caught.value, DecryptionFailed)
    source = Failing(data, fail_after=agehdr.READ_LIMIT + 1000)
    with pytest.raises(OSError, match="Input/output error"):
        agev1.decrypt_untrusted(source, io.BytesIO(), [X1])  # type: ignore[arg-type]
    with pytest.raises(OSError, match="No space left"):
        agev1.encrypt_stream(io.BytesIO(b"x"), Failing(), [X1.recipient()])  # type: ignore[arg-type]
    with pytest.raises(OSError, match="Input/output error"):
        agev1.encrypt_stream(Failing(b"abc", 2), io.BytesIO(), [X1.recipient()])  # type: ignore[arg-type]
    with pytest.raises(OSError, match="accepted no bytes"):
        agev1.encrypt_stream(io.BytesIO(b"x"), Refusing(), [X1.recipient()])  # type: ignore[arg-type]


def test_the_destination_gets_bytes_it_may_keep() -> None:
    kept: list[object] = []

    class Keeper:
        def write(self, data: object) -> int:
            kept.append(data)
            return len(data)  # type: ignore[arg-type]

    plaintext = os.urandom(3 * CHUNK + 5)
    sealed = seal(plaintext, [X1.recipient()])
    agev1.decrypt_untrusted(io.BytesIO(sealed), Keeper(), [X1])  # type: ignore[arg-type]
    assert all(type(k) is bytes for k in kept)
    assert b"".join(kept) == plaintext  # type: ignore[arg-type]
    kept.clear()
    agev1.encrypt_stream(io.BytesIO(plaintext), Keeper(), [X1.recipient()])  # type: ignore[arg-type]
    assert all(type(k) is bytes for k in kept)
    assert open_(b"".join(kept), [X1]) == plaintext  # type: ignore[arg-type]


def test_unwrap_refuses_stanzas_of_the_wrong_shape() -> None:
    # agehdr refuses these first; the checks in agev1 stand on their own too.
    share = base64.b64encode(crypto.encryption_public_key(os.urandom(32))).rstrip(b"=").decode()
    for stanza in (
        agehdr.Stanza("X25519", (share,), bytes(33)),
        agehdr.Stanza("X25519", (share, "extra"), bytes(32)),
        agehdr.Stanza("X25519", ("AAAA",), bytes(32)),
        agehdr.Stanza("mlkem768x25519", ("AAAA",), bytes(32)),
    ):
        with pytest.raises(FormatError):
            agev1.unwrap_file_key([stanza], [X1, H1])
    weak = agehdr.Stanza("X25519", ("A" * 43,), bytes(32))  # u = 0
    with pytest.raises(FormatError, match="weak"):
        agev1.unwrap_file_key([weak], [X1])
    unknown = agehdr.Stanza("example.org/other", (), bytes(32))
    assert agev1.unwrap_file_key([unknown], [X1, H1]) is None


# --- memory: 1 GiB through a child process ------------------------------------------------

BIG_MIB = int(os.environ.get("SECURESUBMIT_AGE_BIG_MIB", "1024"))

CHILD = r"""
import hashlib, io, json, os, sys
from securesubmit.core import agev1

mode, path, mib, key = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
identity = agev1.parse_identity(key)
block = hashlib.shake_256(b"agev1 memory test").digest(1024 * 1024)


class Pattern(io.RawIOBase):
    def __init__(self):
        self.left = mib * 1024 * 1024
    def readable(self):
        return True
    def readinto(self, buffer):
        at = (mib * 1024 * 1024 - self.left) % len(block)
        n = min(len(buffer), self.left, len(block) - at)
        buffer[:n] = block[at : at + n]
        self.left -= n
        return n


class Hashing:
    def __init__(self):
        self.hasher, self.size = hashlib.sha256(), 0
    def write(self, data):
        self.hasher.update(data)
        self.size += len(data)
        return len(data)


if mode == "encrypt":
    with open(path, "wb") as sink:
        agev1.encrypt_stream(Pattern(), sink, [identity.recipient()])
    result = {}
else:
    sink = Hashing()
    with open(path, "rb") as source:
        agev1.decrypt_untrusted(source, sink, [identity])
    expected = hashlib.sha256()
    for _ in range(mib):
        expected.update(block)
    result = {"size": sink.size, "same": sink.hasher.digest() == expected.digest()}
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
result["rss_mib"] = int(hwm.split()[1]) / 1024
print(json.dumps(result))
"""


@pytest.mark.slow
def test_one_gib_encrypts_and_decrypts_within_64_mib(tmp_path: Path) -> None:
    # One post-quantum file: the payload code is the same for both recipient types.
    sealed = tmp_path / "big.age"
    figures = {}
    for mode in ("encrypt", "decrypt"):
        result = subprocess.run(
            [sys.executable, "-c", CHILD, mode, str(sealed), str(BIG_MIB), H1.encode()],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        figures[mode] = json.loads(result.stdout)
    print(figures)
    with sealed.open("rb") as f:
        start = payload_start(f.read(agehdr.READ_LIMIT))
    assert sealed.stat().st_size == start + BIG_MIB * (1024 * 1024 + 16 * 16)  # 16 B per chunk
    assert figures["decrypt"]["size"] == BIG_MIB * 1024 * 1024
    assert figures["decrypt"]["same"] is True
    assert figures["encrypt"]["rss_mib"] <= 64, figures
    assert figures["decrypt"]["rss_mib"] <= 64, figures
