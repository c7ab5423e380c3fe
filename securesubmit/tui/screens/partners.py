"""Partners: the list, one partner's keys, adding a card after a fingerprint check, the
shipped trust store, removing a partner and applying their rotation or revocation statements.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import Button, Checkbox, DataTable, Input, OptionList, Static
from textual.widgets.option_list import Option

import securesubmit
from securesubmit.core import identity
from securesubmit.core.fs import read_limited
from securesubmit.core.identity import FingerprintMismatch, IdentityCard, format_fingerprint
from securesubmit.core.partners import (
    TEST_ONLY_FINGERPRINTS,
    VERIFIED_CONFIRMED,
    VERIFIED_TRUST_STORE,
    VERIFIED_TYPED,
    Partner,
    StoreEntry,
    read_trust_store,
)
from securesubmit.errors import InputError, NotFound, SecureSubmitError
from securesubmit.tui.i18n import N_, _, ngettext
from securesubmit.tui.screens.base import AppScreen
from securesubmit.tui.screens.dialogs import ConfirmModal, ErrorModal
from securesubmit.tui.screens.files import PathPicker
from securesubmit.tui.text import (
    core_message,
    error_text,
    is_translated,
    parse_stamp,
    partner_status_label,
    role_label,
    show_date,
    show_datetime,
    verified_label,
)
from securesubmit.tui.widgets import FingerprintView, FormField, TitleBar, app_footer

KEYS_DIR_ENV = "SECURESUBMIT_KEYS_DIR"
FINGERPRINT_WIDTH = 39
STATUS_STYLES = {
    "active": "green",
    "expired": "yellow",
    "revoked": "bold red",
    "test-only": "bold magenta",
}


def default_trust_store_dir() -> Path | None:
    """``SECURESUBMIT_KEYS_DIR``, else the keys/ folder shipped beside the package (as the CLI)."""
    env = os.environ.get(KEYS_DIR_ENV)
    if env:
        return Path(env).expanduser()
    shipped = Path(securesubmit.__file__).resolve().parents[1] / "keys"
    return shipped if (shipped / "MANIFEST").is_file() else None


def is_test_only(card: IdentityCard) -> bool:
    return format_fingerprint(card.fingerprint) in TEST_ONLY_FINGERPRINTS


def read_card(path: Path) -> IdentityCard:
    return identity.parse_card(read_limited(path, identity.MAX_TEXT_BYTES, "the card file"))


def read_statement(path: Path) -> identity.Statement:
    return identity.parse_statement(
        read_limited(path, identity.MAX_TEXT_BYTES, "the statement file")
    )


def status_text(status: str) -> Text:
    return Text(partner_status_label(status), style=STATUS_STYLES.get(status, ""))


def validity(card: IdentityCard) -> str:
    return _("{start} to {end}").format(start=show_date(card.created), end=show_date(card.expires))


def card_grid(card: IdentityCard) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in (
        (_("Name"), card.name),
        (_("Organisation"), card.organisation or "—"),
        (_("Role"), role_label(str(card.role))),
        (_("Valid"), validity(card)),
    ):
        grid.add_row(label, Text(value))
    return grid


def test_only_warning() -> Text:
    return Text(
        _(
            "TEST ONLY: this is the example card shipped for trying SecureSubmit. Its secret "
            "key is public, so nothing can ever be sealed to it."
        ),
        style="bold magenta",
    )


_DIFFERING = re.compile(r"\(groups? ([1-8, ]+) of 8 differs?\)")


def differing_groups(error: SecureSubmitError) -> list[int]:
    """The numbers of the groups a mismatch names (the core says them only in words)."""
    found = _DIFFERING.search(str(error)) if isinstance(error, FingerprintMismatch) else None
    return [int(n) for n in found.group(1).split(",")] if found else []


def fingerprint_problem(error: SecureSubmitError) -> str:
    """What the fingerprint check said, in the app's language."""
    message, hint = error_text(error)
    if isinstance(error, FingerprintMismatch):
        return f"✗ {message}\n{hint}"
    if not is_translated(str(error)):
        return _(
            "That is not a fingerprint: it has 8 groups of 4, made of the Latin letters A to Z "
            "and the digits 2 to 7."
        )
    return message


