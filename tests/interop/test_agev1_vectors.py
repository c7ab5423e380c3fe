"""Our age v1 implementation (core/agev1.py) against every C2SP/CCTV vector, the `age` CLI
and pyrage, plus its memory bound and its throughput measured against both in one run.

Each of the 143 vectors goes through ``agev1.decrypt_untrusted`` (agehdr's strict check,
then our decryption) into an ``io.BytesIO``. A vector's ``expect`` is asserted unless it
is in ``POLICY``, where our policy deliberately differs (the same armor and scrypt
refusals as tests/interop/test_age_vectors.py, plus headers with no stanza type we can
open). Nothing is skipped; all 19 ``hybrid*`` vectors are here. Vectors:
tests/vectors/age (README, LICENSE). docs/spec/age-implementation.md has the table.
"""

from __future__ import annotations

import base64
import collections
import enum
import hashlib
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from securesubmit.core import agehdr, agev1
from securesubmit.errors import DecryptionFailed, FormatError

VECTOR_DIR = Path(__file__).resolve().parents[1] / "vectors" / "age" / "testdata"


class Outcome(enum.Enum):
    OPENED = "opened, payload hash matches"
    REFUSED = "refused by the header check (FormatError)"
    NO_MATCH = "DecryptionFailed: no identity matches"
    BAD_MAC = "DecryptionFailed: the header MAC does not match"
    PAYLOAD = "DecryptionFailed in the payload, released bytes match the hash"


EXPECTED_BY_CLASS = {
    "success": Outcome.OPENED,
    "header failure": Outcome.REFUSED,
    "armor failure": Outcome.REFUSED,
    "no match": Outcome.NO_MATCH,
    "HMAC failure": Outcome.BAD_MAC,
    "payload failure": Outcome.PAYLOAD,
}

ARMOR = "ASCII-armored (PEM) files are refused: SecureSubmit only writes binary age files"
SCRYPT = "scrypt (passphrase) stanzas are refused: SecureSubmit never uses them"
UNKNOWN = "no X25519 or mlkem768x25519 stanza (the type is spelled differently): refused early"

POLICY: dict[str, tuple[Outcome, str, str]] = {
    # expect: success
    "armor_crlf": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
    "armor_full_last_line": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
    "armor_hybrid": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
    "armor_no_eol": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
    "armor_scrypt": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
    "armor_whitespace_outside": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
    "armor_x25519": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
    "scrypt": (Outcome.REFUSED, SCRYPT, "passphrase (scrypt)"),
    # expect: no match
    "armor_no_match": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
    "scrypt_bad_tag": (Outcome.REFUSED, SCRYPT, "passphrase (scrypt)"),
    "scrypt_no_match": (Outcome.REFUSED, SCRYPT, "passphrase (scrypt)"),
    "scrypt_work_factor_wrong": (Outcome.REFUSED, SCRYPT, "passphrase (scrypt)"),
    "scrypt_uppercase": (Outcome.REFUSED, UNKNOWN, "no X25519 or mlkem768x25519 recipient"),
    "x25519_lowercase": (Outcome.REFUSED, UNKNOWN, "no X25519 or mlkem768x25519 recipient"),
    "hybrid_uppercase": (Outcome.REFUSED, UNKNOWN, "no X25519 or mlkem768x25519 recipient"),
    # expect: payload failure
    "armor_garbage_encoded": (Outcome.REFUSED, ARMOR, "ASCII-armored"),
}

