"""The benchmark harness runs end to end in quick mode (timings are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_run_writes_every_case(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--runs", "1", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    names = [c["name"] for c in report["cases"]]
    assert any("--help" in n for n in names) and any("unlock" in n for n in names)
    for case in report["cases"]:
        assert case["ours"]["median_s"] > 0 and case["ours"]["peak_rss_mib"] > 0
    assert "python" in report["machine"]
    assert "MISSED" in result.stdout or "met" in result.stdout or "n/a" in result.stdout
