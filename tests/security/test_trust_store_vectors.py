"""The trust-store manifest (docs/spec/trust-store.md) against its vectors.

tests/vectors/trust-store holds TEST ONLY cards and one manifest per case; every valid
case gives exactly the listed entries (a bad card is returned with its problem, never
skipped or accepted), every invalid one is refused whole with a clear FormatError.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from securesubmit.core import partners
from securesubmit.errors import FormatError

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "trust-store"
DOC: dict[str, Any] = json.loads((VECTORS / "vectors.json").read_text(encoding="utf-8"))


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trust_store_vectors", VECTORS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _store(tmp_path: Path, case: str) -> Path:
    store = tmp_path / "keys"
    store.mkdir()
    for card in (VECTORS / "cards").iterdir():
        shutil.copyfile(card, store / card.name)
    shutil.copyfile(VECTORS / "manifests" / f"{case}.MANIFEST", store / partners.MANIFEST_NAME)
    return store


def test_the_generator_writes_the_same_vectors_again() -> None:
    cards, manifests, doc = _generator().build()
    assert doc == DOC
    for name, data in cards.items():
        assert (VECTORS / "cards" / name).read_bytes() == data, name
    assert sorted(p.name for p in (VECTORS / "manifests").iterdir()) == sorted(
        f"{case}.MANIFEST" for case in manifests
    )
    for case, data in manifests.items():
        assert (VECTORS / "manifests" / f"{case}.MANIFEST").read_bytes() == data, case
    assert set(manifests) == set(DOC["valid"]) | set(DOC["invalid"])


@pytest.mark.parametrize("case", sorted(DOC["valid"]))
def test_a_valid_manifest_gives_exactly_its_entries(tmp_path: Path, case: str) -> None:
    entries = partners.read_trust_store(_store(tmp_path, case))
    expected = DOC["valid"][case]["entries"]
    assert [(e.filename, e.fingerprint) for e in entries] == [(f, p) for f, p, _ in expected]
    for entry, (_file, _fp, problem) in zip(entries, expected, strict=True):
        if problem is None:
            assert entry.problem is None and entry.card is not None
            assert partners.format_manifest({entry.filename: entry.card}).endswith(
                f"{entry.fingerprint}  {entry.filename}\n"
            )
        else:
            assert entry.problem is not None and problem in entry.problem


@pytest.mark.parametrize("case", sorted(DOC["invalid"]))
def test_an_invalid_manifest_is_refused_whole(tmp_path: Path, case: str) -> None:
    with pytest.raises(FormatError, match=DOC["invalid"][case]["error"]):
        partners.read_trust_store(_store(tmp_path, case))


def test_format_manifest_writes_the_valid_vector_form(tmp_path: Path) -> None:
    """What ``format_manifest`` writes reads back to the same cards (header, a comment,
    then the cards sorted by file name)."""
    entries = partners.read_trust_store(_store(tmp_path, "two-cards"))
    cards = {e.filename: e.card for e in entries if e.card is not None}
    text = partners.format_manifest(cards)
    assert text == (VECTORS / "manifests" / "comments-and-blank-lines.MANIFEST").read_text(
        encoding="utf-8"
    ).replace("\n\n", "\n").replace("# a comment\n", "")
    (tmp_path / "keys" / partners.MANIFEST_NAME).write_text(text, encoding="utf-8")
    assert [e.problem for e in partners.read_trust_store(tmp_path / "keys")] == [None, None]


def test_the_manifest_size_and_card_count_are_bounded(tmp_path: Path) -> None:
    store = _store(tmp_path, "header-only")
    manifest = store / partners.MANIFEST_NAME
    comment = "#" * 99 + "\n"
    manifest.write_text(
        partners.MANIFEST_HEADER + "\n" + comment * (partners.MAX_MANIFEST_BYTES // 100 + 1)
    )
    with pytest.raises(FormatError, match="too large"):
        partners.read_trust_store(store)
    fp = DOC["valid"]["two-cards"]["entries"][0][1]
    lines = [f"{fp}  c{n}.card" for n in range(partners.MAX_STORE_CARDS + 1)]
    manifest.write_text(partners.MANIFEST_HEADER + "\n" + "\n".join(lines) + "\n")
    with pytest.raises(FormatError, match="too many cards"):
        partners.read_trust_store(store)
