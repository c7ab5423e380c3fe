"""The audit log's Merkle tree: RFC 9162 hashing, the stored tree state, proofs.

This module owns the pure mathematics of the append-only log and nothing else: it
reads no database and knows no event format. Specified in
docs/spec/audit-merkle-and-checkpoint.md, with vectors in tests/vectors/audit/.

* ``leaf_hash(d) = SHA-256(0x00 || d)``, ``node_hash(l, r) = SHA-256(0x01 || l || r)``,
  the empty tree's root is ``SHA-256("")`` (RFC 9162 §2.1.1).
* :class:`TreeState` keeps only the roots of the perfect subtrees along the right
  edge of the tree (a "compact range" over ``[0, size)``), so a vault can append an
  event and know the new root in O(log n) time and space, whatever its size.
* Proofs are generated from the leaf hashes following RFC 9162 §2.1.3.1 (PATH) and
  §2.1.4.1 (PROOF/SUBPROOF), and verified with the algorithms of §2.1.3.2 and
  §2.1.4.2. Verification raises :class:`ProofError` and never returns a boolean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from securesubmit.core import crypto
from securesubmit.errors import FormatError, VerificationError

HASH_SIZE = 32
MAX_TREE_SIZE = 2**63 - 1
"""The largest tree we accept: sizes must fit SQLite's signed 64-bit integer."""
MAX_PROOF_HASHES = 64
"""No valid proof for a tree of at most MAX_TREE_SIZE leaves has more hashes than this."""

EMPTY_ROOT = crypto.sha256(b"")
"""The root of the tree with no leaves, ``SHA-256("")``."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

TREE_STATE_VERSION = 1
_STATE_HEADER_SIZE = 9  # version byte + 8-byte size

LeafSource = Sequence[bytes] | Callable[[int], bytes]
"""Where proof generation reads leaf hash ``i``: a list, or a function (a database read)."""


class ProofError(VerificationError):
    """A Merkle proof does not verify: the log was altered, rolled back or forked."""

    hint = "compare the log with a checkpoint that a partner keeps, and restore from a backup"


def leaf_hash(data: bytes) -> bytes:
    """The hash of one log entry, ``SHA-256(0x00 || data)``."""
    return crypto.sha256(_LEAF_PREFIX + data)


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node, ``SHA-256(0x01 || left || right)``."""
    if len(left) != HASH_SIZE or len(right) != HASH_SIZE:
        raise ValueError("node children must be 32-byte hashes")
    return crypto.sha256(_NODE_PREFIX + left + right)


# --- the incremental tree -----------------------------------------------------------


