"""The app's translations: every user-visible string goes through ``_`` or ``ngettext``.

Catalogues live in ``locale/<lang>/LC_MESSAGES/securesubmit.po`` and are compiled to the
``.mo`` beside them by ``python -m securesubmit.tui.locale_tool compile`` (our own small
compiler, so no system ``msgfmt`` is needed). The language is chosen when the app starts:
``--lang``, else the usual LANGUAGE / LC_ALL / LC_MESSAGES / LANG environment, else English;
Settings can switch it until the app is closed (nothing is written to disk). It is kept here
so that ``_`` needs no argument.

Strings defined before a language is chosen (key bindings, help texts) are marked with
``N_`` and translated where they are shown.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

from securesubmit.errors import UsageError

DOMAIN = "securesubmit"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES: dict[str, str] = {"en": "English", "ru": "Русский", "kk": "Қазақша"}
"""The languages the app speaks: code -> the language's own name. English and Russian
are complete; Kazakh is partial (locale_tool.PARTIAL): what it does not translate yet is
shown in English."""

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def normalise(language: str) -> str | None:
    """``ru``, ``ru_RU.UTF-8``, ``ru-RU`` -> ``ru``; None if the app does not speak it."""
    code = language.strip().split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    return code if code in LANGUAGES else None


def _from_environment() -> str:
    # GNU gettext's order: the first of these variables that is set decides.
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            for part in value.split(":"):
                code = normalise(part)
                if code:
                    return code
            return "en"
    return "en"


def set_language(language: str | None) -> str:
    """Choose the app's language; returns its code. Unknown languages are a usage error."""
    global _translation, _language
    if language:
        code = normalise(language)
        if code is None:
            raise UsageError(
                f"the app has no {language!r} translation",
                hint="use --lang " + " or --lang ".join(LANGUAGES),
            )
    else:
        code = _from_environment()
    _translation = gettext.translation(DOMAIN, LOCALE_DIR, languages=[code], fallback=True)
    _language = code
    return code


def current_language() -> str:
    return _language


def _(message: str) -> str:
    """The translation of ``message`` in the current language."""
    # gettext("") would return the catalogue's header.
    return _translation.gettext(message) if message else message


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it yet (``_`` does, later)."""
    return message
