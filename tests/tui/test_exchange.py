"""Reports travel through the app: a reporter seals a draft and exports a bundle; a
coordinator imports it, finds it, reviews it, counts it and exports it for analysis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.widgets import Checkbox, DataTable, Input

from securesubmit.core import crypto, service
from securesubmit.core.partners import VERIFIED_CONFIRMED, VERIFIED_TRUST_STORE
from securesubmit.tui.screens.analysis import ExportDataScreen, StatisticsScreen
from securesubmit.tui.screens.dialogs import ChoiceModal, MessageModal, TextModal
from securesubmit.tui.screens.importing import ImportScreen
from securesubmit.tui.screens.inbox import InboxItemScreen, InboxScreen
from securesubmit.tui.screens.opening import OpenedReportScreen
from securesubmit.tui.screens.partners import read_card
from securesubmit.tui.screens.reports import ReportListScreen
from securesubmit.tui.screens.sealing import (
    ExportBundleScreen,
    ReceiptScreen,
    SealedReportsScreen,
    SealScreen,
)
from tests.tui.helpers import (
    PASSPHRASE,
    SIZE,
    choose_path,
    click,
    make_app,
    run,
    screen_text,
    settle,
    unlock,
    wait_until,
)

EXAMPLE_CARD = Path(__file__).resolve().parents[2] / "keys" / "example-partner.card"
TITLE = "Editor detained in Almaty"


def _an_hour_ago() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


def _pair(root: Path) -> tuple[Path, Path]:
    """A reporter and a coordinator who added each other's cards (made an hour ago)."""
    reporter, coordinator = root / "reporter.db", root / "coordinator.db"
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
    return reporter, coordinator


def _finished_draft(session: service.Session, title: str = TITLE, **values: object) -> str:
    values.setdefault("template", "repression")
    values.setdefault("fields", {"action": "arrest"})
    values.setdefault("country", "KZ")
    values.setdefault("incident_date", "2026-03-05")
    return session.create_report(title=title, description="The editor was detained.", **values).id


def _notes(app: object) -> list[str]:
    return [n.message for n in app._notifications]  # type: ignore[attr-defined]


def test_a_draft_is_sealed_to_a_partner_and_exported_as_a_bundle(tmp_path: Path) -> None:
    reporter, _coordinator = _pair(tmp_path)
    with service.unlock_vault(reporter, PASSPHRASE) as session:
        session.add_partner(read_card(EXAMPLE_CARD), verified=VERIFIED_TRUST_STORE)
        session.create_report(title="Not finished yet", template="repression")
        finished = _finished_draft(session)
    usb = tmp_path / "usb"
    usb.mkdir()
    app = make_app(reporter)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            table = app.screen.query_one(DataTable)
            assert table.row_count == 2
            table.move_cursor(row=table.get_row_index(finished) ^ 1)  # the unfinished one
            await pilot.press("S")
            assert isinstance(app.screen, SealScreen)
            shown = screen_text(app)
            assert "cannot be sealed yet" in shown and "What was done" in shown
            assert app.screen.query_one("#seal-now").disabled
            # The example card is listed, with why it cannot be chosen.
            assert "TEST ONLY" in shown
            boxes = {str(box.label): box for box in app.screen.query(".seal-partner")}
            assert isinstance(boxes["Free Media Desk"], Checkbox)
            assert boxes["EXAMPLE Test Partner (NOT REAL)"].disabled
            assert boxes["Free Media Desk"].value  # the one partner that can be chosen
            await pilot.press("escape")

            table.move_cursor(row=table.get_row_index(finished))
            await pilot.press("S")
            assert "this device can no longer read the report" in screen_text(app)
            assert not app.screen.query_one("#seal-now").disabled
            await click(pilot, "#seal-now")
            await wait_until(pilot, lambda: isinstance(app.screen, ReportListScreen))
            await settle(pilot)
            assert (
                f"Sealed “{TITLE}” to Free Media Desk. The draft was destroyed. Protection: "
                "encryption hybrid (ML-KEM-768 + X25519), signature hybrid (ML-DSA-65 + Ed25519)"
            ) in _notes(app)
            assert TITLE not in screen_text(app)  # the draft is gone
            assert app.screen.query_one(DataTable).row_count == 1

            await pilot.press("r")
            assert isinstance(app.screen, SealedReportsScreen)
            listed = screen_text(app)
            assert "Editor detained" in listed and "sealed" in listed
            await pilot.press("enter")
            assert isinstance(app.screen, ReceiptScreen)
            assert "Free Media Desk" in screen_text(app) and "not exported yet" in screen_text(app)

            await pilot.press("x")
            assert isinstance(app.screen, ExportBundleScreen)
            assert "Ticked: the reports not sent to Free Media Desk yet" in screen_text(app)
            app.screen.query_one("#export-folder", Input).value = str(usb)
            await click(pilot, "#export-now")
            await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen))
            assert "bundle 1 for Free Media Desk" in screen_text(app)

    run(scenario)
    (bundle,) = usb.iterdir()
    assert bundle.name.startswith("bundle-free-media-desk-") and bundle.suffix == ".ssb"
    with service.unlock_vault(reporter, PASSPHRASE) as session:
        (receipt,) = session.list_receipts()
        assert receipt.status == "exported" and receipt.exports[0]["sequence"] == 1
        assert [r.title for r in session.list_reports()] == ["Not finished yet"]


