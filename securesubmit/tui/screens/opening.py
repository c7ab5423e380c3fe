"""Opening one sealed report file addressed to this vault (``securesubmit sealed open``):
a partner's report that came outside a bundle, or a report sealed "readable for me".

Everything is verified before anything is shown; nothing is stored in the vault. Saving
the attachments writes plain (NOT encrypted) copies, and says so first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from securesubmit.core.exchange import InboxItem
from securesubmit.core.identity import format_fingerprint
from securesubmit.core.models import now_iso
from securesubmit.tui.i18n import N_, _, ngettext
from securesubmit.tui.screens.base import AppScreen
from securesubmit.tui.screens.dialogs import ErrorModal
from securesubmit.tui.screens.files import PathPicker
from securesubmit.tui.screens.inbox import grid, heading, render_attachments, render_content
from securesubmit.tui.screens.progress import Outcome, ProgressModal
from securesubmit.tui.text import show_stamp
from securesubmit.tui.widgets import TitleBar, app_footer


def as_item(opened: Any) -> InboxItem:
    """The opened report in the shape the inbox's renderers read (nothing is stored)."""
    return InboxItem(
        id="",
        report_id=opened.report_id,
        report=opened.report,
        sender_fingerprint=opened.sender_fingerprint.hex(),
        sender_name="",
        bundle_id="",
        sequence=0,
        created=now_iso(opened.created),
        sealed=now_iso(opened.sealed),
        imported="",
        attachments=[
            {
                "name": a.name,
                "size": a.size,
                "media_type": a.media_type,
                "sha256": a.sha256.hex(),
                "original_sha256": a.original_sha256.hex() if a.original_sha256 else None,
                "scrubbed": list(a.scrubbed),
            }
            for a in opened.attachments
        ],
        sealed_blob={},
    )


def render_opened(opened: Any, sender: str | None, path: Path) -> RenderableType:
    item = as_item(opened)
    title = item.report.get("title")
    parts: list[RenderableType] = [
        Text(title if isinstance(title, str) and title else _("(no title)"), style="bold")
    ]
    where = grid()
    where.add_row(_("File"), Text(str(path)))
    if sender is None:
        where.add_row(
            _("Sender"),
            Text(_("UNKNOWN: not one of your partners"), style="bold red"),
        )
    else:
        where.add_row(_("Sender"), Text(sender, style="bold"))
    where.add_row(_("Fingerprint"), Text(format_fingerprint(opened.sender_fingerprint)))
    where.add_row(
        _("Signature"),
        Text(
            "✓ " + _("verified: signed by this sender's key, and nothing was altered"),
            style="bold green",
        ),
    )
    where.add_row(_("Written"), Text(show_stamp(item.created)))
    where.add_row(_("Sealed"), Text(show_stamp(item.sealed)))
    parts += [*heading(_("Where it comes from")), where]
    if sender is None:
        parts += [
            Text(""),
            Text(
                "⚠ "
                + _(
                    "The signature is valid, but you have not checked whose key this is. "
                    "Compare the fingerprint with the sender before you trust the report."
                ),
                style="bold red",
            ),
        ]
    parts += render_content(item)
    parts += render_attachments(item)
    return Group(*parts)


def open_sealed_file(screen: AppScreen[Any]) -> None:
    """Ask for a sealed report file, verify and open it, and show it."""
    screen.run_worker(_open(screen), exclusive=True, group="open-sealed")


async def _open(screen: AppScreen[Any]) -> None:
    app = screen.app
    path = await app.push_screen_wait(
        PathPicker(
            _("Open a sealed report file"),
            note=_(
                "A sealed report addressed to you (e.g. sealed-….age). It is verified before "
                "anything is shown, and nothing is stored in the vault."
            ),
        )
    )
    if path is None or not screen.unlocked:
        return
    session = screen.session
    done: Outcome[Any] = await app.push_screen_wait(
        ProgressModal(
            _("Verifying and opening {name}…").format(name=path.name),
            lambda progress: session.open_sealed_file(path, progress=progress),
            cancellable=True,
        )
    )
    if done.cancelled:
        screen.notify(_("Cancelled: the file was not opened."), severity="warning", markup=False)
        return
    if done.error is not None:
        app.push_screen(ErrorModal(done.error))
        return
    if done.value is None or not screen.unlocked:
        return
    opened, _saved = done.value
    known = [p for p in session.list_partners() if p.fingerprint == opened.sender_fingerprint]
    if opened.sender_fingerprint == session.identity.fingerprint:
        sender: str | None = _("you")
    else:
        sender = known[0].name if known else None
    app.push_screen(OpenedReportScreen(path, render_opened(opened, sender, path)))


class OpenedReportScreen(AppScreen[None]):
    """A sealed report file, verified and opened; kept only in memory while shown."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("a", "save_attachments", N_("Save files")),
    ]
    HELP_TEXT = N_(
        "A sealed report file, verified: who signed it (with the fingerprint), when it was "
        "sealed, and its content. It is not stored in the vault; it is gone when you leave "
        "this screen. Press a to save its attachments out of the vault (those copies are NOT "
        "encrypted)."
    )

    def __init__(self, path: Path, body: RenderableType) -> None:
        super().__init__()
        self.path = path
        self._body = body

    def compose(self) -> ComposeResult:
        yield TitleBar(_("Sealed report file"))
        with VerticalScroll(id="opened-report", classes="page"):
            yield Static(self._body, id="opened-body")
        yield app_footer()

    def on_mount(self) -> None:
        self.query_one("#opened-report").focus()

    def action_save_attachments(self) -> None:
        self.run_worker(self._save(), exclusive=True, group="open-sealed")

    async def _save(self) -> None:
        app = self.app
        folder = await app.push_screen_wait(
            PathPicker(
                _("Save the attachments"),
                choose="folder",
                note=Text(
                    _(
                        "The copies are NOT encrypted: anyone with access to that folder or "
                        "disk can open them. The file is verified again before they are "
                        "written."
                    ),
                    style="bold yellow",
                ),
                confirm=_("Save here"),
            )
        )
        if folder is None or not self.unlocked:
            return
        session, path = self.session, self.path
        done: Outcome[Any] = await app.push_screen_wait(
            ProgressModal(
                _("Saving the attachments…"),
                lambda progress: session.open_sealed_file(path, folder, progress=progress),
                cancellable=True,
            )
        )
        if done.cancelled:
            self.notify(
                _("Cancelled: no file was saved (those already written were removed)."),
                severity="warning",
                markup=False,
            )
        elif done.error is not None:
            app.push_screen(ErrorModal(done.error))
        elif done.value is not None:
            saved = done.value[1]
            self.notify(
                ngettext(
                    "Saved {n} file to {path}. These copies are NOT encrypted.",
                    "Saved {n} files to {path}. These copies are NOT encrypted.",
                    len(saved),
                ).format(n=len(saved), path=folder),
                severity="warning",
                markup=False,
                timeout=10,
            )
