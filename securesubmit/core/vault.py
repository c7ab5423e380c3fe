"""The vault file: SQLite through sqlite-utils, key slots, encrypted records and chunks.

Owns the on-disk format specified in docs/spec/vault.md. Knows nothing about reports or
partners: it stores opaque JSON records by id, encrypted and bound to their row.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from securesubmit.core import audit, crypto, fs, merkle, note
from securesubmit.core.streams import IterReader
from securesubmit.errors import (
    DecryptionFailed,
    InputError,
    NewerSchema,
    VaultCorrupt,
    VaultDestroyed,
    VaultExists,
    VaultInUse,
    VaultNotFound,
    WrongPassphrase,
)

if TYPE_CHECKING:
    import sqlite_utils

APPLICATION_ID = 0x53535631  # "SSV1"
SCHEMA_VERSION = 1
FORMAT_MAGIC = b"securesubmit-vault"
VAULT_ID_SIZE = 16
RECORD_ID_SIZE = 16
PAD_TO = 256
CHUNK_SIZE = 1024 * 1024
PAGE_SIZE = 65536
DEFAULT_MAX_FAILED = 10
LOG_MLDSA_META = audit.LOG_MLDSA_META  # "log_mldsa_key": a hybrid log's ML-DSA-65 key
MAX_RECORD_BYTES = 16 * 1024 * 1024

_SCHEMA = (
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE keyslots (slot INTEGER PRIMARY KEY, params TEXT NOT NULL, "
    "salt BLOB NOT NULL, wrapped BLOB NOT NULL)",
    "CREATE TABLE guard (id INTEGER PRIMARY KEY CHECK (id = 1), failed INTEGER NOT NULL, "
    "max_failed INTEGER NOT NULL)",
    "CREATE TABLE objects (id BLOB PRIMARY KEY, version INTEGER NOT NULL, "
    "data BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE chunks (id BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE events (seq INTEGER PRIMARY KEY, leaf BLOB NOT NULL, data BLOB NOT NULL)",
    "CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, note BLOB NOT NULL, "
    "kept INTEGER NOT NULL DEFAULT 0)",
)


_T = TypeVar("_T", int, str, bytes)


def stored(value: object, kind: type[_T], what: str, *, below: int = 1 << 63) -> _T:
    """A value read from the vault file, checked to have the type its column declares.

    SQLite keeps any type in any column, so whoever edits the file can store text, a
    float or an integer where bytes belong (a swapped page reads the same way). Every
    reader of a column goes through here: a wrong type is a damaged vault (VaultCorrupt,
    naming the column), never a crash. Integers of every column we write are at least 0
    and below ``below``.
    """
    if not isinstance(value, kind) or type(value) is not kind:
        raise VaultCorrupt(f"the vault file was altered: {what} holds a value of the wrong type")
    if isinstance(value, int) and not 0 <= value < below:
        raise VaultCorrupt(f"the vault file was altered: {what} holds a value out of range")
    return value


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _params_json(params: crypto.KdfParams) -> str:
    return canonical_json(
        {
            "kdf": "argon2id",
            "iterations": params.iterations,
            "lanes": params.lanes,
            "memory_kib": params.memory_kib,
        }
    ).decode("ascii")


def _parse_params(text: str) -> crypto.KdfParams:
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict) or set(raw) != {"kdf", "iterations", "lanes", "memory_kib"}:
            raise ValueError
        if raw["kdf"] != "argon2id" or text != _params_json_from(raw):
            raise ValueError
        params = crypto.KdfParams(
            memory_kib=int(raw["memory_kib"]),
            iterations=int(raw["iterations"]),
            lanes=int(raw["lanes"]),
        )
    except (ValueError, TypeError):
        raise VaultCorrupt("the vault's key slot is damaged") from None
    params.check_bounds()
    return params


def _params_json_from(raw: dict[str, Any]) -> str:
    if not all(type(raw[k]) is int for k in ("iterations", "lanes", "memory_kib")):
        raise ValueError
    return canonical_json(raw).decode("ascii")


def _slot_ad(vault_id: bytes, slot: int, params_json: str) -> bytes:
    return (
        b"securesubmit/v1/keyslot\x00"
        + vault_id
        + struct.pack(">I", slot)
        + params_json.encode("ascii")
    )


def _row_ad(vault_id: bytes, table: str, column: str, row: bytes, version: int) -> bytes:
    return (
        b"securesubmit/v1/row\x00"
        + vault_id
        + table.encode("ascii")
        + b"\x00"
        + column.encode("ascii")
        + b"\x00"
        + row
        + struct.pack(">Q", version)
    )


def pad(plaintext: bytes) -> bytes:
    body = struct.pack(">I", len(plaintext)) + plaintext
    return body + b"\x00" * (-len(body) % PAD_TO)


def unpad(padded: bytes) -> bytes:
    if len(padded) < 4 or len(padded) % PAD_TO:
        raise DecryptionFailed()
    (length,) = struct.unpack(">I", padded[:4])
    if length > len(padded) - 4 or any(padded[4 + length :]):
        raise DecryptionFailed()
    return padded[4 : 4 + length]


@dataclass(frozen=True)
class LockedInfo:
    """What anyone can read from a vault file without its passphrase."""

    path: Path
    size_bytes: int
    schema_version: int
    keyslots: int
    kdf: crypto.KdfParams | None
    failed_unlocks: int
    max_failed_unlocks: int


@dataclass(frozen=True)
class Write:
    """One row written in a transaction, for the audit log: its ciphertext's SHA-256, or
    version 0 and 32 zero bytes for a deletion. Only the hash is kept, so a transaction
    that writes gigabytes of chunks holds a few bytes per chunk, not the chunks."""

    table: str
    row: bytes
    version: int
    data_hash: bytes

    @classmethod
    def of(cls, table: str, row: bytes, version: int, data: bytes) -> Write:
        return cls(table, row, version, crypto.sha256(data))

    @classmethod
    def deletion(cls, table: str, row: bytes) -> Write:
        return cls(table, row, 0, bytes(32))


class Vault:
    """An open vault file. Created by ``create`` or ``open``; unlocked by ``unlock``."""

    def __init__(
        self, path: Path, conn: sqlite3.Connection, lock_fd: int, *, creating: bool = False
    ) -> None:
        self.path = path
        self._conn = conn
        self._lock_fd = lock_fd
        self._master: bytes | None = None
        self._records: crypto.Aead | None = None
        self._chunk_ids: bytes | None = None
        self._writes: list[Write] | None = None
        self.rng: crypto.Rng | None = None  # injected only to produce test vectors
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._log_seed: bytes | None = None
        self._log_mldsa_seed: bytes | None = None
        self._log_mldsa_public: bytes | None = None
        self._tree: merkle.TreeState | None = None
        self._kinds: dict[bytes, str] | None = None
        self.vault_id = b"" if creating else self._read_vault_id()

    # --- opening and closing -------------------------------------------------------

    @property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over the connection. Imported here, on first use (creating a
        vault, writing a key slot): with dateutil and pluggy it costs 0.1-0.25 s of the
        app's start-up, and unlocking or auditing a vault does not need it."""
        import sqlite_utils

        return sqlite_utils.Database(self._conn)

    @classmethod
    def create(
        cls,
        path: Path,
        passphrase: str,
        *,
        kdf: crypto.KdfParams,
        max_failed: int = DEFAULT_MAX_FAILED,
        rng: crypto.Rng | None = None,
        clock: Callable[[], datetime] | None = None,
        hybrid_log: bool = False,
    ) -> Vault:
        """A new vault. ``hybrid_log`` (a vault made with a hybrid identity) gives its log
        an ML-DSA-65 key beside the Ed25519 one: every checkpoint is signed by both."""
        path = Path(path)
        if path.exists():
            raise VaultExists()
        try:
            fs.ensure_private_dir(path.parent)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            raise VaultExists() from None
        except OSError as exc:
            raise InputError(
                f"cannot create a vault at {path}: {exc.strerror}",
                hint="choose a folder you can write to, with --vault",
            ) from None
        os.close(fd)
        try:
            vault = cls._connect(path, creating=True)
            with vault._transaction():
                vault.rng = rng
                if clock is not None:
                    vault.clock = clock
                vault._conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                vault._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                for statement in _SCHEMA:
                    vault._conn.execute(statement)
                vault_id = crypto.random_bytes(VAULT_ID_SIZE, rng)
                vault.db.table("meta").insert_all(
                    [
                        {"name": "format", "value": FORMAT_MAGIC},
                        {"name": "vault_id", "value": vault_id},
                    ]
                )
                vault.db.table("guard").insert({"id": 1, "failed": 0, "max_failed": max_failed})
                vault.vault_id = vault_id
                master = crypto.random_bytes(crypto.KEY_SIZE, rng)
                vault._write_slot(0, passphrase, master, kdf, rng)
                log_seed = crypto.generate_signing_key(rng)
                log_mldsa_seed = crypto.generate_mldsa_key(rng) if hybrid_log else None
                log_mldsa_public = None
                meta_rows: list[dict[str, Any]] = [
                    {"name": "log_key", "value": crypto.signing_public_key(log_seed)},
                    {"name": "tree_state", "value": merkle.TreeState().to_bytes()},
                ]
                if log_mldsa_seed is not None:
                    log_mldsa_public = crypto.mldsa_public_key(log_mldsa_seed)
                    meta_rows.append({"name": LOG_MLDSA_META, "value": log_mldsa_public})
                vault.db.table("meta").insert_all(meta_rows)
            vault._set_master(master)
            vault._log_seed = log_seed
            vault._log_mldsa_seed = log_mldsa_seed
            vault._log_mldsa_public = log_mldsa_public
            with vault.transaction("vault.created"):
                log_record = {"kind": "log-key", "schema": 1, "seed": log_seed.hex()}
                if log_mldsa_seed is not None:
                    log_record["mldsa_seed"] = log_mldsa_seed.hex()
                vault.put(vault.fixed_id("log-key"), log_record)
            return vault
        except BaseException:
            with contextlib.suppress(Exception):
                vault.close()
            fs.remove_vault_files(path)
            raise

    @classmethod
    def open(cls, path: Path) -> Vault:
        """Open (still locked) and take the process lock; checks format and schema."""
        path = Path(path)
        if not path.is_file():
            raise VaultNotFound()
        return cls._connect(path)

    @classmethod
    def _connect(cls, path: Path, *, creating: bool = False) -> Vault:
        try:
            lock_fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            raise VaultNotFound() from None
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise VaultInUse() from None
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            if creating:
                # Large pages roughly double the throughput of 1 MiB chunk rows (measured);
                # the page size must be chosen before WAL mode and the first table.
                conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            for pragma in (
                "PRAGMA secure_delete = ON",
                "PRAGMA temp_store = MEMORY",
                "PRAGMA locking_mode = EXCLUSIVE",
                "PRAGMA journal_mode = WAL",
                "PRAGMA synchronous = FULL",
                "PRAGMA trusted_schema = OFF",
                "PRAGMA cell_size_check = ON",
            ):
                conn.execute(pragma)
            if conn.execute("PRAGMA secure_delete").fetchone()[0] != 1:
                raise VaultCorrupt("SQLite refused secure_delete; refusing to continue")
            vault = cls(path, conn, lock_fd, creating=creating)
        except (sqlite3.DatabaseError, UnicodeDecodeError):
            if conn is not None:
                conn.close()
            os.close(lock_fd)
            raise VaultCorrupt() from None
        except BaseException:
            if conn is not None:
                conn.close()
            os.close(lock_fd)
            raise
        return vault

    def _read_vault_id(self) -> bytes:
        conn = self._conn
        (app_id,) = conn.execute("PRAGMA application_id").fetchone()
        (schema,) = conn.execute("PRAGMA user_version").fetchone()
        if app_id != APPLICATION_ID:
            raise VaultCorrupt()
        if schema > SCHEMA_VERSION:
            raise NewerSchema()
        if schema < 1:
            raise VaultCorrupt()
        try:
            rows = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        except sqlite3.DatabaseError:
            raise VaultCorrupt() from None
        vault_id = rows.get("vault_id")
        if rows.get("format") != FORMAT_MAGIC or not isinstance(vault_id, bytes):
            raise VaultCorrupt()
        if len(vault_id) != VAULT_ID_SIZE:
            raise VaultCorrupt()
        return vault_id

    def close(self) -> None:
        """Forget the keys, truncate the WAL and release the lock. Safe to call twice."""
        self._forget_keys()
        if self._lock_fd < 0:
            return
        try:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._conn.close()
        finally:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
            self._lock_fd = -1

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- passphrase and key slots -----------------------------------------------------

    def locked_info(self) -> LockedInfo:
        slots = self._conn.execute("SELECT params FROM keyslots ORDER BY slot").fetchall()
        failed, max_failed = self._guard()
        kdf = None
        if slots:
            with contextlib.suppress(VaultCorrupt, Exception):
                kdf = _parse_params(slots[0][0])
        return LockedInfo(
            path=self.path,
            size_bytes=fs.total_size(self.path),
            schema_version=int(self._conn.execute("PRAGMA user_version").fetchone()[0]),
            keyslots=len(slots),
            kdf=kdf,
            failed_unlocks=failed,
            max_failed_unlocks=max_failed,
        )

    def _guard(self) -> tuple[int, int]:
        row = self._conn.execute("SELECT failed, max_failed FROM guard WHERE id = 1").fetchone()
        if row is None:
            raise VaultCorrupt()
        return stored(row[0], int, "guard.failed"), stored(row[1], int, "guard.max_failed")

    def unlock(self, passphrase: str) -> None:
        """Derive the key from ``passphrase``; counts and limits failed attempts."""
        slots = self._conn.execute("SELECT slot, params, salt, wrapped FROM keyslots").fetchall()
        if not slots:
            raise VaultDestroyed()
        parsed = [
            (
                stored(s, int, "keyslots.slot", below=1 << 32),
                p,
                _parse_params(stored(p, str, "keyslots.params")),
                stored(salt, bytes, "keyslots.salt"),
                stored(w, bytes, "keyslots.wrapped"),
            )
            for s, p, salt, w in slots
        ]
        failed, max_failed = self._guard()
        with self._transaction():
            self._conn.execute("UPDATE guard SET failed = failed + 1 WHERE id = 1")
        failed += 1
        for slot, params_json, params, salt, wrapped in parsed:
            kek = crypto.derive_passphrase_key(passphrase, salt, params)
            try:
                master = crypto.aead_decrypt(
                    kek, wrapped, _slot_ad(self.vault_id, slot, params_json)
                )
            except DecryptionFailed:
                continue
            with self._transaction():
                self._conn.execute("UPDATE guard SET failed = 0 WHERE id = 1")
            self._set_master(master)
            return
        if failed >= max_failed:
            self.destroy_keyslots()
            raise VaultDestroyed(
                "too many wrong passphrases: this vault's keys were destroyed as configured"
            )
        left = max_failed - failed
        error = WrongPassphrase(
            f"the passphrase is wrong ({left} attempt{'s' if left != 1 else ''} left "
            "before the vault destroys its keys)"
        )
        error.attempts_left = left
        raise error

    def change_passphrase(
        self, new_passphrase: str, *, kdf: crypto.KdfParams, rng: crypto.Rng | None = None
    ) -> None:
        master = self._require_master()
        with self.transaction("passphrase.changed"):
            self._conn.execute("DELETE FROM keyslots")
            self._write_slot(0, new_passphrase, master, kdf, rng)
        self.checkpoint()

    def _write_slot(
        self,
        slot: int,
        passphrase: str,
        master: bytes,
        kdf: crypto.KdfParams,
        rng: crypto.Rng | None,
    ) -> None:
        salt = crypto.random_bytes(crypto.SALT_SIZE, rng)
        params_json = _params_json(kdf)
        kek = crypto.derive_passphrase_key(passphrase, salt, kdf)
        wrapped = crypto.aead_encrypt(
            kek, master, _slot_ad(self.vault_id, slot, params_json), rng=rng
        )
        self.db.table("keyslots").insert(
            {"slot": slot, "params": params_json, "salt": salt, "wrapped": wrapped}
        )

    def destroy_keyslots(self) -> None:
        """Delete every key slot; with secure_delete the freed pages are zeroed."""
        self._forget_keys()
        with self._transaction():
            self._conn.execute("DELETE FROM keyslots")
        self.checkpoint()

    # --- keys ---------------------------------------------------------------------------

    def _set_master(self, master: bytes) -> None:
        self._master = master
        self._records = crypto.Aead(
            crypto.derive_subkey(master, "vault/records", self.vault_id), self.rng
        )
        self._chunk_ids = crypto.derive_subkey(master, "vault/chunk-ids", self.vault_id)
        record = self.get(self.fixed_id("log-key"))
        if record is not None:
            self._log_seed = bytes.fromhex(record["seed"])
            mldsa_seed = record.get("mldsa_seed")
            self._log_mldsa_seed = None if mldsa_seed is None else bytes.fromhex(mldsa_seed)
            public = self.log_mldsa_public_key()
            mine = None
            if self._log_mldsa_seed is not None:
                mine = crypto.mldsa_public_key(self._log_mldsa_seed)
            if public != mine:
                # Signing with one key and not the other would only write checkpoints
                # that audit verify refuses: say so now.
                self._forget_keys()
                raise VaultCorrupt("the vault's ML-DSA-65 log key does not match its secret")
            self._log_mldsa_public = mine

    def fixed_id(self, name: str) -> bytes:
        """The row id of a singleton record (identity, log key): derived, so unlinkable."""
        key = crypto.derive_subkey(self._require_master(), "vault/fixed-ids", self.vault_id)
        return crypto.mac(key, name.encode("utf-8"))[:RECORD_ID_SIZE]

    def _forget_keys(self) -> None:
        self._kinds = None
        self._log_seed = None
        self._log_mldsa_seed = None
        self._log_mldsa_public = None
        self._master = None
        self._records = None
        self._chunk_ids = None

    def _require_master(self) -> bytes:
        if self._master is None:
            raise RuntimeError("vault is locked")
        return self._master

    @property
    def unlocked(self) -> bool:
        return self._master is not None

    # --- transactions -------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextlib.contextmanager
    def transaction(
        self, event: str, details: dict[str, Any] | None = None
    ) -> Iterator[list[Write]]:
        """One atomic change and its audit event, committed together or not at all."""
        if self._writes is not None:
            raise RuntimeError("transactions do not nest")
        self._writes = []
        try:
            with self._transaction():
                yield self._writes
                self._append_event(event, details or {}, self._writes)
        except BaseException:
            self._tree = None  # reload from the file: the append was rolled back
            self._kinds = None  # likewise the kinds of records put or deleted
            raise
        finally:
            self._writes = None

    @contextlib.contextmanager
    def scratch(self) -> Iterator[None]:
        """A transaction that is always rolled back: an encrypted scratch space.

        Opening a sealed report streams plaintext that is not yet authenticated; it goes
        into encrypted chunks here and vanishes with the rollback, whatever happens.
        """
        if self._writes is not None:
            raise RuntimeError("transactions do not nest")
        self._writes = []
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            self._conn.execute("ROLLBACK")
            self._writes = None

    def _load_tree(self) -> merkle.TreeState:
        if self._tree is None:
            row = self._conn.execute("SELECT value FROM meta WHERE name = 'tree_state'").fetchone()
            if row is None:
                raise VaultCorrupt("the vault's audit log state is missing")
            self._tree = merkle.TreeState.from_bytes(stored(row[0], bytes, "meta.tree_state"))
        return self._tree

    def log_public_key(self) -> bytes:
        row = self._conn.execute("SELECT value FROM meta WHERE name = 'log_key'").fetchone()
        if row is None:
            raise VaultCorrupt("the vault's log key is missing")
        key = stored(row[0], bytes, "meta.log_key")
        if len(key) != crypto.PUBLIC_KEY_SIZE:
            raise VaultCorrupt("the vault's log key is damaged")
        return key

    def log_mldsa_public_key(self) -> bytes | None:
        """The ML-DSA-65 public key of a hybrid log (meta ``log_mldsa_key``), else None."""
        row = self._conn.execute(
            "SELECT value FROM meta WHERE name = 'log_mldsa_key'"
        ).fetchone()
        if row is None:
            return None
        key = stored(row[0], bytes, "meta." + LOG_MLDSA_META)
        if len(key) != crypto.MLDSA_PUBLIC_KEY_SIZE:
            raise VaultCorrupt("the vault's ML-DSA-65 log key is damaged")
        return key

    def log_name(self) -> str:
        """The log's key name and origin (covering the ML-DSA-65 key of a hybrid log)."""
        return audit.log_name(self.log_public_key(), self.log_mldsa_public_key())

    def verify_own_checkpoint(self, checkpoint: bytes) -> note.Checkpoint:
        """A checkpoint this vault signed, checked under its log key(s) and name: both
        signatures for a hybrid log. Raises as note.parse_and_verify_checkpoint does."""
        return note.parse_and_verify_checkpoint(
            checkpoint,
            self.log_name(),
            self.log_public_key(),
            mldsa_public=self.log_mldsa_public_key(),
        )

    def _append_event(self, event: str, details: dict[str, Any], writes: list[Write]) -> None:
        if self._records is None or self._log_seed is None:
            raise RuntimeError("vault is locked")
        tree = self._load_tree()
        seq = tree.size
        stamp = self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"kind": "event", "schema": 1, "type": event, "time": stamp, "details": details}
        row = struct.pack(">Q", seq)
        data = self._records.encrypt(
            pad(canonical_json(body)), _row_ad(self.vault_id, "events", "data", row, 1)
        )
        leaf = audit.encode_leaf(seq, crypto.sha256(data), writes)
        self._conn.execute(
            "INSERT INTO events (seq, leaf, data) VALUES (?, ?, ?)", (seq, leaf, data)
        )
        tree.append(merkle.leaf_hash(leaf))
        self._conn.execute(
            "UPDATE meta SET value = ? WHERE name = 'tree_state'", (tree.to_bytes(),)
        )
        name = audit.log_name(crypto.signing_public_key(self._log_seed), self._log_mldsa_public)
        body_text = note.format_checkpoint_body(note.Checkpoint(name, tree.size, tree.root()))
        signed = note.sign_checkpoint(
            body_text,
            name,
            self._log_seed,
            mldsa_seed=self._log_mldsa_seed,
            mldsa_public=self._log_mldsa_public,
        )
        self._conn.execute("DELETE FROM checkpoints WHERE kept = 0")
        self._conn.execute(
            "INSERT INTO checkpoints (size, note) VALUES (?, ?)", (tree.size, signed)
        )

    def leaf_hashes(self) -> list[bytes]:
        """The Merkle leaf hash of every event, in order (for consistency proofs)."""
        return [
            merkle.leaf_hash(stored(leaf, bytes, "events.leaf"))
            for (leaf,) in self._conn.execute("SELECT leaf FROM events ORDER BY seq")
        ]

    def latest_checkpoint(self) -> bytes:
        row = self._conn.execute(
            "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1"
        ).fetchone()
        if row is None:
            raise VaultCorrupt("the vault has no signed checkpoint")
        return stored(row[0], bytes, "checkpoints.note")

    def keep_checkpoint(self, size: int) -> None:
        """Keep a checkpoint that left the vault (exported, sent in a bundle)."""
        self._conn.execute("UPDATE checkpoints SET kept = 1 WHERE size = ?", (size,))

    def events(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """The decrypted event history, oldest first."""
        if self._records is None:
            raise RuntimeError("vault is locked")
        for seq, data in self._conn.execute("SELECT seq, data FROM events ORDER BY seq"):
            seq = stored(seq, int, "events.seq")
            data = stored(data, bytes, "events.data")
            ad = _row_ad(self.vault_id, "events", "data", struct.pack(">Q", seq), 1)
            try:
                value = json.loads(unpad(self._records.decrypt(data, ad)))
            except (DecryptionFailed, ValueError):
                raise VaultCorrupt(
                    f"event {seq} failed authentication: the vault was altered"
                ) from None
            yield seq, value

    def _record(self, write: Write) -> None:
        if self._writes is None:
            raise RuntimeError("writes happen inside vault.transaction()")
        self._writes.append(write)

    def checkpoint(self) -> None:
        """Move everything from the WAL into the file and truncate the WAL."""
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # --- records --------------------------------------------------------------------

    @staticmethod
    def new_id(rng: crypto.Rng | None = None) -> bytes:
        return crypto.random_bytes(RECORD_ID_SIZE, rng)

    def put(self, record_id: bytes, value: dict[str, Any]) -> int:
        """Insert or replace a record; returns its new version."""
        if self._records is None:
            raise RuntimeError("vault is locked")
        if len(record_id) != RECORD_ID_SIZE:
            raise ValueError("record ids are 16 bytes")
        row = self._conn.execute(
            "SELECT version FROM objects WHERE id = ?", (record_id,)
        ).fetchone()
        version = 1 if row is None else stored(row[0], int, "objects.version") + 1
        ad = _row_ad(self.vault_id, "objects", "data", record_id, version)
        plaintext = pad(canonical_json(value))
        data = self._records.encrypt(plaintext, ad)
        self._conn.execute(
            "INSERT INTO objects (id, version, data) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET version = excluded.version, data = excluded.data",
            (record_id, version, data),
        )
        self._record(Write.of("objects", record_id, version, data))
        if self._kinds is not None:
            self._kinds[record_id] = str(value.get("kind", ""))
        return version

    def get(self, record_id: bytes) -> dict[str, Any] | None:
        row = self._conn.execute(
            "SELECT version, data FROM objects WHERE id = ?", (record_id,)
        ).fetchone()
        if row is None:
            return None
        return self._decrypt_record(
            record_id, stored(row[0], int, "objects.version"), stored(row[1], bytes, "objects.data")
        )

    def delete(self, record_id: bytes) -> None:
        self._conn.execute("DELETE FROM objects WHERE id = ?", (record_id,))
        self._record(Write.deletion("objects", record_id))
        if self._kinds is not None:
            self._kinds.pop(record_id, None)

    def records(self, kind: str | None = None) -> Iterator[tuple[bytes, dict[str, Any]]]:
        """Every record (or every record of one ``kind``), decrypted; a record that fails
        to decrypt raises.

        Kinds live inside the ciphertexts, so the first call after unlock decrypts
        everything once to learn them; the id → kind map is then kept in memory (never
        on disk) and updated by put and delete, so later listings of one kind decrypt
        only that kind's records.
        """
        if kind is not None and self._kinds is not None:
            wanted = [rid for rid, k in self._kinds.items() if k == kind]
            for record_id in wanted:
                value = self.get(record_id)
                if value is not None:
                    yield record_id, value
            return
        kinds: dict[bytes, str] = {}
        for record_id, version, data in self._conn.execute(
            "SELECT id, version, data FROM objects"
        ).fetchall():
            record_id = stored(record_id, bytes, "objects.id")
            version = stored(version, int, "objects.version")
            value = self._decrypt_record(record_id, version, stored(data, bytes, "objects.data"))
            kinds[record_id] = str(value.get("kind", ""))
            if kind is None or kinds[record_id] == kind:
                yield record_id, value
        self._kinds = kinds

    def _decrypt_record(self, record_id: bytes, version: int, data: bytes) -> dict[str, Any]:
        if self._records is None:
            raise RuntimeError("vault is locked")
        if len(data) > MAX_RECORD_BYTES:
            raise VaultCorrupt("a record in the vault is too large; the file was tampered with")
        ad = _row_ad(self.vault_id, "objects", "data", record_id, version)
        try:
            plaintext = unpad(self._records.decrypt(data, ad))
            value = json.loads(plaintext.decode("utf-8"))
        except (DecryptionFailed, UnicodeDecodeError, ValueError):
            raise VaultCorrupt(
                f"record {record_id.hex()[:8]} failed authentication: the vault was altered"
            ) from None
        if not isinstance(value, dict):
            raise VaultCorrupt(f"record {record_id.hex()[:8]} is malformed")
        return value

    # --- chunks ---------------------------------------------------------------------------

    def _chunk_row(self, attachment_id: bytes, index: int) -> bytes:
        if self._chunk_ids is None:
            raise RuntimeError("vault is locked")
        return crypto.mac(self._chunk_ids, attachment_id + struct.pack(">Q", index))[:16]

    def _chunk_cipher(self, attachment_id: bytes) -> crypto.Aead:
        key = crypto.derive_subkey(
            self._require_master(), "vault/chunks", self.vault_id + attachment_id
        )
        return crypto.Aead(key, self.rng)

    def write_chunks(
        self,
        attachment_id: bytes,
        read: Callable[[int], bytes],
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Stream ``read`` into encrypted chunk rows; returns the number of chunks.

        Must run inside ``transaction()``; commits are the caller's. Memory stays at a few
        chunks whatever the size. ``progress`` may raise to cancel: the transaction rolls
        back and nothing of the attachment remains.
        """
        cipher = self._chunk_cipher(attachment_id)
        index = 0
        done = 0
        while True:
            block = read(CHUNK_SIZE)
            if not block:
                break
            self._write_chunk(attachment_id, index, block, cipher)
            index += 1
            done += len(block)
            if progress is not None:
                progress(done)
        return index

    def chunk_writer(self, blob_id: bytes) -> ChunkWriter:
        """A file-like object that stores what is written as encrypted chunks of ``blob_id``.

        For streaming encoders (sealing, importing). Must be used inside ``transaction()``
        and closed before it ends; ``close()`` returns the number of chunks.
        """
        return ChunkWriter(self, blob_id)

    def chunk_reader(self, blob_id: bytes, count: int) -> IterReader:
        """A readable binary stream over the decrypted chunks of ``blob_id``."""
        return IterReader(self.read_chunks(blob_id, count))

    def _write_chunk(self, blob_id: bytes, index: int, block: bytes, cipher: crypto.Aead) -> None:
        ad = _row_ad(self.vault_id, "chunks", "data", blob_id, index)
        row = self._chunk_row(blob_id, index)
        data = cipher.encrypt(block, ad)
        self._conn.execute("INSERT INTO chunks (id, data) VALUES (?, ?)", (row, data))
        self._record(Write.of("chunks", row, 1, data))

    def read_chunks(self, attachment_id: bytes, count: int) -> Iterator[bytes]:
        cipher = self._chunk_cipher(attachment_id)
        for index in range(count):
            row = self._chunk_row(attachment_id, index)
            found = self._conn.execute("SELECT data FROM chunks WHERE id = ?", (row,)).fetchone()
            if found is None:
                raise VaultCorrupt(
                    f"attachment data is missing (chunk {index}): the vault was altered"
                )
            ad = _row_ad(self.vault_id, "chunks", "data", attachment_id, index)
            try:
                yield cipher.decrypt(stored(found[0], bytes, "chunks.data"), ad)
            except DecryptionFailed:
                raise VaultCorrupt(
                    f"attachment data failed authentication (chunk {index}): the vault was altered"
                ) from None

    def delete_chunks(self, attachment_id: bytes, count: int) -> None:
        for index in range(count):
            row = self._chunk_row(attachment_id, index)
            self._conn.execute("DELETE FROM chunks WHERE id = ?", (row,))
            self._record(Write.deletion("chunks", row))


class ChunkWriter:
    """Buffers writes into whole chunks; see Vault.chunk_writer.

    One buffer of CHUNK_SIZE, allocated once: each write is copied into it once, and a
    full buffer is encrypted as it is. A write of a whole chunk or more that arrives
    while the buffer is empty is encrypted straight from the caller's bytes."""

    def __init__(self, vault: Vault, blob_id: bytes) -> None:
        self._vault = vault
        self._blob_id = blob_id
        self._cipher = vault._chunk_cipher(blob_id)
        self._buffer = bytearray(CHUNK_SIZE)
        self._filled = 0
        self._index = 0
        self.size = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        if self.closed:
            raise ValueError("write to a closed chunk writer")
        view = memoryview(data).cast("B")
        count = len(view)
        while view:
            if not self._filled and len(view) >= CHUNK_SIZE:
                exact = count == CHUNK_SIZE and isinstance(data, bytes)  # all of data
                self._emit(data if exact else bytes(view[:CHUNK_SIZE]))
                view = view[CHUNK_SIZE:]
                continue
            take = min(CHUNK_SIZE - self._filled, len(view))
            self._buffer[self._filled : self._filled + take] = view[:take]
            self._filled += take
            view = view[take:]
            if self._filled == CHUNK_SIZE:
                self._emit(bytes(self._buffer))
                self._filled = 0
        self.size += count
        return count

    def flush(self) -> None:
        """Nothing to do: a partial chunk is written only by close()."""

    def _emit(self, block: bytes) -> None:
        self._vault._write_chunk(self._blob_id, self._index, block, self._cipher)
        self._index += 1

    def close(self) -> int:
        if not self.closed:
            if self._filled:
                self._emit(bytes(memoryview(self._buffer)[: self._filled]))
                self._filled = 0
            self._buffer = bytearray()
            self.closed = True
        return self._index


class ChunkSink:
    """Where streamed attachments or bundle members go: one chunk writer per index, all
    in the caller's transaction (a scratch one when the bytes are not yet verified).
    Implements the sink protocol of core/seal.py and core/bundle.py."""

    def __init__(self, vault: Vault, rng: crypto.Rng | None) -> None:
        self._vault = vault
        self._rng = rng
        self._writers: dict[int, ChunkWriter] = {}
        self.blobs: dict[int, tuple[bytes, int, int]] = {}

    def write(self, index: int, chunk: bytes) -> None:
        writer = self._writers.get(index)
        if writer is None:
            blob = Vault.new_id(self._rng)
            writer = self._writers[index] = self._vault.chunk_writer(blob)
            self.blobs[index] = (blob, 0, 0)
        writer.write(chunk)

    def commit(self) -> None:
        for index, writer in self._writers.items():
            self.blobs[index] = (self.blobs[index][0], writer.close(), writer.size)

    def discard(self) -> None:
        self._writers.clear()
        self.blobs.clear()

    def blob(self, index: int) -> tuple[bytes, int, int]:
        """(blob id, chunk count, size); an empty item got no write and has no chunks."""
        return self.blobs.get(index, (b"", 0, 0))

    def read(self, index: int) -> Iterator[bytes]:
        blob, count, _size = self.blob(index)
        return self._vault.read_chunks(blob, count) if count else iter(())
