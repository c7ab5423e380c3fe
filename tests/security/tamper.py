"""The tamper engine: mutate every kind of file SecureSubmit reads and check how each is handled.

Targets (one per kind of outside input, each with the real consumer of that input):

=================  ==========================================  ===========================
target             mutated                                     handed to
=================  ==========================================  ===========================
bundle             the bundle file (age layer and all)         coordinator ``import_bundle``
bundle-container   the plaintext container, re-encrypted       coordinator ``import_bundle``
sealed             the sealed report file                      ``open_sealed_file`` + save
sealed-container   the plaintext container, re-encrypted       ``open_sealed_file`` + save
sealed-in-bundle   the sealed container, re-encrypted and put  coordinator ``import_bundle``
                   into a bundle correctly signed by its
                   sender (so only the sealed layer can catch it)
card               an identity card                            ``parse_card``, ``add_partner``
statement          rotation and revocation statements          ``parse_statement``
checkpoint         the reporter's signed checkpoints           ``audit verify --against``
vault              whole vault files (reporter, coordinator)   ``audit verify``, then unlock
                                                               and read every record
=================  ==========================================  ===========================

Outcomes. ``refused``: a SecureSubmitError, and the coordinator's vault is unchanged (every
row of every table compared). For a vault file, ``detected`` (audit verify or unlock refused
it), ``no effect`` (it passed and plain SQLite shows the same rows: the bytes changed were
unused space) or ``by design`` (only the failed-unlock counter or a checkpoint's "kept" flag
changed: neither is authenticated, see SECURITY.md). ``equivalent``: accepted, and it means
exactly what the original means. Anything else is a finding: ``CRASH`` (an exception that
is not a SecureSubmitError), ``UNDETECTED`` (accepted with another meaning), ``CHANGED``
(refused, but the vault changed anyway), or a CLI run that exits 70 or shows a traceback.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from securesubmit.core import bundle, crypto, identity, note
from securesubmit.core.audit import log_name
from securesubmit.core.partners import VERIFIED_CONFIRMED
from securesubmit.core.service import Session, unlock_vault, verify_audit
from securesubmit.errors import SecureSubmitError
from tests.helpers import PASSPHRASE, cli_env
from tests.security import mutate
from tests.security.world import World, age_encrypt, vault_digest, vault_dump

FINDING = ("CRASH", "UNDETECTED", "CHANGED")
CLI_OK_CODES = frozenset({0, 1, 3, 4, 5, 6, 7})


@dataclass
class Finding:
    target: str
    kind: str
    outcome: str
    detail: str
    reproducer: Path | None = None


@dataclass
class TargetResult:
    name: str
    tried: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    known: list[Finding] = field(default_factory=list)
    cli_runs: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.tried.values())

    def count(self, *prefixes: str) -> int:
        return sum(n for label, n in self.outcomes.items() if label.startswith(prefixes))


@dataclass
class TamperResult:
    targets: list[TargetResult]
    known_bugs: tuple[KnownBug, ...] = ()

    @property
    def total(self) -> int:
        return sum(t.total for t in self.targets)

    @property
    def findings(self) -> list[Finding]:
        return [f for t in self.targets for f in t.findings]

    @property
    def known(self) -> list[Finding]:
        return [f for t in self.targets for f in t.known]

    def table(self) -> str:
        head = (
            f"{'target':18} {'tried':>6} {'refused':>8} {'no effect':>9} {'known':>6} "
            f"{'crashes':>8} {'undetected':>10} {'changed':>8} {'cli':>4}  most frequent refusal"
        )
        lines = [head, "-" * len(head)]
        for t in self.targets:
            refusals = Counter(
                {k: v for k, v in t.outcomes.items() if k.startswith(("refused", "detected"))}
            )
            top = refusals.most_common(1)[0][0] if refusals else "-"
            lines.append(
                f"{t.name:18} {t.total:>6} {t.count('refused', 'detected'):>8} "
                f"{t.count('no effect', 'by design', 'equivalent'):>9} {t.count('known'):>6} "
                f"{t.count('CRASH'):>8} {t.count('UNDETECTED'):>10} "
                f"{t.count('CHANGED'):>8} {t.cli_runs:>4}  {top}"
            )
        lines.append(
            "known: a weakness in KNOWN_BUGS (its xfail test fails today); crashes, undetected "
            "and changed are new findings"
        )
        return "\n".join(lines)


# --- known bugs, each with its xfail(strict=True) test in test_tamper.py -------------------


def damaged_page_vault(path: Path) -> Path:
    """A vault whose ``objects`` table has a damaged B-tree page, as a bad sector or a
    careless edit would leave it: made with the real service, then one byte of SQLite's
    page header overwritten."""
    _small_vault(path)
    return damage_objects_page(path)


def damage_objects_page(path: Path) -> Path:
    """Overwrite the page type of the ``objects`` table's root page (closed vault)."""
    conn = sqlite3.connect(path)
    try:
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'objects'"
        ).fetchone()
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    finally:
        conn.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * page_size] = 0x00  # not a valid B-tree page type
    path.write_bytes(bytes(data))
    return path


