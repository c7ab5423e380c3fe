"""Write the inbox export vectors of docs/spec/exports.md.

    /tmp/venv/bin/python tests/vectors/exports/generate.py

``inbox.json`` is a small fixed inbox (three items, as the vault stores them: id and
record), chosen to reach every rule of the spec: Cyrillic text, a template's fields and a
field of no template, people marked sensitive, list cells with line breaks, notes,
attachments, an approximate date and a place with coordinates (Uwazi geolocation), and
cells a spreadsheet would run as formulas, with leading whitespace and full-width signs.

The expected files are the exact bytes ``inbox.export`` writes for it:

==============================  =====================================================
``csv/reports.csv``             ``export(items, "csv", ...)``
``csv-redacted/reports.csv``    ``export(items, "csv", ..., redact_sensitive=True,
                                include_notes=True)``
``json/reports.jsonl``          ``export(items, "json", ...)``
``uwazi/import.csv``            ``import.csv`` inside ``export(items, "uwazi", ...)``
``uwazi/entries.json``          the ZIP's entry names, dates and modes
==============================  =====================================================

The ZIP itself is not a vector (its deflate bytes depend on the zlib build); its CSV is.
tests/security/test_export_vectors.py exports the inbox again and compares byte for byte.
"""

from __future__ import annotations

import json
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from securesubmit.core import inbox
from securesubmit.core.exchange import InboxItem

HERE = Path(__file__).resolve().parent
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "csv": ("csv", {}),
    "csv-redacted": ("csv", {"redact_sensitive": True, "include_notes": True}),
    "json": ("json", {}),
    "uwazi": ("uwazi", {}),
}


def load_inbox(path: Path = HERE / "inbox.json") -> list[InboxItem]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [InboxItem.from_record(entry["id"], entry["record"]) for entry in raw["items"]]


def export_all(items: list[InboxItem], work: Path) -> dict[str, bytes]:
    """Every expected file of the vectors, by its path under tests/vectors/exports."""
    out: dict[str, bytes] = {}
    for case, (fmt, options) in CASES.items():
        (path,) = inbox.export(items, fmt, work / case, **options)
        if fmt != "uwazi":
            out[f"{case}/{path.name}"] = path.read_bytes()
            continue
        with zipfile.ZipFile(path) as archive:
            out[f"{case}/import.csv"] = archive.read(inbox.UWAZI_CSV_NAME)
            entries = [
                {
                    "name": i.filename,
                    "date_time": list(i.date_time),
                    "mode": oct(i.external_attr >> 16),
                }
                for i in archive.infolist()
            ]
        out[f"{case}/entries.json"] = (json.dumps(entries, indent=2) + "\n").encode("utf-8")
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        files = export_all(load_inbox(), Path(work))
    for name, data in files.items():
        target = HERE / name
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(data)
        print(f"wrote {target.relative_to(HERE.parents[2])} ({len(data)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
