"""Choosing a file or a folder: a directory tree from the home folder, or a typed path."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DirectoryTree, Input, Static

from securesubmit.tui.i18n import N_, _
from securesubmit.tui.screens.base import AppModal

Choose = Literal["file", "folder", "save"]


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")


class FileTree(DirectoryTree):
    """Folders and files, without hidden ones (a typed path still reaches them)."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [path for path in paths if _visible(path)]


class FolderTree(DirectoryTree):
    """Folders only."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [path for path in paths if _visible(path) and self._safe_is_dir(path)]


def start_folder(start: Path | None = None) -> Path:
    """Where a tree begins: the given folder, else the home folder, else the root."""
    for candidate in (start, Path.home()):
        if candidate is not None and candidate.is_dir():
            return candidate
    return Path("/")


class PathPicker(AppModal[Path | None]):
    """Choose a file to read, a folder, or a new file to write (``choose``).

    Dismissed with the chosen path, checked to exist (a file to write: its folder), or None.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", N_("Cancel"))]
    HELP_TEXT = N_(
        "Move in the tree with the arrow keys; Enter opens a folder or chooses a file. Or type "
        "a path in the field and press Enter; ~ is your home folder, and a path without a "
        "leading / starts at the top of the tree."
    )

    def __init__(
        self,
        title: str,
        *,
        choose: Choose = "file",
        note: Text | str = "",
        default_name: str = "",
        start: Path | None = None,
        confirm: str = "",
    ) -> None:
        super().__init__()
        self._title = title
        self._choose = choose
        self._note = note
        self._default_name = default_name
        self.root = start_folder(start)
        self._confirm = confirm

    def compose(self) -> ComposeResult:
        if self._choose == "file":
            tree: DirectoryTree = FileTree(self.root, id="picker-tree")
            label, initial = _("Or type the path of the file"), ""
            confirm = self._confirm or _("Choose")
        elif self._choose == "folder":
            tree = FolderTree(self.root, id="picker-tree")
            label, initial = _("Folder"), str(self.root)
            confirm = self._confirm or _("Choose this folder")
        else:
            tree = FolderTree(self.root, id="picker-tree")
            label, initial = _("Save as"), str(self.root / self._default_name)
            confirm = self._confirm or _("Save")
        with Vertical(classes="dialog picker"):
            yield Static(Text(self._title, style="bold"), classes="dialog-title")
            if self._note:
                yield Static(self._note, classes="dialog-body picker-note")
            yield tree
            yield Static(label, classes="field-label")
            yield Input(initial, id="picker-path")
            yield Static("", id="picker-error", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(confirm, variant="primary", id="picker-ok", compact=True)
                yield Button(_("Cancel"), id="picker-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#picker-error").display = False
        self.query_one("#picker-tree").focus()

    def _error(self, message: str) -> None:
        error = self.query_one("#picker-error", Static)
        error.update(Text(message))
        error.display = bool(message)

    def typed_path(self) -> Path | None:
        raw = self.query_one("#picker-path", Input).value.strip()
        if not raw:
            return None
        path = Path(raw).expanduser()
        return path if path.is_absolute() else self.root / path

    @on(DirectoryTree.FileSelected)
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        if self._choose == "file":
            self.query_one("#picker-path", Input).value = str(event.path)
            self.choose()

    @on(DirectoryTree.DirectorySelected)
    def _folder_selected(self, event: DirectoryTree.DirectorySelected) -> None:
        event.stop()
        field = self.query_one("#picker-path", Input)
        if self._choose == "folder":
            field.value = str(event.path)
        elif self._choose == "save":
            current = self.typed_path()
            name = current.name if current is not None and current.name else self._default_name
            field.value = str(event.path / name)

    @on(Input.Submitted, "#picker-path")
    @on(Button.Pressed, "#picker-ok")
    def choose(self) -> None:
        path = self.typed_path()
        if path is None:
            self._error(_("Type a path, or choose one in the tree."))
            self.query_one("#picker-path", Input).focus()
            return
        if self._choose == "file" and not path.is_file():
            self._error(_("There is no file at {path}.").format(path=path))
        elif self._choose == "folder" and not path.is_dir():
            self._error(_("There is no folder at {path}.").format(path=path))
        elif self._choose == "save" and path.is_dir():
            self._error(_("{path} is a folder; add a file name.").format(path=path))
        elif self._choose == "save" and not path.parent.is_dir():
            self._error(_("There is no folder at {path}.").format(path=path.parent))
        else:
            self.dismiss(path)
            return
        self.query_one("#picker-path", Input).focus()

    @on(Button.Pressed, "#picker-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
