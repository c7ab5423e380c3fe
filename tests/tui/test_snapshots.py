"""Snapshot tests: the main screens, drawn at 100×30, compared with the SVGs stored in
__snapshots__/. After a deliberate change of a screen, look at the new picture and accept it:

    pytest tests/tui/test_snapshots.py --snapshot-update

Everything on screen is fixed, so they pass on any machine at any time: the vaults are made
with a fixed clock and fixed "random" bytes (so ids and fingerprints are always the same),
the app's session gets the same fixed clock, paths are relative to a temporary working
directory (nothing of HOME shows), and blinking cursors are stopped before the picture.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from securesubmit.core import crypto, service
from securesubmit.core.partners import VERIFIED_CONFIRMED
from securesubmit.tui import i18n
from securesubmit.tui.app import SecureSubmitApp
from tests.helpers import FixedClock, deterministic_rng
from tests.tui.helpers import PASSPHRASE, make_app, settle, unlock

SNAP_SIZE = (100, 30)
MADE = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # what the app's session sees as now

SEALED = [
    ("Editor detained in Almaty", "repression", {"action": "arrest"}, "KZ", "2026-03-05"),
    ("Outlet blocked in Bishkek", "press-freedom", {"restriction": "blocking"}, "KG", "2026-04"),
    (
        "River data refused",
        "environment-info",
        {"requested": "river pollution data", "requested_from": "Ministry of Energy"},
        "TJ",
        "2026-04-20",
    ),
]
DRAFTS = [
    ("Journalist fined in Dushanbe", "repression", "TJ", "2026-10-01", "Dushanbe"),
    ("Blogger summoned by police", "repression", "UZ", "2026-10", "Tashkent"),
]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """reporter.db (two drafts, three reports sealed and sent to the coordinator) and
    coordinator.db (those three in its inbox), in the working directory."""
    monkeypatch.chdir(tmp_path)
    stream = deterministic_rng(b"snapshot nonces")
    # Every random byte the vaults draw (nonces, salts, ids) comes from fixed streams.
    monkeypatch.setattr(crypto, "random_bytes", lambda n, rng=None: (rng or stream)(n))
    monkeypatch.setattr(
        service, "unlock_vault", functools.partial(service.unlock_vault, clock=lambda: NOW)
    )
    clock = FixedClock(MADE)
    with (
        service.create_vault(
            Path("coordinator.db"),
            PASSPHRASE,
            name="Free Media Desk",
            organisation="Free Media",
            role="coordinator",
            kdf=crypto.TEST_KDF,
            clock=clock,
            rng=deterministic_rng(b"coordinator"),
        ) as desk,
        service.create_vault(
            Path("reporter.db"),
            PASSPHRASE,
            name="Aigerim",
            organisation="Steppe Voice",
            kdf=crypto.TEST_KDF,
            clock=clock,
            rng=deterministic_rng(b"reporter"),
        ) as mine,
    ):
        mine.add_partner(desk.own_card(), verified=VERIFIED_CONFIRMED)
        desk.add_partner(mine.own_card(), verified=VERIFIED_CONFIRMED)
        for title, template, fields, country, date in SEALED:
            report = mine.create_report(
                title=title,
                template=template,
                fields=fields,
                country=country,
                incident_date=date,
                description="What happened, in the reporter's words.",
            )
            mine.seal_report(report.id, ["Free Media Desk"])
            clock.advance(3600)
        mine.export_bundle("Free Media Desk", Path("bundle.ssb"))
        desk.import_bundle(Path("bundle.ssb"))
        for title, template, country, date, place in DRAFTS:
            mine.create_report(
                title=title, template=template, country=country, incident_date=date, place=place
            )
            clock.advance(60)
    yield tmp_path
    i18n.set_language("en")


def _quiet(app: SecureSubmitApp) -> None:
    """Stop what changes by itself: blinking cursors and passing notifications."""
    for field in app.screen.query(Input):
        field.cursor_blink = False
    for area in app.screen.query(TextArea):
        area.cursor_blink = False
    app.clear_notifications()


def steps(*keys: str, unlocked: bool = True) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Unlock (unless told not to), press ``keys`` one by one, waiting for each to settle."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        if unlocked:
            await unlock(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        _quiet(pilot.app)  # type: ignore[arg-type]
        await pilot.pause()

    return run_before


def _compare(snap_compare: Any, vault: str, run_before: Any, language: str = "en") -> bool:
    app = make_app(Path(vault), language, crash_dir=Path("crash"))
    return bool(snap_compare(app, terminal_size=SNAP_SIZE, run_before=run_before))


def test_unlock_screen(snap_compare: Any, world: Path) -> None:
    assert _compare(snap_compare, "reporter.db", steps(unlocked=False))


def test_first_run_screen(snap_compare: Any, world: Path) -> None:
    assert _compare(snap_compare, "new-vault.db", steps(unlocked=False))


def test_report_list(snap_compare: Any, world: Path) -> None:
    assert _compare(snap_compare, "reporter.db", steps())


def test_report_list_in_kazakh(snap_compare: Any, world: Path) -> None:
    assert _compare(snap_compare, "reporter.db", steps(), "kk")


def test_report_editor(snap_compare: Any, world: Path) -> None:
    assert _compare(snap_compare, "reporter.db", steps("e"))


def test_seal_dialog(snap_compare: Any, world: Path) -> None:
    assert _compare(snap_compare, "reporter.db", steps("down", "S"))


def test_partners(snap_compare: Any, world: Path) -> None:
    assert _compare(snap_compare, "reporter.db", steps("s", "p"))


def test_inbox(snap_compare: Any, world: Path) -> None:
    assert _compare(snap_compare, "coordinator.db", steps())


def test_inbox_in_russian(snap_compare: Any, world: Path) -> None:
    assert _compare(snap_compare, "coordinator.db", steps(), "ru")


def test_statistics(snap_compare: Any, world: Path) -> None:
    assert _compare(snap_compare, "coordinator.db", steps("t"))


def test_auditor_verifies_a_vault_without_unlocking_it(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its own vault: cards carry ML-DSA signatures, which are randomised by design, so a
    # vault holding one has a different tree head each time it is made.
    monkeypatch.chdir(tmp_path)
    stream = deterministic_rng(b"audited nonces")
    monkeypatch.setattr(crypto, "random_bytes", lambda n, rng=None: (rng or stream)(n))
    clock = FixedClock(MADE)
    with service.create_vault(
        Path("audited.db"),
        PASSPHRASE,
        name="Aigerim",
        kdf=crypto.TEST_KDF,
        clock=clock,
        rng=deterministic_rng(b"audited"),
    ) as session:
        for title, template, country, date, place in DRAFTS:
            session.create_report(
                title=title, template=template, country=country, incident_date=date, place=place
            )
            clock.advance(60)
    assert _compare(snap_compare, "audited.db", steps("f2", "v", unlocked=False))
