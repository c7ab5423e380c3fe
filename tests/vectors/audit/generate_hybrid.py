"""Write tests/vectors/audit/checkpoint-hybrid.{txt,json}: the size-8 checkpoint of
checkpoint.json signed by a hybrid log (Ed25519 + ML-DSA-65), with stripped and altered
variants. docs/spec/audit-merkle-and-checkpoint.md §7.1.

ML-DSA-65 signing is hedged (random), so a stored signature is kept while it still
verifies; a new one is made only when the note is missing or no longer verifies.

    /tmp/venv/bin/python -m tests.vectors.audit.generate_hybrid
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from securesubmit.core import crypto, note
from securesubmit.errors import SecureSubmitError

HERE = Path(__file__).resolve().parent
SEED = bytes([0x42]) * 32  # TEST ONLY: the Ed25519 seed of checkpoint.json
MLDSA_SEED = bytes([0x43]) * 32  # TEST ONLY


def main() -> None:
    base = json.loads((HERE / "checkpoint.json").read_text(encoding="utf-8"))
    name = base["key_name"]
    body = base["body"].encode("utf-8")
    public = crypto.signing_public_key(SEED)
    mldsa_public = crypto.mldsa_public_key(MLDSA_SEED)
    path = HERE / "checkpoint-hybrid.txt"
    signed: bytes | None = path.read_bytes() if path.exists() else None
    try:
        if signed is None:
            raise FileNotFoundError
        note.parse_and_verify_checkpoint(signed, name, public, mldsa_public=mldsa_public)
    except (FileNotFoundError, SecureSubmitError):
        signed = note.sign_checkpoint(body, name, SEED, mldsa_seed=MLDSA_SEED)
    lines = signed.decode("utf-8").split("\n")
    ed_line, pq_line = lines[-3], lines[-2]
    stripped = body + b"\n" + (ed_line + "\n").encode("utf-8")
    raw = bytearray(base64.b64decode(pq_line.rsplit(" ", 1)[1]))
    raw[4 + 100] ^= 0x01  # one bit of the ML-DSA-65 signature, past the key ID
    altered_line = pq_line.rsplit(" ", 1)[0] + " " + base64.b64encode(bytes(raw)).decode()
    altered = body + b"\n" + f"{ed_line}\n{altered_line}\n".encode()
    swapped = body + b"\n" + f"{pq_line}\n{ed_line}\n".encode()
    path.write_bytes(signed)
    vector = {
        "WARNING": "TEST ONLY. Both seeds are public (32 bytes of 0x42 and of 0x43). Never "
        "use them for a real vault.",
        "test_only_seed_hex": SEED.hex(),
        "test_only_mldsa_seed_hex": MLDSA_SEED.hex(),
        "public_key_hex": public.hex(),
        "mldsa_public_key_hex": mldsa_public.hex(),
        "key_name": name,
        "key_id_hex": note.key_id(name, public).hex(),
        "mldsa_key_id_hex": note.mldsa_key_id(name, mldsa_public).hex(),
        "mldsa_type_hex": note.MLDSA_TYPE.hex(),
        "mldsa_label": note.MLDSA_NOTE_LABEL,
        "verifier_key": note.verifier_key(name, public),
        "mldsa_verifier_key": note.mldsa_verifier_key(name, mldsa_public),
        "body": body.decode("utf-8"),
        "note_file": path.name,
        "note_bytes": len(signed),
        "cases": [
            {"name": "hybrid", "note": signed.decode("utf-8"), "hybrid": "accept",
             "classical": "accept"},
            {"name": "signature lines in the other order", "note": swapped.decode("utf-8"),
             "hybrid": "accept", "classical": "accept"},
            {"name": "ML-DSA-65 line stripped", "note": stripped.decode("utf-8"),
             "hybrid": "NoMLDSASignature", "classical": "accept"},
            {"name": "ML-DSA-65 signature altered", "note": altered.decode("utf-8"),
             "hybrid": "NoMLDSASignature", "classical": "accept"},
        ],
    }
    (HERE / "checkpoint-hybrid.json").write_text(
        json.dumps(vector, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
