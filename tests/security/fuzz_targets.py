"""One fuzz target per parser of outside input, each seeded from tests/vectors/.

A target's ``run(data)`` hands ``data`` to the parser the way SecureSubmit does. A
SecureSubmitError is the expected refusal and is swallowed; any other exception, and any
broken invariant of an accepted input (it must be the one canonical encoding of what was
parsed), escapes: that is a finding. ``seeds()`` gives the starting corpus.

Two targets re-sign what the fuzzer made, so that the parser behind a signature is reached
too: ``bundle-container`` (the manifest's signature, with the TEST-ONLY vector key, when the
first byte is odd) and ``checkpoint`` (the note text is signed with the vector key when the
first byte is odd). Without that, a fuzzer never gets past the signature check.

The module imports SecureSubmit lazily, inside ``load()``, so that atheris can instrument
the package when it imports this module under ``atheris.instrument_imports()``.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "vectors"


@dataclass(frozen=True)
class FuzzTarget:
    name: str
    what: str
    seeds: Callable[[], list[bytes]]
    run: Callable[[bytes], None]


def _files(folder: Path, pattern: str = "*") -> list[bytes]:
    return [p.read_bytes() for p in sorted(folder.glob(pattern)) if p.is_file()]


class _NullSink:
    def write(self, index: int, chunk: bytes) -> None:
        pass

    def commit(self) -> None:
        pass

    def discard(self) -> None:
        pass


def load(*, guarded: bool = True) -> dict[str, FuzzTarget]:
    """Every target, by name (imports SecureSubmit). With ``guarded=False`` a refusal
    (SecureSubmitError) propagates too, so tests can tell acceptance from refusal."""
    from securesubmit.core import (
        agehdr,
        audit,
        bundle,
        crypto,
        identity,
        merkle,
        note,
        partners,
        seal,
        vault,
    )
    from securesubmit.errors import NotFound, SecureSubmitError
    from tests.vectors.bundle import generate as bundle_vectors

    sender = bundle_vectors.public("sender")
    sender_seed = bundle_vectors.KEYS["sender"][0]
    recipient = bundle_vectors.public("recipient")
    sealed_keys = json.loads((VECTORS / "sealed" / "vectors.json").read_text())["keys"]
    sealed_me = bytes.fromhex(sealed_keys["B"]["fingerprint_hex"])
    checkpoint_vector = json.loads((VECTORS / "audit" / "checkpoint.json").read_text())
    log_seed = bytes.fromhex(checkpoint_vector["test_only_seed_hex"])
    log_public = bytes.fromhex(checkpoint_vector["public_key_hex"])
    log_name = checkpoint_vector["key_name"]

    def guard(parse: Callable[[bytes], None]) -> Callable[[bytes], None]:
        if not guarded:
            return parse

        def run(data: bytes) -> None:
            with contextlib.suppress(SecureSubmitError):
                parse(data)

        return run

    # --- age header pre-check --------------------------------------------------------
    def age_header(data: bytes) -> None:
        header = agehdr.check_header_bytes(data)
        if not 0 < header.length <= agehdr.MAX_HEADER_BYTES:
            raise AssertionError("an accepted header has an impossible length")
        if len(data) < header.length + agehdr.NONCE_SIZE:
            raise AssertionError("an accepted header is not followed by a nonce")

    def age_seeds() -> list[bytes]:
        return _files(VECTORS / "age" / "testdata")

    # --- bundles -----------------------------------------------------------------------
    def lookup(fingerprint: bytes) -> Any:
        if fingerprint == sender.fingerprint:
            return sender
        raise NotFound()

    def manifest(data: bytes) -> None:
        parsed = bundle.decode_manifest(data)
        if bundle.encode_manifest(parsed) != data:
            raise AssertionError("an accepted manifest is not its canonical encoding")

    def manifest_seeds() -> list[bytes]:
        out = []
        for container in _files(VECTORS / "bundle", "*.bin"):
            if container.startswith(bundle.MAGIC) and len(container) > 28:
                length = int.from_bytes(container[24:28], "big")
                out.append(container[28 : 28 + length])
        return out

    magic_end = len(bundle.MAGIC)

    def resign(data: bytes) -> bytes:
        head = magic_end + bundle.MANIFEST_HEAD_SIZE
        if len(data) < head or not data.startswith(bundle.MAGIC):
            return data
        length = int.from_bytes(data[magic_end + 1 : head], "big")
        end = head + length
        if length > 1 << 20 or len(data) < end + crypto.SIGNATURE_SIZE:
            return data
        signature = crypto.sign(sender_seed, bundle.MANIFEST_SIGNATURE_LABEL, data[head:end])
        return data[:end] + signature + data[end + crypto.SIGNATURE_SIZE :]

    def container(data: bytes) -> None:
        data = resign(data[1:]) if data[:1] and data[0] & 1 else data[1:]
        parser = bundle._Parser(recipient.fingerprint, lookup, _NullSink(), bundle.Limits(), None)
        step = (61, 4099, 65536)[len(data) % 3]  # pieces of varied sizes, as age hands them over
        for start in range(0, len(data), step):
            parser.write(data[start : start + step])
        parser.finish()

    def container_seeds() -> list[bytes]:
        files = _files(VECTORS / "bundle", "*.bin") + _files(VECTORS / "bundle" / "invalid")
        return [prefix + f for f in files for prefix in (b"\x00", b"\x01")]

    # --- sealed reports --------------------------------------------------------------------
    def sealed_container(data: bytes) -> None:
        seal.verify_container(
            io.BytesIO(data), my_fingerprint=sealed_me, sink=_NullSink(), known_senders=None
        )

    def sealed_seeds() -> list[bytes]:
        return _files(VECTORS / "sealed", "*.container") + _files(VECTORS / "sealed" / "invalid")

    # --- cards and statements ------------------------------------------------------------
    def card(data: bytes) -> None:
        if identity.parse_card(data).to_text() != data:
            raise AssertionError("an accepted card is not its canonical text")

    def statement(data: bytes) -> None:
        if identity.parse_statement(data).to_text() != data:
            raise AssertionError("an accepted statement is not its canonical text")

    def identity_seeds() -> list[bytes]:
        folder = VECTORS / "identity"
        return (
            _files(folder, "*.txt") + _files(folder / "invalid") + _files(REPO / "keys", "*.card")
        )

    # --- checkpoints -----------------------------------------------------------------------
    def checkpoint(data: bytes) -> None:
        signed = data[1:]
        if data[:1] and data[0] & 1:
            try:
                signed = note.sign_note(data[1:], log_name, log_seed)
            except (ValueError, SecureSubmitError):
                return
        parsed = note.parse_and_verify_checkpoint(signed, log_name, log_public)
        if not 0 <= parsed.size <= merkle.MAX_TREE_SIZE or len(parsed.root_hash) != 32:
            raise AssertionError("an accepted checkpoint has an impossible size or root")

    def checkpoint_seeds() -> list[bytes]:
        note_text = (VECTORS / "audit" / "checkpoint.txt").read_bytes()
        body = checkpoint_vector["body"].encode()
        return [b"\x00" + note_text, b"\x01" + body, b"\x01" + body + b"extension line\n"]

    def verifier_key(data: bytes) -> None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return
        name, public = note.parse_verifier_key(text)
        if note.verifier_key(name, public) != text:
            raise AssertionError("an accepted verifier key is not its canonical text")

    def verifier_seeds() -> list[bytes]:
        return [checkpoint_vector["verifier_key"].encode()]

    # --- trust store --------------------------------------------------------------------
    # Two folders: with the shipped card (its parse is slow and fuzzed on its own above)
    # and without it (a missing card is a listed problem), chosen by the first byte.
    stores = []
    for with_cards in (False, True):
        store = Path(tempfile.mkdtemp(prefix="fuzz-store-", dir=_fast_tmp()))
        atexit.register(shutil.rmtree, store, True)
        if with_cards:
            for card_file in (REPO / "keys").glob("*.card"):
                shutil.copyfile(card_file, store / card_file.name)
        stores.append(store)

    def trust_store(data: bytes) -> None:
        store = stores[data[0] & 1] if data else stores[0]
        (store / partners.MANIFEST_NAME).write_bytes(data[1:])
        partners.read_trust_store(store)

    def trust_store_seeds() -> list[bytes]:
        manifest_text = (REPO / "keys" / "MANIFEST").read_bytes()
        return [b"\x00" + manifest_text, b"\x01" + manifest_text]

    # --- the audit log's clear parts of a vault ------------------------------------------
    head = len(audit.LEAF_MAGIC)
    fixed = head + 44

    def leaf(data: bytes) -> None:
        try:
            parsed = audit.parse_leaf(data)
        except SecureSubmitError:
            try:
                audit._leaf_writes(data, head, fixed)
            except SecureSubmitError:
                return
            raise AssertionError(
                "the auditor's fast path accepts a leaf parse_leaf refuses"
            ) from None
        fast = audit._leaf_writes(data, head, fixed)
        if len(fast) != len(parsed.writes):
            raise AssertionError("the two leaf parsers disagree")
        if audit.encode_leaf(parsed.seq, parsed.data_hash, parsed.writes) != data:  # type: ignore[arg-type]
            raise AssertionError("an accepted leaf is not its canonical encoding")

    def leaf_seeds() -> list[bytes]:
        vector = json.loads((VECTORS / "audit" / "event-leaf.json").read_text())
        return [bytes.fromhex(vector["leaf"])]

    def tree_state(data: bytes) -> None:
        state = merkle.TreeState.from_bytes(data)
        if state.to_bytes() != data:
            raise AssertionError("an accepted tree state is not its canonical encoding")
        merkle.decode_proof(data[: len(data) - len(data) % 32])

    def tree_state_seeds() -> list[bytes]:
        out = []
        for size in (0, 1, 7, 8, 13):
            state = merkle.TreeState()
            for i in range(size):
                state.append(merkle.leaf_hash(bytes([i])))
            out.append(state.to_bytes())
        return out

    def kdf_params(data: bytes) -> None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return
        vault._parse_params(text)

    def kdf_seeds() -> list[bytes]:
        return [
            b'{"iterations":1,"kdf":"argon2id","lanes":1,"memory_kib":64}',
            b'{"iterations":3,"kdf":"argon2id","lanes":4,"memory_kib":262144}',
        ]

    targets = [
        FuzzTarget(
            "age-header", "age header pre-check (agehdr.check_header_bytes)", age_seeds, age_header
        ),
        FuzzTarget(
            "bundle-manifest",
            "bundle manifest JSON (bundle.decode_manifest)",
            manifest_seeds,
            manifest,
        ),
        FuzzTarget(
            "bundle-container",
            "bundle container, re-signed (bundle reader)",
            container_seeds,
            container,
        ),
        FuzzTarget(
            "sealed-container",
            "sealed report container (seal.verify_container)",
            sealed_seeds,
            sealed_container,
        ),
        FuzzTarget("identity-card", "identity card (identity.parse_card)", identity_seeds, card),
        FuzzTarget(
            "statement",
            "rotation/revocation statement (identity.parse_statement)",
            identity_seeds,
            statement,
        ),
        FuzzTarget(
            "checkpoint",
            "signed checkpoint note, body re-signed (note)",
            checkpoint_seeds,
            checkpoint,
        ),
        FuzzTarget(
            "verifier-key",
            "signed-note verifier key (note.parse_verifier_key)",
            verifier_seeds,
            verifier_key,
        ),
        FuzzTarget(
            "trust-store",
            "trust-store MANIFEST (partners.read_trust_store)",
            trust_store_seeds,
            trust_store,
        ),
        FuzzTarget(
            "audit-leaf",
            "audit event leaf (audit.parse_leaf, the auditor's fast path)",
            leaf_seeds,
            leaf,
        ),
        FuzzTarget(
            "tree-state",
            "stored Merkle tree state and proofs (merkle)",
            tree_state_seeds,
            tree_state,
        ),
        FuzzTarget(
            "kdf-params",
            "key-slot KDF parameters of a vault (vault._parse_params)",
            kdf_seeds,
            kdf_params,
        ),
    ]
    return {t.name: FuzzTarget(t.name, t.what, t.seeds, guard(t.run)) for t in targets}


def _fast_tmp() -> str | None:
    """/dev/shm when there is one: the trust-store target writes a file per execution."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
