"""Long work in the app shows its bytes, its total and its speed, and Cancel stops it with
nothing left behind: exporting a bundle, importing one, saving an attachment out of the
vault (a draft's or an inbox report's)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input

from securesubmit.core import crypto, service
from securesubmit.core.partners import VERIFIED_CONFIRMED
from securesubmit.tui.app import SecureSubmitApp
from securesubmit.tui.screens.importing import ImportScreen
from securesubmit.tui.screens.inbox import InboxItemScreen, InboxScreen
from securesubmit.tui.screens.progress import ProgressModal
from securesubmit.tui.screens.sealing import ExportBundleScreen
from tests.tui.helpers import (
    PASSPHRASE,
    SIZE,
    click,
    make_app,
    run,
    screen_text,
    settle,
    unlock,
    wait_until,
    working,
)

MIB = 1024 * 1024


def _an_hour_ago() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


class Hold:
    """Makes the work's first progress report wait until the test has pressed Cancel, so
    that the cancel lands in the middle of the work, however fast the machine is."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reached, self.resume = threading.Event(), threading.Event()
        report = ProgressModal.report

        def held(modal: ProgressModal[object], done: int, total: int | None = None) -> None:
            report(modal, done, total)  # shown while the work waits
            if not self.resume.is_set():
                self.reached.set()
                self.resume.wait(10)
            report(modal, done, total)  # raises Cancelled once Cancel was pressed

        monkeypatch.setattr(ProgressModal, "report", held)

    async def cancel(self, pilot: object, app: SecureSubmitApp, total: str) -> None:
        assert await asyncio.to_thread(self.reached.wait, 10)
        assert isinstance(app.screen, ProgressModal)
        await wait_until(pilot, lambda: f"of {total}, " in screen_text(app))  # type: ignore[arg-type]
        assert "/s" in screen_text(app)  # the speed
        await click(pilot, "#progress-cancel")  # type: ignore[arg-type]
        self.resume.set()
        await wait_until(pilot, lambda: not working(app))  # type: ignore[arg-type]


@pytest.fixture
def hold(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hold]:
    held = Hold(monkeypatch)
    yield held
    held.resume.set()


def _pair(root: Path, big: int) -> tuple[Path, Path]:
    """A reporter with one sealed report (an attachment of ``big`` bytes) for a coordinator."""
    reporter, coordinator = root / "reporter.db", root / "coordinator.db"
    source = root / "recording.bin"
    with source.open("wb") as handle:
        handle.truncate(big)  # sparse: costs no disk
    with (
        service.create_vault(
            reporter, PASSPHRASE, name="Aigerim", kdf=crypto.TEST_KDF, clock=_an_hour_ago
        ) as mine,
        service.create_vault(
            coordinator,
            PASSPHRASE,
            name="Free Media Desk",
            role="coordinator",
            kdf=crypto.TEST_KDF,
            clock=_an_hour_ago,
        ) as desk,
    ):
        mine.add_partner(desk.own_card(), verified=VERIFIED_CONFIRMED)
        desk.add_partner(mine.own_card(), verified=VERIFIED_CONFIRMED)
        report = mine.create_report(
            title="Recording of the hearing",
            template="repression",
            fields={"action": "arrest"},
            country="KZ",
            incident_date="2026-03-05",
            description="The hearing.",
        )
        mine.attach_file(report.id, source)
        mine.seal_report(report.id, ["Free Media Desk"])
    return reporter, coordinator


def _notes(app: SecureSubmitApp) -> list[str]:
    return [n.message for n in app._notifications]


