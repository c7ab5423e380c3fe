"""The audit log: event leaves, and verification of a vault without any secret key.

Specified in docs/spec/audit.md. The vault appends events (core/vault.py); this module
owns the leaf encoding and the auditor's check of a vault file against its log and
against checkpoints kept elsewhere.
"""

from __future__ import annotations

import gc
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
LOG_MLDSA_META = "log_mldsa_key"
"""The meta row of a hybrid log's ML-DSA-65 public key (docs/spec/audit.md §1)."""
KNOWN_META = frozenset({"format", "vault_id", "log_key", "tree_state", LOG_MLDSA_META})


def log_name(log_public_key: bytes, mldsa_public: bytes | None = None) -> str:
    """Key name and origin of a vault's log: names the key, not the vault's owner.

    A hybrid log's name covers both keys (SHA-256 of the Ed25519 key, then the ML-DSA-65
    key). Every checkpoint's origin line, which the Ed25519 signature covers, therefore
    says that the log is hybrid: removing the ML-DSA key from the vault's metadata and the
    ML-DSA lines from its checkpoints leaves origins that no longer match."""
    key = log_public_key if mldsa_public is None else log_public_key + mldsa_public
    return note.vault_log_name(crypto.sha256(key))


def encode_leaf(seq: int, data_hash: bytes, writes: Sequence[Write]) -> bytes:
    # Appended into one buffer: a list of four small parts per write held ~10 MiB for the
    # 20,000 writes of a 10,000-report import, where the leaf itself is 1.2 MB.
    out = bytearray(LEAF_MAGIC)
    out += struct.pack(">Q", seq)
    out += data_hash
    out += struct.pack(">I", len(writes))
    for write in writes:
        out.append(TABLE_CODES[write.table])
        out.append(len(write.row))
        out += write.row
        out += write.version.to_bytes(8, "big")
        out += write.data_hash
    return bytes(out)


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


_EVENT_BATCH = 4096
"""Events the auditor reads and checks at a time (about 1.5 MB of rows)."""
_TABLE_CODE_BYTES = bytes(sorted(TABLE_NAMES))
_DELETED_STATE = _VERSION_ZERO + DELETED
"""Version and hash of a write that deletes its row."""


def _batch_writes(leaves: Sequence[bytes]) -> tuple[list[bytes], list[bytes]]:
    """The writes of these leaves in order, as _leaf_writes gives them one leaf after the
    other, split into their keys and their states; FormatError if any leaf is malformed.

    When every leaf has exactly one write (the usual case), the rules of _leaf_writes are
    checked for the whole batch at once: magic, write count 1, a table's code, a row
    length that is not 0 and matches the leaf's size, and a version and hash that name
    a deletion together or not at all.
    """
    head = len(LEAF_MAGIC)
    fixed = head + 44
    count = len(leaves)
    # Write count (4 bytes), table code and row length of each leaf. A slice is at most
    # as long as its field, so a joined string of exactly count x 6 bytes means that
    # every leaf has these fields; equally for the magic.
    kinds = b"".join([leaf[fixed - 4 : fixed + 2] for leaf in leaves])
    if (
        len(kinds) != 6 * count
        or kinds[0::6] + kinds[1::6] + kinds[2::6] != bytes(3 * count)
        or kinds[3::6] != b"\x01" * count
        or b"".join([leaf[:head] for leaf in leaves]) != LEAF_MAGIC * count
    ):
        writes = [write for leaf in leaves for write in _leaf_writes(leaf, head, fixed)]
        return [key for key, _ in writes], [state for _, state in writes]
    codes, row_lengths = kinds[4::6], kinds[5::6]
    if (
        codes.translate(None, _TABLE_CODE_BYTES)  # what is left is no table's code
        or 0 in row_lengths
        or list(map(len, leaves)) != [fixed + 2 + length + 40 for length in row_lengths]
        or [leaf[-40:-32] == _VERSION_ZERO for leaf in leaves]
        != [leaf[-32:] == DELETED for leaf in leaves]
    ):
        raise FormatError("an audit event is malformed")
    return [leaf[fixed:-40] for leaf in leaves], [leaf[-40:] for leaf in leaves]


