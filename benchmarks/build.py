"""Builders of large test vaults for the benchmarks (never used by the program itself)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from securesubmit.core import audit, crypto, merkle, note
from securesubmit.core.service import create_vault
from securesubmit.core.vault import Write


def vault_with_events(path: Path, events: int, dump: Path) -> None:
    """A real vault, then ``events`` more well-formed events appended in one transaction.

    Each bulk event records one row deletion (the row is absent, as the log says) and
    carries random 'encrypted' details: the auditor parses every write, checks the hashes
    and recomputes the tree, as for real events. ``dump`` receives the
    same leaf and detail bytes, for sha256sum to hash as the reference.
    """
    session = create_vault(path, "benchmark passphrase", kdf=crypto.TEST_KDF)
    vault = session.vault
    log_seed = vault._log_seed
    if log_seed is None:
        raise RuntimeError("vault did not unlock")
    session.close()
    conn = sqlite3.connect(path)
    state = bytes(conn.execute("SELECT value FROM meta WHERE name = 'tree_state'").fetchone()[0])
    tree = merkle.TreeState.from_bytes(state)
    start = tree.size
    rows = []
    with open(dump, "wb") as out:
        for seq in range(start, start + events):
            data = os.urandom(208)
            write = Write.deletion("objects", os.urandom(16))
            leaf = audit.encode_leaf(seq, crypto.sha256(data), [write])
            tree.append(merkle.leaf_hash(leaf))
            rows.append((seq, leaf, data))
            out.write(leaf)
            out.write(data)
            if len(rows) >= 50_000:
                conn.executemany("INSERT INTO events (seq, leaf, data) VALUES (?, ?, ?)", rows)
                rows.clear()
    conn.executemany("INSERT INTO events (seq, leaf, data) VALUES (?, ?, ?)", rows)
    name = audit.log_name(crypto.signing_public_key(log_seed))
    body = note.format_checkpoint_body(note.Checkpoint(name, tree.size, tree.root()))
    conn.execute("DELETE FROM checkpoints")
    conn.execute(
        "INSERT INTO checkpoints (size, note) VALUES (?, ?)",
        (tree.size, note.sign_checkpoint(body, name, log_seed)),
    )
    conn.execute("UPDATE meta SET value = ? WHERE name = 'tree_state'", (tree.to_bytes(),))
    conn.commit()
    conn.close()
