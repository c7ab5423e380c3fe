"""The inbox and the report list with more reports than fit: pages, filters and their
combinations with the search, and a bundle imported twice ("already imported")."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Checkbox, DataTable, Input, Select

from securesubmit.core import crypto, fs, inbox, service
from securesubmit.core.partners import VERIFIED_CONFIRMED
from securesubmit.tui.app import SecureSubmitApp
from securesubmit.tui.screens import inbox as inbox_screen
from securesubmit.tui.screens.importing import ImportScreen
from securesubmit.tui.screens.inbox import FilterModal, InboxScreen
from securesubmit.tui.screens.reports import ReportListScreen
from tests.helpers import FixedClock
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

REPORTS = 23
TEMPLATES = ["repression", "press-freedom", "environment-info"]
CATEGORIES = ["repression", "media", "environment"]
COUNTRIES = ["KZ", "KG", "TJ", "UZ"]
PLACES = {"KZ": "Almaty", "KG": "Bishkek", "TJ": "Dushanbe", "UZ": "Tashkent"}
FIELDS = {
    "repression": {"action": "arrest"},
    "press-freedom": {"restriction": "blocking"},
    "environment-info": {"requested": "water data", "requested_from": "Ministry"},
}


def sender(i: int) -> str:
    return "Aigerim" if i < 15 else "Daniyar"


def category(i: int) -> str:
    return CATEGORIES[i % 3]


def country(i: int) -> str:
    return COUNTRIES[i % 4]


def month(i: int) -> int:
    return i % 12 + 1


def flagged(i: int) -> bool:
    return i % 5 == 0


def urgent(i: int) -> bool:
    return i % 4 == 0


def _copy_vault(source: Path, target: Path) -> None:
    for suffix in fs.VAULT_SUFFIXES:
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{target}{suffix}")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A coordinator's vault with 23 reports from two reporters (varied category, country,
    month, status and tags), the two bundles they came in, and a second bundle from
    Aigerim that is not imported yet."""
    root = tmp_path_factory.mktemp("lists")
    reporters = {}
    # A minute between reports, so that the inbox's order (newest sealed first) is known.
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2))
    desk = service.create_vault(
        root / "coordinator.db",
        PASSPHRASE,
        name="Free Media Desk",
        role="coordinator",
        kdf=crypto.TEST_KDF,
        clock=clock,
    )
    for name in ("Aigerim", "Daniyar"):
        mine = service.create_vault(
            root / f"{name}.db", PASSPHRASE, name=name, kdf=crypto.TEST_KDF, clock=clock
        )
        mine.add_partner(desk.own_card(), verified=VERIFIED_CONFIRMED)
        desk.add_partner(mine.own_card(), verified=VERIFIED_CONFIRMED)
        reporters[name] = mine
    for i in range(REPORTS):
        template = TEMPLATES[i % 3]
        report = reporters[sender(i)].create_report(
            title=f"Case {i:02d}",
            template=template,
            fields=FIELDS[template],
            country=country(i),
            place=PLACES[country(i)],
            incident_date=f"2026-{month(i):02d}-10",
            description="What happened.",
        )
        reporters[sender(i)].seal_report(report.id, ["Free Media Desk"])
        clock.advance(60)
    for name, mine in reporters.items():
        mine.export_bundle("Free Media Desk", root / f"{name}-1.ssb")
        desk.import_bundle(root / f"{name}-1.ssb")
    for item in desk.list_inbox():
        i = int(item.report["title"].split()[1])
        if flagged(i):
            inbox.set_status(desk, item, "flagged")
        if urgent(i):
            inbox.add_tag(desk, item, "urgent")
    late = reporters["Aigerim"].create_report(
        title="Late case", template="repression", fields=FIELDS["repression"], country="KZ"
    )
    reporters["Aigerim"].seal_report(late.id, ["Free Media Desk"])
    reporters["Aigerim"].export_bundle("Free Media Desk", root / "Aigerim-2.ssb")
    for session in (desk, *reporters.values()):
        session.close()
    return root


@pytest.fixture
def coordinator(made: Path, tmp_path: Path) -> Iterator[Path]:
    vault = tmp_path / "coordinator.db"
    _copy_vault(made / "coordinator.db", vault)
    yield vault


def _status(app: SecureSubmitApp) -> str:
    return str(app.screen.query_one("#inbox-status").content)


def _titles(app: SecureSubmitApp) -> list[str]:
    table = app.screen.query_one(DataTable)
    return [str(table.get_row_at(row)[-1]) for row in range(table.row_count)]


def _expected(rule: Any) -> list[str]:
    """The titles ``rule`` keeps, newest sealed first as the inbox lists them."""
    return [f"Case {i:02d}" for i in reversed(range(REPORTS)) if rule(i)]


async def _open_inbox(pilot: Any, app: SecureSubmitApp) -> None:
    await pilot.pause()
    await unlock(pilot)
    await settle(pilot)
    assert isinstance(app.screen, InboxScreen)
    await wait_until(pilot, lambda: "report" in _status(app))


