"""Dialogs: confirmations, the panic confirmation, errors and help."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, cast

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from securesubmit.errors import SecureSubmitError
from securesubmit.tui.i18n import N_, _
from securesubmit.tui.screens.base import AppModal
from securesubmit.tui.text import error_text
from securesubmit.tui.widgets import FormField


class ConfirmModal(AppModal[bool]):
    """A yes/no question. ``y`` confirms, ``n`` or Escape cancels; Cancel has the focus."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", N_("Yes")),
        Binding("n,escape", "answer(False)", N_("No")),
    ]

    def __init__(self, question: str, detail: Text | str = "", *, confirm: str = "") -> None:
        super().__init__()
        self._question = question
        self._detail = detail
        self._confirm = confirm or _("Yes")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self._question, style="bold"), classes="dialog-title")
            if self._detail:
                yield Static(self._detail, classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._confirm, variant="error", id="confirm")
                yield Button(_("Cancel"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class PanicModal(AppModal[bool]):
    """Confirm the panic wipe with one typed letter: fast, but never a single accidental key."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", N_("Cancel"))]
    HELP_TEXT = N_(
        "Panic destroys the vault's keys at once and removes the vault file. Type y (or the "
        "word destroy) to confirm; Escape cancels."
    )

    def confirmations(self) -> set[str]:
        # In Russian "д"/"да" mean yes. The letter the Y key gives on a Russian layout is
        # "н", the first letter of "no", so it is deliberately not accepted.
        return {"y", "yes", "destroy", _("y"), _("yes"), _("destroy")}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog danger"):
            yield Static(Text(_("Destroy the vault now?"), style="bold"), classes="dialog-title")
            yield Static(
                _(
                    "This destroys the vault's keys at once and removes its file. Nothing in "
                    "it can ever be read again, by you or by anyone. Reports already delivered "
                    "to partners are not affected."
                ),
                classes="dialog-body",
            )
            yield Static(_("Type y (or the word destroy) to confirm; Escape cancels."))
            yield Input(id="panic-confirm", max_length=20)
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Destroy now"), variant="error", id="confirm")
                yield Button(_("Cancel"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#panic-confirm", Input).focus()

    @on(Input.Changed, "#panic-confirm")
    def _typed(self, event: Input.Changed) -> None:
        if event.value.strip().casefold() in self.confirmations():
            self.dismiss(True)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)


class ErrorModal(AppModal[None]):
    """The one way the app shows a user error that does not belong to a form field."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter", "close", N_("Close"))]

    def __init__(self, error: SecureSubmitError) -> None:
        super().__init__()
        self._message, self._hint = error_text(error)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(_("Something went wrong"), style="bold"), classes="dialog-title")
            yield Static(Text(self._message), classes="dialog-body error")
            if self._hint:
                yield Static(Text(self._hint), classes="dialog-body muted")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("OK"), variant="primary", id="ok")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    @on(Button.Pressed)
    def _pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class HelpScreen(AppModal[None]):
    """Help for the screen below: what it is for and every key it understands."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,question_mark,q", "close", N_("Close"))
    ]

    def __init__(self, screen: Screen[object]) -> None:
        super().__init__()
        self._for = screen

    def _keys(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        seen: set[tuple[str, str]] = set()
        own = {
            (b.action, _(b.description))
            for node in (self._for, self.app)
            for b in type(node).__dict__.get("BINDINGS", [])
            if isinstance(b, Binding)
        }
        for active in self._for.active_bindings.values():
            binding = active.binding
            if (binding.action, binding.description) not in own:
                continue  # Textual's own keys (focus, copy, cursor movement) are not listed
            if not binding.description or (binding.action, binding.description) in seen:
                continue
            seen.add((binding.action, binding.description))
            table.add_row(self.app.get_key_display(binding), binding.description)
        return table

    def compose(self) -> ComposeResult:
        help_text = getattr(self._for, "HELP_TEXT", "")
        with Vertical(classes="dialog help"):
            yield Static(Text(_("Help"), style="bold"), classes="dialog-title")
            with VerticalScroll(classes="help-body"):
                if help_text:
                    yield Static(Text(_(help_text)), classes="dialog-body")
                yield Static(Text(_("Keys on this screen"), style="bold"))
                yield Static(self._keys())
                yield Static(
                    Text(
                        _(
                            "Everywhere: F1 or ? help, Ctrl+L lock now, F12 panic (destroy the "
                            "vault), Ctrl+Q quit. Tab moves between fields; the mouse works too."
                        )
                    ),
                    classes="dialog-body muted help-general",
                )
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Close"), variant="primary", id="close")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    @on(Button.Pressed)
    def _pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class ChoiceModal(AppModal[str | None]):
    """Choose one of a few options (a list the arrow keys move in); None if cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", N_("Cancel"))]

    def __init__(
        self,
        title: str,
        options: list[tuple[str, Text | str]],
        *,
        note: Text | str = "",
        current: str | None = None,
    ) -> None:
        super().__init__()
        self._title = title
        self._options = options
        self._note = note
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self._title, style="bold"), classes="dialog-title")
            if self._note:
                yield Static(self._note, classes="dialog-body")
            yield OptionList(*[Option(label, id=key) for key, label in self._options], id="choices")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("Cancel"), id="cancel", compact=True)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        keys = [key for key, _label in self._options]
        if self._current in keys:
            options.highlighted = keys.index(self._current)
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class TextModal(AppModal[str | None]):
    """Ask for one line (or, ``multiline``, a few lines) of text; None if cancelled.

    ``check`` returns an error message for a value that will not do ("" accepts it); the
    message is shown under the field and the dialog stays open.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel")),
        Binding("ctrl+s", "save", N_("Save")),
    ]

    def __init__(
        self,
        title: str,
        label: str,
        *,
        note: Text | str = "",
        value: str = "",
        multiline: bool = False,
        max_length: int = 1000,
        confirm: str = "",
        check: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__()
        self._title = title
        self._label = label
        self._note = note
        self._value = value
        self._multiline = multiline
        self._max_length = max_length
        self._confirm = confirm or _("Save")
        self._check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self._title, style="bold"), classes="dialog-title")
            if self._note:
                yield Static(self._note, classes="dialog-body")
            control: Input | TextArea
            if self._multiline:
                control = TextArea(self._value, id="text-value", soft_wrap=True)
            else:
                control = Input(self._value, id="text-value", max_length=self._max_length)
            yield FormField(self._label, control, id="field-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._confirm, variant="primary", id="save", compact=True)
                yield Button(_("Cancel"), id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one(FormField).set_error("")
        self.query_one("#text-value").focus()

    def value(self) -> str:
        control = self.query_one("#text-value")
        return control.text if isinstance(control, TextArea) else cast(Input, control).value

    @on(Input.Submitted, "#text-value")
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        value = self.value()
        problem = self._check(value) if self._check else ""
        if not value.strip():
            problem = problem or _("Type something first, or press Escape to cancel.")
        if problem:
            self.query_one(FormField).set_error(problem)
            self.query_one("#text-value").focus()
            return
        if self._multiline and len(value) > self._max_length:
            self.query_one(FormField).set_error(
                _("At most {n} characters.").format(n=self._max_length)
            )
            return
        self.dismiss(value)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class MessageModal(AppModal[None]):
    """A result the user should read before going on (e.g. what an export wrote)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter", "close", N_("Close"))]

    def __init__(self, title: str, body: RenderableType, *, danger: bool = False) -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog danger" if self._danger else "dialog"):
            yield Static(Text(self._title, style="bold"), classes="dialog-title")
            with VerticalScroll(classes="help-body"):
                yield Static(self._body, classes="dialog-body", id="message-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("OK"), variant="primary", id="ok")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    @on(Button.Pressed, "#ok")
    def action_close(self) -> None:
        self.dismiss(None)
