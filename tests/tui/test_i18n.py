"""Languages: Russian on screen, complete catalogues, and the core's words translated;
Kazakh started: partial, with English for what it does not translate yet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from securesubmit.core import service
from securesubmit.core.models import CATEGORIES, COUNTRIES, TEMPLATES, Report, validate
from securesubmit.errors import (
    InputError,
    NewerSchema,
    SecureSubmitError,
    UsageError,
    VaultCorrupt,
    VaultDestroyed,
    VaultInUse,
    VaultNotFound,
)
from securesubmit.tui import i18n, locale_tool
from securesubmit.tui.app import run_app
from securesubmit.tui.text import CORE_TEXTS, error_text
from tests.tui.helpers import SIZE, make_app, make_vault, run, screen_text, unlock, wait_until

PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def test_russian_app_shows_russian_on_first_run_unlock_and_list(tmp_path: Path) -> None:
    first = make_app(tmp_path / "new.db", "ru")

    async def first_run() -> None:
        async with first.run_test(size=SIZE) as pilot:
            await pilot.pause()
            text = screen_text(first)
            assert "Создание хранилища" in text
            assert "всё содержимое хранилища будет потеряно" in text
            assert "forget" not in text

    run(first_run)

    vault = tmp_path / "vault.db"
    make_vault(vault, reports=1)
    app = make_app(vault, "ru")

    async def unlock_and_list() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot, "wrong passphrase")
            assert "Парольная фраза неверна." in screen_text(app)
            assert "Уже 1 неверная попытка подряд. Ещё 9" in screen_text(app)
            await unlock(pilot)
            text = screen_text(app)
            assert "Репрессии" in text and "черновик" in text and "1 отчёт." in text
            footer = {b.binding.description for b in app.screen.active_bindings.values()}
            assert {"Новый", "Правка", "Удалить", "Замок", "Паника"} <= footer
            await pilot.press("v")
            assert "Случай репрессий или преследования" in screen_text(app)

    run(unlock_and_list)


def test_untranslatable_date_message_has_a_russian_fallback(tmp_path: Path) -> None:
    vault = tmp_path / "vault.db"
    make_vault(vault)
    app = make_app(vault, "ru")

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("n", "enter")
            app.screen.query_one("#title").value = "Заголовок"
            app.screen.query_one("#incident_date").value = "2026-13"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen.query_one("#f-incident_date").error == (
                "Такой даты нет; используйте ГГГГ, ГГГГ-ММ или ГГГГ-ММ-ДД."
            )

    run(scenario)


@pytest.mark.parametrize("language", ["en", "ru", "kk"])
def test_shipped_mo_files_are_compiled_from_the_po_files(language: str) -> None:
    path = locale_tool.po_path(language)
    compiled = locale_tool.compile_mo(locale_tool.read_po(path))
    assert path.with_suffix(".mo").read_bytes() == compiled, "run: locale_tool compile"


def test_every_string_in_the_app_is_in_the_catalogues_and_translated_to_russian() -> None:
    messages = locale_tool.source_messages()
    assert "Create your vault" in messages and "Panic" in messages  # the extractor sees them
    for language in ("en", "ru", "kk"):
        catalog = locale_tool.read_po(locale_tool.po_path(language))
        assert set(messages) == set(catalog.entries), f"{language}: run locale_tool extract"
    russian = locale_tool.read_po(locale_tool.po_path("ru"))
    untranslated = [e.msgid for e in russian.entries.values() if not e.translated]
    assert untranslated == []
    assert locale_tool.problems() == []


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_translations_keep_every_placeholder(language: str) -> None:
    catalog = locale_tool.read_po(locale_tool.po_path(language))
    for entry in catalog.entries.values():
        expected = set(PLACEHOLDER.findall(entry.msgid))
        for form in entry.msgstr:
            if form or language != "kk":  # kk: an empty msgstr is untranslated, on purpose
                assert set(PLACEHOLDER.findall(form)) == expected, entry.msgid


def test_po_parser_and_mo_compiler_handle_plurals_and_escapes(tmp_path: Path) -> None:
    po = tmp_path / "x.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
        '#, fuzzy\nmsgid "skip"\nmsgstr "пропуск"\n\n'
        'msgid "a \\"quoted\\"\\n"\nmsgstr ""\n"в \\"кавычках\\"\\n"\n\n'
        'msgid "{n} file"\nmsgid_plural "{n} files"\nmsgstr[0] "{n} файл"\nmsgstr[1] "{n} файлы"\n',
        encoding="utf-8",
    )
    mo = tmp_path / "x.mo"
    mo.write_bytes(locale_tool.compile_mo(locale_tool.read_po(po)))
    import gettext

    with mo.open("rb") as handle:
        translation = gettext.GNUTranslations(handle)
    assert translation.gettext('a "quoted"\n') == 'в "кавычках"\n'
    assert translation.gettext("skip") == "skip"  # fuzzy entries are left out
    assert translation.ngettext("{n} file", "{n} files", 2) == "{n} файлы"


def test_core_labels_are_all_listed_for_translation() -> None:
    core = set(CATEGORIES.values()) | set(COUNTRIES.values())
    for template in TEMPLATES.values():
        core |= {template.title, template.description}
        for field in template.fields:
            core |= {field.label} | ({field.help} if field.help else set())
    assert core - set(CORE_TEXTS) == set()


def _raised(action: object) -> SecureSubmitError:
    try:
        action()  # type: ignore[operator]
    except SecureSubmitError as exc:
        return exc
    raise AssertionError("nothing was raised")


def test_fixed_core_messages_are_shown_in_russian() -> None:
    def invalid(**change: object) -> object:
        base = {"id": "", "title": "x", "category": "other", "created": "", "updated": ""}
        return lambda: validate(Report(**{**base, **change}))  # type: ignore[arg-type]

    errors = [
        VaultInUse(),
        VaultDestroyed(),
        VaultCorrupt(),
        NewerSchema(),
        VaultNotFound(),
        _raised(lambda: service.check_new_passphrase("short")),
        _raised(invalid(title="")),
        _raised(invalid(category="")),
    ]
    assert all(isinstance(e, InputError) for e in errors[5:])
    i18n.set_language("ru")
    try:
        for error in errors:
            message, hint = error_text(error)
            assert message.lower() != str(error).lower(), str(error)
            assert not error.hint or hint != error.hint, error.hint
            assert re.search("[а-я]", message)
    finally:
        i18n.set_language("en")


def test_language_comes_from_the_argument_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    try:
        assert i18n.set_language("ru_RU.UTF-8") == "ru"
        assert i18n._("Quit") == "Выход"
        monkeypatch.setenv("LANG", "ru_KZ.UTF-8")
        assert i18n.set_language(None) == "ru"
        monkeypatch.setenv("LANGUAGE", "uz:en")
        assert i18n.set_language(None) == "en"
        monkeypatch.setenv("LANGUAGE", "kk:ru")
        assert i18n.set_language(None) == "kk"
        monkeypatch.setenv("LANGUAGE", "")
        monkeypatch.setenv("LC_ALL", "C.UTF-8")
        assert i18n.set_language(None) == "en"
        assert i18n._("") == ""  # never the catalogue header
        with pytest.raises(UsageError):
            i18n.set_language("de")
    finally:
        i18n.set_language("en")


def test_run_app_refuses_an_unknown_language_with_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_app(tmp_path / "vault.db", "xx") == UsageError.exit_code
    err = capsys.readouterr().err
    assert "error: the app has no 'xx' translation" in err and "hint: use --lang en" in err


RUSSIAN_DATE = re.compile(
    r"\b\d{1,2} (января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября"
    r"|декабря) \d{4}, \d\d:\d\d UTC"
)


def test_language_chosen_in_settings_rebuilds_the_screens_and_dates_follow(
    tmp_path: Path,
) -> None:
    from securesubmit.tui.screens.reports import ReportListScreen, ReportViewScreen
    from securesubmit.tui.screens.settings import SettingsScreen

    vault = tmp_path / "vault.db"
    make_vault(vault, reports=1)
    app = make_app(vault, "en")

    def footer() -> set[str]:
        return {b.binding.description for b in app.screen.active_bindings.values()}

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await unlock(pilot)
            await pilot.press("v")
            assert not RUSSIAN_DATE.search(screen_text(app))
            await pilot.press("escape", "s")
            app.screen.query_one("#lang-ru").value = True
            await pilot.pause()
            assert isinstance(app.screen, SettingsScreen) and app.language == "ru"
            assert "Настройки" in screen_text(app) and "Settings" not in screen_text(app)
            assert {"Назад", "Помощь", "Замок"} <= footer()
            await pilot.press("escape")
            assert isinstance(app.screen, ReportListScreen)
            assert "черновик" in screen_text(app)
            await pilot.press("v")
            assert isinstance(app.screen, ReportViewScreen)
            assert RUSSIAN_DATE.search(screen_text(app))
            await pilot.press("escape", "s")
            app.screen.query_one("#lang-en").value = True
            await pilot.pause()
            assert "Settings" in screen_text(app) and {"Back", "Help", "Lock"} <= footer()

    try:
        run(scenario)
    finally:
        i18n.set_language("en")


def test_dates_sizes_and_numbers_follow_the_language() -> None:
    from datetime import UTC, datetime

    from securesubmit.tui.text import format_size, show_date, show_stamp, whole

    moment = datetime(2026, 5, 3, 9, 5, tzinfo=UTC)
    assert show_date(moment) == "3 May 2026"
    assert show_stamp("2026-11-23T10:00:00Z", short=True) == "23 Nov 2026 10:00"
    assert (format_size(100), format_size(1536), format_size(5 * 1024**3)) == (
        "100 bytes",
        "1.5 KiB",
        "5.0 GiB",
    )
    assert whole(1204) == "1,204"
    i18n.set_language("ru")
    try:
        assert show_date(moment) == "3 мая 2026"
        assert show_stamp("2026-11-23T10:00:00Z") == "23 ноября 2026, 10:00 UTC"
        assert show_stamp("2026-11-23T10:00:00Z", short=True) == "23 нояб. 2026 10:00"
        assert (format_size(1), format_size(1536)) == ("1 байт", "1,5 КиБ")
        assert whole(1204) == "1\xa0204"
        assert show_stamp("not a time") == "not a time"
    finally:
        i18n.set_language("en")


def _core_messages_with_values() -> list[str]:
    """Real messages of the core that carry values, made by the core itself."""
    from datetime import UTC, datetime

    from securesubmit.core import fs, identity

    card = identity.parse_card(
        (Path(__file__).resolve().parents[2] / "keys" / "example-partner.card").read_bytes()
    )
    shown = identity.format_fingerprint(card.fingerprint)
    groups = shown.split()
    one_wrong = " ".join(["AAAA" if i == 2 else g for i, g in enumerate(groups)])
    two_wrong = " ".join(["AAAA" if i in (0, 7) else g for i, g in enumerate(groups)])
    attempts = [
        lambda: identity.check_fingerprint(card.fingerprint, one_wrong),
        lambda: identity.check_fingerprint(card.fingerprint, two_wrong),
        lambda: identity.check_fingerprint(card.fingerprint, "ABCD EFGH"),
        lambda: identity.check_fingerprint(card.fingerprint, "АБВГ " + shown[5:]),
        lambda: identity.check_fingerprint(card.fingerprint, "!" + shown[1:]),
        lambda: identity.check_card_usable(card, datetime(2031, 1, 1, tzinfo=UTC)),
        lambda: fs.write_file_atomic(Path(__file__), b""),
    ]
    return [str(_raised(attempt)) for attempt in attempts]


def test_core_messages_with_values_are_translated_by_pattern(tmp_path: Path) -> None:
    from securesubmit.tui.text import CORE_PATTERNS, core_message

    messages = [
        *_core_messages_with_values(),
        "objects row 0123abcd… was deleted outside the log",
        "chunks row 0123abcd… was altered",
        "events 3–5 missing",
        "rolled back: a kept checkpoint covers 1,204 events, the vault has only 1,000",
        "GPS position 43.25 N 76.95 E",
        "camera: Canon EOS 80D serial 1234",
        "camera: Canon EOS 80D",
    ]
    matched = set()
    for message in messages:
        hits = [msgid for pattern, msgid in CORE_PATTERNS if pattern.fullmatch(message)]
        assert len(hits) == 1, message
        matched.add(hits[0])
        assert core_message(message) == message  # English gives the core's own words
    i18n.set_language("ru")
    try:
        for message in messages:
            assert re.search("[а-я]", core_message(message)), message
        assert "(группы 1, 8 из 8 не совпадают)" in core_message(messages[1])
    finally:
        i18n.set_language("en")


def test_what_the_scrubber_says_about_a_file_is_listed_for_translation() -> None:
    from securesubmit.core import scrub

    # The kinds of file and the warnings are fixed texts in the scrubber's tables.
    fixed = set(scrub._KIND.values()) | {scrub._W_REMAINING}
    for kind, warning in scrub._NOT_SCRUBBABLE.values():
        fixed |= {kind, warning}
    assert fixed - set(CORE_TEXTS) == set()


@pytest.mark.parametrize("language", ["en", "ru", "kk"])
def test_every_screen_footer_fits_80_columns(language: str, tmp_path: Path) -> None:
    """The footer shows a screen's keys then the app's; the last is F12 Panic, which must
    never be cut off. Keys only in the help (show=False) take no room."""
    import importlib
    import inspect

    from textual.binding import Binding

    from securesubmit.tui.app import SecureSubmitApp
    from securesubmit.tui.screens.base import AppScreen

    app = SecureSubmitApp(tmp_path / "vault.db", language)
    try:

        def shown(bindings: list[object]) -> list[str]:
            return [
                f"{app.get_key_display(b)} {i18n._(b.description)}"
                for b in bindings
                if isinstance(b, Binding) and b.show
            ]

        modules = ["attachments", "audit", "editor", "identity", "partners", "reports"]
        modules += ["settings", "start", "sealing", "inbox", "importing", "analysis", "opening"]
        screens = [
            cls
            for module in modules
            for cls in vars(importlib.import_module(f"securesubmit.tui.screens.{module}")).values()
            if inspect.isclass(cls) and issubclass(cls, AppScreen) and cls is not AppScreen
        ]
        assert len(screens) >= 20
        for screen in screens:
            footer = " " + " ".join(shown(screen.BINDINGS) + shown(SecureSubmitApp.BINDINGS))
            assert len(footer) <= 80, (screen.__name__, footer)
    finally:
        i18n.set_language("en")


# --- Kazakh: started, partial ------------------------------------------------------------


def test_the_kazakh_catalogue_is_partial_and_says_so() -> None:
    catalog = locale_tool.read_po(locale_tool.po_path("kk"))
    assert any("PARTIAL TRANSLATION" in line for line in catalog.header.comments)
    done, total = locale_tool.coverage("kk")
    assert 250 <= done < total  # started: menus, buttons, statuses, dates; not finished
    assert not any(e.fuzzy for e in catalog.entries.values())
    for msgid in ("Help", "Quit", "Settings", "Inbox", "Cancel", "{day} November {year}"):
        assert catalog.entries[msgid].translated, msgid


def _catalogues_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import shutil

    copy = tmp_path / "locale"
    shutil.copytree(locale_tool.LOCALE_DIR, copy)
    monkeypatch.setattr(locale_tool, "LOCALE_DIR", copy)
    return copy


def _blank(language: str, msgid: str, *, fuzzy: bool = False, value: str = "") -> None:
    path = locale_tool.po_path(language)
    catalog = locale_tool.read_po(path)
    entry = catalog.entries[msgid]
    entry.msgstr = [value] * len(entry.msgstr)
    entry.fuzzy = fuzzy
    locale_tool.write_po(catalog, path)
    path.with_suffix(".mo").write_bytes(locale_tool.compile_mo(catalog))


def test_check_accepts_an_untranslated_kazakh_string_but_not_a_russian_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _catalogues_copy(tmp_path, monkeypatch)
    assert locale_tool.problems() == []
    _blank("kk", "Settings")
    assert locale_tool.problems() == []  # partial: shown in English
    _blank("ru", "Settings")
    assert locale_tool.problems() == ["ru: 1 untranslated or fuzzy strings"]
    assert locale_tool.main(["check"]) == 1


def test_check_refuses_a_fuzzy_or_placeholder_breaking_kazakh_string(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _catalogues_copy(tmp_path, monkeypatch)
    _blank("kk", "Quit", fuzzy=True, value="Шығу")
    assert locale_tool.problems() == ["kk: 1 fuzzy strings, e.g. 'Quit'"]
    _blank("kk", "Quit", value="Шығу")
    _blank("kk", "Vault: {path}", value="Қойма: {file}")
    assert locale_tool.problems() == ["kk: placeholders differ in 'Vault: {path}'"]


def test_kazakh_dates_and_numbers_follow_cldr_and_untranslated_text_is_english() -> None:
    from datetime import UTC, datetime

    from securesubmit.tui.text import format_size, show_date, show_month, show_stamp, whole

    i18n.set_language("kk")
    try:
        assert show_date(datetime(2026, 5, 3, 9, 5, tzinfo=UTC)) == "2026 ж. 3 мамыр"
        assert show_stamp("2026-11-23T10:00:00Z") == "2026 ж. 23 қараша, 10:00 UTC"
        assert show_stamp("2026-11-23T10:00:00Z", short=True) == "2026 ж. 23 қар. 10:00"
        assert show_month("2026-03") == "нау. 2026"
        assert (format_size(1536), whole(1204)) == ("1,5 КиБ", "1\xa0204")
        assert i18n._("Settings") == "Баптаулар"
        untranslated = "Intact: the records match their signed log."
        assert i18n._(untranslated) == untranslated  # English, not an empty string
    finally:
        i18n.set_language("en")


def test_the_app_starts_in_kazakh_with_lang_kk_and_settings_offer_it(tmp_path: Path) -> None:
    from securesubmit.tui.screens.settings import SettingsScreen

    vault = tmp_path / "vault.db"
    make_vault(vault, reports=1)
    app = make_app(vault, "kk")

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.language == "kk"
            text = screen_text(app)
            assert "Құлыпты ашу" in text and "Құпия фраза" in text
            await unlock(pilot, "wrong passphrase")
            assert "Құпия фраза қате." in screen_text(app)
            await unlock(pilot)
            text = screen_text(app)
            assert "Қуғын-сүргін" in text and "1 есеп." in text
            footer = {b.binding.description for b in app.screen.active_bindings.values()}
            assert {"Жаңа", "Өңдеу", "Жою", "Құлып"} <= footer
            await pilot.press("s")
            assert isinstance(app.screen, SettingsScreen)
            assert "Баптаулар" in screen_text(app)
            assert app.screen.query_one("#lang-kk").value
            app.screen.query_one("#lang-en").value = True
            await wait_until(pilot, lambda: "Settings" in screen_text(app))
            assert app.language == "en"
            app.screen.query_one("#lang-kk").value = True
            await wait_until(pilot, lambda: "Баптаулар" in screen_text(app))
            assert app.language == "kk" and app.screen.query_one("#lang-kk").value

    try:
        run(scenario)
    finally:
        i18n.set_language("en")
