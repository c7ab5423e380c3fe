"""The recipe layer: fixed choices, verification that raises, weak keys refused."""

from __future__ import annotations

import contextlib
import io

import pyrage
import pytest
from hypothesis import given
from hypothesis import strategies as st

from securesubmit.core import bech32, crypto
from securesubmit.errors import BadSignature, DecryptionFailed, FormatError, WeakKey

# Small-order Ed25519 encodings ("Taming the many EdDSAs", cases 0-3 use such keys).
ED25519_SMALL_ORDER = [
    bytes(32),
    bytes([1]) + bytes(31),
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
    bytes.fromhex("ec" + "ff" * 30 + "7f"),
    bytes(31) + b"\x80",
]
X25519_SMALL_ORDER = [
    bytes(32),
    bytes([1]) + bytes(31),
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
    bytes.fromhex("ec" + "ff" * 30 + "7f"),
    bytes.fromhex("ed" + "ff" * 30 + "7f"),
    bytes.fromhex("ee" + "ff" * 30 + "7f"),
]


def test_aead_round_trip_and_every_tamper_raises() -> None:
    key = crypto.random_bytes(32)
    blob = crypto.aead_encrypt(key, b"secret", b"ad")
    assert crypto.aead_decrypt(key, blob, b"ad") == b"secret"
    with pytest.raises(DecryptionFailed):
        crypto.aead_decrypt(key, blob, b"other ad")
    with pytest.raises(DecryptionFailed):
        crypto.aead_decrypt(crypto.random_bytes(32), blob, b"ad")
    for i in range(len(blob)):
        bad = bytearray(blob)
        bad[i] ^= 1
        with pytest.raises(DecryptionFailed):
            crypto.aead_decrypt(key, bytes(bad), b"ad")
    with pytest.raises(DecryptionFailed):
        crypto.aead_decrypt(key, blob[:27], b"ad")


def test_subkeys_differ_by_label_and_context() -> None:
    key = bytes(32)
    keys = {
        crypto.derive_subkey(key, "a"),
        crypto.derive_subkey(key, "b"),
        crypto.derive_subkey(key, "a", b"x"),
    }
    assert len(keys) == 3


def test_signature_is_bound_to_its_label() -> None:
    seed = crypto.generate_signing_key()
    public = crypto.signing_public_key(seed)
    sig = crypto.sign(seed, "card", b"message")
    crypto.verify(public, "card", b"message", sig)
    with pytest.raises(BadSignature):
        crypto.verify(public, "statement", b"message", sig)
    with pytest.raises(BadSignature):
        crypto.verify(public, "card", b"messagE", sig)
    with pytest.raises(BadSignature):
        crypto.verify(public, "card", b"message", sig[:-1])


@pytest.mark.parametrize("key", ED25519_SMALL_ORDER)
def test_small_order_signing_keys_are_refused(key: bytes) -> None:
    with pytest.raises(WeakKey):
        crypto.check_signing_public_key(key)
    # A "signature" that verifies under cryptography for the identity point is refused too.
    with pytest.raises(WeakKey):
        crypto.verify(key, "card", b"anything", bytes(64))


def test_non_canonical_signing_key_is_refused() -> None:
    with pytest.raises(WeakKey, match="not canonically"):
        crypto.check_signing_public_key(bytes.fromhex("ee" + "ff" * 30 + "7f"))


@pytest.mark.parametrize("key", X25519_SMALL_ORDER)
def test_small_order_encryption_keys_are_refused(key: bytes) -> None:
    with pytest.raises(WeakKey):
        crypto.check_encryption_public_key(key)
    with pytest.raises((WeakKey, FormatError)):
        crypto.parse_age_recipient(bech32.encode("age", key))


