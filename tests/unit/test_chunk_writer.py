"""The vault's ChunkWriter: one preallocated buffer, whole chunks whatever the writes.

Whatever the sizes and types of the writes, the rows are the same chunks of
vault.CHUNK_SIZE (the last one shorter), read back byte for byte; the caller's buffers
may be reused as soon as ``write`` returns.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securesubmit.core.service import Session
from securesubmit.core.vault import CHUNK_SIZE, Vault

SIZE = 2 * CHUNK_SIZE + 12_345
DATA = os.urandom(SIZE)


def _store(vault: Vault, pieces: list[bytes | bytearray | memoryview]) -> tuple[bytes, int, int]:
    blob = Vault.new_id()
    with vault.transaction("test"):
        writer = vault.chunk_writer(blob)
        for piece in pieces:
            assert writer.write(piece) == len(piece)  # type: ignore[arg-type]
        count = writer.close()
        assert writer.close() == count  # closing twice changes nothing
    return blob, count, writer.size


def _chunk_lengths(vault: Vault, blob: bytes, count: int) -> list[int]:
    return [len(chunk) for chunk in vault.read_chunks(blob, count)]


def _cut(data: bytes, sizes: list[int]) -> list[bytes]:
    pieces, at = [], 0
    for size in sizes:
        pieces.append(data[at : at + size])
        at += size
    pieces.append(data[at:])
    return [p for p in pieces if p]


@pytest.mark.parametrize(
    "sizes",
    [
        [],  # one write of everything (larger than two chunks)
        [CHUNK_SIZE, CHUNK_SIZE],  # exact chunks, straight from the caller's bytes
        [65536 + 16] * 40,  # age's encrypted chunks
        [1, CHUNK_SIZE, CHUNK_SIZE - 1, 3],  # straddling every boundary
        [CHUNK_SIZE - 1, CHUNK_SIZE + 1],  # then exactly one chunk left of a longer write
    ],
)
def test_any_writes_give_the_same_whole_chunks(session: Session, sizes: list[int]) -> None:
    vault = session.vault
    blob, count, size = _store(vault, list(_cut(DATA, sizes)))
    assert size == SIZE and count == 3
    assert _chunk_lengths(vault, blob, count) == [CHUNK_SIZE, CHUNK_SIZE, 12_345]
    assert b"".join(vault.read_chunks(blob, count)) == DATA


def test_the_callers_buffer_may_be_reused_after_each_write(session: Session) -> None:
    vault = session.vault
    blob = Vault.new_id()
    buffer = bytearray(100_000)
    with vault.transaction("test"):
        writer = vault.chunk_writer(blob)
        for start in range(0, SIZE, len(buffer)):
            piece = DATA[start : start + len(buffer)]
            buffer[: len(piece)] = piece
            writer.write(memoryview(buffer)[: len(piece)])  # type: ignore[arg-type]
            buffer[:] = bytes(len(buffer))  # overwritten at once: nothing may have kept it
        count = writer.close()
    assert b"".join(vault.read_chunks(blob, count)) == DATA
    with pytest.raises(ValueError, match="closed"):
        writer.write(b"late")


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1])
def test_edges(session: Session, size: int) -> None:
    vault = session.vault
    blob, count, written = _store(vault, [DATA[:size]] if size else [])
    assert written == size and count == -(-size // CHUNK_SIZE)
    assert b"".join(vault.read_chunks(blob, count)) == DATA[:size]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(0, 3 * CHUNK_SIZE // 2), max_size=6), st.booleans())
def test_property_random_write_sizes(
    session: Session, sizes: list[int], as_bytearray: bool
) -> None:
    vault = session.vault
    data = DATA[: sum(sizes)]
    pieces: list[bytes | bytearray | memoryview] = [
        bytearray(p) if as_bytearray else p for p in _cut(data, sizes)
    ]
    blob, count, written = _store(vault, pieces)
    assert written == len(data)
    lengths = _chunk_lengths(vault, blob, count)
    assert all(n == CHUNK_SIZE for n in lengths[:-1]) and 0 < (lengths or [1])[-1] <= CHUNK_SIZE
    assert b"".join(vault.read_chunks(blob, count)) == data
