from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from securesubmit.core.partners import VERIFIED_CONFIRMED
from securesubmit.core.service import Session, create_vault
from tests.helpers import FAST_KDF, PASSPHRASE, FixedClock


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def vault_path(tmp_path: Path) -> Path:
    return tmp_path / "vaults" / "vault.db"


@pytest.fixture
def session(vault_path: Path, clock: FixedClock) -> Iterator[Session]:
    s = create_vault(vault_path, PASSPHRASE, name="Test Reporter", kdf=FAST_KDF, clock=clock)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def pair(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[Session, Session]]:
    """A reporter and a coordinator vault that hold each other's card as a partner."""
    reporter = create_vault(
        tmp_path / "r.db", PASSPHRASE, name="Aigerim", kdf=FAST_KDF, clock=clock
    )
    coord = create_vault(
        tmp_path / "c.db",
        PASSPHRASE,
        name="Free Press Org",
        role="coordinator",
        kdf=FAST_KDF,
        clock=clock,
    )
    reporter.add_partner(coord.own_card(), verified=VERIFIED_CONFIRMED)
    coord.add_partner(reporter.own_card(), verified=VERIFIED_CONFIRMED)
    yield reporter, coord
    reporter.close()
    coord.close()