# (expect, our outcome) -> number of vectors; the same table is in
# docs/spec/age-implementation.md.
SUMMARY = {
    ("success", Outcome.OPENED): 18,
    ("success", Outcome.REFUSED): 8,
    ("header failure", Outcome.REFUSED): 62,
    ("armor failure", Outcome.REFUSED): 22,
    ("no match", Outcome.NO_MATCH): 6,
    ("no match", Outcome.REFUSED): 7,
    ("HMAC failure", Outcome.BAD_MAC): 1,
    ("payload failure", Outcome.PAYLOAD): 18,
    ("payload failure", Outcome.REFUSED): 1,
}
HYBRID_SUMMARY = {
    ("success", Outcome.OPENED): 4,
    ("success", Outcome.REFUSED): 1,  # armor_hybrid: armor is refused; de-armored it opens
    ("header failure", Outcome.REFUSED): 9,
    ("no match", Outcome.NO_MATCH): 4,
    ("no match", Outcome.REFUSED): 1,
}

KNOWN_KEYS = {"expect", "payload", "identity", "passphrase", "armored", "compressed", "file key"}


@dataclass(frozen=True)
class Vector:
    name: str
    expect: str
    payload: str | None
    identities: tuple[str, ...]
    file_key: bytes | None
    data: bytes

    @property
    def outcome(self) -> Outcome:
        return POLICY[self.name][0] if self.name in POLICY else EXPECTED_BY_CLASS[self.expect]


def load(path: Path) -> Vector:
    head, _, body = path.read_bytes().partition(b"\n\n")
    fields: dict[str, list[str]] = collections.defaultdict(list)
    for line in head.decode("utf-8").splitlines():
        key, sep, value = line.partition(": ")
        assert sep and (key in KNOWN_KEYS or key == "comment"), f"{path.name}: {line!r}"
        fields[key].append(value)
    if fields.get("compressed") == ["zlib"]:
        body = zlib.decompress(body)
    return Vector(
        name=path.name,
        expect=fields["expect"][0],
        payload=fields["payload"][0] if "payload" in fields else None,
        identities=tuple(fields["identity"]),
        file_key=bytes.fromhex(fields["file key"][0]) if "file key" in fields else None,
        data=body,
    )


VECTORS = [load(p) for p in sorted(VECTOR_DIR.iterdir())]
BY_NAME = {v.name: v for v in VECTORS}


def open_vector(vector: Vector) -> tuple[Outcome, str, bytes]:
    """Our opening path: the outcome, the error message, and what was released."""
    # scrypt vectors carry no identity; any identity shows they are refused regardless.
    identities = [agev1.parse_identity(i) for i in vector.identities] or [
        agev1.generate_x25519_identity()
    ]
    out = io.BytesIO()
    try:
        agev1.decrypt_untrusted(io.BytesIO(vector.data), out, identities)
    except FormatError as error:
        return Outcome.REFUSED, str(error), out.getvalue()
    except DecryptionFailed as error:
        message = str(error)
        if "not encrypted to any of these keys" in message:
            return Outcome.NO_MATCH, message, out.getvalue()
        if "header MAC" in message:
            return Outcome.BAD_MAC, message, out.getvalue()
        return Outcome.PAYLOAD, message, out.getvalue()
    return Outcome.OPENED, "", out.getvalue()


def test_all_143_vectors_are_here_and_classified() -> None:
    assert len(VECTORS) == 143
    assert len([v for v in VECTORS if "hybrid" in v.name]) == 19  # 18 hybrid_*, armor_hybrid
    assert set(POLICY) <= set(BY_NAME)
    for name, (outcome, _, _) in POLICY.items():
        assert outcome != EXPECTED_BY_CLASS[BY_NAME[name].expect], name
    assert collections.Counter((v.expect, v.outcome) for v in VECTORS) == SUMMARY
    hybrid = collections.Counter((v.expect, v.outcome) for v in VECTORS if "hybrid" in v.name)
    assert hybrid == HYBRID_SUMMARY


