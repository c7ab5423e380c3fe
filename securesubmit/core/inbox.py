"""The coordinator's workspace: review, search, annotations, statistics and exports.

Everything here works on ``InboxItem`` objects that the session decrypted after unlock.

* **Filters and pages** are plain functions over a list of items.
* **Search** uses an index that lives in memory only and is rebuilt after every unlock.
  Nothing searchable is ever written to disk.
* **Annotations** (status, tags, notes, duplicate links) are fields of the encrypted inbox
  record. Each change is one vault transaction with its own audit event.
* **Statistics** are counts that the CLI prints as a table and the TUI draws as charts.
* **Exports** write PLAINTEXT files (CSV, JSON lines, or a ZIP for HURIDOCS Uwazi) into a
  0700 directory. Every file is 0600 and written atomically. The result says the files
  are plaintext, so the interface can warn the user.

docs/spec/exports.md documents the export columns. docs/uwazi/ documents the Uwazi template.
"""

from __future__ import annotations

import bisect
import calendar
import contextlib
import csv
import functools
import gc
import io
import json
import math
import re
import unicodedata
import zipfile
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from securesubmit.core import crypto, fs
from securesubmit.core.exchange import InboxItem
from securesubmit.core.models import CATEGORIES, COUNTRIES, TEMPLATES, check_date, now_iso
from securesubmit.errors import InputError, NotFound, VaultCorrupt

if TYPE_CHECKING:
    from securesubmit.core.service import Session

STATUSES = ("new", "reviewed", "flagged", "verified", "published")
"""The review states of an inbox report, in the order a report usually moves through them."""

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 1000
MAX_TAG = 100
MAX_NOTE = 20_000
MAX_QUERY = 1000
REDACTED = "[redacted]"

PLAINTEXT_WARNING = (
    "These export files are PLAINTEXT. Anyone who can read this disk can read them. "
    "Keep them on an encrypted disk, share them only over a safe channel, and delete them "
    "when you no longer need them."
)

# --- reading reports defensively ---------------------------------------------------------
#
# A report's fields come from a sealed report that a known partner signed. The sealed-report
# parser checks only that they form a JSON object. A buggy or hostile sender can still put
# a number where text belongs, so every reader here checks the type. Bad values count as
# missing; they never crash the program.


def _str(report: dict[str, Any], key: str) -> str:
    value = report.get(key, "")
    return value if isinstance(value, str) else ""


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str) and v.strip()]


@dataclass(frozen=True)
class PersonEntry:
    """A person or organisation named in a report."""

    name: str
    role: str = ""
    sensitive: bool = False
    organisation: bool = False


def people_of(item: InboxItem) -> list[PersonEntry]:
    """The people named in a report. Entries without a usable name are skipped."""
    raw = item.report.get("people", [])
    if not isinstance(raw, list):
        return []
    out = []
    for entry in raw:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"].strip():
            role = entry.get("role", "")
            out.append(
                PersonEntry(
                    name=entry["name"],
                    role=role if isinstance(role, str) else "",
                    # Anything but an explicit false counts as sensitive: when in doubt, hide.
                    sensitive=entry.get("sensitive", False) is not False,
                    organisation=entry.get("organisation", False) is True,
                )
            )
    return out


def fields_of(item: InboxItem) -> dict[str, str]:
    """A report's template fields (text values only)."""
    raw = item.report.get("fields", {})
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}


# --- dates -------------------------------------------------------------------------------

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@functools.lru_cache(maxsize=1 << 16)
def date_span(text: str) -> tuple[date, date] | None:
    """The days an incident date covers.

    ``YYYY-MM-DD`` is one day, ``YYYY-MM`` is the whole month and ``YYYY`` is the whole
    year. Returns None for an empty or invalid date.
    """
    match = _DATE.match(text) if isinstance(text, str) else None
    if not match:
        return None
    year, month, day = (int(g) if g else 0 for g in match.groups())
    try:
        if day:
            one = date(year, month, day)
            return one, one
        if month:
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        return date(year, 1, 1), date(year, 12, 31)
    except ValueError:
        return None


def date_precision(text: str) -> str:
    """``"day"``, ``"month"``, ``"year"``, or ``""`` for no valid date."""
    if date_span(text) is None:
        return ""
    return {10: "day", 7: "month", 4: "year"}[len(text)]


def _bound(name: str, value: str, *, end: bool) -> date:
    check_date(name, value)
    span = date_span(value)
    if span is None:  # check_date accepts the empty string
        raise InputError(f"{name} is empty", hint="give YYYY, YYYY-MM or YYYY-MM-DD")
    return span[1] if end else span[0]


# --- filters and pages -------------------------------------------------------------------


def _category(value: str) -> str:
    if value not in CATEGORIES:
        raise InputError(
            f"unknown category {value!r}", hint="choose one of: " + ", ".join(CATEGORIES)
        )
    return value


def _country(value: str) -> str:
    code = value if value == "other" else value.upper()
    if code not in COUNTRIES:
        raise InputError(
            f"unknown country {value!r}", hint="choose one of: " + ", ".join(COUNTRIES)
        )
    return code


def check_status(value: str) -> str:
    if value not in STATUSES:
        raise InputError(f"unknown status {value!r}", hint="choose one of: " + ", ".join(STATUSES))
    return value