def mistyped_row_vault(path: Path) -> Path:
    """A vault with one crafted row whose id is an integer instead of 16 bytes: SQLite
    stores any type in any column, so an editor of the file can write this."""
    _small_vault(path)
    conn = sqlite3.connect(path)
    try:
        conn.execute("INSERT INTO objects (id, version, data) VALUES (42, 1, X'00')")
        conn.commit()
    finally:
        conn.close()
    return path


def mistyped_value_vault(path: Path, edit: str) -> Path:
    """A vault with one crafted value of the wrong type, written with ``edit`` (SQL)."""
    _small_vault(path)
    conn = sqlite3.connect(path)
    try:
        conn.execute(edit)
        conn.commit()
    finally:
        conn.close()
    return path


def non_utf8_text_vault(path: Path) -> Path:
    """A vault with a crafted row whose id is TEXT that is not UTF-8 (SQLite stores any
    type in any column; a swapped page can show the same)."""
    _small_vault(path)
    conn = sqlite3.connect(path)
    try:
        conn.execute(
            "INSERT INTO objects (id, version, data) VALUES (CAST(X'FF00FF' AS TEXT), 1, X'00')"
        )
        conn.commit()
    finally:
        conn.close()
    return path


def damaged_schema_vault(path: Path) -> Path:
    """A vault whose stored schema (sqlite_master) has one byte that is not UTF-8: SQLite's
    error message then quotes it, and Python's sqlite3 fails to decode the message."""
    _small_vault(path)
    data = bytearray(path.read_bytes())
    where = data.index(b"CREATE TABLE guard (") + len(b"CREATE TABLE guard ")
    data[where] = 0xA8  # was "(": one flipped bit
    path.write_bytes(bytes(data))
    return path


def altered_old_checkpoint_vault(path: Path) -> Path:
    """A vault with a kept (exported) checkpoint that is no longer the latest, whose
    signature line was then altered in the file."""
    from securesubmit.core.service import create_vault
    from tests.helpers import FAST_KDF

    with create_vault(path, PASSPHRASE, name="Kept", kdf=FAST_KDF) as session:
        session.export_checkpoint(path.with_suffix(".checkpoint"))
        session.create_report(title="after the export", category="media")
    conn = sqlite3.connect(path)
    try:
        (size,) = conn.execute("SELECT min(size) FROM checkpoints").fetchone()
        conn.execute(
            "UPDATE checkpoints SET note = CAST(replace(CAST(note AS TEXT), '— ', '—`') "
            "AS BLOB) WHERE size = ?",
            (size,),
        )
        conn.commit()
    finally:
        conn.close()
    return path


def lost_tree_state_vault(path: Path) -> Path:
    """A vault whose stored Merkle tree state (a clear ``meta`` row) was overwritten."""
    _small_vault(path)
    conn = sqlite3.connect(path)
    try:
        conn.execute("UPDATE meta SET value = X'00' WHERE name = 'tree_state'")
        conn.commit()
    finally:
        conn.close()
    return path


def _small_vault(path: Path) -> None:
    from securesubmit.core.service import create_vault
    from tests.helpers import FAST_KDF

    with create_vault(path, PASSPHRASE, name="Damaged", kdf=FAST_KDF) as session:
        session.create_report(title="a draft", category="media")


