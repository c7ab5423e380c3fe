from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
