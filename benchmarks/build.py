"""Builders of large test vaults and files for the benchmarks (never used by the program).

Everything here runs in the harness's setup phase, outside any timing. What it builds is
real: vaults made by ``create_vault``, reports sealed by ``seal.seal_report`` and bundles
written by ``Session.export_bundle``, so a coordinator's import checks every byte of it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, cast

from securesubmit.core import audit, crypto, merkle, note, seal
from securesubmit.core.models import Receipt, Report, now_iso
from securesubmit.core.partners import VERIFIED_CONFIRMED
from securesubmit.core.service import Session, _HashingWriter, create_vault, unlock_vault
from securesubmit.core.vault import Vault, Write

PASSPHRASE = "benchmark passphrase"  # noqa: S105 - of throw-away benchmark vaults
REPORTER = "Aigerim"
COORDINATOR = "Free Press Org"
BLOCK = 1024 * 1024
REPORT_TEXT_CHARS = 1500
"""With the other fields and the header, a report's sealed container is about 2 KB."""


@dataclass(frozen=True)
class Pair:
    """A reporter vault and a coordinator vault that are each other's partners.

    Both are templates, closed and small: a workload copies one (``copy_vault``) and
    works on the copy, so every run starts from the same state. ``identity_file`` holds
    the coordinator's age identity and ``recipient`` its age recipient, for the age CLI.
    """

    reporter: Path
    coordinator: Path
    identity_file: Path
    recipient: str


def make_pair(directory: Path, *, post_quantum: bool | None = None) -> Pair:
    """Two partnered vaults (cheap Argon2id: the KDF is not what these cases measure),
    hybrid or classical as ``post_quantum`` says (None: create_vault's default). The age
    CLI 1.1.1 opens only a classical pair's files."""
    directory.mkdir(parents=True, exist_ok=True)
    reporter_path, coordinator_path = directory / "reporter.db", directory / "coordinator.db"
    reporter = create_vault(
        reporter_path, PASSPHRASE, name=REPORTER, kdf=crypto.TEST_KDF, post_quantum=post_quantum
    )
    coordinator = create_vault(
        coordinator_path,
        PASSPHRASE,
        name=COORDINATOR,
        role="coordinator",
        kdf=crypto.TEST_KDF,
        post_quantum=post_quantum,
    )
    try:
        reporter.add_partner(coordinator.own_card(), verified=VERIFIED_CONFIRMED)
        coordinator.add_partner(reporter.own_card(), verified=VERIFIED_CONFIRMED)
        secret = coordinator.identity.encryption_secret
        (directory / "coordinator.agekey").write_text(crypto.age_identity(secret) + "\n")
        (directory / "coordinator.agekey").chmod(0o600)
        (directory / "coordinator.recipient").write_text(coordinator.identity.age_recipient)
    finally:
        reporter.close()
        coordinator.close()
    return load_pair(directory)


def load_pair(directory: Path) -> Pair:
    """The pair ``make_pair`` left in ``directory`` (probes get only its path)."""
    return Pair(
        reporter=directory / "reporter.db",
        coordinator=directory / "coordinator.db",
        identity_file=directory / "coordinator.agekey",
        recipient=(directory / "coordinator.recipient").read_text().strip(),
    )


