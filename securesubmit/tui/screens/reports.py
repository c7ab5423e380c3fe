"""The reporter's reports: the list with its search, and the read-only view of one report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, Static

from securesubmit.core.models import TEMPLATES, Attachment, Report, missing_required
from securesubmit.errors import NotFound, SecureSubmitError
from securesubmit.tui.i18n import N_, _, ngettext
from securesubmit.tui.screens.base import AppScreen
from securesubmit.tui.screens.dialogs import ConfirmModal, ErrorModal
from securesubmit.tui.text import (
    category_label,
    category_short,
    country_label,
    format_size,
    report_language_label,
    show_stamp,
    status_label,
    template_title,
)
from securesubmit.tui.widgets import TitleBar, app_footer

ID_WIDTH = 8


def short_id(report: Report) -> str:
    return report.id[:ID_WIDTH]


def matches(report: Report, query: str) -> bool:
    """The search box looks in the title, the place and the tags, ignoring case."""
    needle = query.casefold().strip()
    if not needle:
        return True
    haystack = [report.title, report.place, *report.tags]
    return any(needle in text.casefold() for text in haystack)


class ReportListScreen(AppScreen[None]):
    """Every report in the vault, newest first, with a search box."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_report", N_("New")),
        # Enter edits too; Edit and Delete are in the help, so the footer fits 80 columns.
        Binding("e", "edit_report", N_("Edit"), show=False),
        Binding("v", "view_report", N_("View"), show=False),
        Binding("d", "delete_report", N_("Delete"), show=False),
        Binding("a", "attachments", N_("Files"), show=False),
        Binding("S", "seal_report", N_("Seal")),
        Binding("shift+s", "seal_report", N_("Seal"), show=False),
        Binding("r", "sealed_reports", N_("Outbox")),
        Binding("x", "export_bundle", N_("Export bundle"), show=False),
        Binding("slash", "search", N_("Search"), show=False),  # the search box says so
        Binding("p", "partners", N_("Partners"), show=False),  # Settings lead there too
        Binding("s", "settings", N_("Settings")),
        Binding("escape", "clear_search", N_("Clear the search"), show=False),
    ]
    HELP_TEXT = N_(
        "Your drafts, newest first. Drafts stay encrypted in the vault and can be changed "
        "at any time. Press n to write a new report, Enter or e to edit the highlighted one, "
        "v to read it, a for its attached files, d to delete it. When a report is final, "
        "press S (capital) to seal it to your partners; r shows the sealed reports (the "
        "outbox) and x exports them as a bundle. Press / to search titles, places and tags; "
        "Escape clears the search. Press p for your partners, s for settings (identity, "
        "audit, language)."
    )

    def __init__(self) -> None:
        super().__init__()
        self._reports: list[Report] = []

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Reports"))
        with Vertical(classes="page"):
            yield Input(placeholder=_("Search titles, places and tags (/)"), id="search")
            yield DataTable(id="reports", cursor_type="row", zebra_stripes=True)
            yield Static(Text(_("No reports yet. Press n to write your first report.")), id="empty")
            yield Static("", id="list-status", classes="muted")
        yield app_footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(_("ID"), key="id", width=ID_WIDTH)
        table.add_column(_("Status"), key="status")
        table.add_column(_("Date"), key="date")
        table.add_column(_("Category"), key="category")
        table.add_column(_("Title"), key="title")
        self.reload()
        table.focus()

    def on_screen_resume(self) -> None:
        if self.unlocked:
            self.reload()

    def reload(self, select: str | None = None) -> None:
        self._reports = self.session.list_reports()
        self.refill(select)

    def refill(self, select: str | None = None) -> None:
        table = self.query_one(DataTable)
        keep = select or self.selected_id()
        query = self.query_one("#search", Input).value
        shown = [r for r in self._reports if matches(r, query)]
        table.clear()
        title_width = self._title_width(shown)
        for report in shown:
            title = Text(report.title, no_wrap=True, overflow="ellipsis")
            title.truncate(title_width, overflow="ellipsis")
            table.add_row(
                short_id(report),
                Text(status_label(report.status)),
                Text(report.incident_date or "—"),
                Text(category_short(report.category)),
                title,
                key=report.id,
            )
        if keep is not None and any(r.id == keep for r in shown):
            table.move_cursor(row=table.get_row_index(keep))
        total = len(self._reports)
        self.query_one("#empty").display = total == 0
        table.display = total > 0
        if query.strip():
            status = ngettext(
                "{shown} of {total} report match the search.",
                "{shown} of {total} reports match the search.",
                total,
            ).format(shown=len(shown), total=total)
        else:
            status = ngettext("{total} report.", "{total} reports.", total).format(total=total)
        self.query_one("#list-status", Static).update(Text(status if total else ""))

    def _title_width(self, shown: list[Report]) -> int:
        """Room left for titles, so that long ones end in … instead of running off."""
        table = self.query_one(DataTable)
        others = [
            ID_WIDTH,
            max([len(_("Status"))] + [len(status_label(r.status)) for r in shown]),
            max(len(_("Date")), len("2026-11-23")),
            max([len(_("Category"))] + [len(category_short(r.category)) for r in shown]),
        ]
        width = table.size.width or self.app.size.width
        padding = 2 * table.cell_padding * (len(others) + 1)
        return max(16, width - sum(others) - padding - 2)

    def on_resize(self) -> None:
        if self.unlocked:
            self.refill()

    def selected_id(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        row = max(0, min(table.cursor_row, table.row_count - 1))
        key = table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        return key

    def _selected_or_bell(self) -> str | None:
        report_id = self.selected_id()
        if report_id is None:
            self.app.bell()
            self.notify(_("There is no report here yet; press n to write one."))
        return report_id

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.refill()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.query_one(DataTable).focus()

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_edit_report()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_clear_search(self) -> None:
        self.query_one("#search", Input).value = ""
        self.query_one(DataTable).focus()

    def action_new_report(self) -> None:
        from securesubmit.tui.screens.editor import ReportEditorScreen, TemplateChooser

        def chosen(template_id: str | None) -> None:
            if template_id is not None:
                self.app.push_screen(ReportEditorScreen(None, template_id), self._saved)

        self.app.push_screen(TemplateChooser(), chosen)

    def action_edit_report(self) -> None:
        from securesubmit.tui.screens.editor import ReportEditorScreen

        report_id = self._selected_or_bell()
        if report_id is not None:
            report = self.session.get_report(report_id)
            self.app.push_screen(ReportEditorScreen(report, report.template), self._saved)

    def _saved(self, report_id: str | None) -> None:
        if report_id is not None and self.unlocked:
            self.reload(select=report_id)

    def action_view_report(self) -> None:
        report_id = self._selected_or_bell()
        if report_id is not None:
            self.app.push_screen(ReportViewScreen(report_id))

    def action_delete_report(self) -> None:
        report_id = self._selected_or_bell()
        if report_id is not None:
            confirm_delete(self, self.session.get_report(report_id), after=self.reload)

    def action_attachments(self) -> None:
        from securesubmit.tui.screens.attachments import AttachmentsScreen

        report_id = self._selected_or_bell()
        if report_id is not None:
            self.app.push_screen(AttachmentsScreen(report_id))

    def action_seal_report(self) -> None:
        report_id = self._selected_or_bell()
        if report_id is not None:
            open_seal(self, report_id)

    def action_sealed_reports(self) -> None:
        from securesubmit.tui.screens.sealing import SealedReportsScreen

        self.app.push_screen(SealedReportsScreen())

    def action_export_bundle(self) -> None:
        from securesubmit.tui.screens.sealing import ExportBundleScreen

        self.app.push_screen(ExportBundleScreen())

    def action_partners(self) -> None:
        open_partners(self)

    def action_settings(self) -> None:
        from securesubmit.tui.screens.settings import SettingsScreen

        self.app.push_screen(SettingsScreen())


def open_seal(screen: AppScreen[Any], report_id: str) -> None:
    """The seal dialog for a draft. Once sealed, the draft is gone: the list and the view
    notice it when they come back (the view then closes itself)."""
    from securesubmit.tui.screens.sealing import SealScreen

    screen.app.push_screen(SealScreen(report_id))


def open_partners(screen: AppScreen[Any]) -> None:
    from securesubmit.tui.screens.partners import PartnersScreen

    screen.app.push_screen(PartnersScreen())


def confirm_delete(screen: AppScreen[Any], report: Report, after: Callable[[], object]) -> None:
    """Ask, then delete the draft for good; ``after`` is called once it is gone."""
    detail = Text.assemble(
        (short_id(report), "bold"),
        "  ",
        report.title,
        "\n\n",
        _("The draft is removed from the vault and cannot be brought back."),
    )

    def answered(yes: bool | None) -> None:
        if not yes or not screen.unlocked:
            return
        try:
            screen.session.delete_report(report.id)
        except SecureSubmitError as exc:
            screen.app.push_screen(ErrorModal(exc))
            return
        screen.notify(_("Draft {id} deleted.").format(id=short_id(report)), markup=False)
        after()

    screen.app.push_screen(
        ConfirmModal(_("Delete this draft for good?"), detail, confirm=_("Delete")), answered
    )


def render_attachments(attachments: list[Attachment]) -> list[RenderableType]:
    from securesubmit.tui.screens.attachments import metadata_summary

    parts: list[RenderableType] = [Text(""), Text(_("Attachments"), style="bold underline")]
    if not attachments:
        parts.append(Text(_("none"), style="dim"))
    for attachment in attachments:
        line = Text("• ")
        line.append(attachment.name, style="bold")
        line.append(f"  {format_size(attachment.size)}  ")
        line.append_text(metadata_summary(attachment))
        parts.append(line)
    return parts


def render_report(report: Report, attachments: list[Attachment] | None = None) -> RenderableType:
    """Every field of a report, template fields, people and files included, for reading."""
    parts: list[RenderableType] = [Text(report.title, style="bold"), Text("")]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    date = report.incident_date or "—"
    if report.incident_date and report.date_approximate:
        date += " " + _("(approximate)")
    for label, value in (
        (_("ID"), report.id),
        (_("Status"), status_label(report.status)),
        (_("Category"), category_label(report.category) or "—"),
        (_("Template"), template_title(report.template) or _("none")),
        (_("Date"), date),
        (_("Country"), country_label(report.country) or "—"),
        (_("Place"), report.place or "—"),
        (_("Language"), report_language_label(report.language)),
        (_("Created"), show_stamp(report.created)),
        (_("Updated"), show_stamp(report.updated)),
    ):
        grid.add_row(label, Text(value))
    parts.append(grid)
    missing = missing_required(report)
    if missing:
        parts += [
            Text(""),
            Text.assemble(
                (_("Still missing (required by the template): "), "bold yellow"),
                (", ".join(_(label) for label in missing), "yellow"),
            ),
        ]
    template = TEMPLATES.get(report.template)
    if template is not None:
        fields = Table.grid(padding=(0, 2))
        fields.add_column(style="bold")
        fields.add_column(overflow="fold")
        for tfield in template.fields:
            fields.add_row(_(tfield.label), Text(report.fields.get(tfield.key, "") or "—"))
        parts += [Text(""), Text(_(template.title), style="bold underline"), fields]
    parts += [Text(""), Text(_("People and organisations involved"), style="bold underline")]
    if not report.people:
        parts.append(Text(_("none"), style="dim"))
    for person in report.people:
        line = Text("• ")
        line.append(person.name, style="bold")
        if person.role:
            line.append(f" — {person.role}")
        if person.organisation:
            line.append("  [" + _("organisation") + "]", style="cyan")
        if person.sensitive:
            line.append("  ⚠ " + _("sensitive: protect this name"), style="bold red")
        parts.append(line)
    if report.sources:
        parts += [Text(""), Text(_("Sources"), style="bold underline")]
        parts += [Text("• " + source) for source in report.sources]
    if report.tags:
        parts += [Text(""), Text.assemble((_("Tags") + ": ", "bold"), ", ".join(report.tags))]
    parts += [Text(""), Text(_("What happened"), style="bold underline")]
    parts.append(Text(report.description) if report.description else Text(_("none"), style="dim"))
    if attachments is not None:
        parts += render_attachments(attachments)
    return Group(*parts)


class ReportViewScreen(AppScreen[None]):
    """One report, read-only."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("e", "edit_report", N_("Edit")),
        Binding("a", "attachments", N_("Files")),
        Binding("S", "seal_report", N_("Seal")),
        Binding("shift+s", "seal_report", N_("Seal"), show=False),
        Binding("d", "delete_report", N_("Delete")),
    ]
    HELP_TEXT = N_(
        "The whole report, read-only: every field, the template's fields, the people involved "
        "(names marked sensitive are to be protected), what the template still needs and the "
        "attached files. Press e to edit it, a to attach, save or remove files, S (capital) "
        "to seal it to your partners, d to delete it, Escape to go back to the list."
    )

    def __init__(self, report_id: str) -> None:
        super().__init__()
        self.report_id = report_id

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Report"))
        with VerticalScroll(id="report-view", classes="page"):
            yield Static("", id="report-body")
        yield app_footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#report-view").focus()

    def on_screen_resume(self) -> None:
        if self.unlocked:
            self.reload()

    def reload(self) -> None:
        try:
            report = self.session.get_report(self.report_id)
        except NotFound:  # deleted from here: back to the list
            if self.is_current:
                self.dismiss()
            return
        attachments = self.session.list_attachments(report.id)
        self.query_one("#report-body", Static).update(render_report(report, attachments))

    def action_attachments(self) -> None:
        from securesubmit.tui.screens.attachments import AttachmentsScreen

        self.app.push_screen(AttachmentsScreen(self.report_id))

    def action_edit_report(self) -> None:
        from securesubmit.tui.screens.editor import ReportEditorScreen

        report = self.session.get_report(self.report_id)
        self.app.push_screen(ReportEditorScreen(report, report.template))

    def action_seal_report(self) -> None:
        open_seal(self, self.report_id)

    def action_delete_report(self) -> None:
        # Once the dialog closes this screen resumes, finds the report gone and leaves.
        confirm_delete(self, self.session.get_report(self.report_id), after=lambda: None)
