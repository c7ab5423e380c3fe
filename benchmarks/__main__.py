"""Run the benchmark suite: ``python -m benchmarks [--quick] [--runs N]``.

Prints a table and writes benchmarks/results/latest.json; a full run also writes its
table into benchmarks/README.md. Every figure that matters is a ratio against a reference
measured in the same run, because these machines are noisy. A missed goal is printed as
MISSED, never hidden; a case that is not built yet as MISSING; one that failed as ERROR
(and the run exits with 1).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.cases import BENCHES, Context, cleanup
from benchmarks.harness import ERROR, Case

HERE = Path(__file__).parent
RESULTS = HERE / "results"
README = HERE / "README.md"
READMES = (README, HERE.parent / "README.md")
"""Both show the latest table between the markers: the project's README and this one."""
TABLE_START = "<!-- latest results: written by python -m benchmarks -->"
TABLE_END = "<!-- end of latest results -->"


def run_cases(ctx: Context) -> list[Case]:
    cases: list[Case] = []
    for title, goal, bench in BENCHES:
        started = time.perf_counter()
        print(f"... {title}", file=sys.stderr, flush=True)
        try:
            cases.extend(bench(ctx))
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            cases.append(Case(title, goal, error=f"{type(exc).__name__}: {exc}"))
        print(f"    {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return cases


def _seconds(value: float) -> str:
    return f"{value:.3f}" if value < 100 else f"{value:.1f}"


def print_table(cases: list[Case]) -> None:
    head = f"{'case':46} {'median s':>9} {'min':>9} {'max':>9} {'RSS MiB':>8}  {'goal':24} result"
    print(head)
    print("-" * len(head))
    shown_reference: list[dict[str, float]] | None = None
    for case in cases:
        s = case.summary()
        if "reference" in s and case.reference is not shown_reference:
            row = s["reference"]
            print(
                f"  {case.reference_name[:44]:44} {_seconds(row['median_s']):>9} "
                f"{_seconds(row['min_s']):>9} {_seconds(row['max_s']):>9} "
                f"{row['peak_rss_mib']:8.1f}"
            )
            shown_reference = case.reference
        if "ours" in s:
            row = s["ours"]
            figures = (
                f"{_seconds(row['median_s']):>9} {_seconds(row['min_s']):>9} "
                f"{_seconds(row['max_s']):>9} {row['peak_rss_mib']:8.1f}"
            )
        else:
            figures = f"{'-':>9} {'-':>9} {'-':>9} {'-':>8}"
        print(f"{case.name[:46]:46} {figures}  {case.goal[:24]:24} {case.verdict}")
        note = case.error or case.note
        if note:
            print(f"{'':4}{note}")


def markdown_table(cases: list[Case], machine: dict[str, Any], total: float) -> str:
    lines = [
        f"Run of {machine['date']} on {machine['machine']}; "
        f"commit {machine['commit']}; total {total / 60:.1f} min; load average "
        f"{machine['load_average_before'][0]} before, {machine['load_average_after'][0]} after. "
        f"Medians of {machine['runs']} runs, each in a fresh process.",
        "",
        "| case | median s | min–max s | peak RSS MiB | reference: median s | vs reference "
        "| goal | result |",
        "|---|---:|---:|---:|---|---|---|---|",
    ]
    notes = []
    for case in cases:
        s = case.summary()
        ours = s.get("ours")
        ref = s.get("reference")
        lines.append(
            "| "
            + " | ".join(
                [
                    case.name,
                    _seconds(ours["median_s"]) if ours else "–",
                    f"{_seconds(ours['min_s'])}–{_seconds(ours['max_s'])}" if ours else "–",
                    f"{ours['peak_rss_mib']:.0f}" if ours else "–",
                    f"{case.reference_name}: {_seconds(ref['median_s'])}" if ref else "–",
                    case.ratio_text or "–",
                    case.goal,
                    f"**{case.verdict}**",
                ]
            )
            + " |"
        )
        if case.error or case.note:
            notes.append(f"- *{case.name}*: {case.error or case.note}")
    return "\n".join([*lines, "", *notes])


def update_readmes(table: str) -> list[Path]:
    """Write ``table`` between the markers of each README that has them; the ones written."""
    written = []
    for readme in READMES:
        if not readme.exists():
            continue
        text = readme.read_text()
        start, end = text.find(TABLE_START), text.find(TABLE_END)
        if start < 0 or end < start:
            continue
        readme.write_text(text[: start + len(TABLE_START)] + "\n" + table + "\n" + text[end:])
        written.append(readme)
    return written


def machine(runs: int) -> dict[str, Any]:
    from importlib.metadata import version
    from sqlite3 import sqlite_version

    age = subprocess.run(["age", "--version"], capture_output=True, text=True, check=False)
    model = ""
    memory = 0.0
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in cpuinfo
                    if line.startswith("model name")
                ),
                "",
            )
        with open("/proc/meminfo") as meminfo:
            memory = int(meminfo.readline().split()[1]) / 1024**2
    except OSError:
        pass
    cpus = os.cpu_count()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpus} CPUs ({model or platform.machine()}), {memory:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}",
        "platform": platform.platform(),
        "cpu": model,
        "cpus": cpus,
        "memory_gib": round(memory, 1),
        "python": platform.python_version(),
        "cryptography": version("cryptography"),
        "textual": version("textual"),
        "sqlite": sqlite_version,
        "age": age.stdout.strip(),
        "commit": _commit(),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "runs": runs,
    }


def _commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" (with uncommitted changes)" if git("status", "--porcelain") else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: a smoke test of the harness"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per case (default 3)")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="where to build the inputs (default: the system's temporary directory; "
        "a full run needs about 8 GB there, on disk rather than in memory)",
    )
    args = parser.parse_args(argv)
    if shutil.which("age") is None:
        print("error: the age command-line tool is not installed", file=sys.stderr)
        print(
            "hint: sealing and opening are measured against it; install it "
            "(Debian/Ubuntu: sudo apt-get install age) and run again",
            file=sys.stderr,
        )
        return 2
    runs = max(1, args.runs)
    load_before = [round(x, 2) for x in os.getloadavg()]
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="securesubmit-bench-", dir=args.workdir))
    ctx = Context(runs=runs, quick=args.quick, work=work)
    try:
        cases = run_cases(ctx)
    finally:
        cleanup(ctx)
    total = time.perf_counter() - started
    info = machine(runs)
    info["load_average_before"] = load_before
    print()
    print_table(cases)
    print(f"\ntotal: {total:.0f} s ({total / 60:.1f} min) on {info['machine']}")
    report = {
        "machine": info,
        "quick": args.quick,
        "total_seconds": round(total, 1),
        "cases": [c.summary() for c in cases],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    publish = not args.quick and args.out == RESULTS / "latest.json"
    if publish:
        for readme in update_readmes(markdown_table(cases, info, total)):
            print(f"wrote the table into {readme}")
    return 1 if any(c.verdict == ERROR for c in cases) else 0


if __name__ == "__main__":
    sys.exit(main())
