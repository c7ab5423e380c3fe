"""Identity cards, rotation and revocation statements, fingerprints (core/identity.py).

The vectors in tests/vectors/identity/ are the spec's examples; docs/spec/identity-card.md
says what each rule is for.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securesubmit import errors
from securesubmit.core import crypto, identity
from securesubmit.core.identity import (
    BrokenRotationChain,
    CardExpired,
    CardNotYetValid,
    FingerprintMismatch,
    IdentityCard,
    KeyRevoked,
    RevocationStatement,
    Role,
    RotationStatement,
)
from securesubmit.errors import (
    BadSignature,
    InputError,
    SecureSubmitError,
    WeakKey,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors" / "identity"
SPEC = ROOT / "docs" / "spec" / "identity-card.md"
DESCRIPTION = json.loads((VECTORS / "vectors.json").read_text(encoding="utf-8"))
CARD_TEXT = (VECTORS / "card.txt").read_bytes()
ROTATION_TEXT = (VECTORS / "rotation.txt").read_bytes()
REVOCATION_TEXT = (VECTORS / "revocation.txt").read_bytes()


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "identity_vectors_generate", VECTORS / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _load_generator()


def _keys(name: str) -> tuple[bytes, bytes]:
    """(signing seed, X25519 public key) of a TEST-ONLY key from vectors.json."""
    entry = DESCRIPTION["keys"][name]
    return bytes.fromhex(entry["signing_seed_hex"]), bytes.fromhex(entry["encryption_public_hex"])


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


SEED_A, ENC_A = _keys("A")
SEED_B, ENC_B = _keys("B")
SEED_C, ENC_C = _keys("C")
SEED_D, ENC_D = b"\x07" * 32, crypto.encryption_public_key(b"\x08" * 32)
CREATED = _time(DESCRIPTION["card"]["created"])
EXPIRES = _time(DESCRIPTION["card"]["expires"])
FP_A_DISPLAY = DESCRIPTION["keys"]["A"]["fingerprint_display"]
FP_B_DISPLAY = DESCRIPTION["keys"]["B"]["fingerprint_display"]


def _card(seed: bytes = SEED_A, enc: bytes = ENC_A, **overrides: object) -> IdentityCard:
    arguments: dict[str, object] = {
        "name": DESCRIPTION["card"]["name"],
        "organisation": DESCRIPTION["card"]["organisation"],
        "role": "reporter",
        "created": CREATED,
        "expires": EXPIRES,
    }
    arguments.update(overrides)
    return identity.make_card(seed, enc, **arguments)  # type: ignore[arg-type]


def _at(days: float) -> datetime:
    return CREATED + timedelta(days=days)


# --- vectors ----------------------------------------------------------------------------


def test_vector_keys_derive_to_their_published_public_values() -> None:
    for entry in DESCRIPTION["keys"].values():
        seed = bytes.fromhex(entry["signing_seed_hex"])
        secret = bytes.fromhex(entry["x25519_secret_hex"])
        sign_pub = crypto.signing_public_key(seed)
        enc_pub = crypto.encryption_public_key(secret)
        assert sign_pub.hex() == entry["signing_public_hex"]
        assert enc_pub.hex() == entry["encryption_public_hex"]
        assert crypto.age_recipient(enc_pub) == entry["age_recipient"]
        fp = identity.fingerprint(sign_pub, enc_pub)
        assert fp.hex() == entry["fingerprint_hex"]
        assert identity.format_fingerprint(fp) == entry["fingerprint_display"]
        assert identity.short_id(fp) == entry["short_id"]


def test_fingerprint_is_sha256_of_label_and_both_keys() -> None:
    sign_pub = crypto.signing_public_key(SEED_A)
    expected = crypto.sha256(b"securesubmit/v1/fingerprint\x00" + sign_pub + ENC_A)
    assert identity.fingerprint(sign_pub, ENC_A) == expected
    assert identity.fingerprint(sign_pub, ENC_B) != expected


def test_vector_card_parses_to_its_published_fields() -> None:
    card = identity.parse_card(CARD_TEXT)
    expected = DESCRIPTION["card"]
    assert card.name == expected["name"]
    assert card.organisation == expected["organisation"]
    assert card.role is Role.REPORTER
    assert card.age_recipient == DESCRIPTION["keys"]["A"]["age_recipient"]
    assert card.signing_public.hex() == DESCRIPTION["keys"]["A"]["signing_public_hex"]
    assert card.created == CREATED
    assert card.expires == EXPIRES
    assert identity.format_fingerprint(card.fingerprint) == expected["fingerprint_display"]
    assert len(card.signed_text()) == expected["signed_text_bytes"]
    assert CARD_TEXT.startswith(card.signed_text())
    assert card.to_text() == CARD_TEXT


def test_make_card_reproduces_the_vector_byte_for_byte() -> None:
    assert _card().to_text() == CARD_TEXT


def test_vector_statements_parse_and_reproduce() -> None:
    rotation = identity.parse_statement(ROTATION_TEXT)
    assert isinstance(rotation, RotationStatement)
    assert rotation.old.display() == FP_A_DISPLAY
    assert rotation.new.display() == FP_B_DISPLAY
    assert rotation.time == _time(DESCRIPTION["rotation"]["time"])
    remade = identity.make_rotation(SEED_A, ENC_A, SEED_B, ENC_B, rotation.time)
    assert remade.to_text() == ROTATION_TEXT

    revocation = identity.parse_statement(REVOCATION_TEXT)
    assert isinstance(revocation, RevocationStatement)
    assert revocation.keys.display() == FP_A_DISPLAY
    assert revocation.reason == DESCRIPTION["revocation"]["reason"]
    remade_revocation = identity.make_revocation(
        SEED_A, ENC_A, _time(DESCRIPTION["revocation"]["time"]), revocation.reason
    )
    assert remade_revocation.to_text() == REVOCATION_TEXT


INVALID = sorted(DESCRIPTION["invalid"].items())


@pytest.mark.parametrize(("file_name", "expected"), INVALID, ids=[name for name, _ in INVALID])
def test_invalid_vector_is_refused_with_its_error_and_message(
    file_name: str, expected: dict[str, str]
) -> None:
    data = (VECTORS / "invalid" / file_name).read_bytes()
    parse = identity.parse_card if expected["parser"] == "card" else identity.parse_statement
    error_class = getattr(identity, expected["error"], None) or getattr(errors, expected["error"])
    with pytest.raises(SecureSubmitError) as raised:
        parse(data)
    assert type(raised.value) is error_class
    assert expected["message"] in str(raised.value)


def test_every_invalid_vector_file_is_in_the_manifest() -> None:
    on_disk = {path.name for path in (VECTORS / "invalid").iterdir()}
    assert on_disk == set(DESCRIPTION["invalid"])


def test_generator_reproduces_every_vector_file() -> None:
    built = GEN.build()
    on_disk = {
        str(path.relative_to(VECTORS)): path.read_bytes()
        for path in VECTORS.rglob("*")
        if path.is_file() and path.name != "generate.py" and "__pycache__" not in path.parts
    }
    assert set(built) == set(on_disk)
    for relative, content in built.items():
        assert content == on_disk[relative], relative


def test_spec_shows_the_vectors_verbatim() -> None:
    spec = SPEC.read_text(encoding="utf-8")
    for text in (CARD_TEXT, ROTATION_TEXT, REVOCATION_TEXT):
        assert text.decode("utf-8") in spec
    assert FP_A_DISPLAY in spec


# --- tampering ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", [CARD_TEXT, ROTATION_TEXT, REVOCATION_TEXT], ids=["card", "rotation", "revocation"]
)
def test_every_single_byte_change_is_refused(text: bytes) -> None:
    parse = identity.parse_card if text is CARD_TEXT else identity.parse_statement
    accepted = []
    for index in range(len(text)):
        for mask in (0x01, 0x02, 0x20, 0x40, 0x80, 0xFF):
            modified = bytearray(text)
            modified[index] ^= mask
            try:
                parse(bytes(modified))
            except SecureSubmitError:
                continue
            accepted.append((index, mask))
        try:
            parse(text[:index] + text[index + 1 :])
        except SecureSubmitError:
            continue
        accepted.append((index, "deleted"))
    assert accepted == []


def test_a_card_cannot_be_built_around_a_signature_that_does_not_verify() -> None:
    card = identity.parse_card(CARD_TEXT)
    with pytest.raises(BadSignature, match="the card's signature does not verify"):
        dataclasses.replace(card, name="Someone Else")
    with pytest.raises(BadSignature, match="the card's signature does not verify"):
        dataclasses.replace(card, role=Role.COORDINATOR)


@pytest.mark.parametrize(
    "u",
    [
        0,
        1,
        2**255 - 20,
        int.from_bytes(
            bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
            "little",
        ),
        int.from_bytes(
            bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
            "little",
        ),
    ],
)
def test_card_with_small_order_age_recipient_is_refused(u: int) -> None:
    recipient = crypto.age_recipient(u.to_bytes(32, "little"))
    data = GEN._signed_card(GEN._replace(GEN._card_fields(), "age-recipient", recipient))
    with pytest.raises(
        WeakKey, match="the card's age-recipient is refused: the encryption key is a small-order"
    ):
        identity.parse_card(data)


# --- making cards ---------------------------------------------------------------------------


def test_card_round_trips_with_empty_organisation_and_coordinator_role() -> None:
    card = _card(organisation="", role=Role.COORDINATOR, name="Дмитрий О'Нил-Иванов")
    text = card.to_text()
    assert b"\norganisation:\n" in text
    assert b"\nrole: coordinator\n" in text
    assert identity.parse_card(text) == card


def test_make_card_normalises_names_to_nfc_and_times_to_whole_utc_seconds() -> None:
    decomposed = unicodedata.normalize("NFD", "Йўлдош Ғаниев")
    almaty = datetime(2026, 11, 23, 20, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=5)))
    card = _card(name=decomposed, created=almaty)
    assert card.name == unicodedata.normalize("NFC", decomposed)
    assert card.created == datetime(2026, 11, 23, 15, 0, 0, tzinfo=UTC)
    assert b"created: 2026-11-23T15:00:00Z\n" in card.to_text()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "the name is empty"),
        ({"name": "x" * 101}, "the name is longer than 100 characters"),
        (
            {"name": "Ivan\u200bPetrov"},
            "the name contains the invisible or control character U+200B",
        ),
        ({"name": " Ivan"}, "the name starts or ends with a space"),
        ({"organisation": "Org\nrole: coordinator"}, "the organisation contains the invisible"),
        ({"role": "auditor"}, "the role must be 'reporter' or 'coordinator'"),
        ({"expires": CREATED}, "the card's expiry must be later than its creation time"),
        ({"expires": CREATED + timedelta(days=1831)}, "a card may be valid for at most 1830 days"),
    ],
)
def test_make_card_refuses_bad_input_with_a_message(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        _card(**overrides)


def test_make_card_refuses_a_small_order_encryption_key() -> None:
    with pytest.raises(WeakKey, match="small-order"):
        _card(enc=bytes(32))


def test_naive_times_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _card(created=datetime(2026, 11, 23, 10, 0, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        identity.check_card_usable(_card(), datetime(2027, 1, 1))


# --- using cards ----------------------------------------------------------------------------


def test_card_is_usable_until_the_second_it_expires() -> None:
    card = identity.parse_card(CARD_TEXT)
    identity.check_card_usable(card, EXPIRES - timedelta(seconds=1))
    with pytest.raises(
        CardExpired, match="the card of Әйгерім Тестова expired on 2028-11-23T00:00:00Z"
    ):
        identity.check_card_usable(card, EXPIRES)


def test_card_made_in_the_future_is_refused_beyond_a_day_of_clock_error() -> None:
    card = identity.parse_card(CARD_TEXT)
    identity.check_card_usable(card, CREATED - timedelta(hours=23))
    with pytest.raises(
        CardNotYetValid,
        match="was made on 2026-11-23T10:00:00Z, which is in the future by this computer's clock",
    ):
        identity.check_card_usable(card, CREATED - timedelta(hours=25))


def test_revoked_key_is_refused_from_the_revocation_time_on() -> None:
    card = identity.parse_card(CARD_TEXT)
    revocation = identity.parse_statement(REVOCATION_TEXT)
    revoked_at = _time(DESCRIPTION["revocation"]["time"])
    identity.check_not_revoked(card.fingerprint, revoked_at - timedelta(seconds=1), [revocation])
    identity.check_card_usable(card, revoked_at - timedelta(seconds=1), [revocation])
    message = (
        f"the key {FP_A_DISPLAY} was revoked by its owner on 2027-06-01T09:00:00Z "
        "\\(reason: replaced after the laptop was lost \\(test vector\\)\\); "
        "nothing it signed from then on is accepted"
    )
    with pytest.raises(KeyRevoked, match=message):
        identity.check_not_revoked(card.fingerprint, revoked_at, [revocation])
    with pytest.raises(KeyRevoked, match=message):
        identity.check_card_usable(card, revoked_at + timedelta(days=1), [revocation])


def test_revocation_of_another_key_does_not_touch_this_one() -> None:
    other = identity.make_revocation(SEED_B, ENC_B, CREATED, "")
    identity.check_not_revoked(identity.parse_card(CARD_TEXT).fingerprint, EXPIRES, [other])


def test_the_earliest_applicable_revocation_is_reported() -> None:
    early = identity.make_revocation(SEED_A, ENC_A, _at(10), "early")
    late = identity.make_revocation(SEED_A, ENC_A, _at(20), "late")
    fp = identity.parse_card(CARD_TEXT).fingerprint
    with pytest.raises(KeyRevoked, match="reason: early"):
        identity.check_not_revoked(fp, _at(30), [late, early])


def test_revocation_for_another_keys_fingerprint_cannot_be_forged() -> None:
    # C cannot revoke A: the statement names A's keys, so it must verify under A's key.
    revocation_by_c = (VECTORS / "invalid" / "revocation-signed-by-another-key.txt").read_bytes()
    with pytest.raises(BadSignature, match="not made by the key it revokes"):
        identity.parse_statement(revocation_by_c)


def test_revocation_reason_is_checked_like_a_name() -> None:
    with pytest.raises(InputError, match="the reason contains the invisible or control character"):
        identity.make_revocation(SEED_A, ENC_A, CREATED, "lost\x1b[2J")


# --- rotations ------------------------------------------------------------------------------


def test_vector_rotation_leads_to_the_new_keys() -> None:
    card = identity.parse_card(CARD_TEXT)
    rotation = identity.parse_statement(ROTATION_TEXT)
    revocation = identity.parse_statement(REVOCATION_TEXT)
    # The old key was revoked half an hour after it handed over: the rotation stands.
    history = identity.follow_rotations(card, [rotation, revocation])
    assert history.current.display() == FP_B_DISPLAY
    assert [p.keys.display() for p in history.periods] == [FP_A_DISPLAY, FP_B_DISPLAY]
    assert history.periods[0].valid_from == CREATED
    assert history.periods[0].valid_until == history.periods[1].valid_from == rotation.time
    assert history.periods[1].valid_until is None


def test_no_rotation_leaves_the_card_keys_current() -> None:
    card = identity.parse_card(CARD_TEXT)
    history = identity.follow_rotations(card, [])
    assert history.fingerprint == card.fingerprint


def test_rotation_is_followed_across_two_rotations() -> None:
    card = identity.parse_card(CARD_TEXT)
    first = identity.make_rotation(SEED_A, ENC_A, SEED_B, ENC_B, _at(100))
    second = identity.make_rotation(SEED_B, ENC_B, SEED_C, ENC_C, _at(200))
    history = identity.follow_rotations(card, [first, second])
    assert history.current == identity.PublicKeys(crypto.signing_public_key(SEED_C), ENC_C)
    assert [(p.valid_from, p.valid_until) for p in history.periods] == [
        (CREATED, _at(100)),
        (_at(100), _at(200)),
        (_at(200), None),
    ]
    period_b = history.period_of(first.new.fingerprint)
    assert period_b is not None and period_b.valid_until == _at(200)
    assert history.period_of(identity.fingerprint(bytes(32), bytes(32))) is None


def test_rotation_not_signed_by_the_current_key_breaks_the_chain() -> None:
    card = identity.parse_card(CARD_TEXT)
    stray = identity.make_rotation(SEED_B, ENC_B, SEED_C, ENC_C, _at(100))
    with pytest.raises(
        BrokenRotationChain, match=f"rotation 1 is not signed by the current key {FP_A_DISPLAY}"
    ):
        identity.follow_rotations(card, [stray])


def test_rotation_naming_the_wrong_old_fingerprint_breaks_the_chain() -> None:
    card = identity.parse_card(CARD_TEXT)
    # Signed by A's signing key, but claiming A's identity with C's encryption key.
    wrong = identity.make_rotation(SEED_A, ENC_C, SEED_B, ENC_B, _at(100))
    with pytest.raises(
        BrokenRotationChain,
        match=f"rotation 1 names the old fingerprint {wrong.old.display()}, "
        f"but the current key's fingerprint is {FP_A_DISPLAY}",
    ):
        identity.follow_rotations(card, [wrong])


def test_rotation_times_going_backwards_break_the_chain() -> None:
    card = identity.parse_card(CARD_TEXT)
    first = identity.make_rotation(SEED_A, ENC_A, SEED_B, ENC_B, _at(100))
    earlier = identity.make_rotation(SEED_B, ENC_B, SEED_C, ENC_C, _at(100))
    with pytest.raises(
        BrokenRotationChain,
        match="rotation 2 is dated 2027-03-03T10:00:00Z, not after 2027-03-03T10:00:00Z "
        "when the key it replaces took over: time goes backwards",
    ):
        identity.follow_rotations(card, [first, earlier])
    before_card = identity.make_rotation(SEED_A, ENC_A, SEED_B, ENC_B, _at(-1))
    with pytest.raises(BrokenRotationChain, match="rotation 1 is dated 2026-11-22T10:00:00Z"):
        identity.follow_rotations(card, [before_card])


def test_two_rotations_of_one_key_break_the_chain() -> None:
    card = identity.parse_card(CARD_TEXT)
    to_b = identity.make_rotation(SEED_A, ENC_A, SEED_B, ENC_B, _at(100))
    to_c = identity.make_rotation(SEED_A, ENC_A, SEED_C, ENC_C, _at(101))
    with pytest.raises(
        BrokenRotationChain,
        match=f"rotation 2 replaces the key {FP_A_DISPLAY} again, which an earlier rotation "
        "already replaced",
    ):
        identity.follow_rotations(card, [to_b, to_c])


def test_rotation_back_to_an_earlier_key_breaks_the_chain() -> None:
    card = identity.parse_card(CARD_TEXT)
    to_b = identity.make_rotation(SEED_A, ENC_A, SEED_B, ENC_B, _at(100))
    back = identity.make_rotation(SEED_B, ENC_B, SEED_A, ENC_A, _at(200))
    with pytest.raises(
        BrokenRotationChain, match=f"rotation 2 goes back to an earlier key {FP_A_DISPLAY}"
    ):
        identity.follow_rotations(card, [to_b, back])


def test_rotation_dated_after_the_card_expired_is_refused() -> None:
    card = identity.parse_card(CARD_TEXT)
    late = identity.make_rotation(SEED_A, ENC_A, SEED_B, ENC_B, EXPIRES)
    with pytest.raises(
        BrokenRotationChain,
        match="rotation 1 is dated 2028-11-23T00:00:00Z, after the card expired",
    ):
        identity.follow_rotations(card, [late])


def test_rotation_by_a_revoked_key_is_refused() -> None:
    card = identity.parse_card(CARD_TEXT)
    revocation = identity.make_revocation(SEED_A, ENC_A, _at(50), "key stolen")
    by_thief = identity.make_rotation(SEED_A, ENC_A, SEED_D, ENC_D, _at(60))
    with pytest.raises(
        KeyRevoked,
        match=f"rotation 1 was made on 2027-01-22T10:00:00Z by the key {FP_A_DISPLAY}, which "
        "its owner had revoked on 2027-01-12T10:00:00Z",
    ):
        identity.follow_rotations(card, [by_thief, revocation])


def test_rotated_card_is_accepted_only_with_the_keys_the_chain_leads_to() -> None:
    card = identity.parse_card(CARD_TEXT)
    rotation = identity.parse_statement(ROTATION_TEXT)
    new_card = _card(SEED_B, ENC_B, created=_at(190))
    assert (
        identity.check_rotated_card(card, [rotation], new_card).fingerprint == new_card.fingerprint
    )
    other_card = _card(SEED_C, ENC_C)
    with pytest.raises(BrokenRotationChain, match=r"the new card's keys .* are not the keys"):
        identity.check_rotated_card(card, [rotation], other_card)


def test_make_rotation_must_replace_both_keys() -> None:
    with pytest.raises(InputError, match="must replace both the signing and the encryption key"):
        identity.make_rotation(SEED_A, ENC_A, SEED_B, ENC_A, CREATED)


# --- fingerprints -------------------------------------------------------------------------


def test_fingerprint_display_is_eight_groups_of_four_base32_characters() -> None:
    fp = bytes(range(32))
    text = identity.format_fingerprint(fp)
    assert text == "AAAQ EAYE AUDA OCAJ BIFQ YDIO B4IB CEQT"
    groups = text.split(" ")
    assert [len(g) for g in groups] == [4] * 8


@pytest.mark.parametrize(
    "typed",
    [
        FP_A_DISPLAY,
        FP_A_DISPLAY.lower(),
        FP_A_DISPLAY.replace(" ", ""),
        FP_A_DISPLAY.replace(" ", "-"),
        "  " + FP_A_DISPLAY.replace(" ", " - ") + "\n",
        FP_A_DISPLAY.replace(" ", "\u2013").title(),  # en dash, mixed case
    ],
)
def test_parse_fingerprint_tolerates_case_spaces_and_dashes(typed: str) -> None:
    fp = identity.parse_card(CARD_TEXT).fingerprint
    assert identity.parse_fingerprint(typed) == fp[:20]
    identity.check_fingerprint(fp, typed)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (FP_A_DISPLAY[:-1], "the fingerprint has 31 letters and digits; it should have 32"),
        (FP_A_DISPLAY + "A", "the fingerprint has 33 letters and digits; it should have 32"),
        ("0" + FP_A_DISPLAY[1:], r"contains the digit 0, .* \(did you mean the letter O\?\)"),
        ("1" + FP_A_DISPLAY[1:], r"contains the digit 1, .* \(did you mean the letter I or L\?\)"),
        ("!" + FP_A_DISPLAY[1:], "the fingerprint contains '!', which fingerprints never use"),
        ("A" * 201, "that is too long to be a fingerprint"),
        # Cyrillic Х and О look like X and O, but would not be what the partner read out.
        ("QХAW" + FP_A_DISPLAY[4:], "contains the non-Latin letter 'Х'; .* Latin layout"),
        ("ıXAW" + FP_A_DISPLAY[4:], "contains the non-Latin letter 'ı'"),
    ],
)
def test_parse_fingerprint_says_what_is_wrong(typed: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        identity.parse_fingerprint(typed)


def test_a_different_fingerprint_does_not_match() -> None:
    fp = identity.parse_card(CARD_TEXT).fingerprint
    with pytest.raises(FingerprintMismatch, match=re.escape("(groups 1, 2, 3, 4, 5, 6, 7, 8 of 8")):
        identity.check_fingerprint(fp, FP_B_DISPLAY)
    one_typo = FP_A_DISPLAY[:-1] + ("A" if FP_A_DISPLAY[-1] != "A" else "B")
    with pytest.raises(
        FingerprintMismatch,
        match=re.escape(
            "the fingerprint you entered does not match this card (group 8 of 8 differs)"
        ),
    ) as raised:
        identity.check_fingerprint(fp, one_typo)
    assert FP_A_DISPLAY not in str(raised.value)


# --- properties ---------------------------------------------------------------------------

_FIELD_NAMES = [
    "name", "organisation", "role", "age-recipient", "signing-key", "created", "expires",
    "signature", "time", "reason", "fingerprint", "old-fingerprint", "new-signature",
]  # fmt: skip


def _lines_of(text: bytes) -> list[bytes]:
    return text.split(b"\n")


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """A vector text with a few random edits: bytes replaced, inserted, deleted, lines
    duplicated, dropped or swapped, values swapped between lines."""
    data = original
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["replace", "insert", "delete", "line"]))
        at = draw(st.integers(0, len(data)))
        if kind == "replace":
            data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at + 4 :]
        elif kind == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 16)) :]
        else:
            lines = _lines_of(data)
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            operation = draw(st.sampled_from(["duplicate", "drop", "swap", "rename"]))
            if operation == "duplicate":
                lines.insert(j, lines[i])
            elif operation == "drop":
                del lines[i]
            elif operation == "swap":
                lines[i], lines[j] = lines[j], lines[i]
            else:
                _, _, value = lines[i].partition(b":")
                lines[i] = draw(st.sampled_from(_FIELD_NAMES)).encode() + b":" + value
            data = b"\n".join(lines)
    return data


_PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_PROPERTY
@given(st.binary(max_size=5000))
def test_random_bytes_are_refused_only_with_our_errors(data: bytes) -> None:
    for parse in (identity.parse_card, identity.parse_statement):
        with pytest.raises(SecureSubmitError):
            parse(data)


@_PROPERTY
@given(
    st.sampled_from(
        ["securesubmit-card v1\n", "securesubmit-rotation v1\n", "securesubmit-revocation v1\n"]
    ),
    st.lists(st.tuples(st.sampled_from(_FIELD_NAMES), st.text(max_size=60)), max_size=12),
)
def test_random_field_lines_are_refused_only_with_our_errors(
    head: str, fields: list[tuple[str, str]]
) -> None:
    data = (head + "".join(f"{key}: {value}\n" for key, value in fields)).encode(
        "utf-8", "surrogatepass"
    )
    for parse in (identity.parse_card, identity.parse_statement):
        with pytest.raises(SecureSubmitError):
            parse(data)


@_PROPERTY
@given(st.data())
def test_mutated_vectors_raise_only_our_errors(data: st.DataObject) -> None:
    original = data.draw(st.sampled_from([CARD_TEXT, ROTATION_TEXT, REVOCATION_TEXT]))
    modified = data.draw(mutated(original))
    for parse in (identity.parse_card, identity.parse_statement):
        try:
            result = parse(modified)
        except SecureSubmitError:
            continue
        # Whatever is accepted must be exactly the untouched original.
        assert modified == original
        assert result.to_text() == original


_NAMES = (
    st.text(min_size=1, max_size=100)
    .map(lambda s: unicodedata.normalize("NFC", s))
    .filter(lambda s: identity._text_problem(s, 100, allow_empty=False) is None)
)


@settings(max_examples=150, deadline=None)
@given(
    name=_NAMES,
    organisation=_NAMES | st.just(""),
    role=st.sampled_from(list(Role)),
    created_offset=st.integers(-(10**9), 10**9),
    lifetime=st.integers(1, 1830 * 86400),
)
def test_any_valid_card_round_trips(
    name: str, organisation: str, role: Role, created_offset: int, lifetime: int
) -> None:
    created = CREATED + timedelta(seconds=created_offset)
    card = _card(
        name=name,
        organisation=organisation,
        role=role,
        created=created,
        expires=created + timedelta(seconds=lifetime),
    )
    assert identity.parse_card(card.to_text()) == card
