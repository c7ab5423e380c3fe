"""The coordinator's inbox: the list with its search, filters and pages, and one received
report with its provenance and the coordinator's annotations (status, tags, notes,
duplicates, saving an attachment).

The decrypted inbox lives in memory in a ``Workspace`` while the inbox screen is open. Work
on it (loading, the search index, searching, annotating) runs in threads, one at a time
under the screen's lock, so the screen never freezes and two threads never change the
workspace together. Locking the app removes the screen and with it the workspace.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.timer import Timer
from textual.widgets import Button, Checkbox, DataTable, Input, Select, Static

from securesubmit.core import inbox
from securesubmit.core.exchange import InboxItem
from securesubmit.core.identity import format_fingerprint
from securesubmit.core.models import CATEGORIES, COUNTRIES, TEMPLATES
from securesubmit.core.service import Session
from securesubmit.errors import InputError, SecureSubmitError
from securesubmit.tui.i18n import N_, _, ngettext
from securesubmit.tui.screens.base import AppModal, AppScreen
from securesubmit.tui.screens.dialogs import ChoiceModal, ErrorModal, TextModal
from securesubmit.tui.screens.files import PathPicker
from securesubmit.tui.screens.progress import Outcome, ProgressModal
from securesubmit.tui.text import (
    category_label,
    category_short,
    core_message,
    country_label,
    error_text,
    format_size,
    inbox_status_label,
    protection_text,
    report_language_label,
    show_stamp,
    template_title,
    whole,
)
from securesubmit.tui.widgets import TitleBar, app_footer

T = TypeVar("T")
ID_WIDTH = 8
PER_PAGE = 100
SEARCH_DELAY = 0.3


def text_of(report: dict[str, Any], key: str) -> str:
    """A report's text field; anything else a sender put there counts as missing."""
    value = report.get(key, "")
    return value if isinstance(value, str) else ""


