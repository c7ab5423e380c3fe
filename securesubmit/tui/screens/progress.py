"""Long work in a thread, with a progress bar, its speed and a safe way to cancel it.

Cancelling never interrupts a thread from outside. The work's ``progress`` callback, which
the service calls with the bytes done so far (and the bytes in all, when it knows them),
raises ``Cancelled`` once the user has pressed Cancel; the service then rolls its
transaction back and removes any partial file, so nothing half-written remains.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic
from typing import ClassVar, Generic, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, ProgressBar, Static

from securesubmit.core.streams import Progress as Progress  # re-exported for the screens
from securesubmit.errors import InputError, SecureSubmitError
from securesubmit.tui.i18n import N_, _
from securesubmit.tui.screens.base import AppModal
from securesubmit.tui.text import format_size

T = TypeVar("T")


class Cancelled(Exception):
    """The user pressed Cancel; raised from a progress callback so the service rolls back."""


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """How the work ended: its value, a user error, or cancelled."""

    value: T | None = None
    error: SecureSubmitError | None = None
    cancelled: bool = False


def os_error(error: OSError) -> SecureSubmitError:
    """A file the user chose could not be read or written: their error to fix, not a bug."""
    reason = error.strerror or type(error).__name__  # the system's words, as the CLI shows
    return InputError(
        f"{error.filename}: {reason}" if error.filename else reason,
        hint=_("choose another file or folder, or check that you may write there"),
    )


class ProgressModal(AppModal[Outcome[T]]):
    """Runs ``work(progress)`` in a thread and dismisses itself with the ``Outcome``.

    ``total`` is the number of bytes the work will report, if known before it starts; the
    work may also tell it with each report. Until a total is known the bar only shows
    that work goes on, with the bytes done and the speed.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", N_("Cancel"))]
    HELP_TEXT = N_(
        "The work runs while the app stays usable. Cancel stops it safely: the vault stays as "
        "it was before, and nothing half-written remains."
    )

    def __init__(
        self,
        title: str,
        work: Callable[[Progress], T],
        *,
        total: int | None = None,
        cancellable: bool = False,
    ) -> None:
        super().__init__()
        self._title = title
        self._work = work
        self._total = total
        self._cancellable = cancellable
        self._done = 0
        self._started = monotonic()
        self._cancel = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog progress"):
            yield Static(Text(self._title, style="bold"), classes="dialog-title")
            yield ProgressBar(
                total=self._total or None,
                show_eta=False,
                # Cancellable work reports its bytes: "--%" until it tells their total.
                show_percentage=bool(self._total) or self._cancellable,
                id="progress-bar",
            )
            yield Static("", id="progress-text", classes="muted")
            if self._cancellable:
                with Horizontal(classes="dialog-buttons"):
                    yield Button(_("Cancel"), variant="error", id="progress-cancel")

    def on_mount(self) -> None:
        self._started = monotonic()
        self.set_interval(0.2, self.show_progress, name="progress")
        self.run_worker(self._run(), exclusive=True)

    def report(self, done: int, total: int | None = None) -> None:
        """The work's progress callback (in its thread): bytes done so far, and in all."""
        self._done = done
        if total is not None and total != self._total:
            self._total = total  # a new phase of the work (reading, then saving)
            self._started = monotonic()
        if self._cancel.is_set():
            raise Cancelled

    def show_progress(self) -> None:
        text = self.query_one("#progress-text", Static)
        if self._cancel.is_set():
            text.update(Text(_("Cancelling…")))
            return
        done, total = self._done, self._total
        if not total and not done:
            return
        elapsed = monotonic() - self._started
        speed = format_size(round(done / elapsed)) if elapsed > 0.1 else "—"
        bar = self.query_one(ProgressBar)
        if total:
            bar.update(total=total, progress=min(done, total))
            line = _("{done} of {total}, {speed}/s").format(
                done=format_size(done), total=format_size(total), speed=speed
            )
        else:
            line = _("{done}, {speed}/s").format(done=format_size(done), speed=speed)
        text.update(Text(line))

    async def _run(self) -> None:
        outcome: Outcome[T]
        try:
            value = await self.secure_app.run_blocking(lambda: self._work(self.report))
        except Cancelled:
            outcome = Outcome(cancelled=True)
        except SecureSubmitError as exc:
            outcome = Outcome(error=exc)
        except OSError as exc:
            outcome = Outcome(error=os_error(exc))
        else:
            outcome = Outcome(value=value)
        self.dismiss(outcome)

    @on(Button.Pressed, "#progress-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        if not self._cancellable or self._cancel.is_set():
            return
        self._cancel.set()
        self.query_one("#progress-cancel", Button).disabled = True
        self.show_progress()
