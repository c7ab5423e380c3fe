"""docs/spec/vault.md test vectors, checked two ways.

1. An independent reader written here from the spec alone, using `cryptography` directly,
   opens every vector: the spec is precise enough to write a reader.
2. Our own code reproduces every vector byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tests.vectors.vault import make_vectors

VECTORS = json.loads(Path(make_vectors.OUT).read_text())
H = bytes.fromhex


def _hkdf(key: bytes, label: str, context: bytes) -> bytes:
    info = b"securesubmit/v1/" + label.encode() + b"\x00" + context
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


def _open(key: bytes, blob: bytes, ad: bytes) -> bytes:
    return ChaCha20Poly1305(key).decrypt(blob[:12], blob[12:], ad)


def _row_ad(vault_id: bytes, table: str, row: bytes, version: int) -> bytes:
    return (
        b"securesubmit/v1/row\x00"
        + vault_id
        + table.encode()
        + b"\x00"
        + b"data"
        + b"\x00"
        + row
        + struct.pack(">Q", version)
    )


def test_independent_reader_unwraps_the_key_slot() -> None:
    v, slot = VECTORS, VECTORS["keyslot"]
    params = json.loads(slot["params"])
    kek = Argon2id(
        salt=H(slot["salt"]),
        length=32,
        iterations=params["iterations"],
        lanes=params["lanes"],
        memory_cost=params["memory_kib"],
    ).derive(slot["passphrase"].encode("utf-8"))
    assert kek.hex() == slot["kek"]
    ad = (
        b"securesubmit/v1/keyslot\x00"
        + H(v["vault_id"])
        + struct.pack(">I", 0)
        + slot["params"].encode()
    )
    assert _open(kek, H(slot["wrapped"]), ad) == H(v["master_key"])


def test_independent_reader_decrypts_and_unpads_the_record() -> None:
    v, rec = VECTORS, VECTORS["record"]
    key = _hkdf(H(v["master_key"]), "vault/records", H(v["vault_id"]))
    assert key.hex() == rec["records_key"]
    padded = _open(
        key, H(rec["data"]), _row_ad(H(v["vault_id"]), "objects", H(rec["id"]), rec["version"])
    )
    assert len(padded) % 256 == 0
    (length,) = struct.unpack(">I", padded[:4])
    assert padded[4 : 4 + length].decode() == rec["json"]
    assert set(padded[4 + length :]) <= {0}
    assert json.loads(rec["json"])["kind"] == "report"


def test_independent_reader_finds_and_decrypts_the_chunk() -> None:
    v, ch = VECTORS, VECTORS["chunk"]
    master, vault_id, att = H(v["master_key"]), H(v["vault_id"]), H(ch["attachment_id"])
    ids_key = _hkdf(master, "vault/chunk-ids", vault_id)
    row = hmac.new(ids_key, att + struct.pack(">Q", ch["index"]), hashlib.sha256).digest()[:16]
    assert row.hex() == ch["row_id"]
    key = _hkdf(master, "vault/chunks", vault_id + att)
    assert _open(key, H(ch["data"]), _row_ad(vault_id, "chunks", att, ch["index"])) == H(
        ch["plaintext"]
    )


def test_our_code_reproduces_every_vector_byte_for_byte() -> None:
    assert make_vectors.build() == VECTORS