def copy_vault(template: Path, destination: Path) -> Path:
    """A fresh copy of a closed vault (its WAL was truncated when it was closed)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, destination)
    destination.chmod(0o600)
    return destination


def remove_vault(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def open_copy(template: Path, destination: Path) -> Session:
    return unlock_vault(copy_vault(template, destination), PASSPHRASE)


def random_file(path: Path, size: int) -> Path:
    """``size`` random bytes (incompressible, like a video); left in the page cache."""
    with open(path, "wb") as out:
        left = size
        while left:
            block = os.urandom(min(BLOCK, left))
            out.write(block)
            left -= len(block)
    return path


def warm(path: Path) -> None:
    """Read a file once so that it is in the page cache."""
    with open(path, "rb") as handle:
        while handle.readinto(bytearray(BLOCK)):
            pass


def bundle_with_attachment(pair: Pair, attachment: Path, out: Path, work: Path) -> Path:
    """A bundle to the coordinator holding one sealed report with ``attachment``."""
    path = work / "bundle-source.db"
    session = open_copy(pair.reporter, path)
    try:
        report = session.create_report(title="large attachment", category="media")
        session.attach_file(report.id, attachment)
        session.seal_report(report.id, [COORDINATOR])
    finally:
        session.close()
    return export_and_remove(path, out)


def export_and_remove(vault: Path, out: Path) -> Path:
    """Export every unsent sealed report of a closed reporter vault, then remove it."""
    session = unlock_vault(vault, PASSPHRASE)
    try:
        session.export_bundle(COORDINATOR, out)
    finally:
        session.close()
        remove_vault(vault)
    return out


def seal_many(session: Session, count: int, *, clock: datetime | None = None) -> None:
    """Seal ``count`` reports of about 2 KB to the coordinator, in one transaction.

    The same path as ``Session.seal_report`` (``seal.seal_report`` into the vault's chunk
    writer, then the receipt), with the partner and identity looked up once: the service
    looks them up, and lists attachments, by decrypting every record of the vault for
    every report, so sealing 10,000 one by one costs minutes (measured by the
    ``seal-one-by-one`` probe). No draft is stored: sealing deletes it anyway.
    """
    vault = session.vault
    me = session.identity
    (partner,) = session._sealing_partners([COORDINATOR])
    now = (clock or datetime.now(UTC)).replace(microsecond=0)
    stamp = now_iso(now)
    text = "x" * REPORT_TEXT_CHARS
    with vault.transaction("report.sealed", {"bulk": count, "builder": "benchmarks"}):
        for number in range(count):
            report = Report(
                id=Vault.new_id().hex(),
                title=f"report {number}",
                category="media",
                created=stamp,
                updated=stamp,
                country="KZ",
                description=text,
            )
            fields = {k: v for k, v in report.to_record().items() if k not in ("kind", "schema")}
            fields["attachments_evidence_originals"] = []
            sealed_id = Vault.new_id()
            writer = _HashingWriter(vault.chunk_writer(sealed_id))
            result = seal.seal_report(
                cast(BinaryIO, writer),
                report=fields,
                attachments=[],
                sender_seed=me.signing_seed,
                sender_encryption_public=me.encryption_public,
                recipients=[partner.keys],
                report_id=report.id,
                created=now,
                sealed=now,
                sender_mldsa_seed=me.mldsa_seed,
                sender_pq_public=me.hybrid_public,
            )
            chunks = writer.close()
            receipt = Receipt(
                id=sealed_id.hex(),
                report_id=report.id,
                title=report.title,
                category=report.category,
                incident_date=report.incident_date,
                country=report.country,
                created=report.created,
                sealed=stamp,
                recipients=[{"name": partner.name, "fingerprint": partner.fingerprint.hex()}],
                keep_readable=False,
                payload_sha256=result.payload_sha256.hex(),
                file_sha256=writer.hexdigest(),
                file_size=writer.size,
                chunks=chunks,
                encryption=result.encryption,
                signature=result.signature_protection,
            )
            vault.put(sealed_id, receipt.to_record())
    vault.checkpoint()


def reporter_with_sealed_reports(pair: Pair, count: int, destination: Path) -> Path:
    """A copy of the reporter template holding ``count`` sealed, unsent reports."""
    session = open_copy(pair.reporter, destination)
    try:
        seal_many(session, count)
    finally:
        session.close()
    return destination


def vault_with_events(path: Path, events: int, dump: Path) -> None:
    """A real vault, then ``events`` more well-formed events appended in one transaction.

    Each bulk event records one row deletion (the row is absent, as the log says) and
    carries random 'encrypted' details: the auditor parses every write, checks the hashes
    and recomputes the tree, as for real events. ``dump`` receives the
    same leaf and detail bytes, for sha256sum to hash as the reference.
    """
    session = create_vault(path, PASSPHRASE, kdf=crypto.TEST_KDF)
    vault = session.vault
    log_seed = vault._log_seed
    if log_seed is None:
        raise RuntimeError("vault did not unlock")
    # A new vault's log is hybrid: its checkpoints carry an ML-DSA-65 line too.
    mldsa_seed, mldsa_public = vault._log_mldsa_seed, vault._log_mldsa_public
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
    name = audit.log_name(crypto.signing_public_key(log_seed), mldsa_public)
    body = note.format_checkpoint_body(note.Checkpoint(name, tree.size, tree.root()))
    conn.execute("DELETE FROM checkpoints")
    conn.execute(
        "INSERT INTO checkpoints (size, note) VALUES (?, ?)",
        (
            tree.size,
            note.sign_checkpoint(
                body, name, log_seed, mldsa_seed=mldsa_seed, mldsa_public=mldsa_public
            ),
        ),
    )
    conn.execute("UPDATE meta SET value = ? WHERE name = 'tree_state'", (tree.to_bytes(),))
    conn.commit()
    conn.close()
