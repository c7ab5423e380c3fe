"""The passphrase-strength estimate: rough, but never praises the obvious."""

from __future__ import annotations

import pytest

from securesubmit.tui.strength import MIN_LENGTH, estimate


@pytest.mark.parametrize(
    ("passphrase", "low", "high"),
    [
        ("short", 0, 0),
        ("12345678901234", 1, 1),
        ("password12", 1, 1),
        ("пароль пароль", 1, 1),
        ("qwertyuiopasdf", 1, 1),
        ("aaaaaaaaaaaaaaaa", 1, 2),
        ("Tulip7harbor", 2, 3),
        ("correct horse battery staple", 3, 4),
        ("зелёный чайник летит над рекой", 3, 4),
    ],
)
def test_strength_scores(passphrase: str, low: int, high: int) -> None:
    assert low <= estimate(passphrase).score <= high


def test_the_minimum_matches_the_core() -> None:
    from securesubmit.core.service import MIN_PASSPHRASE

    assert MIN_LENGTH == MIN_PASSPHRASE
    assert estimate("x" * (MIN_LENGTH - 1)).label == "too short"
