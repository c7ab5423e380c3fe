"""A draft's attachments: what hidden metadata a file carries before it is attached, the
attaching itself (with progress and a safe cancel), saving a copy out, and removing one."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import Button, Checkbox, DataTable, Static

from securesubmit.core import scrub
from securesubmit.core.models import Attachment
from securesubmit.core.scrub import ScrubPlan
from securesubmit.errors import NotFound, SecureSubmitError
from securesubmit.tui.i18n import N_, _, ngettext
from securesubmit.tui.screens.base import AppScreen
from securesubmit.tui.screens.dialogs import ConfirmModal, ErrorModal
from securesubmit.tui.screens.files import PathPicker
from securesubmit.tui.screens.progress import Outcome, ProgressModal
from securesubmit.tui.text import core_message, format_size, show_stamp
from securesubmit.tui.widgets import TitleBar, app_footer

TYPE_WIDTH = 24


@dataclass(frozen=True)
class AttachOptions:
    scrub: bool
    keep_original: bool


def bullets(items: list[str] | tuple[str, ...], style: str = "") -> Text:
    return Text("\n").join(Text("• " + core_message(item), style=style) for item in items)


def metadata_summary(attachment: Attachment) -> Text:
    """One short cell for the list: what happened to the file's hidden metadata."""
    if attachment.evidence_original:
        return Text(_("original (evidence)"), style="yellow")
    if attachment.metadata_warning or attachment.remaining_metadata:
        return Text("⚠ " + _("not cleaned"), style="bold yellow")
    if attachment.removed_metadata:
        count = len(attachment.removed_metadata)
        return Text(
            ngettext("{n} item removed", "{n} items removed", count).format(n=count),
            style="green",
        )
    return Text(_("none found"), style="dim")


def describe_attachment(attachment: Attachment) -> RenderableType:
    """Everything the vault records about one attachment's metadata, for reading."""
    parts: list[RenderableType] = [
        Text(attachment.name, style="bold"),
        Text(
            _("{size}, {type}, added {time}").format(
                size=format_size(attachment.size),
                type=attachment.media_type,
                time=show_stamp(attachment.added),
            )
        ),
    ]
    if attachment.evidence_original:
        parts.append(
            Text(
                _(
                    "The untouched original, kept as evidence: it still holds the hidden "
                    "metadata listed here."
                ),
                style="bold yellow",
            )
        )
    if attachment.removed_metadata:
        parts += [
            Text(_("Hidden metadata removed:"), style="bold"),
            bullets(attachment.removed_metadata, "green"),
        ]
    if attachment.remaining_metadata:
        parts += [
            Text(_("Still inside the file:"), style="bold yellow"),
            bullets(attachment.remaining_metadata, "yellow"),
        ]
    if attachment.metadata_warning:
        parts.append(Text("⚠ " + core_message(attachment.metadata_warning), style="bold yellow"))
    if not (
        attachment.removed_metadata or attachment.remaining_metadata or attachment.metadata_warning
    ):
        parts.append(Text(_("No hidden metadata was found."), style="dim"))
    parts.append(Text(_("SHA-256: {hash}").format(hash=attachment.sha256), style="dim"))
    if attachment.original_sha256 and attachment.original_sha256 != attachment.sha256:
        parts.append(
            Text(_("Original SHA-256: {hash}").format(hash=attachment.original_sha256), style="dim")
        )
    return Group(*parts)


def guess_media_type(path: Path) -> str | None:
    guessed, _encoding = mimetypes.guess_type(path.name, strict=False)
    return guessed


