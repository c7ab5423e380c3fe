"""The reporter's way out: sealing a draft to partners, the sealed reports with their
receipts, and exporting them as a bundle for one partner (e.g. onto a USB stick)."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Input,
    RadioButton,
    RadioSet,
    SelectionList,
    Static,
)

from securesubmit.core.exchange import ExportResult
from securesubmit.core.identity import format_fingerprint
from securesubmit.core.models import Receipt, missing_required
from securesubmit.core.partners import Partner
from securesubmit.errors import NotFound, SecureSubmitError
from securesubmit.tui.i18n import N_, _, ngettext
from securesubmit.tui.screens.base import AppScreen
from securesubmit.tui.screens.dialogs import ErrorModal
from securesubmit.tui.screens.files import PathPicker
from securesubmit.tui.screens.progress import Outcome, ProgressModal
from securesubmit.tui.text import (
    category_label,
    country_label,
    error_text,
    format_size,
    protection_text,
    show_stamp,
    status_label,
)
from securesubmit.tui.widgets import FormField, TitleBar, app_footer

ID_WIDTH = 8
ALLOW_TEST_KEYS_ENV = "SECURESUBMIT_ALLOW_TEST_KEYS"  # as the core: for trying things out


def short(identifier: str) -> str:
    return identifier[:ID_WIDTH]


def fingerprint_of(hex_fingerprint: str) -> str:
    """A fingerprint stored as hex, shown as people compare it (8 groups of 4)."""
    try:
        return format_fingerprint(bytes.fromhex(hex_fingerprint))
    except ValueError:
        return hex_fingerprint


def unusable_reason(partner: Partner, now: datetime) -> str:
    """Why nothing can be sealed to ``partner`` now, in the app's language; "" if it can."""
    try:
        partner.check_usable(now)
    except SecureSubmitError as exc:
        message, _hint = error_text(exc)
        return message
    if partner.test_only and os.environ.get(ALLOW_TEST_KEYS_ENV) != "1":
        return _("TEST ONLY: the example card's secret key is public.")
    return ""


def sealed_to(partner: Partner) -> set[str]:
    """Every fingerprint (hex) under which reports for ``partner`` were sealed: its card's
    and those of its key rotations (as the core's export chooses reports)."""
    found = {partner.fingerprint.hex(), partner.original_fingerprint.hex()}
    found |= {period.keys.fingerprint.hex() for period in partner.history.periods}
    return found


def sendable(receipt: Receipt, partner: Partner) -> bool:
    """Whether ``receipt``'s sealed report can go into a bundle for ``partner``."""
    fingerprints = {r.get("fingerprint", "") for r in receipt.recipients}
    return bool(sealed_to(partner) & fingerprints) and not receipt.copy_deleted


def sent_to(receipt: Receipt, partner: Partner) -> bool:
    return any(e.get("fingerprint") in sealed_to(partner) for e in receipt.exports)


def recipients_text(receipt: Receipt) -> str:
    return ", ".join(str(r.get("name", "?")) for r in receipt.recipients)


# --- sealing --------------------------------------------------------------------------


