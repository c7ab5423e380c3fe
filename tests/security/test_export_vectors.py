"""The inbox exports match their vectors byte for byte, and no cell runs as a formula.

tests/vectors/exports (see its generate.py) holds a fixed inbox and the exact files the
CSV, JSON-lines and Uwazi exports write for it (docs/spec/exports.md). The formula rules
of §3 are checked one by one: every leading character a spreadsheet runs, also after
whitespace and in full-width form, in every text cell of both CSV formats.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from securesubmit.core import inbox
from securesubmit.core.exchange import InboxItem
from tests.vectors.exports import generate as vectors

VECTORS = Path(vectors.__file__).resolve().parent


def test_the_exports_of_the_fixed_inbox_are_the_vector_bytes(tmp_path: Path) -> None:
    made = vectors.export_all(vectors.load_inbox(), tmp_path)
    stored = {
        str(p.relative_to(VECTORS)): p.read_bytes()
        for p in VECTORS.rglob("*")
        if p.is_file() and p.parent != VECTORS
    }
    assert sorted(made) == sorted(stored)
    for name, data in made.items():
        assert data == stored[name], f"{name} differs from its vector"


def test_the_vectors_read_back_to_the_inbox(tmp_path: Path) -> None:
    """Reading the CSV vector back (utf-8-sig, RFC 4180, ``unneutralise`` per cell) gives
    the exported record's values: the neutralising is exact and reversible."""
    items = vectors.load_inbox()
    text = (VECTORS / "csv" / "reports.csv").read_bytes().decode("utf-8-sig")
    assert text.startswith('"id","report_id","title"')  # every cell quoted (OWASP)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["id"] for r in rows] == [i.id for i in items]
    for row, item in zip(rows, items, strict=True):
        record = inbox.report_record(item)
        assert inbox.unneutralise(row["title"]) == record["title"]
        assert inbox.unneutralise(row["place"]) == record["place"]
        assert inbox.unneutralise(row["description"]) == record["description"]
        assert inbox.unneutralise(row["sender_name"]) == record["sender_name"]
    lines = (VECTORS / "json" / "reports.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["title"] for line in lines] == [i.report["title"] for i in items]


DANGEROUS = [
    "=1+1",
    "+1",
    "-1",
    "@SUM(1)",
    "\t=1",
    "\r=1",
    "\0=1",
    " =1+1",
    "   +1",
    " -1",
    "  @SUM(1)",
    "\n=1",
    "\u00a0=1",  # no-break space
    "\u3000=1",  # ideographic space
    "\u2003+1",  # em space
    "\u200b=1",  # zero-width space
    "\ufeff=1",  # byte-order mark
    "\uff1d1+1",  # ＝
    "\uff0b1",  # ＋
    "\uff0d1",  # －
    "\uff20SUM(1)",  # ＠
    " \uff1dcmd",
    "'=1",  # read back exactly: gets a second '
    "''+1",
]
HARMLESS = ["a=b", "1-2", "x @y", "", " ", "'quoted", "text\n=1", "\u2212 1", "*bold*"]


def _runs(cell: str) -> bool:
    """A spreadsheet would run the cell: formula-like and not behind a ``'``."""
    return not cell.startswith("'") and inbox.is_formula_like(cell)


def _cells(item: InboxItem, fmt: str, out: Path) -> list[str]:
    (path,) = inbox.export([item], fmt, out)
    if fmt == "csv":
        text = path.read_bytes().decode("utf-8-sig")
    else:
        with zipfile.ZipFile(path) as archive:
            text = archive.read(inbox.UWAZI_CSV_NAME).decode("utf-8")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _item(text: str) -> InboxItem:
    (first, *_rest) = vectors.load_inbox()
    record = first.to_record()
    record["report"] = {**record["report"], "title": text, "place": text, "description": text}
    record["sender_name"] = text
    return InboxItem.from_record(first.id, record)


@pytest.mark.parametrize("text", DANGEROUS)
@pytest.mark.parametrize("fmt", ["csv", "uwazi"])
def test_a_cell_that_could_run_as_a_formula_is_neutralised(
    tmp_path: Path, fmt: str, text: str
) -> None:
    assert inbox.is_formula_like(text)
    cells = _cells(_item(text), fmt, tmp_path / fmt)
    assert "'" + text in cells and text not in cells
    assert not [c for c in cells if _runs(c)]
    assert inbox.unneutralise(inbox.neutralise(text)) == text


@pytest.mark.parametrize("text", HARMLESS)
def test_a_harmless_cell_is_left_as_it_is(tmp_path: Path, text: str) -> None:
    assert not inbox.is_formula_like(text)
    assert inbox.neutralise(text) == text == inbox.unneutralise(text)
    assert text in _cells(_item(text), "csv", tmp_path)


def test_the_uwazi_geolocation_cell_stays_readable_for_uwazi(tmp_path: Path) -> None:
    """``-12.5|45.25`` starts with ``-`` but is built by us from two numbers: Uwazi must
    read it as it is (reference: /work/shared/reference/uwazi-csv.md, geolocation)."""
    item = _item("title")
    item.report["place"] = "south (-12.5, 45.25)"
    text = _cells(item, "uwazi", tmp_path)
    assert "-12.500000|45.250000" in text
