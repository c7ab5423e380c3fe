"""The audit log's Merkle tree against an independent transcription of RFC 9162.

The reference below is written from the RFC's recursive definitions (MTH, PATH,
PROOF/SUBPROOF in §2.1.1-2.1.4.1) and hashes with hashlib directly, so it shares
no code with securesubmit.core.merkle, whose generation is iterative and whose
verification uses the bit-walking algorithms of §2.1.3.2 and §2.1.4.2. The
reference verifiers undo the recursive definitions instead.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securesubmit.core import merkle
from securesubmit.core.merkle import ProofError, TreeState
from securesubmit.errors import FormatError, VerificationError

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "audit" / "merkle-proofs.json"
MAX_N = 64


# --- the reference -------------------------------------------------------------------


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class ReferenceTree:
    """RFC 9162 §2.1, one definition per method, over the entries D[0:n]."""

    def __init__(self, entries: Sequence[bytes]) -> None:
        self.entries = list(entries)
        self.mth = functools.cache(self._mth)

    def leaf_hashes(self) -> list[bytes]:
        return [self.mth(i, i + 1) for i in range(len(self.entries))]

    def _mth(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi])."""
        n = hi - lo
        if n == 0:
            return _sha256(b"")
        if n == 1:
            return _sha256(b"\x00" + self.entries[lo])
        k = _k(n)
        return _sha256(b"\x01" + self.mth(lo, lo + k) + self.mth(lo + k, hi))

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        """PATH(m, D[lo:hi])."""
        n = hi - lo
        if n == 1:
            return []
        k = _k(n)
        if m < k:
            return [*self.path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.path(m - k, lo + k, hi), self.mth(lo, lo + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        """PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true)."""
        return self.subproof(m, 0, n, True)

    def subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = _k(n)
        if m <= k:
            return [*self.subproof(m, lo, lo + k, b), self.mth(lo + k, hi)]
        return [*self.subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]


def _node(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right)


def _root_from_path(m: int, n: int, leaf: bytes, proof: list[bytes]) -> bytes | None:
    """Undo PATH: the root that this proof claims, or None if its length is wrong."""
    if n == 1:
        return None if proof else leaf
    if not proof:
        return None
    k = _k(n)
    *rest, last = proof
    if m < k:
        sub = _root_from_path(m, k, leaf, rest)
        return None if sub is None else _node(sub, last)
    sub = _root_from_path(m - k, n - k, leaf, rest)
    return None if sub is None else _node(last, sub)


def reference_inclusion_ok(
    leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes
) -> bool:
    if not 0 <= index < size:
        return False
    return _root_from_path(index, size, leaf, proof) == root


def _roots_from_subproof(
    m: int, n: int, proof: list[bytes], b: bool, old_root: bytes
) -> tuple[bytes, bytes] | None:
    """Undo SUBPROOF: (old subtree root, new subtree root), or None if malformed."""
    if m == n:
        if b:
            return None if proof else (old_root, old_root)
        return (proof[0], proof[0]) if len(proof) == 1 else None
    if not proof:
        return None
    k = _k(n)
    *rest, last = proof
    if m <= k:
        sub = _roots_from_subproof(m, k, rest, b, old_root)
        return None if sub is None else (sub[0], _node(sub[1], last))
    sub = _roots_from_subproof(m - k, n - k, rest, False, old_root)
    return None if sub is None else (_node(last, sub[0]), _node(last, sub[1]))


EMPTY = _sha256(b"")


def reference_consistency_ok(
    m: int, n: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> bool:
    if not 0 <= m <= n:
        return False
    if m == 0 or m == n:
        # Our documented choice for the cases RFC 9162 leaves open.
        return not proof and (m != 0 or old_root == EMPTY) and (m != n or old_root == new_root)
    return _roots_from_subproof(m, n, proof, True, old_root) == (old_root, new_root)


def _entries(n: int) -> list[bytes]:
    return [b"entry %d" % i for i in range(n)]


REF = ReferenceTree(_entries(2 * MAX_N + 2))
LEAVES = REF.leaf_hashes()


def _flip(h: bytes, bit: int = 0) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


def _assert_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> None:
    """Our verifier accepts exactly what the reference accepts."""
    if reference_inclusion_ok(leaf, index, size, proof, root):
        merkle.verify_inclusion(leaf, index, size, proof, root)
    else:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(leaf, index, size, proof, root)


def _assert_consistency(m: int, n: int, old: bytes, new: bytes, proof: list[bytes]) -> None:
    if reference_consistency_ok(m, n, old, new, proof):
        merkle.verify_consistency(m, n, old, new, proof)
    else:
        with pytest.raises(ProofError):
            merkle.verify_consistency(m, n, old, new, proof)


# --- hashing and roots ----------------------------------------------------------------


def test_hashes_use_the_rfc_prefixes_and_the_empty_tree_is_sha256_of_nothing() -> None:
    assert merkle.leaf_hash(b"abc") == _sha256(b"\x00abc")
    assert merkle.node_hash(b"L" * 32, b"R" * 32) == _sha256(b"\x01" + b"L" * 32 + b"R" * 32)
    assert merkle.EMPTY_ROOT == EMPTY
    assert merkle.root_from_leaves([]) == EMPTY
    assert TreeState().root() == EMPTY


def test_node_hash_refuses_children_that_are_not_hashes() -> None:
    with pytest.raises(ValueError):
        merkle.node_hash(b"short", b"R" * 32)


def test_root_of_every_size_up_to_129_matches_the_recursive_definition() -> None:
    state = TreeState()
    for n in range(len(LEAVES) + 1):
        assert state.size == n
        assert state.root() == REF.mth(0, n), n
        assert merkle.root_from_leaves(LEAVES[:n]) == REF.mth(0, n), n
        if n < len(LEAVES):
            state.append(LEAVES[n])


def test_tree_state_holds_one_hash_per_set_bit_of_its_size() -> None:
    state = TreeState()
    for n in range(1, 100):
        state.append(LEAVES[n - 1])
        assert len(state.to_bytes()) == 9 + 32 * bin(n).count("1")


def test_append_refuses_something_that_is_not_a_leaf_hash() -> None:
    with pytest.raises(ValueError):
        TreeState().append(b"raw event data, not its hash")


def test_root_from_leaves_reads_a_generator_once() -> None:
    assert merkle.root_from_leaves(h for h in LEAVES[:37]) == REF.mth(0, 37)


# --- tree state serialisation -----------------------------------------------------------


def test_tree_state_survives_serialisation_at_every_size() -> None:
    state = TreeState()
    for n in range(70):
        restored = TreeState.from_bytes(state.to_bytes())
        assert restored.size == n
        assert restored.to_bytes() == state.to_bytes()
        restored.append(LEAVES[n])
        state.append(LEAVES[n])
        assert restored.root() == state.root() == REF.mth(0, n + 1)


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"\x01",
        b"\x02" + (0).to_bytes(8, "big"),  # unknown version
        b"\x00" + (0).to_bytes(8, "big"),
        b"\x01" + (1).to_bytes(8, "big"),  # size 1 needs one hash
        b"\x01" + (1).to_bytes(8, "big") + b"h" * 31,
        b"\x01" + (1).to_bytes(8, "big") + b"h" * 33,
        b"\x01" + (2).to_bytes(8, "big") + b"h" * 64,  # size 2 is one subtree
        b"\x01" + (0).to_bytes(8, "big") + b"h" * 32,
        b"\x01" + (2**63).to_bytes(8, "big") + b"h" * 32,  # beyond the size limit
        b"\x01" + (2**64 - 1).to_bytes(8, "big") + b"h" * 32 * 64,
    ],
)
def test_malformed_tree_state_is_refused(blob: bytes) -> None:
    with pytest.raises(FormatError):
        TreeState.from_bytes(blob)


# --- inclusion proofs -------------------------------------------------------------------


def test_inclusion_proofs_for_every_index_of_every_size_up_to_64() -> None:
    for n in range(1, MAX_N + 1):
        root = REF.mth(0, n)
        for i in range(n):
            proof = merkle.inclusion_proof(i, n, LEAVES)
            assert proof == REF.path(i, 0, n), (i, n)
            assert reference_inclusion_ok(LEAVES[i], i, n, proof, root)
            merkle.verify_inclusion(LEAVES[i], i, n, proof, root)


def test_altered_inclusion_proofs_are_refused_for_every_index_of_every_size() -> None:
    for n in range(1, MAX_N + 1):
        root = REF.mth(0, n)
        for i in range(n):
            proof = REF.path(i, 0, n)
            leaf = LEAVES[i]
            always_wrong: list[tuple[bytes, int, int, list[bytes], bytes]] = [
                (_flip(leaf), i, n, proof, root),
                (leaf, i, n, proof, _flip(root, 7)),
                (leaf, i, n, [*proof, root], root),  # extended
                (leaf, i, n, [root, *proof], root),
                (leaf, i, n, [*proof, EMPTY], root),
                (leaf, i, n, proof, EMPTY),
            ]
            always_wrong += [(leaf, j, n, proof, root) for j in (i - 1, i + 1, i ^ 1, i ^ 2, n)]
            if proof:
                always_wrong.append((leaf, i, n, proof[:-1], root))  # truncated
                always_wrong.append((leaf, i, n, proof[1:], root))
                for at in range(len(proof)):
                    bad = [*proof]
                    bad[at] = _flip(bad[at], at % 8)
                    always_wrong.append((leaf, i, n, bad, root))
            for case in always_wrong:
                with pytest.raises(ProofError):
                    merkle.verify_inclusion(*case)
            # Another size can only pass when its tree has this leaf at the same place
            # under the same root: the reference decides.
            for other in {n - 1, n + 1, n + 2, 2 * n, n // 2, n | (n - 1), 1}:
                _assert_inclusion(leaf, i, other, proof, root)


def test_a_proof_for_a_smaller_tree_passes_at_a_larger_size_only_with_the_same_shape() -> None:
    # Leaf 0 of 3 and leaf 0 of 4 have proofs of the same shape, so the size-3 proof
    # and root verify "at size 4": the root, not the proof, binds the size, which is
    # why a checkpoint signs (size, root) together.
    proof = REF.path(0, 0, 3)
    merkle.verify_inclusion(LEAVES[0], 0, 4, proof, REF.mth(0, 3))
    assert reference_inclusion_ok(LEAVES[0], 0, 4, proof, REF.mth(0, 3))
    with pytest.raises(ProofError):
        merkle.verify_inclusion(LEAVES[0], 0, 5, proof, REF.mth(0, 3))


@pytest.mark.parametrize(
    ("index", "size", "proof_length"),
    [(0, 0, 0), (1, 1, 0), (-1, 4, 2), (5, 4, 2), (0, 2**63, 63), (0, 4, 65)],
)
def test_inclusion_with_impossible_parameters_is_refused(
    index: int, size: int, proof_length: int
) -> None:
    with pytest.raises(ProofError):
        merkle.verify_inclusion(LEAVES[0], index, size, [LEAVES[1]] * proof_length, LEAVES[2])


class _EnormousProof(Sequence[bytes]):
    """A proof claiming 10^12 hashes; reading any of them is a failure of the bound."""

    def __len__(self) -> int:
        return 10**12

    def __getitem__(self, index: Any) -> Any:
        raise AssertionError("the verifier read a proof longer than any valid one")


def test_an_enormous_proof_is_refused_before_any_of_it_is_read() -> None:
    with pytest.raises(ProofError):
        merkle.verify_inclusion(LEAVES[0], 0, 5, _EnormousProof(), REF.mth(0, 5))
    with pytest.raises(ProofError):
        merkle.verify_consistency(3, 5, REF.mth(0, 3), REF.mth(0, 5), _EnormousProof())


def test_inclusion_refuses_values_that_are_not_hashes() -> None:
    proof = REF.path(1, 0, 4)
    root = REF.mth(0, 4)
    for leaf, path, top in [
        (LEAVES[1][:31], proof, root),
        (LEAVES[1], proof, root + b"\x00"),
        (LEAVES[1], [proof[0][:31], proof[1]], root),
        (LEAVES[1], [proof[0].hex(), proof[1]], root),
    ]:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(leaf, 1, 4, path, top)  # type: ignore[arg-type]


def test_proof_errors_are_verification_errors_for_the_user() -> None:
    assert issubclass(ProofError, VerificationError)
    with pytest.raises(ProofError) as caught:
        merkle.verify_inclusion(LEAVES[0], 0, 2, [LEAVES[0]], REF.mth(0, 2))
    assert caught.value.exit_code == 5
    assert str(caught.value)


def test_inclusion_proof_generation_refuses_impossible_requests() -> None:
    for index, size in [(0, 0), (3, 3), (-1, 3)]:
        with pytest.raises(ValueError):
            merkle.inclusion_proof(index, size, LEAVES)
    with pytest.raises(ValueError):
        merkle.inclusion_proof(0, 10, LEAVES[:9])


# --- consistency proofs -------------------------------------------------------------------


def test_consistency_proofs_for_every_pair_of_sizes_up_to_64() -> None:
    for n in range(1, MAX_N + 1):
        new = REF.mth(0, n)
        for m in range(0, n + 1):
            proof = merkle.consistency_proof(m, n, LEAVES)
            expected = [] if m in (0, n) else REF.proof(m, n)
            assert proof == expected, (m, n)
            assert reference_consistency_ok(m, n, REF.mth(0, m), new, proof)
            merkle.verify_consistency(m, n, REF.mth(0, m), new, proof)


def test_altered_consistency_proofs_are_refused_for_every_pair_of_sizes() -> None:
    for n in range(2, MAX_N + 1):
        new = REF.mth(0, n)
        for m in range(1, n):
            old = REF.mth(0, m)
            proof = REF.proof(m, n)
            always_wrong: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
                (n, m, new, old, proof),  # swapped: a rollback
                (n, m, old, new, proof),
                (m, n, new, old, proof),
                (m, n, _flip(old), new, proof),
                (m, n, old, _flip(new), proof),
                (m, n, old, new, []),
                (m, n, old, new, proof[:-1]),  # truncated
                (m, n, old, new, proof[1:]),
                (m, n, old, new, [*proof, old]),  # extended
                (m, n, old, new, [*proof, new]),
                (m, n, old, new, [old, *proof]),
                (m, n, old, new, [proof[0], *proof]),
            ]
            for at in range(len(proof)):
                bad = [*proof]
                bad[at] = _flip(bad[at], at % 8)
                always_wrong.append((m, n, old, new, bad))
            for case in always_wrong:
                with pytest.raises(ProofError):
                    merkle.verify_consistency(*case)
            for m2, n2 in {(m - 1, n), (m + 1, n), (m ^ 2, n), (m, n - 1), (m, n + 1), (m, 2 * n)}:
                _assert_consistency(m2, n2, old, new, proof)


def test_consistency_edge_cases_follow_the_documented_rules() -> None:
    r3, r5 = REF.mth(0, 3), REF.mth(0, 5)
    merkle.verify_consistency(0, 0, EMPTY, EMPTY, [])
    merkle.verify_consistency(0, 5, EMPTY, r5, [])
    merkle.verify_consistency(3, 3, r3, r3, [])
    for case in [
        (0, 0, EMPTY, r3, []),  # same size, different roots: a fork
        (0, 5, r3, r5, []),  # old root of an empty tree must be the empty root
        (0, 5, EMPTY, r5, [r3]),  # nothing to prove, so nothing may be sent
        (3, 3, r3, r5, []),
        (3, 3, r3, r3, [r3]),
        (-1, 3, EMPTY, r3, []),
        (3, 2**63, r3, r5, [r3]),
        (3, 5, r3, r5, [r3] * 65),
    ]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(*case)


def test_consistency_proof_generation_refuses_impossible_requests() -> None:
    for m, n in [(4, 3), (-1, 3), (0, -1)]:
        with pytest.raises(ValueError):
            merkle.consistency_proof(m, n, LEAVES)


def test_proof_generation_reads_each_leaf_at_most_once_from_a_callable() -> None:
    reads: list[int] = []

    def leaf(i: int) -> bytes:
        reads.append(i)
        return LEAVES[i]

    assert merkle.consistency_proof(13, 37, leaf) == REF.proof(13, 37)
    assert len(reads) == len(set(reads)) <= 37
    reads.clear()
    assert merkle.inclusion_proof(20, 37, leaf) == REF.path(20, 0, 37)
    assert sorted(reads) == [i for i in range(37) if i != 20]


# --- proof encoding ---------------------------------------------------------------------


def test_proof_encoding_round_trips_and_refuses_impossible_lengths() -> None:
    proof = REF.proof(5, 13)
    assert merkle.decode_proof(merkle.encode_proof(proof)) == proof
    assert merkle.decode_proof(b"") == []
    for blob in (b"x" * 31, b"x" * 33, b"x" * 32 * 65):
        with pytest.raises(FormatError):
            merkle.decode_proof(blob)
    with pytest.raises(ValueError):
        merkle.encode_proof([b"short"])


# --- properties -------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=70), st.data())
def test_appender_streaming_root_and_reference_agree(
    entries: list[bytes], data: st.DataObject
) -> None:
    ref = ReferenceTree(entries)
    leaves = [merkle.leaf_hash(e) for e in entries]
    assert leaves == ref.leaf_hashes()
    cut = data.draw(st.integers(0, len(entries)))
    state = TreeState()
    for n, leaf in enumerate(leaves, start=1):
        state.append(leaf)
        if n == cut:
            state = TreeState.from_bytes(state.to_bytes())
        assert state.root() == ref.mth(0, n)
    assert merkle.root_from_leaves(leaves) == ref.mth(0, len(entries)) == state.root()


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 1500), st.data())
def test_proofs_in_larger_trees_match_the_reference(n: int, data: st.DataObject) -> None:
    ref = ReferenceTree([b"%d" % i for i in range(n)])
    leaves = ref.leaf_hashes()
    i = data.draw(st.integers(0, n - 1))
    m = data.draw(st.integers(1, n))
    path = merkle.inclusion_proof(i, n, leaves.__getitem__)
    assert path == ref.path(i, 0, n)
    merkle.verify_inclusion(leaves[i], i, n, path, ref.mth(0, n))
    proof = merkle.consistency_proof(m, n, leaves)
    assert proof == ([] if m == n else ref.proof(m, n))
    merkle.verify_consistency(m, n, ref.mth(0, m), ref.mth(0, n), proof)


