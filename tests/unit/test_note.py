"""Signed checkpoints: C2SP signed-note with Ed25519, and the tlog-checkpoint body.

What we write is read back by a second, small parser written here from the specs,
with hashlib and cryptography directly (no code shared with securesubmit.core.note),
and checked against a note signed by Go's golang.org/x/mod/sumdb/note.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from securesubmit.core import crypto, note
from securesubmit.core.note import Checkpoint
from securesubmit.errors import BadSignature, FormatError, VerificationError, WeakKey

VECTOR_DIR = Path(__file__).resolve().parents[1] / "vectors" / "audit"

SEED = bytes([0x42]) * 32  # TEST ONLY, as in tests/vectors/audit/checkpoint.json
OTHER_SEED = bytes([0x07]) * 32  # TEST ONLY
PUBLIC = crypto.signing_public_key(SEED)
NAME = "securesubmit/vault/0123456789abcdef"
ROOT = hashlib.sha256(b"a root").digest()


def _vector() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (VECTOR_DIR / "checkpoint.json").read_text(encoding="utf-8")
    )
    return loaded


def _signed(size: int = 1204, root: bytes = ROOT, *, seed: bytes = SEED, name: str = NAME) -> bytes:
    body = note.format_checkpoint_body(Checkpoint(origin=NAME, size=size, root_hash=root))
    return note.sign_checkpoint(body, name, seed)


def _open(signed: bytes) -> Checkpoint:
    return note.parse_and_verify_checkpoint(signed, NAME, PUBLIC)


# --- an independent reading of the specs ------------------------------------------------


def independent_key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + b"\x01" + public).digest()[:4]


def independent_verifier_key(name: str, public: bytes) -> str:
    return "+".join(
        [name, independent_key_id(name, public).hex(), base64.b64encode(b"\x01" + public).decode()]
    )


_SIGNATURE_LINE = re.compile("\u2014 ([^ +]+) ([A-Za-z0-9+/]+={0,2})")


def independent_open(signed: bytes, name: str, public: bytes) -> tuple[str, int, bytes]:
    """(origin, size, root) of a checkpoint note whose signature by (name, public) verifies."""
    text = signed.decode("utf-8")
    assert text.endswith("\n") and "\r" not in text
    body, separator, signatures = text.rpartition("\n\n")
    assert separator
    body += "\n"
    found = False
    for line in signatures.split("\n")[:-1]:
        match = _SIGNATURE_LINE.fullmatch(line)
        assert match, line
        raw = base64.b64decode(match.group(2), validate=True)
        if match.group(1) == name and raw[:4] == independent_key_id(name, public):
            Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], body.encode())
            found = True
    assert found
    origin, size, root = body[:-1].split("\n")[:3]
    return origin, int(size), base64.b64decode(root, validate=True)


# --- keys ---------------------------------------------------------------------------


def test_key_id_and_verifier_key_match_an_independent_computation() -> None:
    assert note.key_id(NAME, PUBLIC) == independent_key_id(NAME, PUBLIC)
    assert note.verifier_key(NAME, PUBLIC) == independent_verifier_key(NAME, PUBLIC)
    assert note.parse_verifier_key(note.verifier_key(NAME, PUBLIC)) == (NAME, PUBLIC)


def test_vault_log_name_is_the_prefix_and_16_hex_digits_of_the_fingerprint() -> None:
    assert note.vault_log_name(bytes(range(32))) == "securesubmit/vault/0001020304050607"
    with pytest.raises(ValueError):
        note.vault_log_name(b"short")


def test_verifier_keys_of_go_parse_and_mangled_ones_are_refused() -> None:
    go = _vector()["interop_signed_note"]["verifier_key"]
    name, public = note.parse_verifier_key(go)
    assert name == "PeterNeumann"
    assert note.verifier_key(name, public) == go
    prefix, key_hex, encoded = go.split("+", 2)
    for bad in [
        "",
        go + "=",
        go[:-1],
        go.replace("c74f20a3", "c74f20a4"),  # ID does not match the key
        go.replace("c74f20a3", "C74F20A3"),  # we write and accept lowercase only
        go.replace("+ARpc", "+AhPc"),  # not signature type 0x01
        f"Peter Neumann+{key_hex}+{encoded}",
        f"{prefix}+{key_hex}",
        note.verifier_key("x", PUBLIC).replace("x+", "y+"),
    ]:
        with pytest.raises(FormatError):
            note.parse_verifier_key(bad)


def test_a_small_order_verifier_key_is_refused() -> None:
    weak = bytes(32)  # y = 0 is a point of order 4
    encoded = base64.b64encode(b"\x01" + weak).decode()
    with pytest.raises(WeakKey):
        note.parse_verifier_key(f"x+{independent_key_id('x', weak).hex()}+{encoded}")
    with pytest.raises(WeakKey):
        note.parse_and_verify_checkpoint(_signed(), NAME, weak)


# --- round trip -------------------------------------------------------------------------


def test_a_signed_checkpoint_round_trips_and_the_independent_parser_agrees() -> None:
    signed = _signed(size=1204)
    assert _open(signed) == Checkpoint(origin=NAME, size=1204, root_hash=ROOT)
    assert independent_open(signed, NAME, PUBLIC) == (NAME, 1204, ROOT)
    body = f"{NAME}\n1204\n{base64.b64encode(ROOT).decode()}\n"
    assert signed.startswith(body.encode() + "\n\u2014 ".encode())


_NAME_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), exclude_characters="+"
).filter(lambda ch: not ch.isspace())
_LINE_CHARS = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"))


@settings(max_examples=60, deadline=None)
@given(
    st.text(_NAME_CHARS, min_size=1, max_size=40),
    st.integers(0, 2**63 - 1),
    st.binary(min_size=32, max_size=32),
    st.lists(st.text(_LINE_CHARS, min_size=1, max_size=30), max_size=3),
)
def test_any_checkpoint_we_write_reads_back_identically(
    origin: str, size: int, root: bytes, extensions: list[str]
) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    signed = note.sign_checkpoint(note.format_checkpoint_body(checkpoint), origin, SEED)
    assert note.parse_and_verify_checkpoint(signed, origin, PUBLIC) == checkpoint
    assert independent_open(signed, origin, PUBLIC) == (origin, size, root)


def test_the_origin_must_be_the_expected_log() -> None:
    body = note.format_checkpoint_body(Checkpoint("example.org/other-log", 3, ROOT))
    signed = note.sign_checkpoint(body, NAME, SEED)
    with pytest.raises(VerificationError) as caught:
        _open(signed)
    assert not isinstance(caught.value, BadSignature | FormatError)
    checkpoint = note.parse_and_verify_checkpoint(
        signed, NAME, PUBLIC, origin="example.org/other-log"
    )
    assert checkpoint.size == 3


# --- signatures from other keys ---------------------------------------------------------


def _extra_signature(signed: bytes, seed: bytes, name: str) -> bytes:
    """The signature line another key would add to the same text."""
    text = signed[: signed.rindex(b"\n\n") + 1]
    return note.sign_note(text, name, seed)[len(text) + 1 :]


def test_signatures_by_unknown_keys_are_ignored() -> None:
    signed = _signed()
    witness = _extra_signature(signed, OTHER_SEED, "witness.example/w1")
    same_name_other_key = _extra_signature(signed, OTHER_SEED, NAME)
    text, ours = signed.split(b"\n\n")
    for note_bytes in [
        signed + witness,
        text + b"\n\n" + witness + ours,
        signed + same_name_other_key,
        text + b"\n\n" + same_name_other_key + ours,
    ]:
        assert _open(note_bytes).size == 1204


def test_a_signature_by_another_key_only_is_refused() -> None:
    for name in (NAME, "witness.example/w1"):
        with pytest.raises(BadSignature):
            _open(_signed(seed=OTHER_SEED, name=name))


def test_a_bad_signature_by_the_expected_key_condemns_the_note() -> None:
    signed = _signed()
    text, line = signed.split(b"\n\n")
    raw = bytearray(base64.b64decode(line.split(b" ")[-1]))
    raw[10] ^= 1
    forged = text + b"\n\n" + line.rsplit(b" ", 1)[0] + b" " + base64.b64encode(raw) + b"\n"
    witness = _extra_signature(signed, OTHER_SEED, "witness.example/w1")
    with pytest.raises(BadSignature):
        _open(forged + witness)


def test_hundred_signatures_are_accepted_and_a_hundred_and_first_is_refused() -> None:
    signed = _signed()
    others = b"".join(_extra_signature(signed, OTHER_SEED, f"w{i}") for i in range(99))
    assert _open(signed + others).size == 1204
    extra = _extra_signature(signed, OTHER_SEED, "w99")
    with pytest.raises(FormatError):
        _open(signed + others + extra)


# --- tampering ----------------------------------------------------------------------------


def _tampered() -> dict[str, bytes]:
    signed = _signed(size=1204)
    root_b64 = base64.b64encode(ROOT)
    other_root = base64.b64encode(hashlib.sha256(b"another root").digest())
    return {
        "size": signed.replace(b"\n1204\n", b"\n1205\n"),
        "root": signed.replace(root_b64, other_root),
        "origin": signed.replace(NAME.encode() + b"\n", b"securesubmit/vault/0123456789abcdee\n"),
        "truncated size": signed.replace(b"\n1204\n", b"\n120\n"),
        "appended extension": signed.replace(b"=\n\n", b"=\nextension\n\n", 1),
    }


@pytest.mark.parametrize("field", sorted(_tampered()))
def test_a_changed_checkpoint_is_refused_as_a_bad_signature(field: str) -> None:
    tampered = _tampered()[field]
    assert tampered != _signed(size=1204)
    with pytest.raises(BadSignature):
        _open(tampered)


def _malformed() -> dict[str, bytes]:
    signed = _signed()
    text, line = signed.split(b"\n\n")
    dash = "\u2014".encode()
    return {
        "extra blank line": text + b"\n\n\n" + line,
        "blank line after the signatures": signed + b"\n",
        "CRLF": signed.replace(b"\n", b"\r\n"),
        "CR at the very end": signed[:-1] + b"\r\n",
        "NUL": signed.replace(b"\n1204", b"\n\x001204"),
        "tab": signed.replace(b" ", b"\t", 1),
        "no final newline": signed[:-1],
        "no signature": text + b"\n",
        "no blank line": text + b"\n" + line,
        "only a blank line and a signature": b"\n\n" + line,
        "duplicated signature line": signed + line,
        "signature line with a hyphen": text + b"\n\n" + line.replace(dash, b"-"),
        "signature line without its space": text + b"\n\n" + line.replace(dash + b" ", dash),
        "signature line without key name": text + b"\n\n" + dash + b" " + line.split(b" ")[-1],
        "signature without base64 padding": text + b"\n\n" + line.replace(b"=\n", b"\n"),
        "signature of only a key ID": text + b"\n\n" + line.split(b" ")[0] + b" w AAAAAA==\n",
        "not UTF-8": signed.replace(dash, dash[:2]),
        "oversized": signed + dash + b" w " + b"A" * note.MAX_NOTE_SIZE + b"\n",
    }


@pytest.mark.parametrize("case", sorted(_malformed()))
def test_a_malformed_note_is_refused_as_a_format_error(case: str) -> None:
    with pytest.raises(FormatError):
        _open(_malformed()[case])


def test_a_note_at_the_size_limit_is_read_and_one_byte_more_is_refused() -> None:
    signed = _signed()
    # An unknown signature line that brings the note to exactly the limit: its base64
    # is a multiple of 4 characters, the rest of the length goes into its key name.
    room = note.MAX_NOTE_SIZE - len(signed) - len("\u2014  \n".encode())
    name, filler = b"w" * (4 + room % 4), b"A" * (room - 4 - room % 4)

    def padded(extra: bytes) -> bytes:
        return signed + "\u2014 ".encode() + name + extra + b" " + filler + b"\n"

    assert len(padded(b"")) == note.MAX_NOTE_SIZE
    assert _open(padded(b"")).size == 1204
    with pytest.raises(FormatError):
        _open(padded(b"w"))


@pytest.mark.parametrize(
    ("size_line", "root_line"),
    [
        ("01204", None),
        ("+1204", None),
        ("-1", None),
        (" 1204", None),
        ("1204 ", None),
        ("1_204", None),
        ("١٢٠٤", None),  # Arabic-Indic digits are digits to Python, not to the spec
        ("9223372036854775808", None),  # 2^63
        ("99999999999999999999", None),
        ("", None),
        (None, base64.b64encode(ROOT).decode().rstrip("=")),
        (None, base64.b64encode(ROOT).decode()[:-2] + "B="),  # non-zero padding bits
        (None, base64.b64encode(ROOT[:31]).decode()),
        (None, base64.b64encode(ROOT + b"\x00").decode()),
        (None, ROOT.hex()),
        (None, base64.urlsafe_b64encode(b"\xff" * 32).decode()),
    ],
)
def test_a_validly_signed_but_malformed_checkpoint_body_is_refused(
    size_line: str | None, root_line: str | None
) -> None:
    size = "1204" if size_line is None else size_line
    root = base64.b64encode(ROOT).decode() if root_line is None else root_line
    body = f"{NAME}\n{size}\n{root}\n".encode()
    with pytest.raises(FormatError):
        _open(note.sign_note(body, NAME, SEED))


def test_checkpoint_bodies_with_missing_or_empty_lines_are_refused() -> None:
    root = base64.b64encode(ROOT).decode()
    for body in [f"{NAME}\n1204\n", f"{NAME}\n1204\n{root}\n\nextension\n", f"\n1204\n{root}\n"]:
        with pytest.raises(FormatError):
            _open(note.sign_note(body.encode(), NAME, SEED))


def test_the_largest_size_is_accepted() -> None:
    assert _open(_signed(size=2**63 - 1)).size == 2**63 - 1
    assert _open(_signed(size=0)).size == 0


# --- writing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "checkpoint",
    [
        Checkpoint("", 1, ROOT),
        Checkpoint("has space", 1, ROOT),
        Checkpoint("has+plus", 1, ROOT),
        Checkpoint("line\nbreak", 1, ROOT),
        Checkpoint(NAME, -1, ROOT),
        Checkpoint(NAME, 2**63, ROOT),
        Checkpoint(NAME, 1, ROOT[:31]),
        Checkpoint(NAME, 1, ROOT, ("",)),
        Checkpoint(NAME, 1, ROOT, ("two\nlines",)),
        Checkpoint(NAME, 1, ROOT, ("carriage\rreturn",)),
    ],
)
def test_we_refuse_to_write_a_checkpoint_outside_the_format(checkpoint: Checkpoint) -> None:
    with pytest.raises(ValueError):
        note.format_checkpoint_body(checkpoint)


def test_we_refuse_to_sign_what_is_not_a_checkpoint_or_under_an_invalid_name() -> None:
    body = note.format_checkpoint_body(Checkpoint(NAME, 1, ROOT))
    for text, name in [
        (b"not a checkpoint\n", NAME),
        (body[:-1], NAME),
        (body + b"\n", NAME),
        (body, "has space"),
        (body, "has+plus"),
        (body, ""),
    ]:
        with pytest.raises(ValueError):
            note.sign_checkpoint(text, name, SEED)


# --- vectors ----------------------------------------------------------------------------


def test_checkpoint_vector_is_reproduced_and_verifies() -> None:
    vector = _vector()
    assert "TEST ONLY" in vector["WARNING"]
    seed = bytes.fromhex(vector["test_only_seed_hex"])
    public = bytes.fromhex(vector["public_key_hex"])
    name = vector["key_name"]
    expected = vector["checkpoint"]
    signed = (VECTOR_DIR / vector["note_file"]).read_bytes()

    assert crypto.signing_public_key(seed) == public
    assert note.vault_log_name(bytes.fromhex(vector["fingerprint_hex"])) == name
    assert note.key_id(name, public).hex() == vector["key_id_hex"]
    assert independent_verifier_key(name, public) == vector["verifier_key"]
    assert note.verifier_key(name, public) == vector["verifier_key"]

    checkpoint = Checkpoint(
        expected["origin"],
        expected["size"],
        bytes.fromhex(expected["root_hash_hex"]),
        tuple(expected["extensions"]),
    )
    body = note.format_checkpoint_body(checkpoint)
    assert body.decode() == vector["body"]
    assert note.sign_checkpoint(body, name, seed) == signed
    assert signed == (vector["body"] + "\n" + vector["signature_line"]).encode()
    assert note.parse_and_verify_checkpoint(signed, name, public) == checkpoint
    assert independent_open(signed, name, public) == (
        checkpoint.origin,
        checkpoint.size,
        checkpoint.root_hash,
    )
    assert base64.b64encode(checkpoint.root_hash).decode() == expected["root_hash_base64"]


def test_checkpoint_vector_root_is_the_published_merkle_vector_root() -> None:
    merkle_vectors = json.loads((VECTOR_DIR / "merkle-proofs.json").read_text(encoding="utf-8"))
    roots = {r["size"]: r["root"] for r in merkle_vectors["published"]["roots"]}
    expected = _vector()["checkpoint"]
    assert roots[expected["size"]] == expected["root_hash_hex"]


def test_we_sign_exactly_as_go_sumdb_note_does_and_read_its_notes() -> None:
    go = _vector()["interop_signed_note"]
    encoded_seed = go["signer_key"].split("+", 4)[4]
    seed_with_type = base64.b64decode(encoded_seed)
    assert seed_with_type[0] == 1
    name, public = note.parse_verifier_key(go["verifier_key"])
    assert crypto.signing_public_key(seed_with_type[1:]) == public
    assert note.sign_note(go["text"].encode(), go["key_name"], seed_with_type[1:]) == go[
        "note"
    ].encode("utf-8")
    assert note.open_note(go["note"].encode("utf-8"), name, public) == go["text"].encode()
    with pytest.raises(BadSignature):
        note.open_note(go["note"].replace("cryptography", "cryptographY").encode(), name, public)


def test_the_specs_worked_example_shows_the_vectors() -> None:
    spec = (Path(__file__).resolve().parents[2] / "docs" / "spec").joinpath(
        "audit-merkle-and-checkpoint.md"
    )
    text = spec.read_text(encoding="utf-8")
    vectors = (VECTOR_DIR / "merkle-proofs.json").read_text(encoding="utf-8") + (
        VECTOR_DIR / "checkpoint.json"
    ).read_text(encoding="utf-8")
    hashes = set(re.findall(r"\b[0-9a-f]{64}\b", text))
    assert len(hashes) >= 12
    assert all(h in vectors for h in hashes), hashes - set(re.findall(r"[0-9a-f]{64}", vectors))
    for line in (VECTOR_DIR / "checkpoint.txt").read_text(encoding="utf-8").splitlines():
        assert f"    {line}\n" in text or not line
    assert _vector()["verifier_key"] in text


# --- hybrid logs: a second, ML-DSA-65 signature line (spec §7.1) ---------------------------

MLDSA_SEED = bytes([0x43]) * 32  # TEST ONLY, as in tests/vectors/audit/checkpoint-hybrid.json


def _hybrid_vector() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (VECTOR_DIR / "checkpoint-hybrid.json").read_text(encoding="utf-8")
    )
    return loaded


def _independent_mldsa_verify(public: bytes, text: bytes, signature: bytes) -> None:
    """The spec's ML-DSA-65 note signature, checked with cryptography directly."""
    from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA65PublicKey

    label = b"securesubmit/v1/checkpoint-note"
    MLDSA65PublicKey.from_public_bytes(public).verify(signature, label + b"\x00" + text, label)