def strings_of(report: dict[str, Any], key: str) -> list[str]:
    value = report.get(key)
    return [v for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []


def fingerprint_of(hex_fingerprint: str) -> str:
    try:
        return format_fingerprint(bytes.fromhex(hex_fingerprint))
    except ValueError:
        return hex_fingerprint


def title_of(item: InboxItem) -> str:
    return text_of(item.report, "title") or _("(no title)")


# --- the inbox ------------------------------------------------------------------------


class InboxScreen(AppScreen[None]):
    """The coordinator's home: every received report, newest sealed first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "import_bundles", N_("Import")),
        Binding("f", "filters", N_("Filter")),
        Binding("v", "view_item", N_("View"), show=False),  # Enter does it too
        Binding("t", "statistics", N_("Charts")),
        Binding("x", "export_data", N_("Export")),
        Binding("slash", "search", N_("Search"), show=False),  # the search box says so
        Binding("left_square_bracket", "turn_page(-1)", N_("Previous page"), show=False),
        Binding("right_square_bracket", "turn_page(1)", N_("Next page"), show=False),
        Binding("p", "partners", N_("Partners"), show=False),
        Binding("s", "settings", N_("Settings")),
        Binding("escape", "clear_search", N_("Clear the search"), show=False),
    ]
    HELP_TEXT = N_(
        "The reports partners sent you, newest first, each verified on import. Press i to "
        "import bundles (one file or every bundle in a folder, e.g. a USB stick). Enter or v "
        "opens a report with its provenance; there you set its status, tags and notes. "
        "Press / to search every text of the reports (Escape clears it), f to filter by "
        "sender, category, country, status, tag or dates, [ and ] to turn pages. Press t for "
        "charts and x to export the reports shown for analysis (CSV, JSON lines, Uwazi). "
        "Press p for your partners (the reporters), s for settings."
    )

    def __init__(self) -> None:
        super().__init__()
        self.workspace: inbox.Workspace | None = None
        self.filters: dict[str, Any] = {}
        self.page = 1
        self.shown: list[InboxItem] = []
        self._lock = asyncio.Lock()
        self._search_timer: Timer | None = None
        self._problem = ""

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Inbox"))
        with Vertical(classes="page"):
            yield Input(placeholder=_("Search every text of the reports (/)"), id="search")
            yield Static("", id="inbox-filters", classes="muted")
            yield DataTable(id="inbox", cursor_type="row", zebra_stripes=True)
            yield Static("", id="no-inbox")
            yield Static(_("Opening the inbox…"), id="inbox-status", classes="muted")
        yield app_footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(_("ID"), key="id", width=ID_WIDTH)
        table.add_column(_("Status"), key="status")
        table.add_column(_("Date"), key="date")
        table.add_column(_("Sent by"), key="from")
        table.add_column(_("Title"), key="title")
        table.display = False
        self.query_one("#no-inbox").display = False
        self.show_filters()
        table.focus()
        self.reload()

    # --- the workspace, in threads under the lock ------------------------------------------

    async def with_workspace(self, work: Callable[[inbox.Workspace], T]) -> T | None:
        """Run ``work`` on the workspace in a thread, alone; None when there is none."""
        async with self._lock:
            workspace = self.workspace
            if workspace is None or not self.unlocked:
                return None
            return await self.secure_app.run_blocking(lambda: work(workspace))

    def reload(self) -> None:
        """Read the inbox again (after an import) and then build the search index."""
        self.run_worker(self._load(), group="inbox-load")

    async def _load(self) -> None:
        session = self.session
        async with self._lock:
            self.workspace = await self.secure_app.run_blocking(
                lambda: inbox.Workspace.load(session)
            )
        await self._select()
        # The first search would otherwise wait for the index: build it now, in a thread.
        await self.with_workspace(lambda workspace: workspace.index)

    def select_later(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(
            SEARCH_DELAY,
            lambda: self.run_worker(self._select(), exclusive=True, group="inbox-select"),
        )

    def refresh_list(self) -> None:
        self.run_worker(self._select(), exclusive=True, group="inbox-select")

    async def _select(self) -> None:
        query = self.query_one("#search", Input).value
        filters = dict(self.filters)
        try:
            shown = await self.with_workspace(lambda w: w.select(query=query, **filters))
        except InputError as exc:
            self._problem = error_text(exc)[0]
            self.show_page()
            return
        if shown is None or not self.unlocked:
            return
        self._problem = ""
        self.shown = shown
        self.show_page()

    # --- showing ---------------------------------------------------------------------------

    def pages(self) -> int:
        return max(1, -(-len(self.shown) // PER_PAGE))

    def show_page(self, select: str | None = None) -> None:
        table = self.query_one(DataTable)
        keep = select or self.selected_id()
        self.page = max(1, min(self.page, self.pages()))
        page = inbox.paginate(self.shown, self.page, PER_PAGE)
        table.clear()
        width = table.size.width or self.app.size.width
        statuses = [len(inbox_status_label(i.status)) for i in page.items]
        status_width = max([len(_("Status")), *statuses])
        date_width = max(len(_("Date")), len("2026-11-23"))
        senders = [len(i.sender_name) for i in page.items]
        from_width = max(len(_("Sent by")), min(16, width // 6, max(senders, default=0)))
        padding = 2 * table.cell_padding * 5
        title_width = max(
            12, width - ID_WIDTH - status_width - date_width - from_width - padding - 2
        )
        for item in page.items:
            sender = Text(item.sender_name, no_wrap=True, overflow="ellipsis")
            sender.truncate(from_width, overflow="ellipsis")
            title = Text(no_wrap=True, overflow="ellipsis")
            if item.warnings:
                title.append("⚠ ", style="bold red")
            title.append(title_of(item))
            title.truncate(title_width, overflow="ellipsis")
            table.add_row(
                item.id[:ID_WIDTH],
                Text(inbox_status_label(item.status)),
                Text(text_of(item.report, "incident_date") or "—"),
                sender,
                title,
                key=item.id,
            )
        if keep is not None and any(i.id == keep for i in page.items):
            table.move_cursor(row=table.get_row_index(keep))
        total = len(self.workspace) if self.workspace is not None else 0
        if table.has_focus and not page.items:
            # Hiding the focused table would hand the focus to the search box, where the
            # next f (to change the filters that hid everything) would be typed as text.
            self.set_focus(None)
        elif page.items and self.focused is None:
            self.call_after_refresh(table.focus)
        table.display = bool(page.items)
        empty = self.query_one("#no-inbox", Static)
        empty.display = not page.items
        if total == 0:
            empty.update(
                Text(
                    _(
                        "The inbox is empty. Press i to import bundles from a file or from a "
                        "folder, e.g. a USB stick."
                    )
                )
            )
        else:
            empty.update(Text(_("No report matches the search and filters.")))
        self.show_status(total)

    def show_status(self, total: int) -> None:
        status = self.query_one("#inbox-status", Static)
        if self._problem:
            status.update(Text(self._problem, style="red"))
            return
        narrowed = bool(self.filters) or bool(self.query_one("#search", Input).value.strip())
        if narrowed:
            text = ngettext(
                "{shown} of {total} report match.", "{shown} of {total} reports match.", total
            ).format(shown=whole(len(self.shown)), total=whole(total))
        else:
            text = ngettext("{total} report.", "{total} reports.", total).format(total=whole(total))
        if self.pages() > 1:
            text += "  " + _("Page {page} of {pages} ([ and ] turn pages).").format(
                page=self.page, pages=self.pages()
            )
        status.update(Text(text))

    def describe_filters(self) -> str:
        parts = []
        for key, value in self.filters.items():
            if key == "sender":
                shown = self.sender_names().get(str(value), str(value)[:8])
                parts.append(_("from {sender}").format(sender=shown))
            elif key == "category":
                parts.append(category_short(str(value)))
            elif key == "country":
                parts.append(country_label(str(value)))
            elif key == "status":
                parts.append(inbox_status_label(str(value)))
            elif key == "tag":
                parts.append(_("tag {tag}").format(tag=value))
            elif key == "date_from":
                parts.append(_("from {date}").format(date=value))
            elif key == "date_to":
                parts.append(_("until {date}").format(date=value))
            elif key == "with_warnings":
                parts.append(_("with warnings"))
        return ", ".join(parts)

    def show_filters(self) -> None:
        described = self.describe_filters()
        line = (
            _("Filters: {filters} (f to change)").format(filters=described)
            if described
            else _("No filters (f to filter).")
        )
        self.query_one("#inbox-filters", Static).update(Text(line))

    def sender_names(self) -> dict[str, str]:
        """Fingerprint (hex) -> name of everyone who sent a report here."""
        items = self.workspace.items if self.workspace is not None else []
        return {item.sender_fingerprint: item.sender_name for item in reversed(items)}

    def on_resize(self) -> None:
        if self.unlocked and self.workspace is not None:
            self.show_page()

    def on_screen_resume(self) -> None:
        if self.unlocked and self.workspace is not None:
            self.show_page()

    def selected_id(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        row = max(0, min(table.cursor_row, table.row_count - 1))
        return table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value

    # --- search, filters and pages ---------------------------------------------------------

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.page = 1
        self.select_later()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.refresh_list()
        self.query_one(DataTable).focus()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_clear_search(self) -> None:
        field = self.query_one("#search", Input)
        if field.value:
            field.value = ""
            self.refresh_list()
        self.query_one(DataTable).focus()

    def action_turn_page(self, step: int) -> None:
        page = self.page + step
        if 1 <= page <= self.pages():
            self.page = page
            self.show_page()
            self.query_one(DataTable).move_cursor(row=0)
        else:
            self.app.bell()

    def action_filters(self) -> None:
        def chosen(filters: dict[str, Any] | None) -> None:
            if filters is not None and self.unlocked:
                self.filters = filters
                self.page = 1
                self.show_filters()
                self.refresh_list()

        self.app.push_screen(FilterModal(self.filters, self.sender_names()), chosen)

    # --- one report, annotations -----------------------------------------------------------

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_view_item()

    def action_view_item(self) -> None:
        item_id = self.selected_id()
        if item_id is None:
            self.app.bell()
            self.notify(_("There is no report here."), markup=False)
            return
        self.app.push_screen(InboxItemScreen(self, item_id))

    def item(self, item_id: str) -> InboxItem | None:
        if self.workspace is None:
            return None
        try:
            return self.workspace.get(item_id)
        except SecureSubmitError:
            return None

    async def annotate(
        self, change: Callable[[Session], InboxItem | tuple[InboxItem, InboxItem]]
    ) -> bool:
        """Apply one annotation (a function of ``core.inbox``) and take in what changed."""
        session = self.session

        def work(workspace: inbox.Workspace) -> None:
            changed = change(session)
            for item in changed if isinstance(changed, tuple) else (changed,):
                workspace.replace(item)

        try:
            await self.with_workspace(work)
        except SecureSubmitError as exc:
            self.app.push_screen(ErrorModal(exc))
            return False
        if self.unlocked:
            await self._select()
        return True

    # --- elsewhere -------------------------------------------------------------------------

    def action_import_bundles(self) -> None:
        def done(imported: bool | None) -> None:
            if imported and self.unlocked:
                self.reload()

        from securesubmit.tui.screens.importing import ImportScreen

        self.app.push_screen(ImportScreen(), done)

    def action_statistics(self) -> None:
        from securesubmit.tui.screens.analysis import StatisticsScreen

        if self.workspace is None:
            return
        self.app.push_screen(StatisticsScreen(list(self.shown), self.scope()))

    def scope(self) -> str:
        if self.filters or self.query_one("#search", Input).value.strip():
            return _("The reports that match the search and filters.")
        return _("Every report in the inbox.")

    def action_export_data(self) -> None:
        from securesubmit.tui.screens.analysis import ExportDataScreen

        if self.workspace is None:
            return
        self.app.push_screen(ExportDataScreen(list(self.shown), self.workspace.items))

    def action_partners(self) -> None:
        from securesubmit.tui.screens.reports import open_partners

        open_partners(self)

    def action_settings(self) -> None:
        from securesubmit.tui.screens.settings import SettingsScreen

        self.app.push_screen(SettingsScreen())


# --- filters --------------------------------------------------------------------------


def date_problem(value: str) -> str:
    if value and inbox.date_span(value) is None:
        return _("Not a real date; use YYYY, YYYY-MM or YYYY-MM-DD.")
    return ""


class FilterModal(AppModal[dict[str, Any] | None]):
    """Which reports the inbox shows: by sender, category, country, status, tag, dates."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", N_("Cancel"))]
    HELP_TEXT = N_(
        "Show only the reports that pass every filter you set. Dates compare with the "
        "incident's date: YYYY, YYYY-MM or YYYY-MM-DD; a report dated only by month or year "
        "matches when that month or year overlaps the range. The tag filter looks at your "
        "tags and the reporter's. Clear removes every filter."
    )

    def __init__(self, current: dict[str, Any], senders: dict[str, str]) -> None:
        super().__init__()
        self._current = current
        self._senders = senders

    def compose(self) -> ComposeResult:
        current = self._current

        def select(options: list[tuple[str, str]], key: str, prompt: str) -> Select[str]:
            value = current.get(key)
            known = {v for _label, v in options}
            return Select(
                options,
                value=value if value in known else Select.NULL,
                prompt=prompt,
                compact=True,
                id=f"filter-{key}",
            )

        with Vertical(classes="dialog filters"):
            yield Static(Text(_("Filter the inbox"), style="bold"), classes="dialog-title")
            rows: list[tuple[str, Any]] = [
                (
                    _("Sender"),
                    select(
                        [
                            (name, fp)
                            for fp, name in sorted(self._senders.items(), key=lambda s: s[1])
                        ],
                        "sender",
                        _("any sender"),
                    ),
                ),
                (
                    _("Category"),
                    select(
                        [(category_label(c), c) for c in CATEGORIES], "category", _("any category")
                    ),
                ),
                (
                    _("Country"),
                    select([(country_label(c), c) for c in COUNTRIES], "country", _("any country")),
                ),
                (
                    _("Status"),
                    select(
                        [(inbox_status_label(s), s) for s in inbox.STATUSES],
                        "status",
                        _("any status"),
                    ),
                ),
                (_("Tag"), Input(str(current.get("tag", "")), compact=True, id="filter-tag")),
                (
                    _("Date from"),
                    Input(
                        str(current.get("date_from", "")),
                        placeholder=_("YYYY-MM-DD"),
                        compact=True,
                        id="filter-date_from",
                    ),
                ),
                (
                    _("Date until"),
                    Input(
                        str(current.get("date_to", "")),
                        placeholder=_("YYYY-MM-DD"),
                        compact=True,
                        id="filter-date_to",
                    ),
                ),
            ]
            for label, control in rows:
                with Horizontal(classes="filter-row"):
                    yield Static(label, classes="filter-label")
                    yield control
            yield Checkbox(
                _("Only reports with verification warnings"),
                value=bool(current.get("with_warnings")),
                compact=True,
                id="filter-with_warnings",
            )
            yield Static("", id="filter-error", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Apply"), variant="primary", id="apply", compact=True)
                yield Button(_("Clear"), id="clear", compact=True)
                yield Button(_("Cancel"), id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#filter-error").display = False
        self.query_one("#filter-sender").focus()

    def chosen(self) -> dict[str, Any]:
        filters: dict[str, Any] = {}
        for key in ("sender", "category", "country", "status"):
            value = self.query_one(f"#filter-{key}", Select).value
            if isinstance(value, str):
                filters[key] = value
        for key in ("tag", "date_from", "date_to"):
            value = self.query_one(f"#filter-{key}", Input).value.strip()
            if value:
                filters[key] = value
        if self.query_one("#filter-with_warnings", Checkbox).value:
            filters["with_warnings"] = True
        return filters

    def problem(self, filters: dict[str, Any]) -> str:
        for key in ("date_from", "date_to"):
            found = date_problem(str(filters.get(key, "")))
            if found:
                self.query_one(f"#filter-{key}").focus()
                return found
        try:
            inbox.filter_checks(**filters)
        except InputError as exc:
            return error_text(exc)[0]
        return ""

    @on(Input.Submitted)
    @on(Button.Pressed, "#apply")
    def _apply(self) -> None:
        filters = self.chosen()
        problem = self.problem(filters)
        error = self.query_one("#filter-error", Static)
        error.update(Text(problem))
        error.display = bool(problem)
        if not problem:
            self.dismiss(filters)

    @on(Button.Pressed, "#clear")
    def _clear(self) -> None:
        self.dismiss({})

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


# --- one received report --------------------------------------------------------------


def grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    return table


def heading(text: str) -> list[RenderableType]:
    return [Text(""), Text(text, style="bold underline")]


def render_provenance(item: InboxItem) -> list[RenderableType]:
    where = grid()
    where.add_row(_("Sender"), Text(item.sender_name, style="bold"))
    where.add_row(_("Fingerprint"), Text(fingerprint_of(item.sender_fingerprint)))
    where.add_row(
        _("Signature"),
        Text(
            "✓ " + _("verified: signed by this sender's key, and nothing was altered"),
            style="bold green",
        ),
    )
    where.add_row(_("Protection"), Text(protection_text(item.encryption, item.signature)))
    where.add_row(
        _("Bundle"),
        Text(_("{id}, number {sequence}").format(id=item.bundle_id, sequence=item.sequence)),
    )
    where.add_row(_("Written"), Text(show_stamp(item.created)))
    where.add_row(_("Sealed"), Text(show_stamp(item.sealed)))
    where.add_row(_("Imported"), Text(show_stamp(item.imported)))
    return [*heading(_("Where it comes from")), where]


def render_review(item: InboxItem) -> list[RenderableType]:
    review = grid()
    review.add_row(_("Status"), Text(inbox_status_label(item.status), style="bold"))
    review.add_row(_("Your tags"), Text(", ".join(item.tags) or "—"))
    if item.duplicate_of:
        review.add_row(
            _("Same incident as"), Text(", ".join(other[:ID_WIDTH] for other in item.duplicate_of))
        )
    parts = [*heading(_("Your review")), review]
    for note in item.notes:
        if isinstance(note, dict):
            parts.append(
                Text.assemble(
                    ("• " + show_stamp(str(note.get("time", ""))) + ": ", "bold"),
                    str(note.get("text", "")),
                )
            )
    return parts


def render_content(item: InboxItem) -> list[RenderableType]:
    report = item.report
    facts = grid()
    date = text_of(report, "incident_date") or "—"
    if report.get("date_approximate") is True and date != "—":
        date += " " + _("(approximate)")
    category = text_of(report, "category")
    country = text_of(report, "country")
    for label, value in (
        (_("Report ID"), item.report_id),
        (_("Category"), category_label(category) if category else "—"),
        (_("Template"), template_title(text_of(report, "template")) or _("none")),
        (_("Date"), date),
        (_("Country"), country_label(country) if country else "—"),
        (_("Place"), text_of(report, "place") or "—"),
        (_("Language"), report_language_label(text_of(report, "language") or "other")),
    ):
        facts.add_row(label, Text(value))
    parts: list[RenderableType] = [*heading(_("The report")), facts]
    fields = inbox.fields_of(item)
    template = TEMPLATES.get(text_of(report, "template"))
    if fields or template is not None:
        known = {f.key: _(f.label) for f in template.fields} if template is not None else {}
        table = grid()
        for key in [*known, *(k for k in fields if k not in known)]:
            table.add_row(known.get(key, key), Text(fields.get(key, "") or "—"))
        title = _(template.title) if template is not None else _("Other fields")
        parts += [*heading(title), table]
    parts += heading(_("People and organisations involved"))
    people = inbox.people_of(item)
    if not people:
        parts.append(Text(_("none"), style="dim"))
    for person in people:
        line = Text("• ")
        line.append(person.name, style="bold")
        if person.role:
            line.append(f" — {person.role}")
        if person.organisation:
            line.append("  [" + _("organisation") + "]", style="cyan")
        if person.sensitive:
            line.append("  ⚠ " + _("sensitive: protect this name"), style="bold red")
        parts.append(line)
    sources = strings_of(report, "sources")
    if sources:
        parts += heading(_("Sources"))
        parts += [Text("• " + source) for source in sources]
    tags = strings_of(report, "tags")
    if tags:
        parts += [Text(""), Text.assemble((_("Reporter's tags") + ": ", "bold"), ", ".join(tags))]
    parts += heading(_("What happened"))
    description = text_of(report, "description")
    parts.append(Text(description) if description else Text(_("none"), style="dim"))
    return parts


def render_attachments(item: InboxItem) -> list[RenderableType]:
    parts = heading(_("Attachments"))
    if not item.attachments:
        parts.append(Text(_("none"), style="dim"))
    for attachment in item.attachments:
        if not isinstance(attachment, dict):
            continue
        line = Text("• ")
        line.append(str(attachment.get("name", "")), style="bold")
        line.append(f"  {format_size(int(attachment.get('size') or 0))}")
        media = str(attachment.get("media_type") or "")
        if media:
            line.append(f"  {media}", style="dim")
        line.append("\n  " + _("SHA-256: {hash}").format(hash=attachment.get("sha256", "")))
        original = attachment.get("original_sha256")
        if original and original != attachment.get("sha256"):
            line.append("\n  " + _("Original SHA-256: {hash}").format(hash=original))
        scrubbed = attachment.get("scrubbed")
        if isinstance(scrubbed, list) and scrubbed:
            removed = ", ".join(core_message(str(s)) for s in scrubbed)
            line.append("\n  " + _("Metadata removed by the reporter: {list}").format(list=removed))
        parts.append(line)
    return parts


def render_item(item: InboxItem) -> RenderableType:
    """A received report with where it comes from, its review and its files."""
    parts: list[RenderableType] = [Text(title_of(item), style="bold")]
    for warning in item.warnings:
        parts += [Text(""), Text("⚠ " + _("WARNING: ") + core_message(warning), style="bold red")]
    parts += render_provenance(item)
    parts += render_review(item)
    parts += render_content(item)
    parts += render_attachments(item)
    return Group(*parts)


class InboxItemScreen(AppScreen[None]):
    """One received report: provenance, content, files and the coordinator's review."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("s", "set_status", N_("Status")),
        Binding("t", "add_tag", N_("Tag")),
        Binding("u", "remove_tag", N_("Untag"), show=False),
        Binding("n", "add_note", N_("Note")),
        Binding("d", "mark_duplicate", N_("Duplicate"), show=False),
        Binding("a", "save_attachment", N_("Save file")),
    ]
    HELP_TEXT = N_(
        "One report as its sender sealed it, verified on import: who sent it (with their "
        "fingerprint), in which bundle, when it was sealed, and any warning found on "
        "import. Press s to set its review status, t to add a tag, u to remove one, n to add "
        "a note (only you see it), d to record that another report describes the same "
        "incident, a to save an attachment out of the vault (that copy is NOT encrypted)."
    )

    def __init__(self, owner: InboxScreen, item_id: str) -> None:
        super().__init__()
        self.owner = owner
        self.item_id = item_id

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Received report"))
        with VerticalScroll(id="inbox-item", classes="page"):
            yield Static("", id="inbox-item-body")
        yield app_footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#inbox-item").focus()

    def on_screen_resume(self) -> None:
        if self.unlocked:
            self.reload()

    def current(self) -> InboxItem | None:
        return self.owner.item(self.item_id)

    def reload(self) -> None:
        item = self.current()
        if item is None:
            if self.is_current:
                self.dismiss()
            return
        self.query_one("#inbox-item-body", Static).update(render_item(item))

    def change(self, work: Callable[[Session], Any], done: str) -> None:
        async def run() -> None:
            if await self.owner.annotate(work) and self.unlocked:
                self.reload()
                self.notify(done, markup=False)

        self.run_worker(run(), group="annotate")

    def ask(self, screen: AppModal[str | None], then: Callable[[str], object]) -> None:
        def answered(value: str | None) -> None:
            if value is not None and self.unlocked:
                then(value)

        self.app.push_screen(screen, answered)

    def action_set_status(self) -> None:
        item = self.current()
        if item is None:
            return
        options: list[tuple[str, Text | str]] = [
            (status, inbox_status_label(status)) for status in inbox.STATUSES
        ]
        self.ask(
            ChoiceModal(_("Review status"), options, current=item.status),
            lambda status: self.change(
                lambda session: inbox.set_status(session, self.item_id, status),
                _("Status: {status}.").format(status=inbox_status_label(status)),
            ),
        )

    def action_add_tag(self) -> None:
        def check(tag: str) -> str:
            try:
                inbox.clean_tag(tag)
            except InputError as exc:
                return error_text(exc)[0]
            return ""

        self.ask(
            TextModal(
                _("Add a tag"),
                _("Tag"),
                note=_(
                    "Tags are yours: they help you find and count reports; senders never see them."
                ),
                max_length=inbox.MAX_TAG,
                check=check,
                confirm=_("Add"),
            ),
            lambda tag: self.change(
                lambda session: inbox.add_tag(session, self.item_id, tag),
                _("Tagged {tag}.").format(tag=" ".join(tag.split())),
            ),
        )

    def action_remove_tag(self) -> None:
        item = self.current()
        if item is None:
            return
        if not item.tags:
            self.app.bell()
            self.notify(_("This report has none of your tags to remove."), markup=False)
            return
        options: list[tuple[str, Text | str]] = [(tag, tag) for tag in item.tags]
        self.ask(
            ChoiceModal(_("Remove which tag?"), options),
            lambda tag: self.change(
                lambda session: inbox.remove_tag(session, self.item_id, tag),
                _("Removed the tag {tag}.").format(tag=tag),
            ),
        )

    def action_add_note(self) -> None:
        self.ask(
            TextModal(
                _("Add a note"),
                _("Note"),
                note=_("Notes are dated and stay in your encrypted inbox; Ctrl+S saves."),
                multiline=True,
                max_length=inbox.MAX_NOTE,
            ),
            lambda text: self.change(
                lambda session: inbox.add_note(session, self.item_id, text), _("Note added.")
            ),
        )

    def action_mark_duplicate(self) -> None:
        owner = self.owner

        def check(ref: str) -> str:
            found = owner.item(ref.strip()) if len(ref.strip()) >= 4 else None
            if found is None:
                return _("No single report has an ID starting with {ref}.").format(ref=ref.strip())
            if found.id == self.item_id:
                return _("That is this report.")
            return ""

        self.ask(
            TextModal(
                _("Same incident as another report"),
                _("ID of the other report (the first 4 or more characters)"),
                note=_(
                    "Both reports then point at each other, and the statistics count them as "
                    "one incident."
                ),
                max_length=64,
                check=check,
                confirm=_("Link"),
            ),
            lambda ref: self.change(
                lambda session: inbox.mark_duplicate(session, self.item_id, self._full_id(ref)),
                _("Linked as the same incident."),
            ),
        )

    def _full_id(self, ref: str) -> str:
        found = self.owner.item(ref.strip())
        return found.id if found is not None else ref.strip()

    def action_save_attachment(self) -> None:
        item = self.current()
        if item is None:
            return
        names = [str(a.get("name", "")) for a in item.attachments if isinstance(a, dict)]
        if not names:
            self.app.bell()
            self.notify(_("This report has no attachments."), markup=False)
            return
        if len(names) == 1:
            self.run_worker(self._save(names[0]), exclusive=True, group="save")
            return
        options: list[tuple[str, Text | str]] = [(name, name) for name in names]
        self.ask(
            ChoiceModal(_("Save which attachment?"), options),
            lambda name: self.run_worker(self._save(name), exclusive=True, group="save"),
        )

    async def _save(self, name: str) -> None:
        app = self.app
        folder = await app.push_screen_wait(
            PathPicker(
                _("Save a copy of {name}").format(name=name),
                choose="folder",
                note=Text(
                    _(
                        "The copy is NOT encrypted: anyone with access to that folder or disk "
                        "can open it. Prefer a USB stick you control, and delete the copy "
                        "when it is no longer needed."
                    ),
                    style="bold yellow",
                ),
                confirm=_("Save here"),
            )
        )
        if folder is None or not self.unlocked:
            return
        session, item_id = self.session, self.item_id
        saved: Outcome[Path] = await app.push_screen_wait(
            ProgressModal(
                _("Saving {name}…").format(name=name),
                lambda progress: session.save_inbox_attachment(
                    item_id, name, folder, progress=progress
                ),
                cancellable=True,
            )
        )
        if saved.cancelled:
            self.notify(_("Cancelled: no copy was saved."), severity="warning", markup=False)
        elif saved.error is not None:
            app.push_screen(ErrorModal(saved.error))
        elif saved.value is not None:
            self.notify(
                _("Saved to {path}. This copy is NOT encrypted.").format(path=saved.value),
                severity="warning",
                markup=False,
                timeout=10,
            )
