"""Crash consistency: kill -9 a child process at random moments while it works on a vault.

A child (``python -m tests.security.crash --child …``) unlocks a vault and repeats one kind
of operation: saving drafts (create and edit), adding attachments, sealing, exporting
bundles, or importing them on the coordinator's side. Before each operation it appends a
``start`` line to a log, and after the operation returned a ``done`` line, written straight
to the file (a killed process loses nothing it wrote). The parent waits until the child is
working, sleeps a random time and sends SIGKILL. Then it checks, with the real service:

* the vault unlocks, and ``audit verify`` passes;
* every operation logged ``done`` is there (drafts with their last title, attachments with
  their bytes, receipts, bundle files, inbox reports);
* the operation in flight either happened entirely or not at all (a sealed report is never
  both a draft and a receipt; an export that was not committed never left a bundle under
  its final name);
* every ``*.ssb`` under its final name is a complete bundle the partner can read.

An export killed after its commit and before the file got its name leaves a gap that the
partner is told about (docs/spec/bundle.md §8): counted, not a failure.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
FOCUSES = ("draft", "attach", "seal", "export", "import")
COORDINATOR = "Coordinator"
PASSPHRASE = "correct horse battery staple"
# How long after the child is ready a kill may land, by focus (seconds): a few operations.
WINDOWS = {"draft": 0.15, "attach": 0.3, "seal": 0.4, "export": 0.3, "import": 0.3}
ATTACHMENT_BYTES = 1024 * 1024 + 4097  # two chunks: a transaction of several rows


# --- the child ------------------------------------------------------------------------------


class _Log:
    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def __call__(self, **entry: Any) -> None:
        os.write(self._fd, (json.dumps(entry) + "\n").encode())


def child(args: argparse.Namespace) -> int:
    """Prepare what the focused operation needs (drafts to seal, receipts to export), say
    ``ready``, then repeat the focused operation until killed or done."""
    from securesubmit.core.service import unlock_vault

    log = _Log(Path(args.log))
    rng = random.Random(args.seed)
    work = Path(args.work)
    with unlock_vault(Path(args.vault), PASSPHRASE) as session:
        names = [f"{args.seed}-{n}" for n in range(args.limit)]
        prepared: list[str] = []
        imported = {i.report_id for i in session.list_inbox()} if args.focus == "import" else set()
        if args.focus == "seal":
            prepared = [_attach(session, log, name, work, rng) for name in names]
        elif args.focus == "export":
            prepared = [_seal(session, log, name, work, rng) for name in names]
        log(ready=True)
        for n, name in enumerate(names):
            if args.focus == "draft":
                _draft(session, log, name, rng)
            elif args.focus == "attach":
                report = prepared[0] if prepared else _draft(session, log, name, rng)
                prepared = [report]
                _attach(session, log, name, work, rng, report)
            elif args.focus == "seal":
                _seal(session, log, name, work, rng, prepared[n])
            elif args.focus == "export":
                _export(session, log, name, work, prepared[n])
            elif args.focus == "import" and not _import_next(session, log, work, imported):
                break
    log(finished=True)
    return 0


def _draft(session: Any, log: _Log, name: str, rng: random.Random) -> str:
    title = f"draft {name}"
    log(start="draft", title=title)
    report = session.create_report(
        title=title, category="media", description=f"{name} " * rng.randrange(100, 8000)
    )
    log(done="draft", id=report.id, title=title)
    edited = f"{title} edited"
    log(start="edit", id=report.id, title=edited)
    session.update_report(report.id, title=edited)
    log(done="edit", id=report.id, title=edited)
    return str(report.id)


def _attach(
    session: Any,
    log: _Log,
    name: str,
    work: Path,
    rng: random.Random,
    report: str | None = None,
) -> str:
    """Add a two-chunk attachment to ``report`` (a new draft if None); returns the report."""
    if report is None:
        report = _draft(session, log, name, rng)
    (work / "files").mkdir(exist_ok=True)
    source = work / "files" / f"att-{name}.bin"
    data = rng.randbytes(ATTACHMENT_BYTES)
    source.write_bytes(data)
    log(start="attach", report=report, name=source.name)
    attachment = session.attach_file(report, source, scrub=False)
    log(
        done="attach",
        report=report,
        name=source.name,
        id=attachment.id,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    source.unlink()
    return report


def _seal(
    session: Any,
    log: _Log,
    name: str,
    work: Path,
    rng: random.Random,
    report: str | None = None,
) -> str:
    """Seal ``report`` (a new draft with an attachment if None); returns the receipt id."""
    if report is None:
        report = _attach(session, log, name, work, rng)
    log(start="seal", report=report)
    receipt = session.seal_report(report, [COORDINATOR])
    log(done="seal", report=report, receipt=receipt.id)
    return str(receipt.id)


def _export(session: Any, log: _Log, name: str, work: Path, receipt: str) -> None:
    out = work / "outbox" / f"bundle-{name}.ssb"
    out.parent.mkdir(exist_ok=True)
    log(start="export", receipt=receipt, file=str(out))
    result = session.export_bundle(COORDINATOR, out, report_refs=[receipt])
    log(done="export", receipt=receipt, file=str(out), sequence=result.sequence)


def _import_next(session: Any, log: _Log, work: Path, imported: set[str]) -> bool:
    """Import the next bundle of the pool not imported yet; False when none is left."""
    for path in sorted((work / "pool").glob("*.ssb"), key=lambda p: int(p.stem.split("-")[1])):
        report_id = path.stem.split("-", 2)[2]
        if report_id in imported:
            continue
        log(start="import", file=str(path), report=report_id)
        result = session.import_bundle(path)
        log(done="import", file=str(path), report=report_id, decision=result.decision)
        imported.add(report_id)
        return True
    return False


# --- the parent -------------------------------------------------------------------------------


@dataclass
class CrashResult:
    kills: Counter[str] = field(default_factory=Counter)  # by focus
    in_flight: Counter[str] = field(default_factory=Counter)  # "seal: committed", ...
    successes_checked: int = 0
    leftover_part_files: int = 0
    not_killed: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.kills.values())

    def table(self) -> str:
        lines = [f"{'focus':8} {'kills':>6}  operation in flight at the kill: outcome"]
        for focus in FOCUSES:
            outcomes = sorted(
                (k, v) for k, v in self.in_flight.items() if k.startswith(focus + "|")
            )
            text = ", ".join(f"{k.split('|', 1)[1]} {v}" for k, v in outcomes) or "-"
            lines.append(f"{focus:8} {self.kills[focus]:>6}  {text}")
        lines.append(
            f"successful operations checked after the kills: {self.successes_checked}; "
            f"leftover .part files (encrypted, unnamed): {self.leftover_part_files}; "
            f"failures: {len(self.failures)}"
        )
        return "\n".join(lines)


@dataclass
class _Setup:
    root: Path
    reporter: Path
    coordinator: Path
    pool: Path


def _make_vaults(root: Path, pool_size: int, big: int) -> _Setup:
    from securesubmit.core.partners import VERIFIED_CONFIRMED
    from securesubmit.core.service import create_vault
    from tests.helpers import FAST_KDF

    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    setup = _Setup(root, root / "reporter.db", root / "coordinator.db", root / "pool")
    setup.pool.mkdir()
    reporter = create_vault(setup.reporter, PASSPHRASE, name="Reporter", kdf=FAST_KDF)
    coord = create_vault(
        setup.coordinator, PASSPHRASE, name=COORDINATOR, role="coordinator", kdf=FAST_KDF
    )
    try:
        reporter.add_partner(coord.own_card(), verified=VERIFIED_CONFIRMED)
        coord.add_partner(reporter.own_card(), verified=VERIFIED_CONFIRMED)
        for n in range(pool_size):
            report = reporter.create_report(title=f"pooled {n}", category="media")
            source = root / "pool-attachment.bin"
            source.write_bytes(os.urandom(big if n % 2 else 50_000))
            reporter.attach_file(report.id, source, scrub=False)
            receipt = reporter.seal_report(report.id, [COORDINATOR])
            reporter.export_bundle(
                COORDINATOR,
                setup.pool / f"b-{n}-{report.id}.ssb",
                report_refs=[receipt.id],
            )
    finally:
        reporter.close()
        coord.close()
    return setup


def _read_log(path: Path) -> list[dict[str, Any]]:
    entries = []
    if path.exists():
        for line in path.read_text().splitlines():
            with contextlib.suppress(json.JSONDecodeError):  # one write() per line: defensive
                entries.append(json.loads(line))
    return entries


def _bundle_complete(path: Path, coordinator_secret: list[Any], fingerprint: bytes) -> str | None:
    """None if ``path`` is a complete bundle for the coordinator, else why not."""
    from securesubmit.core import bundle
    from securesubmit.errors import NotFound, SecureSubmitError

    class Sink:
        def write(self, index: int, chunk: bytes) -> None:
            pass

        def commit(self) -> None:
            pass

        def discard(self) -> None:
            pass

    def lookup(fingerprint: bytes) -> Any:
        if fingerprint in _SENDERS:
            return _SENDERS[fingerprint]
        raise NotFound()

    try:
        with open(path, "rb") as source:
            bundle.read_bundle(
                source,
                my_secret=coordinator_secret,
                my_fingerprint=fingerprint,
                sender_lookup=lookup,
                sink=Sink(),
            )
    except SecureSubmitError as error:
        return f"{path.name}: {type(error).__name__}: {error}"
    return None


_SENDERS: dict[bytes, Any] = {}  # the reporters' keys, by fingerprint


def _check(setup: _Setup, focus: str, entries: list[dict[str, Any]], result: CrashResult) -> None:
    from securesubmit.core.service import unlock_vault, verify_audit
    from tests.security.tamper import read_everything

    path = setup.coordinator if focus == "import" else setup.reporter
    problems: list[str] = []
    try:
        verify_audit(path)
    except Exception as error:  # any failure here is what this suite looks for
        problems.append(f"audit verify failed after a kill during {focus}: {error}")
    done = [e for e in entries if "done" in e]
    started = [e for e in entries if "start" in e]
    in_flight = (
        started[-1] if started and (not done or _after(entries, started[-1], done[-1])) else None
    )
    try:
        with unlock_vault(path, PASSPHRASE) as session:
            read_everything(session)
            problems += _check_successes(session, done, setup, in_flight)
            result.successes_checked += len(done)
            if in_flight is not None:
                label, problem = _judge_in_flight(session, in_flight, setup)
                result.in_flight[f"{focus}|{in_flight['start']} {label}"] += 1
                if problem:
                    problems.append(problem)
            else:
                result.in_flight[f"{focus}|between operations"] += 1
    except Exception as error:
        problems.append(f"the vault did not open after a kill during {focus}: {error!r}")
    outbox = setup.root / "outbox"
    if outbox.exists():
        for bundle_file in outbox.glob("*.ssb"):
            why = _bundle_complete(bundle_file, *_coordinator_keys(setup))
            if why:
                problems.append(f"a partial bundle carries its final name: {why}")
    result.failures += problems


def _after(entries: list[dict[str, Any]], a: dict[str, Any], b: dict[str, Any]) -> bool:
    return entries.index(a) > entries.index(b)


_COORD_KEYS: dict[Path, tuple[list[Any], bytes]] = {}  # age identities, fingerprint


def _coordinator_keys(setup: _Setup) -> tuple[list[Any], bytes]:
    return _COORD_KEYS[setup.coordinator]


def _check_successes(
    session: Any,
    done: list[dict[str, Any]],
    setup: _Setup,
    in_flight: dict[str, Any] | None,
) -> list[str]:
    problems = []
    reports = {r.id: r for r in session.list_reports()}
    receipts = {r.id: r for r in session.list_receipts()}
    sealed_reports = {r.report_id: r for r in receipts.values()}
    inbox = (
        {i.report_id for i in session.list_inbox()}
        if "import" in {e["done"] for e in done}
        else set()
    )
    last_title: dict[str, str] = {}
    for entry in done:
        op = entry["done"]
        if op in ("draft", "edit"):
            last_title[entry["id"]] = entry["title"]
        elif op == "attach":
            report = reports.get(entry["report"])
            if report is not None:
                found = [a for a in session.list_attachments(report.id) if a.id == entry["id"]]
                if not found:
                    problems.append(f"attachment {entry['name']} reported added is missing")
                else:
                    digest = hashlib.sha256()
                    for block in session.read_attachment(found[0]):
                        digest.update(block)
                    if digest.hexdigest() != entry["sha256"]:
                        problems.append(f"attachment {entry['name']} has other bytes")
            elif entry["report"] in sealed_reports:
                sealed = sealed_reports[entry["report"]]
                if entry["sha256"] not in {a["sha256"] for a in sealed.attachments}:
                    problems.append(f"sealed report lost attachment {entry['name']}")
            else:
                problems.append(f"the report of attachment {entry['name']} vanished")
        elif op == "seal":
            if entry["receipt"] not in receipts:
                problems.append(f"receipt {entry['receipt'][:8]} reported sealed is missing")
            if entry["report"] in reports:
                problems.append(f"report {entry['report'][:8]} is both sealed and a draft")
        elif op == "export":
            if not Path(entry["file"]).exists():
                problems.append(f"bundle {Path(entry['file']).name} reported written is missing")
            receipt = receipts.get(entry["receipt"])
            if receipt is None or not any(
                e["sequence"] == entry["sequence"] for e in receipt.exports
            ):
                problems.append(f"the export of {entry['receipt'][:8]} is not recorded")
        elif op == "import" and entry["report"] not in inbox:
            problems.append(f"report {entry['report'][:8]} reported imported is missing")
    if in_flight is not None and in_flight["start"] == "edit":
        pending = {in_flight["id"]: in_flight["title"]}  # it may have committed
    else:
        pending = {}
    for report_id, title in last_title.items():
        if report_id in reports:
            if reports[report_id].title not in (title, pending.get(report_id)):
                problems.append(f"draft {report_id[:8]} lost its saved title {title!r}")
        elif report_id not in sealed_reports:
            problems.append(f"draft {report_id[:8]} reported saved is missing")
    return problems


def _judge_in_flight(session: Any, entry: dict[str, Any], setup: _Setup) -> tuple[str, str | None]:
    op = entry["start"]
    reports = session.list_reports()
    if op == "draft":
        present = any(r.title == entry["title"] for r in reports)
        return ("committed" if present else "rolled back"), None
    if op == "edit":
        present = any(r.id == entry["id"] and r.title == entry["title"] for r in reports)
        return ("committed" if present else "rolled back"), None
    if op == "attach":
        report = next((r for r in reports if r.id == entry["report"]), None)
        names = [a.name for a in session.list_attachments(report.id)] if report else []
        return ("committed" if entry["name"] in names else "rolled back"), None
    if op == "seal":
        draft = any(r.id == entry["report"] for r in reports)
        receipt = any(r.report_id == entry["report"] for r in session.list_receipts())
        if draft == receipt:
            return "HALF", f"seal of {entry['report'][:8]} is half done (draft={draft})"
        return ("committed" if receipt else "rolled back"), None
    if op == "export":
        receipt = next((r for r in session.list_receipts() if r.id == entry["receipt"]), None)
        committed = bool(receipt and receipt.exports)
        named = Path(entry["file"]).exists()
        if named and not committed:
            return "HALF", f"bundle {Path(entry['file']).name} is named but not committed"
        if committed and not named:
            return "committed, file not named (a gap for the partner)", None
        return ("committed" if committed else "rolled back"), None
    if op == "import":
        present = entry["report"] in {i.report_id for i in session.list_inbox()}
        return ("committed" if present else "rolled back"), None
    return "unknown", f"unknown operation {op}"


def _spawn(setup: _Setup, focus: str, seed: int, log: Path, limit: int) -> subprocess.Popen[bytes]:
    vault = setup.coordinator if focus == "import" else setup.reporter
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.security.crash",
            "--child",
            "--focus",
            focus,
            "--vault",
            str(vault),
            "--log",
            str(log),
            "--work",
            str(setup.root),
            "--seed",
            str(seed),
            "--limit",
            str(limit),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_ready(process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(e.get("ready") for e in _read_log(log)):
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.005)
    return False


def run_crashes(
    root: Path,
    kills: int,
    *,
    seed: int = 7,
    fresh_every: int = 25,
    limit: int = 8,
    progress: Callable[[str], None] | None = None,
) -> CrashResult:
    """``kills`` rounds, the focuses in turn; fresh vaults every ``fresh_every`` rounds.
    Each child does at most ``limit`` operations of its kind (fewer in a fast sample)."""
    from securesubmit.core.service import unlock_vault

    rng = random.Random(seed)
    result = CrashResult()
    windows = dict(WINDOWS)
    started = time.monotonic()
    setup: _Setup | None = None
    round_number = 0
    while result.total < kills:
        if setup is None or round_number % fresh_every == 0:
            setup = _make_vaults(
                root / f"set-{round_number}",
                pool_size=min(fresh_every, kills) // 5 * limit // 2 + 2,
                big=ATTACHMENT_BYTES if limit > 4 else 200_000,
            )
            with unlock_vault(setup.coordinator, PASSPHRASE) as coord:
                me = coord.identity
                _COORD_KEYS[setup.coordinator] = (list(me.age_identities), me.fingerprint)
            with unlock_vault(setup.reporter, PASSPHRASE) as reporter:
                _SENDERS[reporter.identity.fingerprint] = reporter.identity.keys
        focus = min(FOCUSES, key=lambda f: (result.kills[f], FOCUSES.index(f)))
        round_number += 1
        log = setup.root / f"log-{round_number}.jsonl"
        process = _spawn(setup, focus, seed * 100_000 + round_number, log, limit)
        if not _wait_ready(process, log):
            _, err = process.communicate(timeout=60)
            result.failures.append(
                f"the child for {focus} did not start: {err.decode(errors='replace')[-500:]}"
            )
            if len(result.failures) > 5:
                break
            continue
        time.sleep(rng.uniform(0, windows[focus]))
        if process.poll() is not None:
            result.not_killed += 1  # it finished its work first: not a kill; aim earlier
            windows[focus] /= 2
            if process.returncode != 0:
                _, err = process.communicate()
                result.failures.append(
                    f"the child for {focus} failed: {err.decode(errors='replace')[-500:]}"
                )
            continue
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        result.kills[focus] += 1
        _check(setup, focus, _read_log(log), result)
        if progress is not None and result.total % 20 == 0:
            progress(f"crash: {result.total} kills, {len(result.failures)} failures")
    result.seconds = time.monotonic() - started
    result.leftover_part_files = len(list(root.glob("set-*/outbox/.*.part")))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.security.crash")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--focus", choices=FOCUSES)
    parser.add_argument("--vault")
    parser.add_argument("--log")
    parser.add_argument("--work")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int, default=12, help="operations per child at most")
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    import tempfile

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="securesubmit-crash-"))
    result = run_crashes(out, args.kills, progress=lambda m: print(m, file=sys.stderr))
    print(result.table())
    for failure in result.failures:
        print(f"FAILURE: {failure}")
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
