"""The vault's settings: what it is, and changing its passphrase."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, LoadingIndicator, RadioButton, RadioSet, Static

from securesubmit.core import service
from securesubmit.errors import InputError, SecureSubmitError
from securesubmit.tui.i18n import LANGUAGES, N_, _, current_language, ngettext
from securesubmit.tui.screens.base import AppScreen
from securesubmit.tui.text import error_text, format_size, role_label
from securesubmit.tui.widgets import FormField, StrengthMeter, TitleBar, app_footer


class SettingsScreen(AppScreen[None]):
    """Vault details, the way to identity, partners and audit, language, passphrase."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("i", "identity", N_("Identity")),
        Binding("p", "partners", N_("Partners")),
        Binding("a", "audit", N_("Audit")),
    ]
    HELP_TEXT = N_(
        "What this vault is and how it is protected. The age recipient is your public "
        "encryption key; partners use it to send you reports. Press i for your identity "
        "(fingerprint, card, key rotation), p for your partners, a for the audit. The "
        "language applies until you quit. To change the passphrase, type the new one twice: "
        "only the key slot is rewritten, your reports are not touched. The app locks itself "
        "after the time shown here without input."
    )

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Settings"))
        with VerticalScroll(id="settings", classes="page"):
            yield Static(Text(_("This vault"), style="bold"), classes="section")
            yield Static("", id="vault-info")
            with Horizontal(classes="buttons"):
                yield Button(_("Your identity (i)"), id="open-identity")
                yield Button(_("Partners (p)"), id="open-partners")
                yield Button(_("Audit (a)"), id="open-audit")
            yield Static(Text(_("Language"), style="bold"), classes="section")
            with RadioSet(id="language"):
                for code, name in LANGUAGES.items():
                    yield RadioButton(name, value=code == current_language(), id=f"lang-{code}")
            yield Static(
                Text(
                    _(
                        "The language applies until you quit; nothing is written to disk. To "
                        "start in a language, run: securesubmit --lang ru (or en, kk), or set "
                        "LANG, e.g. LANG=ru_RU.UTF-8. Kazakh is partial: what is not translated "
                        "yet is shown in English."
                    )
                ),
                classes="field-hint",
            )
            yield Static(Text(_("Change the passphrase"), style="bold"), classes="section")
            yield Static(
                Text(
                    _(
                        "The vault is open, so the current passphrase is not needed. If you "
                        "forget the new one, nothing in the vault can be recovered."
                    )
                ),
                classes="field-hint",
            )
            yield FormField(
                _("New passphrase"),
                Input(password=True, id="new", max_length=1024),
                required=True,
                id="field-new",
            )
            yield StrengthMeter(id="strength")
            yield FormField(
                _("Repeat the new passphrase"),
                Input(password=True, id="repeat", max_length=1024),
                required=True,
                id="field-repeat",
            )
            with Horizontal(classes="buttons"):
                yield Button(_("Change passphrase"), variant="primary", id="change")
                yield LoadingIndicator(id="working-spinner")
                yield Static(_("Changing the passphrase…"), id="working-text")
        yield app_footer()

    def on_mount(self) -> None:
        for form_field in self.query(FormField):
            form_field.set_error("")
        self.set_working(False)
        self.show_info()
        self.query_one("#settings").focus()

    def set_working(self, working: bool) -> None:
        self.query_one("#working-spinner").display = working
        self.query_one("#working-text").display = working
        self.query_one("#change", Button).disabled = working
        for control in self.query(Input):
            control.disabled = working

    def show_info(self) -> None:
        info = self.session.info()
        locked = info.locked
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        kdf = (
            ngettext(
                "Argon2id, {memory} MiB, {passes} pass",
                "Argon2id, {memory} MiB, {passes} passes",
                locked.kdf.iterations,
            ).format(memory=locked.kdf.memory_kib // 1024 or "<1", passes=locked.kdf.iterations)
            if locked.kdf
            else "—"
        )
        minutes = self.secure_app.lock_seconds / 60
        rows = (
            (_("File"), str(locked.path)),
            (_("Size on disk"), format_size(locked.size_bytes)),
            (_("Role"), role_label(info.role)),
            (_("Name"), info.name or "—"),
            (_("Organisation"), info.organisation or "—"),
            (_("Drafts"), str(info.drafts)),
            (_("Age recipient"), info.age_recipient),
            (_("Key derivation"), kdf),
            (
                _("Failed unlocks"),
                _("{failed} of {allowed} allowed").format(
                    failed=locked.failed_unlocks, allowed=locked.max_failed_unlocks
                ),
            ),
            (
                _("Locks itself"),
                ngettext(
                    "after {n} minute without input",
                    "after {n} minutes without input",
                    max(1, round(minutes)),
                ).format(n=max(1, round(minutes)))
                if minutes >= 1
                else ngettext(
                    "after {n} second without input",
                    "after {n} seconds without input",
                    round(self.secure_app.lock_seconds),
                ).format(n=round(self.secure_app.lock_seconds)),
            ),
        )
        for label, value in rows:
            grid.add_row(label, Text(value))
        self.query_one("#vault-info", Static).update(grid)

    @on(Button.Pressed, "#open-identity")
    def action_identity(self) -> None:
        from securesubmit.tui.screens.identity import IdentityScreen

        self.app.push_screen(IdentityScreen())

    @on(Button.Pressed, "#open-partners")
    def action_partners(self) -> None:
        from securesubmit.tui.screens.partners import PartnersScreen

        self.app.push_screen(PartnersScreen())

    @on(Button.Pressed, "#open-audit")
    def action_audit(self) -> None:
        from securesubmit.tui.screens.audit import AuditScreen

        self.app.push_screen(AuditScreen(self.secure_app.vault_path))

    @on(RadioSet.Changed, "#language")
    def _language(self, event: RadioSet.Changed) -> None:
        chosen = (event.pressed.id or "").removeprefix("lang-")
        if chosen in LANGUAGES and chosen != current_language():
            self.secure_app.switch_language(chosen)

    @on(Input.Changed, "#new")
    def _strength(self, event: Input.Changed) -> None:
        self.query_one(StrengthMeter).show_for(event.value)

    @on(Input.Submitted, "#new")
    def _to_repeat(self) -> None:
        self.query_one("#repeat", Input).focus()

    @on(Input.Submitted, "#repeat")
    @on(Button.Pressed, "#change")
    def change(self) -> None:
        new = self.query_one("#new", Input).value
        repeat = self.query_one("#repeat", Input).value
        self.query_one("#field-new", FormField).set_error("")
        self.query_one("#field-repeat", FormField).set_error("")
        try:
            service.check_new_passphrase(new)
        except InputError as exc:
            message, hint = error_text(exc)
            self.query_one("#field-new", FormField).set_error(f"{message}\n{hint}")
            self.query_one("#new", Input).focus()
            return
        if new != repeat:
            self.query_one("#field-repeat", FormField).set_error(_("The two passphrases differ."))
            self.query_one("#repeat", Input).focus()
            return
        self.set_working(True)
        self.run_worker(self._change(new), exclusive=True)

    async def _change(self, new: str) -> None:
        app = self.secure_app
        session = self.session
        try:
            await app.run_blocking(lambda: session.change_passphrase(new, kdf=app.kdf))
        except SecureSubmitError as exc:
            self.set_working(False)
            message, hint = error_text(exc)
            self.query_one("#field-new", FormField).set_error(f"{message}\n{hint}")
            return
        for control in self.query(Input):
            control.value = ""
        self.set_working(False)
        self.query_one(StrengthMeter).show_for("")
        self.notify(_("The passphrase was changed."), markup=False)
        if self.unlocked:
            self.show_info()
