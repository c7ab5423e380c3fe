"""The parts every benchmark case shares: a case and its figures, running probes, verdicts.

A case module (such as benchmarks/inbox_bench.py) returns ``Case`` objects; the runner in
``__main__`` prints them and writes them to the results file.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Runs = list[dict[str, float]]

MET, MISSED, NOT_JUDGED, MISSING, ERROR = "MET", "MISSED", "n/a", "MISSING", "ERROR"


@dataclass
class Case:
    """One row of the table: our runs, optionally a reference measured in the same run.

    ``met`` is None when the goal is not judged (quick mode, or context only). ``ratio``
    is what the goal compares, in the words of ``ratio_text`` (for example "0.31x age's
    throughput"). ``missing`` marks a case that is not built yet; ``error`` one that failed.
    """

    name: str
    goal: str
    runs: Runs = field(default_factory=list)
    reference: Runs = field(default_factory=list)
    reference_name: str = ""
    met: bool | None = None
    note: str = ""
    ratio: float | None = None
    ratio_text: str = ""
    missing: bool = False
    error: str = ""

    def median(self, key: str = "seconds", ref: bool = False) -> float:
        return statistics.median(r[key] for r in (self.reference if ref else self.runs))

    def peak_rss(self) -> float:
        return max(r["rss_mib"] for r in self.runs)

    @property
    def verdict(self) -> str:
        if self.error:
            return ERROR
        if self.missing:
            return MISSING
        return NOT_JUDGED if self.met is None else (MET if self.met else MISSED)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "goal": self.goal,
            "met": self.met,
            "verdict": self.verdict,
            "note": self.note,
        }
        if self.ratio is not None:
            out["ratio"] = round(self.ratio, 4)
            out["ratio_text"] = self.ratio_text
        if self.missing:
            out["missing"] = True
        if self.error:
            out["error"] = self.error
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


class ProbeFailed(RuntimeError):
    pass


def probe(*args: str, env: dict[str, str] | None = None) -> dict[str, float]:
    """Run ``python -m benchmarks.probe ARGS`` in a fresh process; its JSON figures."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.probe", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ProbeFailed(f"probe {args[0]} failed (exit {result.returncode}): {last}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def repeat(n: int, fn: Callable[[], dict[str, float]]) -> Runs:
    return [fn() for _ in range(n)]


def alternate(
    n: int, reference: Callable[[], dict[str, float]], ours: Callable[[], dict[str, float]]
) -> tuple[Runs, Runs]:
    """Reference and ours taken in turn, so a slow spell of the machine hits both."""
    refs: Runs = []
    runs: Runs = []
    for _ in range(n):
        refs.append(reference())
        runs.append(ours())
    return refs, runs


def rename(runs: Runs, prefix: str) -> Runs:
    """The ``prefix``-ed figures of each run as its seconds and rss_mib (one probe can time
    several steps, for example attach and seal); without its own peak, a step shares the
    process's."""
    return [
        {"seconds": r[f"{prefix}_seconds"], "rss_mib": r.get(f"{prefix}_rss_mib", r["rss_mib"])}
        for r in runs
    ]


def mb_per_s(size: int, seconds: float) -> float:
    return size / seconds / 1e6
