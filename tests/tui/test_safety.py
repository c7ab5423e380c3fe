"""Safety features: idle and quick lock, panic, and crashes that leak nothing."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from securesubmit.core import service
from securesubmit.errors import UsageError
from securesubmit.tui import crash
from securesubmit.tui.app import EXIT_CRASH, lock_seconds_from_env
from securesubmit.tui.screens.dialogs import PanicModal
from securesubmit.tui.screens.reports import ReportListScreen, ReportViewScreen
from securesubmit.tui.screens.start import UnlockScreen
from tests.tui.helpers import (
    PASSPHRASE,
    SIZE,
    FakeClock,
    all_text,
    make_app,
    run,
    screen_text,
    settle,
    type_text,
    unlock,
)

CANARY = "CANARY-7f3a9e-КАНАРЕЙКА"


def _vault_with_canary(vault: Path) -> None:
    with service.create_vault(vault, PASSPHRASE, kdf=make_app(vault).kdf) as session:
        session.create_report(
            title=f"{CANARY} title",
            template="repression",
            place=f"{CANARY} place",
            description=f"{CANARY} description",
        )


def test_idle_lock_closes_the_session_and_clears_every_screen(tmp_path: Path) -> None:
    vault = tmp_path / "vault.db"
    _vault_with_canary(vault)
    clock = FakeClock()
    app = make_app(vault, clock=clock)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("v", "f1")  # a report, and help over it
            assert CANARY in all_text(app)  # the check below can see the canary
            session = app.session
            assert session is not None
            clock.advance(299)
            await pilot.pause(0.4)
            assert app.session is session  # not yet
            clock.advance(1)
            await pilot.pause(0.4)
            assert app.session is None
            assert session.vault._master is None  # keys forgotten
            assert [type(s).__name__ for s in app.screen_stack] == ["Screen", "UnlockScreen"]
            assert CANARY not in all_text(app)
            assert "Locked after 5 minutes without input." in screen_text(app)
            await unlock(pilot)
            assert isinstance(app.screen, ReportListScreen)

    run(scenario)


def test_activity_keeps_the_vault_open(tmp_path: Path) -> None:
    vault = tmp_path / "vault.db"
    _vault_with_canary(vault)
    clock = FakeClock()
    app = make_app(vault, clock=clock)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            for _ in range(3):
                clock.advance(200)
                await pilot.press("down")
                await pilot.pause(0.3)
            assert app.session is not None
            await pilot.hover("#reports")  # moving the mouse is not presence
            clock.advance(300)
            await pilot.pause(0.4)
            assert app.session is None

    run(scenario)


def test_lock_seconds_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURESUBMIT_LOCK_SECONDS", "2.5")
    assert lock_seconds_from_env() == 2.5
    monkeypatch.delenv("SECURESUBMIT_LOCK_SECONDS")
    assert lock_seconds_from_env() == 300
    for bad in ("0", "-1", "soon", "nan"):
        monkeypatch.setenv("SECURESUBMIT_LOCK_SECONDS", bad)
        with pytest.raises(UsageError):
            lock_seconds_from_env()


def test_quick_lock_key_locks_at_once_and_waits_for_work_in_progress(tmp_path: Path) -> None:
    vault = tmp_path / "vault.db"
    _vault_with_canary(vault)
    app = make_app(vault)
    release = threading.Event()

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("v")
            # Work in a thread (like a passphrase change) must not lose its session.
            worker = app.run_worker(app.run_blocking(lambda: release.wait(5)))
            await pilot.pause()
            await pilot.press("ctrl+l")
            assert isinstance(app.screen, ReportViewScreen) and app.session is not None
            release.set()
            await app.workers.wait_for_complete([worker])
            await pilot.pause()
            assert isinstance(app.screen, UnlockScreen) and app.session is None
            assert CANARY not in all_text(app)

    run(scenario)


@pytest.mark.parametrize("unlocked", [True, False], ids=["unlocked", "locked"])
def test_panic_destroys_the_vault_after_typing_y(
    tmp_path: Path, unlocked: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    vault = tmp_path / "vault.db"
    _vault_with_canary(vault)
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            if unlocked:
                await unlock(pilot)
            await pilot.press("f12")
            assert isinstance(app.screen, PanicModal)
            await pilot.press("y")
            await pilot.pause()

    run(scenario)
    assert app.return_code == 0
    assert not vault.exists()
    assert not any(p.name.startswith("vault.db") for p in tmp_path.iterdir())
    assert "The vault was destroyed." in capsys.readouterr().err


def test_panic_can_be_cancelled(tmp_path: Path) -> None:
    vault = tmp_path / "vault.db"
    _vault_with_canary(vault)
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("f12")
            await type_text(pilot, "n")  # not a confirmation
            assert isinstance(app.screen, PanicModal)
            await pilot.press("escape")
            assert isinstance(app.screen, ReportListScreen) and app.session is not None

    run(scenario)
    assert service.read_locked_info(vault).keyslots == 1


def test_a_crash_on_a_report_screen_leaks_no_report_data(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = tmp_path / "vault.db"
    _vault_with_canary(vault)
    crash_dir = tmp_path / "state" / "crash"
    app = make_app(vault, crash_dir=crash_dir)

    def broken_edit(self: ReportViewScreen) -> None:
        report = self.session.get_report(self.report_id)
        secret = report.title  # a local holding decrypted text, as a real bug would have
        raise ValueError(f"cannot edit {secret}")

    monkeypatch.setattr(ReportViewScreen, "action_edit_report", broken_edit)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("v")
            assert CANARY in screen_text(app)
            await pilot.press("e")
            await pilot.pause()

    with pytest.raises(ValueError):  # run_test hands the error to the test framework
        run(scenario)
    out, err = capfd.readouterr()
    assert CANARY not in out and CANARY not in err
    assert "SecureSubmit hit an internal error; a crash report without vault data" in err
    assert app.return_code == EXIT_CRASH
    assert app.session is None
    report_path = crash_dir / crash.REPORT_NAME
    assert str(report_path) in err
    report = report_path.read_text()
    assert CANARY not in report and "cannot edit" not in report
    assert "Error: ValueError (message withheld)" in report
    assert "test_safety.py" in report and "in broken_edit" in report
    assert stat.S_IMODE(report_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(crash_dir.stat().st_mode) == 0o700


def test_a_crash_in_a_background_task_is_reported_by_its_real_type(tmp_path: Path) -> None:
    vault = tmp_path / "vault.db"
    _vault_with_canary(vault)
    app = make_app(vault)

    def fail() -> None:
        raise KeyError(CANARY)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.run_worker(app.run_blocking(fail))
            await settle(pilot)

    with pytest.raises(Exception):  # noqa: B017 - Textual wraps it in WorkerFailed
        run(scenario)
    report = (tmp_path / "crash" / crash.REPORT_NAME).read_text()
    assert "Error: KeyError (message withheld)" in report and CANARY not in report


def test_crash_report_keeps_types_and_places_of_a_chain_but_no_text(tmp_path: Path) -> None:
    def inner(secret: str) -> None:
        raise OSError(secret)

    try:
        try:
            inner(CANARY)
        except OSError as exc:
            raise RuntimeError(CANARY) from exc
    except RuntimeError as error:
        text = crash.render_report(error)
    assert CANARY not in text
    assert "Error: RuntimeError (message withheld)" in text
    assert "It was caused by: OSError (message withheld)" in text
    assert "in inner" in text
    assert str(Path.home()) not in text or str(Path.home()) == "/"
