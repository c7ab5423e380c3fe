"""Your own identity: its fingerprint, the name on your card, exporting the card, rotating
the keys and preparing a revocation for a lost device."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Static

from securesubmit.core import fs
from securesubmit.core.identity import MAX_CARD_LIFETIME, MAX_REASON_CHARS, format_fingerprint
from securesubmit.errors import InputError, Refused, SecureSubmitError
from securesubmit.tui.i18n import N_, _
from securesubmit.tui.screens.base import AppScreen
from securesubmit.tui.screens.dialogs import ConfirmModal, ErrorModal
from securesubmit.tui.screens.files import PathPicker
from securesubmit.tui.screens.progress import os_error
from securesubmit.tui.text import error_text, protection_text, role_label
from securesubmit.tui.widgets import FingerprintView, FormField, TitleBar, app_footer

DEFAULT_VALID_DAYS = 730


def write_new_file(path: Path, data: bytes) -> None:
    """Write a file the user chose; never overwrites (the core refuses), OS errors explained."""
    try:
        fs.write_file_atomic(path, data)
    except OSError as exc:
        raise os_error(exc) from None


def refuse_existing(path: Path) -> None:
    """Refuse before a step that cannot be undone, rather than after it, as the core would."""
    if path.exists() or path.is_symlink():
        raise Refused(
            f"{path} already exists; refusing to overwrite it",
            hint="choose another file name, or remove the existing file first",
        )


class IdentityScreen(AppScreen[None]):
    """Who you are to your partners, and the keys that prove it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", N_("Back"))]
    HELP_TEXT = N_(
        "Your identity is a pair of keys: one signs what you send, one lets partners seal "
        "reports to you. Your card is its public half, with your name; partners trust it once "
        "they have compared its fingerprint with you. Export the card to give it to them. "
        "Rotate the keys if you think they were copied: partners follow the change with the "
        "rotation statement. Prepare a revocation in advance and keep it offline: if this "
        "device is lost, send it to your partners."
    )

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Your identity"))
        with VerticalScroll(id="identity", classes="page"):
            yield Static("", id="identity-info")
            yield Static(_("Your fingerprint"), classes="field-label")
            yield FingerprintView(id="own-fingerprint")
            yield Static(
                Text(
                    _(
                        "Partners compare this with the fingerprint on your card before they "
                        "trust it. Read it to them by phone or in person."
                    )
                ),
                classes="field-hint",
            )

            yield Static(Text(_("The name on your card"), style="bold"), classes="section")
            with Horizontal(classes="row"):
                yield FormField(
                    _("Name or pseudonym"), Input(id="name", max_length=100), id="field-name"
                )
                yield FormField(
                    _("Organisation"),
                    Input(id="organisation", max_length=100),
                    id="field-organisation",
                )
            with Horizontal(classes="buttons"):
                yield Button(_("Save the name"), id="rename")

            yield Static(Text(_("Your card"), style="bold"), classes="section")
            yield Static(
                Text(
                    _(
                        "The card is the public half of your keys, with your name, organisation "
                        "and role. Give it to your partners; tell them the fingerprint through "
                        "another channel (a call, in person), so they can check it."
                    )
                ),
                classes="field-hint",
            )
            yield FormField(
                _("Valid for (days)"),
                Input(str(DEFAULT_VALID_DAYS), id="valid-days", type="integer", max_length=4),
                hint=_("1 to {days}").format(days=MAX_CARD_LIFETIME.days),
                id="field-valid-days",
            )
            yield Checkbox(
                _("Require post-quantum (hybrid) sealing from partners"),
                id="require-hybrid",
            )
            with Horizontal(classes="buttons"):
                yield Button(_("Export my card…"), variant="primary", id="export-card")

            yield Static(Text(_("Post-quantum keys"), style="bold"), classes="section")
            yield Static("", id="upgrade-hint", classes="field-hint")
            with Horizontal(classes="buttons"):
                yield Button(_("Add post-quantum keys…"), variant="warning", id="upgrade")

            yield Static(Text(_("Rotate your keys"), style="bold"), classes="section")
            yield Static(
                Text(
                    _(
                        "Rotation replaces your keys with new ones, for example when you think "
                        "someone copied them. Your partners cannot guess this: they need the "
                        "rotation statement, a file signed by both the old and the new keys. "
                        "Give it to them with your new card. Reports already sealed to you "
                        "can still be opened."
                    )
                ),
                classes="field-hint",
            )
            with Horizontal(classes="buttons"):
                yield Button(_("Rotate keys…"), variant="warning", id="rotate")

            yield Static(Text(_("Revocation for a lost device"), style="bold"), classes="section")
            yield Static(
                Text(
                    _(
                        "A revocation tells your partners to refuse anything signed with your "
                        "current keys from the moment it is made. Prepare it now and keep it "
                        "offline, away from this computer (a USB stick in a safe place, or "
                        "with a trusted person). If this device is lost or seized, send it to "
                        "your partners. Keep it secret until then: anyone who has it can "
                        "revoke your keys."
                    )
                ),
                classes="field-hint",
            )
            yield FormField(
                _("Reason (optional)"),
                Input(id="reason", max_length=MAX_REASON_CHARS),
                hint=_("Partners will see it, e.g. 'device lost'."),
                id="field-reason",
            )
            with Horizontal(classes="buttons"):
                yield Button(_("Prepare a revocation…"), id="revoke")
        yield app_footer()

    def on_mount(self) -> None:
        for form_field in self.query(FormField):
            form_field.set_error("")
        me = self.session.identity
        self.query_one("#name", Input).value = me.name
        self.query_one("#organisation", Input).value = me.organisation
        self.show_identity()
        self.query_one("#identity").focus()

    def show_identity(self) -> None:
        me = self.session.identity
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for label, value in (
            (_("Name"), me.name or "—"),
            (_("Organisation"), me.organisation or "—"),
            (_("Role"), role_label(me.role)),
            (_("Age recipient"), me.age_recipient),
            (_("Key rotations"), str(len(me.statements))),
            (
                _("Protection"),
                protection_text(
                    "hybrid" if me.is_hybrid else "classical",
                    "hybrid" if me.is_hybrid else "classical",
                ),
            ),
        ):
            grid.add_row(label, Text(value))
        self.query_one("#identity-info", Static).update(grid)
        require = self.query_one("#require-hybrid", Checkbox)
        require.value = me.require_hybrid
        require.disabled = not me.is_hybrid
        self.query_one("#upgrade", Button).disabled = me.is_hybrid
        self.query_one("#upgrade-hint", Static).update(
            Text(
                _(
                    "Your keys are hybrid: what is sealed to you, and what you sign, stays "
                    "protected even against a future quantum computer."
                )
                if me.is_hybrid
                else _(
                    "Your keys are classical only. Adding post-quantum keys (ML-KEM-768, "
                    "ML-DSA-65) changes your fingerprint: like a rotation, it writes a "
                    "statement signed by the old and the new keys, which your partners "
                    "follow without checking a new fingerprint. Export what you have sealed "
                    "before you upgrade."
                )
            )
        )
        self.query_one(FingerprintView).show(format_fingerprint(me.fingerprint))

    # --- rename --------------------------------------------------------------------------

    @on(Input.Submitted, "#name")
    @on(Input.Submitted, "#organisation")
    @on(Button.Pressed, "#rename")
    def rename(self) -> None:
        field = self.query_one("#field-name", FormField)
        field.set_error("")
        name = self.query_one("#name", Input).value
        organisation = self.query_one("#organisation", Input).value
        try:
            me = self.session.set_name(name, organisation)
        except SecureSubmitError as exc:
            message, hint = error_text(exc)
            field.set_error(f"{message} ({hint})" if hint else message)
            return
        self.query_one("#name", Input).value = me.name
        self.query_one("#organisation", Input).value = me.organisation
        self.show_identity()
        self.notify(_("Your card will show: {name}.").format(name=me.name), markup=False)

    # --- card ----------------------------------------------------------------------------

    def valid_days(self) -> int | None:
        field = self.query_one("#field-valid-days", FormField)
        raw = self.query_one("#valid-days", Input).value.strip()
        days = int(raw) if raw.isdigit() else 0
        if not 1 <= days <= MAX_CARD_LIFETIME.days:
            field.set_error(
                _("A card is valid for 1 to {days} days.").format(days=MAX_CARD_LIFETIME.days)
            )
            self.query_one("#valid-days", Input).focus()
            return None
        field.set_error("")
        return days

    @on(Button.Pressed, "#export-card")
    def export_card(self) -> None:
        days = self.valid_days()
        if days is not None:
            self.run_worker(self._export_card(days), exclusive=True, group="identity")

    async def _export_card(self, days: int) -> None:
        path = await self.app.push_screen_wait(
            PathPicker(_("Export your card"), choose="save", default_name="my.card")
        )
        if path is None:
            return
        try:
            require = self.query_one("#require-hybrid", Checkbox).value
            card = self.session.own_card(days, require_hybrid=require)
            write_new_file(path, card.to_text())
        except SecureSubmitError as exc:
            self.app.push_screen(ErrorModal(exc))
            return
        self.notify(
            _("Wrote your card to {path}. Fingerprint: {fingerprint}").format(
                path=path, fingerprint=format_fingerprint(card.fingerprint)
            ),
            markup=False,
        )

    # --- rotation ------------------------------------------------------------------------

    @on(Button.Pressed, "#rotate")
    def rotate(self) -> None:
        self.run_worker(self._rotate(), exclusive=True, group="identity")

    @on(Button.Pressed, "#upgrade")
    def upgrade(self) -> None:
        self.run_worker(self._rotate(upgrade=True), exclusive=True, group="identity")

    async def _rotate(self, *, upgrade: bool = False) -> None:
        app = self.app
        sure = await app.push_screen_wait(
            ConfirmModal(
                _("Add post-quantum keys now?") if upgrade else _("Replace your keys now?"),
                _(
                    "New keys are made at once. Until your partners apply the rotation "
                    "statement, they cannot check what you send them. Next you choose where "
                    "to write the statement."
                ),
                confirm=_("Upgrade") if upgrade else _("Rotate"),
            )
        )
        if not sure:
            return
        path = await app.push_screen_wait(
            PathPicker(
                _("Write the rotation statement"), choose="save", default_name="rotation.txt"
            )
        )
        if path is None:
            return
        try:
            refuse_existing(path)
            statement = (
                self.session.upgrade_identity() if upgrade else self.session.rotate_identity()
            )
        except SecureSubmitError as exc:
            app.push_screen(ErrorModal(exc))
            return
        self.show_identity()
        while True:  # the keys are rotated now: the statement must reach a file
            try:
                write_new_file(path, statement.to_text())
                break
            except SecureSubmitError as exc:
                await app.push_screen_wait(ErrorModal(exc))
            again = await app.push_screen_wait(
                PathPicker(
                    _("Your keys were rotated: write the statement elsewhere"),
                    choose="save",
                    default_name="rotation.txt",
                )
            )
            if again is None:
                self.notify(
                    _(
                        "Your keys were rotated, but the statement was not written; partners "
                        "cannot follow the rotation without it."
                    ),
                    severity="error",
                    markup=False,
                    timeout=15,
                )
                return
            path = again
        self.notify(
            _(
                "New keys made; your fingerprint is now {fingerprint}. Give {path} and your new "
                "card to your partners."
            ).format(fingerprint=statement.new.display(), path=path),
            markup=False,
            timeout=15,
        )

    # --- revocation ----------------------------------------------------------------------

    @on(Input.Submitted, "#reason")
    @on(Button.Pressed, "#revoke")
    def revoke(self) -> None:
        self.run_worker(self._revoke(), exclusive=True, group="identity")

    async def _revoke(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        path = await self.app.push_screen_wait(
            PathPicker(
                _("Write the revocation"),
                choose="save",
                default_name="revocation.txt",
                note=_("Best on a USB stick you then keep in a safe place, not on this computer."),
            )
        )
        if path is None:
            return
        field = self.query_one("#field-reason", FormField)
        try:
            statement = self.session.make_revocation(reason)
        except InputError as exc:
            message, hint = error_text(exc)
            field.set_error(f"{message} ({hint})" if hint else message)
            return
        field.set_error("")
        try:
            write_new_file(path, statement.to_text())
        except SecureSubmitError as exc:
            self.app.push_screen(ErrorModal(exc))
            return
        self.notify(
            _(
                "Wrote a revocation of your current keys to {path}. Keep it offline; send it "
                "to your partners only if this device is lost."
            ).format(path=path),
            markup=False,
            timeout=15,
        )