def _regular_batch(rows: list[Any], first_seq: int, expected: dict[bytes, bytes]) -> bytes | None:
    """The joined leaf hashes of a batch of events that pass every check of the per-event
    loop in verify_vault, applying their writes to ``expected``; or None, with nothing
    changed, if any event in the batch would be a problem (the caller then checks the
    batch event by event, to name each problem).

    The auditor's hot path: the same checks, made a batch at a time, so that the hashing
    and the comparisons of a million events run in C rather than as Python per event.
    """
    seqs = [row[0] for row in rows]
    leaves = [row[1] for row in rows]
    datas = [row[2] for row in rows]
    count = len(rows)
    if (
        first_seq < 0
        or set(map(type, seqs)) != {int}
        or set(map(type, leaves)) != {bytes}
        or set(map(type, datas)) != {bytes}
        or seqs != list(range(first_seq, first_seq + count))
    ):
        return None
    head = len(LEAF_MAGIC)
    try:
        keys, states = _batch_writes(leaves)
    except FormatError:
        return None
    # Joined fields, equal only if every event's is (see _batch_writes).
    seq_fields = b"".join([leaf[head : head + 8] for leaf in leaves])
    detail_hashes = b"".join([leaf[head + 8 : head + 40] for leaf in leaves])
    if seq_fields != struct.pack(f">{count}Q", *seqs):
        return None
    if detail_hashes != crypto.sha256_each(b"", datas):
        return None
    if _DELETED_STATE not in states:
        expected.update(zip(keys, states, strict=True))
    else:
        for key, state in zip(keys, states, strict=True):
            if state == _DELETED_STATE:
                expected.pop(key, None)
            else:
                expected[key] = state
    return crypto.sha256_each(b"\x00", leaves)


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
    log_mldsa_key: bytes | None = None
    """A hybrid log's ML-DSA-65 key: every checkpoint verified was signed by it too."""

    @property
    def log_key_id(self) -> str:
        return log_name(self.log_key, self.log_mldsa_key).rsplit("/", 1)[-1]

    def summary(self) -> str:
        text = (
            f"intact: {self.events:,} events, tree head {self.root.hex()[:16]}…, "
            f"signed by log key {self.log_key_id}"
            + (" (Ed25519 + ML-DSA-65)" if self.log_mldsa_key is not None else "")
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
    # The check makes millions of short-lived objects and no reference cycles: the
    # garbage collector's passes over them cost about a tenth of its time, for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _verify_vault(vault, against)
    finally:
        if collecting:
            gc.enable()


def _verify_vault(vault: Vault, against: Iterable[bytes]) -> AuditResult:
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
    mldsa_key = meta.get(LOG_MLDSA_META)
    if mldsa_key is not None:
        if not isinstance(mldsa_key, bytes) or len(mldsa_key) != crypto.MLDSA_PUBLIC_KEY_SIZE:
            raise LogTampered(["the vault's ML-DSA-65 log key is damaged"])
        try:
            crypto.check_mldsa_public_key(mldsa_key)
        except SecureSubmitError:
            raise LogTampered(["the vault's ML-DSA-65 log key is damaged"]) from None
    name = log_name(log_key, mldsa_key)

    def verify_checkpoint(text: bytes) -> note.Checkpoint:
        """One signed checkpoint under the log's key(s): Ed25519, and ML-DSA-65 if hybrid."""
        return note.parse_and_verify_checkpoint(text, name, log_key, mldsa_public=mldsa_key)

    checkpoints = [bytes(c) for c in against]
    parsed_against: list[note.Checkpoint] = []
    for text in checkpoints:
        try:
            parsed_against.append(verify_checkpoint(text))
        except note.NoMLDSASignature:
            problems.append("a given checkpoint has no valid ML-DSA-65 signature by the log key")
        except SecureSubmitError as exc:
            problems.append(f"a given checkpoint is not from this vault's log key ({exc})")
    wanted_sizes = {c.size for c in parsed_against}

    # Rows the log says exist now: key = table code + row id, value = version + hash.
    # A deletion removes its key, so memory follows the live rows, not the history.
    expected: dict[bytes, bytes] = {}
    leaf_hashes = bytearray()  # joined, 32 bytes per event
    sha256 = crypto.sha256
    magic = len(LEAF_MAGIC)
    fixed = magic + 44
    expected_seq = 0
    events = conn.execute("SELECT seq, leaf, data FROM events ORDER BY seq")
    while rows := events.fetchmany(_EVENT_BATCH):
        regular = _regular_batch(rows, expected_seq, expected)
        if regular is not None:
            leaf_hashes += regular
            expected_seq += len(rows)
            continue
        for seq, leaf, data in rows:
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
            leaf_hashes += sha256(b"\x00" + leaf)
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
    size = len(leaf_hashes) // merkle.HASH_SIZE

    def prefix_root(count: int) -> bytes:
        """The root of the log's first ``count`` events."""
        return merkle.root_of_joined_hashes(memoryview(leaf_hashes)[: count * merkle.HASH_SIZE])

    root = prefix_root(size)
    prefix_roots = {m: prefix_root(m) for m in wanted_sizes if 0 < m <= size}

    for table, code in TABLE_CODES.items():
        prefix = bytes([code])
        columns = "id, version, data" if table == "objects" else "id, 1, data"
        seen: set[bytes] = set()
        for row, version, data in conn.execute(f"SELECT {columns} FROM {table}"):  # noqa: S608
            if not (type(row) is bytes and type(version) is int and type(data) is bytes):
                problems.append(f"a {table} row holds a value of the wrong type")
                continue
            if version < 0:
                problems.append(f"a {table} row holds a negative version")
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
            own = verify_checkpoint(kept_note)
        except note.NoMLDSASignature:
            problems.append(f"checkpoint {kept_size} has no valid ML-DSA-65 signature")
            continue
        except SecureSubmitError:
            problems.append(f"the vault's stored checkpoint of size {kept_size:,} does not verify")
            continue
        if own.size != kept_size:
            problems.append(f"the vault's stored checkpoint of size {kept_size:,} was moved")
        elif own.size < size and own.root_hash != prefix_root(own.size):
            problems.append(f"the log differs from the vault's own checkpoint of size {own.size:,}")
    stored = conn.execute(
        "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1"
    ).fetchone()
    if stored is None:
        problems.append("the vault has no signed checkpoint")
    elif type(stored[1]) is not bytes:
        problems.append("the vault's latest checkpoint holds a value of the wrong type")
    else:
        try:
            head = verify_checkpoint(stored[1])
        except note.NoMLDSASignature:
            problems.append(f"checkpoint {stored[0]!r:.20} has no valid ML-DSA-65 signature")
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
    return AuditResult(
        size, root, log_key, sorted(c.size for c in parsed_against), log_mldsa_key=mldsa_key
    )