@pytest.mark.parametrize("vector", VECTORS, ids=[v.name for v in VECTORS])
def test_vector(vector: Vector) -> None:
    outcome, message, released = open_vector(vector)
    assert outcome == vector.outcome, message
    if vector.name in POLICY:
        assert POLICY[vector.name][2] in message
    if outcome in (Outcome.OPENED, Outcome.PAYLOAD):
        # Opened: the payload. A payload failure: exactly the chunks that authenticated.
        assert vector.payload is not None
        assert hashlib.sha256(released).hexdigest() == vector.payload
    else:
        assert released == b""
    if outcome is Outcome.REFUSED:
        assert message.startswith(("the age header ", "the age file ", "the file "))


def test_the_four_hybrid_successes_open_with_the_pq_identity_and_are_post_quantum() -> None:
    for name in ("hybrid", "hybrid_grease", "hybrid_multiple_recipients", "hybrid_and_x25519"):
        vector = BY_NAME[name]
        identities = [agev1.parse_identity(i) for i in vector.identities]
        assert all(isinstance(i, agev1.HybridIdentity) for i in identities), name
        header = agev1.decrypt_untrusted(io.BytesIO(vector.data), io.BytesIO(), identities)
        # Only a header of mlkem768x25519 stanzas alone is reported as post-quantum.
        assert agev1.is_post_quantum(header) == (name in ("hybrid", "hybrid_multiple_recipients"))


def test_armor_hybrid_opens_once_de_armored() -> None:
    # The refusal is about the armor only: the binary file inside opens with the PQ key.
    vector = BY_NAME["armor_hybrid"]
    lines = vector.data.decode("ascii").strip().splitlines()
    assert lines[0] == "-----BEGIN AGE ENCRYPTED FILE-----"
    assert lines[-1] == "-----END AGE ENCRYPTED FILE-----"
    binary = base64.b64decode("".join(lines[1:-1]), validate=True)
    out = io.BytesIO()
    identities = [agev1.parse_identity(i) for i in vector.identities]
    header = agev1.decrypt_untrusted(io.BytesIO(binary), out, identities)
    assert [s.type for s in header.stanzas] == ["mlkem768x25519"]
    assert hashlib.sha256(out.getvalue()).hexdigest() == vector.payload


# --- our header encoder and MAC reproduce every header byte for byte -----------------


def _accepted_headers() -> list[tuple[Vector, agehdr.AgeHeader]]:
    out = []
    for vector in VECTORS:
        try:
            header = agehdr.check_header_bytes(vector.data, recipient_types=agev1.OPENABLE_TYPES)
        except FormatError:
            continue
        out.append((vector, header))
    return out


def test_our_encoder_reproduces_every_accepted_header_and_its_mac() -> None:
    accepted = _accepted_headers()
    assert len(accepted) == 43  # the 143 minus the 100 that the check refuses
    macs_checked = 0
    for vector, header in accepted:
        covered = agev1.header_without_mac(header.stanzas)
        mac_line = b" " + base64.b64encode(header.mac).rstrip(b"=") + b"\n"
        assert covered + mac_line == vector.data[: header.length], vector.name
        assert vector.file_key is not None
        mac = agev1.header_mac(vector.file_key, covered)
        # The MAC is right for every vector except the HMAC-failure one, and for the
        # "no match" vectors whose stanza does not open (their file key is still given).
        assert (mac == header.mac) == (vector.expect != "HMAC failure"), vector.name
        macs_checked += 1
    assert macs_checked == len(accepted)


def test_the_payload_of_a_vector_decrypts_with_its_stated_file_key() -> None:
    # The file key alone opens the payload: HKDF(file key, nonce, "payload") is right.
    vector = BY_NAME["stream_two_chunks"]
    header = agehdr.check_header_bytes(vector.data)
    assert vector.file_key is not None
    nonce = vector.data[header.length : header.length + agev1.PAYLOAD_NONCE_SIZE]
    out = io.BytesIO()
    agev1.decrypt_payload(
        io.BytesIO(vector.data[header.length + agev1.PAYLOAD_NONCE_SIZE :]),
        out,
        agev1.payload_key(vector.file_key, nonce),
    )
    assert hashlib.sha256(out.getvalue()).hexdigest() == vector.payload


