"""What every screen shares: translated key bindings, a help text, access to the app."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar, TypeVar, cast

from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen

from securesubmit.tui.i18n import _

if TYPE_CHECKING:
    from securesubmit.core.service import Session
    from securesubmit.tui.app import SecureSubmitApp

ResultT = TypeVar("ResultT")


def translate_bindings(node: DOMNode) -> None:
    """Bindings are declared with untranslated descriptions (``N_``); show them translated.

    Each node holds its own copy of its class's bindings, so this changes only ``node``.
    """
    mapping = node._bindings.key_to_bindings
    for key, bindings in mapping.items():
        mapping[key] = [
            replace(b, description=_(b.description), tooltip=_(b.tooltip)) for b in bindings
        ]


class AppScreen(Screen[ResultT]):
    """A full screen of the app."""

    HELP_TEXT: ClassVar[str] = ""
    """Untranslated (``N_``) text for the help screen."""

    def __init__(self) -> None:
        super().__init__()
        translate_bindings(self)

    @property
    def secure_app(self) -> SecureSubmitApp:
        return cast("SecureSubmitApp", self.app)

    @property
    def session(self) -> Session:
        return self.secure_app.require_session()

    @property
    def unlocked(self) -> bool:
        return self.secure_app.session is not None


class AppModal(ModalScreen[ResultT]):
    """A dialog over the current screen."""

    HELP_TEXT: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        translate_bindings(self)

    @property
    def secure_app(self) -> SecureSubmitApp:
        return cast("SecureSubmitApp", self.app)
