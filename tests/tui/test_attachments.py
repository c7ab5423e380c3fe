"""Attachments through the app: hidden metadata shown before attaching and removed, a copy
saved out, removal, and a cancelled attach that leaves nothing behind."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import threading
from pathlib import Path

import pytest
from PIL import Image
from PIL.ExifTags import GPS, IFD, Base
from textual.widgets import Checkbox, DataTable, DirectoryTree

from securesubmit.core import scrub, service
from securesubmit.tui.screens.attachments import AttachmentsScreen, AttachOptionsScreen
from securesubmit.tui.screens.dialogs import ConfirmModal
from securesubmit.tui.screens.files import PathPicker
from securesubmit.tui.screens.progress import ProgressModal
from securesubmit.tui.screens.reports import ReportViewScreen
from tests.tui.helpers import (
    PASSPHRASE,
    SIZE,
    choose_path,
    click,
    make_app,
    make_vault,
    run,
    screen_text,
    unlock,
    wait_until,
    working,
)

GPS_LINE = "GPS position 43.25 N 76.95 E"


def _photo_with_gps(path: Path) -> None:
    exif = Image.Exif()
    exif[Base.Make] = "Canon"
    exif[Base.Model] = "EOS 80D"
    exif.get_ifd(IFD.GPSInfo).update(
        {
            GPS.GPSLatitudeRef: "N",
            GPS.GPSLatitude: (43.0, 15.0, 0.0),
            GPS.GPSLongitudeRef: "E",
            GPS.GPSLongitude: (76.0, 57.0, 0.0),
        }
    )
    Image.new("RGB", (64, 48), "red").save(path, exif=exif)


def _chunk_rows(vault: Path) -> int:
    conn = sqlite3.connect(vault)
    try:
        return int(conn.execute("SELECT count(*) FROM chunks").fetchone()[0])
    finally:
        conn.close()


def test_a_photo_shows_its_gps_position_before_attaching_and_is_stored_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = tmp_path / "vault.db"
    (report_id,) = make_vault(vault, reports=1)
    photos = tmp_path / "home"
    photos.mkdir()
    _photo_with_gps(photos / "protest.jpg")
    (photos / ".hidden.jpg").write_bytes(b"not shown")
    out = tmp_path / "usb"
    out.mkdir()
    monkeypatch.setenv("HOME", str(photos))  # the tree starts in the home folder
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("v", "a")
            assert isinstance(app.screen, AttachmentsScreen)
            assert "No attachments yet" in screen_text(app)
            await pilot.press("a")
            assert isinstance(app.screen, PathPicker)
            tree = app.screen.query_one(DirectoryTree)
            await wait_until(pilot, lambda: tree.root.children != [])
            assert [str(node.label) for node in tree.root.children] == ["protest.jpg"]
            await pilot.press("down", "enter")  # the photo, chosen in the tree
            await wait_until(pilot, lambda: not working(app))
            assert isinstance(app.screen, AttachOptionsScreen)
            assert GPS_LINE in str(app.screen.query_one("#will-remove").content)
            assert "camera: Canon EOS 80D" in screen_text(app)
            await pilot.press("enter")  # Attach has the focus
            await wait_until(pilot, lambda: not working(app))
            assert isinstance(app.screen, AttachmentsScreen)
            assert app.screen.query_one(DataTable).row_count == 1
            listed = screen_text(app)
            assert "protest.jpg" in listed and "3 items removed" in listed
            assert "Hidden metadata removed:" in listed and GPS_LINE in listed

            await pilot.press("s")
            assert "NOT encrypted" in screen_text(app)
            await choose_path(pilot, out)
            notes = [n.message for n in app._notifications]
            assert f"Saved to {out / 'protest.jpg'}. This copy is NOT encrypted." in notes

            await pilot.press("escape")
            assert isinstance(app.screen, ReportViewScreen)
            assert "protest.jpg" in screen_text(app)  # the report lists its files
            await pilot.press("a", "d")
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("y")
            await pilot.pause()
            assert "No attachments yet" in screen_text(app)

    run(scenario)
    saved = (out / "protest.jpg").read_bytes()
    assert saved.startswith(b"\xff\xd8")
    assert GPS_LINE not in scrub.inspect(io.BytesIO(saved)).found
    assert GPS_LINE in scrub.inspect(photos / "protest.jpg").found  # the original is untouched
    with service.unlock_vault(vault, PASSPHRASE) as session:
        assert session.list_attachments(report_id) == []


def test_cancelling_a_large_attach_leaves_nothing_in_the_vault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = tmp_path / "vault.db"
    (report_id,) = make_vault(vault, reports=1)
    big = tmp_path / "recording.bin"
    with big.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)  # sparse: 64 MiB that cost no disk
    reached, resume = threading.Event(), threading.Event()
    reports = ProgressModal.report

    def held(self: ProgressModal[object], done: int) -> None:
        # The first progress report waits until the test has pressed Cancel.
        reached.set()
        resume.wait(10)
        reports(self, done)

    monkeypatch.setattr(ProgressModal, "report", held)
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("a", "a")
            await choose_path(pilot, big)
            assert isinstance(app.screen, AttachOptionsScreen)
            assert "does not recognise this kind of file" in screen_text(app)
            assert not app.screen.query(Checkbox)  # nothing to clean: no options
            await click(pilot, "#attach")
            assert await asyncio.to_thread(reached.wait, 10)
            assert isinstance(app.screen, ProgressModal)
            await wait_until(pilot, lambda: "of 64.0 MiB" in screen_text(app))
            await click(pilot, "#progress-cancel")
            resume.set()
            await wait_until(pilot, lambda: not working(app))
            assert isinstance(app.screen, AttachmentsScreen)
            notes = [n.message for n in app._notifications]
            assert "Cancelled: nothing was attached." in notes
            assert "No attachments yet" in screen_text(app)
            assert app.session is not None
            assert app.session.list_attachments(report_id) == []

    run(scenario)
    assert _chunk_rows(vault) == 0
    assert service.verify_audit(vault).events > 0  # intact: the log agrees
