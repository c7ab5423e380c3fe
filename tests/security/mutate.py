"""The five mutations of the tamper suite: byte flips, truncations, extensions, splices of two
valid files, and swapped blocks. Each returns a new byte string that differs from its input.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

KINDS = ("flip", "truncate", "extend", "splice", "swap")


def flip(data: bytes, rng: random.Random) -> bytes:
    """One to four bits flipped at random offsets."""
    out = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 4))):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncate(data: bytes, rng: random.Random) -> bytes:
    """Cut anywhere: near the start, near the end, or uniformly in between."""
    n = len(data)
    where = rng.random()
    if where < 0.25:
        return data[: rng.randrange(min(n, 64))]
    if where < 0.5:
        return data[: n - 1 - rng.randrange(min(n, 64))]
    return data[: rng.randrange(n)]


def extend(data: bytes, rng: random.Random) -> bytes:
    """Append random bytes, a newline, or a copy of a piece of the file itself."""
    choice = rng.random()
    if choice < 0.4:
        return data + rng.randbytes(rng.randrange(1, 257))
    if choice < 0.6:
        return data + b"\n"
    start = rng.randrange(len(data))
    return data + data[start : start + rng.randrange(1, 4097)]


def splice(data: bytes, other: bytes, rng: random.Random) -> bytes:
    """The start of one valid file followed by the rest of another (or of itself)."""
    i = rng.randrange(len(data) + 1)
    # Half of the time at the same offset, which keeps both files' framing aligned.
    j = i if rng.random() < 0.5 and len(other) >= i else rng.randrange(len(other) + 1)
    return data[:i] + other[j:]


def swap(data: bytes, rng: random.Random, *, page: int = 4096) -> bytes:
    """Two non-overlapping blocks of equal size exchanged (aligned pages half of the time
    when the file holds at least two)."""
    n = len(data)
    if n >= 2 * page and rng.random() < 0.5:
        pages = n // page
        a, b = sorted(rng.sample(range(pages), 2))
        size, i, j = page, a * page, b * page
    else:
        size = rng.randrange(1, max(2, min(256, n // 2)))
        if 2 * size > n:
            return flip(data, rng)
        i = rng.randrange(n - 2 * size + 1)
        j = rng.randrange(i + size, n - size + 1)
    out = bytearray(data)
    out[i : i + size], out[j : j + size] = data[j : j + size], data[i : i + size]
    return bytes(out)


def mutate(kind: str, data: bytes, material: Sequence[bytes], rng: random.Random) -> bytes:
    if kind == "splice":
        return splice(data, rng.choice(material), rng)
    operations: dict[str, Callable[[bytes, random.Random], bytes]] = {
        "flip": flip,
        "truncate": truncate,
        "extend": extend,
        "swap": swap,
    }
    return operations[kind](data, rng)


def mutants(
    originals: Sequence[bytes],
    material: Sequence[bytes],
    count: int,
    rng: random.Random,
    *,
    kinds: Sequence[str] = KINDS,
) -> list[tuple[str, bytes]]:
    """``count`` distinct mutants, the kinds in turn, none equal to any valid input (a
    splice that rebuilds a valid file is not tampering, so it is drawn again)."""
    seen = set(originals) | set(material)
    bases = [o for o in originals if o]  # an empty file has nothing to flip or cut
    out: list[tuple[str, bytes]] = []
    attempts = 0
    while len(out) < count:
        attempts += 1
        if attempts > 100 * count + 100:
            raise RuntimeError("could not draw enough distinct mutants")
        kind = kinds[len(out) % len(kinds)]
        mutant = mutate(kind, rng.choice(bases), material, rng)
        if mutant not in seen:
            seen.add(mutant)
            out.append((kind, mutant))
    return out
