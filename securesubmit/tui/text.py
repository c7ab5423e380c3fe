"""What the app shows for the core's own words: categories, countries, templates, errors.

The core speaks English. Its fixed texts are listed here with ``N_`` so that the catalogue
extractor sees them and translators translate them; ``_`` then finds them at run time by
their English text. tests/tui/test_i18n.py checks that this list and the core agree, so a
change in the core that is not translated fails a test instead of showing English.

Core messages that carry values (a date the user typed, a count) cannot be looked up this
way and are shown as the core wrote them.
"""

from __future__ import annotations

from securesubmit.core.models import CATEGORIES, COUNTRIES, TEMPLATES
from securesubmit.errors import SecureSubmitError
from securesubmit.tui.i18n import N_, _

CORE_TEXTS = (
    # categories (models.CATEGORIES)
    N_("Media restriction"),
    N_("Repression of critics or civil society"),
    N_("Environmental information denied"),
    N_("Other"),
    # countries (models.COUNTRIES)
    N_("Kazakhstan"),
    N_("Kyrgyzstan"),
    N_("Tajikistan"),
    N_("Turkmenistan"),
    N_("Uzbekistan"),
    N_("Other / outside Central Asia"),
    # templates (models.TEMPLATES): titles, descriptions, field labels and help
    N_("Press freedom incident"),
    N_("A blocked outlet, a detained journalist, pressure on a blogger."),
    N_("Media outlet or channel"),
    N_("name, website or account"),
    N_("Kind of restriction"),
    N_("blocking, detention, assault, accreditation refused, lawsuit, threat …"),
    N_("Who is responsible"),
    N_("authority, agency or person"),
    N_("What happened since"),
    N_("outlet closed, fine, release"),
    N_("Repression or persecution case"),
    N_("Arrests, bans on assembly or association, persecution of critics."),
    N_("What was done"),
    N_("arrest, search, ban, charge …"),
    N_("Charges or legal basis used"),
    N_("article of the code"),
    N_("Authority acting"),
    N_("police, prosecutor, court …"),
    N_("Case number"),
    N_("if known"),
    N_("Status of the case"),
    N_("investigation, trial …"),
    N_("Environmental information request denied"),
    N_("Water, glaciers, uranium tailings, industrial pollution: access denied."),
    N_("What was requested"),
    N_("From whom"),
    N_("agency or company"),
    N_("When it was requested"),
    N_("YYYY-MM-DD"),
    N_("Legal basis"),
    N_("e.g. Aarhus Convention, art. 4"),
    N_("Answer received"),
    N_("refusal, silence, partial answer"),
    N_("When the answer came"),
    # errors with fixed texts (securesubmit.errors, core.vault, core.service, core.models)
    N_("The vault is in use by another SecureSubmit process."),
    N_("close the other window or command that has this vault open, then try again"),
    N_("This vault's keys were destroyed; its contents can never be read again."),
    N_("the keys were wiped by 'panic' or after too many wrong passphrases"),
    N_("too many wrong passphrases: this vault's keys were destroyed as configured"),
    N_("The vault file is damaged or is not a SecureSubmit vault."),
    N_("restore the vault from a backup; run 'securesubmit audit verify' to see what changed"),
    N_("the vault's key slot is damaged"),
    N_("This vault was written by a newer version of SecureSubmit."),
    N_("install the newest version of SecureSubmit to open it"),
    N_("No vault exists at this location."),
    N_("create one with 'securesubmit init', or point --vault at an existing vault"),
    N_("A vault already exists at this location."),
    N_("choose another path with --vault, or use the existing vault"),
    N_("the passphrase is too short (at least 8 characters)"),
    N_(
        "use several unrelated words; a long passphrase is easier to remember than a "
        "complex short one"
    ),
    N_("the name or organisation is too long"),
    N_("title is required"),
    N_("give a title"),
    N_("place contains control characters"),
    N_("title contains control characters"),
    N_("description contains control characters"),
    N_("person name is required"),
    N_("give a person name"),
    N_("a report needs a category"),
    N_("choose one of: media, repression, environment, other"),
)

# Short forms for narrow table columns.
CATEGORY_SHORT = {
    "media": N_("Media"),
    "repression": N_("Repression"),
    "environment": N_("Environment"),
    "other": N_("Other"),
}

STATUS = {
    "draft": N_("draft"),
    "sealed": N_("sealed"),
    "exported": N_("exported"),
}

REPORT_LANGUAGES = {
    "en": N_("English"),
    "ru": N_("Russian"),
    "kk": N_("Kazakh"),
    "ky": N_("Kyrgyz"),
    "tg": N_("Tajik"),
    "tk": N_("Turkmen"),
    "uz": N_("Uzbek"),
    "other": N_("Other language"),
}


def category_label(category: str) -> str:
    return _(CATEGORIES[category]) if category in CATEGORIES else category


def category_short(category: str) -> str:
    return _(CATEGORY_SHORT[category]) if category in CATEGORY_SHORT else category


def country_label(country: str) -> str:
    return _(COUNTRIES[country]) if country in COUNTRIES else country


def status_label(status: str) -> str:
    return _(STATUS[status]) if status in STATUS else status


def report_language_label(code: str) -> str:
    return _(REPORT_LANGUAGES[code]) if code in REPORT_LANGUAGES else code


def template_title(template_id: str) -> str:
    template = TEMPLATES.get(template_id)
    return _(template.title) if template else ""


def error_text(error: SecureSubmitError) -> tuple[str, str]:
    """The error's message and hint in the app's language (hint may be empty)."""
    message = _(str(error))
    hint = _(error.hint) if error.hint else ""
    return message[:1].upper() + message[1:], hint
