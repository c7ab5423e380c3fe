"""Importing bundles into the inbox: one file or every bundle of a folder, each verified
before anything is stored; per file who sent it, what it brought, and every warning."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button, Static

from securesubmit.core.exchange import ImportResult
from securesubmit.core.identity import format_fingerprint
from securesubmit.core.service import Session
from securesubmit.errors import SecureSubmitError
from securesubmit.tui.i18n import N_, _, ngettext
from securesubmit.tui.screens.base import AppScreen
from securesubmit.tui.screens.dialogs import ErrorModal
from securesubmit.tui.screens.files import PathPicker
from securesubmit.tui.screens.progress import Cancelled, Outcome, Progress, ProgressModal, os_error
from securesubmit.tui.text import core_message, error_text
from securesubmit.tui.widgets import TitleBar, app_footer

BUNDLE_SUFFIX = ".ssb"


def bundles_in(folder: Path) -> list[Path]:
    """The bundle files of a folder, oldest first (so a sender's bundles come in order)."""

    def when(path: Path) -> tuple[float, str]:
        try:
            return path.stat().st_mtime, path.name
        except OSError:
            return 0.0, path.name

    found = [p for p in folder.iterdir() if p.suffix.lower() == BUNDLE_SUFFIX and p.is_file()]
    return sorted(found, key=when)


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


ImportOutcome = tuple[Path, ImportResult | SecureSubmitError | None]
"""One file's result: what was imported, why it was refused, or None: not tried (cancelled)."""


def import_all(session: Session, files: list[Path], progress: Progress) -> list[ImportOutcome]:
    """Import each file in turn (each one atomic); a refused file does not stop the others.
    Progress counts the bytes of all the files. Cancelling rolls back the file being
    imported: the files imported before it stay, it and the rest are not imported."""
    outcomes: list[ImportOutcome] = []
    sizes = [file_size(path) for path in files]
    total = sum(sizes)
    done = 0
    for number, path in enumerate(files):

        def within(read: int, _size: int | None = None, /, before: int = done) -> None:
            progress(before + read, total)

        try:
            progress(done, total)
            outcomes.append((path, session.import_bundle(path, progress=within)))
        except Cancelled:
            outcomes += [(rest, None) for rest in files[number:]]
            break
        except SecureSubmitError as exc:
            outcomes.append((path, exc))
        except OSError as exc:
            outcomes.append((path, os_error(exc)))
        done += sizes[number]
    return outcomes


def render_outcome(path: Path, outcome: ImportResult | SecureSubmitError | None) -> list[Static]:
    """One file's result as lines to mount; warnings each in a box that cannot be missed."""
    name = path.name
    if outcome is None:
        return [
            Static(
                Text("– " + _("{file}: not imported (cancelled)").format(file=name)),
                classes="muted",
            )
        ]
    if isinstance(outcome, SecureSubmitError):
        message, hint = error_text(outcome)
        text = Text.assemble(
            ("✗ " + _("{file}: refused").format(file=name), "bold red"), "\n  ", message
        )
        if hint:
            text.append("\n  " + hint, style="dim")
        return [Static(text, classes="import-line")]
    sender = _("from {sender} ({fingerprint}), verified").format(
        sender=outcome.sender, fingerprint=format_fingerprint(outcome.sender_fingerprint)
    )
    count = len(outcome.imported)
    if outcome.decision == "duplicate":
        what = _("bundle {n}: already imported, nothing changed").format(n=outcome.sequence)
        style = "bold"
    else:
        what = ngettext(
            "bundle {sequence}: {n} new report", "bundle {sequence}: {n} new reports", count
        ).format(sequence=outcome.sequence, n=count)
        style = "bold green"
    lines = [
        Static(Text.assemble(("✓ " + name, style), ": ", sender, ", ", what), classes="import-line")
    ]
    for warning in outcome.warnings:
        lines.append(
            Static(
                Text("⚠ " + _("WARNING: ") + core_message(warning), style="bold"),
                classes="warning-box",
            )
        )
    return lines


class ImportScreen(AppScreen[bool]):
    """Import one bundle file, or every bundle in a folder; dismissed with True if any
    report was imported."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", N_("Back")),
        Binding("f", "import_file", N_("File")),
        Binding("o", "import_folder", N_("Folder")),
        Binding("r", "open_sealed", N_("Sealed file")),
    ]
    HELP_TEXT = N_(
        "A bundle (.ssb) holds sealed reports from one reporter. Each is checked before "
        "anything is stored: that it is addressed to you, that one of your partners signed "
        "it, that nothing was altered, and its place in that sender's sequence, so that "
        "replayed, reordered or missing bundles show. A refused bundle changes nothing. "
        "Warnings (a missing bundle, a sender's history that was rolled back) are shown in "
        "red: read them. Press f to import one file, o to import every .ssb file of a folder, "
        "r to read one sealed report file that came without a bundle (it is not stored)."
    )

    def __init__(self) -> None:
        super().__init__()
        self.imported = False

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Import bundles"))
        with VerticalScroll(id="import", classes="page"):
            yield Static(
                Text(
                    _(
                        "Bundles (.ssb files) come from your partners by any channel, e.g. a "
                        "USB stick. Each is verified before its reports enter the inbox; one "
                        "that fails changes nothing."
                    )
                ),
                classes="intro",
            )
            with Vertical(classes="compact-buttons", id="import-actions"):
                yield Button(_("Import a bundle file… (f)"), id="import-file", compact=True)
                yield Button(_("Import a folder… (o)"), id="import-folder", compact=True)
                yield Button(_("Read a sealed file… (r)"), id="open-sealed", compact=True)
            yield Static("", id="import-summary")
            yield Vertical(id="import-results")
        yield app_footer()

    def on_mount(self) -> None:
        self.query_one("#import-summary").display = False
        self.query_one("#import-file", Button).focus()

    @on(Button.Pressed, "#import-file")
    def action_import_file(self) -> None:
        self.run_worker(self._choose(folder=False), exclusive=True, group="import")

    @on(Button.Pressed, "#import-folder")
    def action_import_folder(self) -> None:
        self.run_worker(self._choose(folder=True), exclusive=True, group="import")

    @on(Button.Pressed, "#open-sealed")
    def action_open_sealed(self) -> None:
        from securesubmit.tui.screens.opening import open_sealed_file

        open_sealed_file(self)

    async def _choose(self, *, folder: bool) -> None:
        app = self.app
        if folder:
            path = await app.push_screen_wait(
                PathPicker(
                    _("Import every bundle in a folder"),
                    choose="folder",
                    note=_("Every .ssb file in the folder is imported, oldest first."),
                    confirm=_("Import this folder"),
                )
            )
        else:
            path = await app.push_screen_wait(
                PathPicker(_("Import a bundle"), note=_("A bundle file ends in .ssb."))
            )
        if path is None or not self.unlocked:
            return
        if folder:
            try:
                files = bundles_in(path)
            except OSError as exc:
                app.push_screen(ErrorModal(os_error(exc)))
                return
            if not files:
                self.notify(
                    _("There are no .ssb bundle files in {path}.").format(path=path),
                    severity="warning",
                    markup=False,
                )
                return
        else:
            files = [path]
        await self.run_import(files)

    async def run_import(self, files: list[Path]) -> None:
        app = self.app
        session = self.session
        total = sum(file_size(file) for file in files)
        several = len(files) > 1
        title = (
            ngettext(
                "Verifying and importing {n} bundle…",
                "Verifying and importing {n} bundles…",
                len(files),
            ).format(n=len(files))
            if several
            else _("Verifying and importing {name}…").format(name=files[0].name)
        )
        done: Outcome[list[ImportOutcome]] = await app.push_screen_wait(
            ProgressModal(
                title,
                lambda progress: import_all(session, files, progress),
                total=total,
                cancellable=True,
            )
        )
        if done.error is not None:
            app.push_screen(ErrorModal(done.error))
            return
        if done.value is None or not self.unlocked:
            return
        await self.show_results(done.value)

    async def show_results(self, outcomes: list[ImportOutcome]) -> None:
        results = self.query_one("#import-results", Vertical)
        await results.remove_children()
        lines: list[Static] = []
        for path, outcome in outcomes:
            lines += render_outcome(path, outcome)
        await results.mount_all(lines)
        imported = [o for _p, o in outcomes if isinstance(o, ImportResult)]
        refused = sum(1 for _p, o in outcomes if isinstance(o, SecureSubmitError))
        new = sum(len(o.imported) for o in imported)
        warnings = sum(len(o.warnings) for o in imported)
        self.imported = self.imported or new > 0
        summary = ngettext(
            "{n} new report in the inbox.", "{n} new reports in the inbox.", new
        ).format(n=new)
        if refused:
            summary += " " + ngettext("{n} file refused.", "{n} files refused.", refused).format(
                n=refused
            )
        if warnings:
            summary += " " + ngettext(
                "{n} warning: read it below.", "{n} warnings: read them below.", warnings
            ).format(n=warnings)
        shown = self.query_one("#import-summary", Static)
        shown.update(Text(summary, style="bold red" if warnings or refused else "bold"))
        shown.display = True
        if warnings or refused:
            self.app.bell()
        self.call_after_refresh(shown.scroll_visible, animate=False, top=True)

    def action_close(self) -> None:
        self.dismiss(self.imported)
