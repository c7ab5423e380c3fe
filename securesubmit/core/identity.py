"""Identity cards, key statements and fingerprints (format versions 1 and 2).

This module owns the text formats specified in docs/spec/identity-card.md:

* the **identity card**, the public half of a user's keys that partners exchange,
  self-signed by its keys;
* the **rotation statement**, by which a key set hands its identity over to a new key
  set (signed by both the old and the new keys);
* the **revocation statement**, by which a key set declares itself dead from a given
  time on;
* the **fingerprint** of a key set, and the form people read aloud to compare it.

A key set is *classical* (Ed25519 + X25519: version 1 documents) or *hybrid* (those two
plus ML-DSA-65 for signing and an MLKEM768-X25519 age recipient: version 2 documents).
A hybrid key set signs everything with both Ed25519 and ML-DSA-65, and a reader requires
both signatures (sign_with_key_set / verify_key_set_signatures).

It is pure: no files, no storage, no clock. Every time is passed in as an aware UTC
``datetime``. Every object of this module carries verified signatures: the
constructors check them, so an ``IdentityCard`` that exists is a well-formed,
self-signed card. Checks raise a ``SecureSubmitError`` subclass with a message for the
user; none returns a boolean.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from securesubmit.core import crypto
from securesubmit.errors import (
    BadSignature,
    FormatError,
    InputError,
    Refused,
    VerificationError,
    WeakKey,
)

CARD_VERSION_LINE = "securesubmit-card v1"
ROTATION_VERSION_LINE = "securesubmit-rotation v1"
REVOCATION_VERSION_LINE = "securesubmit-revocation v1"
CARD_V2_VERSION_LINE = "securesubmit-card v2"
ROTATION_V2_VERSION_LINE = "securesubmit-rotation v2"
REVOCATION_V2_VERSION_LINE = "securesubmit-revocation v2"

CARD_SIGNATURE_LABEL = "card"
STATEMENT_SIGNATURE_LABEL = "statement"
FINGERPRINT_LABEL = b"securesubmit/v1/fingerprint\x00"
FINGERPRINT_V2_LABEL = b"securesubmit/v2/fingerprint\x00"

MAX_V1_BYTES = 4096
"""The size limit of every version 1 document (and of anything that is not version 2)."""
MAX_CARD_V2_BYTES = 10240
"""A version 2 card is at most 10,209 bytes (100-character names of 4-byte characters)."""
MAX_ROTATION_V2_BYTES = 20480
"""A version 2 rotation between two hybrid key sets is 18,750 bytes."""
MAX_REVOCATION_V2_BYTES = 10240
"""A version 2 revocation is at most 10,184 bytes (a 200-character reason of 4-byte
characters)."""
MAX_TEXT_BYTES = max(MAX_V1_BYTES, MAX_CARD_V2_BYTES, MAX_ROTATION_V2_BYTES)
"""The largest document of any version: what a caller may read from a file before
parsing it (the parser then applies the limit of the document's version)."""
MAX_NAME_CHARS = 100
MAX_ORGANISATION_CHARS = 100
MAX_REASON_CHARS = 200
MAX_CARD_LIFETIME = timedelta(days=1830)
"""About five years: a card must be renewed at least that often."""
DEFAULT_CLOCK_TOLERANCE = timedelta(hours=24)
"""How far in the future a card's creation time may lie before the card is refused as
not yet valid; offline laptops often have wrong clocks."""

FINGERPRINT_SIZE = 32
DISPLAY_FINGERPRINT_BYTES = 20
"""The displayed fingerprint is the first 160 bits: 32 base32 characters."""
DISPLAY_FINGERPRINT_CHARS = 32

HYBRID_PROTECTION = "hybrid (ML-KEM-768 + X25519, ML-DSA-65 + Ed25519)"
CLASSICAL_PROTECTION = "classical only"
"""How the CLI and the TUI name the protection a key set gives."""


class Role(StrEnum):
    REPORTER = "reporter"
    COORDINATOR = "coordinator"


# --- errors ----------------------------------------------------------------------------


class CardExpired(Refused):
    """This identity card has expired."""

    hint = "ask the partner for a new card, and compare its fingerprint with them again"


class CardNotYetValid(Refused):
    """This identity card is not valid yet."""

    hint = "check the date and time of this computer; then ask the partner when they made the card"


class KeyRevoked(Refused):
    """This key was revoked by its owner."""

    hint = (
        "send nothing more to this key and trust nothing it signed after the revocation; "
        "ask the partner, by phone or in person, for their new card"
    )


class BrokenRotationChain(VerificationError):
    """The key rotations do not form an unbroken chain from the card you checked."""

    hint = (
        "keep using the card you checked; ask the partner, by phone or in person, "
        "for their new card and compare its fingerprint"
    )


class FingerprintMismatch(VerificationError):
    """The fingerprint does not match."""

    hint = (
        "do not use this card; call the partner on a number you already know "
        "(not one written on the card or in the same message) and compare again"
    )


# --- fingerprints ----------------------------------------------------------------------


# --- fingerprints ----------------------------------------------------------------------


def fingerprint(
    signing_public: bytes,
    encryption_public: bytes,
    mldsa_public: bytes | None = None,
    pq_public: bytes | None = None,
) -> bytes:
    """The 32-byte fingerprint of a key set.

    Classical (Ed25519, X25519): SHA-256 of the version 1 label and both keys. Hybrid
    (with the ML-DSA-65 key and the MLKEM768-X25519 age key): SHA-256 of the version 2
    label and all four keys, so the two kinds never share a fingerprint.
    """
    if len(signing_public) != crypto.PUBLIC_KEY_SIZE:
        raise ValueError("signing_public must be 32 bytes")
    if len(encryption_public) != crypto.PUBLIC_KEY_SIZE:
        raise ValueError("encryption_public must be 32 bytes")
    if mldsa_public is None and pq_public is None:
        return crypto.sha256(FINGERPRINT_LABEL + signing_public + encryption_public)
    if mldsa_public is None or pq_public is None:
        raise ValueError("a hybrid key set has both an ML-DSA-65 key and an age1pq key")
    if len(mldsa_public) != crypto.MLDSA_PUBLIC_KEY_SIZE:
        raise ValueError("mldsa_public must be 1,952 bytes")
    if len(pq_public) != crypto.AGE_HYBRID_PUBLIC_KEY_SIZE:
        raise ValueError("pq_public must be 1,216 bytes")
    return crypto.sha256(
        FINGERPRINT_V2_LABEL + signing_public + encryption_public + mldsa_public + pq_public
    )


def _require_fingerprint(fp: bytes) -> None:
    if len(fp) != FINGERPRINT_SIZE:
        raise ValueError("a fingerprint is 32 bytes")


def format_fingerprint(fp: bytes) -> str:
    """The form people compare: base32 of the first 20 bytes, 8 groups of 4 characters."""
    _require_fingerprint(fp)
    text = base64.b32encode(fp[:DISPLAY_FINGERPRINT_BYTES]).decode("ascii")
    return " ".join(text[i : i + 4] for i in range(0, DISPLAY_FINGERPRINT_CHARS, 4))


def short_id(fp: bytes) -> str:
    """A short machine name for a key (file names, database keys): 16 lower-case hex digits.

    64 bits: unique in practice among honest keys, but not a security check; people
    compare the full displayed fingerprint.
    """
    _require_fingerprint(fp)
    return fp[:8].hex()


_BASE32_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
_DIGIT_LOOKALIKES = {"0": "the letter O", "1": "the letter I or L", "8": "the letter B"}


def parse_fingerprint(text: str) -> bytes:
    """Read a fingerprint as a person types it; returns its 20 displayed bytes.

    Upper or lower case (ASCII), spaces and dashes anywhere are accepted. Raises
    InputError naming what is wrong.
    """
    if len(text) > 200:
        raise InputError("that is too long to be a fingerprint (32 letters and digits)")
    chars: list[str] = []
    for ch in text:
        if ch.isspace() or unicodedata.category(ch) == "Pd":
            continue
        upper = ch.upper() if ch.isascii() else ch
        if upper not in _BASE32_ALPHABET:
            if ch.isalpha() and not ch.isascii():
                raise InputError(
                    f"the fingerprint contains the non-Latin letter {_show(ch)}; fingerprints "
                    "use only the Latin letters A to Z and the digits 2 to 7 "
                    "(switch the keyboard to a Latin layout)"
                )
            lookalike = _DIGIT_LOOKALIKES.get(ch)
            if lookalike is not None:
                raise InputError(
                    f"the fingerprint contains the digit {ch}, which fingerprints never use "
                    f"(did you mean {lookalike}?)"
                )
            raise InputError(
                f"the fingerprint contains {_show(ch)}, which fingerprints never use "
                "(they use only the letters A to Z and the digits 2 to 7)"
            )
        chars.append(upper)
    if len(chars) != DISPLAY_FINGERPRINT_CHARS:
        raise InputError(
            f"the fingerprint has {len(chars)} letters and digits; it should have "
            f"{DISPLAY_FINGERPRINT_CHARS} (8 groups of 4)"
        )
    return base64.b32decode("".join(chars))


def check_fingerprint(fp: bytes, typed: str) -> None:
    """Raise FingerprintMismatch unless ``typed`` is the displayed form of ``fp``.

    ``typed`` is what a person entered after comparing with the partner; see
    parse_fingerprint for what is tolerated (and the InputError it raises).
    """
    _require_fingerprint(fp)
    entered = parse_fingerprint(typed)
    if not crypto.constant_time_equal(entered, fp[:DISPLAY_FINGERPRINT_BYTES]):
        # Say which groups differ, not what the card's are: someone checking by typing
        # what the partner reads out must not be handed the answer to copy.
        expected_groups = format_fingerprint(fp).split(" ")
        entered_groups = format_fingerprint(entered + bytes(12)).split(" ")
        differ = [
            str(number)
            for number, (a, b) in enumerate(zip(expected_groups, entered_groups, strict=True), 1)
            if a != b
        ]
        which = (
            f"group {differ[0]} of 8 differs"
            if len(differ) == 1
            else f"groups {', '.join(differ)} of 8 differ"
        )
        raise FingerprintMismatch(f"the fingerprint you entered does not match this card ({which})")


# --- key sets and their signatures -------------------------------------------------------


@dataclass(frozen=True)
class PublicKeys:
    """The public half of a key set.

    Classical: Ed25519 for signing, X25519 (age) for encryption. Hybrid: also an
    ML-DSA-65 signing key and an MLKEM768-X25519 age key (``age1pq1…``); a hybrid key set
    signs with both signature algorithms, and a verifier requires both.
    """

    signing_public: bytes
    encryption_public: bytes
    mldsa_public: bytes | None = None
    pq_public: bytes | None = None

    def __post_init__(self) -> None:
        crypto.check_signing_public_key(self.signing_public)
        crypto.check_encryption_public_key(self.encryption_public)
        if (self.mldsa_public is None) != (self.pq_public is None):
            raise ValueError("a hybrid key set has both an ML-DSA-65 key and an age1pq key")
        if self.mldsa_public is not None:
            crypto.check_mldsa_public_key(self.mldsa_public)
        if self.pq_public is not None:
            crypto.check_hybrid_public_key(self.pq_public)

    @property
    def is_hybrid(self) -> bool:
        """True for a key set with post-quantum keys (ML-DSA-65 and ML-KEM-768)."""
        return self.mldsa_public is not None

    @property
    def fingerprint(self) -> bytes:
        return fingerprint(
            self.signing_public, self.encryption_public, self.mldsa_public, self.pq_public
        )

    @property
    def age_recipient(self) -> str:
        """The X25519 age recipient (``age1…``)."""
        return crypto.age_recipient(self.encryption_public)

    @property
    def pq_recipient(self) -> str | None:
        """The post-quantum age recipient (``age1pq1…``), None for a classical key set."""
        return None if self.pq_public is None else crypto.hybrid_age_recipient(self.pq_public)

    @property
    def classical(self) -> PublicKeys:
        """The Ed25519 and X25519 keys alone, as version 1 formats name a key set.

        Its fingerprint is *not* the hybrid key set's: never use it to look a hybrid
        partner up, or a signature by the classical keys alone would pass for theirs."""
        return PublicKeys(self.signing_public, self.encryption_public)

    @property
    def protection(self) -> str:
        """``hybrid (ML-KEM-768 + X25519, ML-DSA-65 + Ed25519)`` or ``classical only``."""
        return HYBRID_PROTECTION if self.is_hybrid else CLASSICAL_PROTECTION

    def display(self) -> str:
        return format_fingerprint(self.fingerprint)


@dataclass(frozen=True)
class SigningKeySet:
    """The secret signing half of a key set: an Ed25519 seed and, for a hybrid key set,
    an ML-DSA-65 seed (both 32 bytes). Pass it to :func:`sign_with_key_set`."""

    ed25519_seed: bytes
    mldsa_seed: bytes | None = None

    def __post_init__(self) -> None:
        if len(self.ed25519_seed) != crypto.KEY_SIZE:
            raise ValueError("an Ed25519 seed is 32 bytes")
        if self.mldsa_seed is not None and len(self.mldsa_seed) != crypto.MLDSA_SEED_SIZE:
            raise ValueError("an ML-DSA-65 seed is 32 bytes")

    def __repr__(self) -> str:  # never print secrets, even in a traceback
        kind = "hybrid" if self.is_hybrid else "classical"
        return f"SigningKeySet(<{kind}, secret keys hidden>)"

    @property
    def is_hybrid(self) -> bool:
        return self.mldsa_seed is not None

    @property
    def signing_public(self) -> bytes:
        return crypto.signing_public_key(self.ed25519_seed)

    @property
    def mldsa_public(self) -> bytes | None:
        return None if self.mldsa_seed is None else crypto.mldsa_public_key(self.mldsa_seed)


@dataclass(frozen=True)
class KeySetSignatures:
    """What :func:`sign_with_key_set` makes: an Ed25519 signature (64 bytes) and, for a
    hybrid key set, an ML-DSA-65 signature (3,309 bytes) over the same labelled message."""

    ed25519: bytes
    mldsa: bytes | None = None

    @property
    def is_hybrid(self) -> bool:
        return self.mldsa is not None


def sign_with_key_set(key_set: SigningKeySet, label: str, message: bytes) -> KeySetSignatures:
    """Sign ``message`` for the purpose ``label`` with every signature algorithm of
    ``key_set``: Ed25519 always, ML-DSA-65 too when the key set is hybrid.

    Both are domain-separated by ``label`` (docs/spec/crypto.md). Use the same label for
    verify_key_set_signatures. ML-DSA signing is randomised: two calls give different
    ML-DSA signatures, and both verify."""
    ed25519 = crypto.sign(key_set.ed25519_seed, label, message)
    if key_set.mldsa_seed is None:
        return KeySetSignatures(ed25519)
    return KeySetSignatures(ed25519, crypto.mldsa_sign(key_set.mldsa_seed, label, message))


def verify_key_set_signatures(
    keys: PublicKeys, label: str, message: bytes, signatures: KeySetSignatures
) -> None:
    """Raise unless ``signatures`` are by ``keys`` over (``label``, ``message``).

    For a hybrid key set both signatures are required and both must verify; a missing
    ML-DSA-65 signature is refused like a wrong one (a downgrade to Ed25519 alone). For a
    classical key set only the Ed25519 signature exists; an ML-DSA-65 signature beside
    it is refused (the classical keys cannot have made it). Raises BadSignature naming
    the algorithm that failed, WeakKey for a refused public key. Callers re-raise with
    their object's name in the message.
    """
    if keys.is_hybrid and signatures.mldsa is None:
        raise BadSignature(
            "the ML-DSA-65 signature is missing: these keys are hybrid, so both an Ed25519 "
            "and an ML-DSA-65 signature are required"
        )
    if not keys.is_hybrid and signatures.mldsa is not None:
        raise BadSignature(
            "there is an ML-DSA-65 signature, but these keys are classical only (Ed25519)"
        )
    try:
        crypto.verify(keys.signing_public, label, message, signatures.ed25519)
    except BadSignature:
        raise BadSignature("the Ed25519 signature does not verify") from None
    if keys.mldsa_public is not None and signatures.mldsa is not None:
        try:
            crypto.mldsa_verify(keys.mldsa_public, label, message, signatures.mldsa)
        except BadSignature:
            raise BadSignature("the ML-DSA-65 signature does not verify") from None


# --- value encodings -------------------------------------------------------------------

_TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_BASE64_RE = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def _show(text: str, limit: int = 40) -> str:
    """Quote text from a file for an error message: short, and with nothing that a
    terminal would interpret (control, format and separator characters are escaped)."""
    shown = []
    for ch in text[:limit]:
        cat = unicodedata.category(ch)
        if cat[0] in "CZ" and ch != " ":
            shown.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            shown.append(ch)
    return "'" + "".join(shown) + ("…" if len(text) > limit else "") + "'"


def _text_problem(value: str, max_chars: int, *, allow_empty: bool) -> str | None:
    """What is wrong with a human-readable value (name, organisation, reason), if anything."""
    if not value:
        return None if allow_empty else "is empty"
    if len(value) > max_chars:
        return f"is longer than {max_chars} characters"
    if value != value.strip():
        return "starts or ends with a space"
    for ch in value:
        cat = unicodedata.category(ch)
        if cat in _FORBIDDEN_CATEGORIES or (cat == "Zs" and ch != " "):
            return f"contains the invisible or control character U+{ord(ch):04X}"
    if unicodedata.normalize("NFC", value) != value:
        return "is not in Unicode normal form C (NFC)"
    return None


def _check_text(value: str, max_chars: int, *, allow_empty: bool, what: str) -> None:
    problem = _text_problem(value, max_chars, allow_empty=allow_empty)
    if problem is not None:
        raise FormatError(f"{what} {problem}")


def _format_time(t: datetime) -> str:
    _require_stored_time(t)
    # Not strftime: %Y does not zero-pad years before 1000 on every platform.
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"


def _decode_time(value: str, what: str) -> datetime:
    if not _TIME_RE.fullmatch(value):
        raise FormatError(f"{what} is not a time of the form 2026-11-23T10:00:00Z (UTC)")
    try:
        return datetime(
            int(value[0:4]),
            int(value[5:7]),
            int(value[8:10]),
            int(value[11:13]),
            int(value[14:16]),
            int(value[17:19]),
            tzinfo=UTC,
        )
    except ValueError:
        raise FormatError(f"{what} is not a real date and time") from None


def _require_aware(t: datetime) -> None:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError("times must be timezone-aware datetimes (UTC)")


def _require_stored_time(t: datetime) -> None:
    _require_aware(t)
    if t.utcoffset() != timedelta(0) or t.microsecond != 0:
        raise ValueError("stored times are UTC with whole seconds")


def _normalise_time(t: datetime) -> datetime:
    """An aware time as UTC with whole seconds (fractions are dropped)."""
    _require_aware(t)
    return t.astimezone(UTC).replace(microsecond=0)


def _encode_b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _decode_b64(value: str, size: int, what: str) -> bytes:
    expected_chars = 4 * ((size + 2) // 3)
    if len(value) == expected_chars and _BASE64_RE.fullmatch(value):
        try:
            data = base64.b64decode(value, validate=True)
        except ValueError:
            pass
        else:
            # Several encodings decode to the same bytes (non-zero padding bits): only
            # the one that encoding produces is accepted, so each value has one text.
            if len(data) == size and _encode_b64(data) == value:
                return data
    raise FormatError(f"{what} is not the canonical padded base64 of {size} bytes")


def _decode_signing_key(value: str, what: str) -> bytes:
    key = _decode_b64(value, crypto.PUBLIC_KEY_SIZE, what)
    try:
        crypto.check_signing_public_key(key)
    except WeakKey as e:
        raise WeakKey(f"{what} is refused: {e}") from None
    return key


def _decode_recipient(value: str, what: str) -> bytes:
    try:
        return crypto.parse_age_recipient(value)
    except WeakKey as e:
        raise WeakKey(f"{what} is refused: {e}") from None
    except FormatError:
        raise FormatError(
            f"{what} is not an age X25519 recipient (lower-case age1… with a valid checksum)"
        ) from None


def _decode_pq_recipient(value: str, what: str) -> bytes:
    try:
        return crypto.parse_hybrid_age_recipient(value)
    except WeakKey as e:
        raise WeakKey(f"{what} is refused: {e}") from None
    except FormatError:
        raise FormatError(
            f"{what} is not an age post-quantum recipient (lower-case age1pq1… with a valid "
            "checksum)"
        ) from None


def _decode_mldsa_key(value: str, what: str) -> bytes:
    key = _decode_b64(value, crypto.MLDSA_PUBLIC_KEY_SIZE, what)
    try:
        crypto.check_mldsa_public_key(key)
    except WeakKey as e:
        raise WeakKey(f"{what} is refused: {e}") from None
    return key


def _decode_yes_no(value: str, what: str) -> bool:
    if value == "yes":
        return True
    if value == "no":
        return False
    raise FormatError(f"{what} is {_show(value)}; it must be 'yes' or 'no'")


# --- the shared line format -------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    what: str  # how messages name the document: "card", "rotation statement", ...
    version_line: str
    fields: tuple[str, ...]  # every field, in order; the signature fields come last
    may_be_empty: frozenset[str] = frozenset()
    max_bytes: int = MAX_V1_BYTES


_CARD = _Layout(
    what="card",
    version_line=CARD_VERSION_LINE,
    fields=(
        "name",
        "organisation",
        "role",
        "age-recipient",
        "signing-key",
        "created",
        "expires",
        "signature",
    ),
    may_be_empty=frozenset({"organisation"}),
)
_CARD_V2 = _Layout(
    what="card",
    version_line=CARD_V2_VERSION_LINE,
    fields=(
        "name",
        "organisation",
        "role",
        "age-recipient",
        "pq-age-recipient",
        "signing-key",
        "mldsa-signing-key",
        "require-hybrid",
        "created",
        "expires",
        "signature",
        "mldsa-signature",
    ),
    may_be_empty=frozenset({"organisation"}),
    max_bytes=MAX_CARD_V2_BYTES,
)
_ROTATION = _Layout(
    what="rotation statement",
    version_line=ROTATION_VERSION_LINE,
    fields=(
        "old-fingerprint",
        "old-age-recipient",
        "old-signing-key",
        "new-fingerprint",
        "new-age-recipient",
        "new-signing-key",
        "time",
        "old-signature",
        "new-signature",
    ),
)
_ROTATION_V2 = _Layout(
    what="rotation statement",
    version_line=ROTATION_V2_VERSION_LINE,
    fields=(
        "old-fingerprint",
        "old-age-recipient",
        "old-pq-age-recipient",
        "old-signing-key",
        "old-mldsa-signing-key",
        "new-fingerprint",
        "new-age-recipient",
        "new-pq-age-recipient",
        "new-signing-key",
        "new-mldsa-signing-key",
        "time",
        "old-signature",
        "old-mldsa-signature",
        "new-signature",
        "new-mldsa-signature",
    ),
    # Empty together when the old keys are classical (a migration from version 1).
    may_be_empty=frozenset(
        {"old-pq-age-recipient", "old-mldsa-signing-key", "old-mldsa-signature"}
    ),
    max_bytes=MAX_ROTATION_V2_BYTES,
)
_REVOCATION = _Layout(
    what="revocation statement",
    version_line=REVOCATION_VERSION_LINE,
    fields=("fingerprint", "age-recipient", "signing-key", "time", "reason", "signature"),
    may_be_empty=frozenset({"reason"}),
)
_REVOCATION_V2 = _Layout(
    what="revocation statement",
    version_line=REVOCATION_V2_VERSION_LINE,
    fields=(
        "fingerprint",
        "age-recipient",
        "pq-age-recipient",
        "signing-key",
        "mldsa-signing-key",
        "time",
        "reason",
        "signature",
        "mldsa-signature",
    ),
    may_be_empty=frozenset({"reason"}),
    max_bytes=MAX_REVOCATION_V2_BYTES,
)
_LAYOUTS = (_CARD, _CARD_V2, _ROTATION, _ROTATION_V2, _REVOCATION, _REVOCATION_V2)


def _layout_of(data: bytes, v1: _Layout, v2: _Layout) -> _Layout:
    """The layout a document's first line (compared as bytes) announces; v1 for anything
    that is not exactly v2's version line, so v1's messages report what is wrong."""
    if data.startswith(v2.version_line.encode("ascii") + b"\n"):
        return v2
    return v1


def _render(layout: _Layout, values: list[str]) -> bytes:
    """The text of ``values`` (some or all of ``layout.fields``, in order)."""
    lines = [layout.version_line]
    for key, value in zip(layout.fields, values, strict=False):
        lines.append(f"{key}: {value}" if value else f"{key}:")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _decode_text(data: bytes, what: str, max_bytes: int = MAX_V1_BYTES) -> str:
    if len(data) > max_bytes:
        raise FormatError(f"the {what} is larger than {max_bytes} bytes")
    if not data:
        raise FormatError(f"the {what} is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(f"the {what} is not valid UTF-8 text") from None
    if "\r" in text:
        raise FormatError(f"the {what} contains carriage returns (CR): lines must end with LF only")
    return text


def _version_problem(first_line: str, layout: _Layout) -> FormatError:
    for other in _LAYOUTS:
        if first_line == other.version_line and other.what != layout.what:
            return FormatError(f"this is a {other.what}, not a {layout.what}")
    stem = layout.version_line.rsplit(" ", 1)[0]
    if first_line.startswith(stem + " "):
        return FormatError(
            f"the {layout.what} has the unsupported version {_show(first_line[len(stem) + 1 :])}"
            f"; this program reads '{stem} v1' and '{stem} v2'",
            hint="a newer version of SecureSubmit may read it",
        )
    return FormatError(f"this is not a SecureSubmit {layout.what}")


def _read_fields(data: bytes, layout: _Layout) -> dict[str, str]:
    """Split a document into its field values, enforcing every rule of the line format."""
    what = layout.what
    text = _decode_text(data, what, layout.max_bytes)
    if not text.endswith("\n"):
        raise FormatError(f"the {what} does not end with a line break")
    lines = text[:-1].split("\n")
    if lines[0] != layout.version_line:
        raise _version_problem(lines[0], layout)
    values: dict[str, str] = {}
    for index, key in enumerate(layout.fields):
        number = index + 2  # line numbers count from 1, after the version line
        if number > len(lines):
            raise FormatError(f"the {what} ends before its '{key}' line (line {number})")
        line = lines[number - 1]
        if line != line.rstrip():
            raise FormatError(
                f"line {number} of the {what} ends with a space or another blank character"
            )
        found, colon, rest = line.partition(":")
        if not colon:
            raise FormatError(f"line {number} of the {what} is not a 'field: value' line")
        if found != key:
            if found in layout.fields[:index]:
                raise FormatError(f"line {number} of the {what} repeats the field '{found}'")
            if found in layout.fields:
                raise FormatError(
                    f"line {number} of the {what} has the field '{found}' where '{key}' "
                    "belongs: all fields must be present, in the fixed order"
                )
            raise FormatError(f"line {number} of the {what} has an unknown field {_show(found)}")
        if rest == "":
            if key not in layout.may_be_empty:
                raise FormatError(f"line {number} of the {what} has no value for '{key}'")
            values[key] = ""
        elif rest.startswith(" ") and not rest.startswith("  "):
            values[key] = rest[1:]
        else:
            raise FormatError(
                f"line {number} of the {what} must have exactly one space after '{key}:'"
            )
    if len(lines) > len(layout.fields) + 1:
        raise FormatError(
            f"the {what} has extra lines after its '{layout.fields[-1]}' line "
            f"(line {len(layout.fields) + 2} on)"
        )
    return values


def _check_canonical(rendered: bytes, data: bytes, what: str) -> None:
    # Every rule above is meant to leave one text per document; this makes that a check.
    if rendered != data:
        raise FormatError(f"the {what} is not in its canonical form")


def _check_fingerprint_line(value: str, keys: PublicKeys, what: str) -> None:
    if value != keys.display():
        raise FormatError(f"{what} does not match the keys beside it")


# --- identity cards ---------------------------------------------------------------------


def _card_values(
    name: str,
    organisation: str,
    role: Role,
    keys: PublicKeys,
    require_hybrid: bool,
    created: datetime,
    expires: datetime,
) -> list[str]:
    """The values of a card's signed lines, in order (§4 of the spec; §4.2 for v2)."""
    if keys.mldsa_public is None or keys.pq_recipient is None:
        return [
            name,
            organisation,
            role.value,
            keys.age_recipient,
            _encode_b64(keys.signing_public),
            _format_time(created),
            _format_time(expires),
        ]
    return [
        name,
        organisation,
        role.value,
        keys.age_recipient,
        keys.pq_recipient,
        _encode_b64(keys.signing_public),
        _encode_b64(keys.mldsa_public),
        "yes" if require_hybrid else "no",
        _format_time(created),
        _format_time(expires),
    ]


@dataclass(frozen=True)
class IdentityCard:
    """A user's public identity, self-signed. Constructing one checks every rule of the
    format and verifies the signatures, so an IdentityCard that exists is valid (but may
    be expired or revoked: see check_card_usable).

    A version 1 card is classical only. A version 2 card (``is_hybrid``) also carries an
    ML-DSA-65 signing key, a post-quantum age recipient and ``require_hybrid``, and is
    signed with both Ed25519 and ML-DSA-65."""

    name: str
    organisation: str
    role: Role
    encryption_public: bytes
    signing_public: bytes
    created: datetime
    expires: datetime
    signature: bytes
    mldsa_public: bytes | None = None
    pq_public: bytes | None = None
    require_hybrid: bool = False
    mldsa_signature: bytes | None = None

    def __post_init__(self) -> None:
        _check_text(self.name, MAX_NAME_CHARS, allow_empty=False, what="the card's name")
        _check_text(
            self.organisation,
            MAX_ORGANISATION_CHARS,
            allow_empty=True,
            what="the card's organisation",
        )
        if not isinstance(self.role, Role):
            raise TypeError("role must be a Role")
        hybrid_parts = (self.mldsa_public, self.pq_public, self.mldsa_signature)
        if any(part is None for part in hybrid_parts) and any(
            part is not None for part in hybrid_parts
        ):
            raise FormatError(
                "the card has some post-quantum parts but not all of them (ML-DSA-65 key, "
                "age1pq recipient, ML-DSA-65 signature)"
            )
        if self.require_hybrid and self.mldsa_public is None:
            raise FormatError("a classical-only card cannot require hybrid sealing")
        keys = self.keys
        _require_stored_time(self.created)
        _require_stored_time(self.expires)
        if self.expires <= self.created:
            raise FormatError(
                f"the card's expiry ({_format_time(self.expires)}) is not after its "
                f"creation time ({_format_time(self.created)})"
            )
        if self.expires - self.created > MAX_CARD_LIFETIME:
            raise FormatError(
                f"the card is valid for longer than the {MAX_CARD_LIFETIME.days} days allowed"
            )
        body = self.signed_text()
        try:
            crypto.verify(self.signing_public, CARD_SIGNATURE_LABEL, body, self.signature)
        except BadSignature:
            raise BadSignature(
                "the card's signature does not verify: it was altered or is not self-signed",
                hint="ask the partner to send the card again, and compare its fingerprint",
            ) from None
        if keys.mldsa_public is not None and self.mldsa_signature is not None:
            try:
                crypto.mldsa_verify(
                    keys.mldsa_public, CARD_SIGNATURE_LABEL, body, self.mldsa_signature
                )
            except BadSignature:
                raise BadSignature(
                    "the card's mldsa-signature does not verify: it was altered or is not "
                    "self-signed",
                    hint="ask the partner to send the card again, and compare its fingerprint",
                ) from None

    @property
    def is_hybrid(self) -> bool:
        """A version 2 card: post-quantum keys, signed with Ed25519 and ML-DSA-65."""
        return self.mldsa_public is not None

    @property
    def version(self) -> int:
        return 2 if self.is_hybrid else 1

    @property
    def _layout(self) -> _Layout:
        return _CARD_V2 if self.is_hybrid else _CARD

    def _values(self) -> list[str]:
        return _card_values(
            self.name,
            self.organisation,
            self.role,
            self.keys,
            self.require_hybrid,
            self.created,
            self.expires,
        )

    def signed_text(self) -> bytes:
        """The exact bytes the signatures cover: every line before the signature line."""
        return _render(self._layout, self._values())

    def to_text(self) -> bytes:
        signatures = [_encode_b64(self.signature)]
        if self.mldsa_signature is not None:
            signatures.append(_encode_b64(self.mldsa_signature))
        return _render(self._layout, [*self._values(), *signatures])

    @property
    def signatures(self) -> KeySetSignatures:
        return KeySetSignatures(self.signature, self.mldsa_signature)

    @property
    def keys(self) -> PublicKeys:
        return PublicKeys(
            self.signing_public, self.encryption_public, self.mldsa_public, self.pq_public
        )

    @property
    def fingerprint(self) -> bytes:
        return fingerprint(
            self.signing_public, self.encryption_public, self.mldsa_public, self.pq_public
        )

    @property
    def age_recipient(self) -> str:
        return crypto.age_recipient(self.encryption_public)

    @property
    def pq_recipient(self) -> str | None:
        """The post-quantum age recipient (``age1pq1…``) of a version 2 card, else None."""
        return None if self.pq_public is None else crypto.hybrid_age_recipient(self.pq_public)

    @property
    def protection(self) -> str:
        """``hybrid (ML-KEM-768 + X25519, ML-DSA-65 + Ed25519)`` or ``classical only``."""
        return HYBRID_PROTECTION if self.is_hybrid else CLASSICAL_PROTECTION


def make_card(
    signing_seed: bytes,
    encryption_public: bytes,
    name: str,
    organisation: str,
    role: Role | str,
    created: datetime,
    expires: datetime,
    *,
    mldsa_seed: bytes | None = None,
    pq_public: bytes | None = None,
    require_hybrid: bool = False,
) -> IdentityCard:
    """Make and self-sign the identity card of one's own keys.

    With ``mldsa_seed`` and ``pq_public`` (the MLKEM768-X25519 age public key) the card
    is version 2, hybrid, signed with both keys; ``require_hybrid`` then asks partners to
    seal to it only with the post-quantum recipient. Without them it is version 1.
    ``name`` and ``organisation`` are normalised to NFC; times to UTC whole seconds.
    Raises InputError naming the value that cannot go on a card.
    """
    if len(signing_seed) != crypto.KEY_SIZE:
        raise ValueError("signing_seed must be 32 bytes")
    if (mldsa_seed is None) != (pq_public is None):
        raise ValueError("a hybrid card needs both mldsa_seed and pq_public")
    if require_hybrid and mldsa_seed is None:
        raise InputError("only a card with post-quantum keys can require hybrid sealing")
    name = unicodedata.normalize("NFC", name)
    organisation = unicodedata.normalize("NFC", organisation)
    for label, value, limit, allow_empty in (
        ("name", name, MAX_NAME_CHARS, False),
        ("organisation", organisation, MAX_ORGANISATION_CHARS, True),
    ):
        problem = _text_problem(value, limit, allow_empty=allow_empty)
        if problem is not None:
            raise InputError(f"the {label} {problem}")
    try:
        card_role = Role(role)
    except ValueError:
        raise InputError("the role must be 'reporter' or 'coordinator'") from None
    created = _normalise_time(created)
    expires = _normalise_time(expires)
    if expires <= created:
        raise InputError("the card's expiry must be later than its creation time")
    if expires - created > MAX_CARD_LIFETIME:
        raise InputError(
            f"a card may be valid for at most {MAX_CARD_LIFETIME.days} days; "
            "choose an earlier expiry"
        )
    crypto.check_encryption_public_key(encryption_public)
    key_set = SigningKeySet(signing_seed, mldsa_seed)
    keys = PublicKeys(key_set.signing_public, encryption_public, key_set.mldsa_public, pq_public)
    values = _card_values(name, organisation, card_role, keys, require_hybrid, created, expires)
    layout = _CARD_V2 if keys.is_hybrid else _CARD
    signatures = sign_with_key_set(key_set, CARD_SIGNATURE_LABEL, _render(layout, values))
    return IdentityCard(
        name=name,
        organisation=organisation,
        role=card_role,
        encryption_public=encryption_public,
        signing_public=keys.signing_public,
        created=created,
        expires=expires,
        signature=signatures.ed25519,
        mldsa_public=keys.mldsa_public,
        pq_public=keys.pq_public,
        require_hybrid=require_hybrid,
        mldsa_signature=signatures.mldsa,
    )


def parse_card(data: bytes) -> IdentityCard:
    """Read an identity card (version 1 or 2) and verify its signatures; raises on
    anything wrong.

    This checks only the card itself: whether it is expired or revoked is for
    check_card_usable, and whether it is the partner's is for a person comparing
    the fingerprint (check_fingerprint).
    """
    layout = _layout_of(data, _CARD, _CARD_V2)
    values = _read_fields(data, layout)
    role = values["role"]
    if role not in (Role.REPORTER.value, Role.COORDINATOR.value):
        raise FormatError(
            f"the card's role is {_show(role)}; it must be 'reporter' or 'coordinator'"
        )
    encryption_public = _decode_recipient(values["age-recipient"], "the card's age-recipient")
    pq_public = mldsa_public = mldsa_signature = None
    require_hybrid = False
    if layout is _CARD_V2:
        pq_public = _decode_pq_recipient(values["pq-age-recipient"], "the card's pq-age-recipient")
    signing_public = _decode_signing_key(values["signing-key"], "the card's signing-key")
    if layout is _CARD_V2:
        mldsa_public = _decode_mldsa_key(
            values["mldsa-signing-key"], "the card's mldsa-signing-key"
        )
        require_hybrid = _decode_yes_no(values["require-hybrid"], "the card's require-hybrid")
    created = _decode_time(values["created"], "the card's creation time")
    expires = _decode_time(values["expires"], "the card's expiry time")
    signature = _decode_b64(values["signature"], crypto.SIGNATURE_SIZE, "the card's signature")
    if layout is _CARD_V2:
        mldsa_signature = _decode_b64(
            values["mldsa-signature"], crypto.MLDSA_SIGNATURE_SIZE, "the card's mldsa-signature"
        )
    card = IdentityCard(
        name=values["name"],
        organisation=values["organisation"],
        role=Role(role),
        encryption_public=encryption_public,
        signing_public=signing_public,
        created=created,
        expires=expires,
        signature=signature,
        mldsa_public=mldsa_public,
        pq_public=pq_public,
        require_hybrid=require_hybrid,
        mldsa_signature=mldsa_signature,
    )
    _check_canonical(card.to_text(), data, "card")
    return card


def check_card_usable(
    card: IdentityCard,
    now: datetime,
    revocations: Iterable[Statement] = (),
    *,
    clock_tolerance: timedelta = DEFAULT_CLOCK_TOLERANCE,
) -> None:
    """Raise unless ``card`` may be used at ``now``: not expired, not made in the future
    (beyond ``clock_tolerance``), and its key not revoked by any of ``revocations``
    (other statements among them are ignored)."""
    _require_aware(now)
    if now >= card.expires:
        raise CardExpired(
            f"the card of {card.name} expired on {_format_time(card.expires)}",
        )
    if now + clock_tolerance < card.created:
        raise CardNotYetValid(
            f"the card of {card.name} was made on {_format_time(card.created)}, "
            "which is in the future by this computer's clock",
        )
    check_not_revoked(card.fingerprint, now, revocations)


# --- statements -------------------------------------------------------------------------


def _keys_values(keys: PublicKeys, layout_v2: bool) -> list[str]:
    """A key set's lines: fingerprint, age recipient(s), signing key(s). In a version 2
    statement the post-quantum lines of a classical key set are empty."""
    if not layout_v2:
        return [keys.display(), keys.age_recipient, _encode_b64(keys.signing_public)]
    return [
        keys.display(),
        keys.age_recipient,
        keys.pq_recipient or "",
        _encode_b64(keys.signing_public),
        "" if keys.mldsa_public is None else _encode_b64(keys.mldsa_public),
    ]


def _rotation_values(old: PublicKeys, new: PublicKeys, time: datetime) -> list[str]:
    """The values of a rotation statement's signed lines, in order (§5 of the spec)."""
    v2 = new.is_hybrid
    return [*_keys_values(old, v2), *_keys_values(new, v2), _format_time(time)]


def _revocation_values(keys: PublicKeys, time: datetime, reason: str) -> list[str]:
    """The values of a revocation statement's signed lines, in order (§6 of the spec)."""
    return [*_keys_values(keys, keys.is_hybrid), _format_time(time), reason]


def _verify_statement_signatures(
    keys: PublicKeys,
    body: bytes,
    signature: bytes,
    mldsa_signature: bytes | None,
    what: str,
    field: str,
    by: str,
) -> None:
    """Check the Ed25519 and (for hybrid keys) ML-DSA-65 signature of a statement; the
    messages name the field that fails (``old-signature``, ``old-mldsa-signature``, …)."""
    try:
        crypto.verify(keys.signing_public, STATEMENT_SIGNATURE_LABEL, body, signature)
    except BadSignature:
        raise BadSignature(
            f"the {what}'s {field}signature does not verify: it was altered or not made by {by}"
        ) from None
    if keys.mldsa_public is not None and mldsa_signature is not None:
        try:
            crypto.mldsa_verify(keys.mldsa_public, STATEMENT_SIGNATURE_LABEL, body, mldsa_signature)
        except BadSignature:
            raise BadSignature(
                f"the {what}'s {field}mldsa-signature does not verify: it was altered or not "
                f"made by {by}"
            ) from None


def _check_signature_presence(keys: PublicKeys, mldsa_signature: bytes | None, what: str) -> None:
    if keys.is_hybrid and mldsa_signature is None:
        raise FormatError(f"the {what} has post-quantum keys but no ML-DSA-65 signature")
    if not keys.is_hybrid and mldsa_signature is not None:
        raise FormatError(f"the {what} has an ML-DSA-65 signature but no ML-DSA-65 key")


@dataclass(frozen=True)
class RotationStatement:
    """The old key set hands its identity to the new key set; both sign, so both consent.

    Version 1 rotates classical keys to classical keys. Version 2 rotates to a hybrid key
    set, from a classical one (how a version 1 identity migrates) or a hybrid one. Every
    key set signs with every signature algorithm it has. A rotation from hybrid keys to
    classical-only keys does not exist: it is refused as a downgrade."""

    old: PublicKeys
    new: PublicKeys
    time: datetime
    old_signature: bytes
    new_signature: bytes
    old_mldsa_signature: bytes | None = None
    new_mldsa_signature: bytes | None = None

    def __post_init__(self) -> None:
        _require_stored_time(self.time)
        what = "rotation statement"
        if self.old.is_hybrid and not self.new.is_hybrid:
            raise FormatError(
                "the rotation statement goes from post-quantum keys to classical-only keys; "
                "a downgrade is refused"
            )
        _check_signature_presence(self.old, self.old_mldsa_signature, f"{what}'s old key set")
        _check_signature_presence(self.new, self.new_mldsa_signature, f"{what}'s new key set")
        if self.old.signing_public == self.new.signing_public:
            raise FormatError("the rotation statement does not replace the signing key")
        if self.old.encryption_public == self.new.encryption_public:
            raise FormatError("the rotation statement does not replace the encryption key")
        if self.old.is_hybrid and self.old.mldsa_public == self.new.mldsa_public:
            raise FormatError("the rotation statement does not replace the ML-DSA-65 key")
        if self.old.is_hybrid and self.old.pq_public == self.new.pq_public:
            raise FormatError("the rotation statement does not replace the age1pq recipient")
        body = self.signed_text()
        _verify_statement_signatures(
            self.old,
            body,
            self.old_signature,
            self.old_mldsa_signature,
            what,
            "old-",
            "the old keys",
        )
        _verify_statement_signatures(
            self.new,
            body,
            self.new_signature,
            self.new_mldsa_signature,
            what,
            "new-",
            "the new keys",
        )

    @property
    def version(self) -> int:
        return 2 if self.new.is_hybrid else 1

    @property
    def _layout(self) -> _Layout:
        return _ROTATION_V2 if self.new.is_hybrid else _ROTATION

    def _values(self) -> list[str]:
        return _rotation_values(self.old, self.new, self.time)

    def signed_text(self) -> bytes:
        """The exact bytes all signatures cover: every line before the first signature."""
        return _render(self._layout, self._values())

    def to_text(self) -> bytes:
        if self._layout is _ROTATION:
            signatures = [_encode_b64(self.old_signature), _encode_b64(self.new_signature)]
        else:
            signatures = [
                _encode_b64(self.old_signature),
                "" if self.old_mldsa_signature is None else _encode_b64(self.old_mldsa_signature),
                _encode_b64(self.new_signature),
                "" if self.new_mldsa_signature is None else _encode_b64(self.new_mldsa_signature),
            ]
        return _render(self._layout, [*self._values(), *signatures])


@dataclass(frozen=True)
class RevocationStatement:
    """A key set declares that nothing it signs from ``time`` on is to be accepted.

    Version 1 revokes classical keys; version 2 revokes a hybrid key set and carries
    both its signatures."""

    keys: PublicKeys
    time: datetime
    reason: str
    signature: bytes
    mldsa_signature: bytes | None = None

    def __post_init__(self) -> None:
        _require_stored_time(self.time)
        _check_text(
            self.reason,
            MAX_REASON_CHARS,
            allow_empty=True,
            what="the revocation statement's reason",
        )
        _check_signature_presence(self.keys, self.mldsa_signature, "revocation statement")
        _verify_statement_signatures(
            self.keys,
            self.signed_text(),
            self.signature,
            self.mldsa_signature,
            "revocation statement",
            "",
            "the key it revokes",
        )

    @property
    def version(self) -> int:
        return 2 if self.keys.is_hybrid else 1

    @property
    def _layout(self) -> _Layout:
        return _REVOCATION_V2 if self.keys.is_hybrid else _REVOCATION

    def _values(self) -> list[str]:
        return _revocation_values(self.keys, self.time, self.reason)

    def signed_text(self) -> bytes:
        """The exact bytes the signatures cover: every line before the signature line."""
        return _render(self._layout, self._values())

    def to_text(self) -> bytes:
        signatures = [_encode_b64(self.signature)]
        if self.mldsa_signature is not None:
            signatures.append(_encode_b64(self.mldsa_signature))
        return _render(self._layout, [*self._values(), *signatures])


Statement = RotationStatement | RevocationStatement


def _public_keys_of(
    key_set: SigningKeySet, encryption_public: bytes, pq_public: bytes | None
) -> PublicKeys:
    if key_set.is_hybrid != (pq_public is not None):
        raise ValueError("a hybrid key set needs both an ML-DSA-65 seed and an age1pq key")
    return PublicKeys(key_set.signing_public, encryption_public, key_set.mldsa_public, pq_public)


def make_rotation(
    old_signing_seed: bytes,
    old_encryption_public: bytes,
    new_signing_seed: bytes,
    new_encryption_public: bytes,
    time: datetime,
    *,
    old_mldsa_seed: bytes | None = None,
    old_pq_public: bytes | None = None,
    new_mldsa_seed: bytes | None = None,
    new_pq_public: bytes | None = None,
) -> RotationStatement:
    """Hand the identity of the old keys over to the new keys, from ``time`` on.

    With ``new_mldsa_seed`` and ``new_pq_public`` the new key set is hybrid and the
    statement is version 2; that is also how a classical identity migrates. Each key set
    signs with all its keys."""
    old_keys = SigningKeySet(old_signing_seed, old_mldsa_seed)
    new_keys = SigningKeySet(new_signing_seed, new_mldsa_seed)
    old = _public_keys_of(old_keys, old_encryption_public, old_pq_public)
    new = _public_keys_of(new_keys, new_encryption_public, new_pq_public)
    time = _normalise_time(time)
    if old.signing_public == new.signing_public or old.encryption_public == new.encryption_public:
        raise InputError("a rotation must replace both the signing and the encryption key")
    if old.is_hybrid and not new.is_hybrid:
        raise InputError("a rotation cannot go from post-quantum keys back to classical keys")
    if old.is_hybrid and (old.mldsa_public == new.mldsa_public or old.pq_public == new.pq_public):
        raise InputError("a rotation must replace the post-quantum keys too")
    body = _render(_ROTATION_V2 if new.is_hybrid else _ROTATION, _rotation_values(old, new, time))
    old_signatures = sign_with_key_set(old_keys, STATEMENT_SIGNATURE_LABEL, body)
    new_signatures = sign_with_key_set(new_keys, STATEMENT_SIGNATURE_LABEL, body)
    return RotationStatement(
        old=old,
        new=new,
        time=time,
        old_signature=old_signatures.ed25519,
        new_signature=new_signatures.ed25519,
        old_mldsa_signature=old_signatures.mldsa,
        new_mldsa_signature=new_signatures.mldsa,
    )


def make_revocation(
    signing_seed: bytes,
    encryption_public: bytes,
    time: datetime,
    reason: str = "",
    *,
    mldsa_seed: bytes | None = None,
    pq_public: bytes | None = None,
) -> RevocationStatement:
    """Revoke one's own keys from ``time`` on. It can be made in advance and kept offline:
    once published, everything the key set signed from ``time`` on is refused. A hybrid
    key set (``mldsa_seed`` and ``pq_public``) makes a version 2 revocation."""
    key_set = SigningKeySet(signing_seed, mldsa_seed)
    keys = _public_keys_of(key_set, encryption_public, pq_public)
    reason = unicodedata.normalize("NFC", reason)
    problem = _text_problem(reason, MAX_REASON_CHARS, allow_empty=True)
    if problem is not None:
        raise InputError(f"the reason {problem}")
    time = _normalise_time(time)
    layout = _REVOCATION_V2 if keys.is_hybrid else _REVOCATION
    body = _render(layout, _revocation_values(keys, time, reason))
    signatures = sign_with_key_set(key_set, STATEMENT_SIGNATURE_LABEL, body)
    return RevocationStatement(
        keys=keys,
        time=time,
        reason=reason,
        signature=signatures.ed25519,
        mldsa_signature=signatures.mldsa,
    )


def _parse_keys(values: dict[str, str], prefix: str, what: str, layout_v2: bool) -> PublicKeys:
    """A key set's lines, checked in the order of §9: signing key(s), then age
    recipient(s), then the fingerprint line. In a version 2 statement the post-quantum
    lines of the old keys may be empty together (a classical key set)."""
    name = f"the {what}'s {prefix}"
    signing_public = _decode_signing_key(values[prefix + "signing-key"], name + "signing-key")
    mldsa_public = pq_public = None
    if layout_v2:
        mldsa_text = values[prefix + "mldsa-signing-key"]
        pq_text = values[prefix + "pq-age-recipient"]
        if bool(mldsa_text) != bool(pq_text):
            raise FormatError(
                f"{name}mldsa-signing-key and {name}pq-age-recipient must both be present "
                "or both be empty"
            )
        if mldsa_text:
            mldsa_public = _decode_mldsa_key(mldsa_text, name + "mldsa-signing-key")
    encryption_public = _decode_recipient(values[prefix + "age-recipient"], name + "age-recipient")
    if layout_v2 and values[prefix + "pq-age-recipient"]:
        pq_public = _decode_pq_recipient(
            values[prefix + "pq-age-recipient"], name + "pq-age-recipient"
        )
    keys = PublicKeys(signing_public, encryption_public, mldsa_public, pq_public)
    _check_fingerprint_line(values[prefix + "fingerprint"], keys, name + "fingerprint")
    return keys


def _optional_signature(value: str, what: str) -> bytes | None:
    if not value:
        return None
    return _decode_b64(value, crypto.MLDSA_SIGNATURE_SIZE, what)


def _parse_rotation(data: bytes) -> RotationStatement:
    what = _ROTATION.what
    layout = _layout_of(data, _ROTATION, _ROTATION_V2)
    v2 = layout is _ROTATION_V2
    values = _read_fields(data, layout)
    old = _parse_keys(values, "old-", what, v2)
    new = _parse_keys(values, "new-", what, v2)
    if v2 and not new.is_hybrid:
        raise FormatError(
            f"the {what}'s new keys have no post-quantum keys; a version 2 rotation leads "
            "to a hybrid key set"
        )
    time = _decode_time(values["time"], f"the {what}'s time")
    old_signature = _decode_b64(
        values["old-signature"], crypto.SIGNATURE_SIZE, f"the {what}'s old-signature"
    )
    old_mldsa = new_mldsa = None
    if v2:
        old_mldsa = _optional_signature(
            values["old-mldsa-signature"], f"the {what}'s old-mldsa-signature"
        )
    new_signature = _decode_b64(
        values["new-signature"], crypto.SIGNATURE_SIZE, f"the {what}'s new-signature"
    )
    if v2:
        new_mldsa = _decode_b64(
            values["new-mldsa-signature"],
            crypto.MLDSA_SIGNATURE_SIZE,
            f"the {what}'s new-mldsa-signature",
        )
    statement = RotationStatement(
        old=old,
        new=new,
        time=time,
        old_signature=old_signature,
        new_signature=new_signature,
        old_mldsa_signature=old_mldsa,
        new_mldsa_signature=new_mldsa,
    )
    _check_canonical(statement.to_text(), data, what)
    return statement


def _parse_revocation(data: bytes) -> RevocationStatement:
    what = _REVOCATION.what
    layout = _layout_of(data, _REVOCATION, _REVOCATION_V2)
    v2 = layout is _REVOCATION_V2
    values = _read_fields(data, layout)
    keys = _parse_keys(values, "", what, v2)
    if v2 and not keys.is_hybrid:  # pragma: no cover - _read_fields refuses empty lines
        raise FormatError(f"the {what} has no post-quantum keys")
    statement = RevocationStatement(
        keys=keys,
        time=_decode_time(values["time"], f"the {what}'s time"),
        reason=values["reason"],
        signature=_decode_b64(
            values["signature"], crypto.SIGNATURE_SIZE, f"the {what}'s signature"
        ),
        mldsa_signature=(
            _decode_b64(
                values["mldsa-signature"],
                crypto.MLDSA_SIGNATURE_SIZE,
                f"the {what}'s mldsa-signature",
            )
            if v2
            else None
        ),
    )
    _check_canonical(statement.to_text(), data, what)
    return statement


def parse_statement(data: bytes) -> Statement:
    """Read a rotation or revocation statement (version 1 or 2) and verify its
    signatures."""
    first_line = data[: len(REVOCATION_VERSION_LINE) + 1]
    for line in (ROTATION_VERSION_LINE, ROTATION_V2_VERSION_LINE):
        if first_line.startswith(line.encode("ascii") + b"\n"):
            return _parse_rotation(data)
    for line in (REVOCATION_VERSION_LINE, REVOCATION_V2_VERSION_LINE):
        if first_line.startswith(line.encode("ascii") + b"\n"):
            return _parse_revocation(data)
    text = _decode_text(data, "statement")
    head = text.split("\n", 1)[0]
    for layout in (_ROTATION, _REVOCATION):
        if head.startswith(layout.version_line.rsplit(" ", 1)[0] + " "):
            raise _version_problem(head, layout)
    if head in (CARD_VERSION_LINE, CARD_V2_VERSION_LINE):
        raise FormatError("this is an identity card, not a statement")
    raise FormatError("this is not a SecureSubmit rotation or revocation statement")


@dataclass(frozen=True)
class KeyPeriod:
    """The keys that spoke for an identity from ``valid_from`` until ``valid_until``
    (None: still current)."""

    keys: PublicKeys
    valid_from: datetime
    valid_until: datetime | None


@dataclass(frozen=True)
class KeyHistory:
    """Where a chain of rotations leads, and which keys held the identity when."""

    periods: tuple[KeyPeriod, ...]

    @property
    def current(self) -> PublicKeys:
        return self.periods[-1].keys

    @property
    def fingerprint(self) -> bytes:
        return self.current.fingerprint

    def period_of(self, fp: bytes) -> KeyPeriod | None:
        """The period in which the keys with fingerprint ``fp`` held the identity."""
        for period in self.periods:
            if period.keys.fingerprint == fp:
                return period
        return None


def follow_rotations(card: IdentityCard, statements: Iterable[Statement]) -> KeyHistory:
    """Apply the rotation statements among ``statements``, in their order, to ``card``.

    Raises BrokenRotationChain when a rotation is not made by the keys current at that
    point, when its time is not after the previous step, when it returns to an earlier
    key, or when a key that was already rotated away is rotated again (two rotations
    from one key: someone else may hold it). Raises KeyRevoked when a rotation was
    made by a key revoked (by a revocation among ``statements``) at or before its time.
    """
    statements = list(statements)
    rotations = [s for s in statements if isinstance(s, RotationStatement)]
    current = card.keys
    since = card.created
    periods: list[KeyPeriod] = []
    earlier: set[bytes] = {current.fingerprint}
    earlier_signing: set[bytes] = {current.signing_public}
    earlier_mldsa: set[bytes] = set() if current.mldsa_public is None else {current.mldsa_public}
    for number, rotation in enumerate(rotations, 1):
        old = rotation.old
        if old.fingerprint != current.fingerprint and old.fingerprint in earlier:
            raise BrokenRotationChain(
                f"rotation {number} replaces the key {old.display()} again, which an earlier "
                "rotation already replaced: two different rotations of one key mean someone "
                "else may hold it"
            )
        if old.signing_public != current.signing_public:
            raise BrokenRotationChain(
                f"rotation {number} is not signed by the current key {current.display()}"
            )
        if old.fingerprint != current.fingerprint:
            raise BrokenRotationChain(
                f"rotation {number} names the old fingerprint {old.display()}, but the "
                f"current key's fingerprint is {current.display()}"
            )
        if rotation.time <= since:
            raise BrokenRotationChain(
                f"rotation {number} is dated {_format_time(rotation.time)}, not after "
                f"{_format_time(since)} when the key it replaces took over: time goes backwards"
            )
        if number == 1 and rotation.time >= card.expires:
            raise BrokenRotationChain(
                f"rotation 1 is dated {_format_time(rotation.time)}, after the card expired "
                f"on {_format_time(card.expires)}"
            )
        revocation = _earliest_revocation(old.fingerprint, rotation.time, statements)
        if revocation is not None:
            raise KeyRevoked(
                f"rotation {number} was made on {_format_time(rotation.time)} by the key "
                f"{old.display()}, which its owner had revoked on "
                f"{_format_time(revocation.time)}"
            )
        new = rotation.new
        if (
            new.fingerprint in earlier
            or new.signing_public in earlier_signing
            or (new.mldsa_public is not None and new.mldsa_public in earlier_mldsa)
        ):
            raise BrokenRotationChain(
                f"rotation {number} goes back to an earlier key {new.display()}"
            )
        periods.append(KeyPeriod(current, since, rotation.time))
        earlier.add(new.fingerprint)
        earlier_signing.add(new.signing_public)
        if new.mldsa_public is not None:
            earlier_mldsa.add(new.mldsa_public)
        current, since = new, rotation.time
    periods.append(KeyPeriod(current, since, None))
    return KeyHistory(tuple(periods))


def check_rotated_card(
    card: IdentityCard, statements: Iterable[Statement], new_card: IdentityCard
) -> KeyHistory:
    """Raise unless ``new_card`` carries the keys that ``statements`` rotate ``card`` to.

    This is how a partner accepts a renewed card without a new fingerprint check: the
    chain from the card they checked vouches for it. Name and role may have changed;
    show them to the user.
    """
    history = follow_rotations(card, statements)
    if new_card.fingerprint != history.fingerprint:
        raise BrokenRotationChain(
            f"the new card's keys ({format_fingerprint(new_card.fingerprint)}) are not the "
            f"keys the rotations lead to ({history.current.display()})"
        )
    return history


def _earliest_revocation(
    fp: bytes, at_time: datetime, statements: Iterable[Statement]
) -> RevocationStatement | None:
    earliest: RevocationStatement | None = None
    for statement in statements:
        if (
            isinstance(statement, RevocationStatement)
            and statement.keys.fingerprint == fp
            and statement.time <= at_time
            and (earliest is None or statement.time < earliest.time)
        ):
            earliest = statement
    return earliest


def check_not_revoked(fp: bytes, at_time: datetime, statements: Iterable[Statement]) -> None:
    """Raise KeyRevoked if a revocation among ``statements`` revokes the keys with
    fingerprint ``fp`` at or before ``at_time`` (other statements are ignored).

    Pass the time you know something happened (for example when a bundle was
    received), rather than a time the signer claims, when you have it: a thief of
    the key can date what they sign before the revocation.
    """
    _require_fingerprint(fp)
    _require_aware(at_time)
    revocation = _earliest_revocation(fp, at_time, statements)
    if revocation is not None:
        reason = f" (reason: {revocation.reason})" if revocation.reason else ""
        raise KeyRevoked(
            f"the key {format_fingerprint(fp)} was revoked by its owner on "
            f"{_format_time(revocation.time)}{reason}; nothing it signed from then on is accepted"
        )