@dataclass(frozen=True)
class KnownBug:
    """A weakness found by these suites and not fixed yet. While ``make`` still reproduces
    it, mutants that crash with one of ``exceptions`` are counted as known, not as new
    findings; once it is fixed, the same crash fails the suite again."""

    exceptions: tuple[str, ...]  # the crashes it explains; () for an undetected change
    make: Callable[[Path], Path]
    test: str
    summary: str

    def present(self, scratch: Path) -> bool:
        scratch.mkdir(parents=True, exist_ok=True)
        path = self.make(scratch / f"known-{os.getpid()}-{time.monotonic_ns()}.db")
        try:
            verify_audit(path)
        except SecureSubmitError:
            return False
        except Exception as error:
            return f"{type(error).__module__}.{type(error).__name__}" in self.exceptions
        return not self.exceptions


# Fixed in this session (each still has its own regression test in test_tamper.py):
# damaged SQLite pages and non-UTF-8 text (now VaultCorrupt), mistyped rows (reported),
# the stored tree state and unknown metadata (compared and refused), older kept
# checkpoints (each verified against its prefix), a damaged schema (VaultCorrupt), and
# values of the wrong type in any column (every reader goes through vault.stored, the
# auditor names the column: test_a_value_of_the_wrong_type_in_any_column_is_reported_...).
KNOWN_BUGS: tuple[KnownBug, ...] = ()
UNCHECKED_META: KnownBug | None = None
UNCHECKED_OLD_CHECKPOINTS: KnownBug | None = None


# --- the targets ---------------------------------------------------------------------------


class Target:
    name = ""
    cli_every = 0  # run every n-th mutant through the command line too (0: never)

    def originals(self) -> list[bytes]:
        raise NotImplementedError

    def material(self) -> list[bytes]:
        return self.originals()

    def attempt(self, mutant: bytes) -> str:
        """The outcome label; raises nothing."""
        raise NotImplementedError

    def cli(self, mutant: bytes) -> tuple[int, str] | None:
        return None


def _refusal(error: BaseException) -> str:
    return f"refused:{type(error).__name__}"


def _import(ctx: Context, data: bytes) -> str:
    path = ctx.scratch("m.ssb", data)
    result = ctx.coord.import_bundle(path)
    if result.decision == "duplicate":
        return "equivalent: a duplicate of an imported bundle"
    return f"UNDETECTED: imported as {result.decision}"


