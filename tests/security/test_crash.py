"""Crash consistency, a fast sample: one kill -9 during each kind of operation.

`python -m tests.security.hardening` kills 200 times. After every kill the vault opens,
`audit verify` passes, everything reported done is there, the operation in flight happened
entirely or not at all, and no partial bundle carries its final name.
"""

from __future__ import annotations

from pathlib import Path

from tests.security import crash


def test_kill_9_during_every_kind_of_operation_loses_and_breaks_nothing(tmp_path: Path) -> None:
    result = crash.run_crashes(tmp_path, kills=len(crash.FOCUSES), fresh_every=5, limit=3)
    print("\n" + result.table())
    assert result.failures == []
    assert dict(result.kills) == {focus: 1 for focus in crash.FOCUSES}
    assert result.successes_checked > 0


def test_the_checks_see_a_half_done_seal(tmp_path: Path) -> None:
    """The judge of the operation in flight can fail: a report that is both a draft and a
    receipt (what a non-atomic seal would leave) is reported."""
    from securesubmit.core.service import unlock_vault

    setup = crash._make_vaults(tmp_path / "set", pool_size=0, big=1000)
    with unlock_vault(setup.reporter, crash.PASSPHRASE) as session:
        draft = session.create_report(title="half", category="media")
        receipt = session.seal_report(draft.id, [crash.COORDINATOR])
        with session.vault.transaction("test.planted"):  # what a non-atomic seal would leave
            session.vault.put(bytes.fromhex(draft.id), draft.to_record())
        label, problem = crash._judge_in_flight(
            session, {"start": "seal", "report": draft.id, "receipt": receipt.id}, setup
        )
    assert label == "HALF" and problem