@functools.lru_cache(maxsize=1 << 16)
def _fold(text: str) -> str:
    """Case-insensitive, Unicode-normalised comparison form of a short text (names, tags).
    Cached: the same tags and names recur across thousands of reports."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


class Facets(NamedTuple):
    """What the filters look at in one report, computed once (``facets_of``)."""

    category: str
    country: str
    status: str
    warned: bool
    sender: tuple[str, str]  # (fingerprint hex, name)
    span: tuple[date, date] | None  # the days the incident date covers
    tags: frozenset[str]  # coordinator's and reporter's tags, case-folded


def facets_of(item: InboxItem) -> Facets:
    report = item.report
    incident = report.get("incident_date")
    return Facets(
        category=_str(report, "category"),
        country=_str(report, "country"),
        status=item.status,
        warned=bool(item.warnings),
        sender=(item.sender_fingerprint, item.sender_name),
        span=date_span(incident) if isinstance(incident, str) and incident else None,
        tags=frozenset(_fold(t) for t in (*item.tags, *_strings(report.get("tags")))),
    )


Check = Callable[[Facets], bool]


def _sender_matcher(wanted: str) -> Check:
    """A sender is named by the name on their card (case-insensitive) or by the start of
    their fingerprint: the hex form (``inbox show``) or the grouped form people compare."""
    name = _fold(wanted)
    if not name:
        raise InputError("the sender to filter by is empty")
    compact = "".join(wanted.split())
    hex_prefix = compact.lower() if re.fullmatch(r"[0-9a-fA-F]{4,64}", compact) else None
    b32_prefix = compact.upper() if len(compact) >= 4 else None
    verdicts: dict[tuple[str, str], bool] = {}  # a few senders, many reports: decide once

    def decide(fingerprint: str, sender_name: str) -> bool:
        if _fold(sender_name) == name:
            return True
        if hex_prefix and fingerprint.startswith(hex_prefix):
            return True
        if b32_prefix:
            from securesubmit.core.identity import format_fingerprint

            try:
                shown = format_fingerprint(bytes.fromhex(fingerprint)).replace(" ", "")
            except Exception:  # not a fingerprint at all: it cannot match
                return False
            return shown.startswith(b32_prefix)
        return False

    def matches(facets: Facets) -> bool:
        verdict = verdicts.get(facets.sender)
        if verdict is None:
            verdict = verdicts[facets.sender] = decide(*facets.sender)
        return verdict

    return matches


def filter_items(
    items: Iterable[InboxItem],
    *,
    sender: str | None = None,
    category: str | None = None,
    country: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    with_warnings: bool | None = None,
) -> list[InboxItem]:
    """The items that pass every given filter, in their original order.

    * ``sender``: the sender's name (case-insensitive) or the start of their fingerprint
      (hex, or the grouped base32 form; at least 4 characters).
    * ``category``: a key of ``CATEGORIES``. ``country``: a key of ``COUNTRIES``.
    * ``date_from`` / ``date_to`` (each ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) compare
      with the incident date. Both ends are inclusive. A bound that is only a year or a
      month stands for its first day (``date_from``) or its last day (``date_to``), so
      ``date_to="2024"`` means "up to 31 December 2024".

      **Approximate dates:** a report dated ``2024`` covers all of 2024, and one dated
      ``2024-03`` covers all of March 2024. Such a report matches when that span
      **overlaps** the range, because the incident may have happened inside it. So a report
      dated ``2024`` matches ``date_from="2024-06-01"``, and a report dated ``2024-03``
      matches ``date_to="2024-03-10"``. A report with no date matches no date filter.
    * ``tag``: the coordinator's tags or the reporter's own tags, case-insensitive.
    * ``status``: one of ``STATUSES``.
    * ``with_warnings``: True keeps only reports with verification warnings. False keeps
      only reports without them.

    A bad value raises InputError that names the value and the choices.
    """
    items = list(items)
    checks = filter_checks(
        sender=sender,
        category=category,
        country=country,
        date_from=date_from,
        date_to=date_to,
        tag=tag,
        status=status,
        with_warnings=with_warnings,
    )
    if not checks:
        return items
    facets = [facets_of(item) for item in items]
    return [items[row] for row in _passing(checks, facets, range(len(items)))]


def filter_checks(
    *,
    sender: str | None = None,
    category: str | None = None,
    country: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    with_warnings: bool | None = None,
) -> list[Check]:
    """The checks of ``filter_items`` (same arguments), cheapest first; bad values raise
    InputError here, before any report is looked at."""
    checks: list[Check] = []
    if status is not None:
        wanted_status = check_status(status)
        checks.append(lambda f: f.status == wanted_status)
    if with_warnings is not None:
        checks.append(lambda f: f.warned is with_warnings)
    if category is not None:
        wanted_category = _category(category)
        checks.append(lambda f: f.category == wanted_category)
    if country is not None:
        wanted_country = _country(country)
        checks.append(lambda f: f.country == wanted_country)
    if sender is not None:
        checks.append(_sender_matcher(sender))
    if tag is not None:
        wanted_tag = _fold(tag) if isinstance(tag, str) else ""
        if not wanted_tag:
            raise InputError("the tag to filter by is empty")
        checks.append(lambda f: wanted_tag in f.tags)
    if date_from is not None or date_to is not None:
        low = _bound("date_from", date_from, end=False) if date_from is not None else date.min
        high = _bound("date_to", date_to, end=True) if date_to is not None else date.max
        if low > high:
            raise InputError(f"date_from ({date_from}) is after date_to ({date_to})")
        checks.append(lambda f: f.span is not None and f.span[0] <= high and f.span[1] >= low)
    return checks


def _passing(checks: list[Check], facets: Sequence[Facets], rows: Iterable[int]) -> list[int]:
    """The rows whose facets pass every check. Each pass runs only over what the previous
    ones kept."""
    kept = list(rows)
    for check in checks:
        kept = [row for row in kept if check(facets[row])]
    return kept


@dataclass(frozen=True)
class Page:
    """One page of a listing. ``number`` counts from 1."""

    items: list[InboxItem]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_index(self) -> int:
        """The position of this page's first item in the whole listing, from 0."""
        return (self.number - 1) * self.per_page


def paginate(items: Sequence[InboxItem], page: int = 1, per_page: int = DEFAULT_PER_PAGE) -> Page:
    """Page ``page`` (from 1) of ``items``. A page after the last one is empty."""
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InputError(f"a page holds 1 to {MAX_PER_PAGE} reports, not {per_page}")
    if page < 1:
        raise InputError(f"pages are numbered from 1, not {page}")
    start = (page - 1) * per_page
    return Page(list(items[start : start + per_page]), page, per_page, len(items))


# --- search ------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
_QUERY_PART = re.compile(r'"([^"]*)"?|(\S+)')


def normalize(text: str) -> str:
    """The form we compare in search: NFKC, case-folded, and ``ё`` as ``е``.

    Case folding handles Cyrillic (Russian, Kazakh ``Ә``/``ә``, ``Қ``/``қ`` …) as well as
    Latin. Russian often writes ``е`` for ``ё``, so the two count as the same letter.
    """
    if text.isascii():  # NFKC changes no ASCII text, and casefold is lower() there
        return text.lower()
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    folded = text.casefold()
    if not unicodedata.is_normalized("NFKC", folded):
        folded = unicodedata.normalize("NFKC", folded)
    return folded.replace("ё", "е")


def tokens(text: str) -> list[str]:
    """The words of ``text`` in search form: runs of letters, digits and ``_``."""
    return _WORD.findall(normalize(text))


def parse_query(query: str) -> list[tuple[str, ...]]:
    """The terms of a search query. Each term is a sequence of words.

    A term is either a ``"quoted phrase"`` or one unquoted word. An unquoted word that
    contains punctuation (``e-mail``) is a phrase of its parts. An unclosed quote runs to
    the end of the query.
    """
    if len(query) > MAX_QUERY:
        raise InputError(f"the search is too long (at most {MAX_QUERY} characters)")
    terms = []
    for match in _QUERY_PART.finditer(query):
        words = tuple(tokens(match.group(1) if match.group(1) is not None else match.group(2)))
        if words and words not in terms:
            terms.append(words)
    if not terms:
        raise InputError("give at least one word to search for")
    return terms


def searchable_texts(item: InboxItem) -> list[str]:
    """Every text of a report that search looks at, one entry per field value."""
    report = item.report
    texts = [
        _str(report, "title"),
        _str(report, "description"),
        _str(report, "place"),
        *_strings(report.get("sources")),
        *_strings(report.get("tags")),
        *item.tags,
        *fields_of(item).values(),
        *(note.get("text", "") for note in item.notes if isinstance(note, dict)),
        item.sender_name,
        *(str(a.get("name", "")) for a in item.attachments if isinstance(a, dict)),
    ]
    for person in people_of(item):
        texts += [person.name, person.role]
    category = _str(report, "category")
    country = _str(report, "country")
    texts += [category, CATEGORIES.get(category, ""), country, COUNTRIES.get(country, "")]
    return [t for t in texts if t]


def _words(item: InboxItem) -> list[str]:
    """The item's words in search form, with ``_FIELD`` between fields. All fields are
    normalised and split in one go: one call each instead of one per field."""
    joined = " \x1e ".join(t.replace(_FIELD, " ") for t in searchable_texts(item))
    return _WORD_OR_FIELD.findall(normalize(joined))


def _blob(words: list[str]) -> str:
    """The words, space-separated, with ``" \\n "`` between fields. There is a space before
    every word and after it. So ``" " + word`` is a word start, and a phrase never runs
    from one field into the next."""
    return " " + " ".join(words).replace(_FIELD, "\n") + " "


_FIELD = "\x1e"
_WORD_OR_FIELD = re.compile(r"[\w\x1e]+")


