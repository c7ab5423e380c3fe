"""Keep the app's translation catalogues in step with the code; no system gettext needed.

    python -m securesubmit.tui.locale_tool extract   # add new strings to every .po file
    python -m securesubmit.tui.locale_tool compile   # write the .mo files from the .po files
    python -m securesubmit.tui.locale_tool check     # exit 1 if anything is stale or missing

``extract`` collects the string literals given to ``_``, ``N_`` and ``ngettext`` in
securesubmit/tui. ``compile`` writes GNU .mo files as msgfmt does (sorted, no hash table,
fuzzy and untranslated entries left out), byte for byte reproducibly.

Every catalogue must hold every string of the source, and every translation must keep the
``{placeholders}`` of its msgid. Russian must translate them all; a language in PARTIAL
may leave some untranslated (an empty msgstr: the app shows the English), and ``check``
says how far it has got. English is the source: its msgstrs stay empty.
"""

from __future__ import annotations

import ast
import re
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

TUI_DIR = Path(__file__).resolve().parent
LOCALE_DIR = TUI_DIR / "locale"
DOMAIN = "securesubmit"
MARKERS = ("_", "N_")
SOURCE_LANGUAGE = "en"
PARTIAL = frozenset({"kk"})
"""Languages whose translation is started but not complete (the app falls back to English)."""
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


@dataclass
class Entry:
    msgid: str
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=lambda: [""])
    comments: list[str] = field(default_factory=list)
    fuzzy: bool = False

    @property
    def translated(self) -> bool:
        return not self.fuzzy and all(self.msgstr)


@dataclass
class Catalog:
    header: Entry
    entries: dict[str, Entry]


# --- source ----------------------------------------------------------------------------


def source_messages(root: Path = TUI_DIR) -> dict[str, str | None]:
    """msgid -> plural form (or None), in the order they first appear in the source."""
    found: dict[str, str | None] = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            args = node.args
            strings = [a.value for a in args if isinstance(a, ast.Constant)]
            if node.func.id in MARKERS and args and isinstance(args[0], ast.Constant):
                if isinstance(args[0].value, str) and args[0].value:
                    found.setdefault(args[0].value, None)
            elif (
                node.func.id == "ngettext"
                and len(strings) >= 2
                and isinstance(strings[0], str)
                and isinstance(strings[1], str)
            ):
                found.setdefault(strings[0], strings[1])
    return found


# --- .po files ---------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"not a quoted string: {text!r}")
    out, body, i = [], text[1:-1], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def read_po(path: Path) -> Catalog:
    entries: list[Entry] = []
    current: Entry | None = None
    target = ("", 0)
    comments: list[str] = []
    fuzzy = False

    def entry() -> Entry:
        if current is None:
            raise ValueError("a line out of place")
        return current

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        try:
            if not line:
                if current is not None:
                    entries.append(current)
                current, target = None, ("", 0)
            elif line.startswith("#,"):
                fuzzy = fuzzy or "fuzzy" in line
            elif line.startswith("#"):
                comments.append(raw)
            elif line.startswith("msgid_plural "):
                entry().msgid_plural = _unquote(line[len("msgid_plural ") :])
                target = ("plural", 0)
            elif line.startswith("msgid "):
                if current is not None:
                    entries.append(current)
                current = Entry(_unquote(line[6:]), comments=comments, fuzzy=fuzzy)
                comments, fuzzy = [], False
                target = ("msgid", 0)
            elif line.startswith("msgstr["):
                index = int(line[7 : line.index("]")])
                msgstr = entry().msgstr
                while len(msgstr) <= index:
                    msgstr.append("")
                msgstr[index] = _unquote(line[line.index("]") + 1 :])
                target = ("msgstr", index)
            elif line.startswith("msgstr "):
                entry().msgstr = [_unquote(line[7:])]
                target = ("msgstr", 0)
            elif line.startswith('"'):
                more, (kind, index) = _unquote(line), target
                if kind == "msgid":
                    entry().msgid += more
                elif kind == "plural":
                    entry().msgid_plural = (entry().msgid_plural or "") + more
                elif kind == "msgstr":
                    entry().msgstr[index] += more
                else:
                    raise ValueError("a continuation line out of place")
            else:
                raise ValueError("unexpected line")
        except (ValueError, IndexError) as exc:
            raise ValueError(f"{path}:{number}: cannot parse: {exc}") from None
    if current is not None:
        entries.append(current)
    header = next((e for e in entries if e.msgid == ""), Entry(""))
    return Catalog(header, {e.msgid: e for e in entries if e.msgid})


def write_po(catalog: Catalog, path: Path) -> None:
    blocks = []
    for entry in [catalog.header, *catalog.entries.values()]:
        lines = list(entry.comments)
        if entry.fuzzy:
            lines.append("#, fuzzy")
        lines.append("msgid " + _quote(entry.msgid))
        if entry.msgid_plural is not None:
            lines.append("msgid_plural " + _quote(entry.msgid_plural))
            lines += [f"msgstr[{i}] " + _quote(s) for i, s in enumerate(entry.msgstr)]
        elif entry.msgid == "":
            lines.append('msgstr ""')
            lines += [_quote(part) for part in entry.msgstr[0].splitlines(keepends=True)]
        else:
            lines.append("msgstr " + _quote(entry.msgstr[0]))
        blocks.append("\n".join(lines))
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")


