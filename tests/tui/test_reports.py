"""The reporter's drafts through the app: write, list, search, read, change, delete."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Checkbox, DataTable, Input, Select, TextArea

from securesubmit.core import service
from securesubmit.tui.screens.dialogs import ConfirmModal
from securesubmit.tui.screens.editor import ReportEditorScreen, TemplateChooser
from securesubmit.tui.screens.reports import ReportListScreen, ReportViewScreen
from tests.tui.helpers import (
    PASSPHRASE,
    SIZE,
    click,
    make_app,
    make_vault,
    run,
    screen_text,
    type_text,
    unlock,
)


def _reports(vault: Path) -> list[service.Report]:
    with service.unlock_vault(vault, PASSPHRASE) as session:
        return session.list_reports()


def test_new_report_with_template_fields_is_saved_listed_viewed_edited_and_deleted(
    tmp_path: Path,
) -> None:
    vault = tmp_path / "vault.db"
    make_vault(vault)
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            assert "No reports yet" in screen_text(app)
            await pilot.press("n")
            assert isinstance(app.screen, TemplateChooser)
            await pilot.press("down", "enter")  # the second template: repression
            assert isinstance(app.screen, ReportEditorScreen)
            assert app.screen.template is not None and app.screen.template.id == "repression"
            await type_text(pilot, "Blogger")
            app.screen.query_one("#title", Input).value += " detained in Nukus"
            await pilot.press("tab")
            await type_text(pilot, "2026-10")
            await pilot.press("tab", "space")  # the date is approximate
            editor = app.screen
            editor.query_one("#country", Select).value = "UZ"
            editor.query_one("#place", Input).value = "Nukus"
            editor.query_one("#tf-action", Input).value = "arrest"
            editor.query_one("#tf-case_number", Input).value = "1-234/2026"
            await click(pilot, "#add-person")
            await type_text(pilot, "A. K.")
            await pilot.press("tab")
            await type_text(pilot, "blogger")
            editor.query_one(".person-sensitive", Checkbox).value = True
            editor.query_one("#description", TextArea).text = "Taken from his home at night."
            editor.query_one("#tags", Input).value = "detention, blogger"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, ReportListScreen)
            table = app.screen.query_one(DataTable)
            assert table.row_count == 1
            row = screen_text(app)
            assert "Blogger detained in Nukus" in row and "Repression" in row

            await pilot.press("v")
            assert isinstance(app.screen, ReportViewScreen)
            shown = screen_text(app)
            for expected in (
                "Blogger detained in Nukus",
                "2026-10 (approximate)",
                "Uzbekistan",
                "What was done",
                "arrest",
                "1-234/2026",
                "A. K. — blogger",
                "sensitive: protect this name",
                "Taken from his home at night.",
                "detention, blogger",
            ):
                assert expected in shown, expected
            assert "Still missing" not in shown

            await pilot.press("e")
            assert isinstance(app.screen, ReportEditorScreen)
            title = app.screen.query_one("#title", Input)
            title.value = "Blogger detained in Nukus, released"
            app.screen.query_one("#tf-action", Input).value = ""
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, ReportViewScreen)
            shown = screen_text(app)
            assert "released" in shown
            assert "Still missing (required by the template): What was done" in shown

            await pilot.press("d")
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("y")
            await pilot.pause()
            assert isinstance(app.screen, ReportListScreen)
            assert "No reports yet" in screen_text(app)

    run(scenario)
    assert _reports(vault) == []


def test_saved_report_matches_what_was_typed(tmp_path: Path) -> None:
    vault = tmp_path / "vault.db"
    make_vault(vault)
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("n", "enter")  # press-freedom
            await type_text(pilot, "Site blocked")
            app.screen.query_one("#tf-restriction", Input).value = "blocking"
            app.screen.query_one("#sources", TextArea).text = "https://a.example\n\nwitness"
            await pilot.press("ctrl+s")
            await pilot.pause()

    run(scenario)
    (report,) = _reports(vault)
    assert (report.title, report.template, report.category) == (
        "Site blocked",
        "press-freedom",
        "media",
    )
    assert report.fields == {"restriction": "blocking"}
    assert report.sources == ["https://a.example", "witness"]
    assert report.language == "en"


def test_invalid_date_is_explained_next_to_its_field_and_nothing_is_saved(
    tmp_path: Path,
) -> None:
    vault = tmp_path / "vault.db"
    make_vault(vault)
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("n", "up", "enter")  # "Something else": no template
            editor = app.screen
            assert isinstance(editor, ReportEditorScreen) and editor.template is None
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert "Title is required" in editor.query_one("#f-title").error
            assert "Choose a category" in editor.query_one("#f-category").error
            editor.query_one("#title", Input).focus()
            await type_text(pilot, "Something")
            await pilot.press("tab", "tab")  # past the category
            await type_text(pilot, "2026-02-30")
            await pilot.press("tab")  # leaving the field checks it
            await pilot.pause()
            assert "not a real date" in editor.query_one("#f-incident_date").error
            assert editor.query_one("#f-title").error == ""  # fixed while typing
            editor.query_one("#category", Select).value = "other"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is editor  # still open: the date is wrong
            await click(pilot, "#incident_date")
            await pilot.press("ctrl+u")
            await type_text(pilot, "2026-02")
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, ReportListScreen)

    run(scenario)
    (report,) = _reports(vault)
    assert (report.incident_date, report.category, report.template) == ("2026-02", "other", "")


def test_search_filters_by_title_place_and_tags(tmp_path: Path) -> None:
    vault = tmp_path / "vault.db"
    with service.create_vault(vault, PASSPHRASE, kdf=make_app(vault).kdf) as session:
        session.create_report(title="Glacier data refused", template="environment-info")
        session.create_report(title="Editor fined", template="press-freedom", place="Osh")
        session.create_report(title="Rally banned", template="repression", tags=["assembly"])
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            table = app.screen.query_one(DataTable)
            assert table.row_count == 3
            await pilot.press("slash")
            await type_text(pilot, "osh")
            assert table.row_count == 1 and "Editor fined" in screen_text(app)
            await pilot.press("ctrl+u")
            await type_text(pilot, "ASSEMBLY")
            assert table.row_count == 1 and "Rally banned" in screen_text(app)
            assert "1 of 3 reports match" in screen_text(app)
            await pilot.press("escape")
            assert table.row_count == 3 and app.focused is table

    run(scenario)


def test_leaving_the_editor_with_changes_asks_first(tmp_path: Path) -> None:
    vault = tmp_path / "vault.db"
    make_vault(vault, reports=1)
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("enter")  # Enter on a row edits it
            assert isinstance(app.screen, ReportEditorScreen)
            await pilot.press("escape")  # nothing changed: leaves at once
            assert isinstance(app.screen, ReportListScreen)
            await pilot.press("e")
            await type_text(pilot, "changed")
            await pilot.press("escape")
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("n")
            assert isinstance(app.screen, ReportEditorScreen)
            await pilot.press("escape", "y")
            assert isinstance(app.screen, ReportListScreen)

    run(scenario)
    assert [r.title for r in _reports(vault)] == ["Report number 0"]