def test_age_strings_match_pyrage_and_age_round_trips() -> None:
    from securesubmit.core import agev1

    secret = crypto.generate_encryption_key()
    recipient = crypto.age_recipient(crypto.encryption_public_key(secret))
    identity = crypto.age_identity(secret)
    # pyrage (a test dependency only) is an independent reference for the key strings.
    assert str(pyrage.x25519.Identity.from_str(identity).to_public()) == recipient
    assert str(agev1.parse_identity(identity).recipient()) == recipient
    out = io.BytesIO()
    agev1.encrypt_stream(io.BytesIO(b"payload"), out, [recipient])
    plain = io.BytesIO()
    agev1.decrypt_untrusted(io.BytesIO(out.getvalue()), plain, [secret])
    assert plain.getvalue() == b"payload"
    assert pyrage.decrypt(out.getvalue(), [pyrage.x25519.Identity.from_str(identity)]) == (
        b"payload"
    )
    with pytest.raises(DecryptionFailed):
        agev1.decrypt_untrusted(
            io.BytesIO(out.getvalue()), io.BytesIO(), [crypto.generate_encryption_key()]
        )


def test_age_recipient_parsing_is_strict() -> None:
    secret = crypto.generate_encryption_key()
    recipient = crypto.age_recipient(crypto.encryption_public_key(secret))
    for bad in (
        recipient.upper(),
        recipient[:-1] + ("q" if recipient[-1] != "q" else "p"),
        "age1",
        "ssh-ed25519 AAAA",
        recipient + " ",
    ):
        with pytest.raises(FormatError):
            crypto.parse_age_recipient(bad)


@given(st.binary(min_size=0, max_size=64))
def test_bech32_round_trips(data: bytes) -> None:
    assert bech32.decode(bech32.encode("age", data)) == ("age", data)


@given(st.text(max_size=120))
def test_bech32_decode_raises_only_format_errors(text: str) -> None:
    with contextlib.suppress(FormatError):
        bech32.decode(text)


def test_kdf_bounds_refuse_crafted_parameters() -> None:
    for params in (
        crypto.KdfParams(memory_kib=8 * 1024 * 1024, iterations=1),
        crypto.KdfParams(memory_kib=65536, iterations=1000),
        crypto.KdfParams(memory_kib=65536, iterations=1, lanes=0),
    ):
        with pytest.raises(FormatError):
            crypto.derive_passphrase_key("pw", bytes(16), params)


def test_calibration_never_goes_below_the_memory_floor() -> None:
    ticks = iter(range(0, 1000))
    params = crypto.calibrate_kdf(memory_kib=1024, clock=lambda: float(next(ticks)))
    assert params.memory_kib == 1024 and params.iterations == 1


class _FailingDestination(io.BytesIO):
    def __init__(self, fail_at: int, short: bool = False) -> None:
        super().__init__()
        self.fail_at, self.short, self.writes = fail_at, short, 0

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.writes += 1
        if self.writes == self.fail_at:
            if self.short:
                return super().write(bytes(data)[: max(1, len(data) // 2)])
            raise OSError(28, "No space left on device")
        return super().write(data)

    def flush(self) -> None:
        if self.fail_at == -1:
            raise OSError(28, "No space left on device")


@pytest.mark.parametrize("fail_at", [1, 2, 3, -1])
def test_age_encrypt_raises_the_destination_error_instead_of_a_short_file(fail_at: int) -> None:
    from securesubmit.core import agev1

    public = crypto.encryption_public_key(crypto.generate_encryption_key())
    with pytest.raises(OSError, match="No space left"):
        agev1.encrypt_stream(
            io.BytesIO(b"x" * 200_000),
            _FailingDestination(fail_at),
            [agev1.X25519Recipient(public)],
        )


def test_age_encrypt_completes_short_writes() -> None:
    secret = crypto.generate_encryption_key()
    from securesubmit.core import agev1

    dest = _FailingDestination(2, short=True)
    recipient = agev1.X25519Recipient(crypto.encryption_public_key(secret))
    agev1.encrypt_stream(io.BytesIO(b"y" * 200_000), dest, [recipient])
    plain = io.BytesIO()
    agev1.decrypt_untrusted(io.BytesIO(dest.getvalue()), plain, [secret])
    assert plain.getvalue() == b"y" * 200_000
