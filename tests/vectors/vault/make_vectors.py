"""Regenerate tests/vectors/vault/vault-v1.json (run from the repository root).

TEST-ONLY values: every key and nonce here comes from a public deterministic generator.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from securesubmit.core import crypto, vault
from tests.helpers import deterministic_rng

OUT = Path(__file__).with_name("vault-v1.json")


def build() -> dict[str, object]:
    rng = deterministic_rng(b"securesubmit vault vectors v1")
    vault_id = rng(16)
    master = rng(32)
    passphrase = "Пароль: correct horse battery staple"
    params = crypto.KdfParams(memory_kib=64, iterations=2, lanes=1)
    params_json = vault._params_json(params)
    salt = rng(16)
    kek = crypto.derive_passphrase_key(passphrase, salt, params)
    slot_nonce = rng(12)
    slot_ad = vault._slot_ad(vault_id, 0, params_json)
    wrapped = crypto.aead_encrypt(kek, master, slot_ad, rng=lambda n: slot_nonce)

    records_key = crypto.derive_subkey(master, "vault/records", vault_id)
    record_id = rng(16)
    record = {"kind": "report", "schema": 1, "title": "Блогер задержан", "category": "media"}
    plaintext = vault.pad(vault.canonical_json(record))
    record_nonce = rng(12)
    record_ad = vault._row_ad(vault_id, "objects", "data", record_id, 3)
    record_blob = crypto.aead_encrypt(records_key, plaintext, record_ad, rng=lambda n: record_nonce)

    chunk_ids = crypto.derive_subkey(master, "vault/chunk-ids", vault_id)
    attachment_id = rng(16)
    chunk_key = crypto.derive_subkey(master, "vault/chunks", vault_id + attachment_id)
    chunk_row = crypto.mac(chunk_ids, attachment_id + struct.pack(">Q", 1))[:16]
    chunk_plain = b"chunk number one " * 4
    chunk_nonce = rng(12)
    chunk_ad = vault._row_ad(vault_id, "chunks", "data", attachment_id, 1)
    chunk_blob = crypto.aead_encrypt(chunk_key, chunk_plain, chunk_ad, rng=lambda n: chunk_nonce)

    return {
        "comment": "TEST-ONLY vectors for docs/spec/vault.md; all keys are public test values",
        "vault_id": vault_id.hex(),
        "master_key": master.hex(),
        "keyslot": {
            "slot": 0,
            "passphrase": passphrase,
            "params": params_json,
            "salt": salt.hex(),
            "kek": kek.hex(),
            "wrapped": wrapped.hex(),
        },
        "record": {
            "id": record_id.hex(),
            "version": 3,
            "json": vault.canonical_json(record).decode("utf-8"),
            "records_key": records_key.hex(),
            "data": record_blob.hex(),
        },
        "chunk": {
            "attachment_id": attachment_id.hex(),
            "index": 1,
            "chunk_ids_key": chunk_ids.hex(),
            "chunk_key": chunk_key.hex(),
            "row_id": chunk_row.hex(),
            "plaintext": chunk_plain.hex(),
            "data": chunk_blob.hex(),
        },
    }


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")
