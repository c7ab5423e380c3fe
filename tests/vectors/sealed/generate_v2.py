"""Write the version 2 (hybrid) sealed-report vectors of docs/spec/sealed-report.md §12.

    /tmp/venv/bin/python tests/vectors/sealed/generate_v2.py           # only missing files
    /tmp/venv/bin/python tests/vectors/sealed/generate_v2.py --force   # all of them again

Every key here is TEST-ONLY: the secret halves are published in v2/vectors.json.

ML-DSA-65 signing is hedged (randomised) and age is randomised, so these files are made
once and kept; tests/unit/test_seal.py opens each and checks the result named in
v2/vectors.json. The containers are assembled here from the specification (json.dumps,
byte concatenation, the statement written out with f-strings), independently of
securesubmit/core/seal.py; only the primitives (Ed25519, ML-DSA-65, age) come from
core/crypto.py and core/agev1.py. Invalid files are signed correctly wherever a signature
can be made, so that the rule named by the file is what refuses them.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path
from typing import Any

from securesubmit.core import agev1, crypto

HERE = Path(__file__).resolve().parent / "v2"

# TEST-ONLY: (Ed25519 seed, X25519 secret, ML-DSA-65 seed, MLKEM768-X25519 seed)
KEYS = {
    "A": (b"\x01" * 32, b"\x02" * 32, b"\x0a" * 32, b"\x0b" * 32),
    "B": (b"\x03" * 32, b"\x04" * 32, b"\x0c" * 32, b"\x0d" * 32),
}
MAGIC_V2 = b"securesubmit-sealed v2\n"
MAGIC_V1 = b"securesubmit-sealed v1\n"
LABEL = "sealed-report"
REPORT_ID = "5e1ec7ed0a9e4c3b8d2f6a7b9c0d1e2f"
CREATED = "2026-11-23T10:00:00Z"
SEALED = "2026-11-23T12:30:00Z"


def public(name: str) -> dict[str, bytes]:
    ed, x, mldsa, pq = KEYS[name]
    return {
        "signing": crypto.signing_public_key(ed),
        "encryption": crypto.encryption_public_key(x),
        "mldsa": crypto.mldsa_public_key(mldsa),
        "pq": crypto.hybrid_public_key(pq),
    }


def fingerprint_v2(name: str) -> str:
    k = public(name)
    data = (
        b"securesubmit/v2/fingerprint\x00" + k["signing"] + k["encryption"] + k["mldsa"] + k["pq"]
    )
    return hashlib.sha256(data).hexdigest()


def fingerprint_v1(name: str) -> str:
    k = public(name)
    return hashlib.sha256(
        b"securesubmit/v1/fingerprint\x00" + k["signing"] + k["encryption"]
    ).hexdigest()


def sender_v2(name: str) -> dict[str, str]:
    k = public(name)
    return {
        "encryption_public": k["encryption"].hex(),
        "fingerprint": fingerprint_v2(name),
        "mldsa_public": k["mldsa"].hex(),
        "pq_public": k["pq"].hex(),
        "signing_public": k["signing"].hex(),
    }


def header(encryption: str = "hybrid", **changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "attachments": [],
        "created": CREATED,
        "encryption": encryption,
        "recipients": [fingerprint_v2("B")],
        "report": {"title": "minimal hybrid"},
        "report_id": REPORT_ID,
        "sealed": SEALED,
        "sender": sender_v2("A"),
    }
    value.update(changes)
    return value


def canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def statement(h: dict[str, Any], payload_sha256: str) -> bytes:
    lines = ["securesubmit-sealed-report v2", f"sender: {h['sender']['fingerprint']}"]
    lines += [f"recipient: {fp}" for fp in sorted(h["recipients"])]
    lines += [
        f"report-id: {h['report_id']}",
        f"created: {h['created']}",
        f"sealed: {h['sealed']}",
        f"encryption: {h.get('encryption', 'hybrid')}",
        f"payload-sha256: {payload_sha256}",
    ]
    return ("\n".join(lines) + "\n").encode("ascii")


def container(
    h: dict[str, Any], *, magic: bytes = MAGIC_V2, trailer: Any = None
) -> tuple[bytes, bytes, bytes]:
    """(container, Ed25519 signature, ML-DSA-65 signature); ``trailer`` rewrites both."""
    raw = canonical(h)
    payload = magic + len(raw).to_bytes(4, "big") + raw
    text = statement(h, hashlib.sha256(payload).hexdigest())
    ed = crypto.sign(KEYS["A"][0], LABEL, text)
    mldsa = crypto.mldsa_sign(KEYS["A"][2], LABEL, text)
    tail = ed + mldsa if trailer is None else trailer(ed, mldsa)
    return payload + tail, ed, mldsa


def age_to_b(data: bytes, *, hybrid: bool = True) -> bytes:
    k = public("B")
    recipient: agev1.Recipient = (
        agev1.HybridRecipient(k["pq"]) if hybrid else agev1.X25519Recipient(k["encryption"])
    )
    out = io.BytesIO()
    agev1.encrypt_stream(io.BytesIO(data), out, [recipient])
    return out.getvalue()


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


def build() -> tuple[dict[str, bytes], dict[str, Any]]:
    valid, _, _ = container(header())
    classical_claim, _, _ = container(header("classical"))
    v1_sender = {k: v for k, v in sender_v2("A").items() if k not in ("mldsa_public", "pq_public")}
    v1_sender["fingerprint"] = fingerprint_v1("A")
    files = {
        "minimal.container": valid,
        "minimal.age": age_to_b(valid),
        "classical-claim.container": classical_claim,
        "classical-claim.age": age_to_b(classical_claim, hybrid=False),
        "invalid/mldsa-stripped.container": container(header(), trailer=lambda e, m: e)[0],
        "invalid/mldsa-altered.container": container(
            header(), trailer=lambda e, m: e + flip(m, 1000)
        )[0],
        "invalid/mldsa-zeroed.container": container(
            header(), trailer=lambda e, m: e + bytes(len(m))
        )[0],
        "invalid/ed25519-altered.container": container(
            header(), trailer=lambda e, m: flip(e, 10) + m
        )[0],
        "invalid/mldsa-by-another-key.container": container(
            header(),
            trailer=lambda e, m: (
                e + crypto.mldsa_sign(KEYS["B"][2], LABEL, b"securesubmit-sealed-report v2\n")
            ),
        )[0],
        "invalid/sender-without-post-quantum-keys.container": container(header(sender=v1_sender))[
            0
        ],
        "invalid/v1-fingerprint-in-v2.container": container(
            header(sender={**sender_v2("A"), "fingerprint": fingerprint_v1("A")})
        )[0],
        "invalid/encryption-missing.container": container(
            {k: v for k, v in header().items() if k != "encryption"}
        )[0],
        "invalid/encryption-unknown.container": container(header("none"))[0],
        "invalid/v2-header-under-v1-magic.container": container(header(), magic=MAGIC_V1)[0],
        "invalid/age-replaced-by-x25519.age": age_to_b(valid, hybrid=False),
        "invalid/classical-claim-in-hybrid-age.age": age_to_b(classical_claim),
    }
    ed, x, mldsa, pq = KEYS["A"]
    description = {
        "WARNING": (
            "TEST-ONLY KEYS. Their secret halves are published here; never use them for "
            "anything but tests."
        ),
        "keys": {
            name: {
                "ed25519_seed": k[0].hex(),
                "x25519_secret": k[1].hex(),
                "mldsa_seed": k[2].hex(),
                "hybrid_seed": k[3].hex(),
                "fingerprint": fingerprint_v2(name),
            }
            for name, k in KEYS.items()
        },
        "opened_as": "B",
        "valid": {
            "minimal.container": {"encryption": None, "statement_encryption": "hybrid"},
            "minimal.age": {"encryption": "hybrid", "statement_encryption": "hybrid"},
            "classical-claim.container": {"encryption": None, "statement_encryption": "classical"},
            "classical-claim.age": {"encryption": "classical", "statement_encryption": "classical"},
        },
        "invalid": {
            "mldsa-stripped.container": ["FormatError", "truncated"],
            "mldsa-altered.container": ["BadSignature", "ML-DSA-65 signature does not verify"],
            "mldsa-zeroed.container": ["BadSignature", "ML-DSA-65 signature does not verify"],
            "ed25519-altered.container": ["BadSignature", "Ed25519 signature does not verify"],
            "mldsa-by-another-key.container": ["BadSignature", "ML-DSA-65"],
            "sender-without-post-quantum-keys.container": ["FormatError", "lacks the key"],
            "v1-fingerprint-in-v2.container": ["FormatError", "does not match its keys"],
            "encryption-missing.container": ["FormatError", "lacks the key 'encryption'"],
            "encryption-unknown.container": ["FormatError", "not 'hybrid' or 'classical'"],
            "v2-header-under-v1-magic.container": ["FormatError", "unknown key"],
            "age-replaced-by-x25519.age": ["ProtectionDowngraded", "age layer is classical"],
            "classical-claim-in-hybrid-age.age": ["ProtectionDowngraded", "sealed it classical"],
        },
        "sizes": {"minimal.container": len(valid), "minimal.age": None},
    }
    del ed, x, mldsa, pq
    return files, description


def main() -> int:
    force = "--force" in sys.argv[1:]
    files, description = build()
    written = 0
    for relative, content in files.items():
        path = HERE / relative
        if path.exists() and not force:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written += 1
    description["sizes"]["minimal.age"] = (HERE / "minimal.age").stat().st_size
    (HERE / "vectors.json").write_text(json.dumps(description, indent=2) + "\n")
    print(f"wrote {written} files to {HERE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