def test_a_coordinator_imports_finds_reviews_counts_and_exports_reports(tmp_path: Path) -> None:
    reporter, coordinator = _pair(tmp_path)
    usb = tmp_path / "usb"
    usb.mkdir()
    with service.unlock_vault(reporter, PASSPHRASE) as session:
        for report in (
            _finished_draft(session),
            _finished_draft(
                session,
                "Outlet blocked in Bishkek",
                template="press-freedom",
                fields={"restriction": "blocking"},
                country="KG",
            ),
        ):
            receipt = session.seal_report(report, ["Free Media Desk"])
        session.export_sealed_file(receipt.id, usb / "one.age")
        session.export_bundle("Free Media Desk", usb / "bundle.ssb")
    out = tmp_path / "analysis"
    app = make_app(coordinator)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await settle(pilot)
            assert isinstance(app.screen, InboxScreen)
            assert "The inbox is empty" in screen_text(app)

            await pilot.press("i")
            assert isinstance(app.screen, ImportScreen)
            await pilot.press("f")
            await choose_path(pilot, usb / "bundle.ssb")
            await settle(pilot)
            result = screen_text(app)
            assert "bundle.ssb: from Aigerim (" in result
            assert "verified, bundle 1: 2 new reports" in result
            await pilot.press("r")  # one sealed file that came without a bundle
            await choose_path(pilot, usb / "one.age")
            assert isinstance(app.screen, OpenedReportScreen)
            opened = screen_text(app)
            assert "Outlet blocked in Bishkek" in opened and "Aigerim" in opened
            assert "verified: signed by this sender's key" in opened
            await pilot.press("escape", "escape")
            await settle(pilot)
            table = app.screen.query_one(DataTable)
            assert table.row_count == 2

            search = app.screen.query_one("#search", Input)
            search.value = "almaty"
            await wait_until(pilot, lambda: table.row_count == 1)
            assert TITLE in screen_text(app)
            table.focus()
            await pilot.press("enter")
            assert isinstance(app.screen, InboxItemScreen)
            item = screen_text(app)
            assert "Aigerim" in item and "verified: signed by this sender's key" in item
            assert "Bundle" in item and "number 1" in item

            await pilot.press("s")
            assert isinstance(app.screen, ChoiceModal)
            await pilot.press("down", "enter")  # new -> reviewed
            await wait_until(pilot, lambda: "Status: reviewed." in _notes(app))
            await pilot.press("t")
            assert isinstance(app.screen, TextModal)
            app.screen.query_one("#text-value", Input).value = "urgent"
            await pilot.press("enter")
            await wait_until(pilot, lambda: "Tagged urgent." in _notes(app))
            assert "urgent" in screen_text(app)

            await pilot.press("escape", "escape")  # back to the inbox, search cleared
            await wait_until(pilot, lambda: table.row_count == 2)
            await pilot.press("t")
            assert isinstance(app.screen, StatisticsScreen)
            await settle(pilot)
            stats = screen_text(app)
            assert "2 reports, 2 distinct incidents" in stats
            assert "By category" in stats and "Mar 2026" in stats
            rows = {line.split()[0]: line.split()[-1] for line in stats.splitlines() if line}
            assert rows["Repression"] == "1" and rows["Media"] == "1"
            assert rows["Kazakhstan"] == "1" and rows["Environment"] == "0"

            await pilot.press("escape", "x")
            assert isinstance(app.screen, ExportDataScreen)
            assert "These export files are PLAINTEXT" in screen_text(app)
            app.screen.query_one("#export-data-folder", Input).value = str(out)
            await click(pilot, "#export-data-now")
            await wait_until(pilot, lambda: isinstance(app.screen, MessageModal))
            written = screen_text(app)
            assert str(out / "reports.csv") in written and "PLAINTEXT" in written

    run(scenario)
    rows = (out / "reports.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 3 and TITLE in "\n".join(rows)
    assert (out.stat().st_mode & 0o777) == 0o700
    with service.unlock_vault(coordinator, PASSPHRASE) as session:
        (item,) = [i for i in session.list_inbox() if i.report["title"] == TITLE]
        assert item.status == "reviewed" and item.tags == ["urgent"]
        assert item.sender_name == "Aigerim"


def test_import_messages_and_the_plaintext_warning_are_translated() -> None:
    from securesubmit.core import inbox
    from securesubmit.tui import i18n
    from securesubmit.tui.text import CORE_TEXTS, core_message

    assert inbox.PLAINTEXT_WARNING in CORE_TEXTS  # the core's words, shown before writing
    i18n.set_language("ru")
    try:
        assert core_message(inbox.PLAINTEXT_WARNING).startswith("Эти файлы выгрузки НЕ")
        assert core_message("bundle 3 arrived; bundles 1 to 2 from this sender are missing") == (
            "пришёл пакет 3; пакетов с 1 по 2 от этого отправителя нет"
        )
        assert core_message("bundle 2 was already imported; nothing changed") == (
            "пакет 2 уже импортирован; ничего не изменилось"
        )
    finally:
        i18n.set_language("en")
