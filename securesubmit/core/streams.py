"""Small stream adapters shared by the vault, sealing and bundles."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, Protocol, cast


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


class Progress(Protocol):
    """Told how much of a long piece of work is done, in bytes, and how much there is in
    all when that is known. It may raise (the app's Cancel does) to stop the work: every
    operation that takes one then leaves nothing behind, as its docstring says."""

    def __call__(self, done: int, total: int | None = None, /) -> None: ...


class ByteTally:
    """The bytes done across the streams of one piece of work, told to ``progress``
    (if any) after each block."""

    def __init__(self, progress: Progress | None, total: int | None) -> None:
        self._progress = progress
        self.total = total
        self.done = 0

    def add(self, count: int) -> None:
        self.done += count
        if self._progress is not None:
            self._progress(self.done, self.total)

    def reader(self, inner: BinaryIO) -> BinaryIO:
        """``inner``, counted as it is read; closing it closes ``inner``."""
        return cast(BinaryIO, _TallyReader(inner, self))

    def opener(self, open_stream: Callable[[], BinaryIO]) -> Callable[[], BinaryIO]:
        """``open_stream``, whose streams are counted as they are read."""
        return lambda: self.reader(open_stream())


class _TallyReader(io.RawIOBase):
    def __init__(self, inner: BinaryIO, tally: ByteTally) -> None:
        super().__init__()
        self._inner = inner
        self._tally = tally

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        readinto = getattr(self._inner, "readinto", None)
        if readinto is not None:
            count = readinto(view) or 0
        else:
            block = self._inner.read(len(view))
            count = len(block)
            view[:count] = block
        if count:
            self._tally.add(count)
        return int(count)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()