class AttachOptionsScreen(AppScreen[AttachOptions | None]):
    """Before attaching: what the file reveals, what will be removed, and the choices."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", N_("Cancel"))]
    HELP_TEXT = N_(
        "Photos and documents carry hidden metadata: a photo often holds the GPS position "
        "where it was taken and the camera's serial number; a document the author's name. "
        "SecureSubmit removes what it can before the file enters the vault; this screen shows "
        "what. Keep the untouched original as evidence only if your partners need it: it "
        "still holds everything listed. Not removing the metadata is not recommended."
    )

    def __init__(self, path: Path, plan: ScrubPlan) -> None:
        super().__init__()
        self.path = path
        self.plan = plan

    def compose(self) -> ComposeResult:
        plan = self.plan
        yield TitleBar(_("Attach a file"))
        with VerticalScroll(id="attach-options", classes="page"):
            facts = [core_message(plan.kind)]
            if plan.size is not None:
                facts.append(format_size(plan.size))
            if plan.dimensions:
                facts.append("{} × {}".format(*plan.dimensions))
            yield Static(
                Text.assemble((self.path.name, "bold"), "\n", (", ".join(facts), "dim")),
                id="attach-file",
            )
            if plan.warning:
                yield Static(
                    Text("⚠ " + core_message(plan.warning), style="bold"),
                    classes="warning-box",
                    id="attach-warning",
                )
            if plan.scrubbable and plan.removable:
                yield Static(
                    Text(_("This hidden metadata will be removed:"), style="bold"),
                    classes="section",
                )
                yield Static(bullets(plan.removable, "green"), id="will-remove")
            elif plan.scrubbable:
                yield Static(
                    Text(_("No hidden metadata was found in this file.")), classes="section"
                )
            if plan.remaining:
                yield Static(
                    Text(_("This stays in the file:"), style="bold yellow"), classes="section"
                )
                yield Static(bullets(plan.remaining, "yellow"), id="will-remain")
            if plan.notes:
                yield Static(bullets(plan.notes, "dim"), classes="section")
            if plan.scrubbable and plan.removable:
                yield Checkbox(
                    _("Also keep the untouched original, with its metadata, as evidence"),
                    id="keep-original",
                )
                yield Checkbox(_("Do not remove the metadata (not recommended)"), id="no-scrub")
                yield Static(
                    Text(
                        _(
                            "The file will be stored exactly as it is, with everything listed "
                            "above; everyone who receives the report can read it."
                        ),
                        style="bold red",
                    ),
                    id="no-scrub-warning",
                )
            with Horizontal(classes="buttons"):
                label = _("Attach") if plan.scrubbable else _("Attach anyway")
                yield Button(label, variant="primary", id="attach")
                yield Button(_("Cancel"), id="cancel")
        yield app_footer()

    def on_mount(self) -> None:
        for warning in self.query("#no-scrub-warning"):
            warning.display = False
        self.query_one("#attach", Button).focus()

    @on(Checkbox.Changed, "#no-scrub")
    def _no_scrub(self, event: Checkbox.Changed) -> None:
        self.query_one("#no-scrub-warning").display = event.value
        keep = self.query_one("#keep-original", Checkbox)
        keep.disabled = event.value
        if event.value:
            keep.value = False

    def options(self) -> AttachOptions:
        no_scrub = any(box.value for box in self.query("#no-scrub").results(Checkbox))
        keep = any(box.value for box in self.query("#keep-original").results(Checkbox))
        return AttachOptions(scrub=not no_scrub, keep_original=keep and not no_scrub)

    @on(Button.Pressed, "#attach")
    def _attach_pressed(self) -> None:
        self.dismiss(self.options())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class AttachmentsScreen(AppScreen[None]):
    """The files attached to one draft."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("a", "attach", N_("Attach")),
        Binding("s", "save_copy", N_("Save a copy")),
        Binding("d", "remove_attachment", N_("Remove")),
    ]
    HELP_TEXT = N_(
        "The files attached to this report, encrypted in the vault. Press a to attach a "
        "file: you see first what hidden metadata (GPS position, camera, author) will be "
        "removed. Long files show their progress and can be cancelled; nothing half-stored "
        "remains. Press s to save a copy out of the vault (that copy is not encrypted) and d "
        "to remove an attachment."
    )

    def __init__(self, report_id: str) -> None:
        super().__init__()
        self.report_id = report_id
        self._attachments: list[Attachment] = []

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Attachments"))
        with Vertical(classes="page", id="attachments-page"):
            yield Static("", id="attachments-report")
            yield DataTable(id="attachments", cursor_type="row", zebra_stripes=True)
            yield Static(
                Text(_("No attachments yet. Press a to attach a photo, document or recording.")),
                id="no-attachments",
            )
            with VerticalScroll(id="attachment-detail"):
                yield Static("", id="attachment-detail-body")
        yield app_footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(_("Name"), key="name")
        table.add_column(_("Size"), key="size")
        table.add_column(_("Type"), key="type")
        table.add_column(_("Metadata"), key="metadata")
        self.reload()
        table.focus()

    def on_screen_resume(self) -> None:
        if self.unlocked:
            self.reload()

    def reload(self, select: str | None = None) -> None:
        session = self.session
        try:
            report = session.get_report(self.report_id)
        except NotFound:
            if self.is_current:
                self.dismiss()
            return
        self.query_one("#attachments-report", Static).update(
            Text.assemble((report.id[:8], "bold"), "  ", report.title)
        )
        keep = select or self.selected_id()
        self._attachments = session.list_attachments(report.id)
        table = self.query_one(DataTable)
        table.clear()
        for attachment in self._attachments:
            kind = attachment.media_type
            if len(kind) > TYPE_WIDTH:
                kind = kind[: TYPE_WIDTH - 1] + "…"
            name = Text(attachment.name, no_wrap=True, overflow="ellipsis")
            name.truncate(max(16, (table.size.width or self.app.size.width) // 3))
            table.add_row(
                name,
                format_size(attachment.size),
                kind,
                metadata_summary(attachment),
                key=attachment.id,
            )
        if keep is not None and any(a.id == keep for a in self._attachments):
            table.move_cursor(row=table.get_row_index(keep))
        count = len(self._attachments)
        table.display = count > 0
        self.query_one("#no-attachments").display = count == 0
        self.query_one("#attachment-detail").display = count > 0
        self.show_detail()

    def selected_id(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        row = max(0, min(table.cursor_row, table.row_count - 1))
        return table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value

    def selected(self, *, quiet: bool = False) -> Attachment | None:
        attachment_id = self.selected_id()
        found = next((a for a in self._attachments if a.id == attachment_id), None)
        if found is None and not quiet:
            self.app.bell()
            self.notify(_("There is no attachment here yet; press a to attach a file."))
        return found

    @on(DataTable.RowHighlighted)
    def show_detail(self) -> None:
        attachment = self.selected(quiet=True)
        body = describe_attachment(attachment) if attachment else Text("")
        self.query_one("#attachment-detail-body", Static).update(body)

    # --- attach --------------------------------------------------------------------------

    def action_attach(self) -> None:
        self.run_worker(self._attach_file(), exclusive=True, group="attachments")

    async def _attach_file(self) -> None:
        app = self.app
        path = await app.push_screen_wait(
            PathPicker(
                _("Attach a file"),
                note=_("Next you see what hidden metadata the file carries, before it is stored."),
            )
        )
        if path is None:
            return
        hint = guess_media_type(path)
        found: Outcome[ScrubPlan] = await app.push_screen_wait(
            ProgressModal(
                _("Looking for hidden metadata in {name}…").format(name=path.name),
                lambda _progress: scrub.inspect(path, hint),
            )
        )
        if found.error is not None or found.value is None:
            if found.error is not None:
                app.push_screen(ErrorModal(found.error))
            return
        options = await app.push_screen_wait(AttachOptionsScreen(path, found.value))
        if options is None:
            return
        session, report_id = self.session, self.report_id
        try:
            total = path.stat().st_size
        except OSError:
            total = 0
        done: Outcome[Attachment] = await app.push_screen_wait(
            ProgressModal(
                _("Attaching {name}…").format(name=path.name),
                lambda progress: session.attach_file(
                    report_id,
                    path,
                    progress=progress,
                    scrub=options.scrub,
                    keep_original=options.keep_original,
                ),
                total=total,
                cancellable=True,
            )
        )
        if done.cancelled:
            self.notify(_("Cancelled: nothing was attached."), severity="warning", markup=False)
        elif done.error is not None:
            app.push_screen(ErrorModal(done.error))
        elif done.value is not None:
            self.notify(_("Attached {name}.").format(name=done.value.name), markup=False)
            if self.unlocked:
                self.reload(select=done.value.id)
            return
        if self.unlocked:
            self.reload()

    # --- save and remove -----------------------------------------------------------------

    def action_save_copy(self) -> None:
        attachment = self.selected()
        if attachment is not None:
            self.run_worker(self._save_copy(attachment), exclusive=True, group="attachments")

    async def _save_copy(self, attachment: Attachment) -> None:
        app = self.app
        folder = await app.push_screen_wait(
            PathPicker(
                _("Save a copy of {name}").format(name=attachment.name),
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
        if folder is None:
            return
        session, report_id = self.session, self.report_id
        saved: Outcome[Path] = await app.push_screen_wait(
            ProgressModal(
                _("Saving {name}…").format(name=attachment.name),
                lambda progress: session.save_attachment(
                    report_id, attachment.id, folder, progress=progress
                ),
                total=attachment.size,
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

    def action_remove_attachment(self) -> None:
        attachment = self.selected()
        if attachment is None:
            return
        detail = Text.assemble(
            (attachment.name, "bold"),
            "\n\n",
            _("The attachment is removed from the vault and cannot be brought back."),
        )

        def answered(yes: bool | None) -> None:
            if not yes or not self.unlocked:
                return
            try:
                self.session.remove_attachment(self.report_id, attachment.id)
            except SecureSubmitError as exc:
                self.app.push_screen(ErrorModal(exc))
                return
            self.notify(_("Removed {name}.").format(name=attachment.name), markup=False)
            self.reload()

        self.app.push_screen(
            ConfirmModal(_("Remove this attachment?"), detail, confirm=_("Remove")), answered
        )