class InboxIndex:
    """A full-text index over decrypted reports. It lives in memory only.

    It holds two things: a map from each word to the sorted positions of the reports that
    contain it, and for each report a lower-case "blob" of its words. Matching is defined
    on the blob. The word map only narrows down which blobs to look at. (Positions are
    kept in compact integer arrays, not sets: with 100,000 reports that is tens of MiB
    instead of hundreds.)

    Matching rules (see ``search``):

    * A word matches a report when one of the report's words **starts with** it. So
      ``журналист`` finds ``журналиста`` and ``журналистов``, and ``arrest`` finds
      ``arrested``. Case, Unicode form and ``ё``/``е`` do not matter.
    * A ``"quoted phrase"`` matches when its words appear in that order, next to each
      other, in one field. Punctuation between them does not matter. The last word may be
      the start of a longer word.
    * Several terms must **all** match (AND).
    """

    # A term that starts this many vocabulary words or more is not worth expanding through
    # the word map (a one-letter prefix, say). Its candidates are found by scanning blobs.
    MAX_EXPANSION = 5000

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._position: dict[str, int] = {}
        self._blobs: list[str] = []  # "" for a removed item: no needle is found in it
        self._postings: defaultdict[str, array[int]] = defaultdict(_positions)
        self._vocabulary: list[str] | None = None

    @classmethod
    def build(cls, items: Iterable[InboxItem]) -> InboxIndex:
        index = cls()
        with _bulk():
            for item in items:
                index.update(item)
        return index

    def __len__(self) -> int:
        return len(self._position)

    def update(self, item: InboxItem) -> None:
        """Add an item, or re-index it after an annotation changed it."""
        position = self._position.get(item.id)
        postings = self._postings
        known = len(postings)
        words = _words(item)
        blob = _blob(words)
        distinct = set(words)
        distinct.discard(_FIELD)
        if position is None:  # a new item: its position is the highest, so append
            position = len(self._ids)
            self._ids.append(item.id)
            self._blobs.append(blob)
            self._position[item.id] = position
            for word in distinct:
                postings[word].append(position)
        else:
            self._unpost(position)
            self._blobs[position] = blob
            for word in distinct:
                posting = postings[word]
                posting.insert(bisect.bisect_left(posting, position), position)
        if len(postings) != known:
            self._vocabulary = None

    def remove(self, item_id: str) -> None:
        position = self._position.pop(item_id, None)
        if position is not None:
            self._unpost(position)
            self._blobs[position] = ""

    def _unpost(self, position: int) -> None:
        old = self._blobs[position]
        for word in set(old.split()):
            posting = self._postings[word]
            del posting[bisect.bisect_left(posting, position)]
            if not posting:
                del self._postings[word]
                self._vocabulary = None

    def _words_starting(self, prefix: str) -> list[str]:
        if self._vocabulary is None:
            self._vocabulary = sorted(self._postings)
        vocabulary = self._vocabulary
        low = bisect.bisect_left(vocabulary, prefix)
        high = bisect.bisect_left(vocabulary, prefix + "\U0010ffff")
        return vocabulary[low:high]

    def _candidates(self, term: tuple[str, ...]) -> tuple[int, Callable[[], Iterable[int]] | None]:
        """(estimated count, how to get the sorted positions of a superset of the term's
        matches) for one term. None means "no cheap superset: scan every blob"."""
        *whole, last = term
        if whole:  # every word but the last is a whole word: one exact lookup each
            smallest = min((self._postings.get(w, _positions()) for w in whole), key=len)
            return len(smallest), lambda: smallest
        words = self._words_starting(last)
        if len(words) >= self.MAX_EXPANSION:
            return len(self._ids), None
        postings = [self._postings[w] for w in words]
        if len(postings) == 1:
            return len(postings[0]), lambda: postings[0]
        total = sum(len(p) for p in postings)
        if total >= len(self._ids) // 2:  # merging would cost more than scanning
            return len(self._ids), None
        return total, lambda: sorted(set().union(*postings))

    def search(self, query: str) -> list[str]:
        """The ids of the items that match every term of ``query``, in index order (the
        order the items were given in)."""
        terms = parse_query(query)
        _estimate, narrow = min((self._candidates(t) for t in terms), key=lambda c: c[0])
        positions = narrow() if narrow is not None else range(len(self._blobs))
        blobs = self._blobs
        # Longer needles are usually rarer: test them first, on ever fewer blobs.
        for needle in sorted((" " + " ".join(t) for t in terms), key=len, reverse=True):
            positions = [p for p in positions if needle in blobs[p]]
        ids = self._ids
        return [ids[p] for p in positions]


def _positions() -> array[int]:
    return array("i")


# --- the workspace: items and index together ---------------------------------------------


class Workspace:
    """The decrypted inbox, its filter facets and its search index, in memory while the
    vault is open.

    The CLI builds one per command. The TUI builds one after unlock and passes the items
    that the annotation functions return to ``replace``.
    """

    def __init__(self, items: Iterable[InboxItem]) -> None:
        self._items = sorted(items, key=_sort_key, reverse=True)
        with _bulk():
            self._facets = [facets_of(item) for item in self._items]
        self._row = {item.id: row for row, item in enumerate(self._items)}
        self._index: InboxIndex | None = None

    @classmethod
    def load(cls, session: Session) -> Workspace:
        return cls(session.list_inbox())

    @property
    def index(self) -> InboxIndex:
        """The search index, built on first use, so listing never waits for it. A TUI can
        build it in a worker right after unlock."""
        if self._index is None:
            self._index = InboxIndex.build(self._items)
        return self._index

    @property
    def items(self) -> list[InboxItem]:
        """Every item, newest sealed first (the order of ``Session.list_inbox``)."""
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, ref: str) -> InboxItem:
        """An item by its id or report id, or by the first (at least 4) characters of one."""
        return _pick(ref, self._items)

    def replace(self, item: InboxItem) -> None:
        """Take in a changed (or new) item: the listing, the facets and the index follow."""
        row = self._row.get(item.id)
        if row is not None and _sort_key(self._items[row]) == _sort_key(item):
            self._items[row] = item
            self._facets[row] = facets_of(item)
        else:
            pairs = [(i, f) for i, f in zip(self._items, self._facets, strict=True)]
            pairs = [p for p in pairs if p[0].id != item.id] + [(item, facets_of(item))]
            pairs.sort(key=lambda p: _sort_key(p[0]), reverse=True)
            self._items = [p[0] for p in pairs]
            self._facets = [p[1] for p in pairs]
            self._row = {i.id: r for r, i in enumerate(self._items)}
        if self._index is not None:
            self._index.update(item)

    def view(
        self,
        *,
        query: str | None = None,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
        **filters: Any,
    ) -> Page:
        """One page of the items that match the search ``query`` and ``filters`` (the
        keyword arguments of ``filter_items``), newest first."""
        return paginate(self.select(query=query, **filters), page, per_page)

    def select(self, *, query: str | None = None, **filters: Any) -> list[InboxItem]:
        """Every item that matches ``query`` and ``filters``, newest first."""
        checks = filter_checks(**filters)
        rows: Iterable[int] = range(len(self._items))
        if query is not None and query.strip():
            row = self._row
            rows = sorted(row[i] for i in self.index.search(query))
        elif not checks:
            return list(self._items)
        items = self._items
        return [items[r] for r in _passing(checks, self._facets, rows)]


@contextlib.contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects that all
    stay alive. Otherwise each new batch of them can trigger a full scan of the whole
    decrypted inbox. Reference counting still frees everything as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _sort_key(item: InboxItem) -> tuple[str, str]:
    return (item.sealed, item.id)