_SOME_HASHES = st.sampled_from([*LEAVES[:8], EMPTY])


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 70),
    st.integers(0, 70),
    st.lists(_SOME_HASHES, max_size=9),
    _SOME_HASHES,
    _SOME_HASHES,
)
def test_verifiers_accept_exactly_what_the_reference_accepts(
    m: int, n: int, proof: list[bytes], a: bytes, b: bytes
) -> None:
    _assert_consistency(m, n, a, b, proof)
    _assert_inclusion(a, m, n, proof, b)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_either_parse_as_a_tree_state_exactly_or_are_refused(blob: bytes) -> None:
    try:
        state = TreeState.from_bytes(blob)
    except FormatError:
        return
    assert state.to_bytes() == blob


# --- vectors ----------------------------------------------------------------------------


def _load_vectors() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return loaded


def _hashes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


@pytest.mark.parametrize("section", ["published", "securesubmit"])
def test_vectors_roots_proofs_and_states(section: str) -> None:
    vectors = _load_vectors()[section]
    leaves = [merkle.leaf_hash(bytes.fromhex(e)) for e in vectors["entries_hex"]]
    assert leaves == _hashes(vectors["leaf_hashes"])
    roots = {r["size"]: bytes.fromhex(r["root"]) for r in vectors["roots"]}
    assert roots, "the vectors hold roots"
    for size, root in roots.items():
        assert merkle.root_from_leaves(leaves[:size]) == root
    for case in vectors["inclusion"]:
        proof = _hashes(case["proof"])
        index, size = case["index"], case["size"]
        assert merkle.inclusion_proof(index, size, leaves) == proof
        merkle.verify_inclusion(leaves[index], index, size, proof, roots[size])
    for case in vectors["consistency"]:
        proof = _hashes(case["proof"])
        old_size, new_size = case["old_size"], case["new_size"]
        assert merkle.consistency_proof(old_size, new_size, leaves) == proof
        merkle.verify_consistency(old_size, new_size, roots[old_size], roots[new_size], proof)
    for case in vectors.get("tree_states", []):
        state = TreeState()
        for leaf in leaves[: case["size"]]:
            state.append(leaf)
        assert state.to_bytes().hex() == case["state"]
        assert TreeState.from_bytes(bytes.fromhex(case["state"])).root() == roots[case["size"]]


