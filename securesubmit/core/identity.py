"""Identity cards, key statements and fingerprints (format version 1).

This module owns the text formats specified in docs/spec/identity-card.md:

* the **identity card**, the public half of a user's keys that partners exchange,
  self-signed by its Ed25519 key;
* the **rotation statement**, by which a key hands its identity over to a new key
  (signed by both the old and the new key);
* the **revocation statement**, by which a key declares itself dead from a given time on;
* the **fingerprint** of a pair of keys, and the form people read aloud to compare it.

It is pure: no files, no storage, no clock. Every time is passed in as an aware UTC
``datetime``. Every object of this module carries a verified signature: the
constructors check it, so an ``IdentityCard`` that exists is a well-formed, self-signed
card. Checks raise a ``SecureSubmitError`` subclass with a message for the user; none
returns a boolean.
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

CARD_SIGNATURE_LABEL = "card"
STATEMENT_SIGNATURE_LABEL = "statement"
FINGERPRINT_LABEL = b"securesubmit/v1/fingerprint\x00"

MAX_TEXT_BYTES = 4096
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


def fingerprint(signing_public: bytes, encryption_public: bytes) -> bytes:
    """The 32-byte fingerprint of a pair of public keys (Ed25519, X25519)."""
    if len(signing_public) != crypto.PUBLIC_KEY_SIZE:
        raise ValueError("signing_public must be 32 bytes")
    if len(encryption_public) != crypto.PUBLIC_KEY_SIZE:
        raise ValueError("encryption_public must be 32 bytes")
    return crypto.sha256(FINGERPRINT_LABEL + signing_public + encryption_public)


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


@dataclass(frozen=True)
class PublicKeys:
    """A user's two public keys: Ed25519 for signing, X25519 (age) for encryption."""

    signing_public: bytes
    encryption_public: bytes

    def __post_init__(self) -> None:
        crypto.check_signing_public_key(self.signing_public)
        crypto.check_encryption_public_key(self.encryption_public)

    @property
    def fingerprint(self) -> bytes:
        return fingerprint(self.signing_public, self.encryption_public)

    @property
    def age_recipient(self) -> str:
        return crypto.age_recipient(self.encryption_public)

    def display(self) -> str:
        return format_fingerprint(self.fingerprint)


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


# --- the shared line format -------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    what: str  # how messages name the document: "card", "rotation statement", ...
    version_line: str
    fields: tuple[str, ...]  # every field, in order; the signature fields come last
    may_be_empty: frozenset[str] = frozenset()


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
_REVOCATION = _Layout(
    what="revocation statement",
    version_line=REVOCATION_VERSION_LINE,
    fields=("fingerprint", "age-recipient", "signing-key", "time", "reason", "signature"),
    may_be_empty=frozenset({"reason"}),
)
_LAYOUTS = (_CARD, _ROTATION, _REVOCATION)


def _render(layout: _Layout, values: list[str]) -> bytes:
    """The text of ``values`` (some or all of ``layout.fields``, in order)."""
    lines = [layout.version_line]
    for key, value in zip(layout.fields, values, strict=False):
        lines.append(f"{key}: {value}" if value else f"{key}:")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _decode_text(data: bytes, what: str) -> str:
    if len(data) > MAX_TEXT_BYTES:
        raise FormatError(f"the {what} is larger than {MAX_TEXT_BYTES} bytes")
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
        if first_line == other.version_line:
            return FormatError(f"this is a {other.what}, not a {layout.what}")
    stem = layout.version_line.rsplit(" ", 1)[0]
    if first_line.startswith(stem + " "):
        return FormatError(
            f"the {layout.what} has the unsupported version {_show(first_line[len(stem) + 1 :])}"
            f"; this program reads '{layout.version_line}'",
            hint="a newer version of SecureSubmit may read it",
        )
    return FormatError(f"this is not a SecureSubmit {layout.what}")


