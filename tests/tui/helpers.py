"""Helpers for driving the app with Pilot: fast vaults, waiting, and reading every screen."""

from __future__ import annotations

import asyncio
import html
import io
import re
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input, OptionList, Static, TextArea

from securesubmit.core import crypto, service
from securesubmit.tui.app import SecureSubmitApp

PASSPHRASE = "correct horse battery staple"
SIZE = (80, 24)


class FakeClock:
    """Seconds that pass only when a test says so (for the idle lock)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_app(vault: Path, language: str = "en", **options: Any) -> SecureSubmitApp:
    options.setdefault("kdf", crypto.TEST_KDF)
    options.setdefault("lock_seconds", 300.0)
    options.setdefault("crash_dir", vault.parent / "crash")
    return SecureSubmitApp(vault, language, **options)


def make_vault(vault: Path, *, role: str = "reporter", reports: int = 0) -> list[str]:
    """A vault with the test passphrase; returns the ids of ``reports`` drafts it holds."""
    with service.create_vault(
        vault, PASSPHRASE, name="Aigerim", role=role, kdf=crypto.TEST_KDF
    ) as session:
        return [
            session.create_report(title=f"Report number {i}", template="repression").id
            for i in range(reports)
        ]


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until workers (key derivation in threads) are done and the screen is drawn."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*text)


async def unlock(pilot: Pilot[Any], passphrase: str = PASSPHRASE, *, typed: bool = False) -> None:
    """Enter the passphrase on the unlock screen (typed key by key only when asked: slow)."""
    if typed:
        await type_text(pilot, passphrase)
    else:
        field = pilot.app.screen.query_one("#passphrase", Input)
        assert field.has_focus
        field.value = passphrase
    await pilot.press("enter")
    await settle(pilot)


def _plain(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(renderable)
    out = console.file.getvalue()
    assert isinstance(out, str)
    return out


def widget_text(screens: Iterable[Screen[Any]]) -> str:
    """Every text the widgets of these screens hold, as plain text."""
    parts: list[str] = []
    for screen in screens:
        for widget in screen.walk_children(with_self=True):
            if isinstance(widget, Input):
                parts.append(widget.value)
            elif isinstance(widget, TextArea):
                parts.append(widget.text)
            elif isinstance(widget, DataTable):
                for row in range(widget.row_count):
                    parts.extend(_plain(cell) for cell in widget.get_row_at(row))
            elif isinstance(widget, Static):
                parts.append(_plain(widget.content))
            elif isinstance(widget, OptionList):
                parts.extend(_plain(option.prompt) for option in widget.options)
    return "\n".join(parts)


def screenshot_text(app: SecureSubmitApp) -> str:
    """The characters of the rendered screen (the SVG export, unescaped)."""
    svg = html.unescape(app.export_screenshot()).replace("\xa0", " ")
    return re.sub(r"<[^>]+>", "", svg)


def all_text(app: SecureSubmitApp) -> str:
    """Everything any widget on any screen holds, notifications and the rendered screen."""
    notes = [n.message for n in app._notifications]
    return "\n".join([widget_text(app.screen_stack), *notes, screenshot_text(app)])


def screen_text(app: SecureSubmitApp) -> str:
    """What the current screen holds, as plain text."""
    return widget_text([app.screen])


async def click(pilot: Pilot[Any], selector: str) -> None:
    """Click a widget as a user would, scrolling it into view first."""
    widget = pilot.app.screen.query_one(selector)
    widget.scroll_visible(animate=False, immediate=True)
    await pilot.pause(0.1)  # let the layout settle, then aim at the middle
    await pilot.click(widget, offset=(widget.size.width // 2, widget.size.height // 2))
    # A button ignores clicks for 0.2 s after a press (its "active" flash).
    await pilot.pause(0.25)


def make_coordinator(vault: Path, card: Path, name: str = "Free Media Desk") -> str:
    """A coordinator's vault and its card file, made an hour ago; returns the fingerprint."""
    from datetime import UTC, datetime, timedelta

    from securesubmit.core.identity import format_fingerprint

    def an_hour_ago() -> datetime:
        return datetime.now(UTC) - timedelta(hours=1)

    with service.create_vault(
        vault,
        PASSPHRASE,
        name=name,
        organisation="Free Media",
        role="coordinator",
        kdf=crypto.TEST_KDF,
        clock=an_hour_ago,
    ) as session:
        own = session.own_card()
    card.write_bytes(own.to_text())
    return format_fingerprint(own.fingerprint)


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 10) -> None:
    """Let the app run until ``condition`` holds (a flow's worker waits on its dialogs, so
    ``settle`` would wait for ever); fails the test after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the app did not get there in time"
        await pilot.pause(0.02)
    await pilot.pause()


def working(app: SecureSubmitApp) -> bool:
    from securesubmit.tui.screens.files import PathPicker
    from securesubmit.tui.screens.progress import ProgressModal

    return isinstance(app.screen, PathPicker | ProgressModal)


async def choose_path(pilot: Pilot[Any], path: Path) -> None:
    """Type a path into the open file picker and press Enter, as a user would; then wait
    until the work that follows (a progress dialog) is over."""
    field = pilot.app.screen.query_one("#picker-path", Input)
    field.value = str(path)
    field.focus()
    await pilot.press("enter")
    await wait_until(pilot, lambda: not working(pilot.app))