# --- the age command-line tool (X25519; age 1.1.1 has no post-quantum keys) ------------


@pytest.fixture
def age_cli() -> str:
    path = shutil.which("age")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("the age command-line tool is required in CI (apt-get install age)")
        pytest.skip("the age command-line tool is not installed")
    return path


def _write_identity(path: Path, identity: agev1.X25519Identity) -> Path:
    path.write_text(identity.encode() + "\n")
    path.chmod(0o600)
    return path


SIZES = [0, 1, 65535, 65536, 65537, 3 * 65536, 3 * 1024 * 1024 + 17]


@pytest.mark.interop
@pytest.mark.parametrize("size", SIZES)
def test_our_files_open_with_the_age_cli(age_cli: str, tmp_path: Path, size: int) -> None:
    plaintext = os.urandom(size)
    first, second = agev1.generate_x25519_identity(), agev1.generate_x25519_identity()
    sealed = tmp_path / "ours.age"
    with sealed.open("wb") as destination:
        agev1.encrypt_stream(
            io.BytesIO(plaintext), destination, [first.recipient(), second.recipient()]
        )
    for identity in (first, second):
        key = _write_identity(tmp_path / "key.txt", identity)
        result = subprocess.run(
            [age_cli, "-d", "-i", str(key), str(sealed)], capture_output=True, check=True
        )
        assert result.stdout == plaintext


@pytest.mark.interop
@pytest.mark.parametrize("size", SIZES)
def test_files_from_the_age_cli_open_on_our_path(age_cli: str, tmp_path: Path, size: int) -> None:
    plaintext = os.urandom(size)
    mine, other = agev1.generate_x25519_identity(), agev1.generate_x25519_identity()
    sealed = tmp_path / "cli.age"
    subprocess.run(
        [age_cli, "-r", str(other.recipient()), "-r", str(mine.recipient()), "-o", str(sealed)],
        input=plaintext,
        check=True,
    )
    out = io.BytesIO()
    with sealed.open("rb") as source:
        header = agev1.decrypt_untrusted(source, out, [mine])
    assert [s.type for s in header.stanzas] == ["X25519", "X25519"]
    assert out.getvalue() == plaintext


@pytest.mark.interop
def test_the_age_cli_refuses_our_tampered_file_as_we_do(age_cli: str, tmp_path: Path) -> None:
    identity = agev1.generate_x25519_identity()
    buffer = io.BytesIO()
    agev1.encrypt_stream(io.BytesIO(os.urandom(100_000)), buffer, [identity.recipient()])
    data = bytearray(buffer.getvalue())
    data[-50] ^= 1  # in the final chunk
    sealed = tmp_path / "tampered.age"
    sealed.write_bytes(bytes(data))
    key = _write_identity(tmp_path / "key.txt", identity)
    result = subprocess.run(
        [age_cli, "-d", "-i", str(key), "-o", str(tmp_path / "out"), str(sealed)],
        capture_output=True,
        check=False,
    )
    assert result.returncode != 0
    with pytest.raises(DecryptionFailed, match="does not authenticate"):
        agev1.decrypt_untrusted(io.BytesIO(bytes(data)), io.BytesIO(), [identity])