class TreeState:
    """An append-only Merkle tree that remembers only its right edge.

    For a tree of ``size`` leaves it holds one hash per set bit of ``size``: the roots
    of the perfect subtrees that the tree decomposes into, largest (leftmost) first.
    RFC 9162 splits every tree at the largest power of two below its size, so the
    root is these subtree roots folded together from the right.
    """

    __slots__ = ("_roots", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._roots: list[bytes] = []

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    def append(self, leaf_hash: bytes) -> None:
        """Add the leaf with this hash (see :func:`leaf_hash`) at index ``size``."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError("a leaf hash is 32 bytes; hash the entry with leaf_hash() first")
        size = self._size
        if size >= MAX_TREE_SIZE:
            raise ValueError("the tree has reached its maximum size")
        # Each trailing one bit of the old size is a perfect subtree of the same height
        # as the carry; merge them like a binary counter.
        roots = self._roots
        node = leaf_hash
        carry = size
        while carry & 1:
            node = crypto.sha256(_NODE_PREFIX + roots.pop() + node)
            carry >>= 1
        roots.append(node)
        self._size = size + 1

    def root(self) -> bytes:
        """The RFC 9162 root hash of the tree as it is now."""
        roots = self._roots
        if not roots:
            return EMPTY_ROOT
        node = roots[-1]
        for left in reversed(roots[:-1]):
            node = crypto.sha256(_NODE_PREFIX + left + node)
        return node

    def to_bytes(self) -> bytes:
        """``version (0x01) || size (8 bytes, big-endian) || subtree roots, largest first``."""
        return bytes([TREE_STATE_VERSION]) + self._size.to_bytes(8, "big") + b"".join(self._roots)

    @classmethod
    def from_bytes(cls, data: bytes) -> TreeState:
        """Parse :meth:`to_bytes` output; anything else raises FormatError."""
        if len(data) < _STATE_HEADER_SIZE or data[0] != TREE_STATE_VERSION:
            raise FormatError("the stored Merkle tree state is malformed or of an unknown version")
        size = int.from_bytes(data[1:_STATE_HEADER_SIZE], "big")
        if size > MAX_TREE_SIZE:
            raise FormatError("the stored Merkle tree state has an impossible size")
        count = size.bit_count()
        if len(data) != _STATE_HEADER_SIZE + count * HASH_SIZE:
            raise FormatError("the stored Merkle tree state has the wrong length for its size")
        state = cls()
        state._size = size
        state._roots = [
            data[start : start + HASH_SIZE]
            for start in range(_STATE_HEADER_SIZE, len(data), HASH_SIZE)
        ]
        return state


def root_from_leaves(leaf_hashes: Iterable[bytes]) -> bytes:
    """The root of the tree over these leaf hashes, streaming: O(n) time, O(log n) memory."""
    state = TreeState()
    for leaf in leaf_hashes:
        state.append(leaf)
    return state.root()


def root_of_hash_list(leaf_hashes: Sequence[bytes]) -> bytes:
    """The same root as root_from_leaves, computed level by level: faster, O(n) memory.

    Pairing neighbours on each level and carrying an odd last node up unchanged builds
    exactly RFC 9162's tree (whose left subtree is always the largest power of two).
    """
    for leaf in leaf_hashes:
        if len(leaf) != HASH_SIZE:
            raise ValueError("a leaf hash is 32 bytes; hash the entry with leaf_hash() first")
    return root_of_joined_hashes(b"".join(leaf_hashes))


def root_of_joined_hashes(leaf_hashes: bytes | bytearray | memoryview) -> bytes:
    """root_of_hash_list over leaf hashes given joined, 32 bytes each, in one buffer.

    The auditor's form: a million leaf hashes take 32 MB this way (73 MB as a list of
    bytes objects), and each level is hashed in one batch call. Pairing neighbours on
    each level and carrying an odd last node up unchanged builds exactly RFC 9162's
    tree (whose left subtree is always the largest power of two).
    """
    if len(leaf_hashes) % HASH_SIZE:
        raise ValueError("joined leaf hashes must be a multiple of 32 bytes")
    if not leaf_hashes:
        return EMPTY_ROOT
    _check_size(len(leaf_hashes) // HASH_SIZE)
    level = leaf_hashes
    while len(level) > HASH_SIZE:
        paired = crypto.sha256_blocks(_NODE_PREFIX, level, 2 * HASH_SIZE)
        if len(level) % (2 * HASH_SIZE):
            paired += level[-HASH_SIZE:]
        level = paired
    return bytes(level)


# --- proof generation ------------------------------------------------------------------


def _reader(size: int, leaves: LeafSource) -> Callable[[int], bytes]:
    if callable(leaves):
        return leaves
    if len(leaves) < size:
        raise ValueError("fewer leaves than the tree size")
    return leaves.__getitem__


def _subtree_root(leaf: Callable[[int], bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]), reading each leaf once."""
    return root_from_leaves(leaf(i) for i in range(start, end))


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1), where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_size(size: int) -> None:
    if not 0 <= size <= MAX_TREE_SIZE:
        raise ValueError("tree size out of range")