def _read_fields(data: bytes, layout: _Layout) -> dict[str, str]:
    """Split a document into its field values, enforcing every rule of the line format."""
    what = layout.what
    text = _decode_text(data, what)
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
    encryption_public: bytes,
    signing_public: bytes,
    created: datetime,
    expires: datetime,
) -> list[str]:
    """The values of a card's signed lines, in order (§4 of the spec)."""
    return [
        name,
        organisation,
        role.value,
        crypto.age_recipient(encryption_public),
        _encode_b64(signing_public),
        _format_time(created),
        _format_time(expires),
    ]


@dataclass(frozen=True)
class IdentityCard:
    """A user's public identity, self-signed. Constructing one checks every rule of the
    format and verifies the signature, so an IdentityCard that exists is valid (but may
    be expired or revoked: see check_card_usable)."""

    name: str
    organisation: str
    role: Role
    encryption_public: bytes
    signing_public: bytes
    created: datetime
    expires: datetime
    signature: bytes

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
        PublicKeys(self.signing_public, self.encryption_public)
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
        try:
            crypto.verify(
                self.signing_public, CARD_SIGNATURE_LABEL, self.signed_text(), self.signature
            )
        except BadSignature:
            raise BadSignature(
                "the card's signature does not verify: it was altered or is not self-signed",
                hint="ask the partner to send the card again, and compare its fingerprint",
            ) from None

    def _values(self) -> list[str]:
        return _card_values(
            self.name,
            self.organisation,
            self.role,
            self.encryption_public,
            self.signing_public,
            self.created,
            self.expires,
        )

    def signed_text(self) -> bytes:
        """The exact bytes the signature covers: every line before the signature line."""
        return _render(_CARD, self._values())

    def to_text(self) -> bytes:
        return _render(_CARD, [*self._values(), _encode_b64(self.signature)])

    @property
    def keys(self) -> PublicKeys:
        return PublicKeys(self.signing_public, self.encryption_public)

    @property
    def fingerprint(self) -> bytes:
        return fingerprint(self.signing_public, self.encryption_public)

    @property
    def age_recipient(self) -> str:
        return crypto.age_recipient(self.encryption_public)


def make_card(
    signing_seed: bytes,
    encryption_public: bytes,
    name: str,
    organisation: str,
    role: Role | str,
    created: datetime,
    expires: datetime,
) -> IdentityCard:
    """Make and self-sign the identity card of one's own keys.

    ``name`` and ``organisation`` are normalised to NFC; times to UTC whole seconds.
    Raises InputError naming the value that cannot go on a card.
    """
    if len(signing_seed) != crypto.KEY_SIZE:
        raise ValueError("signing_seed must be 32 bytes")
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
    signing_public = crypto.signing_public_key(signing_seed)
    values = _card_values(
        name, organisation, card_role, encryption_public, signing_public, created, expires
    )
    signature = crypto.sign(signing_seed, CARD_SIGNATURE_LABEL, _render(_CARD, values))
    return IdentityCard(
        name=name,
        organisation=organisation,
        role=card_role,
        encryption_public=encryption_public,
        signing_public=signing_public,
        created=created,
        expires=expires,
        signature=signature,
    )