def test_vectors_that_must_be_refused() -> None:
    invalid = _load_vectors()["invalid"]
    assert invalid["inclusion"] and invalid["consistency"] and invalid["tree_states"]
    for case in invalid["inclusion"]:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(
                bytes.fromhex(case["leaf_hash"]),
                case["index"],
                case["size"],
                _hashes(case["proof"]),
                bytes.fromhex(case["root"]),
            )
    for case in invalid["consistency"]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(
                case["old_size"],
                case["new_size"],
                bytes.fromhex(case["old_root"]),
                bytes.fromhex(case["new_root"]),
                _hashes(case["proof"]),
            )
    for case in invalid["tree_states"]:
        with pytest.raises(FormatError):
            TreeState.from_bytes(bytes.fromhex(case["state"]))


def test_level_by_level_root_equals_the_streaming_root_for_every_size_to_300() -> None:
    hashes = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(300)]
    for n in range(301):
        assert merkle.root_of_hash_list(hashes[:n]) == merkle.root_from_leaves(hashes[:n])


def test_the_root_of_joined_hashes_equals_the_streaming_root_past_one_hashing_batch() -> None:
    # More than 2**16 pairs on the first level: crypto.sha256_blocks hashes in batches.
    n = (1 << 17) + 3
    hashes = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]
    joined = bytearray(b"".join(hashes))
    streamed = merkle.root_from_leaves(hashes)
    assert merkle.root_of_joined_hashes(joined) == streamed
    assert merkle.root_of_joined_hashes(memoryview(joined)) == streamed
    prefix = 70_001
    assert merkle.root_of_joined_hashes(memoryview(joined)[: prefix * 32]) == (
        merkle.root_from_leaves(hashes[:prefix])
    )
    assert merkle.root_of_joined_hashes(b"") == merkle.EMPTY_ROOT
    with pytest.raises(ValueError):
        merkle.root_of_joined_hashes(joined[:-1])
    with pytest.raises(ValueError):
        merkle.root_of_hash_list([hashes[0], hashes[1][:31]])
