"""Partners through the app: a card is added only after its fingerprint is checked, the
shipped trust store, rotations, removal."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, OptionList

from securesubmit.core import service
from securesubmit.core.partners import VERIFIED_TRUST_STORE, VERIFIED_TYPED
from securesubmit.tui.screens.dialogs import ConfirmModal, ErrorModal
from securesubmit.tui.screens.files import PathPicker
from securesubmit.tui.screens.partners import (
    AddPartnerScreen,
    PartnerScreen,
    PartnersScreen,
    TrustStoreScreen,
    read_card,
)
from tests.tui.helpers import (
    PASSPHRASE,
    SIZE,
    choose_path,
    click,
    make_app,
    make_coordinator,
    make_vault,
    run,
    screen_text,
    settle,
    type_text,
    unlock,
)


def _partners(vault: Path) -> list[service.Partner]:
    with service.unlock_vault(vault, PASSPHRASE) as session:
        return session.list_partners()


def _with_groups_changed(fingerprint: str, *numbers: int) -> str:
    groups = fingerprint.split()
    for number in numbers:
        group = groups[number - 1]
        groups[number - 1] = ("B" if group[0] != "B" else "C") + group[1:]
    return " ".join(groups)


def test_a_card_is_added_only_once_the_typed_fingerprint_matches(tmp_path: Path) -> None:
    vault = tmp_path / "vault.db"
    make_vault(vault)
    card = tmp_path / "desk.card"
    fingerprint = make_coordinator(tmp_path / "coordinator.db", card)
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("p")
            assert isinstance(app.screen, PartnersScreen)
            assert "No partners yet" in screen_text(app)
            await pilot.press("a")
            assert isinstance(app.screen, PathPicker)
            await choose_path(pilot, card)
            assert isinstance(app.screen, AddPartnerScreen)
            shown = screen_text(app)
            assert "Free Media Desk" in shown and "coordinator" in shown
            assert fingerprint.split()[0] in shown and fingerprint.split()[-1] in shown

            await type_text(pilot, _with_groups_changed(fingerprint, 3, 6).lower())
            await pilot.press("enter")
            error = app.screen.query_one("#field-typed").error
            assert "does not match this card (groups 3, 6 of 8 differ)" in error
            assert "call the partner on a number you already know" in error
            assert isinstance(app.screen, AddPartnerScreen)
            assert app.session is not None and app.session.list_partners() == []

            typed = app.screen.query_one("#typed", Input)
            typed.value = "3AYH 5HFZ"  # too short: explained, not a crash
            await pilot.press("enter")
            assert "has 8 letters and digits" in app.screen.query_one("#field-typed").error
            typed.value = fingerprint
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, PartnersScreen)
            table = app.screen.query_one(DataTable)
            assert table.row_count == 1
            row = screen_text(app)
            assert "Free Media Desk" in row and "active" in row and fingerprint in row

    run(scenario)
    (partner,) = _partners(vault)
    assert (partner.name, partner.verified) == ("Free Media Desk", VERIFIED_TYPED)


def test_the_shipped_example_card_is_imported_as_test_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECURESUBMIT_KEYS_DIR", raising=False)
    vault = tmp_path / "vault.db"
    make_vault(vault)
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("p", "t")
            assert isinstance(app.screen, TrustStoreScreen)
            shown = screen_text(app)
            assert "EXAMPLE Test Partner (NOT REAL)" in shown and "TEST ONLY" in shown
            assert "3AYH 5HFZ KS4Z 2MET CLHU JQI6 UGI3 RSXN" in shown
            assert app.focused is app.screen.query_one(OptionList)
            await pilot.press("down", "enter")
            assert isinstance(app.screen, AddPartnerScreen)
            assert "its secret key is public" in screen_text(app).lower()
            await click(pilot, "#add-trust-store")
            await pilot.pause()
            assert isinstance(app.screen, PartnersScreen)
            assert "TEST ONLY" in screen_text(app)

    run(scenario)
    (partner,) = _partners(vault)
    assert partner.test_only and partner.verified == VERIFIED_TRUST_STORE


def test_a_broken_trust_store_entry_is_shown_with_its_problem_and_cannot_be_added(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "keys"
    store.mkdir()
    fingerprint = make_coordinator(tmp_path / "coordinator.db", store / "desk.card")
    wrong = _with_groups_changed(fingerprint, 8)
    (store / "MANIFEST").write_text(f"# securesubmit trust store v1\n{wrong}  desk.card\n")
    monkeypatch.setenv("SECURESUBMIT_KEYS_DIR", str(store))
    vault = tmp_path / "vault.db"
    make_vault(vault)
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("p", "t")
            assert "differs from the manifest: do not use it" in screen_text(app)
            options = app.screen.query_one(OptionList)
            assert options.get_option_at_index(0).disabled

    run(scenario)


def test_a_rotation_statement_moves_the_partner_to_the_new_keys(tmp_path: Path) -> None:
    vault = tmp_path / "vault.db"
    make_vault(vault)
    coordinator = tmp_path / "coordinator.db"
    card = tmp_path / "desk.card"
    old = make_coordinator(coordinator, card)
    with service.unlock_vault(vault, PASSPHRASE) as session:
        session.add_partner(read_card(card), verified="confirmed")
    statement = tmp_path / "rotation.txt"
    with service.unlock_vault(coordinator, PASSPHRASE) as session:
        rotation = session.rotate_identity()
        statement.write_bytes(rotation.to_text())
    new = rotation.new.display()
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("p")
            assert old in screen_text(app)
            await pilot.press("u")
            await choose_path(pilot, statement)
            assert isinstance(app.screen, PartnersScreen)
            assert new in screen_text(app) and old not in screen_text(app)
            notes = [n.message for n in app._notifications]
            assert f"Free Media Desk: now active, keys {new}." in notes
            await pilot.press("u")
            await choose_path(pilot, statement)  # the same statement again: refused
            assert isinstance(app.screen, ErrorModal)
            assert "This statement was already applied; nothing was changed" in screen_text(app)
            await pilot.press("escape", "v")
            assert isinstance(app.screen, PartnerScreen)
            shown = screen_text(app)
            assert "1 rotation since the card you checked" in shown
            assert old in shown and new in shown and "current" in shown
            await pilot.press("d")
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("y")
            await settle(pilot)
            assert isinstance(app.screen, PartnersScreen)
            assert "No partners yet" in screen_text(app)

    run(scenario)
    assert _partners(vault) == []