@pytest.mark.interop
@pytest.mark.parametrize("size", [0, 65536, 3 * 65536 + 5])
def test_one_file_for_a_hybrid_and_an_x25519_recipient_opens_with_the_age_cli_and_agev1(
    age_cli: str, tmp_path: Path, size: int
) -> None:
    """Encrypted in one call to both kinds (allow_mixed): the age CLI (1.1.1, no
    post-quantum keys) opens it with the X25519 identity, skipping the mlkem768x25519
    stanza it does not know; agev1 opens it with the hybrid identity alone."""
    plaintext = os.urandom(size)
    hybrid, classical = agev1.generate_hybrid_identity(), agev1.generate_x25519_identity()
    sealed = tmp_path / "mixed.age"
    with sealed.open("wb") as destination:
        agev1.encrypt_stream(
            io.BytesIO(plaintext),
            destination,
            [hybrid.recipient(), str(classical.recipient())],
            allow_mixed=True,
        )
    key = _write_identity(tmp_path / "key.txt", classical)
    result = subprocess.run(
        [age_cli, "-d", "-i", str(key), str(sealed)], capture_output=True, check=True
    )
    assert result.stdout == plaintext
    out = io.BytesIO()
    with sealed.open("rb") as source:
        header = agev1.decrypt_untrusted(source, out, [hybrid])
    assert out.getvalue() == plaintext
    assert [s.type for s in header.stanzas] == ["mlkem768x25519", "X25519"]
    assert not agev1.is_post_quantum(header)
    # Neither side opens it with a key it was not encrypted to.
    other = _write_identity(tmp_path / "other.txt", agev1.generate_x25519_identity())
    refused = subprocess.run(
        [age_cli, "-d", "-i", str(other), str(sealed)], capture_output=True, check=False
    )
    assert refused.returncode != 0 and refused.stdout == b""
    with pytest.raises(DecryptionFailed, match="not encrypted to any"):
        agev1.decrypt_untrusted(
            io.BytesIO(sealed.read_bytes()), io.BytesIO(), [agev1.generate_hybrid_identity()]
        )


# --- pyrage, the implementation we replaced (a test dependency now) --------------------


def test_pyrage_and_we_open_each_others_files() -> None:
    import pyrage  # only to compare the two implementations

    plaintext = os.urandom(200_000)
    identity = agev1.generate_x25519_identity()
    theirs = pyrage.x25519.Identity.from_str(identity.encode())
    ours = io.BytesIO()
    agev1.encrypt_stream(io.BytesIO(plaintext), ours, [identity.recipient()])
    assert pyrage.decrypt(ours.getvalue(), [theirs]) == plaintext
    # pyrage writes a grease stanza into every file: our reader ignores it.
    sealed = pyrage.encrypt(plaintext, [theirs.to_public()])
    out = io.BytesIO()
    header = agev1.decrypt_untrusted(io.BytesIO(sealed), out, [identity])
    assert out.getvalue() == plaintext
    assert len(header.stanzas) == 2 and header.stanzas[0].type == "X25519"


# --- 1 GiB: memory and throughput against the age CLI and pyrage in one run -------------

GIB_MIB = int(os.environ.get("SECURESUBMIT_AGE_BENCH_MIB", "1024"))
ROUNDS = int(os.environ.get("SECURESUBMIT_AGE_BENCH_ROUNDS", "2"))

OURS = r"""
import json, os, sys, time
from securesubmit.core import agev1
mode, path, key = sys.argv[1], sys.argv[2], sys.argv[3]
identity = agev1.parse_identity(key)
start = time.perf_counter()
with open(path, "rb") as source, open(os.devnull, "wb") as sink:
    if mode == "encrypt":
        agev1.encrypt_stream(source, sink, [identity.recipient()])
    else:
        agev1.decrypt_untrusted(source, sink, [identity])
seconds = time.perf_counter() - start
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(json.dumps({"seconds": seconds, "rss_mib": int(hwm.split()[1]) / 1024}))
"""

PYRAGE = r"""
import json, os, sys, time
import pyrage
mode, path, key = sys.argv[1], sys.argv[2], sys.argv[3]
identity = pyrage.x25519.Identity.from_str(key)
start = time.perf_counter()
with open(path, "rb") as source, open(os.devnull, "wb") as sink:
    if mode == "encrypt":
        pyrage.encrypt_io(source, sink, [identity.to_public()])
    else:
        pyrage.decrypt_io(source, sink, [identity])
seconds = time.perf_counter() - start
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(json.dumps({"seconds": seconds, "rss_mib": int(hwm.split()[1]) / 1024}))
"""


