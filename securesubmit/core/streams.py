"""Small stream adapters shared by the vault, sealing and bundles."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any


class IterReader(io.RawIOBase):
    """A readable binary stream over an iterator of byte strings.

    Exceptions raised by the iterator propagate to the reader's caller unchanged.
    ``exhausted`` tells whether the iterator was read to its end.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._pending = memoryview(b"")
        self.exhausted = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            block = next(self._chunks, None)
            if block is None:
                self.exhausted = True
                return 0
            self._pending = memoryview(block)
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n