async def _filter(pilot: Any, app: SecureSubmitApp, **chosen: Any) -> None:
    """Open the filter dialog, set ``chosen`` in it as a user would, and apply."""
    await pilot.press("f")
    assert isinstance(app.screen, FilterModal)
    for key, value in chosen.items():
        if key in ("sender", "category", "country", "status"):
            app.screen.query_one(f"#filter-{key}", Select).value = value
        elif key == "with_warnings":
            app.screen.query_one("#filter-with_warnings", Checkbox).value = value
        else:
            app.screen.query_one(f"#filter-{key}", Input).value = value
    await click(pilot, "#apply")
    await settle(pilot)


def test_the_inbox_turns_pages_and_a_search_or_filter_starts_again_at_page_one(
    coordinator: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_screen, "PER_PAGE", 10)  # 23 reports: three pages
    app = make_app(coordinator)
    newest_first = _expected(lambda i: True)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await _open_inbox(pilot, app)
            assert _status(app) == "23 reports.  Page 1 of 3 ([ and ] turn pages)."
            assert _titles(app) == newest_first[:10]
            await pilot.press("]")
            assert _titles(app) == newest_first[10:20]
            assert "Page 2 of 3" in _status(app)
            await pilot.press("]")
            assert _titles(app) == newest_first[20:]  # the last page holds the rest
            await pilot.press("]")  # past the last page: nothing happens
            assert "Page 3 of 3" in _status(app) and len(_titles(app)) == 3
            await pilot.press("[", "[", "[")  # nor before the first
            assert "Page 1 of 3" in _status(app) and _titles(app) == newest_first[:10]

            await pilot.press("]", "]")
            await _filter(pilot, app, sender=_fingerprint(app, "Daniyar"))
            assert _status(app) == "8 of 23 reports match."  # one page: no page line
            assert _titles(app) == _expected(lambda i: sender(i) == "Daniyar")
            await pilot.press("f")  # the dialog shows the filter set; Clear removes it
            assert app.screen.query_one("#filter-sender", Select).value == _fingerprint(
                app, "Daniyar"
            )
            await click(pilot, "#clear")
            await settle(pilot)
            assert _status(app) == "23 reports.  Page 1 of 3 ([ and ] turn pages)."

            await pilot.press("]")
            search = app.screen.query_one("#search", Input)
            search.value = "Bishkek"  # a place: six reports, on one page
            await wait_until(pilot, lambda: "match" in _status(app))
            assert _status(app) == "6 of 23 reports match."
            assert _titles(app) == _expected(lambda i: country(i) == "KG")

    run(scenario)


def _fingerprint(app: SecureSubmitApp, name: str) -> str:
    screen = app.screen_stack[1] if len(app.screen_stack) > 1 else app.screen
    assert isinstance(screen, InboxScreen)
    (found,) = [fp for fp, shown in screen.sender_names().items() if shown == name]
    return found


@pytest.mark.parametrize(
    ("chosen", "rule", "described"),
    [
        (
            {"category": "repression", "country": "KZ"},
            lambda i: category(i) == "repression" and country(i) == "KZ",
            "Repression, Kazakhstan",
        ),
        (
            {"status": "flagged", "tag": "urgent"},
            lambda i: flagged(i) and urgent(i),
            "flagged, tag urgent",
        ),
        (
            {"tag": "URGENT", "date_from": "2026-06", "date_to": "2026-09-30"},
            lambda i: urgent(i) and 6 <= month(i) <= 9,
            "tag URGENT, from 2026-06, until 2026-09-30",
        ),
        (
            {"category": "media", "country": "KG", "status": "new"},
            lambda i: category(i) == "media" and country(i) == "KG" and not flagged(i),
            "Media, Kyrgyzstan, new",
        ),
    ],
)
def test_inbox_filters_combine_and_say_what_they_keep(
    coordinator: Path, chosen: dict[str, str], rule: Any, described: str
) -> None:
    app = make_app(coordinator)
    wanted = _expected(rule)
    assert 0 < len(wanted) < REPORTS  # each combination keeps some and drops some

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await _open_inbox(pilot, app)
            await _filter(pilot, app, **chosen)
            assert isinstance(app.screen, InboxScreen)
            assert _titles(app) == wanted
            assert _status(app) == f"{len(wanted)} of 23 reports match."
            assert str(app.screen.query_one("#inbox-filters").content) == (
                f"Filters: {described} (f to change)"
            )
            # The search narrows what the filters kept; it never widens it.
            search = app.screen.query_one("#search", Input)
            search.value = wanted[0]
            await wait_until(pilot, lambda: _titles(app) == [wanted[0]])
            search.value = "Case"  # every title: the filters still hold
            await wait_until(pilot, lambda: _titles(app) == wanted)

            await pilot.press("f")
            await click(pilot, "#clear")
            await settle(pilot)
            assert "No filters (f to filter)." in screen_text(app)
            assert _status(app) == "23 of 23 reports match."  # the search is still there

    run(scenario)


