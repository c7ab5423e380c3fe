"""The SecureSubmit terminal app: screens, safety features and the way out.

Safety, in one place:

* Idle lock. After ``lock_seconds`` without a key press, click, scroll or paste, the session
  is closed (keys forgotten, vault released), every screen above the base is removed with
  the decrypted data it showed, notifications are cleared, and the unlock screen is shown.
  Ctrl+L does the same at once. Long work in a thread postpones the lock until it ends.
* Panic (F12): after a one-letter confirmation the session is closed and the vault's keys
  are destroyed through ``service.panic``; the app exits saying so.
* Crashes. Textual's handler prints a traceback with local variables; ours writes a crash
  report with only types, files, lines and function names (see ``crash.py``) and exits
  with one sentence naming its path. Textual's own logging (TEXTUAL_LOG, devtools) is
  switched off, the command palette (whose screenshot command writes the screen to a file)
  is disabled, and nothing else is written to disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING, ClassVar, TypeVar

from rich.text import Text
from textual import constants as textual_constants
from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from securesubmit.errors import SecureSubmitError, UsageError
from securesubmit.tui.crash import unwrap, write_crash_report
from securesubmit.tui.i18n import LANGUAGES, N_, _, ngettext, set_language
from securesubmit.tui.screens.base import translate_bindings
from securesubmit.tui.screens.dialogs import ErrorModal, HelpScreen, PanicModal
from securesubmit.tui.screens.start import FirstRunScreen, UnlockScreen

# The screens of an unlocked vault (they pull in the inbox, bundles and sealing: about
# 0.1 s) are imported when the vault is unlocked, not before the unlock screen is drawn.
if TYPE_CHECKING:
    from securesubmit.core.crypto import KdfParams
    from securesubmit.core.service import Session

T = TypeVar("T")

DEFAULT_LOCK_SECONDS = 300.0
LOCK_SECONDS_ENV = "SECURESUBMIT_LOCK_SECONDS"
EXIT_CRASH = 70  # as the CLI: an internal error (EX_SOFTWARE)


# What counts as the user being present. Mouse movement does not: a nudged mouse must not
# keep an unattended vault open.
USER_INPUT = (
    events.Key,
    events.MouseDown,
    events.MouseScrollDown,
    events.MouseScrollUp,
    events.Paste,
)


def lock_seconds_from_env() -> float:
    raw = os.environ.get(LOCK_SECONDS_ENV, "").strip()
    if not raw:
        return DEFAULT_LOCK_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 24 * 3600:
        raise UsageError(
            f"{LOCK_SECONDS_ENV} must be a number of seconds between 0 and 86400, not {raw!r}"
        )
    return seconds


def _duration(seconds: float) -> str:
    if seconds >= 60:
        minutes = round(seconds / 60)
        return ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)
    whole = max(1, round(seconds))
    return ngettext("{n} second", "{n} seconds", whole).format(n=whole)


class SecureSubmitApp(App[None]):
    """The app. ``kdf``, ``lock_seconds``, ``crash_dir`` and ``clock`` exist for tests."""

    CSS_PATH = "app.tcss"
    TITLE = "SecureSubmit"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", N_("Help")),
        Binding("question_mark", "help", N_("Help"), show=False),
        Binding("ctrl+l", "lock", N_("Lock"), priority=True),
        Binding("f12", "panic_wipe", N_("Panic"), priority=True),
        # Shown in the footer only where there is room (the start screens); always in help.
        Binding("ctrl+q", "quit", N_("Quit"), priority=True, show=False),
    ]

    def __init__(
        self,
        vault_path: Path,
        language: str | None = None,
        *,
        kdf: KdfParams | None = None,
        lock_seconds: float | None = None,
        crash_dir: Path | None = None,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        self.language = set_language(language)
        self.lock_seconds = lock_seconds if lock_seconds is not None else lock_seconds_from_env()
        super().__init__()
        translate_bindings(self)
        self._silence_textual()
        self.vault_path = Path(vault_path)
        self.kdf = kdf
        """Argon2id cost for new passphrases; None measures this computer (production)."""
        self.crash_dir = crash_dir
        self.clock = clock
        """Seconds, for the idle lock; tests pass one they can move forward."""
        self.session: Session | None = None
        self._last_input = clock()
        self._busy = 0
        self._lock_pending = False
        self._crashed = False

    def _silence_textual(self) -> None:
        # Textual appends every log call to $TEXTUAL_LOG and can stream to devtools; either
        # could carry decrypted text out of the process.
        setattr(textual_constants, "LOG_FILE", None)  # noqa: B010 - the constant is Final
        self.devtools = None
        self._devtools_redirector = None
        self.features = frozenset(self.features - {"devtools", "debug"})

    # --- start and the session -------------------------------------------------------------

    def on_mount(self) -> None:
        interval = min(0.25, max(0.05, self.lock_seconds / 4))
        self.set_interval(interval, self._check_idle, name="idle lock")
        if self.vault_path.exists():
            self.push_screen(UnlockScreen(self.vault_path))
        else:
            self.push_screen(FirstRunScreen(self.vault_path))

    def require_session(self) -> Session:
        if self.session is None:
            raise RuntimeError("the vault is locked")
        return self.session

    def unlocked(self, session: Session) -> None:
        """Called by the first-run and unlock screens with the open session."""
        self.session = session
        self._last_input = self.clock()
        self.refresh_bindings()
        self.switch_screen(self.home_screen(session))

    def home_screen(self, session: Session) -> Screen[None]:
        from securesubmit.tui.screens.inbox import InboxScreen
        from securesubmit.tui.screens.reports import ReportListScreen

        if session.identity.role == "coordinator":
            return InboxScreen()
        return ReportListScreen()

    def switch_language(self, language: str) -> None:
        """Speak ``language`` from now on, until the app is closed (nothing is written).

        Every screen was composed in the old language, so the unlocked screens are built
        again: the home screen, then the settings where the language was chosen.
        """
        from securesubmit.tui.screens.settings import SettingsScreen

        self.language = set_language(language)
        self._bindings = self._merge_bindings()
        translate_bindings(self)
        session = self.session
        if session is None:
            return
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(self.home_screen(session))
        self.push_screen(SettingsScreen())
        self.refresh_bindings()
        self.notify(
            _("The app now speaks {language}.").format(language=LANGUAGES[self.language]),
            markup=False,
        )

    def close_session(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            session.close()

    async def run_blocking(
        self, work: Callable[[], T], *, cleanup: Callable[[T], object] | None = None
    ) -> T:
        """Run slow work (key derivation) in a thread so the screen stays alive.

        If the calling worker is cancelled while the thread runs, ``cleanup`` gets the result
        when it arrives (e.g. an unlocked session that nobody will use is closed).
        """
        self._busy += 1
        task = asyncio.ensure_future(asyncio.to_thread(work))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if cleanup is not None:
                clean = cleanup

                def finished(done: asyncio.Future[T]) -> None:
                    if not done.cancelled() and done.exception() is None:
                        clean(done.result())

                task.add_done_callback(finished)
            raise
        finally:
            self._busy -= 1
            if not self._busy and self._lock_pending:
                self._lock_pending = False
                self.call_later(self.lock)

    # --- locking -----------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, USER_INPUT):
            self._last_input = self.clock()
        await super().on_event(event)

    def _check_idle(self) -> None:
        if self.session is None or self._busy:
            return
        if self.clock() - self._last_input >= self.lock_seconds:
            self.lock(
                _("Locked after {time} without input.").format(time=_duration(self.lock_seconds))
            )

    def lock(self, reason: str = "") -> None:
        """Close the session and remove every screen that showed decrypted data."""
        if self.session is None:
            return
        if self._busy:
            self._lock_pending = True
            return
        self.close_session()
        self.clear_notifications()
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(UnlockScreen(self.vault_path, reason or _("Locked.")))
        self.refresh_bindings()
        self.refresh(repaint=True, layout=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "lock":
            return self.session is not None
        return True

    def action_lock(self) -> None:
        self.lock(_("Locked."))

    # --- help, panic, quit ------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_help_quit(self) -> None:
        self.notify(_("Press Ctrl+Q to quit."), markup=False)

    def action_panic_wipe(self) -> None:
        if any(isinstance(screen, PanicModal) for screen in self.screen_stack):
            return
        if not self.vault_path.exists():
            self.notify(_("There is no vault here to destroy."), markup=False)
            return
        self.push_screen(PanicModal(), self._panic_answered)

    def _panic_answered(self, confirmed: bool | None) -> None:
        if confirmed:
            self.destroy_vault()

    def destroy_vault(self) -> None:
        from securesubmit.core import service

        self.close_session()
        try:
            service.panic(self.vault_path)
        except SecureSubmitError as exc:
            self.push_screen(ErrorModal(exc))
            return
        self.clear_notifications()
        self.exit(return_code=0, message=Text(_("The vault was destroyed.")))

    async def action_quit(self) -> None:
        self.close_session()
        self.exit()

    def on_unmount(self) -> None:
        self.close_session()

    # --- crashes -----------------------------------------------------------------------------

    def crash_message(self, error: BaseException) -> str:
        try:
            path = write_crash_report(unwrap(error), self.crash_dir)
        except OSError:
            return _("SecureSubmit hit an internal error; no crash report could be written.")
        return _(
            "SecureSubmit hit an internal error; a crash report without vault data was "
            "written to {path}"
        ).format(path=path)

    def _handle_exception(self, error: Exception) -> None:
        """Replaces Textual's handler, which prints a traceback with local variables."""
        self._return_code = EXIT_CRASH
        if self._exception is None:  # run_test re-raises it for the test framework
            self._exception = error
            self._exception_event.set()
        if self._crashed:
            return
        self._crashed = True
        with contextlib.suppress(Exception):  # best effort: the report matters more
            self.close_session()
        message = self.crash_message(error)
        self._exit_renderables.clear()
        self._exit_renderables.append(Text(message))
        self._close_messages_no_wait()

    def _print_error_renderables(self) -> None:
        """Print only our own exit message, unwrapped so a path can be copied whole."""
        for renderable in self._exit_renderables[:1]:
            self.error_console.print(renderable, soft_wrap=True)
        self._exit_renderables.clear()

    def _fatal_error(self) -> None:
        error = sys.exc_info()[1]
        self._handle_exception(error if isinstance(error, Exception) else RuntimeError())


def run_app(vault_path: Path, language: str | None = None) -> int:
    """Start the app; returns the process exit code."""
    try:
        app = SecureSubmitApp(vault_path, language)
    except SecureSubmitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    try:
        app.run()
    except Exception as exc:  # Textual failed outside its own handler
        app.close_session()
        print(app.crash_message(exc), file=sys.stderr)
        return EXIT_CRASH
    finally:
        app.close_session()
    return app.return_code or 0
