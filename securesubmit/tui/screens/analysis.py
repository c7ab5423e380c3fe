"""The coordinator's analysis: statistics drawn as bars, and exports (CSV, JSON lines,
Uwazi) that are PLAINTEXT and say so before anything is written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Input, RadioButton, RadioSet, Static

from securesubmit.core import inbox
from securesubmit.core.exchange import InboxItem
from securesubmit.tui.i18n import N_, _, ngettext
from securesubmit.tui.screens.base import AppScreen
from securesubmit.tui.screens.dialogs import ErrorModal, MessageModal
from securesubmit.tui.screens.files import PathPicker
from securesubmit.tui.screens.inbox import heading
from securesubmit.tui.screens.progress import Outcome, Progress, ProgressModal
from securesubmit.tui.text import (
    category_short,
    core_message,
    country_label,
    inbox_status_label,
    show_month,
    whole,
)
from securesubmit.tui.widgets import FormField, TitleBar, app_footer, bar_chart

UNKNOWN = "unknown"


class StatisticsScreen(AppScreen[None]):
    """Counts of the reports shown in the inbox, drawn as bars."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", N_("Back"))]
    HELP_TEXT = N_(
        "Counts of the reports the inbox shows (its search and filters apply): by category, "
        "by country, incidents per month, by review status and by sender. Reports you "
        "linked as the same incident count once in the incidents. Reports dated only by "
        "year, or not dated, are counted below the monthly chart."
    )

    def __init__(self, items: list[InboxItem], scope: str) -> None:
        super().__init__()
        self.items = items
        self.scope = scope
        self.stats: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Statistics"))
        with VerticalScroll(id="statistics", classes="page"):
            yield Static(_("Counting…"), id="statistics-body")
        yield app_footer()

    def on_mount(self) -> None:
        self.query_one("#statistics").focus()
        self.run_worker(self._count())

    async def _count(self) -> None:
        items = self.items
        self.stats = await self.secure_app.run_blocking(lambda: inbox.statistics(items).to_dict())
        self.show()

    def on_resize(self) -> None:
        if self.stats is not None:
            self.show()

    def show(self) -> None:
        if self.stats is None:
            return
        page = self.query_one("#statistics")
        width = max(30, (page.size.width or self.app.size.width) - 6)
        self.query_one("#statistics-body", Static).update(
            render_statistics(self.stats, self.scope, width)
        )


def render_statistics(stats: dict[str, Any], scope: str, width: int) -> RenderableType:
    def label(value: str, known: Callable[[str], str]) -> str:
        return _("not given") if value == UNKNOWN else known(value)

    def chart(title: str, rows: list[tuple[str, int]], style: str) -> list[RenderableType]:
        parts = heading(title)
        if not rows or not any(n for _l, n in rows):
            parts.append(Text(_("nothing to count"), style="dim"))
        else:
            parts.append(bar_chart(rows, width=width, style=style))
        return parts

    total = int(stats["total"])
    summary = Text.assemble(
        (
            ngettext("{n} report", "{n} reports", total).format(n=whole(total)),
            "bold",
        ),
        ", ",
        ngettext("{n} distinct incident", "{n} distinct incidents", int(stats["incidents"])).format(
            n=whole(int(stats["incidents"]))
        ),
        ", ",
        ngettext(
            "{n} with verification warnings",
            "{n} with verification warnings",
            int(stats["with_warnings"]),
        ).format(n=whole(int(stats["with_warnings"]))),
    )
    parts: list[RenderableType] = [Text(scope, style="dim"), summary]
    parts += chart(
        _("By category"),
        [(label(k, category_short), int(n)) for k, n in stats["by_category"].items()],
        "cyan",
    )
    parts += chart(
        _("By country"),
        [(label(k, country_label), int(n)) for k, n in stats["by_country"].items()],
        "green",
    )
    timeline = [(show_month(str(p["month"])), int(p["incidents"])) for p in stats["timeline"]]
    parts += chart(_("Incidents per month"), timeline, "magenta")
    year_only = sum(int(n) for n in stats["year_only"].values())
    undated = int(stats["undated"])
    if year_only or undated:
        parts.append(
            Text(
                _("Not in this chart: {year} dated only by year, {undated} without a date.").format(
                    year=whole(year_only), undated=whole(undated)
                ),
                style="dim",
            )
        )
    parts += chart(
        _("By review status"),
        [(inbox_status_label(k), int(n)) for k, n in stats["by_status"].items()],
        "yellow",
    )
    parts += chart(
        _("By sender"),
        [
            (str(s["name"]) or str(s["fingerprint"])[:8], int(s["reports"]))
            for s in stats["by_sender"]
        ],
        "blue",
    )
    return Group(*parts)