def _pick(ref: str, items: Iterable[InboxItem]) -> InboxItem:
    wanted = ref.strip().lower()
    if len(wanted) < 4:
        raise InputError(f"{ref!r} is too short", hint="give at least 4 characters")
    matches = [i for i in items if i.id.startswith(wanted) or i.report_id.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InputError(f"several inbox reports match {ref!r}", hint="give more characters")
    raise NotFound(f"no inbox report matches {ref!r}")


# --- annotations -------------------------------------------------------------------------
#
# Each function reads the current record from the vault, not a copy the caller holds, so
# a stale copy on a TUI screen never undoes a newer change. Each returns the updated
# item(s), which the caller hands to ``Workspace.replace``. A request that changes nothing
# (a tag already there, the same status again, a link already made) writes nothing and
# records no event.

Ref = str | InboxItem


def _item_id(session: Session, ref: Ref) -> str:
    if isinstance(ref, InboxItem):
        return ref.id
    if not isinstance(ref, str):
        raise InputError("give a report id")
    wanted = ref.strip().lower()
    if re.fullmatch(r"[0-9a-f]{32}", wanted):  # a full id: skip decrypting the whole inbox
        record = session.vault.get(bytes.fromhex(wanted))
        if record is not None and record.get("kind") == "inbox":
            return wanted
    return str(session.get_inbox_item(ref).id)  # a prefix, or a report id


def _load(session: Session, item_id: str) -> InboxItem:
    record = session.vault.get(bytes.fromhex(item_id))
    if record is None or record.get("kind") != "inbox":
        raise NotFound(f"no inbox report has the id {item_id[:8]}")
    return InboxItem.from_record(item_id, record)


def _apply(
    session: Session,
    event: str,
    details: dict[str, Any],
    items: Sequence[InboxItem],
    changed: bool,
) -> None:
    if changed:
        with session.vault.transaction(event, details):
            for item in items:
                session.vault.put(bytes.fromhex(item.id), item.to_record())


def set_status(session: Session, ref: Ref, status: str) -> InboxItem:
    """Move a report to ``status`` (one of ``STATUSES``).
    Audit event ``inbox.status_changed`` {item, from, to}."""
    check_status(status)
    item = _load(session, _item_id(session, ref))
    previous = item.status
    item.status = status
    details = {"item": item.id, "from": previous, "to": status}
    _apply(session, "inbox.status_changed", details, [item], previous != status)
    return item


def clean_tag(tag: str) -> str:
    """A tag as it is stored: one line (runs of spaces made one), 1 to 100 characters. It
    may not contain ``|`` or ``;``: Uwazi and spreadsheets split tag lists on them."""
    cleaned = " ".join(tag.split()) if isinstance(tag, str) else ""
    if not cleaned:
        raise InputError("a tag cannot be empty")
    if len(cleaned) > MAX_TAG:
        raise InputError(f"a tag is at most {MAX_TAG} characters")
    if any(c in "|;" or unicodedata.category(c) == "Cc" for c in cleaned):
        raise InputError(
            f"a tag cannot contain '|', ';' or control characters: {cleaned!r}",
            hint="Uwazi and spreadsheets split lists of tags on '|' and ';'",
        )
    return cleaned


def add_tag(session: Session, ref: Ref, tag: str) -> InboxItem:
    """Tag a report. Tags compare case-insensitively; the first spelling is kept.
    Audit event ``inbox.tagged`` {item, tag}."""
    cleaned = clean_tag(tag)
    item = _load(session, _item_id(session, ref))
    new = _fold(cleaned) not in {_fold(t) for t in item.tags}
    if new:
        item.tags.append(cleaned)
    _apply(session, "inbox.tagged", {"item": item.id, "tag": cleaned}, [item], new)
    return item


def remove_tag(session: Session, ref: Ref, tag: str) -> InboxItem:
    """Remove one of the coordinator's tags (case-insensitive). The report must have it.
    The reporter's own tags belong to the signed report and cannot be removed.
    Audit event ``inbox.untagged`` {item, tag}."""
    wanted = _fold(tag) if isinstance(tag, str) else ""
    if not wanted:
        raise InputError("a tag cannot be empty")
    item = _load(session, _item_id(session, ref))
    kept = [t for t in item.tags if _fold(t) != wanted]
    if len(kept) == len(item.tags):
        hint = ("its tags: " + ", ".join(item.tags)) if item.tags else "it has no tags"
        raise NotFound(f"report {item.id[:8]} has no tag {tag!r}", hint=hint)
    removed = next(t for t in item.tags if _fold(t) == wanted)
    item.tags = kept
    _apply(session, "inbox.untagged", {"item": item.id, "tag": removed}, [item], True)
    return item


def add_note(session: Session, ref: Ref, text: str) -> InboxItem:
    """Add a dated note ``{"time": ISO-8601 UTC, "text": …}`` to a report.
    Audit event ``inbox.noted`` {item, note: its number}. The event does not hold the text;
    the text is stored in the encrypted record."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("a note cannot be empty")
    if len(text) > MAX_NOTE:
        raise InputError(f"a note is at most {MAX_NOTE:,} characters, not {len(text):,}")
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text):
        raise InputError("a note cannot contain control characters")
    item = _load(session, _item_id(session, ref))
    item.notes.append({"time": now_iso(session.clock()), "text": text.strip()})
    _apply(session, "inbox.noted", {"item": item.id, "note": len(item.notes)}, [item], True)
    return item


def mark_duplicate(session: Session, a: Ref, b: Ref) -> tuple[InboxItem, InboxItem]:
    """Record that two reports describe the same incident. Each report then lists the other
    in ``duplicate_of``. Both records change in one transaction.
    Audit event ``inbox.duplicate_marked`` {items: [a, b]}."""
    first_id, second_id = _item_id(session, a), _item_id(session, b)
    if first_id == second_id:
        raise InputError("a report cannot be a duplicate of itself")
    first, second = _load(session, first_id), _load(session, second_id)
    changed = False
    for item, other in ((first, second_id), (second, first_id)):
        if other not in item.duplicate_of:
            item.duplicate_of.append(other)
            changed = True
    details = {"items": [first_id, second_id]}
    _apply(session, "inbox.duplicate_marked", details, [first, second], changed)
    return first, second


def duplicate_groups(items: Iterable[InboxItem]) -> list[list[str]]:
    """Reports linked as duplicates, directly or through others, each group once (ids in
    the given order). Links to reports outside ``items`` are ignored. A report with no
    link is a group of one."""
    order = [item.id for item in items]
    parent = {item_id: item_id for item_id in order}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for item in items:
        for other in item.duplicate_of:
            if other in parent:
                parent[root(other)] = root(item.id)
    groups: dict[str, list[str]] = {}
    for item_id in order:
        groups.setdefault(root(item_id), []).append(item_id)
    return list(groups.values())


# --- statistics --------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthPoint:
    month: str  # YYYY-MM
    reports: int
    incidents: int  # reports linked as duplicates count once


@dataclass(frozen=True)
class Stats:
    """Counts over a list of inbox items. Every ``by_*`` map holds report counts.

    * ``by_month`` counts reports by the month of their incident date ("YYYY-MM").
    * ``year_only`` counts, by year, the reports whose date gives only a year.
    * ``undated`` counts the reports with no date, or a date that is not valid.
    * ``timeline`` lists every month from the first dated month to the last, with zeros
      filled in. ``incidents`` in it counts a group of duplicate-linked reports once, in
      the earliest month any of them gives.
    * ``by_country`` uses ``"unknown"`` for reports that give no country.
    * ``by_sender`` is keyed by sender fingerprint (hex); ``sender_names`` gives names.
    """

    total: int
    incidents: int
    by_category: dict[str, int]
    by_country: dict[str, int]
    by_status: dict[str, int]
    by_sender: dict[str, int]
    sender_names: dict[str, str]
    by_month: dict[str, int]
    year_only: dict[str, int]
    undated: int
    with_warnings: int
    timeline: list[MonthPoint] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (for ``stats --json`` and the TUI's charts)."""
        return {
            "total": self.total,
            "incidents": self.incidents,
            "by_category": self.by_category,
            "by_country": self.by_country,
            "by_status": self.by_status,
            "by_sender": [
                {"fingerprint": fp, "name": self.sender_names.get(fp, ""), "reports": n}
                for fp, n in self.by_sender.items()
            ],
            "by_month": self.by_month,
            "year_only": self.year_only,
            "undated": self.undated,
            "with_warnings": self.with_warnings,
            "timeline": [
                {"month": p.month, "reports": p.reports, "incidents": p.incidents}
                for p in self.timeline
            ],
        }


def _months_between(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _ranked(counter: Counter[str], known: Iterable[str] = ()) -> dict[str, int]:
    """Known keys first (zeros included, so charts keep their axes), then the rest by count."""
    out = {key: counter.get(key, 0) for key in known}
    for key, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
        out.setdefault(key, count)
    return out


@functools.lru_cache(maxsize=1 << 16)
def _dated(text: str) -> tuple[str, str]:
    """("month", "YYYY-MM"), ("year", "YYYY") or ("none", "") for an incident date."""
    precision = date_precision(text)
    if precision in ("day", "month"):
        return "month", text[:7]
    if precision == "year":
        return "year", text
    return "none", ""


def statistics(items: Sequence[InboxItem]) -> Stats:
    """Counts by category, country, status, sender and month, and incidents over time."""
    items = list(items)
    reports = [item.report for item in items]
    dated = [_dated(_str(report, "incident_date")) for report in reports]
    months = Counter([value for kind, value in dated if kind == "month"])
    if any(item.duplicate_of for item in items):
        month_of = {
            item.id: value if kind == "month" else None
            for item, (kind, value) in zip(items, dated, strict=True)
        }
        groups = duplicate_groups(items)
        incident_months = Counter(
            min(found)
            for found in ([m for m in (month_of[i] for i in g) if m] for g in groups)
            if found
        )
        incidents = len(groups)
    else:  # no links: every report is its own incident
        incident_months, incidents = months, len(items)
    timeline = []
    if months:
        for month in _months_between(min(months), max(months)):
            timeline.append(MonthPoint(month, months.get(month, 0), incident_months.get(month, 0)))
    return Stats(
        total=len(items),
        incidents=incidents,
        by_category=_ranked(
            Counter([_str(r, "category") or "unknown" for r in reports]), CATEGORIES
        ),
        by_country=_ranked(Counter([_str(r, "country") or "unknown" for r in reports]), COUNTRIES),
        by_status=_ranked(Counter([item.status for item in items]), STATUSES),
        by_sender=_ranked(Counter([item.sender_fingerprint for item in items])),
        sender_names={i.sender_fingerprint: i.sender_name for i in reversed(items)},
        by_month=dict(sorted(months.items())),
        year_only=dict(sorted(Counter([v for k, v in dated if k == "year"]).items())),
        undated=sum(1 for kind, _ in dated if kind == "none"),
        with_warnings=sum(1 for item in items if item.warnings),
        timeline=timeline,
    )


def format_table(stats: Stats, *, width: int = 40) -> str:
    """The statistics as plain-text tables for the terminal (``securesubmit stats``)."""
    lines = [
        f"Reports: {stats.total:,}   distinct incidents: {stats.incidents:,}   "
        f"with verification warnings: {stats.with_warnings:,}",
    ]

    def table(title: str, rows: list[tuple[str, int]]) -> None:
        lines.extend(["", f"{title}:"])
        label_width = max([len(label) for label, _ in rows] + [10])
        for label, count in rows:
            lines.append(f"  {label:<{label_width}}  {count:>7,}")

    table("By category", [(CATEGORIES.get(k, k), n) for k, n in stats.by_category.items()])
    table(
        "By country",
        [
            (COUNTRIES.get(k, "(not given)" if k == "unknown" else k), n)
            for k, n in stats.by_country.items()
            if n or k in COUNTRIES
        ],
    )
    table("By status", list(stats.by_status.items()))
    table(
        "By sender",
        [(f"{stats.sender_names.get(fp, '?')} ({fp[:8]})", n) for fp, n in stats.by_sender.items()],
    )
    lines.extend(["", "Incidents over time (reports / distinct incidents):"])
    peak = max((p.reports for p in stats.timeline), default=0)
    for point in stats.timeline:
        bar = "#" * (math.ceil(point.reports * width / peak) if peak and point.reports else 0)
        lines.append(f"  {point.month}  {point.reports:>6,} {point.incidents:>6,}  {bar}")
    if not stats.timeline:
        lines.append("  (no report gives a month)")
    if stats.year_only:
        years = ", ".join(f"{y}: {n:,}" for y, n in stats.year_only.items())
        lines.append(f"  dated to the year only: {sum(stats.year_only.values()):,} ({years})")
    lines.append(f"  no date: {stats.undated:,}")
    return "\n".join(lines) + "\n"


# --- redaction ---------------------------------------------------------------------------

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# Russian and Kazakh case endings change a name's last vowel (Анна → Анну, Мария → Марии),
# so a Cyrillic name part loses its final vowel or soft sign before the prefix match.
_CYRILLIC_ENDINGS = set("аяоеёиыуюйьіә")
# Two common ways to write Russian and Kazakh names in Latin letters (passport / BGN-like,
# and a simpler one). Other spellings exist and are NOT caught.
_LATIN_A = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    "ә": "a",
    "ғ": "g",
    "қ": "q",
    "ң": "n",
    "ө": "o",
    "ұ": "u",
    "ү": "u",
    "һ": "h",
    "і": "i",
}
_LATIN_B = {**_LATIN_A, "й": "i", "х": "h", "ц": "c", "ю": "iu", "я": "ia", "ж": "j", "қ": "k"}


def _latin(word: str, table: dict[str, str]) -> str:
    return "".join(table.get(c, c) for c in word.lower())


def _part_pattern(part: str) -> str:
    """A pattern for one part of a name. A part of 4 or more letters also matches words
    that start with it (Petrov → Petrova, Petrov's). A shorter part matches only the whole
    word."""
    stem = part
    if _CYRILLIC.search(part) and len(part) >= 4 and part[-1].lower() in _CYRILLIC_ENDINGS:
        stem = part[:-1]
    escaped = "".join("[её]" if c in "её" else re.escape(c) for c in stem.lower())
    tail = r"\w*" if len(part) >= 4 else r"(?!\w)"
    return r"(?<!\w)" + escaped + tail


class Redactor:
    """Removes the names of sensitive people from text.

    For each name, it replaces with ``[redacted]``, case-insensitively:

    * the full name as written (any spacing);
    * each part of the name with 2 or more letters, as a whole word. A part of 4 or more
      letters also matches any word that starts with it. This catches case endings
      (Петров → Петрова, Петрову; Анна → Анну) and possessives (Petrov's);
    * for a Cyrillic name, the same parts in two common Latin spellings
      (Жанна Петрова → Zhanna Petrova and Janna Petrova).

    This errs on the side of removing too much. A part such as "Анна" also removes
    "Аннотация". It does **not** catch nicknames, initials on their own, spellings other
    than those above, or descriptions that identify a person without naming them
    ("the editor of outlet X"). Read an export before you publish it.
    """

    def __init__(self, names: Iterable[str]) -> None:
        written = {
            " ".join(unicodedata.normalize("NFC", n).lower().split())
            for n in names
            if isinstance(n, str) and n.strip()
        }
        self.names = {_fold(n) for n in written}
        full = {r"\s+".join(re.escape(p) for p in name.split()) for name in written}
        alternatives: set[str] = set()
        for name in written:
            parts = [p for p in _WORD.findall(name) if len(p) >= 2]
            for part in parts:
                if part.isdigit():
                    continue
                alternatives.add(_part_pattern(part))
                if _CYRILLIC.search(part):
                    for table in (_LATIN_A, _LATIN_B):
                        latin = _latin(part, table)
                        if len(latin) >= 2:
                            alternatives.add(_part_pattern(latin))
        # Whole names first, so that a full name becomes one "[redacted]".
        ordered = sorted(full, key=lambda p: (-len(p), p)) + sorted(alternatives - full)
        self._pattern = re.compile("|".join(ordered), re.IGNORECASE) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def is_sensitive(self, name: str) -> bool:
        return _fold(name) in self.names

    def text(self, value: str) -> str:
        if self._pattern is None or not value:
            return value
        return self._pattern.sub(REDACTED, unicodedata.normalize("NFC", value))


def sensitive_names(items: Iterable[InboxItem]) -> set[str]:
    """The names of every person marked sensitive in any of ``items``."""
    return {p.name for item in items for p in people_of(item) if p.sensitive}


# --- exports -----------------------------------------------------------------------------

EXPORT_FORMATS = ("csv", "json", "uwazi")
EXPORT_FILES = {"csv": "reports.csv", "json": "reports.jsonl", "uwazi": "uwazi-import.zip"}
UWAZI_CSV_NAME = "import.csv"
UWAZI_SIZE_HINT = 50 * 1024 * 1024  # the upload limit given in Uwazi's documentation

LANGUAGE_NAMES = {
    "en": "English",
    "ru": "Russian",
    "kk": "Kazakh",
    "ky": "Kyrgyz",
    "tg": "Tajik",
    "tk": "Turkmen",
    "uz": "Uzbek",
    "other": "Other",
}

TEMPLATE_FIELD_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(f.key for t in TEMPLATES.values() for f in t.fields)
)

CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "report_id",
    "title",
    "category",
    "category_label",
    "incident_date",
    "date_approximate",
    "country",
    "country_name",
    "place",
    "people",
    "description",
    "sources",
    "reporter_tags",
    "language",
    "template",
    *(f"field_{key}" for key in TEMPLATE_FIELD_KEYS),
    "other_fields",
    "sender_name",
    "sender_fingerprint",
    "bundle_id",
    "sequence",
    "created",
    "sealed",
    "imported",
    "status",
    "tags",
    "duplicate_of",
    "warnings",
    "attachments",
)
"""The columns of the CSV export, in order (docs/spec/exports.md). With notes: + "notes"."""

AttachmentReader = Callable[[InboxItem, dict[str, Any]], Iterable[bytes]]
"""Gives the bytes of one attachment of an item (see ``vault_attachments``)."""


class ExportedFiles(list[Path]):
    """The files an export wrote. They are PLAINTEXT: show ``warning`` to the user."""

    plaintext = True
    warning = PLAINTEXT_WARNING

    def __init__(
        self,
        paths: Iterable[Path],
        *,
        fmt: str,
        reports: int,
        redacted: bool,
        warnings: Iterable[str] = (),
    ) -> None:
        super().__init__(paths)
        self.format = fmt
        self.reports = reports
        self.redacted = redacted
        self.warnings = list(warnings)