class PartnersScreen(AppScreen[None]):
    """Every partner, with the state of their keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("a", "add_card", N_("Add card")),
        Binding("t", "trust_store", N_("Trust store")),
        # Enter shows a partner too; Show and Remove are in the help (and Remove on the
        # partner's own screen), so the footer fits 80 columns in Russian.
        Binding("v", "show_partner", N_("Show"), show=False),
        Binding("u", "apply_statement", N_("Statement")),
        Binding("d", "remove_partner", N_("Remove"), show=False),
    ]
    HELP_TEXT = N_(
        "Your partners: the organisations your reports are sealed to, or the people who send "
        "you reports. Press a to add one from a card file, t to add one from the trust store "
        "shipped with SecureSubmit, Enter or v to see one, d to remove one. When a partner "
        "replaces their keys (rotation) or declares them lost (revocation), they send you a "
        "signed statement: press u to apply it. Always compare a new card's fingerprint with "
        "the partner by phone or in person."
    )

    def __init__(self) -> None:
        super().__init__()
        self._partners: list[Partner] = []

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Partners"))
        with Vertical(classes="page"):
            yield DataTable(id="partners", cursor_type="row", zebra_stripes=True)
            yield Static(
                Text(
                    _(
                        "No partners yet. Press a to add one from a card file, or t to add "
                        "one from the trust store."
                    )
                ),
                id="no-partners",
            )
            yield Static("", id="partners-status", classes="muted")
        yield app_footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(_("Name"), key="name")
        table.add_column(_("Status"), key="status")
        table.add_column(_("Fingerprint"), key="fingerprint", width=FINGERPRINT_WIDTH)
        self.reload()
        table.focus()

    def on_screen_resume(self) -> None:
        if self.unlocked:
            self.reload()

    def on_resize(self) -> None:
        if self.unlocked:
            self.reload()

    def reload(self, select: str | None = None) -> None:
        keep = select or self.selected_id()
        session = self.session
        self._partners = session.list_partners()
        now = session.clock()
        table = self.query_one(DataTable)
        table.clear()
        statuses = [p.status(now) for p in self._partners]
        status_width = max([len(_("Status"))] + [len(partner_status_label(s)) for s in statuses])
        width = table.size.width or self.app.size.width
        name_width = max(12, width - FINGERPRINT_WIDTH - status_width - 6 * table.cell_padding - 2)
        for partner, status in zip(self._partners, statuses, strict=True):
            name = Text(partner.name, no_wrap=True, overflow="ellipsis")
            name.truncate(name_width, overflow="ellipsis")
            table.add_row(name, status_text(status), partner.display_fingerprint, key=partner.id)
        if keep is not None and any(p.id == keep for p in self._partners):
            table.move_cursor(row=table.get_row_index(keep))
        count = len(self._partners)
        table.display = count > 0
        self.query_one("#no-partners").display = count == 0
        self.query_one("#partners-status", Static).update(
            Text(ngettext("{n} partner.", "{n} partners.", count).format(n=count) if count else "")
        )

    def selected_id(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        row = max(0, min(table.cursor_row, table.row_count - 1))
        return table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value

    def selected(self) -> Partner | None:
        partner_id = self.selected_id()
        found = next((p for p in self._partners if p.id == partner_id), None)
        if found is None:
            self.app.bell()
            self.notify(_("There is no partner here yet; press a to add one."), markup=False)
        return found

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_show_partner()

    def action_show_partner(self) -> None:
        partner = self.selected()
        if partner is not None:
            self.app.push_screen(PartnerScreen(partner.id))

    def action_add_card(self) -> None:
        self.run_worker(self._add_card(), exclusive=True, group="partners")

    async def _add_card(self) -> None:
        app = self.app
        path = await app.push_screen_wait(
            PathPicker(
                _("Add a partner from a card file"),
                note=_(
                    "A card file holds a partner's public keys, name and organisation. You "
                    "will compare its fingerprint with the partner next."
                ),
            )
        )
        if path is None:
            return
        try:
            card = read_card(path)
        except SecureSubmitError as exc:
            app.push_screen(ErrorModal(exc))
            return
        partner = await app.push_screen_wait(AddPartnerScreen(card, source=str(path)))
        if partner is not None:
            self.reload(select=partner.id)

    def action_trust_store(self) -> None:
        def added(partner: Partner | None) -> None:
            if partner is not None and self.unlocked:
                self.reload(select=partner.id)

        self.app.push_screen(TrustStoreScreen(), added)

    def action_remove_partner(self) -> None:
        partner = self.selected()
        if partner is not None:
            confirm_remove(self, partner)

    def action_apply_statement(self) -> None:
        self.run_worker(self._apply_statement(), exclusive=True, group="partners")

    async def _apply_statement(self) -> None:
        app = self.app
        path = await app.push_screen_wait(
            PathPicker(
                _("Apply a partner's key statement"),
                note=_(
                    "A partner who replaced their keys (rotation) or declared them lost "
                    "(revocation) sends you a signed statement file. Its signatures are "
                    "checked before anything changes."
                ),
            )
        )
        if path is None:
            return
        try:
            statement = read_statement(path)
            partner = self.session.apply_statement(statement)
        except SecureSubmitError as exc:
            app.push_screen(ErrorModal(exc))
            return
        status = partner.status(self.session.clock())
        self.notify(
            _("{name}: now {status}, keys {fingerprint}.").format(
                name=partner.name,
                status=partner_status_label(status),
                fingerprint=partner.display_fingerprint,
            ),
            markup=False,
            severity="warning" if status == "revoked" else "information",
        )
        self.reload(select=partner.id)


def confirm_remove(screen: AppScreen[None], partner: Partner) -> None:
    detail = Text.assemble(
        (partner.name, "bold"),
        "\n",
        partner.display_fingerprint,
        "\n\n",
        _(
            "Nothing more can be sealed to this partner. Reports already sealed are not "
            "affected, and you can add the card again later."
        ),
    )

    def answered(yes: bool | None) -> None:
        if not yes or not screen.unlocked:
            return
        try:
            screen.session.remove_partner(partner.id)
        except SecureSubmitError as exc:
            screen.app.push_screen(ErrorModal(exc))
            return
        screen.notify(_("Removed {name}.").format(name=partner.name), markup=False)
        if isinstance(screen, PartnerScreen):
            screen.dismiss()
        elif isinstance(screen, PartnersScreen):
            screen.reload()

    screen.app.push_screen(
        ConfirmModal(_("Remove this partner?"), detail, confirm=_("Remove")), answered
    )


def render_partner(partner: Partner, now: datetime) -> RenderableType:
    """A partner's card, keys and statements, for reading."""
    status = partner.status(now)
    grid = card_grid(partner.card)
    grid.add_row(_("Status"), status_text(status))
    grid.add_row(_("How it was checked"), Text(verified_label(partner.verified)))
    grid.add_row(_("Added"), Text(show_date_of(partner.added)))
    grid.add_row(_("Age recipient"), Text(partner.keys.age_recipient))
    parts: list[RenderableType] = [grid]
    revoked = partner.revoked_since()
    if revoked is not None:
        parts += [
            Text(""),
            Text(
                _(
                    "Revoked since {time}: seal nothing more to these keys and trust nothing "
                    "they signed after that."
                ).format(time=show_datetime(revoked)),
                style="bold red",
            ),
        ]
    if partner.test_only:
        parts += [Text(""), test_only_warning()]
    if partner.rotations:
        parts += [
            Text(""),
            Text(
                ngettext(
                    "Keys ({n} rotation since the card you checked)",
                    "Keys ({n} rotations since the card you checked)",
                    partner.rotations,
                ).format(n=partner.rotations),
                style="bold underline",
            ),
        ]
        for number, period in enumerate(partner.history.periods, 1):
            if period.valid_until is None:
                when = _("from {start}, current").format(start=show_datetime(period.valid_from))
            else:
                when = _("{start} to {end}").format(
                    start=show_datetime(period.valid_from), end=show_datetime(period.valid_until)
                )
            parts.append(
                Text.assemble(f"{number}. ", (period.keys.display(), "bold"), "\n   ", when)
            )
    revocations = [s for s in partner.statements if isinstance(s, identity.RevocationStatement)]
    if revocations:
        parts += [Text(""), Text(_("Revocations"), style="bold underline")]
        for revocation in revocations:
            line = Text.assemble(
                (revocation.keys.display(), "bold"),
                "\n   ",
                _("revoked from {time}").format(time=show_datetime(revocation.time)),
            )
            if revocation.reason:
                line.append("\n   " + _("reason: {reason}").format(reason=revocation.reason))
            parts.append(line)
    return Group(*parts)


