"""The only module that touches `cryptography` (and hashlib, hmac).

Every cryptographic choice of SecureSubmit is fixed here and documented in
docs/spec/crypto.md. Callers never see a nonce, never pick an algorithm and never
get a boolean from a verification: a failed check raises.

Fixed choices (version 1):

* AEAD: ChaCha20-Poly1305, 96-bit random nonce, blob = nonce || ciphertext || tag.
* Key derivation from a key: HKDF-SHA256, ``info = "securesubmit/v1/" + label + 0x00 + context``.
* Passphrase: Argon2id (RFC 9106), 32-byte output, parameters stored beside the salt.
* Signatures: Ed25519 over ``"securesubmit/v1/" + label + 0x00 + message``;
  small-order and non-canonical public keys are refused.
* Hash: SHA-256.
* Public-key encryption: the age v1 format (X25519 and MLKEM768-X25519 recipients),
  implemented in core/agev1.py from the small age primitives at the end of this module
  (agev1 imports this module, so this one never imports agev1).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from securesubmit.core import bech32
from securesubmit.errors import BadSignature, DecryptionFailed, FormatError, WeakKey

Rng = Callable[[int], bytes]
"""A source of random bytes. Production code uses ``os.urandom``; tests inject a
deterministic one only to produce test vectors."""

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
AEAD_OVERHEAD = NONCE_SIZE + TAG_SIZE
SIGNATURE_SIZE = 64
PUBLIC_KEY_SIZE = 32
SALT_SIZE = 16

_LABEL_PREFIX = b"securesubmit/v1/"


def random_bytes(n: int, rng: Rng | None = None) -> bytes:
    return (rng or os.urandom)(n)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sha256_hasher() -> hashlib._Hash:
    """An incremental SHA-256, for streams too large to hold in memory."""
    return hashlib.sha256()


def sha256_each(prefix: bytes, items: Iterable[bytes]) -> bytes:
    """``SHA-256(prefix || item)`` of every item, the 32-byte digests joined in order.

    For many small inputs (the audit log's leaves and details): one call per batch
    rather than one per hash, which at a million events is a large share of the time.
    """
    new = hashlib.sha256
    return b"".join([new(prefix + item).digest() for item in items])


def sha256_blocks(prefix: bytes, data: bytes | bytearray | memoryview, block: int) -> bytearray:
    """``SHA-256(prefix || piece)`` of every whole ``block``-byte piece of ``data``, the
    digests joined in order; a shorter tail is left out. (A Merkle tree level: each
    pair of 32-byte child hashes is one 64-byte piece.)

    Hashes 65,536 pieces at a time, so that at most that many digest objects exist at
    once: the output is the only large allocation."""
    if block <= 0:
        raise ValueError("the block size must be positive")
    new = hashlib.sha256
    end = len(data) - len(data) % block
    step = block << 16
    out = bytearray()
    for start in range(0, end, step):
        pieces = range(start, min(start + step, end), block)
        out += b"".join([new(prefix + data[i : i + block]).digest() for i in pieces])
    return out


def constant_time_equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def _labelled(label: str, data: bytes) -> bytes:
    encoded = label.encode("ascii")
    if b"\x00" in encoded or not encoded:
        raise ValueError("labels are non-empty ASCII without NUL")
    return _LABEL_PREFIX + encoded + b"\x00" + data


# --- symmetric ------------------------------------------------------------------


def derive_subkey(key: bytes, label: str, context: bytes = b"") -> bytes:
    """Derive a 256-bit key for one purpose from ``key`` (HKDF-SHA256, no salt)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_SIZE, salt=None, info=_labelled(label, context)
    ).derive(key)


def aead_encrypt(key: bytes, plaintext: bytes, ad: bytes, *, rng: Rng | None = None) -> bytes:
    nonce = random_bytes(NONCE_SIZE, rng)
    return nonce + ChaCha20Poly1305(key).encrypt(nonce, plaintext, ad)


def aead_decrypt(key: bytes, blob: bytes, ad: bytes) -> bytes:
    """Decrypt and authenticate; raises DecryptionFailed for every kind of bad input."""
    if len(blob) < AEAD_OVERHEAD:
        raise DecryptionFailed()
    try:
        return ChaCha20Poly1305(key).decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], ad)
    except InvalidTag:
        raise DecryptionFailed() from None


