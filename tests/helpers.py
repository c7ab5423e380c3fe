"""Shared test helpers: a cheap KDF, a fixed clock, a deterministic RNG, the real CLI."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from securesubmit.core import crypto

FAST_KDF = crypto.TEST_KDF
PASSPHRASE = "correct horse battery staple"


class FixedClock:
    """A clock that starts at a fixed instant and moves only when told to."""

    def __init__(self, start: datetime = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def deterministic_rng(seed: bytes) -> Callable[[int], bytes]:
    """SHA-256 in counter mode: reproducible 'randomness' for test vectors only."""
    counter = 0

    def rng(n: int) -> bytes:
        nonlocal counter
        out = b""
        while len(out) < n:
            out += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
            counter += 1
        return out[:n]

    return rng


def cli_env(tmp_path: Path, passphrase: str = PASSPHRASE) -> dict[str, str]:
    """Environment for running the real CLI against a vault in ``tmp_path``."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    pw = tmp_path / "passphrase.txt"
    pw.write_text(passphrase + "\n")
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECURESUBMIT_")}
    env.update(
        SECURESUBMIT_VAULT=str(tmp_path / "vault" / "vault.db"),
        SECURESUBMIT_PASSPHRASE_FILE=str(pw),
        SECURESUBMIT_ALLOW_WEAK_KDF="1",
        TMPDIR=str(tmp),
        HOME=str(tmp_path / "home"),
        LC_ALL="C.UTF-8",
    )
    return env


def run_cli(
    *args: str, env: dict[str, str], input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m securesubmit`` exactly as a user would, without a terminal."""
    return subprocess.run(
        [sys.executable, "-m", "securesubmit", *args],
        env=env,
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


WEAK_INIT = ("init", "--kdf-memory-mib", "1", "--kdf-iterations", "1")