def test_hybrid_checkpoint_vector_verifies_independently() -> None:
    vector = _hybrid_vector()
    signed = (VECTOR_DIR / vector["note_file"]).read_bytes()
    assert len(signed) == vector["note_bytes"] == vector["cases"][0]["note"].encode().__len__()
    name = vector["key_name"]
    public = bytes.fromhex(vector["public_key_hex"])
    mldsa_public = bytes.fromhex(vector["mldsa_public_key_hex"])
    assert public == crypto.signing_public_key(bytes.fromhex(vector["test_only_seed_hex"]))
    mldsa_seed = bytes.fromhex(vector["test_only_mldsa_seed_hex"])
    assert mldsa_public == crypto.mldsa_public_key(mldsa_seed)
    mldsa_type = b"\xff" + b"securesubmit/ml-dsa-65"
    assert vector["mldsa_type_hex"] == mldsa_type.hex()
    expected_id = hashlib.sha256(name.encode() + b"\n" + mldsa_type + mldsa_public).digest()[:4]
    assert vector["mldsa_key_id_hex"] == expected_id.hex()
    assert vector["mldsa_verifier_key"] == "+".join(
        [name, expected_id.hex(), base64.b64encode(mldsa_type + mldsa_public).decode()]
    )
    # The note: the classical checkpoint of checkpoint.txt, plus one line.
    classical = (VECTOR_DIR / "checkpoint.txt").read_bytes()
    assert signed.startswith(classical)
    pq_line = signed[len(classical) :].decode()
    assert pq_line.startswith(f"— {name} ") and pq_line.endswith("\n")
    raw = base64.b64decode(pq_line[len(f"— {name} ") : -1], validate=True)
    assert raw[:4] == expected_id and len(raw) == 4 + 3309
    _independent_mldsa_verify(mldsa_public, vector["body"].encode(), raw[4:])


