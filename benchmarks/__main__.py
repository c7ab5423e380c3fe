"""Run the benchmark suite: ``python -m benchmarks [--quick] [--runs N]``.

Prints a table and writes benchmarks/results/latest.json. Every figure that matters is
a ratio against a reference measured in the same run, because these machines are noisy.
A missed goal is printed as MISSED, never hidden.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results")


@dataclass
class Case:
    name: str
    goal: str
    runs: list[dict[str, float]] = field(default_factory=list)
    reference: list[dict[str, float]] = field(default_factory=list)
    reference_name: str = ""
    met: bool | None = None
    note: str = ""

    def median(self, key: str = "seconds", ref: bool = False) -> float:
        return statistics.median(r[key] for r in (self.reference if ref else self.runs))

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "goal": self.goal,
            "met": self.met,
            "note": self.note,
        }
        for label, runs in (("ours", self.runs), ("reference", self.reference)):
            if runs:
                secs = [r["seconds"] for r in runs]
                out[label] = {
                    "median_s": statistics.median(secs),
                    "min_s": min(secs),
                    "max_s": max(secs),
                    "peak_rss_mib": max(r["rss_mib"] for r in runs),
                    "runs": runs,
                }
        if self.reference_name:
            out["reference_name"] = self.reference_name
        return out


def probe(*args: str, env: dict[str, str] | None = None) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.probe", *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def repeat(n: int, fn: Callable[[], dict[str, float]]) -> list[dict[str, float]]:
    return [fn() for _ in range(n)]


def bench_cli_help(runs: int, quick: bool) -> Case:
    case = Case("securesubmit --help, cold", "<= 0.2 s", reference_name="python -c pass")
    case.reference = repeat(runs, lambda: probe("exec", sys.executable, "-c", "pass"))
    case.runs = repeat(runs, lambda: probe("exec", sys.executable, "-m", "securesubmit", "--help"))
    case.met = case.median() <= 0.2
    case.note = f"{case.median() / case.median(ref=True):.1f}x python startup"
    return case


def bench_unlock(runs: int, quick: bool, tmp: Path) -> Case:
    from securesubmit.core import crypto
    from securesubmit.core.service import create_vault

    memory = 8 * 1024 if quick else crypto.MIN_MEMORY_KIB
    kdf = crypto.KdfParams(memory_kib=memory, iterations=1) if quick else crypto.calibrate_kdf()
    path = tmp / "unlock.db"
    pw = tmp / "pw"
    pw.write_text("benchmark passphrase\n")
    create_vault(path, "benchmark passphrase", kdf=kdf).close()
    case = Case(
        f"unlock (Argon2id {kdf.memory_kib // 1024} MiB, t={kdf.iterations})",
        "0.3-1 s with >= 256 MiB",
    )
    case.runs = repeat(runs, lambda: probe("unlock", str(path), str(pw)))
    case.met = (
        None if quick else (0.3 <= case.median() <= 1.0 and kdf.memory_kib >= crypto.MIN_MEMORY_KIB)
    )
    return case


def bench_drafts(runs: int, quick: bool) -> Case:
    n = 200 if quick else 5000
    case = Case(f"save {n} drafts of ~2 KB, then list", "context only")
    case.runs = repeat(runs, lambda: probe("drafts", str(n)))
    per_s = statistics.median(r["write_per_s"] for r in case.runs)
    listing = statistics.median(r["list_seconds"] for r in case.runs)
    case.note = f"{per_s:,.0f} drafts/s saved (one transaction each); list {listing:.3f} s"
    return case


def bench_audit(runs: int, quick: bool, tmp: Path) -> Case:
    from benchmarks.build import vault_with_events

    n = 20_000 if quick else 1_000_000
    path, dump = tmp / "audit.db", tmp / "audit.bytes"
    vault_with_events(path, n, dump)
    case = Case(f"audit verify, {n:,} events", "<= 5 s", reference_name="sha256sum, same bytes")
    case.reference = repeat(runs, lambda: probe("exec", "sha256sum", str(dump)))
    case.runs = repeat(runs, lambda: probe("audit", str(path)))
    case.met = None if quick else case.median() <= 5.0
    case.note = f"{case.median() / case.median(ref=True):.1f}x sha256sum over the same bytes"
    return case


def machine() -> dict[str, Any]:
    import cryptography
    import pyrage  # noqa: F401

    age = (
        subprocess.run(["age", "--version"], capture_output=True, text=True, check=False)
        if _has("age")
        else None
    )
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cryptography": cryptography.__version__,
        "age": age.stdout.strip() if age else None,
    }


def _has(command: str) -> bool:
    from shutil import which

    return which(command) is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: a smoke test of the harness"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    runs = max(1, args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            bench_cli_help(runs, args.quick),
            bench_unlock(runs, args.quick, Path(tmp)),
            bench_drafts(runs, args.quick),
            bench_audit(runs, args.quick, Path(tmp)),
        ]
    print(f"{'case':48} {'median':>9} {'min':>9} {'max':>9} {'RSS MiB':>8}  {'goal':18} result")
    for case in cases:
        s = case.summary()
        for label in ("reference", "ours"):
            if label in s:
                row = s[label]
                name = case.reference_name if label == "reference" else case.name
                status = (
                    ""
                    if label == "reference"
                    else ("n/a" if case.met is None else ("met" if case.met else "MISSED"))
                )
                goal = "" if label == "reference" else case.goal
                print(
                    f"{name[:48]:48} {row['median_s']:9.3f} {row['min_s']:9.3f} "
                    f"{row['max_s']:9.3f} {row['peak_rss_mib']:8.1f}  {goal:18} {status}"
                )
        if case.note:
            print(f"{'':48} {case.note}")
    report = {"machine": machine(), "quick": args.quick, "cases": [c.summary() for c in cases]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