class SealScreen(AppScreen[Receipt | None]):
    """Choose the partners, understand what sealing does, then seal in a worker."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", N_("Cancel"))]
    HELP_TEXT = N_(
        "Sealing encrypts the report and its attachments to the partners you tick and signs "
        "it with your key. Afterwards this device cannot read it: the draft is destroyed and "
        "only a receipt (title, date, recipients) stays, so that you can export it. Partners "
        "whose keys expired or were revoked, and the test-only example card, are shown but "
        "cannot be chosen. Space ticks a box; Tab moves on."
    )

    def __init__(self, report_id: str) -> None:
        super().__init__()
        self.report_id = report_id
        self._partners: list[Partner] = []

    def compose(self) -> ComposeResult:
        session = self.session
        report = session.get_report(self.report_id)
        missing = missing_required(report)
        now = session.clock()
        self._partners = session.list_partners()
        yield TitleBar(_("Seal a report"))
        with VerticalScroll(id="seal", classes="page"):
            yield Static(
                Text.assemble((short(report.id), "bold"), "  ", report.title), id="seal-report"
            )
            if missing:
                yield Static(
                    Text(
                        _(
                            "This report cannot be sealed yet. The template requires: "
                            "{fields}. Press Escape and fill them in first."
                        ).format(fields=", ".join(_(label) for label in missing)),
                        style="bold",
                    ),
                    classes="warning-box",
                    id="seal-missing",
                )
            yield Static("", id="seal-warning", classes="warning-box")
            yield Static(Text(_("Seal it to"), style="bold"), classes="section")
            if not self._partners:
                yield Static(
                    Text(
                        _(
                            "You have no partners yet. Add your partner organisation's card "
                            "first: press Escape, then p on the list of reports."
                        )
                    ),
                    classes="muted",
                )
            usable = [p for p in self._partners if not unusable_reason(p, now)]
            for number, partner in enumerate(self._partners):
                reason = unusable_reason(partner, now)
                yield Checkbox(
                    partner.name,
                    value=not reason and len(usable) == 1,
                    disabled=bool(reason),
                    id=f"partner-{number}",
                    classes="seal-partner",
                    compact=True,
                )
                line = Text(partner.display_fingerprint, style="dim" if reason else "")
                if reason:
                    line.append("\n✗ " + reason, style="bold red")
                yield Static(line, classes="seal-partner-line")
            yield Static("", id="seal-error", classes="error")
            yield Checkbox(_("Keep it readable for me"), id="keep-readable", compact=True)
            yield Static(
                Text(
                    _(
                        "Also encrypted to your own key: you can open the sealed file again "
                        "with this vault, and so can anyone who forces you to unlock it."
                    )
                ),
                classes="field-hint",
                id="keep-readable-hint",
            )
            with Horizontal(classes="compact-buttons", id="seal-buttons"):
                yield Button(
                    _("Seal and destroy the draft"),
                    variant="error",
                    id="seal-now",
                    disabled=bool(missing) or not usable,
                    compact=True,
                )
                yield Button(_("Cancel"), id="cancel", compact=True)
        yield app_footer()

    def on_mount(self) -> None:
        self.query_one("#seal-error").display = False
        self.show_warning(keep=False)
        first = next((box for box in self.query(Checkbox) if not box.disabled), None)
        if first is not None:
            first.focus()

    def show_warning(self, *, keep: bool) -> None:
        if keep:
            what = _(
                "After sealing, the draft and its attachments are destroyed on this device. "
                "Only the partners you chose, and you with this vault, can open the sealed "
                "report. This cannot be undone."
            )
        else:
            what = _(
                "After sealing, this device can no longer read the report: the draft and its "
                "attachments are destroyed, and only the partners you chose can open it. This "
                "cannot be undone."
            )
        self.query_one("#seal-warning", Static).update(Text("⚠ " + what, style="bold"))

    @on(Checkbox.Changed, "#keep-readable")
    def _keep_changed(self, event: Checkbox.Changed) -> None:
        self.show_warning(keep=event.value)

    def chosen(self) -> list[Partner]:
        return [
            partner
            for number, partner in enumerate(self._partners)
            if self.query_one(f"#partner-{number}", Checkbox).value
        ]

    @on(Button.Pressed, "#seal-now")
    def _seal_pressed(self) -> None:
        partners = self.chosen()
        error = self.query_one("#seal-error", Static)
        if not partners:
            error.update(Text(_("Tick at least one partner to seal the report to.")))
            error.display = True
            self.app.bell()
            return
        error.display = False
        keep = self.query_one("#keep-readable", Checkbox).value
        self.run_worker(self._seal(partners, keep), exclusive=True, group="seal")

    async def _seal(self, partners: list[Partner], keep: bool) -> None:
        app = self.app
        session, report_id = self.session, self.report_id
        try:
            total = sum(a.size for a in session.list_attachments(report_id))
        except SecureSubmitError as exc:
            app.push_screen(ErrorModal(exc))
            return
        ids = [p.id for p in partners]
        done: Outcome[Receipt] = await app.push_screen_wait(
            ProgressModal(
                _("Sealing the report…"),
                lambda progress: session.seal_report(
                    report_id, ids, keep_readable=keep, progress=progress
                ),
                total=total or None,
                cancellable=True,
            )
        )
        if done.cancelled:
            self.notify(
                _("Cancelled: nothing was sealed; the draft is unchanged."),
                severity="warning",
                markup=False,
            )
        elif done.error is not None:
            app.push_screen(ErrorModal(done.error))
        elif done.value is not None:
            receipt = done.value
            self.notify(
                _("Sealed “{title}” to {names}. The draft was destroyed.").format(
                    title=receipt.title, names=recipients_text(receipt)
                )
                + " "
                + _("Protection")
                + ": "
                + protection_text(receipt.encryption, receipt.signature),
                markup=False,
                timeout=8,
            )
            self.dismiss(receipt)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


# --- sealed reports and their receipts ------------------------------------------------


class SealedReportsScreen(AppScreen[None]):
    """Every sealed report this device keeps a receipt of, newest first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("v", "show_receipt", N_("Show"), show=False),  # Enter does it too
        Binding("x", "export_bundle", N_("Export bundle")),
        Binding("f", "save_file", N_("Save file")),
        Binding("o", "open_file", N_("Open file")),
    ]
    HELP_TEXT = N_(
        "The reports you sealed. This device cannot read them any more; it keeps a receipt "
        "of each (title, when, to whom, the sealed file's checksum) and the sealed file "
        "until it is exported. Enter or v shows a receipt. Press x to export a bundle for a "
        "partner (e.g. onto a USB stick), f to save one sealed report as a single file that "
        "its partners can open (it is encrypted), o to open a sealed report file addressed to "
        "you (one you sealed readable for yourself, or one a partner sent)."
    )

    def __init__(self) -> None:
        super().__init__()
        self._receipts: list[Receipt] = []

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Sealed reports"))
        with Vertical(classes="page"):
            yield DataTable(id="sealed", cursor_type="row", zebra_stripes=True)
            yield Static(
                Text(
                    _(
                        "No sealed reports yet. Seal a finished draft from the list of "
                        "reports (press S there)."
                    )
                ),
                id="no-sealed",
            )
            yield Static("", id="sealed-status", classes="muted")
        yield app_footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(_("ID"), key="id", width=ID_WIDTH)
        table.add_column(_("Status"), key="status")
        table.add_column(_("Sealed (UTC)"), key="sealed")
        table.add_column(_("To"), key="to")
        table.add_column(_("Title"), key="title")
        self.reload()
        table.focus()

    def on_screen_resume(self) -> None:
        if self.unlocked:
            self.reload()

    def on_resize(self) -> None:
        if self.unlocked:
            self.refill()

    def reload(self, select: str | None = None) -> None:
        self._receipts = self.session.list_receipts()
        self.refill(select)

    def refill(self, select: str | None = None) -> None:
        table = self.query_one(DataTable)
        keep = select or self.selected_id()
        table.clear()
        width = table.size.width or self.app.size.width
        names = [len(recipients_text(r)) for r in self._receipts]
        to_width = max(len(_("To")), min(16, width // 6, max(names, default=0)))
        statuses = [len(status_label(r.status)) for r in self._receipts]
        status_width = max([len(_("Status")), *statuses])
        sealed_width = max(
            len(_("Sealed (UTC)")), len(show_stamp("2026-11-23T10:00:00Z", short=True))
        )
        others = ID_WIDTH + status_width + sealed_width + to_width
        padding = 2 * table.cell_padding * 5
        title_width = max(12, width - others - padding - 2)
        for receipt in self._receipts:
            to = Text(recipients_text(receipt), no_wrap=True, overflow="ellipsis")
            to.truncate(to_width, overflow="ellipsis")
            title = Text(receipt.title, no_wrap=True, overflow="ellipsis")
            title.truncate(title_width, overflow="ellipsis")
            table.add_row(
                short(receipt.id),
                Text(status_label(receipt.status)),
                Text(show_stamp(receipt.sealed, short=True)),
                to,
                title,
                key=receipt.id,
            )
        if keep is not None and any(r.id == keep for r in self._receipts):
            table.move_cursor(row=table.get_row_index(keep))
        count = len(self._receipts)
        table.display = count > 0
        self.query_one("#no-sealed").display = count == 0
        unsent = sum(1 for r in self._receipts if not r.exports)
        status = (
            ngettext(
                "{n} sealed report, {unsent} not exported yet.",
                "{n} sealed reports, {unsent} not exported yet.",
                count,
            ).format(n=count, unsent=unsent)
            if count
            else ""
        )
        self.query_one("#sealed-status", Static).update(Text(status))

    def selected_id(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        row = max(0, min(table.cursor_row, table.row_count - 1))
        return table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value

    def selected(self) -> Receipt | None:
        receipt_id = self.selected_id()
        found = next((r for r in self._receipts if r.id == receipt_id), None)
        if found is None:
            self.app.bell()
            self.notify(_("There is no sealed report here yet."), markup=False)
        return found

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_show_receipt()

    def action_show_receipt(self) -> None:
        receipt = self.selected()
        if receipt is not None:
            self.app.push_screen(ReceiptScreen(receipt.id))

    def action_export_bundle(self) -> None:
        self.app.push_screen(ExportBundleScreen())

    def action_save_file(self) -> None:
        receipt = self.selected()
        if receipt is not None:
            save_sealed_file(self, receipt)

    def action_open_file(self) -> None:
        from securesubmit.tui.screens.opening import open_sealed_file

        open_sealed_file(self)


def save_sealed_file(screen: AppScreen[Any], receipt: Receipt) -> None:
    """Ask where, then write one sealed report as a standalone (encrypted) file."""
    if receipt.copy_deleted:
        screen.app.push_screen(
            ErrorModal(
                NotFound(_("the sealed copy was deleted after export; only the receipt is kept"))
            )
        )
        return
    screen.run_worker(_save_sealed_file(screen, receipt), exclusive=True, group="sealed")


async def _save_sealed_file(screen: AppScreen[Any], receipt: Receipt) -> None:
    app = screen.app
    path = await app.push_screen_wait(
        PathPicker(
            _("Save the sealed report {id} as a file").format(id=short(receipt.id)),
            choose="save",
            default_name=f"sealed-{short(receipt.id)}.age",
            note=_(
                "The file stays encrypted: only {names} can open it (with SecureSubmit or "
                "the standard age tool). Bundles are the usual way to send reports."
            ).format(names=recipients_text(receipt)),
        )
    )
    if path is None or not screen.unlocked:
        return
    session = screen.session
    done: Outcome[Receipt] = await app.push_screen_wait(
        ProgressModal(
            _("Saving the sealed report…"),
            lambda progress: session.export_sealed_file(receipt.id, path, progress=progress),
            total=receipt.file_size,
            cancellable=True,
        )
    )
    if done.cancelled:
        screen.notify(_("Cancelled: no file was written."), severity="warning", markup=False)
    elif done.error is not None:
        app.push_screen(ErrorModal(done.error))
    elif done.value is not None:
        screen.notify(
            _("Wrote the sealed report {id} to {path}.").format(id=short(receipt.id), path=path),
            markup=False,
            timeout=8,
        )


def render_receipt(receipt: Receipt) -> RenderableType:
    """Everything a receipt says, for reading."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    readable = _("yes: you can open the sealed file") if receipt.keep_readable else _("no")
    for label, value in (
        (_("Receipt"), receipt.id),
        (_("Report"), receipt.report_id),
        (_("Status"), status_label(receipt.status)),
        (_("Category"), category_label(receipt.category) or "—"),
        (_("Date"), receipt.incident_date or "—"),
        (_("Country"), country_label(receipt.country) or "—"),
        (_("Created"), show_stamp(receipt.created)),
        (_("Sealed"), show_stamp(receipt.sealed)),
        (_("Readable here"), readable),
        (
            _("Sealed file"),
            _("{size}, SHA-256 {hash}").format(
                size=format_size(receipt.file_size), hash=receipt.file_sha256
            ),
        ),
    ):
        grid.add_row(label, Text(value))
    parts: list[RenderableType] = [Text(receipt.title, style="bold"), Text(""), grid]
    parts += [Text(""), Text(_("Sealed to"), style="bold underline")]
    for recipient in receipt.recipients:
        parts.append(
            Text.assemble(
                "• ",
                (str(recipient.get("name", "?")), "bold"),
                "\n  ",
                fingerprint_of(str(recipient.get("fingerprint", ""))),
            )
        )
    parts += [Text(""), Text(_("Attachments"), style="bold underline")]
    if not receipt.attachments:
        parts.append(Text(_("none"), style="dim"))
    for attachment in receipt.attachments:
        parts.append(
            Text.assemble(
                "• ",
                (str(attachment.get("name", "")), "bold"),
                f"  {format_size(int(attachment.get('size') or 0))}",
                ("\n  SHA-256 " + str(attachment.get("sha256", "")), "dim"),
            )
        )
    parts += [Text(""), Text(_("Exports"), style="bold underline")]
    if not receipt.exports:
        parts.append(Text(_("not exported yet"), style="dim"))
    for export in receipt.exports:
        parts.append(
            Text(
                "• "
                + _("{time}: bundle {sequence} for {partner}").format(
                    time=show_stamp(str(export.get("time", ""))),
                    sequence=export.get("sequence", "?"),
                    partner=export.get("partner", "?"),
                )
            )
        )
    if receipt.copy_deleted:
        parts += [
            Text(""),
            Text(
                _("The sealed copy was deleted after export; only this receipt is kept."),
                style="yellow",
            ),
        ]
    return Group(*parts)


class ReceiptScreen(AppScreen[None]):
    """One sealed report's receipt."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("f", "save_file", N_("Save file")),
        Binding("x", "export_bundle", N_("Export bundle")),
    ]
    HELP_TEXT = N_(
        "What this device keeps of a sealed report: its title and dates, to whom it was "
        "sealed (with their fingerprints), the checksums of the sealed file and of the "
        "attachments, and every export. The report itself cannot be read here. Press f to "
        "save the sealed file, x to export a bundle."
    )

    def __init__(self, receipt_id: str) -> None:
        super().__init__()
        self.receipt_id = receipt_id

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Receipt"))
        with VerticalScroll(id="receipt", classes="page"):
            yield Static("", id="receipt-body")
        yield app_footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#receipt").focus()

    def on_screen_resume(self) -> None:
        if self.unlocked:
            self.reload()

    def receipt(self) -> Receipt | None:
        try:
            return self.session.get_receipt(self.receipt_id)
        except SecureSubmitError:
            return None

    def reload(self) -> None:
        receipt = self.receipt()
        if receipt is None:
            if self.is_current:
                self.dismiss()
            return
        self.query_one("#receipt-body", Static).update(render_receipt(receipt))

    def action_save_file(self) -> None:
        receipt = self.receipt()
        if receipt is not None:
            save_sealed_file(self, receipt)

    def action_export_bundle(self) -> None:
        self.app.push_screen(ExportBundleScreen())


# --- exporting a bundle ---------------------------------------------------------------


def slug(name: str) -> str:
    """A partner's name as part of a file name: letters, digits and dashes."""
    cleaned = re.sub(r"[^\w]+", "-", name, flags=re.UNICODE).strip("-_").lower()
    return cleaned[:40] or "partner"


def default_bundle_name(partner: Partner, today: datetime, folder: Path) -> str:
    """``bundle-<partner>-<date>.ssb``, with -2, -3 … when that file already exists."""
    stem = f"bundle-{slug(partner.name)}-{today:%Y-%m-%d}"
    name, number = f"{stem}.ssb", 1
    while (folder / name).exists():
        number += 1
        name = f"{stem}-{number}.ssb"
    return name


def default_folder() -> Path:
    """Where bundles go unless the user says otherwise: a mounted USB stick if one is
    obvious (/media/<user>/<stick> or /run/media/<user>/<stick>), else the home folder."""
    user = os.environ.get("USER", "")
    for base in (Path("/media") / user, Path("/run/media") / user):
        try:
            sticks = sorted(p for p in base.iterdir() if p.is_dir()) if user else []
        except OSError:
            sticks = []
        if len(sticks) == 1:
            return sticks[0]
    return Path.home()


class ExportBundleScreen(AppScreen[ExportResult | None]):
    """Choose a partner, the sealed reports and a destination; write the bundle."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel")),
        Binding("ctrl+s", "export", N_("Export")),
    ]
    HELP_TEXT = N_(
        "A bundle carries sealed reports to one partner: it is signed by you and encrypted "
        "so that only that partner can open it, so it can travel by any channel (a USB "
        "stick, e-mail, a messenger). Choose the partner, tick the reports (at first: every "
        "one not sent to that partner yet), and the folder, e.g. a mounted USB stick. "
        "Deleting the sealed copies after export leaves only receipts on this device."
    )

    def __init__(self) -> None:
        super().__init__()
        self._partners: list[Partner] = []
        self._receipts: list[Receipt] = []
        self._folder = default_folder()

    def compose(self) -> ComposeResult:
        session = self.session
        now = session.clock()
        self._receipts = session.list_receipts()
        self._partners = [p for p in session.list_partners() if not unusable_reason(p, now)]
        yield TitleBar(_("Export a bundle"))
        with VerticalScroll(id="export-bundle", classes="page"):
            yield Static(Text(_("For which partner"), style="bold"), classes="section")
            if not self._partners:
                yield Static(
                    Text(_("None of your partners can receive reports now (see Partners).")),
                    classes="muted",
                )
            with RadioSet(id="export-partner"):
                waiting = [self.unsent_count(p) for p in self._partners]
                first = next((n for n, count in enumerate(waiting) if count), 0)
                for number, partner in enumerate(self._partners):
                    label = Text.assemble(
                        (partner.name, "bold"),
                        "  ",
                        (
                            ngettext(
                                "{n} not sent yet", "{n} not sent yet", waiting[number]
                            ).format(n=waiting[number]),
                            "dim",
                        ),
                    )
                    yield RadioButton(label, value=number == first, id=f"export-partner-{number}")
            yield Static(Text(_("Which sealed reports"), style="bold"), classes="section")
            yield SelectionList[str](id="export-reports")
            yield Static("", id="export-reports-note", classes="field-hint")
            yield Static(Text(_("Where"), style="bold"), classes="section")
            yield FormField(
                _("Folder"),
                Input(str(self._folder), id="export-folder", compact=True),
                id="f-export-folder",
            )
            with Horizontal(classes="compact-buttons"):
                yield Button(_("Choose a folder…"), id="choose-folder", compact=True)
            yield FormField(
                _("File name"),
                Input("", id="export-name", compact=True),
                hint=_(
                    "Anyone who finds the file sees its name: change it if the partner's name "
                    "must not show."
                ),
                id="f-export-name",
            )
            yield Checkbox(
                _("Delete the sealed copies after export"), id="delete-after", compact=True
            )
            yield Static(
                Text(
                    _(
                        "Then only the receipts stay on this device, so a seized device holds "
                        "no sealed reports. But the bundle becomes the only copy: if it is lost "
                        "before it reaches the partner, these reports cannot be sent again."
                    )
                ),
                classes="field-hint",
            )
            with Horizontal(classes="buttons"):
                yield Button(_("Export"), variant="primary", id="export-now")
                yield Button(_("Cancel"), id="cancel")
        yield app_footer()

    def on_mount(self) -> None:
        for form_field in self.query(FormField):
            form_field.set_error("")
        partners = self.query_one("#export-partner", RadioSet)
        partners.display = bool(self._partners)
        self.show_reports()
        partners.focus()

    def unsent_count(self, partner: Partner) -> int:
        return sum(1 for r in self._receipts if sendable(r, partner) and not sent_to(r, partner))

    def partner(self) -> Partner | None:
        index = self.query_one("#export-partner", RadioSet).pressed_index
        return self._partners[index] if 0 <= index < len(self._partners) else None

    @on(RadioSet.Changed, "#export-partner")
    def _partner_changed(self) -> None:
        self.show_reports()

    def show_reports(self) -> None:
        reports = self.query_one("#export-reports", SelectionList)
        reports.clear_options()
        partner = self.partner()
        note = self.query_one("#export-reports-note", Static)
        name = self.query_one("#export-name", Input)
        if partner is None:
            reports.display = False
            note.update(Text(_("Choose a partner first.")))
            return
        candidates = [r for r in self._receipts if sendable(r, partner)]
        for receipt in candidates:
            sent = sent_to(receipt, partner)
            label = Text.assemble(
                (short(receipt.id), "bold"),
                "  ",
                receipt.title,
                "  ",
                (_("already sent") if sent else _("not sent yet"), "dim" if sent else "green"),
            )
            reports.add_option((label, receipt.id, not sent))
        reports.display = bool(candidates)
        if candidates:
            note.update(
                Text(
                    _(
                        "Ticked: the reports not sent to {name} yet. Tick one already sent to "
                        "send it again."
                    ).format(name=partner.name)
                )
            )
        else:
            note.update(
                Text(
                    _(
                        "No sealed report for {name} can be exported. Seal a report to them first."
                    ).format(name=partner.name)
                )
            )
        name.value = default_bundle_name(partner, self.session.clock(), self.folder())

    def folder(self) -> Path:
        raw = self.query_one("#export-folder", Input).value.strip()
        return Path(raw).expanduser() if raw else self._folder

    @on(Button.Pressed, "#choose-folder")
    def _choose_folder(self) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                self.query_one("#export-folder", Input).value = str(path)
                partner = self.partner()
                if partner is not None:
                    self.query_one("#export-name", Input).value = default_bundle_name(
                        partner, self.session.clock(), path
                    )

        self.app.push_screen(
            PathPicker(
                _("Where to write the bundle"),
                choose="folder",
                start=self.folder(),
                note=_(
                    "For example a USB stick. Only the partner can open the bundle; anyone "
                    "can see that the file exists, its size and its name."
                ),
                confirm=_("Write it here"),
            ),
            chosen,
        )

    @on(Button.Pressed, "#export-now")
    def action_export(self) -> None:
        partner = self.partner()
        if partner is None:
            self.app.bell()
            self.notify(_("Choose a partner first."), markup=False)
            return
        reports = list(self.query_one("#export-reports", SelectionList).selected)
        folder_field = self.query_one("#f-export-folder", FormField)
        name_field = self.query_one("#f-export-name", FormField)
        folder = self.folder()
        name = self.query_one("#export-name", Input).value.strip()
        missing = "" if folder.is_dir() else _("There is no folder at {path}.").format(path=folder)
        folder_field.set_error(missing)
        bad_name = not name or "/" in name or name in (".", "..")
        name_field.set_error(_("Give the bundle a file name.") if bad_name else "")
        if not reports:
            self.notify(_("Tick at least one sealed report."), severity="warning", markup=False)
            self.app.bell()
            return
        if not folder.is_dir() or bad_name:
            self.app.bell()
            return
        delete = self.query_one("#delete-after", Checkbox).value
        self.run_worker(
            self._export(partner, folder / name, reports, delete), exclusive=True, group="export"
        )

    async def _export(self, partner: Partner, out: Path, reports: list[str], delete: bool) -> None:
        app = self.app
        session = self.session
        done: Outcome[ExportResult] = await app.push_screen_wait(
            ProgressModal(
                _("Writing the bundle for {name}…").format(name=partner.name),
                lambda progress: session.export_bundle(
                    partner.id,
                    out,
                    report_refs=reports,
                    delete_after_export=delete,
                    progress=progress,
                ),
                cancellable=True,
            )
        )
        if done.cancelled:
            self.notify(
                _("Cancelled: no bundle was written, and nothing was marked as sent."),
                severity="warning",
                markup=False,
            )
        elif done.error is not None:
            app.push_screen(ErrorModal(done.error))
        elif done.value is not None:
            result = done.value
            count = len(result.reports)
            self.notify(
                ngettext(
                    "Wrote bundle {sequence} for {partner} with {n} report to {path}. Only "
                    "that partner can open it.",
                    "Wrote bundle {sequence} for {partner} with {n} reports to {path}. Only "
                    "that partner can open it.",
                    count,
                ).format(sequence=result.sequence, partner=result.partner, n=count, path=out)
                + " "
                + _("Protection")
                + ": "
                + protection_text(result.encryption, result.signature),
                markup=False,
                timeout=10,
            )
            self.dismiss(result)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