@pytest.mark.parametrize("case", range(4))
def test_hybrid_checkpoint_vector_cases(case: int) -> None:
    vector = _hybrid_vector()
    item = vector["cases"][case]
    signed = item["note"].encode("utf-8")
    name = vector["key_name"]
    public = bytes.fromhex(vector["public_key_hex"])
    mldsa_public = bytes.fromhex(vector["mldsa_public_key_hex"])
    assert item["classical"] == "accept"
    assert note.parse_and_verify_checkpoint(signed, name, public).size == 8
    if item["hybrid"] == "accept":
        checkpoint = note.parse_and_verify_checkpoint(
            signed, name, public, mldsa_public=mldsa_public
        )
        assert checkpoint.size == 8
    else:
        assert item["hybrid"] == "NoMLDSASignature"
        with pytest.raises(note.NoMLDSASignature, match="ML-DSA-65"):
            note.parse_and_verify_checkpoint(signed, name, public, mldsa_public=mldsa_public)


def test_hybrid_signing_round_trips_and_names_the_missing_signature() -> None:
    mldsa_public = crypto.mldsa_public_key(MLDSA_SEED)
    body = note.format_checkpoint_body(Checkpoint(origin=NAME, size=5, root_hash=ROOT))
    signed = note.sign_checkpoint(body, NAME, SEED, mldsa_seed=MLDSA_SEED)
    assert signed.count("\n— ".encode()) == 2
    read = note.parse_and_verify_checkpoint(signed, NAME, PUBLIC, mldsa_public=mldsa_public)
    assert read.size == 5
    # An Ed25519-only checkpoint of the same log fails the hybrid check, by name.
    with pytest.raises(note.NoMLDSASignature):
        note.parse_and_verify_checkpoint(_signed(5), NAME, PUBLIC, mldsa_public=mldsa_public)
    # Another ML-DSA-65 key's signature is ignored, so it is missing too.
    other = note.sign_checkpoint(body, NAME, SEED, mldsa_seed=bytes([0x44]) * 32)
    with pytest.raises(note.NoMLDSASignature):
        note.parse_and_verify_checkpoint(other, NAME, PUBLIC, mldsa_public=mldsa_public)
    # The Ed25519 check stays first: a bad Ed25519 signature is a plain BadSignature.
    tampered = signed.replace(b"\n5\n", b"\n6\n")
    with pytest.raises(BadSignature) as caught:
        note.parse_and_verify_checkpoint(tampered, NAME, PUBLIC, mldsa_public=mldsa_public)
    assert not isinstance(caught.value, note.NoMLDSASignature)
    # Two ML-DSA-65 lines by the same key are refused like any repeated signature.
    lines = signed.decode().split("\n")
    doubled = ("\n".join(lines[:-1]) + "\n" + lines[-2] + "\n").encode()
    with pytest.raises(FormatError, match="two signatures"):
        note.parse_and_verify_checkpoint(doubled, NAME, PUBLIC, mldsa_public=mldsa_public)


def test_mldsa_verifier_keys_parse_strictly() -> None:
    vector = _hybrid_vector()
    text = vector["mldsa_verifier_key"]
    name, public = note.parse_mldsa_verifier_key(text)
    assert (name, public.hex()) == (vector["key_name"], vector["mldsa_public_key_hex"])
    name_part, id_part, key_part = text.split("+", 2)
    wrong_id = f"{name_part}+{'0' * 8 if id_part != '0' * 8 else '1' * 8}+{key_part}"
    raw = base64.b64decode(key_part)
    ed_type_key = base64.b64encode(bytes([1]) + raw[23:]).decode()
    wrong_type = f"{name_part}+{id_part}+{ed_type_key}"
    for bad in (
        vector["verifier_key"],  # an Ed25519 verifier key
        wrong_id,
        wrong_type,
        f"{name_part}+{id_part}+{key_part[:-4]}",
        f"{name_part} x+{id_part}+{key_part}",
        text + "A" * 4096,
    ):
        with pytest.raises(FormatError):
            note.parse_mldsa_verifier_key(bad)
    with pytest.raises(FormatError):
        note.parse_verifier_key(text)  # and the Ed25519 reader refuses this one
