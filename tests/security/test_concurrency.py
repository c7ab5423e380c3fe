"""Two processes on one vault, a fast sample: `python -m tests.security.hardening` runs 1,000
operations. Each command-line call succeeds or says "vault in use" (exit code 4); at the end
the vault verifies and holds exactly what the two processes saved.
"""

from __future__ import annotations

from pathlib import Path

from tests.security.concurrency import run_concurrency


def test_two_processes_on_one_vault_get_success_or_vault_in_use_never_corruption(
    tmp_path: Path,
) -> None:
    result = run_concurrency(tmp_path, 80)
    assert result.problems == []
    assert result.operations == 80
    assert result.succeeded > 0 and result.in_use > 0, result.codes  # they did collide
    assert set(code.rsplit(": ", 1)[1] for code in result.codes) <= {"0", "4"}