def test_filters_that_keep_nothing_or_make_no_sense_say_so(coordinator: Path) -> None:
    app = make_app(coordinator)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await _open_inbox(pilot, app)
            await _filter(pilot, app, with_warnings=True)  # every bundle verified cleanly
            assert _titles(app) == []
            assert "No report matches the search and filters." in screen_text(app)
            assert _status(app) == "0 of 23 reports match."

            await pilot.press("f")
            app.screen.query_one("#filter-date_from", Input).value = "2026-13-01"
            await click(pilot, "#apply")
            assert isinstance(app.screen, FilterModal)  # not applied: told why
            assert app.screen.query_one("#filter-error").display
            assert str(app.screen.query_one("#filter-error").content).strip()
            await pilot.press("escape")
            assert isinstance(app.screen, InboxScreen)
            assert _status(app) == "0 of 23 reports match."  # the earlier filter stands

    run(scenario)


def test_a_bundle_imported_twice_is_already_imported_and_changes_nothing(
    coordinator: Path, made: Path, tmp_path: Path
) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    shutil.copy(made / "Aigerim-2.ssb", usb / "a.ssb")
    shutil.copy(made / "Aigerim-2.ssb", usb / "b.ssb")  # the same bundle, copied
    shutil.copy(made / "Daniyar-1.ssb", usb / "c.ssb")  # imported already when made
    for n, name in enumerate(("a.ssb", "b.ssb", "c.ssb")):  # the order of the import
        os.utime(usb / name, (1_700_000_000 + n, 1_700_000_000 + n))
    with service.unlock_vault(coordinator, PASSPHRASE) as session:
        events = len(session.audit_log())
    app = make_app(coordinator)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await _open_inbox(pilot, app)
            await pilot.press("i")
            assert isinstance(app.screen, ImportScreen)
            await pilot.press("o")
            await choose_path(pilot, usb)
            await settle(pilot)
            shown = screen_text(app)
            assert "a.ssb: from Aigerim (" in shown and "bundle 2: 1 new report" in shown
            assert "b.ssb: from Aigerim (" in shown
            assert shown.count("bundle 2: already imported, nothing changed") == 1
            assert "bundle 1: already imported, nothing changed" in shown  # c.ssb
            assert "1 new report in the inbox." in shown
            assert "refused" not in shown and "WARNING" not in shown

            await pilot.press("f")  # the same file once more, alone
            await choose_path(pilot, usb / "a.ssb")
            await settle(pilot)
            shown = screen_text(app)
            assert "bundle 2: already imported, nothing changed" in shown
            assert "0 new reports in the inbox." in shown
            await pilot.press("escape")
            await wait_until(pilot, lambda: _status(app) == "24 reports.")
            assert _titles(app).count("Late case") == 1

    run(scenario)
    with service.unlock_vault(coordinator, PASSPHRASE) as session:
        assert len(session.list_inbox()) == 24
        # One event for the one import that stored something; duplicates log nothing.
        assert len(session.audit_log()) == events + 1


@pytest.fixture
def many_drafts(tmp_path: Path) -> Path:
    vault = tmp_path / "vault.db"
    with service.create_vault(vault, PASSPHRASE, name="Aigerim", kdf=crypto.TEST_KDF) as session:
        for i in range(60):
            session.create_report(
                title=f"Draft {i:02d}",
                template="repression",
                place="Almaty" if i % 3 == 0 else "Osh",
                tags=["court"] if i % 10 == 0 else [],
            )
    return vault


def test_the_report_list_scrolls_through_more_drafts_than_fit_and_searches_them(
    many_drafts: Path,
) -> None:
    app = make_app(many_drafts)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            assert isinstance(app.screen, ReportListScreen)
            table = app.screen.query_one(DataTable)
            assert table.row_count == 60
            assert table.size.height < 60  # more than fit on the screen
            assert "60 reports." in screen_text(app)
            await pilot.press("pagedown")
            await pilot.pause()
            page = table.cursor_row
            assert 5 < page < 59 and table.scroll_y > 0  # a screenful further down
            await pilot.press("ctrl+end")
            await pilot.pause()
            assert table.cursor_row == 59
            assert table.scroll_y == table.max_scroll_y > 0  # scrolled to show the last one
            last = str(table.get_row_at(59)[-1])
            await pilot.press("enter")  # the highlighted one opens, not a visible one
            assert last in screen_text(app)
            await pilot.press("escape")
            await settle(pilot)

            search = app.screen.query_one("#search", Input)
            for query, count in (("almaty", 20), ("court", 6), ("Draft 5", 10), ("none", 0)):
                search.value = query
                await pilot.pause()
                assert table.row_count == count, query
                assert f"{count} of 60 reports match the search." in screen_text(app)
            search.focus()
            await pilot.press("escape")
            await pilot.pause()
            assert table.row_count == 60 and "60 reports." in screen_text(app)

    run(scenario)
