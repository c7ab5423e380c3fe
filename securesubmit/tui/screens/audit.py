"""The auditor's screen: verify a vault file against its log and kept checkpoints (no
passphrase needed), read this vault's event history, export its latest checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, LoadingIndicator, Static

from securesubmit.core import service
from securesubmit.core.audit import AuditResult, LogTampered, verify_vault
from securesubmit.core.fs import read_limited
from securesubmit.errors import SecureSubmitError
from securesubmit.tui.i18n import N_, _, ngettext
from securesubmit.tui.screens.base import AppScreen
from securesubmit.tui.screens.dialogs import ErrorModal
from securesubmit.tui.screens.files import PathPicker
from securesubmit.tui.screens.progress import os_error
from securesubmit.tui.text import core_message, error_text, show_stamp, whole
from securesubmit.tui.widgets import FormField, TitleBar, app_footer

MAX_CHECKPOINT_BYTES = 64 * 1024  # as the CLI reads them
MAX_PROBLEMS_SHOWN = 200
MAX_EVENTS_SHOWN = 5000


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.expanduser().resolve() == b.expanduser().resolve()
    except OSError:
        return False


def render_intact(result: AuditResult) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(_("Events"), whole(result.events))
    grid.add_row(_("Tree head"), result.root.hex()[:16] + "…")
    grid.add_row(_("Signed by log key"), result.log_key_id)
    grid.add_row(
        _("Checkpoints compared"),
        ", ".join(whole(size) for size in result.checked_against) or _("none"),
    )
    return Group(
        Text("✓ " + _("Intact: the records match their signed log."), style="bold green"),
        grid,
        Text(""),
        Text(_("As the command line says it:"), style="dim"),
        Text(result.summary(), style="dim"),
    )


def render_tampered(error: LogTampered) -> RenderableType:
    problems = error.problems
    lines: list[RenderableType] = [
        Text(
            "✗ "
            + ngettext(
                "Altered: {n} problem found.", "Altered: {n} problems found.", len(problems)
            ).format(n=whole(len(problems))),
            style="bold red",
        )
    ]
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        lines.append(Text("• " + core_message(problem), style="red"))
    more = len(problems) - MAX_PROBLEMS_SHOWN
    if more > 0:
        lines.append(Text(_("… and {n} more.").format(n=whole(more)), style="red"))
    if error.hint:
        lines.append(Text(core_message(error.hint), style="dim"))
    return Group(*lines)


def render_failure(error: SecureSubmitError) -> RenderableType:
    message, hint = error_text(error)
    lines = [Text("✗ " + message, style="bold red")]
    if hint:
        lines.append(Text(hint, style="dim"))
    return Group(*lines)


class AuditScreen(AppScreen[None]):
    """Verify a vault file, without its passphrase; this vault's history when unlocked."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("v", "verify", N_("Verify")),
        Binding("h", "history", N_("History")),
    ]
    HELP_TEXT = N_(
        "The audit checks that a vault's stored records are complete and unaltered: every "
        "record against the vault's append-only log, and the log against its signature. It "
        "needs no passphrase, so an auditor can run it on any vault file. Add checkpoints that "
        "partners kept to detect a vault rolled back to an earlier state. When the vault is "
        "unlocked you can also read its event history and export its latest checkpoint."
    )

    def __init__(self, vault_path: Path) -> None:
        super().__init__()
        self.vault_path = vault_path
        self._checkpoints: list[Path] = []

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Audit"))
        with VerticalScroll(id="audit", classes="page"):
            yield Static(
                Text(
                    _(
                        "Checks that a vault's records are complete and unaltered, against its "
                        "signed log and any checkpoints partners kept. No passphrase is needed."
                    )
                ),
                classes="intro",
            )
            yield FormField(
                _("Vault file"),
                Input(str(self.vault_path), id="audit-vault"),
                hint=_("This vault, or the path of another vault file, e.g. a copy to examine."),
                id="field-audit-vault",
            )
            with Horizontal(classes="compact-buttons"):
                yield Button(_("Choose a vault file…"), id="choose-vault", compact=True)
            yield Static(_("Checkpoints to compare with (optional)"), classes="field-label")
            yield Static("", id="checkpoint-list", classes="field-hint")
            with Horizontal(classes="compact-buttons"):
                yield Button(_("Add a checkpoint…"), id="add-checkpoint", compact=True)
                yield Button(_("Clear"), id="clear-checkpoints", compact=True)
            with Horizontal(classes="buttons"):
                yield Button(_("Verify"), variant="primary", id="verify")
                yield LoadingIndicator(id="working-spinner")
                yield Static(_("Verifying…"), id="working-text")
            yield Static("", id="audit-result")
            if self.unlocked:
                yield Static(Text(_("This vault's history"), style="bold"), classes="section")
                yield Static(
                    Text(
                        _(
                            "A checkpoint is a signed summary of this vault's log as it is now. "
                            "Give it to a partner to keep: a later audit against it shows if "
                            "records were deleted or the vault was rolled back."
                        )
                    ),
                    classes="field-hint",
                )
                with Horizontal(classes="buttons"):
                    yield Button(_("Event history"), id="history")
                    yield Button(_("Export the latest checkpoint…"), id="export-checkpoint")
            else:
                yield Static(
                    Text(
                        _(
                            "Unlock the vault to read its event history or to export a "
                            "checkpoint; verifying needs no passphrase."
                        )
                    ),
                    classes="muted section",
                )
        yield app_footer()

    def on_mount(self) -> None:
        self.query_one("#field-audit-vault", FormField).set_error("")
        self.set_working(False)
        self.show_checkpoints()
        self.query_one("#verify", Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "history":
            return self.unlocked
        return True

    def set_working(self, working: bool) -> None:
        self.query_one("#working-spinner").display = working
        self.query_one("#working-text").display = working
        self.query_one("#verify", Button).disabled = working

    def show_checkpoints(self) -> None:
        text = "\n".join(str(path) for path in self._checkpoints) or _("none")
        self.query_one("#checkpoint-list", Static).update(Text(text))
        self.query_one("#clear-checkpoints").display = bool(self._checkpoints)

    @on(Button.Pressed, "#choose-vault")
    def _choose_vault(self) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                self.query_one("#audit-vault", Input).value = str(path)

        self.app.push_screen(
            PathPicker(_("Choose a vault file"), start=self.vault_path.parent), chosen
        )

    @on(Button.Pressed, "#add-checkpoint")
    def _add_checkpoint(self) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None and path not in self._checkpoints:
                self._checkpoints.append(path)
                self.show_checkpoints()

        self.app.push_screen(
            PathPicker(
                _("Add a checkpoint"),
                note=_("A checkpoint file a partner kept from this vault (e.g. checkpoint.txt)."),
            ),
            chosen,
        )

    @on(Button.Pressed, "#clear-checkpoints")
    def _clear_checkpoints(self) -> None:
        self._checkpoints = []
        self.show_checkpoints()

    @on(Input.Submitted, "#audit-vault")
    @on(Button.Pressed, "#verify")
    def action_verify(self) -> None:
        raw = self.query_one("#audit-vault", Input).value.strip()
        field = self.query_one("#field-audit-vault", FormField)
        if not raw:
            field.set_error(_("Type the path of a vault file."))
            return
        field.set_error("")
        self.set_working(True)
        self.query_one("#audit-result", Static).update("")
        self.run_worker(self._verify(Path(raw).expanduser(), list(self._checkpoints)))

    async def _verify(self, path: Path, checkpoints: list[Path]) -> None:
        app = self.secure_app
        session = app.session
        # An unlocked vault is held by this process's lock: check it through the open session.
        open_vault = session.vault if session and same_file(path, app.vault_path) else None

        def work() -> AuditResult:
            against = [
                read_limited(c, MAX_CHECKPOINT_BYTES, "the checkpoint file") for c in checkpoints
            ]
            if open_vault is not None:
                return verify_vault(open_vault, against)
            return service.verify_audit(path, against)

        result: RenderableType
        try:
            result = render_intact(await app.run_blocking(work))
        except LogTampered as exc:
            result = render_tampered(exc)
        except SecureSubmitError as exc:
            result = render_failure(exc)
        except OSError as exc:
            result = render_failure(os_error(exc))
        self.set_working(False)
        shown = self.query_one("#audit-result", Static)
        shown.update(result)
        self.call_after_refresh(shown.scroll_visible, animate=False, top=True)

    @on(Button.Pressed, "#history")
    def action_history(self) -> None:
        if self.unlocked:
            self.app.push_screen(AuditLogScreen())

    @on(Button.Pressed, "#export-checkpoint")
    def _export_checkpoint(self) -> None:
        self.run_worker(self._export(), exclusive=True, group="audit")

    async def _export(self) -> None:
        path = await self.app.push_screen_wait(
            PathPicker(
                _("Export the latest checkpoint"), choose="save", default_name="checkpoint.txt"
            )
        )
        if path is None or not self.unlocked:
            return
        try:
            checkpoint = self.session.export_checkpoint(path)
        except SecureSubmitError as exc:
            self.app.push_screen(ErrorModal(exc))
            return
        except OSError as exc:
            self.app.push_screen(ErrorModal(os_error(exc)))
            return
        lines = checkpoint.decode("utf-8", "replace").split("\n")
        events = lines[1] if len(lines) > 1 else "?"
        self.notify(
            _(
                "Wrote the signed checkpoint ({events} events) to {path}. Give it to a partner."
            ).format(events=events, path=path),
            markup=False,
            timeout=10,
        )


def event_details(details: dict[str, Any]) -> str:
    def short(value: object) -> str:
        text = str(value)
        return text[:8] + "…" if len(text) >= 32 else text

    return "\n".join(f"{key}={short(value)}" for key, value in sorted(details.items()))


class AuditLogScreen(AppScreen[None]):
    """This vault's readable event history, newest first."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", N_("Back"))]
    HELP_TEXT = N_(
        "Every change to this vault, newest first: its number in the log, when it happened "
        "(UTC), what kind of change it was and which records it touched (ids shortened). The "
        "history is encrypted in the vault, so it needs the passphrase; the audit itself "
        "does not."
    )

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Event history"))
        with Vertical(classes="page"):
            yield Static("", id="events-status", classes="muted")
            yield DataTable(id="events", cursor_type="row", zebra_stripes=True)
        yield app_footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("#", key="seq")
        table.add_column(_("Time (UTC)"), key="time")
        table.add_column(_("Event"), key="type")
        table.add_column(_("Details"), key="details")
        events = self.session.audit_log()
        shown = events[-MAX_EVENTS_SHOWN:][::-1]
        for event in shown:
            details = event_details(event.get("details") or {})
            table.add_row(
                str(event["seq"]),
                show_stamp(str(event.get("time", "")), short=True),
                str(event.get("type", "")),
                details,
                height=max(1, details.count("\n") + 1),  # one line per detail: fits 80 columns
            )
        if len(shown) < len(events):
            status = _("The latest {shown} of {total} events, newest first.").format(
                shown=whole(len(shown)), total=whole(len(events))
            )
        else:
            status = ngettext(
                "{n} event, newest first.", "{n} events, newest first.", len(events)
            ).format(n=whole(len(events)))
        self.query_one("#events-status", Static).update(Text(status))
        table.focus()
