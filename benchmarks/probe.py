"""Run one measured workload in this (child) process and print its figures as JSON.

Usage: python -m benchmarks.probe CASE [ARGS...]
Each run is a fresh process, so its peak RSS is that of the workload alone. Setup (copying
a template vault, unlocking it) happens before the peak is reset and the clock starts.
For an external command (``exec``, ``tui``), the command is a child of this probe, and its
own peak is read from RUSAGE_CHILDREN after it ends.
"""

from __future__ import annotations

import json
import os
import re
import resource
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _rss_mib(who: int) -> float:
    """Peak RSS in MiB. For this process: VmHWM, because on Linux ``ru_maxrss`` keeps the
    parent's peak across fork and exec. For an external command (a child of this small
    probe) RUSAGE_CHILDREN is used; it can only over-state by the probe's own size."""
    if who == resource.RUSAGE_SELF:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return resource.getrusage(who).ru_maxrss / 1024


def _new_peak() -> None:
    """Start measuring the peak RSS afresh: Linux resets VmHWM to the current RSS when 5
    is written to clear_refs. The memory already held (interpreter, imports, the open
    vault) stays counted; only earlier transient peaks of the setup are forgotten."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def case_exec(*command: str) -> dict[str, float]:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return {"seconds": time.perf_counter() - start, "rss_mib": _rss_mib(resource.RUSAGE_CHILDREN)}


def case_unlock(vault: str, passphrase_file: str) -> dict[str, float]:
    from securesubmit.core.service import unlock_vault

    passphrase = Path(passphrase_file).read_text().strip()
    start = time.perf_counter()
    unlock_vault(Path(vault), passphrase).close()
    return {"seconds": time.perf_counter() - start, "rss_mib": _rss_mib(resource.RUSAGE_SELF)}


def case_drafts(count: str) -> dict[str, float]:
    from benchmarks import build
    from securesubmit.core import crypto
    from securesubmit.core.service import create_vault, unlock_vault

    n = int(count)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.db"
        session = create_vault(path, build.PASSPHRASE, kdf=crypto.TEST_KDF)
        text = "x" * 1500
        start = time.perf_counter()
        for i in range(n):
            session.create_report(title=f"report {i}", category="media", description=text)
        write = time.perf_counter() - start
        session.close()
        session = unlock_vault(path, build.PASSPHRASE)
        start = time.perf_counter()
        listed = len(session.list_reports())
        read = time.perf_counter() - start
        session.close()
    if listed != n:
        raise RuntimeError(f"listed {listed} drafts, expected {n}")
    return {
        "seconds": write,
        "write_per_s": n / write,
        "list_seconds": read,
        "rss_mib": _rss_mib(resource.RUSAGE_SELF),
    }


def case_audit(vault: str) -> dict[str, float]:
    from securesubmit.core.service import verify_audit

    start = time.perf_counter()
    result = verify_audit(Path(vault))
    return {
        "seconds": time.perf_counter() - start,
        "events": float(result.events),
        "rss_mib": _rss_mib(resource.RUSAGE_SELF),
    }


def case_seal(pair_dir: str, attachment: str, work: str, keep: str = "") -> dict[str, float]:
    """Attach ``attachment`` to a new draft, then seal it: each step timed on its own.

    ``seconds``/``rss_mib`` are the seal step (Session.seal_report); ``attach_*`` the
    attach step (Session.attach_file), where the file enters the vault. With ``keep``,
    the vault is left there afterwards (for a bundle to be exported from it).
    """
    from benchmarks import build

    pair = build.load_pair(Path(pair_dir))
    path = Path(work) / "seal.db"
    session = build.open_copy(pair.reporter, path)
    try:
        report = session.create_report(title="large attachment", category="media")
        _new_peak()
        start = time.perf_counter()
        session.attach_file(report.id, Path(attachment))
        attach = time.perf_counter() - start
        attach_rss = _rss_mib(resource.RUSAGE_SELF)
        _new_peak()
        start = time.perf_counter()
        session.seal_report(report.id, [build.COORDINATOR])
        seal = time.perf_counter() - start
        seal_rss = _rss_mib(resource.RUSAGE_SELF)
    finally:
        session.close()
        if keep:
            path.rename(keep)
        build.remove_vault(path)
    return {
        "seconds": seal,
        "rss_mib": seal_rss,
        "attach_seconds": attach,
        "attach_rss_mib": attach_rss,
    }


def case_seal_one(template: str, work: str) -> dict[str, float]:
    """Two small reports created and sealed through the service, one after the other, in
    a copy of ``template`` just unlocked: ``first_seconds`` is the first (its listing of
    partners decrypts every record once, to learn their kinds), ``seconds`` the second."""
    from benchmarks import build

    path = Path(work) / "seal-one.db"
    session = build.open_copy(Path(template), path)
    times = []
    try:
        _new_peak()
        for title in ("first", "second"):
            start = time.perf_counter()
            report = session.create_report(
                title=title, category="media", description="x" * build.REPORT_TEXT_CHARS
            )
            session.seal_report(report.id, [build.COORDINATOR])
            times.append(time.perf_counter() - start)
    finally:
        session.close()
        build.remove_vault(path)
    return {
        "seconds": times[1],
        "first_seconds": times[0],
        "rss_mib": _rss_mib(resource.RUSAGE_SELF),
    }


def case_export(template: str, work: str, out: str) -> dict[str, float]:
    """Export every unsent sealed report of a copy of ``template`` into one bundle."""
    from benchmarks import build

    path = Path(work) / "export.db"
    session = build.open_copy(Path(template), path)
    try:
        _new_peak()
        start = time.perf_counter()
        result = session.export_bundle(build.COORDINATOR, Path(out))
        seconds = time.perf_counter() - start
    finally:
        session.close()
        build.remove_vault(path)
    return {
        "seconds": seconds,
        "rss_mib": _rss_mib(resource.RUSAGE_SELF),
        "reports": float(len(result.reports)),
    }


def case_import(pair_dir: str, bundle: str, work: str) -> dict[str, float]:
    """Import ``bundle`` into a fresh copy of the coordinator template."""
    from benchmarks import build

    pair = build.load_pair(Path(pair_dir))
    path = Path(work) / "import.db"
    session = build.open_copy(pair.coordinator, path)
    try:
        _new_peak()
        start = time.perf_counter()
        result = session.import_bundle(Path(bundle))
        seconds = time.perf_counter() - start
    finally:
        session.close()
        build.remove_vault(path)
    if result.decision != "new":
        raise RuntimeError(f"the bundle was imported as {result.decision!r}, not as new")
    return {
        "seconds": seconds,
        "rss_mib": _rss_mib(resource.RUSAGE_SELF),
        "reports": float(len(result.imported)),
    }


def case_inbox(count: str) -> dict[str, float]:
    """benchmarks/inbox_bench.py's ``bench_inbox(count)``, in a process of its own.

    Its dict becomes flat figures: ``seconds`` is the slowest "first page" timing,
    ``search_seconds`` the slowest "search" timing (as inbox_bench judges its goals), and
    every timing appears as ``timing: NAME``. Peak RSS is this process's VmHWM.
    """
    from benchmarks.inbox_bench import bench_inbox

    result = bench_inbox(int(count))
    timings: dict[str, float] = result["timings"]
    figures = {f"timing: {name}": float(seconds) for name, seconds in timings.items()}
    figures.update(
        seconds=max(v for k, v in timings.items() if k.startswith("first page")),
        search_seconds=max(v for k, v in timings.items() if k.startswith("search")),
        rss_mib=_rss_mib(resource.RUSAGE_SELF),
    )
    return figures


_ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    rb"|\x1b[P\]X^_].*?(?:\x07|\x1b\\)"  # OSC, DCS and the other strings
    rb"|\x1b[@-Z\\-_]",
    re.DOTALL,
)
FIRST_FRAME_MARKER = b"Passphrase"
"""A label of the unlock screen, the first screen of the app for an existing vault."""


def case_tui(vault: str, timeout: str = "20") -> dict[str, float]:
    """Start the app as a user does (``python -m securesubmit``) on a pseudo-terminal.

    Timed from just before the process is started until the terminal has received the
    unlock screen's "Passphrase" label: the first frame of the first screen, drawn. The
    app is then closed with Ctrl+Q; its own peak RSS is read after it ends.
    """
    import fcntl
    import pty
    import struct
    import termios

    env = {k: v for k, v in os.environ.items() if not k.startswith("SECURESUBMIT_")}
    env.update(TERM="xterm-256color", COLUMNS="100", LINES="30")
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    command = [sys.executable, "-m", "securesubmit", "--vault", vault, "--lang", "en"]
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=follower, stdout=follower, stderr=follower, env=env, start_new_session=True
    )
    os.close(follower)
    screen = b""
    first_output = drawn = None
    try:
        while drawn is None and time.perf_counter() - start < float(timeout):
            ready, _, _ = select.select([leader], [], [], 0.02)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                data = os.read(leader, 65536)
            except OSError:  # the app exited and the terminal closed
                break
            now = time.perf_counter() - start
            first_output = now if first_output is None else first_output
            screen += data
            if FIRST_FRAME_MARKER in _ESCAPES.sub(b"", screen):
                drawn = now
        if process.poll() is None:
            os.write(leader, b"\x11")  # Ctrl+Q
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    if drawn is None:
        text = _ESCAPES.sub(b"", screen).decode("utf-8", "replace")[-300:]
        raise RuntimeError(f"the app drew no unlock screen (exit {process.returncode}): {text}")
    return {
        "seconds": drawn,
        "first_output_seconds": first_output or drawn,
        "rss_mib": _rss_mib(resource.RUSAGE_CHILDREN),
    }


CASES: dict[str, Callable[..., dict[str, float]]] = {
    "exec": case_exec,
    "unlock": case_unlock,
    "drafts": case_drafts,
    "audit": case_audit,
    "seal": case_seal,
    "seal-one": case_seal_one,
    "export": case_export,
    "import": case_import,
    "tui": case_tui,
    "inbox": case_inbox,
}

if __name__ == "__main__":
    name, *args = sys.argv[1:]
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    print(json.dumps(CASES[name](*args)))
