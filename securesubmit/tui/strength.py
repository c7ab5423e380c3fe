"""A rough passphrase-strength estimate of our own, deliberately simple.

It looks at the length, the number of words, the kinds of characters, a short list of very
common passwords, and repeated characters or keyboard runs. It cannot know whether a phrase
can be guessed from its owner's life, and the app says so next to the meter: it is feedback,
not a guarantee. (zxcvbn was considered; its word lists are English only and its Python port
sees little maintenance, so it would add a dependency without helping Russian speakers.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from securesubmit.tui.i18n import N_

MIN_LENGTH = 8
"""Mirrors the core's minimum (service.check_new_passphrase enforces it)."""

LABELS = (N_("too short"), N_("weak"), N_("fair"), N_("good"), N_("strong"))

# Very common passwords and words, in the scripts our users type. Any of these inside a
# passphrase counts for little.
COMMON = frozenset(
    """
    password passw0rd pass qwerty qwertz azerty asdf zxcv 1234 12345 123456 1234567
    12345678 123456789 1234567890 111111 000000 abc123 iloveyou admin welcome letmein
    monkey dragon master login princess sunshine football secret freedom
    пароль йцукен фыва ячсм привет любовь секрет свобода админ
    parol privet lyubov sekret svoboda qazaqstan kazakhstan almaty astana bishkek
    tashkent dushanbe ashgabat kyrgyzstan uzbekistan tajikistan turkmenistan
    """.split()  # noqa: SIM905 - a word list reads better as text
)

_RUNS = (
    "0123456789",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "йцукенгшщзхъ",
    "фывапролджэ",
    "ячсмитьбю",
)


@dataclass(frozen=True)
class Strength:
    score: int
    """0 (too short) to 4 (strong)."""
    label: str
    """Untranslated; show it with ``_``."""
    advice: str
    """Untranslated; show it with ``_``."""


def _has_run(text: str, length: int = 4) -> bool:
    lowered = text.lower()
    for run in _RUNS:
        for start in range(len(run) - length + 1):
            piece = run[start : start + length]
            if piece in lowered or piece[::-1] in lowered:
                return True
    return False


def _classes(text: str) -> int:
    return sum(
        (
            any(c.islower() for c in text),
            any(c.isupper() for c in text),
            any(c.isdigit() for c in text),
            any(not c.isalnum() and not c.isspace() for c in text),
        )
    )


def estimate(passphrase: str) -> Strength:
    length = len(passphrase)
    if length < MIN_LENGTH:
        return Strength(
            0,
            LABELS[0],
            N_("Use at least 8 characters; several unrelated words are best."),
        )
    words = [w for w in re.split(r"[\s\-_.,;:+/]+", passphrase) if len(w) >= 3]
    score = 1 if length < 12 else 2 if length < 16 else 3 if length < 24 else 4
    if len(words) >= 4 and length >= 16:
        score = max(score, 3)
    if _classes(passphrase) >= 3 and length >= 10:
        score = min(4, score + 1)
    lowered = passphrase.lower()
    common = [w for w in COMMON if w in lowered]
    rest = lowered
    for word in common:
        rest = rest.replace(word, "")
    weak_parts = bool(common and len(rest.strip()) < 10)
    repeated = re.search(r"(.)\1\1\1", passphrase) is not None
    if weak_parts or _has_run(passphrase) or repeated:
        score = max(1, score - 2)
        advice = N_("Avoid common passwords, repeated characters and keyboard runs.")
    elif passphrase.isdigit():
        score = 1
        advice = N_("Digits alone are easy to guess; use words.")
    elif score <= 1:
        advice = N_("Add words: four or more unrelated words are easy to remember.")
    elif score == 2:
        advice = N_("Fair. One or two more words would make it much harder to guess.")
    elif score == 3:
        advice = N_("Good. Longer is still better.")
    else:
        advice = N_("Strong, as far as this simple check can tell.")
    return Strength(score, LABELS[score], advice)
