"""A small world of real files for the attack suites: two partnered vaults and what they make.

A reporter and a coordinator are made with the real service (a cheap KDF and a fixed clock
set to the real time, so the command line, which uses the real clock, agrees). The reporter
files reports with attachments, seals them, exports bundles; the coordinator imports the
first. Everything a hostile channel could hand to SecureSubmit is kept as bytes: bundles
(age files and their plaintext containers), sealed reports (likewise), identity cards,
rotation and revocation statements, signed checkpoints and whole vault files.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from securesubmit.core import agev1, crypto, identity
from securesubmit.core.partners import VERIFIED_CONFIRMED
from securesubmit.core.service import Identity, Session, create_vault, unlock_vault
from tests.helpers import FAST_KDF, PASSPHRASE, FixedClock

REPORTER_NAME = "Aigerim Test"
COORDINATOR_NAME = "Free Press Org"
OTHER_NAME = "Other Reporter"
VAULT_TABLES = ("meta", "keyslots", "guard", "objects", "chunks", "events", "checkpoints")


def real_now_clock() -> FixedClock:
    """A fixed clock at the real current second: cards it signs are valid for the CLI too."""
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


def age_decrypt(data: bytes, secret: bytes) -> bytes:
    out = io.BytesIO()
    agev1.decrypt_untrusted(io.BytesIO(data), out, [secret])
    return out.getvalue()


def age_encrypt(data: bytes, public: bytes) -> bytes:
    out = io.BytesIO()
    agev1.encrypt_stream(io.BytesIO(data), out, [agev1.X25519Recipient(public)])
    return out.getvalue()


def vault_digest(conn: sqlite3.Connection) -> str:
    """SHA-256 over every row of every vault table: equal digests, equal vaults."""
    h = hashlib.sha256()
    for table in VAULT_TABLES:
        h.update(table.encode() + b"\x00")
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):  # noqa: S608
            for value in row:
                raw = value if isinstance(value, bytes) else repr(value).encode()
                h.update(len(raw).to_bytes(8, "big") + raw)
    return h.hexdigest()


def file_vault_digest(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return vault_digest(conn)
    finally:
        conn.close()


def vault_dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, read with plain SQLite (raises sqlite3.Error if it cannot)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        dump = {
            t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr)  # noqa: S608
            for t in VAULT_TABLES
        }
        dump["pragmas"] = [
            conn.execute("PRAGMA application_id").fetchone(),
            conn.execute("PRAGMA user_version").fetchone(),
        ]
        return dump
    finally:
        conn.close()


@dataclass
class World:
    root: Path
    clock: FixedClock
    reporter_identity: Identity
    coord_identity: Identity
    # Outside files, as bytes.
    bundles: list[bytes] = field(default_factory=list)  # b1 (imported), b2 (not yet)
    bundle_containers: list[bytes] = field(default_factory=list)
    b1_hash: bytes = b""
    sealed: list[bytes] = field(default_factory=list)  # addressed to the coordinator
    sealed_containers: list[bytes] = field(default_factory=list)
    sealed_report_ids: list[str] = field(default_factory=list)
    cards: list[bytes] = field(default_factory=list)  # the reporter's, then a stranger's
    statements: list[bytes] = field(default_factory=list)  # rotation, revocation (reporter)
    checkpoints: list[bytes] = field(default_factory=list)  # the reporter's, two sizes
    foreign_checkpoint: bytes = b""  # the coordinator's: same format, another key
    vaults: list[bytes] = field(default_factory=list)  # reporter, coordinator (closed)

    @property
    def coord_path(self) -> Path:
        return self.root / "coordinator.db"

    @property
    def reporter_path(self) -> Path:
        return self.root / "reporter.db"

    def open_coordinator(self) -> Session:
        return unlock_vault(self.coord_path, PASSPHRASE, clock=self.clock)

    def copy_vault(self, which: Path, to: Path) -> Path:
        to.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(which, to)
        return to


def build_world(root: Path, *, attachment_bytes: int = 150_000) -> World:
    """Make the two vaults and every kind of file; leaves both vaults closed."""
    root.mkdir(parents=True, exist_ok=True)
    clock = real_now_clock()
    # Classical vaults: the mutations below edit version 1 files, which readers still accept
    # from classical partners; version 2 tampering is in test_tamper.py's hybrid tests.
    reporter = create_vault(
        root / "reporter.db",
        PASSPHRASE,
        name=REPORTER_NAME,
        kdf=FAST_KDF,
        clock=clock,
        post_quantum=False,
    )
    coord = create_vault(
        root / "coordinator.db",
        PASSPHRASE,
        name=COORDINATOR_NAME,
        role="coordinator",
        kdf=FAST_KDF,
        clock=clock,
        post_quantum=False,
    )
    stranger = create_vault(
        root / "stranger.db",
        PASSPHRASE,
        name=OTHER_NAME,
        kdf=FAST_KDF,
        clock=clock,
        post_quantum=False,
    )
    try:
        reporter.add_partner(coord.own_card(), verified=VERIFIED_CONFIRMED)
        reporter_card = reporter.own_card()
        coord.add_partner(reporter_card, verified=VERIFIED_CONFIRMED)
        world = World(root, clock, reporter.identity, coord.identity)
        world.cards = [reporter_card.to_text(), stranger.own_card().to_text()]

        files = root / "inputs"
        files.mkdir(exist_ok=True)
        receipts = []
        for n, size in enumerate((attachment_bytes, 0, 70_000)):
            report = reporter.create_report(
                title=f"report {n}", category="repression", description=f"text {n} " * 40
            )
            if size:
                source = files / f"evidence-{n}.bin"
                source.write_bytes(os.urandom(size))
                reporter.attach_file(report.id, source, scrub=False)
            receipts.append(reporter.seal_report(report.id, [COORDINATOR_NAME]))
            clock.advance(60)

        for receipt in receipts[:2]:
            out = files / f"{receipt.id}.age"
            reporter.export_sealed_file(receipt.id, out)
            world.sealed.append(out.read_bytes())
            world.sealed_report_ids.append(receipt.report_id)
        world.sealed_containers = [
            age_decrypt(s, world.coord_identity.encryption_secret) for s in world.sealed
        ]

        reporter.export_checkpoint(files / "checkpoint-1.txt")
        first = reporter.export_bundle(
            COORDINATOR_NAME, files / "b1.ssb", report_refs=[receipts[0].id]
        )
        world.b1_hash = first.bundle_hash
        clock.advance(60)
        reporter.export_checkpoint(files / "checkpoint-2.txt")
        reporter.export_bundle(COORDINATOR_NAME, files / "b2.ssb", report_refs=[receipts[2].id])
        world.bundles = [(files / "b1.ssb").read_bytes(), (files / "b2.ssb").read_bytes()]
        world.bundle_containers = [
            age_decrypt(b, world.coord_identity.encryption_secret) for b in world.bundles
        ]
        world.checkpoints = [
            (files / "checkpoint-1.txt").read_bytes(),
            (files / "checkpoint-2.txt").read_bytes(),
        ]
        coord.export_checkpoint(files / "foreign-checkpoint.txt")
        world.foreign_checkpoint = (files / "foreign-checkpoint.txt").read_bytes()

        me = world.reporter_identity
        later = clock() + timedelta(days=1)
        rotation = identity.make_rotation(
            me.signing_seed,
            me.encryption_public,
            crypto.generate_signing_key(),
            crypto.encryption_public_key(crypto.generate_encryption_key()),
            later,
        )
        revocation = identity.make_revocation(
            me.signing_seed, me.encryption_public, later, "test: laptop seized"
        )
        world.statements = [rotation.to_text(), revocation.to_text()]

        coord.import_bundle(files / "b1.ssb")
    finally:
        reporter.close()
        coord.close()
        stranger.close()
    world.vaults = [world.reporter_path.read_bytes(), world.coord_path.read_bytes()]
    return world