def nplurals(catalog: Catalog) -> int:
    for line in catalog.header.msgstr[0].splitlines():
        if line.lower().startswith("plural-forms:"):
            for part in line.split(":", 1)[1].split(";"):
                key, _sep, value = part.strip().partition("=")
                if key.strip() == "nplurals":
                    return int(value)
    return 2


def merge(catalog: Catalog, messages: dict[str, str | None]) -> Catalog:
    """The catalogue with exactly the source's messages, keeping existing translations."""
    count = nplurals(catalog)
    entries: dict[str, Entry] = {}
    for msgid, plural in messages.items():
        old = catalog.entries.get(msgid)
        if old is not None and old.msgid_plural == plural:
            entries[msgid] = old
        else:
            entries[msgid] = Entry(msgid, plural, [""] * (count if plural else 1))
    return Catalog(catalog.header, entries)


# --- .mo files ---------------------------------------------------------------------------


def compile_mo(catalog: Catalog) -> bytes:
    """GNU .mo bytes: the header and every translated, non-fuzzy entry."""
    pairs: dict[bytes, bytes] = {b"": catalog.header.msgstr[0].encode("utf-8")}
    for entry in catalog.entries.values():
        if not entry.translated:
            continue
        msgid = (
            entry.msgid if entry.msgid_plural is None else f"{entry.msgid}\0{entry.msgid_plural}"
        )
        pairs[msgid.encode("utf-8")] = "\0".join(entry.msgstr).encode("utf-8")
    keys = sorted(pairs)
    count = len(keys)
    originals_at = 7 * 4
    translations_at = originals_at + count * 8
    data_at = translations_at + count * 8
    originals, translations, blob = [], [], b""
    for key in keys:
        originals.append((len(key), data_at + len(blob)))
        blob += key + b"\0"
    for key in keys:
        value = pairs[key]
        translations.append((len(value), data_at + len(blob)))
        blob += value + b"\0"
    out = struct.pack("<7I", 0x950412DE, 0, count, originals_at, translations_at, 0, 0)
    for length, offset in originals + translations:
        out += struct.pack("<2I", length, offset)
    return out + blob


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def languages() -> list[str]:
    return sorted(p.name for p in LOCALE_DIR.iterdir() if po_path(p.name).is_file())


def problems() -> list[str]:
    """Stale .mo files and untranslated or fuzzy entries, as sentences."""
    found = []
    messages = source_messages()
    for language in languages():
        path = po_path(language)
        catalog = read_po(path)
        missing = [m for m in messages if m not in catalog.entries]
        if missing:
            found.append(
                f"{language}: {len(missing)} strings not extracted yet, e.g. {missing[0]!r}"
            )
        if language != SOURCE_LANGUAGE:
            entries = catalog.entries.values()
            untranslated = [e.msgid for e in entries if not e.translated]
            if untranslated and language not in PARTIAL:
                found.append(f"{language}: {len(untranslated)} untranslated or fuzzy strings")
            fuzzy = [e.msgid for e in entries if e.fuzzy]
            if fuzzy and language in PARTIAL:  # untranslated is allowed; fuzzy is not
                found.append(f"{language}: {len(fuzzy)} fuzzy strings, e.g. {fuzzy[0]!r}")
            for entry in entries:
                wanted = set(PLACEHOLDER.findall(entry.msgid))
                if any(form and set(PLACEHOLDER.findall(form)) != wanted for form in entry.msgstr):
                    found.append(f"{language}: placeholders differ in {entry.msgid!r}")
        mo = path.with_suffix(".mo")
        if not mo.is_file() or mo.read_bytes() != compile_mo(catalog):
            found.append(f"{language}: {mo.name} is stale; run 'compile'")
    return found


def coverage(language: str) -> tuple[int, int]:
    """How many of a catalogue's strings are translated, of how many."""
    entries = read_po(po_path(language)).entries.values()
    return sum(1 for e in entries if e.translated), len(entries)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else ""
    if command == "extract":
        messages = source_messages()
        for language in languages():
            path = po_path(language)
            write_po(merge(read_po(path), messages), path)
            print(f"updated {path}")
        return 0
    if command == "compile":
        for language in languages():
            path = po_path(language)
            path.with_suffix(".mo").write_bytes(compile_mo(read_po(path)))
            print(f"wrote {path.with_suffix('.mo')}")
        return 0
    if command == "check":
        issues = problems()
        for issue in issues:
            print(issue, file=sys.stderr)
        for language in sorted(PARTIAL & set(languages())):
            done, total = coverage(language)
            print(f"{language}: partial, {done} of {total} strings translated")
        return 1 if issues else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