class _CoordinatorTarget(Target):
    """Targets whose consumer is the coordinator's open session; its vault must not change."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @property
    def coord(self) -> Session:
        return self.ctx.coord

    def guarded(self, action: Callable[[], str]) -> str:
        before = self.ctx.coord_digest()
        try:
            label = action()
        except SecureSubmitError as error:
            label = _refusal(error)
        except Exception as error:  # a finding: report it, keep going
            return f"CRASH:{type(error).__module__}.{type(error).__name__}: {str(error)[:80]}"
        if self.ctx.coord_digest() != before and not label.startswith("UNDETECTED"):
            return f"CHANGED after {label}"
        return label


class BundleTarget(_CoordinatorTarget):
    name = "bundle"
    cli_every = 250

    def originals(self) -> list[bytes]:
        return list(self.ctx.world.bundles)

    def attempt(self, mutant: bytes) -> str:
        return self.guarded(lambda: _import(self.ctx, mutant))

    def cli(self, mutant: bytes) -> tuple[int, str] | None:
        path = self.ctx.scratch("cli.ssb", mutant)
        return self.ctx.run_cli("import", str(path))


class BundleContainerTarget(BundleTarget):
    name = "bundle-container"

    def originals(self) -> list[bytes]:
        return list(self.ctx.world.bundle_containers)

    def attempt(self, mutant: bytes) -> str:
        sealed = age_encrypt(mutant, self.ctx.world.coord_identity.encryption_public)
        return self.guarded(lambda: _import(self.ctx, sealed))

    def cli(self, mutant: bytes) -> tuple[int, str] | None:
        return super().cli(age_encrypt(mutant, self.ctx.world.coord_identity.encryption_public))


class SealedTarget(_CoordinatorTarget):
    name = "sealed"
    cli_every = 250

    def originals(self) -> list[bytes]:
        return list(self.ctx.world.sealed)

    def attempt(self, mutant: bytes) -> str:
        return self.guarded(lambda: self._open(mutant))

    def _open(self, data: bytes) -> str:
        path = self.ctx.scratch("m.age", data)
        save = self.ctx.empty_dir("saved")
        try:
            opened, _ = self.coord.open_sealed_file(path, save)
        finally:
            leftovers = list(save.iterdir())
        if leftovers:
            return f"UNDETECTED: {len(leftovers)} attachment(s) saved"
        known = self.ctx.opened_originals()
        if (opened.payload_sha256, opened.signature) in known:
            return "equivalent: opens as the original report"
        return "UNDETECTED: opened"

    def cli(self, mutant: bytes) -> tuple[int, str] | None:
        path = self.ctx.scratch("cli.age", mutant)
        save = self.ctx.empty_dir("cli-saved")
        result = self.ctx.run_cli("sealed", "open", str(path), "--save-attachments", str(save))
        if result[0] != 0 and list(save.iterdir()):
            return 99, "a refused sealed report left files in the save folder"
        return result


class SealedContainerTarget(SealedTarget):
    name = "sealed-container"

    def originals(self) -> list[bytes]:
        return list(self.ctx.world.sealed_containers)

    def attempt(self, mutant: bytes) -> str:
        sealed = age_encrypt(mutant, self.ctx.world.coord_identity.encryption_public)
        return self.guarded(lambda: self._open(sealed))

    def cli(self, mutant: bytes) -> tuple[int, str] | None:
        return super().cli(age_encrypt(mutant, self.ctx.world.coord_identity.encryption_public))


class SealedInBundleTarget(_CoordinatorTarget):
    """The bundle layer is genuine (signed by the report's own sender, next in the chain),
    so every refusal here comes from the sealed report's own checks on import."""

    name = "sealed-in-bundle"
    cli_every = 0

    def originals(self) -> list[bytes]:
        return list(self.ctx.world.sealed_containers)

    def attempt(self, mutant: bytes) -> str:
        world = self.ctx.world
        index = self._closest(mutant)
        member = age_encrypt(mutant, world.coord_identity.encryption_public)
        out = io.BytesIO()
        me = world.reporter_identity
        bundle.write_bundle(
            out,
            sender_seed=me.signing_seed,
            sender_keys=me.keys,
            recipient=world.coord_identity.keys,
            sequence=2,
            previous_hash=world.b1_hash,
            members=[
                bundle.Member(
                    report_id=world.sealed_report_ids[index],
                    size=len(member),
                    sha256=crypto.sha256(member),
                    open=lambda: io.BytesIO(member),
                )
            ],
            statements=(),
            audit=None,
            created=world.clock(),
        )
        data = out.getvalue()
        return self.guarded(lambda: _import(self.ctx, data))

    def _closest(self, mutant: bytes) -> int:
        """The original a mutant was made from (its report id goes into the manifest, so
        that a sealed report the seal layer let through would be imported, not refused
        for a mismatched id): the one sharing the longest start and end."""
        scores = [
            _common(mutant, o) + _common(mutant[::-1], o[::-1])
            for o in self.ctx.world.sealed_containers
        ]
        return scores.index(max(scores))


def _common(a: bytes, b: bytes) -> int:
    """The length of the common prefix of ``a`` and ``b``."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class CardTarget(_CoordinatorTarget):
    name = "card"
    cli_every = 100

    def originals(self) -> list[bytes]:
        return list(self.ctx.world.cards)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.parsed = [identity.parse_card(c) for c in ctx.world.cards]

    def attempt(self, mutant: bytes) -> str:
        def parse() -> str:
            card = identity.parse_card(mutant)
            if card in self.parsed:
                return "equivalent: the same card"
            self.coord.add_partner(card, verified=VERIFIED_CONFIRMED)
            return "UNDETECTED: a changed card was accepted"

        return self.guarded(parse)

    def cli(self, mutant: bytes) -> tuple[int, str] | None:
        path = self.ctx.scratch("cli.card", mutant)
        return self.ctx.run_cli("partners", "add", str(path), "--yes")


class StatementTarget(_CoordinatorTarget):
    name = "statement"
    cli_every = 100

    def originals(self) -> list[bytes]:
        return list(self.ctx.world.statements)

    def attempt(self, mutant: bytes) -> str:
        def parse() -> str:
            statement = identity.parse_statement(mutant)
            if statement.to_text() in self.ctx.world.statements:
                return "equivalent: the same statement"
            self.coord.apply_statement(statement)
            return "UNDETECTED: a changed statement was accepted"

        return self.guarded(parse)

    def cli(self, mutant: bytes) -> tuple[int, str] | None:
        path = self.ctx.scratch("cli.statement", mutant)
        return self.ctx.run_cli("partners", "statement", str(path))


class CheckpointTarget(Target):
    name = "checkpoint"
    cli_every = 100

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.vault = ctx.world.reporter_path
        with unlock_vault(self.vault, PASSPHRASE) as session:
            self.log_key = session.vault.log_public_key()
        self.name_ = log_name(self.log_key)
        self.parsed = [
            note.parse_and_verify_checkpoint(c, self.name_, self.log_key)
            for c in ctx.world.checkpoints
        ]

    def originals(self) -> list[bytes]:
        return list(self.ctx.world.checkpoints)

    def material(self) -> list[bytes]:
        return [*self.ctx.world.checkpoints, self.ctx.world.foreign_checkpoint]

    def attempt(self, mutant: bytes) -> str:
        try:
            verify_audit(self.vault, [mutant])
        except SecureSubmitError as error:
            return _refusal(error)
        except Exception as error:
            return f"CRASH:{type(error).__module__}.{type(error).__name__}: {str(error)[:80]}"
        try:
            parsed = note.parse_and_verify_checkpoint(mutant, self.name_, self.log_key)
        except SecureSubmitError:
            return "UNDETECTED: audit verify accepted a checkpoint that does not verify"
        if parsed in self.parsed:
            return "equivalent: the same checkpoint"
        return "UNDETECTED: audit verify accepted a changed checkpoint"

    def cli(self, mutant: bytes) -> tuple[int, str] | None:
        path = self.ctx.scratch("cli-checkpoint.txt", mutant)
        return self.ctx.run_cli("audit", "verify", str(self.vault), "--against", str(path))


class VaultTarget(Target):
    name = "vault"
    cli_every = 150

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.dumps = [self._dump_of(v, f"orig{n}.db") for n, v in enumerate(ctx.world.vaults)]

    def _dump_of(self, data: bytes, name: str) -> dict[str, Any]:
        return vault_dump(self.ctx.scratch(name, data))

    def originals(self) -> list[bytes]:
        return list(self.ctx.world.vaults)

    def attempt(self, mutant: bytes) -> str:
        path = self.ctx.fresh_vault_path()
        path.write_bytes(mutant)
        try:
            verify_audit(path)
        except SecureSubmitError as error:
            return f"detected by audit verify:{type(error).__name__}"
        except Exception as error:
            return self._crash(error, "audit verify")
        try:
            dump = vault_dump(path)  # before unlocking, which writes the counter
        except sqlite3.Error as error:
            dump = {"unreadable": [(str(error),)]}
        try:
            with unlock_vault(path, PASSPHRASE, clock=self.ctx.world.clock) as session:
                read_everything(session)
        except SecureSubmitError as error:
            return f"detected on unlock:{type(error).__name__}"
        except Exception as error:
            return self._crash(error, "unlock")
        return self._judge(dump)

    def _crash(self, error: BaseException, where: str) -> str:
        name = f"{type(error).__module__}.{type(error).__name__}"
        if any(name in bug.exceptions for bug in self.ctx.known_bugs):
            return f"known:{name} from {where}"
        return f"CRASH:{name} from {where}: {str(error)[:80]}"

    def _judge(self, dump: dict[str, Any]) -> str:
        if "unreadable" in dump:
            return "UNDETECTED: plain SQLite cannot read it, yet audit verify and unlock passed"
        for original in self.dumps:
            changed = {t for t in original if original[t] != dump.get(t)}
            if (
                changed == {"meta"}
                and _only_tree_state(original["meta"], dump["meta"])
                and UNCHECKED_META in self.ctx.known_bugs
            ):
                return "known: only the unchecked tree state (meta) changed"
            if (
                changed == {"checkpoints"}
                and _latest(original["checkpoints"]) == _latest(dump["checkpoints"])
                and UNCHECKED_OLD_CHECKPOINTS in self.ctx.known_bugs
            ):
                return "known: only an older kept checkpoint changed"
            if not changed:
                return "no effect: only unused bytes changed"
            if changed == {"guard"}:
                return "by design: the failed-unlock counter is not authenticated"
            if changed == {"checkpoints"} and _without_kept(original) == _without_kept(dump):
                return "by design: a checkpoint's kept flag is not authenticated"
        return "UNDETECTED: the vault reads and verifies with other content"

    def cli(self, mutant: bytes) -> tuple[int, str] | None:
        path = self.ctx.fresh_vault_path()
        path.write_bytes(mutant)
        code, text = self.ctx.run_cli("audit", "verify", str(path))
        if code == 0:
            code, more = self.ctx.run_cli("report", "list", vault=path)
            text += more
        return code, text


def _only_tree_state(before: list[Any], after: list[Any]) -> bool:
    """True if the meta rows that open and verify a vault (format, vault id, log key)
    are unchanged, so only the tree state or extra rows differ."""
    checked = {"format", "vault_id", "log_key"}
    return [r for r in before if r[0] in checked] == [r for r in after if r[0] in checked]


def _latest(rows: list[Any]) -> Any:
    sizes = [r for r in rows if isinstance(r[0], int)]
    return max(sizes, key=lambda r: r[0]) if sizes else None


def _without_kept(dump: dict[str, Any]) -> list[Any]:
    return [row[:2] for row in dump.get("checkpoints", [])]


def read_everything(session: Session) -> None:
    """Decrypt every record a user can reach, and stream every attachment and sealed copy."""
    session.identity  # noqa: B018 - decrypts the identity record
    session.list_partners()
    session.audit_log()
    for report in session.list_reports():
        for attachment in session.list_attachments(report.id):
            for _ in session.read_attachment(attachment):
                pass
    for receipt in session.list_receipts():
        if not receipt.copy_deleted:
            hasher = hashlib.sha256()
            with session.open_sealed_copy(receipt) as stream:
                while block := stream.read(1 << 20):
                    hasher.update(block)
            if hasher.hexdigest() != receipt.file_sha256:
                raise AssertionError("a sealed copy changed without an error")
    for item in session.list_inbox():
        for attachment in item.attachments:
            if attachment["chunks"]:
                for _ in session.vault.read_chunks(
                    bytes.fromhex(attachment["blob"]), attachment["chunks"]
                ):
                    pass


# --- running ------------------------------------------------------------------------------


@dataclass
class Context:
    world: World
    work: Path
    coord: Session
    cli_env: dict[str, str]
    cli_vault: Path
    known_bugs: tuple[KnownBug, ...]
    findings_dir: Path | None
    _opened: set[tuple[bytes, bytes]] | None = None
    _counter: int = 0

    def scratch(self, name: str, data: bytes) -> Path:
        path = self.work / name
        path.write_bytes(data)
        return path

    def empty_dir(self, name: str) -> Path:
        path = self.work / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir()
        return path

    def fresh_vault_path(self) -> Path:
        folder = self.work / "vaults"
        folder.mkdir(exist_ok=True)
        self._counter += 1
        for old in folder.iterdir():
            old.unlink()
        return folder / f"m{self._counter}.db"

    def coord_digest(self) -> str:
        return vault_digest(self.coord.vault._conn)

    def opened_originals(self) -> set[tuple[bytes, bytes]]:
        if self._opened is None:
            self._opened = set()
            for data in self.world.sealed:
                opened, _ = self.coord.open_sealed_file(self.scratch("orig.age", data))
                self._opened.add((opened.payload_sha256, opened.signature))
        return self._opened

    def run_cli(self, *args: str, vault: Path | None = None) -> tuple[int, str]:
        env = dict(self.cli_env)
        env["SECURESUBMIT_VAULT"] = str(vault or self.cli_vault)
        result = subprocess.run(
            [sys.executable, "-m", "securesubmit", *args],
            env=env,
            input="",
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return result.returncode, result.stdout + result.stderr


TARGETS: tuple[type[Target], ...] = (
    BundleTarget,
    BundleContainerTarget,
    SealedTarget,
    SealedContainerTarget,
    SealedInBundleTarget,
    CardTarget,
    StatementTarget,
    CheckpointTarget,
    VaultTarget,
)

FAST_COUNTS = {
    "bundle": 30,
    "bundle-container": 45,
    "sealed": 25,
    "sealed-container": 40,
    "sealed-in-bundle": 25,
    "card": 30,
    "statement": 30,
    "checkpoint": 35,
    "vault": 40,
}
FAST_CLI_TARGETS = ("bundle-container", "sealed", "card", "vault")
LONG_COUNTS = {
    "bundle": 1500,
    "bundle-container": 2000,
    "sealed": 1000,
    "sealed-container": 1500,
    "sealed-in-bundle": 1000,
    "card": 1000,
    "statement": 1000,
    "checkpoint": 1000,
    "vault": 1500,
}


def run_tamper(
    world: World,
    work: Path,
    counts: dict[str, int],
    *,
    seed: int = 11,
    cli_samples: int | None = None,
    cli_targets: Sequence[str] | None = None,
    findings_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> TamperResult:
    """Run ``counts[target]`` mutants per target. ``cli_samples`` caps the command-line runs
    per target (None: every ``cli_every``-th mutant, at least one per target), and
    ``cli_targets`` limits them to some targets (None: all)."""
    work.mkdir(parents=True, exist_ok=True)
    cli_vault = work / "cli" / "coordinator.db"
    world.copy_vault(world.coord_path, cli_vault)
    env = cli_env(work / "cli-env")
    env.pop("SECURESUBMIT_VAULT", None)
    rng = random.Random(seed)
    known_bugs = tuple(bug for bug in KNOWN_BUGS if bug.present(work / "known-bugs"))
    results = []
    coord = world.open_coordinator()
    try:
        ctx = Context(world, work, coord, env, cli_vault, known_bugs, findings_dir)
        cli_before = _file_digest(cli_vault)
        for factory in TARGETS:
            target = factory(ctx)
            wanted = counts.get(target.name, 0)
            if not wanted:
                continue
            result = TargetResult(target.name)
            started = time.monotonic()
            drawn = mutate.mutants(target.originals(), target.material(), wanted, rng)
            cli_left = cli_samples
            for number, (kind, mutant) in enumerate(drawn):
                label = target.attempt(mutant)
                result.tried[kind] += 1
                refused = label.startswith(("refused", "detected"))
                result.outcomes[label if refused else label.split(":")[0]] += 1
                if label.startswith(FINDING) or label.startswith("known"):
                    finding = Finding(target.name, kind, label.split(":")[0], label)
                    if findings_dir is not None:
                        findings_dir.mkdir(parents=True, exist_ok=True)
                        digest = hashlib.sha256(mutant).hexdigest()[:12]
                        finding.reproducer = findings_dir / f"{target.name}-{kind}-{digest}.bin"
                        finding.reproducer.write_bytes(mutant)
                    (result.known if label.startswith("known") else result.findings).append(finding)
                want_cli = (
                    target.cli_every
                    and (cli_targets is None or target.name in cli_targets)
                    and (number % target.cli_every == 0 if cli_left is None else cli_left > 0)
                )
                if want_cli:
                    if cli_left is not None:
                        cli_left -= 1
                    checked = target.cli(mutant)
                    if checked is not None:
                        result.cli_runs += 1
                        problem = _cli_problem(checked, label, known_bugs)
                        if problem:
                            result.findings.append(Finding(target.name, kind, "CLI", problem))
            result.seconds = time.monotonic() - started
            results.append(result)
            if progress is not None:
                progress(f"tamper {target.name}: {result.total} in {result.seconds:.1f} s")
        if _file_digest(cli_vault) != cli_before:
            results[-1].findings.append(
                Finding("cli", "-", "CHANGED", "the command-line coordinator vault changed")
            )
    finally:
        coord.close()
    return TamperResult(results, known_bugs)


def _file_digest(path: Path) -> str:
    from tests.security.world import file_vault_digest

    return file_vault_digest(path)


def _cli_problem(
    checked: tuple[int, str], library_label: str, known_bugs: Sequence[KnownBug]
) -> str | None:
    code, text = checked
    if code == 99:
        return text
    crashed = code == 70 or "Traceback" in text
    if crashed and any(e in text for bug in known_bugs for e in bug.exceptions):
        return None  # a known bug, counted by the library run
    if crashed:
        return f"the command line crashed (exit {code}): {text[-300:]}"
    if code not in CLI_OK_CODES:
        return f"unexpected exit code {code}: {text[-200:]}"
    refused = library_label.startswith(("refused", "detected"))
    if refused and code == 0:
        return f"the library refused ({library_label}) but the command line succeeded"
    if code != 0 and "error:" not in text:
        return f"exit {code} without an 'error:' line: {text[-200:]}"
    return None
