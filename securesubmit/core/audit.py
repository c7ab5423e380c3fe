"""The audit log: event leaves, and verification of a vault without any secret key.

Specified in docs/spec/audit.md. The vault appends events (core/vault.py); this module
owns the leaf encoding and the auditor's check of a vault file against its log and
against checkpoints kept elsewhere.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from securesubmit.core import crypto, merkle, note
from securesubmit.errors import FormatError, SecureSubmitError, VerificationError

if TYPE_CHECKING:
    from securesubmit.core.vault import Vault, Write

LEAF_MAGIC = b"securesubmit-event v1\n"
TABLE_CODES = {"objects": 1, "chunks": 2}
TABLE_NAMES = {code: name for name, code in TABLE_CODES.items()}
DELETED = bytes(32)
MAX_WRITES_PER_EVENT = 1 << 24
MAX_PROBLEMS_SHOWN = 50
KNOWN_META = frozenset({"format", "vault_id", "log_key", "tree_state"})


def log_name(log_public_key: bytes) -> str:
    """Key name and origin of a vault's log: names the key, not the vault's owner."""
    return note.vault_log_name(crypto.sha256(log_public_key))


def encode_leaf(seq: int, data_hash: bytes, writes: Sequence[Write]) -> bytes:
    parts = [LEAF_MAGIC, struct.pack(">Q", seq), data_hash, struct.pack(">I", len(writes))]
    for write in writes:
        parts.append(bytes([TABLE_CODES[write.table], len(write.row)]))
        parts.append(write.row)
        parts.append(struct.pack(">Q", write.version))
        parts.append(write.data_hash)
    return b"".join(parts)


@dataclass(frozen=True)
class LeafWrite:
    table: str
    row: bytes
    version: int
    data_hash: bytes

    @property
    def deleted(self) -> bool:
        return self.version == 0


@dataclass(frozen=True)
class Leaf:
    seq: int
    data_hash: bytes
    writes: tuple[LeafWrite, ...]


_VERSION_ZERO = bytes(8)


def _leaf_writes(leaf: bytes, head: int, fixed: int) -> list[tuple[bytes, bytes]]:
    """The writes of a leaf as (table code + row length + row id, version + hash) pairs.

    The auditor's hot path: the same rules as parse_leaf, without building objects.
    """
    if len(leaf) < fixed or not leaf.startswith(LEAF_MAGIC):
        raise FormatError("an audit event is malformed")
    count = int.from_bytes(leaf[fixed - 4 : fixed], "big")
    out = []
    pos = fixed
    size = len(leaf)
    for _ in range(count):
        if pos + 2 > size:
            raise FormatError("an audit event is malformed")
        row_end = pos + 2 + leaf[pos + 1]
        end = row_end + 40
        if leaf[pos] not in TABLE_NAMES or row_end == pos + 2 or end > size:
            raise FormatError("an audit event is malformed")
        state = leaf[row_end:end]
        if (state[:8] == _VERSION_ZERO) != (state[8:] == DELETED):
            raise FormatError("an audit event is malformed")
        out.append((leaf[pos:row_end], state))
        pos = end
    if pos != size:
        raise FormatError("an audit event is malformed")
    return out


def parse_leaf(leaf: bytes) -> Leaf:
    """Strict parse of a stored leaf; raises FormatError."""
    head = len(LEAF_MAGIC)
    fixed = head + 8 + 32 + 4
    if len(leaf) < fixed or not leaf.startswith(LEAF_MAGIC):
        raise FormatError("an audit event is malformed")
    seq = int.from_bytes(leaf[head : head + 8], "big")
    data_hash = leaf[head + 8 : head + 40]
    count = int.from_bytes(leaf[head + 40 : fixed], "big")
    if count > MAX_WRITES_PER_EVENT:
        raise FormatError("an audit event is malformed")
    writes = []
    pos = fixed
    size = len(leaf)
    for _ in range(count):
        if pos + 2 > size:
            raise FormatError("an audit event is malformed")
        code, row_len = leaf[pos], leaf[pos + 1]
        row_end = pos + 2 + row_len
        end = row_end + 40
        table = TABLE_NAMES.get(code)
        if table is None or row_len == 0 or end > size:
            raise FormatError("an audit event is malformed")
        version = int.from_bytes(leaf[row_end : row_end + 8], "big")
        row_hash = leaf[row_end + 8 : end]
        if (version == 0) != (row_hash == DELETED):
            raise FormatError("an audit event is malformed")
        writes.append(LeafWrite(table, leaf[pos + 2 : row_end], version, row_hash))
        pos = end
    if pos != size:
        raise FormatError("an audit event is malformed")
    return Leaf(seq, data_hash, tuple(writes))


@dataclass
class AuditResult:
    """What a successful verification established."""

    events: int
    root: bytes
    log_key: bytes
    checked_against: list[int] = field(default_factory=list)

    @property
    def log_key_id(self) -> str:
        return log_name(self.log_key).rsplit("/", 1)[-1]

    def summary(self) -> str:
        text = (
            f"intact: {self.events:,} events, tree head {self.root.hex()[:16]}…, "
            f"signed by log key {self.log_key_id}"
        )
        if self.checked_against:
            sizes = ", ".join(f"{s:,}" for s in self.checked_against)
            text += f"; consistent with checkpoint(s) of size {sizes}"
        return text


class LogTampered(VerificationError):
    """The vault does not match its audit log: records were altered, removed or rolled back."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        text = "tampered: " + "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
        super().__init__(text, hint="compare with a backup and with checkpoints partners kept")


