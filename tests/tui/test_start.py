"""First run and unlock: creating a vault, wrong and right passphrases, unusable vaults."""

from __future__ import annotations

import stat
from pathlib import Path

from securesubmit.core import crypto, service
from securesubmit.errors import VaultInUse
from securesubmit.tui.screens.inbox import InboxScreen
from securesubmit.tui.screens.reports import ReportListScreen
from securesubmit.tui.screens.start import FirstRunScreen, UnlockScreen
from tests.tui.helpers import (
    PASSPHRASE,
    SIZE,
    click,
    make_app,
    make_vault,
    run,
    screen_text,
    settle,
    type_text,
    unlock,
)

NEW_PASSPHRASE = "tulip harbor 7"


def test_first_run_creates_a_vault_with_role_name_and_organisation(tmp_path: Path) -> None:
    vault = tmp_path / "new" / "vault.db"
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, FirstRunScreen)
            text = screen_text(app)
            assert "If you forget the passphrase, everything in the vault is lost" in text
            await type_text(pilot, NEW_PASSPHRASE)
            assert "Strength:" in screen_text(app)
            await pilot.press("enter")  # Enter moves on to the next field
            await type_text(pilot, NEW_PASSPHRASE)
            await pilot.press("enter")
            await click(pilot, "#coordinator")
            app.screen.query_one("#name").focus()
            await type_text(pilot, "Aigerim")
            await pilot.press("tab")
            await type_text(pilot, "Free Media")
            await pilot.press("enter")  # Enter in the last field creates the vault
            await settle(pilot)
            assert isinstance(app.screen, InboxScreen)
            assert app.session is not None
            info = app.session.info()
            assert (info.role, info.name, info.organisation) == (
                "coordinator",
                "Aigerim",
                "Free Media",
            )
            assert not any(i.value for i in app.screen.query("Input").results())

    run(scenario)
    assert vault.is_file()
    assert stat.S_IMODE(vault.parent.stat().st_mode) == 0o700
    with service.unlock_vault(vault, NEW_PASSPHRASE) as session:
        assert session.identity.role == "coordinator"


def test_first_run_refuses_differing_or_short_passphrases_next_to_the_field(
    tmp_path: Path,
) -> None:
    vault = tmp_path / "vault.db"
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await type_text(pilot, "short")
            await click(pilot, "#create")
            await pilot.pause()
            assert "too short" in app.screen.query_one("#field-passphrase").error
            app.screen.query_one("#passphrase").value = PASSPHRASE
            app.screen.query_one("#repeat").value = PASSPHRASE + "x"
            await click(pilot, "#create")
            await pilot.pause()
            assert "differ" in app.screen.query_one("#field-repeat").error
            assert isinstance(app.screen, FirstRunScreen)

    run(scenario)
    assert not vault.exists()


def test_unlock_shows_attempts_left_after_a_wrong_passphrase_then_opens(tmp_path: Path) -> None:
    vault = tmp_path / "vault.db"
    make_vault(vault, reports=1)
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, UnlockScreen)
            await unlock(pilot, "not the passphrase", typed=True)
            text = screen_text(app)
            assert "The passphrase is wrong." in text
            assert "After 9 more the vault destroys its keys." in text
            assert isinstance(app.screen, UnlockScreen) and app.session is None
            assert app.screen.query_one("#passphrase").value == ""  # not kept in the widget
            await unlock(pilot)
            assert isinstance(app.screen, ReportListScreen)
            assert "Report number 0" in screen_text(app)

    run(scenario)
    assert service.read_locked_info(vault).failed_unlocks == 0


def test_vault_in_use_is_explained_on_the_unlock_screen(tmp_path: Path) -> None:
    vault = tmp_path / "vault.db"
    make_vault(vault)
    holder = service.unlock_vault(vault, PASSPHRASE)
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert str(VaultInUse()) in screen_text(app)

    try:
        run(scenario)
    finally:
        holder.close()


def test_destroyed_and_corrupt_vaults_show_their_message_and_refuse_input(
    tmp_path: Path,
) -> None:
    destroyed = tmp_path / "destroyed.db"
    with service.create_vault(destroyed, PASSPHRASE, kdf=crypto.TEST_KDF, max_failed=1):
        pass
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"not a vault at all" * 100)

    async def scenario(vault: Path, expected: str, wrong_first: bool) -> None:
        app = make_app(vault)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            if wrong_first:  # one wrong passphrase destroys this vault's keys
                await unlock(pilot, "wrong passphrase")
            assert expected in screen_text(app)
            assert app.screen.query_one("#passphrase").disabled

    run(lambda: scenario(destroyed, "too many wrong passphrases", True))
    run(lambda: scenario(corrupt, "damaged or is not a SecureSubmit vault", False))


def test_first_run_offers_the_language_and_switching_redraws_the_screen(tmp_path: Path) -> None:
    vault = tmp_path / "new" / "vault.db"
    app = make_app(vault)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert "If you forget the passphrase" in screen_text(app)
            await click(pilot, "#first-lang-ru")
            await settle(pilot)
            assert isinstance(app.screen, FirstRunScreen)
            text = screen_text(app)
            assert "If you forget the passphrase" not in text
            assert "хранилищ" in text
            assert app.screen.query_one("#first-lang-ru").value
            assert not vault.exists()  # choosing a language writes nothing

    try:
        run(scenario)
    finally:
        from securesubmit.tui.i18n import set_language

        set_language("en")


def test_first_run_makes_hybrid_keys_unless_classical_is_ticked(tmp_path: Path) -> None:
    results = {}
    for classical in (False, True):
        vault = tmp_path / f"{classical}" / "vault.db"
        app = make_app(vault)

        async def scenario(app=app, classical=classical, vault=vault) -> None:  # type: ignore[no-untyped-def]
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                await type_text(pilot, NEW_PASSPHRASE)
                await pilot.press("enter")
                await type_text(pilot, NEW_PASSPHRASE)
                if classical:
                    await click(pilot, "#classical")
                await click(pilot, "#create")
                await settle(pilot)
                assert isinstance(app.screen, ReportListScreen)
                assert app.session is not None
                results[classical] = app.session.identity.is_hybrid

        run(scenario)
    assert results == {False: True, True: False}
