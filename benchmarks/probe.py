"""Run one measured workload in this (child) process and print its figures as JSON.

Usage: python -m benchmarks.probe CASE [ARGS...]
Each run is a fresh process, so ``ru_maxrss`` is the peak RSS of that workload alone.
For an external command (``exec``), the command is a child of this probe, and its own
peak is read from RUSAGE_CHILDREN after it ends.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
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
    from securesubmit.core import crypto
    from securesubmit.core.service import create_vault, unlock_vault

    n = int(count)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.db"
        session = create_vault(path, "benchmark passphrase", kdf=crypto.TEST_KDF)
        text = "x" * 1500
        start = time.perf_counter()
        for i in range(n):
            session.create_report(title=f"report {i}", category="media", description=text)
        write = time.perf_counter() - start
        session.close()
        session = unlock_vault(path, "benchmark passphrase")
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


CASES = {"exec": case_exec, "unlock": case_unlock, "drafts": case_drafts, "audit": case_audit}

if __name__ == "__main__":
    name, *args = sys.argv[1:]
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    print(json.dumps(CASES[name](*args)))