def _short(row: bytes) -> str:
    return row.hex()[:8] + "…"


def verify_vault(vault: Vault, against: Iterable[bytes] = ()) -> AuditResult:
    """Check a vault file against its own log and against kept checkpoints.

    Needs no passphrase. Returns what was established; raises LogTampered listing every
    problem found, or FormatError if a given checkpoint cannot be read at all.
    """
    conn = vault._conn
    problems: list[str] = []
    meta = {
        name: value
        for name, value in conn.execute("SELECT name, value FROM meta").fetchall()
        if type(name) is str
    }
    log_key = meta.get("log_key")
    if not isinstance(log_key, bytes) or len(log_key) != 32:
        raise LogTampered(["the vault's log key is missing or damaged"])
    name = log_name(log_key)

    checkpoints = [bytes(c) for c in against]
    parsed_against: list[note.Checkpoint] = []
    for text in checkpoints:
        try:
            parsed_against.append(note.parse_and_verify_checkpoint(text, name, log_key))
        except SecureSubmitError as exc:
            problems.append(f"a given checkpoint is not from this vault's log key ({exc})")
    wanted_sizes = {c.size for c in parsed_against}

    # Rows the log says exist now: key = table code + row id, value = version + hash.
    # A deletion removes its key, so memory follows the live rows, not the history.
    expected: dict[bytes, bytes] = {}
    leaf_hashes: list[bytes] = []
    sha256 = crypto.sha256
    magic = len(LEAF_MAGIC)
    fixed = magic + 44
    expected_seq = 0
    for seq, leaf, data in conn.execute("SELECT seq, leaf, data FROM events ORDER BY seq"):
        if not (type(seq) is int and type(leaf) is bytes and type(data) is bytes):
            problems.append(f"an event row holds a value of the wrong type (event {seq!r:.20})")
            continue
        if seq != expected_seq:
            if seq > expected_seq:
                problems.append(
                    f"event{'s' if seq - expected_seq > 1 else ''} {expected_seq}"
                    + (f"–{seq - 1}" if seq - expected_seq > 1 else "")
                    + " missing"
                )
            expected_seq = seq
        expected_seq += 1
        leaf_hashes.append(sha256(b"\x00" + leaf))
        try:
            writes = _leaf_writes(leaf, magic, fixed)
        except FormatError:
            problems.append(f"event {seq} is malformed")
            continue
        if int.from_bytes(leaf[magic : magic + 8], "big") != seq:
            leaf_seq = int.from_bytes(leaf[magic : magic + 8], "big")
            problems.append(f"event {seq} was moved (it says it is event {leaf_seq})")
        if leaf[magic + 8 : magic + 40] != sha256(data):
            problems.append(f"event {seq}'s details were altered")
        for key, state in writes:
            if state[:8] == _VERSION_ZERO:
                expected.pop(key, None)
            else:
                expected[key] = state
    size = len(leaf_hashes)
    root = merkle.root_of_hash_list(leaf_hashes)
    prefix_roots = {
        m: merkle.root_of_hash_list(leaf_hashes[:m]) for m in wanted_sizes if 0 < m <= size
    }
    all_leaf_hashes = leaf_hashes

    for table, code in TABLE_CODES.items():
        prefix = bytes([code])
        columns = "id, version, data" if table == "objects" else "id, 1, data"
        seen: set[bytes] = set()
        for row, version, data in conn.execute(f"SELECT {columns} FROM {table}"):  # noqa: S608
            if not (type(row) is bytes and type(version) is int and type(data) is bytes):
                problems.append(f"a {table} row holds a value of the wrong type")
                continue
            if not 0 < len(row) < 256:
                problems.append(f"a {table} row has a malformed id")
                continue
            key = prefix + bytes([len(row)]) + row
            seen.add(key)
            logged = expected.get(key)
            if logged is None:
                problems.append(f"{table} row {_short(row)} is not in the log")
            elif logged != version.to_bytes(8, "big") + sha256(data):
                problems.append(f"{table} row {_short(row)} was altered")
        for key in expected:
            if key[0] == code and key not in seen:
                problems.append(f"{table} row {_short(key[2:])} was deleted outside the log")

    unknown_meta = sorted(str(k) for k in set(meta) - KNOWN_META)
    if unknown_meta:
        problems.append(f"the vault holds unknown metadata: {', '.join(unknown_meta)[:80]}")
    try:
        stored_state = meta.get("tree_state")
        if type(stored_state) is not bytes:
            raise FormatError("missing")
        tree_state = merkle.TreeState.from_bytes(stored_state)
        if tree_state.size != size or tree_state.root() != root:
            raise FormatError("differs")
    except FormatError:
        problems.append("the stored tree state differs from the log (it was altered)")
    kept_rows = conn.execute("SELECT size, note FROM checkpoints ORDER BY size").fetchall()
    for kept_size, kept_note in kept_rows[:-1]:  # the latest one is judged below
        if type(kept_size) is not int or type(kept_note) is not bytes:
            problems.append("a stored checkpoint holds a value of the wrong type")
            continue
        try:
            own = note.parse_and_verify_checkpoint(kept_note, name, log_key)
        except SecureSubmitError:
            problems.append(f"the vault's stored checkpoint of size {kept_size:,} does not verify")
            continue
        if own.size != kept_size:
            problems.append(f"the vault's stored checkpoint of size {kept_size:,} was moved")
        elif own.size < size and own.root_hash != merkle.root_of_hash_list(
            all_leaf_hashes[: own.size]
        ):
            problems.append(f"the log differs from the vault's own checkpoint of size {own.size:,}")
    stored = conn.execute(
        "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1"
    ).fetchone()
    if stored is None:
        problems.append("the vault has no signed checkpoint")
    else:
        try:
            head = note.parse_and_verify_checkpoint(bytes(stored[1]), name, log_key)
        except SecureSubmitError as exc:
            problems.append(f"the vault's checkpoint does not verify ({exc})")
        else:
            if head.size > size:
                problems.append(
                    f"events after {size} are missing (the signed checkpoint covers {head.size})"
                )
            elif head.size < size:
                problems.append(f"the log has {size - head.size} event(s) no checkpoint signs")
            elif head.root_hash != root:
                problems.append("the log was rewritten: its root differs from the signed one")

    for kept in parsed_against:
        if kept.size > size:
            problems.append(
                f"rolled back: a kept checkpoint covers {kept.size:,} events, "
                f"the vault has only {size:,}"
            )
        elif kept.size == 0:
            continue
        elif prefix_roots.get(kept.size) != kept.root_hash:
            problems.append(
                f"fork: the vault's first {kept.size:,} events differ from a kept checkpoint"
            )

    if problems:
        raise LogTampered(problems)
    return AuditResult(size, root, log_key, sorted(c.size for c in parsed_against))