def show_date_of(stamp: str) -> str:
    moment = parse_stamp(stamp)
    return show_date(moment) if moment else stamp


class PartnerScreen(AppScreen[None]):
    """One partner: card, current keys, rotations, status and how it was checked."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("d", "remove_partner", N_("Remove")),
    ]
    HELP_TEXT = N_(
        "One partner as your vault knows them: the card you accepted, the fingerprint of "
        "their current keys (after any rotations), the key history, and how you checked the "
        "fingerprint. Press d to remove the partner, Escape to go back."
    )

    def __init__(self, partner_id: str) -> None:
        super().__init__()
        self.partner_id = partner_id

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Partner"))
        with VerticalScroll(id="partner-view", classes="page"):
            yield Static("", id="partner-name")
            yield Static(_("Fingerprint of the current keys"), classes="field-label")
            yield FingerprintView(id="partner-fingerprint")
            yield Static("", id="partner-body")
        yield app_footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#partner-view").focus()

    def partner(self) -> Partner | None:
        try:
            return self.session.get_partner(self.partner_id)
        except NotFound:
            return None

    def reload(self) -> None:
        partner = self.partner()
        if partner is None:
            if self.is_current:
                self.dismiss()
            return
        self.query_one("#partner-name", Static).update(Text(partner.name, style="bold"))
        self.query_one(FingerprintView).show(partner.display_fingerprint)
        body = render_partner(partner, self.session.clock())
        self.query_one("#partner-body", Static).update(body)

    def action_remove_partner(self) -> None:
        partner = self.partner()
        if partner is not None:
            confirm_remove(self, partner)


class AddPartnerScreen(AppScreen[Partner | None]):
    """Show a card and add it only once its fingerprint was checked with the partner."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", N_("Cancel"))]
    HELP_TEXT = N_(
        "Anyone can make a card with any name on it; only the fingerprint tells whose keys "
        "these are. Call the partner on a number you already know (not one written on the "
        "card or in the same message) and ask them to read their fingerprint to you. Type what "
        "they read: if a group differs, the app says which one, and the card is not added. "
        "If you already compared all 8 groups, tick the box instead."
    )

    def __init__(self, card: IdentityCard, *, source: str, from_trust_store: bool = False) -> None:
        super().__init__()
        self.card = card
        self.source = source
        self.from_trust_store = from_trust_store

    def compose(self) -> ComposeResult:
        card = self.card
        yield TitleBar(_("Add a partner"))
        with VerticalScroll(id="add-partner", classes="page"):
            yield Static(Text(_("Check this card before you trust it"), style="bold"))
            grid = card_grid(card)
            grid.add_row(_("From"), Text(self.source))
            yield Static(grid, id="card-info")
            if is_test_only(card):
                yield Static(test_only_warning(), classes="warning-box")
            yield Static(_("Fingerprint on this card"), classes="field-label")
            yield FingerprintView(format_fingerprint(card.fingerprint), id="card-fingerprint")
            yield Static(
                Text(
                    _(
                        "Call the partner on a number you already know (not one from the card "
                        "or the same message) and type the fingerprint they read to you:"
                    )
                ),
                classes="field-hint",
            )
            yield FormField(
                _("The fingerprint the partner read to you"),
                Input(placeholder="XXXX XXXX XXXX XXXX XXXX XXXX XXXX XXXX", id="typed"),
                id="field-typed",
            )
            with Horizontal(classes="buttons"):
                yield Button(_("Check and add"), variant="primary", id="check")
            yield Static(Text(_("Or, if you already compared it"), style="bold"), classes="section")
            yield Checkbox(
                _("I compared all 8 groups with the partner by phone or in person"),
                id="compared",
            )
            with Horizontal(classes="buttons"):
                yield Button(_("Add as compared"), id="add-compared", disabled=True)
            if self.from_trust_store:
                yield Static(
                    Text(
                        _(
                            "This card came with your copy of SecureSubmit, and is only as "
                            "trustworthy as that copy. Compare the fingerprint with the partner "
                            "before you seal anything to them."
                        )
                    ),
                    classes="field-hint",
                )
                with Horizontal(classes="buttons"):
                    yield Button(_("Add without comparing"), id="add-trust-store")
            with Horizontal(classes="buttons"):
                yield Button(_("Cancel"), id="cancel")
        yield app_footer()

    def on_mount(self) -> None:
        self.query_one("#field-typed", FormField).set_error("")
        self.query_one("#typed", Input).focus()
        # The card and any warning come first, even where the field needs scrolling to.
        page = self.query_one("#add-partner")
        self.call_after_refresh(page.scroll_home, animate=False)

    @on(Checkbox.Changed, "#compared")
    def _compared(self, event: Checkbox.Changed) -> None:
        self.query_one("#add-compared", Button).disabled = not event.value

    @on(Input.Submitted, "#typed")
    @on(Button.Pressed, "#check")
    def check(self) -> None:
        field = self.query_one("#field-typed", FormField)
        typed = self.query_one("#typed", Input).value
        if not typed.strip():
            field.set_error(_("Type the fingerprint the partner read to you."))
            return
        view = self.query_one("#card-fingerprint", FingerprintView)
        try:
            identity.check_fingerprint(self.card.fingerprint, typed)
        except (FingerprintMismatch, InputError) as exc:
            field.set_error(fingerprint_problem(exc))
            view.mark(differing_groups(exc))
            self.app.bell()
            self.query_one("#typed", Input).focus()
            # Once laid out, show the whole message and hint (they end above the button).
            check = self.query_one("#check", Button)
            self.set_timer(0.05, lambda: check.scroll_visible(animate=False))
            return
        field.set_error("")
        view.mark([])
        self.add(VERIFIED_TYPED)

    @on(Button.Pressed, "#add-compared")
    def _add_compared(self) -> None:
        if self.query_one("#compared", Checkbox).value:
            self.add(VERIFIED_CONFIRMED)

    @on(Button.Pressed, "#add-trust-store")
    def _add_trust_store(self) -> None:
        self.add(VERIFIED_TRUST_STORE)

    def add(self, verified: str) -> None:
        try:
            partner = self.session.add_partner(self.card, verified=verified)
        except SecureSubmitError as exc:
            self.app.push_screen(ErrorModal(exc))
            return
        self.notify(_("Added {name}.").format(name=partner.name), markup=False)
        if partner.test_only:
            self.notify(
                _("This is the TEST-ONLY example card: nothing can be sealed to it."),
                severity="warning",
                markup=False,
            )
        self.dismiss(partner)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class TrustStoreScreen(AppScreen[Partner | None]):
    """The partner cards shipped with SecureSubmit (keys/), each checked against its manifest."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", N_("Back"))]
    HELP_TEXT = N_(
        "The partner cards that came with SecureSubmit, from the folder's MANIFEST. Each card "
        "is checked: one that is damaged or whose fingerprint differs from the manifest is "
        "shown with its problem and cannot be added. Choose a card to see it and compare its "
        "fingerprint with the partner. To use another folder, type its path and press Enter."
    )

    def __init__(self) -> None:
        super().__init__()
        self._entries: list[StoreEntry] = []
        self._folder = default_trust_store_dir()

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Trust store"))
        with Vertical(classes="page", id="trust-store"):
            yield Static(
                Text(
                    _(
                        "Partner cards shipped with SecureSubmit. Choose one to check its "
                        "fingerprint with the partner and add it."
                    )
                ),
                classes="muted",
            )
            with Horizontal(id="store-folder-row"):
                yield Input(
                    str(self._folder or ""),
                    placeholder=_("Folder with MANIFEST and the .card files"),
                    id="store-folder",
                )
                yield Button(_("Open"), id="store-open")
            yield Static("", id="store-error", classes="error")
            yield OptionList(id="store-entries")
        yield app_footer()

    def on_mount(self) -> None:
        if self._folder is None:
            self.show_error(
                _("No trust store was found. Type the folder that holds MANIFEST and the cards.")
            )
            self.query_one("#store-folder", Input).focus()
        else:
            self.load(self._folder)
            self.query_one(OptionList).focus()

    def show_error(self, message: str) -> None:
        error = self.query_one("#store-error", Static)
        error.update(Text(message))
        error.display = bool(message)

    def load(self, folder: Path) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        self._entries = []
        try:
            entries = read_trust_store(folder)
        except SecureSubmitError as exc:
            message, hint = error_text(exc)
            self.show_error(f"{message}\n{hint}" if hint else message)
            return
        self.show_error("" if entries else _("This trust store lists no cards."))
        self._entries = entries
        for index, entry in enumerate(entries):
            options.add_option(
                Option(
                    self.describe(entry),
                    id=str(index),
                    disabled=bool(entry.problem or entry.card is None),
                )
            )

    @staticmethod
    def describe(entry: StoreEntry) -> Text:
        name = entry.card.name if entry.card else "?"
        text = Text.assemble((name, "bold"), "  ", (entry.filename, "dim"), "\n", entry.fingerprint)
        if entry.card is not None and is_test_only(entry.card):
            text.append("  " + _("TEST ONLY"), style="bold magenta")
        if entry.problem:
            text.append("\n⚠ " + core_message(entry.problem), style="bold red")
        return text

    @on(Input.Submitted, "#store-folder")
    @on(Button.Pressed, "#store-open")
    def _open_folder(self) -> None:
        raw = self.query_one("#store-folder", Input).value.strip()
        if raw:
            self.load(Path(raw).expanduser())

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        entry = self._entries[int(event.option.id or 0)]
        if entry.card is None or entry.problem:
            return
        card = entry.card

        def added(partner: Partner | None) -> None:
            if partner is not None:
                self.dismiss(partner)

        self.app.push_screen(
            AddPartnerScreen(card, source=entry.filename, from_trust_store=True), added
        )

    def action_back(self) -> None:
        self.dismiss(None)
