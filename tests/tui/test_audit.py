"""The auditor's screen: this vault verified through the open session, a tampered copy
verified from the unlock screen without a passphrase, the history and the checkpoint."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from securesubmit.core import service
from securesubmit.tui.screens.audit import AuditLogScreen, AuditScreen
from securesubmit.tui.screens.start import UnlockScreen
from tests.tui.helpers import (
    SIZE,
    choose_path,
    click,
    make_app,
    make_vault,
    run,
    screen_text,
    unlock,
    wait_until,
)


def test_this_vault_verifies_intact_and_its_checkpoint_is_exported(tmp_path: Path) -> None:
    vault = tmp_path / "vault.db"
    make_vault(vault, reports=2)
    events = service.verify_audit(vault).events
    checkpoint = tmp_path / "checkpoint.txt"
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("s", "a")
            assert isinstance(app.screen, AuditScreen)
            await pilot.press("v")  # this vault: checked through the open session
            await wait_until(pilot, lambda: "ntact" in screen_text(app))
            shown = screen_text(app)
            assert "✓ Intact: the records match their signed log." in shown
            assert f"intact: {events} events" in shown  # the command line's words, too

            await click(pilot, "#export-checkpoint")
            await choose_path(pilot, checkpoint)
            await click(pilot, "#add-checkpoint")
            await choose_path(pilot, checkpoint)
            assert str(checkpoint) in screen_text(app)
            await click(pilot, "#verify")
            await wait_until(pilot, lambda: "consistent with checkpoint" in screen_text(app))

            await pilot.press("h")
            assert isinstance(app.screen, AuditLogScreen)
            shown = screen_text(app)
            assert f"{events} events, newest first." in shown
            assert "report.created" in shown and "identity.created" in shown

    run(scenario)
    assert checkpoint.read_text().split("\n")[1] == str(events)  # origin, size, root hash


def test_a_tampered_copy_is_verified_from_the_unlock_screen_and_its_problem_shown(
    tmp_path: Path,
) -> None:
    vault = tmp_path / "vault.db"
    (report_id,) = make_vault(vault, reports=1)
    copy = tmp_path / "seized-copy.db"
    shutil.copy(vault, copy)
    conn = sqlite3.connect(copy)
    with conn:
        conn.execute("DELETE FROM objects WHERE id = ?", (bytes.fromhex(report_id),))
    conn.close()
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, UnlockScreen)
            await pilot.press("f2")
            assert isinstance(app.screen, AuditScreen) and app.session is None
            assert "Unlock the vault to read its event history" in screen_text(app)
            app.screen.query_one("#audit-vault").value = str(copy)
            await pilot.press("v")
            await wait_until(pilot, lambda: "✗" in screen_text(app))
            shown = screen_text(app)
            assert "Altered: 1 problem found." in shown
            assert f"• objects row {report_id[:8]}… was deleted outside the log" in shown
            await pilot.press("h")  # no history without the passphrase
            assert isinstance(app.screen, AuditScreen)
            app.screen.query_one("#audit-vault").value = str(vault)
            await click(pilot, "#verify")
            await wait_until(pilot, lambda: "✓" in screen_text(app))
            await pilot.press("escape")
            assert isinstance(app.screen, UnlockScreen)

    run(scenario)
    assert service.read_locked_info(vault).failed_unlocks == 0