def parse_card(data: bytes) -> IdentityCard:
    """Read an identity card and verify its self-signature; raises on anything wrong.

    This checks only the card itself: whether it is expired or revoked is for
    check_card_usable, and whether it is the partner's is for a person comparing
    the fingerprint (check_fingerprint).
    """
    values = _read_fields(data, _CARD)
    role = values["role"]
    if role not in (Role.REPORTER.value, Role.COORDINATOR.value):
        raise FormatError(
            f"the card's role is {_show(role)}; it must be 'reporter' or 'coordinator'"
        )
    card = IdentityCard(
        name=values["name"],
        organisation=values["organisation"],
        role=Role(role),
        encryption_public=_decode_recipient(values["age-recipient"], "the card's age-recipient"),
        signing_public=_decode_signing_key(values["signing-key"], "the card's signing-key"),
        created=_decode_time(values["created"], "the card's creation time"),
        expires=_decode_time(values["expires"], "the card's expiry time"),
        signature=_decode_b64(values["signature"], crypto.SIGNATURE_SIZE, "the card's signature"),
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


def _keys_values(keys: PublicKeys) -> list[str]:
    return [keys.display(), keys.age_recipient, _encode_b64(keys.signing_public)]


def _rotation_values(old: PublicKeys, new: PublicKeys, time: datetime) -> list[str]:
    """The values of a rotation statement's signed lines, in order (§5 of the spec)."""
    return [*_keys_values(old), *_keys_values(new), _format_time(time)]


def _revocation_values(keys: PublicKeys, time: datetime, reason: str) -> list[str]:
    """The values of a revocation statement's signed lines, in order (§6 of the spec)."""
    return [*_keys_values(keys), _format_time(time), reason]


@dataclass(frozen=True)
class RotationStatement:
    """The old key hands its identity to the new key; both sign, so both consent."""

    old: PublicKeys
    new: PublicKeys
    time: datetime
    old_signature: bytes
    new_signature: bytes

    def __post_init__(self) -> None:
        _require_stored_time(self.time)
        if self.old.signing_public == self.new.signing_public:
            raise FormatError("the rotation statement does not replace the signing key")
        if self.old.encryption_public == self.new.encryption_public:
            raise FormatError("the rotation statement does not replace the encryption key")
        body = self.signed_text()
        try:
            crypto.verify(
                self.old.signing_public, STATEMENT_SIGNATURE_LABEL, body, self.old_signature
            )
        except BadSignature:
            raise BadSignature(
                "the rotation statement's old-signature does not verify: "
                "it was altered or not made by the old key"
            ) from None
        try:
            crypto.verify(
                self.new.signing_public, STATEMENT_SIGNATURE_LABEL, body, self.new_signature
            )
        except BadSignature:
            raise BadSignature(
                "the rotation statement's new-signature does not verify: "
                "it was altered or not made by the new key"
            ) from None

    def _values(self) -> list[str]:
        return _rotation_values(self.old, self.new, self.time)

    def signed_text(self) -> bytes:
        """The exact bytes both signatures cover: every line before the first signature."""
        return _render(_ROTATION, self._values())

    def to_text(self) -> bytes:
        return _render(
            _ROTATION,
            [*self._values(), _encode_b64(self.old_signature), _encode_b64(self.new_signature)],
        )


@dataclass(frozen=True)
class RevocationStatement:
    """A key declares that nothing it signs from ``time`` on is to be accepted."""

    keys: PublicKeys
    time: datetime
    reason: str
    signature: bytes

    def __post_init__(self) -> None:
        _require_stored_time(self.time)
        _check_text(
            self.reason,
            MAX_REASON_CHARS,
            allow_empty=True,
            what="the revocation statement's reason",
        )
        try:
            crypto.verify(
                self.keys.signing_public,
                STATEMENT_SIGNATURE_LABEL,
                self.signed_text(),
                self.signature,
            )
        except BadSignature:
            raise BadSignature(
                "the revocation statement's signature does not verify: "
                "it was altered or not made by the key it revokes"
            ) from None

    def _values(self) -> list[str]:
        return _revocation_values(self.keys, self.time, self.reason)

    def signed_text(self) -> bytes:
        """The exact bytes the signature covers: every line before the signature line."""
        return _render(_REVOCATION, self._values())

    def to_text(self) -> bytes:
        return _render(_REVOCATION, [*self._values(), _encode_b64(self.signature)])


Statement = RotationStatement | RevocationStatement


def make_rotation(
    old_signing_seed: bytes,
    old_encryption_public: bytes,
    new_signing_seed: bytes,
    new_encryption_public: bytes,
    time: datetime,
) -> RotationStatement:
    """Hand the identity of the old keys over to the new keys, from ``time`` on."""
    old = PublicKeys(crypto.signing_public_key(old_signing_seed), old_encryption_public)
    new = PublicKeys(crypto.signing_public_key(new_signing_seed), new_encryption_public)
    time = _normalise_time(time)
    if old.signing_public == new.signing_public or old.encryption_public == new.encryption_public:
        raise InputError("a rotation must replace both the signing and the encryption key")
    body = _render(_ROTATION, _rotation_values(old, new, time))
    return RotationStatement(
        old=old,
        new=new,
        time=time,
        old_signature=crypto.sign(old_signing_seed, STATEMENT_SIGNATURE_LABEL, body),
        new_signature=crypto.sign(new_signing_seed, STATEMENT_SIGNATURE_LABEL, body),
    )


def make_revocation(
    signing_seed: bytes, encryption_public: bytes, time: datetime, reason: str = ""
) -> RevocationStatement:
    """Revoke one's own keys from ``time`` on. It can be made in advance and kept offline:
    once published, everything the key signed from ``time`` on is refused."""
    keys = PublicKeys(crypto.signing_public_key(signing_seed), encryption_public)
    reason = unicodedata.normalize("NFC", reason)
    problem = _text_problem(reason, MAX_REASON_CHARS, allow_empty=True)
    if problem is not None:
        raise InputError(f"the reason {problem}")
    time = _normalise_time(time)
    body = _render(_REVOCATION, _revocation_values(keys, time, reason))
    signature = crypto.sign(signing_seed, STATEMENT_SIGNATURE_LABEL, body)
    return RevocationStatement(keys=keys, time=time, reason=reason, signature=signature)


def _parse_keys(values: dict[str, str], prefix: str, what: str) -> PublicKeys:
    keys = PublicKeys(
        signing_public=_decode_signing_key(
            values[prefix + "signing-key"], f"the {what}'s {prefix}signing-key"
        ),
        encryption_public=_decode_recipient(
            values[prefix + "age-recipient"], f"the {what}'s {prefix}age-recipient"
        ),
    )
    _check_fingerprint_line(
        values[prefix + "fingerprint"], keys, f"the {what}'s {prefix}fingerprint"
    )
    return keys


def _parse_rotation(data: bytes) -> RotationStatement:
    what = _ROTATION.what
    values = _read_fields(data, _ROTATION)
    statement = RotationStatement(
        old=_parse_keys(values, "old-", what),
        new=_parse_keys(values, "new-", what),
        time=_decode_time(values["time"], f"the {what}'s time"),
        old_signature=_decode_b64(
            values["old-signature"], crypto.SIGNATURE_SIZE, f"the {what}'s old-signature"
        ),
        new_signature=_decode_b64(
            values["new-signature"], crypto.SIGNATURE_SIZE, f"the {what}'s new-signature"
        ),
    )
    _check_canonical(statement.to_text(), data, what)
    return statement


def _parse_revocation(data: bytes) -> RevocationStatement:
    what = _REVOCATION.what
    values = _read_fields(data, _REVOCATION)
    statement = RevocationStatement(
        keys=_parse_keys(values, "", what),
        time=_decode_time(values["time"], f"the {what}'s time"),
        reason=values["reason"],
        signature=_decode_b64(
            values["signature"], crypto.SIGNATURE_SIZE, f"the {what}'s signature"
        ),
    )
    _check_canonical(statement.to_text(), data, what)
    return statement


def parse_statement(data: bytes) -> Statement:
    """Read a rotation or revocation statement and verify its signatures."""
    first_line = data[: len(REVOCATION_VERSION_LINE) + 1]
    if first_line.startswith(ROTATION_VERSION_LINE.encode("ascii") + b"\n"):
        return _parse_rotation(data)
    if first_line.startswith(REVOCATION_VERSION_LINE.encode("ascii") + b"\n"):
        return _parse_revocation(data)
    text = _decode_text(data, "statement")
    head = text.split("\n", 1)[0]
    for layout in (_ROTATION, _REVOCATION):
        if head.startswith(layout.version_line.rsplit(" ", 1)[0] + " "):
            raise _version_problem(head, layout)
    if head == CARD_VERSION_LINE:
        raise FormatError("this is an identity card, not a statement")
    raise FormatError("this is not a SecureSubmit rotation or revocation statement")


# --- following rotations and revocations ----------------------------------------------------


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
        if new.fingerprint in earlier or new.signing_public in earlier_signing:
            raise BrokenRotationChain(
                f"rotation {number} goes back to an earlier key {new.display()}"
            )
        periods.append(KeyPeriod(current, since, rotation.time))
        earlier.add(new.fingerprint)
        earlier_signing.add(new.signing_public)
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