def test_a_cancelled_bundle_export_leaves_no_file_and_marks_nothing_as_sent(
    tmp_path: Path, hold: Hold
) -> None:
    reporter, _coordinator = _pair(tmp_path, 8 * MIB)
    usb = tmp_path / "usb"
    usb.mkdir()
    app = make_app(reporter)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("x")
            assert isinstance(app.screen, ExportBundleScreen)
            app.screen.query_one("#export-folder", Input).value = str(usb)
            await click(pilot, "#export-now")
            await hold.cancel(pilot, app, "8.0 MiB")
            assert isinstance(app.screen, ExportBundleScreen)  # still there, to try again
            assert "Cancelled: no bundle was written, and nothing was marked as sent." in (
                _notes(app)
            )

    run(scenario)
    assert list(usb.iterdir()) == []  # neither the bundle nor a temporary file
    with service.unlock_vault(reporter, PASSPHRASE) as session:
        (receipt,) = session.list_receipts()
        assert receipt.exports == [] and receipt.status == "sealed"


def test_a_cancelled_import_stores_nothing_and_says_so(tmp_path: Path, hold: Hold) -> None:
    reporter, coordinator = _pair(tmp_path, 8 * MIB)
    bundle = tmp_path / "bundle.ssb"
    with service.unlock_vault(reporter, PASSPHRASE) as session:
        session.export_bundle("Free Media Desk", bundle)
    with service.unlock_vault(coordinator, PASSPHRASE) as session:
        events = len(session.audit_log())
    app = make_app(coordinator)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("i", "f")
            field = app.screen.query_one("#picker-path", Input)
            field.value = str(bundle)
            field.focus()
            await pilot.press("enter")
            size = bundle.stat().st_size / MIB
            await hold.cancel(pilot, app, f"{size:.1f} MiB")
            assert isinstance(app.screen, ImportScreen)
            await settle(pilot)
            assert "bundle.ssb: not imported (cancelled)" in screen_text(app)
            assert "0 new reports in the inbox." in screen_text(app)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, InboxScreen)
            assert "The inbox is empty" in screen_text(app)

    run(scenario)
    with service.unlock_vault(coordinator, PASSPHRASE) as session:
        assert session.list_inbox() == []
        assert len(session.audit_log()) == events  # no event: the transaction rolled back
        # Nothing was stored, so the same bundle is new, not "already imported".
        assert session.import_bundle(bundle).decision == "new"


def test_a_cancelled_save_of_an_inbox_attachment_leaves_no_partial_file(
    tmp_path: Path, hold: Hold
) -> None:
    reporter, coordinator = _pair(tmp_path, 8 * MIB)
    bundle = tmp_path / "bundle.ssb"
    with service.unlock_vault(reporter, PASSPHRASE) as session:
        session.export_bundle("Free Media Desk", bundle)
    with service.unlock_vault(coordinator, PASSPHRASE) as session:
        session.import_bundle(bundle)
    out = tmp_path / "out"
    out.mkdir()
    app = make_app(coordinator)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await settle(pilot)
            app.screen.query_one(DataTable).focus()
            await pilot.press("enter")
            assert isinstance(app.screen, InboxItemScreen)
            await pilot.press("a")  # one attachment: no choice to make
            field = app.screen.query_one("#picker-path", Input)
            field.value = str(out)
            field.focus()
            await pilot.press("enter")
            await hold.cancel(pilot, app, "8.0 MiB")
            assert isinstance(app.screen, InboxItemScreen)
            assert "Cancelled: no copy was saved." in _notes(app)

    run(scenario)
    assert list(out.iterdir()) == []


def test_a_cancelled_save_of_a_drafts_attachment_leaves_no_partial_file(
    tmp_path: Path, hold: Hold
) -> None:
    vault = tmp_path / "vault.db"
    source = tmp_path / "recording.bin"
    with source.open("wb") as handle:
        handle.truncate(8 * MIB)
    with service.create_vault(vault, PASSPHRASE, name="Aigerim", kdf=crypto.TEST_KDF) as session:
        report = session.create_report(title="Hearing", template="repression")
        session.attach_file(report.id, source)
    out = tmp_path / "out"
    out.mkdir()
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("a", "s")  # the draft's files, then save a copy
            field = app.screen.query_one("#picker-path", Input)
            field.value = str(out)
            field.focus()
            await pilot.press("enter")
            await hold.cancel(pilot, app, "8.0 MiB")
            assert "Cancelled: no copy was saved." in _notes(app)

    run(scenario)
    assert list(out.iterdir()) == []