_FORMULA_START = ("\t", "\r", "\0")
"""Characters that make a cell dangerous as its very first character."""
_FORMULA_SIGNS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""``= + - @`` and their full-width forms ``＝ ＋ － ＠``: dangerous after any whitespace."""
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
"""Zero-width characters, skipped like whitespace before a sign."""


def is_formula_like(cell: str) -> bool:
    """True if a spreadsheet could run ``cell`` as a formula (docs/spec/exports.md §3):
    it starts with a tab, CR or NUL, or with one of ``= + - @ ＝ ＋ － ＠`` after any
    whitespace (Unicode's, and zero-width characters); leading ``'`` are skipped first,
    so that reading an export back is exact."""
    rest = cell.lstrip("'")
    return rest.startswith(_FORMULA_START) or rest.lstrip().lstrip(_INVISIBLE).lstrip().startswith(
        _FORMULA_SIGNS
    )


def neutralise(cell: str) -> str:
    """Stop a spreadsheet from running a cell as a formula (CSV injection, OWASP): a cell
    that is_formula_like gets a ``'`` in front. ``unneutralise`` undoes it exactly."""
    return "'" + cell if is_formula_like(cell) else cell


def unneutralise(cell: str) -> str:
    """A cell of our CSV as it was before ``neutralise``."""
    return cell[1:] if cell.startswith("'") and is_formula_like(cell[1:]) else cell


def report_record(
    item: InboxItem,
    *,
    redactor: Redactor | None = None,
    include_notes: bool = False,
) -> dict[str, Any]:
    """One report as exported: the JSON-lines record, from which the CSV and Uwazi rows
    are also made (docs/spec/exports.md)."""
    redact = redactor.text if redactor else (lambda s: s)
    report = item.report
    people = [
        p
        for p in people_of(item)
        if not (redactor and (p.sensitive or redactor.is_sensitive(p.name)))
    ]
    category, country = _str(report, "category"), _str(report, "country")
    record: dict[str, Any] = {
        "id": item.id,
        "report_id": item.report_id,
        "title": redact(_str(report, "title")),
        "category": category,
        "category_label": CATEGORIES.get(category, ""),
        "incident_date": _str(report, "incident_date"),
        "date_approximate": report.get("date_approximate") is True,
        "country": country,
        "country_name": COUNTRIES.get(country, ""),
        "place": redact(_str(report, "place")),
        "people": [
            {
                "name": redact(p.name),
                "role": redact(p.role),
                "organisation": p.organisation,
                "sensitive": p.sensitive,
            }
            for p in people
        ],
        "description": redact(_str(report, "description")),
        "sources": [redact(s) for s in _strings(report.get("sources"))],
        "reporter_tags": [redact(t) for t in _strings(report.get("tags"))],
        "language": _str(report, "language"),
        "template": _str(report, "template"),
        "fields": {k: redact(v) for k, v in fields_of(item).items()},
        "sender_name": f"sender {item.sender_fingerprint[:8]}" if redactor else item.sender_name,
        "sender_fingerprint": item.sender_fingerprint,
        "bundle_id": item.bundle_id,
        "sequence": item.sequence,
        "created": item.created,
        "sealed": item.sealed,
        "imported": item.imported,
        "status": item.status,
        "tags": [redact(t) for t in item.tags],
        "duplicate_of": list(item.duplicate_of),
        "warnings": list(item.warnings),
        "attachments": [
            {
                "name": _neutral_name(n, a) if redactor else str(a.get("name", "")),
                "size": a.get("size"),
                "media_type": a.get("media_type"),
                "sha256": a.get("sha256"),
                "original_sha256": a.get("original_sha256"),
                "scrubbed": a.get("scrubbed", []),
            }
            for n, a in enumerate(item.attachments, 1)
        ],
    }
    if include_notes:
        record["notes"] = [
            {"time": str(note.get("time", "")), "text": redact(str(note.get("text", "")))}
            for note in item.notes
        ]
    return record


def _neutral_name(number: int, attachment: dict[str, Any]) -> str:
    """An attachment's name with the person-revealing part gone: ``attachment-2.jpg``."""
    suffix = Path(str(attachment.get("name", ""))).suffix
    suffix = suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", suffix) else ""
    return f"attachment-{number}{suffix.lower()}"


def _person_cell(person: dict[str, Any]) -> str:
    marks = [m for m in (person["role"], "organisation" if person["organisation"] else "") if m]
    if person["sensitive"]:
        marks.append("sensitive")
    return str(person["name"]) + (f" ({', '.join(marks)})" if marks else "")


def _lines(values: Iterable[str]) -> str:
    return "\n".join(" ".join(v.split()) for v in values)


def csv_row(record: dict[str, Any], *, include_notes: bool = False) -> list[str]:
    """The CSV cells of one ``report_record``, neutralised against formulas."""
    fields = record["fields"]
    cells: dict[str, str] = {
        **{k: str(v) for k, v in record.items() if isinstance(v, str | int)},
        "date_approximate": "yes" if record["date_approximate"] else "no",
        "people": _lines(_person_cell(p) for p in record["people"]),
        "sources": _lines(record["sources"]),
        "reporter_tags": _lines(record["reporter_tags"]),
        "other_fields": "\n".join(
            f"{k}: {v}" for k, v in fields.items() if k not in TEMPLATE_FIELD_KEYS
        ),
        "tags": _lines(record["tags"]),
        "duplicate_of": _lines(record["duplicate_of"]),
        "warnings": _lines(record["warnings"]),
        "attachments": _lines(a["name"] for a in record["attachments"]),
    }
    for key in TEMPLATE_FIELD_KEYS:
        cells[f"field_{key}"] = fields.get(key, "")
    columns = CSV_COLUMNS + (("notes",) if include_notes else ())
    if include_notes:
        cells["notes"] = "\n\n".join(f"[{n['time']}] {n['text']}" for n in record["notes"])
    return [neutralise(cells[c]) for c in columns]


# --- Uwazi -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UwaziProperty:
    label: str
    type: str
    name: str  # what Uwazi derives from the label: the CSV header
    thesaurus: str = ""  # select and multiselect: the thesaurus they take labels from


UWAZI_TEMPLATE_NAME = "SecureSubmit incident"

UWAZI_PROPERTIES: tuple[UwaziProperty, ...] = (
    UwaziProperty("Category", "select", "category", "SecureSubmit categories"),
    UwaziProperty("Country", "select", "country", "SecureSubmit countries"),
    UwaziProperty("Date", "date", "date"),
    UwaziProperty("Date precision", "select", "date_precision", "SecureSubmit date precision"),
    UwaziProperty("Place", "geolocation", "place_geolocation"),
    UwaziProperty("Place name", "text", "place_name"),
    UwaziProperty("People", "multiselect", "people", "SecureSubmit people"),
    UwaziProperty("Description", "markdown", "description"),
    UwaziProperty("Details", "markdown", "details"),
    UwaziProperty("Sources", "markdown", "sources"),
    UwaziProperty("Tags", "multiselect", "tags", "SecureSubmit tags"),
    # Not "Language": Uwazi's v1 importer keeps the row's language under that key.
    UwaziProperty("Original language", "select", "original_language", "SecureSubmit languages"),
    UwaziProperty("Review status", "select", "review_status", "SecureSubmit review status"),
    UwaziProperty("SecureSubmit report ID", "text", "securesubmit_report_id"),
)

_PRECISION_LABELS = {"day": "exact day", "month": "month", "year": "year"}


def _precision_label(precision: str, approximate: bool) -> str:
    if not precision:
        return ""
    return f"approximate {precision}" if approximate else _PRECISION_LABELS[precision]


def uwazi_thesauri() -> list[dict[str, Any]]:
    """The thesauri the Uwazi template uses (docs/uwazi/thesauri.json). People and tags
    start empty: Uwazi's import adds each new label it meets."""
    values = {
        "SecureSubmit categories": list(CATEGORIES.values()),
        "SecureSubmit countries": list(COUNTRIES.values()),
        "SecureSubmit date precision": [
            _precision_label(p, a) for a in (False, True) for p in _PRECISION_LABELS
        ],
        "SecureSubmit people": [],
        "SecureSubmit tags": [],
        "SecureSubmit languages": list(LANGUAGE_NAMES.values()),
        "SecureSubmit review status": list(STATUSES),
    }
    return [
        {"name": name, "values": [{"label": v} for v in labels]} for name, labels in values.items()
    ]


def uwazi_template() -> dict[str, Any]:
    """The Uwazi template (docs/uwazi/template.json). ``content`` holds a placeholder that
    names the thesaurus. Replace it with that thesaurus's ``_id`` (docs/uwazi/README.md)."""
    properties = []
    for prop in UWAZI_PROPERTIES:
        entry: dict[str, Any] = {"label": prop.label, "type": prop.type, "name": prop.name}
        if prop.thesaurus:
            entry["content"] = f"THESAURUS_ID:{prop.thesaurus}"
        if prop.type in ("select", "multiselect", "date"):
            entry["filter"] = True
        if prop.name in ("category", "country", "date"):
            entry["showInCard"] = True
        properties.append(entry)
    return {
        "name": UWAZI_TEMPLATE_NAME,
        "color": "#C03B22",
        "commonProperties": [
            {"label": "Title", "name": "title", "type": "text"},
            {"label": "Date added", "name": "creationDate", "type": "date"},
            {"label": "Date modified", "name": "editDate", "type": "date"},
        ],
        "properties": properties,
    }


_COORDINATES = re.compile(r"(?<![\d.])(-?\d{1,2}\.\d+)\s*[,;]\s*(-?\d{1,3}\.\d+)(?![\d.])")


def coordinates(place: str) -> tuple[float, float] | None:
    """Decimal ``lat, lon`` found in a place text ("Almaty (43.2383, 76.9456)"), or None.
    Both numbers need a decimal point, so that an address such as "house 12, 34" is not
    taken for a position."""
    match = _COORDINATES.search(place)
    if not match:
        return None
    lat, lon = float(match.group(1)), float(match.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def _uwazi_label(value: str) -> str:
    """A value for a (multi)select cell. ``|`` and ``;`` separate values and ``::`` marks a
    group, so they cannot appear inside a label."""
    return " ".join(value.replace("::", ":").replace("|", "/").replace(";", ",").split())


def _uwazi_labels(values: Iterable[str]) -> str:
    seen: dict[str, str] = {}
    for value in values:
        label = _uwazi_label(value)
        if label:
            seen.setdefault(label.casefold(), label)
    return "|".join(seen.values())


def uwazi_row(record: dict[str, Any], attachment_names: Sequence[str] | None) -> list[str]:
    """The Uwazi CSV cells of one ``report_record``: the title, then ``UWAZI_PROPERTIES``,
    then ``attachments`` if ``attachment_names`` is given. Text cells are neutralised
    against formulas. The geolocation cell is left alone: we build it from numbers, and a
    ``'`` would stop Uwazi from reading it."""
    span = date_span(record["incident_date"])
    place = coordinates(record["place"])
    labels = TEMPLATES_FIELD_LABELS
    details = "\n\n".join(
        f"**{labels.get(k, k)}:** {' '.join(v.split())}" for k, v in record["fields"].items() if v
    )
    tags = [*record["reporter_tags"], *record["tags"]]
    values = {
        "title": record["title"],
        "category": record["category_label"],
        "country": record["country_name"],
        "date": span[0].isoformat() if span else "",
        "date_precision": _precision_label(
            date_precision(record["incident_date"]), record["date_approximate"]
        ),
        "place_name": record["place"],
        "people": _uwazi_labels(p["name"] for p in record["people"]),
        "description": record["description"],
        "details": details,
        "sources": "\n\n".join(record["sources"]),
        "tags": _uwazi_labels(tags),
        "original_language": LANGUAGE_NAMES.get(record["language"], ""),
        "review_status": record["status"],
        "securesubmit_report_id": record["report_id"],
    }
    cells = [neutralise(values["title"])]
    for prop in UWAZI_PROPERTIES:
        if prop.name == "place_geolocation":
            cells.append(f"{place[0]:.6f}|{place[1]:.6f}" if place else "")
        else:
            cells.append(neutralise(values[prop.name]))
    if attachment_names is not None:
        cells.append(neutralise("|".join(attachment_names)))
    return cells


TEMPLATES_FIELD_LABELS: dict[str, str] = {
    f.key: f.label for t in TEMPLATES.values() for f in t.fields
}


def uwazi_headers(with_attachments: bool) -> list[str]:
    return ["title", *(p.name for p in UWAZI_PROPERTIES)] + (
        ["attachments"] if with_attachments else []
    )


def _zip_name(item: InboxItem, number: int, attachment: dict[str, Any], redacted: bool) -> str:
    """A flat, safe entry name: the item's short id, the attachment's number, its name."""
    if redacted:
        name = _neutral_name(number, attachment)
    else:
        raw = unicodedata.normalize("NFC", str(attachment.get("name", "")))
        name = "".join(c if c.isalnum() or c in "._-" else "_" for c in raw).strip("._")[:120]
    return f"{item.id[:8]}-{number}-{name or 'file'}"


def vault_attachments(session: Session) -> AttachmentReader:
    """Reads inbox attachments from the vault and checks each against its SHA-256."""

    def read(item: InboxItem, attachment: dict[str, Any]) -> Iterator[bytes]:
        hasher = crypto.sha256_hasher()
        if attachment.get("chunks"):
            blob = bytes.fromhex(str(attachment["blob"]))
            for block in session.vault.read_chunks(blob, int(attachment["chunks"])):
                hasher.update(block)
                yield block
        if hasher.hexdigest() != attachment.get("sha256"):
            raise VaultCorrupt(
                f"attachment {attachment.get('name')!r} of report {item.id[:8]} does not "
                "match its checksum"
            )

    return read


# --- writing -----------------------------------------------------------------------------


class _Text:
    """A text stream over a binary one that leaves the binary one open when done."""

    def __init__(self, raw: IO[bytes], encoding: str) -> None:
        self.stream = io.TextIOWrapper(raw, encoding=encoding, newline="")

    def __enter__(self) -> IO[str]:
        return self.stream

    def __exit__(self, *exc: object) -> None:
        self.stream.flush()
        self.stream.detach()


def export(
    items: Sequence[InboxItem],
    fmt: str,
    out_dir: Path,
    *,
    redact_sensitive: bool = False,
    also_redact: Iterable[str] = (),
    include_notes: bool = False,
    attachments: AttachmentReader | None = None,
) -> ExportedFiles:
    """Write ``items`` to ``out_dir`` as PLAINTEXT files and return their paths.

    * ``csv``: ``reports.csv``, UTF-8 with a byte-order mark (so spreadsheet programs see
      Cyrillic), one row per report, columns ``CSV_COLUMNS``.
    * ``json``: ``reports.jsonl``, one JSON object per line (``report_record``).
    * ``uwazi``: ``uwazi-import.zip`` with ``import.csv`` at its root. The CSV fits the
      template in docs/uwazi/. With ``attachments`` (see ``vault_attachments``), each
      report's files are added next to ``import.csv`` under flat, unique names and listed
      in its ``attachments`` column.

    ``redact_sensitive`` leaves out every person marked sensitive in any exported report,
    or named in ``also_redact`` (pass ``sensitive_names`` of the whole inbox). Their names
    are also replaced in all text (see ``Redactor``). The sender's name becomes
    "sender <fingerprint start>", and attachments get neutral names. Attachment contents
    are NOT redacted. ``include_notes`` adds the coordinator's internal notes (not to Uwazi).

    The directory is created 0700. Files are 0600, appear only when complete, and are
    never overwritten.
    """
    if fmt not in EXPORT_FORMATS:
        raise InputError(
            f"unknown export format {fmt!r}", hint="choose one of: " + ", ".join(EXPORT_FORMATS)
        )
    out_dir = Path(out_dir)
    warnings = []
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir} exists and is not a directory")
    if out_dir.is_dir() and out_dir.stat().st_mode & 0o077:
        warnings.append(
            f"{out_dir} can be read by other users of this computer; "
            "export into a new directory to have it created private (0700)"
        )
    fs.ensure_private_dir(out_dir)
    marked = sensitive_names(items)
    redactor = Redactor([*marked, *also_redact]) if redact_sensitive else None
    if not redact_sensitive and marked:
        count = sum(1 for i in items if any(p.sensitive for p in people_of(i)))
        warnings.append(
            f"{count:,} exported report(s) name people marked sensitive, and their names are "
            "in the files; export with redaction to leave them out"
        )
    target = out_dir / EXPORT_FILES[fmt]
    fs.remove_stale_parts(out_dir, (target.name,))  # plaintext a killed export left
    records = (report_record(i, redactor=redactor, include_notes=include_notes) for i in items)
    if fmt == "csv":
        with fs.atomic_writer(target) as raw, _Text(raw, "utf-8-sig") as text:
            writer = csv.writer(text, quoting=csv.QUOTE_ALL)  # OWASP: every cell quoted
            writer.writerow(CSV_COLUMNS + (("notes",) if include_notes else ()))
            for record in records:
                writer.writerow(csv_row(record, include_notes=include_notes))
    elif fmt == "json":
        with fs.atomic_writer(target) as raw, _Text(raw, "utf-8") as text:
            for record in records:
                text.write(json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n")
    else:
        _write_uwazi(target, items, redactor, attachments)
        if attachments is None and any(i.attachments for i in items):
            warnings.append("attachments were not included (no attachment reader was given)")
        if target.stat().st_size > UWAZI_SIZE_HINT:
            warnings.append(
                f"{target.name} is larger than 50 MB, the upload limit in Uwazi's documentation; "
                "export fewer reports at a time, or without attachments"
            )
    if redactor is not None and fmt == "uwazi" and attachments is not None:
        warnings.append(
            "attachments are copied as they are: redaction does not reach inside photos, "
            "documents or recordings"
        )
    return ExportedFiles(
        [target], fmt=fmt, reports=len(items), redacted=redact_sensitive, warnings=warnings
    )


def _write_uwazi(
    target: Path,
    items: Sequence[InboxItem],
    redactor: Redactor | None,
    reader: AttachmentReader | None,
) -> None:
    with_files = reader is not None
    names: dict[str, list[str]] = {}
    used: set[str] = {UWAZI_CSV_NAME.casefold()}
    for item in items:
        names[item.id] = []
        for number, attachment in enumerate(item.attachments, 1):
            name = _zip_name(item, number, attachment, redactor is not None)
            while name.casefold() in used:  # ids that share 8 characters
                name = f"{item.id[:16]}-{name}"
            used.add(name.casefold())
            names[item.id].append(name)
    with (
        fs.atomic_writer(target) as raw,
        zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        csv_info = zipfile.ZipInfo(UWAZI_CSV_NAME, date_time=(1980, 1, 1, 0, 0, 0))
        csv_info.compress_type = zipfile.ZIP_DEFLATED
        csv_info.external_attr = 0o600 << 16
        with archive.open(csv_info, "w") as entry, _Text(entry, "utf-8") as text:
            writer = csv.writer(text, quoting=csv.QUOTE_ALL)  # OWASP: every cell quoted
            writer.writerow(uwazi_headers(with_files))
            for item in items:
                record = report_record(item, redactor=redactor)
                writer.writerow(uwazi_row(record, names[item.id] if with_files else None))
        if reader is None:
            return
        for item in items:
            for attachment, name in zip(item.attachments, names[item.id], strict=True):
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_STORED
                info.file_size = int(attachment.get("size") or 0)
                info.external_attr = 0o600 << 16
                with archive.open(info, "w") as entry:
                    for block in reader(item, attachment):
                        entry.write(block)