# --- exports for analysis -------------------------------------------------------------


FORMATS = {
    "csv": N_("CSV, for spreadsheets (reports.csv)"),
    "json": N_("JSON lines, for programs (reports.jsonl)"),
    "uwazi": N_("Uwazi, to import into HURIDOCS Uwazi (uwazi-import.zip)"),
}


def default_export_folder(today: datetime) -> Path:
    """A new folder in the home folder, so that the export creates it private (0700)."""
    base = Path.home() / f"securesubmit-export-{today:%Y-%m-%d}"
    folder, number = base, 1
    while folder.exists():
        number += 1
        folder = base.with_name(f"{base.name}-{number}")
    return folder


class ExportDataScreen(AppScreen[None]):
    """Write the reports shown (or all) as CSV, JSON lines or an Uwazi ZIP: PLAINTEXT."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel")),
        Binding("ctrl+s", "export", N_("Export")),
    ]
    HELP_TEXT = N_(
        "Exports are for analysis and advocacy: a spreadsheet (CSV), one JSON object per "
        "line, or a ZIP that HURIDOCS Uwazi imports. They are PLAINTEXT: anyone who can read "
        "the disk can read them. Leaving out the people marked sensitive removes their names "
        "from every text too; it does not reach inside attachments. Notes are your internal "
        "notes and are left out unless you ask."
    )

    def __init__(self, shown: list[InboxItem], everything: list[InboxItem]) -> None:
        super().__init__()
        self.shown = shown
        self.everything = everything

    def compose(self) -> ComposeResult:
        folder = default_export_folder(self.session.clock())
        narrowed = len(self.shown) != len(self.everything)
        yield TitleBar(_("Export for analysis"))
        with VerticalScroll(id="export-data", classes="page"):
            yield Static(
                Text(
                    "⚠ "
                    + _(
                        "These export files are PLAINTEXT. Anyone who can read this disk can "
                        "read them. Keep them on an encrypted disk, share them only over a safe "
                        "channel, and delete them when you no longer need them."
                    ),
                    style="bold",
                ),
                classes="warning-box",
                id="plaintext-warning",
            )
            yield Static(Text(_("Format"), style="bold"), classes="section")
            with RadioSet(id="export-format"):
                for number, (key, label) in enumerate(FORMATS.items()):
                    yield RadioButton(_(label), value=number == 0, id=f"format-{key}")
            yield Static(Text(_("Which reports"), style="bold"), classes="section")
            with RadioSet(id="export-which"):
                yield RadioButton(
                    ngettext(
                        "The {n} report the inbox shows (search and filters)",
                        "The {n} reports the inbox shows (search and filters)",
                        len(self.shown),
                    ).format(n=whole(len(self.shown))),
                    value=narrowed,
                    id="which-shown",
                    disabled=not narrowed,
                )
                yield RadioButton(
                    ngettext(
                        "All {n} report in the inbox",
                        "All {n} reports in the inbox",
                        len(self.everything),
                    ).format(n=whole(len(self.everything))),
                    value=not narrowed,
                    id="which-all",
                )
            yield Static(Text(_("Where"), style="bold"), classes="section")
            yield FormField(
                _("Folder"),
                Input(str(folder), id="export-data-folder", compact=True),
                hint=_("A new folder is created readable by you only."),
                id="f-export-data-folder",
            )
            with Horizontal(classes="compact-buttons"):
                yield Button(_("Choose a folder…"), id="choose-data-folder", compact=True)
            yield Checkbox(
                _("Leave out the people marked sensitive (recommended)"),
                value=True,
                id="redact",
                compact=True,
            )
            yield Checkbox(_("Include your internal notes"), id="include-notes", compact=True)
            yield Checkbox(
                _("Put the attachments in the ZIP"), value=True, id="uwazi-files", compact=True
            )
            with Horizontal(classes="buttons"):
                yield Button(_("Write the plaintext files"), variant="error", id="export-data-now")
                yield Button(_("Cancel"), id="cancel")
        yield app_footer()

    def on_mount(self) -> None:
        self.query_one(FormField).set_error("")
        self.format_changed()
        self.query_one("#export-format", RadioSet).focus()

    def chosen_format(self) -> str:
        pressed = self.query_one("#export-format", RadioSet).pressed_button
        return (pressed.id or "format-csv").removeprefix("format-") if pressed else "csv"

    @on(RadioSet.Changed, "#export-format")
    def format_changed(self) -> None:
        uwazi = self.chosen_format() == "uwazi"
        self.query_one("#uwazi-files").display = uwazi
        notes = self.query_one("#include-notes", Checkbox)
        notes.display = not uwazi

    @on(Button.Pressed, "#choose-data-folder")
    def _choose_folder(self) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                self.query_one("#export-data-folder", Input).value = str(path)

        self.app.push_screen(
            PathPicker(
                _("Where to write the export"),
                choose="folder",
                note=_("Prefer an encrypted disk. The files are not encrypted."),
                confirm=_("Write it here"),
            ),
            chosen,
        )

    @on(Button.Pressed, "#export-data-now")
    def action_export(self) -> None:
        raw = self.query_one("#export-data-folder", Input).value.strip()
        field = self.query_one(FormField)
        if not raw:
            field.set_error(_("Type the folder to write the files into."))
            return
        folder = Path(raw).expanduser()
        if folder.exists() and not folder.is_dir():
            field.set_error(_("{path} is a file, not a folder.").format(path=folder))
            return
        field.set_error("")
        everything = self.query_one("#which-all", RadioButton).value
        items = self.everything if everything else self.shown
        if not items:
            self.app.bell()
            self.notify(_("There are no reports to export."), markup=False)
            return
        fmt = self.chosen_format()
        redact = self.query_one("#redact", Checkbox).value
        notes = fmt != "uwazi" and self.query_one("#include-notes", Checkbox).value
        files = fmt == "uwazi" and self.query_one("#uwazi-files", Checkbox).value
        self.run_worker(
            self._export(items, fmt, folder, redact=redact, notes=notes, files=files),
            exclusive=True,
            group="export-data",
        )

    async def _export(
        self,
        items: list[InboxItem],
        fmt: str,
        folder: Path,
        *,
        redact: bool,
        notes: bool,
        files: bool,
    ) -> None:
        app = self.app
        session = self.session
        everything = self.everything

        def work(_progress: Progress) -> inbox.ExportedFiles:
            return inbox.export(
                items,
                fmt,
                folder,
                redact_sensitive=redact,
                also_redact=inbox.sensitive_names(everything) if redact else (),
                include_notes=notes,
                attachments=inbox.vault_attachments(session) if files else None,
            )

        done: Outcome[inbox.ExportedFiles] = await app.push_screen_wait(
            ProgressModal(_("Writing the export…"), work)
        )
        if done.error is not None:
            app.push_screen(ErrorModal(done.error))
            return
        if done.value is None:
            return
        written = done.value
        parts: list[RenderableType] = [
            Text(
                ngettext(
                    "{n} report written to:", "{n} reports written to:", written.reports
                ).format(n=whole(written.reports)),
                style="bold",
            )
        ]
        parts += [Text("  " + str(path)) for path in written]
        parts += [Text(""), Text("⚠ " + core_message(written.warning), style="bold red")]
        for warning in written.warnings:
            parts.append(Text("⚠ " + core_message(warning), style="bold yellow"))
        if written.redacted:
            parts.append(
                Text(
                    _(
                        "People marked sensitive were left out. Read the files before you "
                        "publish them: nicknames, initials or descriptions can still identify "
                        "someone."
                    ),
                    style="dim",
                )
            )

        def closed(_result: None) -> None:
            if self.is_current:
                self.dismiss()

        app.push_screen(MessageModal(_("Export written"), Group(*parts), danger=True), closed)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
