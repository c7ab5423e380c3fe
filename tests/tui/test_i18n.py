"""Languages: Russian on screen, complete catalogues, and the core's words translated."""

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
from tests.tui.helpers import SIZE, make_app, make_vault, run, screen_text, unlock

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


@pytest.mark.parametrize("language", ["en", "ru"])
def test_shipped_mo_files_are_compiled_from_the_po_files(language: str) -> None:
    path = locale_tool.po_path(language)
    compiled = locale_tool.compile_mo(locale_tool.read_po(path))
    assert path.with_suffix(".mo").read_bytes() == compiled, "run: locale_tool compile"


def test_every_string_in_the_app_is_in_the_catalogues_and_translated_to_russian() -> None:
    messages = locale_tool.source_messages()
    assert "Create your vault" in messages and "Panic" in messages  # the extractor sees them
    for language in ("en", "ru"):
        catalog = locale_tool.read_po(locale_tool.po_path(language))
        assert set(messages) == set(catalog.entries), f"{language}: run locale_tool extract"
    russian = locale_tool.read_po(locale_tool.po_path("ru"))
    untranslated = [e.msgid for e in russian.entries.values() if not e.translated]
    assert untranslated == []
    assert locale_tool.problems() == []


def test_russian_translations_keep_every_placeholder() -> None:
    russian = locale_tool.read_po(locale_tool.po_path("ru"))
    for entry in russian.entries.values():
        expected = set(PLACEHOLDER.findall(entry.msgid))
        for form in entry.msgstr:
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
        monkeypatch.setenv("LANGUAGE", "kk:en")
        assert i18n.set_language(None) == "en"
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