def _timed(argv: list[str]) -> dict[str, float]:
    """Wall time of the whole child process, and its CPU time (user + system), which
    other jobs on a shared machine disturb far less than the wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert result.returncode == 0, result.stderr
    figures: dict[str, float] = json.loads(result.stdout) if result.stdout.strip() else {}
    figures["wall"] = wall
    figures["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return figures


@pytest.mark.slow
@pytest.mark.interop
def test_one_gib_stays_under_64_mib_and_throughput_against_age_and_pyrage(
    age_cli: str, tmp_path: Path
) -> None:
    """1 GiB through our implementation in child processes: peak memory (VmHWM) at most
    64 MiB both ways. Throughput is measured against the age CLI and pyrage in the same
    run (best of ROUNDS interleaved runs; pyrage once) and printed; the assertion on it
    only catches a collapse (under half of age's speed), as this machine is shared and
    noisy."""
    identity = agev1.generate_x25519_identity()
    key = _write_identity(tmp_path / "key.txt", identity)
    plain = tmp_path / "plain.bin"
    block = os.urandom(1024 * 1024)
    with plain.open("wb") as f:
        for _ in range(GIB_MIB):
            f.write(block)
    sealed = tmp_path / "sealed.age"
    subprocess.run(
        [age_cli, "-r", str(identity.recipient()), "-o", str(sealed), str(plain)], check=True
    )
    ours = [sys.executable, "-c", OURS]
    theirs = [sys.executable, "-c", PYRAGE]
    runs: dict[str, list[dict[str, float]]] = collections.defaultdict(list)
    for round_ in range(ROUNDS):
        runs["ours encrypt"].append(_timed([*ours, "encrypt", str(plain), identity.encode()]))
        runs["age encrypt"].append(
            _timed([age_cli, "-r", str(identity.recipient()), "-o", os.devnull, str(plain)])
        )
        runs["ours decrypt"].append(_timed([*ours, "decrypt", str(sealed), identity.encode()]))
        runs["age decrypt"].append(
            _timed([age_cli, "-d", "-i", str(key), "-o", os.devnull, str(sealed)])
        )
        if round_ == 0:  # pyrage, about half as fast, once: it is context, not the goal
            for op, path in (("encrypt", plain), ("decrypt", sealed)):
                runs[f"pyrage {op}"].append(_timed([*theirs, op, str(path), identity.encode()]))

    def best(name: str, key: str = "wall") -> float:
        return min(r[key] for r in runs[name])

    report: dict[str, dict[str, object]] = {}
    ratios, peaks = {}, {}
    for op in ("encrypt", "decrypt"):
        age_s = best(f"age {op}")
        ratios[op] = age_s / best(f"ours {op}")
        peaks[op] = max(r["rss_mib"] for r in runs[f"ours {op}"])
        report[op] = {
            "MiB": GIB_MIB,
            "age_MBps": GIB_MIB * 1.048576 / age_s,
            "ours_vs_age": ratios[op],
            "ours_vs_age_excluding_python_start": age_s / best(f"ours {op}", "seconds"),
            "ours_vs_age_cpu_time": best(f"age {op}", "cpu") / best(f"ours {op}", "cpu"),
            "pyrage_vs_age": age_s / best(f"pyrage {op}"),
            "ours_vs_pyrage": best(f"pyrage {op}") / best(f"ours {op}"),
            "ours_peak_rss_mib": peaks[op],
            "walls": {
                who: [round(r["wall"], 3) for r in runs[f"{who} {op}"]]
                for who in ("ours", "age", "pyrage")
            },
        }
    print(json.dumps(report, indent=2))
    for op in ("encrypt", "decrypt"):
        assert peaks[op] <= 64, report
        assert ratios[op] >= 0.5, report
