"""The first two screens: creating a vault on the first run, and unlocking it afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    LoadingIndicator,
    RadioButton,
    RadioSet,
    Static,
)

from securesubmit.core import service
from securesubmit.core.vault import DEFAULT_MAX_FAILED
from securesubmit.errors import (
    InputError,
    SecureSubmitError,
    VaultCorrupt,
    VaultDestroyed,
    VaultNotFound,
    WrongPassphrase,
)
from securesubmit.tui.i18n import LANGUAGES, N_, _, current_language, ngettext
from securesubmit.tui.screens.base import AppScreen
from securesubmit.tui.text import error_text
from securesubmit.tui.widgets import FormField, StrengthMeter, TitleBar, app_footer


def show_text(widget: Static, text: str) -> None:
    """Show ``text`` in a message line, which takes no room while it is empty."""
    widget.update(Text(text))
    widget.display = bool(text)


def _join(message: str, hint: str) -> str:
    return f"{message}\n{hint}" if hint else message


QUIT = Binding("ctrl+q", "app.quit", N_("Quit"), priority=True)  # shown here: room enough


class FirstRunScreen(AppScreen[None]):
    """Create the vault: language, passphrase twice, role, name and organisation."""

    BINDINGS: ClassVar[list[BindingType]] = [QUIT]

    HELP_TEXT = N_(
        "This creates your vault, the encrypted file that will hold your reports. Choose a "
        "long passphrase you can remember: several unrelated words work well. Nobody can "
        "recover a forgotten passphrase. The strength meter is a rough estimate from length "
        "and variety; it cannot know whether the phrase can be guessed from your life. Your "
        "name and organisation are what partners will see on your reports; a pseudonym is "
        "fine."
    )

    def __init__(self, vault_path: Path) -> None:
        super().__init__()
        self.vault_path = vault_path

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Create your vault"))
        with VerticalScroll(id="first-run", classes="page"):
            # First, so that switching (which draws this screen again) loses nothing typed.
            yield Static(Text(_("Language")), classes="field-label")
            with RadioSet(id="first-language"):
                for code, language in LANGUAGES.items():
                    yield RadioButton(
                        language, value=code == current_language(), id=f"first-lang-{code}"
                    )
            yield Static(
                Text.assemble(
                    _(
                        "SecureSubmit keeps your reports in a vault: one encrypted file on this "
                        "computer. Only your passphrase opens it."
                    ),
                    "\n\n",
                    (
                        _(
                            "If you forget the passphrase, everything in the vault is lost. "
                            "Nobody can recover it: not your partners, not the developers."
                        ),
                        "bold",
                    ),
                    "\n\n",
                    ngettext(
                        "After {count} wrong passphrase in a row the vault destroys its keys.",
                        "After {count} wrong passphrases in a row the vault destroys its keys.",
                        DEFAULT_MAX_FAILED,
                    ).format(count=DEFAULT_MAX_FAILED),
                ),
                classes="intro",
            )
            yield FormField(
                _("Passphrase"),
                Input(password=True, id="passphrase", max_length=1024),
                required=True,
                id="field-passphrase",
            )
            yield StrengthMeter(id="strength")
            yield Static(
                Text(
                    _(
                        "The meter is a rough estimate from length and variety; it cannot "
                        "know whether the phrase can be guessed from your life."
                    )
                ),
                classes="field-hint",
                id="strength-note",
            )
            yield FormField(
                _("Repeat the passphrase"),
                Input(password=True, id="repeat", max_length=1024),
                required=True,
                id="field-repeat",
            )
            yield Static(_("Your role"), classes="field-label")
            with RadioSet(id="role"):
                yield RadioButton(_("Reporter: I document incidents"), value=True, id="reporter")
                yield RadioButton(
                    _("Coordinator: I receive reports at a partner organisation"),
                    id="coordinator",
                )
            yield FormField(
                _("Your name or pseudonym, as partners will see it"),
                Input(id="name", max_length=100),
                id="field-name",
            )
            yield FormField(
                _("Organisation (optional)"),
                Input(id="organisation", max_length=200),
                id="field-organisation",
            )
            yield Checkbox(
                _("Classical keys only (for partners whose software is older)"),
                id="classical",
            )
            yield Static(
                Text(
                    _(
                        "Leave this unticked: your keys then also resist a future quantum "
                        "computer (ML-KEM-768, ML-DSA-65). Tick it only if a partner's "
                        "SecureSubmit cannot read version 2 cards; you can add the keys later."
                    )
                ),
                classes="field-hint",
            )
            yield Static("", id="create-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(_("Create vault"), variant="primary", id="create")
                yield LoadingIndicator(id="working-spinner")
                yield Static(
                    _("Creating the vault and measuring this computer (a few seconds)…"),
                    id="working-text",
                )
        yield app_footer()

    def on_mount(self) -> None:
        self.set_working(False)
        self.query_one("#passphrase", Input).focus()

    @on(RadioSet.Changed, "#first-language")
    def _language(self, event: RadioSet.Changed) -> None:
        chosen = (event.pressed.id or "").removeprefix("first-lang-")
        if chosen in LANGUAGES and chosen != current_language():
            self.secure_app.switch_language(chosen)
            self.app.switch_screen(FirstRunScreen(self.vault_path))

    def set_working(self, working: bool) -> None:
        self.query_one("#working-spinner").display = working
        self.query_one("#working-text").display = working
        self.query_one("#create", Button).disabled = working
        for control in self.query(Input):
            control.disabled = working
        self.query_one("#role", RadioSet).disabled = working
        self.query_one("#first-language", RadioSet).disabled = working
        self.query_one("#classical", Checkbox).disabled = working

    @on(Input.Changed, "#passphrase")
    def _strength(self, event: Input.Changed) -> None:
        self.query_one(StrengthMeter).show_for(event.value)

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "organisation":
            self.create()
        else:
            self.focus_next()

    @on(Button.Pressed, "#create")
    def _create_pressed(self) -> None:
        self.create()

    def _error(self, field_id: str, message: str) -> None:
        self.query_one(f"#field-{field_id}", FormField).set_error(message)

    def create(self) -> None:
        passphrase = self.query_one("#passphrase", Input).value
        repeat = self.query_one("#repeat", Input).value
        self._error("passphrase", "")
        self._error("repeat", "")
        show_text(self.query_one("#create-error", Static), "")
        try:
            service.check_new_passphrase(passphrase)
        except InputError as exc:
            self._error("passphrase", _join(*error_text(exc)))
            self.query_one("#passphrase", Input).focus()
            return
        if passphrase != repeat:
            self._error("repeat", _("The two passphrases differ."))
            self.query_one("#repeat", Input).focus()
            return
        pressed = self.query_one("#role", RadioSet).pressed_button
        role = "coordinator" if pressed is not None and pressed.id == "coordinator" else "reporter"
        name = self.query_one("#name", Input).value.strip()
        organisation = self.query_one("#organisation", Input).value.strip()
        hybrid = not self.query_one("#classical", Checkbox).value
        self.set_working(True)
        self.run_worker(
            self._create(passphrase, role, name, organisation, hybrid), exclusive=True
        )

    async def _create(
        self, passphrase: str, role: str, name: str, organisation: str, hybrid: bool
    ) -> None:
        app = self.secure_app
        try:
            session = await app.run_blocking(
                lambda: service.create_vault(
                    self.vault_path,
                    passphrase,
                    name=name,
                    organisation=organisation,
                    role=role,
                    kdf=app.kdf,
                    post_quantum=hybrid,
                ),
                cleanup=lambda s: s.close(),
            )
        except SecureSubmitError as exc:
            self.set_working(False)
            show_text(self.query_one("#create-error", Static), _join(*error_text(exc)))
            return
        for control in self.query(Input):
            control.value = ""
        app.notify(_("Your vault is ready."), markup=False)
        app.unlocked(session)


class UnlockScreen(AppScreen[None]):
    """Unlock an existing vault with its passphrase."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "audit", N_("Audit")),
        QUIT,
    ]

    HELP_TEXT = N_(
        "Type your passphrase and press Enter. Each wrong passphrase counts; after too many "
        "in a row the vault destroys its keys, as it was set up to do. F2 opens the audit, "
        "which checks the vault's records without the passphrase. F12 destroys the vault at "
        "once without the passphrase."
    )

    def __init__(self, vault_path: Path, reason: str = "") -> None:
        super().__init__()
        self.vault_path = vault_path
        self.reason = reason

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Unlock"))
        with Container(id="unlock-page", classes="page"), Vertical(id="unlock-box"):
            yield Static(
                Text(self.reason or _("Your vault is locked."), style="bold"), id="lock-reason"
            )
            yield Static(Text(_("Vault: {path}").format(path=self.vault_path)), classes="muted")
            yield Static(_("Passphrase"), classes="field-label")
            yield Input(password=True, id="passphrase", max_length=1024)
            yield Static("", id="unlock-error", classes="error")
            yield Static("", id="attempts", classes="muted")
            with Horizontal(classes="buttons"):
                yield Button(_("Unlock"), variant="primary", id="unlock")
                yield Button(_("Audit (F2)"), id="open-audit")
                yield LoadingIndicator(id="working-spinner")
                yield Static(_("Unlocking…"), id="working-text")
        yield app_footer()

    def on_mount(self) -> None:
        self.set_working(False)
        self.query_one("#passphrase", Input).focus()
        self.show_attempts()

    def set_working(self, working: bool) -> None:
        self.query_one("#working-spinner").display = working
        self.query_one("#working-text").display = working
        self.query_one("#unlock", Button).disabled = working
        self.query_one("#passphrase", Input).disabled = working

    @on(Button.Pressed, "#open-audit")
    def action_audit(self) -> None:
        """The auditor's check needs no passphrase."""
        from securesubmit.tui.screens.audit import AuditScreen

        self.app.push_screen(AuditScreen(self.vault_path))

    def show_attempts(self) -> None:
        """What the locked file says about failed attempts, or why it cannot be opened."""
        try:
            info = service.read_locked_info(self.vault_path)
        except SecureSubmitError as exc:
            self.show_error(exc)
            return
        if info.keyslots == 0:
            self.show_error(VaultDestroyed())
            return
        left = info.max_failed_unlocks - info.failed_unlocks
        text = (
            ngettext(
                "{failed} wrong passphrase in a row so far.",
                "{failed} wrong passphrases in a row so far.",
                info.failed_unlocks,
            ).format(failed=info.failed_unlocks)
            + " "
            + ngettext(
                "After {left} more the vault destroys its keys.",
                "After {left} more the vault destroys its keys.",
                left,
            ).format(left=left)
            if info.failed_unlocks
            else ""
        )
        show_text(self.query_one("#attempts", Static), text)

    def show_error(self, error: SecureSubmitError) -> None:
        final = isinstance(error, (VaultDestroyed, VaultCorrupt, VaultNotFound))
        show_text(self.query_one("#unlock-error", Static), _join(*error_text(error)))
        if final:
            self.query_one("#passphrase", Input).disabled = True
            self.query_one("#unlock", Button).disabled = True
            show_text(self.query_one("#attempts", Static), "")

    @on(Input.Submitted, "#passphrase")
    @on(Button.Pressed, "#unlock")
    def unlock(self) -> None:
        field = self.query_one("#passphrase", Input)
        passphrase = field.value
        if not passphrase:
            field.focus()
            return
        field.value = ""
        show_text(self.query_one("#unlock-error", Static), "")
        self.set_working(True)
        self.run_worker(self._unlock(passphrase), exclusive=True)

    async def _unlock(self, passphrase: str) -> None:
        app = self.secure_app
        try:
            session = await app.run_blocking(
                lambda: service.unlock_vault(self.vault_path, passphrase),
                cleanup=lambda s: s.close(),
            )
        except WrongPassphrase:
            self.set_working(False)
            self.app.bell()
            show_text(self.query_one("#unlock-error", Static), _("The passphrase is wrong."))
            self.show_attempts()
            self.query_one("#passphrase", Input).focus()
            return
        except SecureSubmitError as exc:
            self.set_working(False)
            self.show_error(exc)
            return
        app.unlocked(session)
