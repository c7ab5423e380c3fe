"""The benchmark harness runs end to end in quick mode (timings are not asserted)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def age_cli() -> str:
    path = shutil.which("age")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("the age command-line tool is required in CI (apt-get install age)")
        pytest.skip("the age command-line tool is not installed")
    return path


def test_quick_benchmark_run_measures_every_case(age_cli: str, tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    readme_before = (ROOT / "benchmarks" / "README.md").read_bytes()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--runs",
            "1",
            "--out",
            str(out),
            "--workdir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    cases = {c["name"]: c for c in report["cases"]}
    names = " | ".join(cases)
    for expected in (
        "attach a file of 8 MiB",
        "seal a draft with 8 MiB",
        "import a bundle with 8 MiB",
        "export 200 reports",
        "import that bundle (200 reports)",
        "audit verify, 20,000 events",
        "--help",
        "first frame",
        "unlock",
        "inbox",
    ):
        assert expected in names, f"no case {expected!r} in: {names}"
    for case in report["cases"]:
        assert case["verdict"] != "ERROR", case
        if case["verdict"] == "MISSING":  # a case another change has not built yet
            assert "ours" not in case and "MISSING" in case["note"]
            continue
        assert case["ours"]["median_s"] > 0 and case["ours"]["peak_rss_mib"] > 0, case
        if "reference" in case:
            assert case["reference"]["median_s"] > 0, case
    against_age = [c for c in report["cases"] if c.get("reference_name", "").startswith("age")]
    assert len(against_age) == 3 and all(c["ratio"] > 0 for c in against_age)
    assert report["quick"] is True and report["total_seconds"] > 0
    assert {"python", "age", "sqlite", "cpus", "commit"} <= set(report["machine"])
    for verdict in ("MET", "MISSED", "n/a"):
        assert all(c["verdict"] != verdict or verdict in result.stdout for c in report["cases"])
    # a quick run never overwrites the published table, nor leaves its inputs behind
    assert (ROOT / "benchmarks" / "README.md").read_bytes() == readme_before
    assert [p.name for p in tmp_path.iterdir()] == ["latest.json"]