class Aead:
    """A key prepared once for many AEAD operations (chunked attachments)."""

    def __init__(self, key: bytes, rng: Rng | None = None) -> None:
        self._cipher = ChaCha20Poly1305(key)
        self._rng = rng

    def encrypt(self, plaintext: bytes, ad: bytes) -> bytes:
        nonce = random_bytes(NONCE_SIZE, self._rng)
        return nonce + self._cipher.encrypt(nonce, plaintext, ad)

    def decrypt(self, blob: bytes, ad: bytes) -> bytes:
        if len(blob) < AEAD_OVERHEAD:
            raise DecryptionFailed()
        try:
            return self._cipher.decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], ad)
        except InvalidTag:
            raise DecryptionFailed() from None


def mac(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256, used to derive unlinkable row identifiers."""
    return hmac.new(key, data, hashlib.sha256).digest()


# --- passphrase ---------------------------------------------------------------------

MIN_MEMORY_KIB = 256 * 1024
"""Production floor for Argon2id memory (256 MiB). Tests may pass a cheaper KdfParams."""


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost. Stored in each keyslot so it can differ per slot and grow over time."""

    memory_kib: int
    iterations: int
    lanes: int = 4

    def check_bounds(self) -> None:
        """Refuse parameters read from a file that would exhaust memory or time."""
        if not (8 <= self.memory_kib <= 4 * 1024 * 1024):
            raise FormatError("keyslot memory cost out of range")
        if not (1 <= self.iterations <= 64):
            raise FormatError("keyslot iteration count out of range")
        if not (1 <= self.lanes <= 16) or self.memory_kib < 8 * self.lanes:
            raise FormatError("keyslot lane count out of range")


TEST_KDF = KdfParams(memory_kib=64, iterations=1, lanes=1)
"""Cheap parameters for tests only. Never used unless passed explicitly."""


def derive_passphrase_key(passphrase: str, salt: bytes, params: KdfParams) -> bytes:
    params.check_bounds()
    return Argon2id(
        salt=salt,
        length=KEY_SIZE,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    ).derive(passphrase.encode("utf-8"))


def calibrate_kdf(
    target_seconds: float = 0.5,
    memory_kib: int = MIN_MEMORY_KIB,
    clock: Callable[[], float] = time.perf_counter,
) -> KdfParams:
    """Pick Argon2id iterations so one derivation takes about ``target_seconds`` here.

    Memory never goes below ``memory_kib``; on a slow machine one iteration is used
    even if it takes longer than the target.
    """
    salt = b"\x00" * SALT_SIZE
    iterations = 1
    while True:
        params = KdfParams(memory_kib=memory_kib, iterations=iterations)
        start = clock()
        derive_passphrase_key("calibration", salt, params)
        elapsed = clock() - start
        if elapsed >= target_seconds * 0.75 or iterations >= 16:
            return params
        per_iteration = elapsed / iterations
        iterations = max(iterations + 1, min(16, int(target_seconds / per_iteration)))


# --- signatures --------------------------------------------------------------------

_P = 2**255 - 19
# y-coordinates of the Ed25519 points of order 1, 2, 4 and 8 (libsodium's blocklist).
_ED25519_SMALL_ORDER_Y = frozenset(
    {
        0,
        1,
        _P - 1,
        int.from_bytes(
            bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
            "little",
        ),
        int.from_bytes(
            bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
            "little",
        ),
    }
)
# u-coordinates of the X25519 points of small order (libsodium's blocklist).
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


def check_signing_public_key(public: bytes) -> None:
    """Refuse Ed25519 public keys that are malformed, non-canonical or of small order.

    With a small-order key a "signature" can be made without any secret key, and
    `cryptography` accepts such keys (measured: see shared/reference/security-notes.md).
    """
    if len(public) != PUBLIC_KEY_SIZE:
        raise WeakKey("the signing key has the wrong length")
    y = int.from_bytes(public, "little") & ((1 << 255) - 1)
    if y >= _P:
        raise WeakKey("the signing key is not canonically encoded")
    if y in _ED25519_SMALL_ORDER_Y:
        raise WeakKey("the signing key is a small-order point")


def check_encryption_public_key(public: bytes) -> None:
    """Refuse X25519 public keys that are malformed, non-canonical or of small order."""
    if len(public) != PUBLIC_KEY_SIZE:
        raise WeakKey("the encryption key has the wrong length")
    u = int.from_bytes(public, "little")
    if u >= _P:
        raise WeakKey("the encryption key is not canonically encoded")
    if u in _X25519_SMALL_ORDER_U:
        raise WeakKey("the encryption key is a small-order point")


def generate_signing_key(rng: Rng | None = None) -> bytes:
    """A new Ed25519 secret key (its 32-byte seed)."""
    return random_bytes(KEY_SIZE, rng)


def signing_public_key(seed: bytes) -> bytes:
    return (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def sign(seed: bytes, label: str, message: bytes) -> bytes:
    """Sign ``message`` for one purpose named by ``label`` (domain separation)."""
    return Ed25519PrivateKey.from_private_bytes(seed).sign(_labelled(label, message))


def verify(public: bytes, label: str, message: bytes, signature: bytes) -> None:
    """Raise BadSignature unless ``signature`` is by ``public`` over (label, message)."""
    _verify_raw(public, _labelled(label, message), signature)


def sign_note(seed: bytes, text: bytes) -> bytes:
    """Sign a C2SP signed-note body as that spec requires (the text itself, no label).

    Note bodies are UTF-8 text without NUL, so they can never equal a labelled
    message (which always contains a NUL), and the two uses stay separate.
    """
    if b"\x00" in text:
        raise ValueError("note text may not contain NUL")
    return Ed25519PrivateKey.from_private_bytes(seed).sign(text)


def verify_note(public: bytes, text: bytes, signature: bytes) -> None:
    if b"\x00" in text:
        raise BadSignature()
    _verify_raw(public, text, signature)


def _verify_raw(public: bytes, data: bytes, signature: bytes) -> None:
    check_signing_public_key(public)
    if len(signature) != SIGNATURE_SIZE:
        raise BadSignature()
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, data)
    except InvalidSignature:
        raise BadSignature() from None


# --- age ------------------------------------------------------------------------------

AGE_RECIPIENT_HRP = "age"
AGE_IDENTITY_HRP = "age-secret-key-"


def generate_encryption_key(rng: Rng | None = None) -> bytes:
    """A new X25519 secret key (32 bytes), the secret half of an age identity."""
    return random_bytes(KEY_SIZE, rng)


def encryption_public_key(secret: bytes) -> bytes:
    return (
        X25519PrivateKey.from_private_bytes(secret)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def age_recipient(public: bytes) -> str:
    """The ``age1…`` string of an X25519 public key."""
    return bech32.encode(AGE_RECIPIENT_HRP, public)


def age_identity(secret: bytes) -> str:
    """The ``AGE-SECRET-KEY-1…`` string of an X25519 secret key."""
    return bech32.encode(AGE_IDENTITY_HRP, secret).upper()


def parse_age_recipient(text: str) -> bytes:
    """The X25519 public key inside an ``age1…`` string; refuses anything else."""
    if not text.startswith("age1") or text != text.lower():
        raise FormatError("not an age X25519 recipient (age1…)")
    hrp, data = bech32.decode(text)
    if hrp != AGE_RECIPIENT_HRP or len(data) != PUBLIC_KEY_SIZE:
        raise FormatError("not an age X25519 recipient (age1…)")
    check_encryption_public_key(data)
    return data


def parse_age_identity(text: str) -> bytes:
    if not text.startswith("AGE-SECRET-KEY-1") or text != text.upper():
        raise FormatError("not an age X25519 identity (AGE-SECRET-KEY-1…)")
    hrp, data = bech32.decode(text)
    if hrp != AGE_IDENTITY_HRP or len(data) != KEY_SIZE:
        raise FormatError("not an age X25519 identity (AGE-SECRET-KEY-1…)")
    return data


# --- age v1 primitives (for core/agev1.py) ----------------------------------------------
# core/agev1.py implements the age v1 format itself and imports no cryptographic
# library: these small named calls are all it uses. Each one is a single primitive of
# `cryptography` (or hashlib's SHAKE256 for the specified seed expansion), with the
# failure mapped to our errors. The format around them is in docs/spec/age-implementation.md.

AGE_FILE_KEY_SIZE = 16
AGE_HYBRID_PUBLIC_KEY_SIZE = 1216
"""An MLKEM768-X25519 public key: the ML-KEM-768 encapsulation key (1,184 bytes), then
the X25519 public key (32 bytes)."""
AGE_HYBRID_ENC_SIZE = 1120
"""An MLKEM768-X25519 encapsulated key: the ML-KEM-768 ciphertext (1,088 bytes), then
the ephemeral X25519 share (32 bytes)."""
_MLKEM768_PUBLIC_KEY_SIZE = 1184
_HYBRID_SEED_SIZE = 32


def x25519_shared(secret: bytes, public: bytes) -> bytes:
    """X25519(secret, public) (RFC 7748). Raises WeakKey instead of returning the
    all-zero shared secret that a small-order ``public`` gives (age: "MUST abort")."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

    if len(secret) != KEY_SIZE or len(public) != PUBLIC_KEY_SIZE:
        raise ValueError("X25519 keys are 32 bytes")
    try:
        shared = X25519PrivateKey.from_private_bytes(secret).exchange(
            X25519PublicKey.from_public_bytes(public)
        )
    except ValueError:  # OpenSSL refuses the all-zero result
        raise WeakKey("the X25519 share is a small-order point") from None
    if not any(shared):  # pragma: no cover - OpenSSL already refuses it
        raise WeakKey("the X25519 share is a small-order point")
    return shared


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int = KEY_SIZE) -> bytes:
    """HKDF-SHA256 (RFC 5869): Extract with ``salt`` (an empty salt is allowed), then
    Expand with ``info`` to ``length`` bytes."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104) of ``data`` under ``key``."""
    return hmac.new(key, data, hashlib.sha256).digest()


def chacha20poly1305_seal(key: bytes, nonce: bytes, plaintext: bytes) -> bytes:
    """ChaCha20-Poly1305 (RFC 8439) with an explicit nonce and no associated data.

    The caller guarantees that (key, nonce) is never used twice: age uses a zero nonce
    only under single-use keys, and counter nonces under a per-file payload key."""
    return ChaCha20Poly1305(key).encrypt(nonce, plaintext, None)


def chacha20poly1305_open(key: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    """The inverse of :func:`chacha20poly1305_seal`; raises DecryptionFailed."""
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, ciphertext, None)
    except InvalidTag:
        raise DecryptionFailed() from None


class ChunkAead:
    """ChaCha20-Poly1305 under one key with explicit nonces, prepared once for the many
    chunks of age's STREAM payload. Every call returns a new ``bytes`` object."""

    def __init__(self, key: bytes) -> None:
        self._cipher = ChaCha20Poly1305(key)

    def seal(self, nonce: bytes, plaintext: bytes | bytearray | memoryview) -> bytes:
        return self._cipher.encrypt(nonce, plaintext, None)

    def open(self, nonce: bytes, ciphertext: bytes | bytearray | memoryview) -> bytes:
        """Raises DecryptionFailed for a wrong tag or a ciphertext shorter than a tag."""
        try:
            return self._cipher.decrypt(nonce, ciphertext, None)
        except InvalidTag:
            raise DecryptionFailed() from None


def _hybrid_parts(seed: bytes) -> tuple[Any, bytes]:
    """The ML-KEM-768 private key and the X25519 secret of an MLKEM768-X25519 (X-Wing)
    seed: SHAKE256(seed, 96) gives the ML-KEM-768 seed d || z (64 bytes) and then the
    X25519 secret (32 bytes), as draft-ietf-hpke-pq / draft-connolly-cfrg-xwing-kem
    specify."""
    from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey

    if len(seed) != _HYBRID_SEED_SIZE:
        raise ValueError("an MLKEM768-X25519 seed is 32 bytes")
    expanded = hashlib.shake_256(seed).digest(96)
    return MLKEM768PrivateKey.from_seed_bytes(expanded[:64]), expanded[64:]


def _hybrid_private_key(seed: bytes) -> Any:
    """The MLKEM768-X25519 private key of a 32-byte seed (:func:`_hybrid_parts`)."""
    from cryptography.hazmat.primitives.hpke import MLKEM768X25519PrivateKey

    mlkem, x25519_secret = _hybrid_parts(seed)
    return MLKEM768X25519PrivateKey(mlkem, X25519PrivateKey.from_private_bytes(x25519_secret))


def hybrid_public_key(seed: bytes) -> bytes:
    """The 1,216-byte MLKEM768-X25519 public key of a 32-byte seed (an age1pq recipient)."""
    mlkem, x25519_secret = _hybrid_parts(seed)
    mlkem_public: bytes = mlkem.public_key().public_bytes_raw()
    return mlkem_public + encryption_public_key(x25519_secret)


def _hybrid_public_key_object(public: bytes) -> Any:
    from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PublicKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
    from cryptography.hazmat.primitives.hpke import MLKEM768X25519PublicKey

    if len(public) != AGE_HYBRID_PUBLIC_KEY_SIZE:
        raise WeakKey("the post-quantum encryption key has the wrong length")
    check_encryption_public_key(public[_MLKEM768_PUBLIC_KEY_SIZE:])
    try:
        mlkem_public = MLKEM768PublicKey.from_public_bytes(public[:_MLKEM768_PUBLIC_KEY_SIZE])
    except ValueError:  # FIPS 203's modulus check failed
        raise WeakKey("the post-quantum encryption key is not a valid ML-KEM-768 key") from None
    return MLKEM768X25519PublicKey(
        mlkem_public, X25519PublicKey.from_public_bytes(public[_MLKEM768_PUBLIC_KEY_SIZE:])
    )


def check_hybrid_public_key(public: bytes) -> None:
    """Refuse an MLKEM768-X25519 public key that has the wrong length, whose ML-KEM part
    fails FIPS 203's checks, or whose X25519 part is non-canonical or of small order."""
    _hybrid_public_key_object(public)


def _hybrid_suite() -> Any:
    from cryptography.hazmat.primitives import hpke

    return hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)


def hpke_hybrid_seal(public: bytes, plaintext: bytes, info: bytes) -> tuple[bytes, bytes]:
    """HPKE SealBase (RFC 9180) with KEM MLKEM768-X25519, HKDF-SHA256, ChaCha20Poly1305,
    empty associated data: returns (enc, ciphertext), enc being 1,120 bytes."""
    sealed: bytes = _hybrid_suite().encrypt(plaintext, _hybrid_public_key_object(public), info=info)
    return sealed[:AGE_HYBRID_ENC_SIZE], sealed[AGE_HYBRID_ENC_SIZE:]


def hybrid_private_key(seed: bytes) -> object:
    """The MLKEM768-X25519 private key of ``seed`` as an opaque handle for
    :func:`hpke_hybrid_open`. Expanding a seed (SHAKE256, ML-KEM key generation) costs
    about 0.2 ms, so an identity that opens many files builds its handle once and keeps
    it exactly as long as it keeps the seed (no cache outlives its owner)."""
    key: object = _hybrid_private_key(seed)
    return key


def hpke_hybrid_open(
    seed: bytes | object, enc: bytes, ciphertext: bytes, info: bytes
) -> bytes:
    """HPKE OpenBase, the inverse of :func:`hpke_hybrid_seal` for the private key of
    ``seed`` (32 bytes, or a handle from :func:`hybrid_private_key`). Raises
    DecryptionFailed if it does not open: ML-KEM rejects implicitly, so a key that does
    not match and an altered ``enc`` both end here."""
    if len(enc) != AGE_HYBRID_ENC_SIZE:
        raise DecryptionFailed()
    key = _hybrid_private_key(seed) if isinstance(seed, bytes) else seed
    try:
        opened: bytes = _hybrid_suite().decrypt(enc + ciphertext, key, info=info)
    except InvalidTag:
        raise DecryptionFailed() from None
    return opened


# --- ML-DSA-65 (FIPS 204) and hybrid signatures -------------------------------------------
# A hybrid signature is an Ed25519 signature (sign/verify above) AND an ML-DSA-65
# signature over the same labelled message; a verifier requires both. The ML-DSA
# signature is over the same bytes Ed25519 signs ("securesubmit/v1/" || label || 0x00 ||
# message), with the FIPS 204 context string "securesubmit/v1/" || label as well, so
# each signature names its purpose twice. docs/spec/crypto.md, "ML-DSA-65".

MLDSA_SEED_SIZE = 32
MLDSA_PUBLIC_KEY_SIZE = 1952
MLDSA_SIGNATURE_SIZE = 3309


def generate_mldsa_key(rng: Rng | None = None) -> bytes:
    """A new ML-DSA-65 secret key: its 32-byte seed ξ (FIPS 204 ML-DSA.KeyGen_internal)."""
    return random_bytes(MLDSA_SEED_SIZE, rng)


def _mldsa_private_key(seed: bytes) -> Any:
    from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA65PrivateKey

    if len(seed) != MLDSA_SEED_SIZE:
        raise ValueError("an ML-DSA-65 seed is 32 bytes")
    return MLDSA65PrivateKey.from_seed_bytes(seed)


def mldsa_public_key(seed: bytes) -> bytes:
    """The 1,952-byte ML-DSA-65 public key of a 32-byte seed."""
    public: bytes = _mldsa_private_key(seed).public_key().public_bytes_raw()
    return public


def _mldsa_public_key_object(public: bytes) -> Any:
    from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA65PublicKey

    if len(public) != MLDSA_PUBLIC_KEY_SIZE:
        raise WeakKey("the ML-DSA-65 signing key has the wrong length")
    try:
        return MLDSA65PublicKey.from_public_bytes(public)
    except ValueError:
        raise WeakKey("the ML-DSA-65 signing key is not a valid ML-DSA-65 public key") from None


def check_mldsa_public_key(public: bytes) -> None:
    """Refuse an ML-DSA-65 public key of the wrong length or that the library does not
    accept as a FIPS 204 public key. (Every 1,952-byte string encodes some key: the
    parse cannot prove that anyone holds its secret; a signature check does.)"""
    _mldsa_public_key_object(public)


def _mldsa_context(label: str) -> bytes:
    context = _LABEL_PREFIX + label.encode("ascii")
    if len(context) > 255:  # FIPS 204: ctx is at most 255 bytes
        raise ValueError("label too long for an ML-DSA context string")
    return context


def mldsa_sign(seed: bytes, label: str, message: bytes) -> bytes:
    """ML-DSA-65 signature (3,309 bytes) of ``message`` for the purpose ``label``.

    The library signs in FIPS 204's hedged mode (fresh randomness each time), so two
    signatures of one message differ; both verify."""
    signature: bytes = _mldsa_private_key(seed).sign(
        _labelled(label, message), _mldsa_context(label)
    )
    return signature


def mldsa_verify(public: bytes, label: str, message: bytes, signature: bytes) -> None:
    """Raise BadSignature unless ``signature`` is an ML-DSA-65 signature by ``public``
    over (label, message); WeakKey if ``public`` is not a valid ML-DSA-65 key."""
    key = _mldsa_public_key_object(public)
    if len(signature) != MLDSA_SIGNATURE_SIZE:
        raise BadSignature()
    try:
        key.verify(signature, _labelled(label, message), _mldsa_context(label))
    except InvalidSignature:
        raise BadSignature() from None


# --- hybrid age recipient strings (age1pq1…) ------------------------------------------------

AGE_HYBRID_RECIPIENT_HRP = "age1pq"
_AGE_HYBRID_RECIPIENT_CHARS = 1959


def generate_hybrid_encryption_key(rng: Rng | None = None) -> bytes:
    """A new MLKEM768-X25519 secret key: the 32-byte seed of an age1pq identity
    (hybrid_public_key gives its public key)."""
    return random_bytes(_HYBRID_SEED_SIZE, rng)


@functools.lru_cache(maxsize=256)
def hybrid_age_recipient(public: bytes) -> str:
    """The ``age1pq1…`` string of a 1,216-byte MLKEM768-X25519 public key.

    Cached (public data only): Bech32 in Python takes milliseconds for 1,216 bytes, and
    every signed text of a version 2 card or statement writes it again."""
    if len(public) != AGE_HYBRID_PUBLIC_KEY_SIZE:
        raise ValueError("an MLKEM768-X25519 public key is 1,216 bytes")
    return bech32.encode(AGE_HYBRID_RECIPIENT_HRP, public)


def parse_hybrid_age_recipient(text: str) -> bytes:
    """The MLKEM768-X25519 public key inside an ``age1pq1…`` string (lower case, valid
    checksum, 1,216 data bytes, a key that check_hybrid_public_key accepts)."""
    if (
        len(text) != _AGE_HYBRID_RECIPIENT_CHARS
        or not text.startswith(AGE_HYBRID_RECIPIENT_HRP + "1")
        or text != text.lower()
    ):
        raise FormatError("not an age post-quantum recipient (age1pq1…)")
    hrp, data = bech32.decode(text, max_length=_AGE_HYBRID_RECIPIENT_CHARS)
    if hrp != AGE_HYBRID_RECIPIENT_HRP or len(data) != AGE_HYBRID_PUBLIC_KEY_SIZE:
        raise FormatError("not an age post-quantum recipient (age1pq1…)")
    check_hybrid_public_key(data)
    return data