def inclusion_proof(index: int, size: int, leaves: LeafSource) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1: the sibling hashes, leaf level first.

    Reads each of the ``size`` leaves once (O(n) time, O(log n) memory).
    """
    _check_size(size)
    if not 0 <= index < size:
        raise ValueError("leaf index out of range")
    leaf = _reader(size, leaves)
    # Walk down from the root; the RFC lists the siblings from the leaf up.
    siblings: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        middle = start + _split(end - start)
        if index < middle:
            siblings.append(_subtree_root(leaf, middle, end))
            end = middle
        else:
            siblings.append(_subtree_root(leaf, start, middle))
            start = middle
    siblings.reverse()
    return siblings


def consistency_proof(old_size: int, new_size: int, leaves: LeafSource) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]) of RFC 9162 §2.1.4.1.

    Empty when ``old_size`` is 0 or equals ``new_size`` (nothing to prove; see
    :func:`verify_consistency`). Reads each leaf at most once.
    """
    _check_size(new_size)
    if not 0 <= old_size <= new_size:
        raise ValueError("the old size must be between 0 and the new size")
    if old_size in (0, new_size):
        return []
    leaf = _reader(new_size, leaves)
    # SUBPROOF(m, D[start:end], b), unrolled: each level adds one sibling after the
    # proof of the level below, and the walk ends where the old tree is a whole
    # subtree (known to the verifier when b is still true).
    siblings: list[bytes] = []
    m, start, end, whole_old_tree = old_size, 0, new_size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            siblings.append(_subtree_root(leaf, start + k, end))
            end = start + k
        else:
            siblings.append(_subtree_root(leaf, start, start + k))
            start += k
            m -= k
            whole_old_tree = False
    first = [] if whole_old_tree else [_subtree_root(leaf, start, end)]
    siblings.reverse()
    return first + siblings


# --- proof verification --------------------------------------------------------------


def _check_hash(value: object, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ProofError(f"the {what} is not a 32-byte hash")


def _check_proof(proof: Sequence[bytes]) -> None:
    if len(proof) > MAX_PROOF_HASHES:
        raise ProofError("the proof is longer than any valid proof can be")
    for element in proof:
        _check_hash(element, "proof element")


def _check_verify_size(size: int, what: str) -> None:
    if not 0 <= size <= MAX_TREE_SIZE:
        raise ProofError(f"the {what} is out of range")


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    RFC 9162 §2.1.3.2. Returns None; raises ProofError on any failure.
    """
    _check_verify_size(size, "tree size")
    if not 0 <= index < size:
        raise ProofError("the leaf index is not inside the tree")
    _check_hash(leaf_hash, "leaf hash")
    _check_hash(root, "root hash")
    _check_proof(proof)
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is too long for this tree")
        if fn & 1 or fn == sn:
            r = crypto.sha256(_NODE_PREFIX + p + r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = crypto.sha256(_NODE_PREFIX + r + p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short for this tree")
    if r != root:
        raise ProofError("the inclusion proof does not lead to the expected root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (new_size, new_root) extends the tree (old_size, old_root).

    RFC 9162 §2.1.4.2 for ``0 < old_size < new_size``. The RFC leaves the other cases
    open; here ``old_size == new_size`` needs an empty proof and equal roots, and
    ``old_size == 0`` needs an empty proof and ``old_root`` equal to the empty root.
    Returns None; raises ProofError on any failure.
    """
    _check_verify_size(new_size, "new tree size")
    if not 0 <= old_size <= new_size:
        raise ProofError("the old tree is larger than the new one: the log was rolled back")
    _check_hash(old_root, "old root hash")
    _check_hash(new_root, "new root hash")
    _check_proof(proof)
    if old_size == 0 or old_size == new_size:
        if proof:
            raise ProofError("a consistency proof between these sizes must be empty")
        if old_size == 0 and old_root != EMPTY_ROOT:
            raise ProofError("the old root is not the root of an empty tree")
        if old_size == new_size and old_root != new_root:
            raise ProofError("two trees of the same size have different roots: the log forked")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long for these sizes")
        if fn & 1 or fn == sn:
            fr = crypto.sha256(_NODE_PREFIX + c + fr)
            sr = crypto.sha256(_NODE_PREFIX + c + sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = crypto.sha256(_NODE_PREFIX + sr + c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short for these sizes")
    if fr != old_root:
        raise ProofError("the consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("the consistency proof does not lead to the new root")


# --- proof encoding ----------------------------------------------------------------------


def encode_proof(proof: Sequence[bytes]) -> bytes:
    """A proof as bytes: its hashes concatenated, in order."""
    for element in proof:
        if len(element) != HASH_SIZE:
            raise ValueError("proof elements are 32-byte hashes")
    return b"".join(proof)


def decode_proof(data: bytes) -> list[bytes]:
    """Parse :func:`encode_proof` output; refuses a length that is not k × 32, k ≤ 64."""
    if len(data) % HASH_SIZE or len(data) > MAX_PROOF_HASHES * HASH_SIZE:
        raise FormatError("a Merkle proof has an impossible length")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
