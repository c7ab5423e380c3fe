"""Your identity through the app: the fingerprint shown, renaming, exporting the card (never
over an existing file) and rotating the keys."""

from __future__ import annotations

from pathlib import Path

from securesubmit.core import identity, service
from securesubmit.tui.screens.dialogs import ConfirmModal, ErrorModal
from securesubmit.tui.screens.files import PathPicker
from securesubmit.tui.screens.identity import IdentityScreen
from tests.tui.helpers import (
    PASSPHRASE,
    SIZE,
    choose_path,
    click,
    make_app,
    make_vault,
    run,
    screen_text,
    unlock,
)


def test_my_card_is_exported_renamed_and_rotated_from_the_identity_screen(
    tmp_path: Path,
) -> None:
    vault = tmp_path / "vault.db"
    make_vault(vault)
    with service.unlock_vault(vault, PASSPHRASE) as session:
        before = identity.format_fingerprint(session.identity.fingerprint)
    card, statement = tmp_path / "me.card", tmp_path / "rotation.txt"
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("s", "i")
            assert isinstance(app.screen, IdentityScreen)
            shown = screen_text(app)
            for group in before.split():
                assert group in shown

            app.screen.query_one("#organisation").value = "Free Voices"
            await click(pilot, "#rename")
            notes = [n.message for n in app._notifications]
            assert "Your card will show: Aigerim." in notes
            assert "Free Voices" in screen_text(app)

            await click(pilot, "#export-card")
            assert isinstance(app.screen, PathPicker)
            await choose_path(pilot, card)
            assert isinstance(app.screen, IdentityScreen)
            await click(pilot, "#export-card")
            await choose_path(pilot, card)  # the same file again: refused, not overwritten
            assert isinstance(app.screen, ErrorModal)
            assert f"{card} already exists; refusing to overwrite it" in screen_text(app)
            await pilot.press("escape")

            await click(pilot, "#rotate")
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("y")
            await pilot.pause()
            await choose_path(pilot, statement)
            assert isinstance(app.screen, IdentityScreen)
            assert app.session is not None
            now = identity.format_fingerprint(app.session.identity.fingerprint)
            assert now != before and "Key rotations  1" in screen_text(app)
            assert all(group in screen_text(app) for group in now.split())

    run(scenario)
    exported = identity.parse_card(card.read_bytes())
    assert (exported.name, exported.organisation, str(exported.role)) == (
        "Aigerim",
        "Free Voices",
        "reporter",
    )
    assert identity.format_fingerprint(exported.fingerprint) == before
    rotation = identity.parse_statement(statement.read_bytes())
    assert isinstance(rotation, identity.RotationStatement)
    assert rotation.old.display() == before
    with service.unlock_vault(vault, PASSPHRASE) as session:
        assert identity.format_fingerprint(session.identity.fingerprint) == rotation.new.display()


def test_a_classical_identity_is_upgraded_and_a_hybrid_card_can_require_hybrid(
    tmp_path: Path,
) -> None:
    from securesubmit.core import crypto

    vault = tmp_path / "vault.db"
    service.create_vault(
        vault, PASSPHRASE, name="Aigerim", kdf=crypto.TEST_KDF, post_quantum=False
    ).close()
    card, statement = tmp_path / "me.card", tmp_path / "upgrade.txt"
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("s", "i")
            assert isinstance(app.screen, IdentityScreen)
            assert "classical only (Ed25519)" in screen_text(app)
            assert app.screen.query_one("#require-hybrid").disabled

            await click(pilot, "#upgrade")
            assert isinstance(app.screen, ConfirmModal)
            assert "Add post-quantum keys now?" in screen_text(app)
            await pilot.press("y")
            await pilot.pause()
            await choose_path(pilot, statement)
            assert isinstance(app.screen, IdentityScreen)
            assert app.session is not None and app.session.identity.is_hybrid
            shown = screen_text(app)
            assert "hybrid (ML-DSA-65 + Ed25519)" in shown
            assert app.screen.query_one("#upgrade").disabled

            await click(pilot, "#require-hybrid")
            assert app.screen.query_one("#require-hybrid").value
            await click(pilot, "#export-card")
            await choose_path(pilot, card)
            assert isinstance(app.screen, IdentityScreen)

    run(scenario)
    rotation = identity.parse_statement(statement.read_bytes())
    assert isinstance(rotation, identity.RotationStatement)
    assert not rotation.old.is_hybrid and rotation.new.is_hybrid
    exported = identity.parse_card(card.read_bytes())
    assert exported.keys.is_hybrid and exported.require_hybrid
