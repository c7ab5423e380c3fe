"""Write the trust-store manifest vectors of docs/spec/trust-store.md.

    /tmp/venv/bin/python tests/vectors/trust-store/generate.py

Self-contained: the cards in ``cards/`` are made here from fixed, public seeds (version 1,
classical keys, so Ed25519's deterministic signatures give the same bytes on every run);
they are TEST ONLY and have nothing to do with keys/ (which is regenerated separately).

Each case is one manifest, ``manifests/<case>.MANIFEST``, read from a folder that holds
it as ``MANIFEST`` next to every file of ``cards/``. ``vectors.json`` gives, per case,
either the entries ``read_trust_store`` returns (file name, fingerprint as written, and
the problem: null, or a phrase its message contains) or the phrase of the FormatError
that refuses the whole manifest. tests/security/test_trust_store_vectors.py checks every
case and that this script writes the same bytes again.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from securesubmit.core import crypto, identity

HERE = Path(__file__).resolve().parent
HEADER = "# securesubmit trust store v1\n"
SEED = b"securesubmit trust-store vectors -- TEST ONLY, secret is public"


def make_card(name: str) -> bytes:
    signing = hashlib.sha256(SEED + b"/signing/" + name.encode()).digest()
    encryption = hashlib.sha256(SEED + b"/encryption/" + name.encode()).digest()
    card = identity.make_card(
        signing,
        crypto.encryption_public_key(encryption),
        name=f"TEST ONLY {name.title()} Partner",
        organisation="SecureSubmit trust-store vectors",
        role="coordinator",
        created=datetime(2026, 1, 1, tzinfo=UTC),
        expires=datetime(2031, 1, 1, tzinfo=UTC),
    )
    return card.to_text()


def fingerprint(card: bytes) -> str:
    return identity.format_fingerprint(identity.parse_card(card).fingerprint)


def build() -> tuple[dict[str, bytes], dict[str, bytes], dict[str, Any]]:
    """(cards by file name, manifests by case, vectors.json)."""
    cards = {f"{n}.card": make_card(n) for n in ("alpha", "beta")}
    cards["broken.card"] = b"this is not an identity card\n"
    a, b = fingerprint(cards["alpha.card"]), fingerprint(cards["beta.card"])
    ok: list[Any] = [["alpha.card", a, None], ["beta.card", b, None]]
    valid = {
        "two-cards": (HEADER + f"{a}  alpha.card\n{b}  beta.card\n", ok),
        "comments-and-blank-lines": (
            HEADER + "# fingerprint (8 groups of 4)             card file\n\n"
            f"{a}  alpha.card\n# a comment\n\n{b}  beta.card\n",
            ok,
        ),
        "header-only": (HEADER, []),
        "fingerprint-differs": (
            HEADER + f"{b}  alpha.card\n",
            [["alpha.card", b, "its fingerprint differs from the manifest"]],
        ),
        "card-missing": (HEADER + f"{a}  gamma.card\n", [["gamma.card", a, "not found"]]),
        "card-malformed": (
            HEADER + f"{a}  broken.card\n",
            [["broken.card", a, "not a SecureSubmit card"]],
        ),
    }
    invalid = {
        "no-header": (f"{a}  alpha.card\n", "is not a trust store manifest"),
        "other-version": (HEADER.replace("v1", "v2") + f"{a}  alpha.card\n", "is not a trust"),
        "byte-order-mark": ("\ufeff" + HEADER + f"{a}  alpha.card\n", "is not a trust store"),
        "crlf": (HEADER.replace("\n", "\r\n") + f"{a}  alpha.card\r\n", "is not a trust store"),
        "cr-inside": (HEADER + f"{a}  alpha.card\r\n", "is not a trust store manifest"),
        "no-final-newline": (HEADER + f"{a}  alpha.card", "is not a trust store manifest"),
        "one-space": (HEADER + f"{a} alpha.card\n", "line 2 is malformed"),
        "three-spaces": (HEADER + f"{a}   alpha.card\n", "line 2 is malformed"),
        "tab": (HEADER + f"{a}\talpha.card\n", "line 2 is malformed"),
        "trailing-space": (HEADER + f"{a}  alpha.card \n", "line 2 is malformed"),
        "lower-case-fingerprint": (HEADER + f"{a.lower()}  alpha.card\n", "line 2 is malformed"),
        "fingerprint-without-spaces": (
            HEADER + f"{a.replace(' ', '')}  alpha.card\n",
            "line 2 is malformed",
        ),
        "short-fingerprint": (HEADER + f"{a[:-5]}  alpha.card\n", "line 2 is malformed"),
        "not-base32": (HEADER + f"{a[:-1]}1  alpha.card\n", "line 2 is malformed"),
        "path-in-name": (HEADER + f"{a}  ../alpha.card\n", "line 2 is malformed"),
        "absolute-path": (HEADER + f"{a}  /etc/alpha.card\n", "line 2 is malformed"),
        "not-a-card-name": (HEADER + f"{a}  alpha.txt\n", "line 2 is malformed"),
        "space-in-name": (HEADER + f"{a}  my alpha.card\n", "line 2 is malformed"),
        "leading-space-comment": (HEADER + " # not a comment\n", "line 2 is malformed"),
        "listed-twice": (
            HEADER + f"{a}  alpha.card\n{a}  alpha.card\n",
            "lists alpha.card twice",
        ),
    }
    manifests = {case: text.encode("utf-8") for case, (text, _) in {**valid, **invalid}.items()}
    manifests["not-utf8"] = HEADER.encode() + b"# caf\xe9\n"
    doc: dict[str, Any] = {
        "comment": "TEST ONLY cards from a public seed; see generate.py and "
        "docs/spec/trust-store.md",
        "valid": {case: {"entries": entries} for case, (_, entries) in valid.items()},
        "invalid": {case: {"error": error} for case, (_, error) in invalid.items()},
    }
    doc["invalid"]["not-utf8"] = {"error": "is not UTF-8 text"}
    return cards, manifests, doc


def main() -> None:
    cards, manifests, doc = build()
    for folder, files in (("cards", cards), ("manifests", manifests)):
        (HERE / folder).mkdir(exist_ok=True)
        for name, data in files.items():
            target = HERE / folder / (name if folder == "cards" else f"{name}.MANIFEST")
            target.write_bytes(data)
    (HERE / "vectors.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
