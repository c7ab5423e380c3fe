"""Sealed reports and the standard `age` command-line tool, both ways.

* A report sealed by SecureSubmit opens with ``age -d -i <partner identity>``, and the
  container it yields verifies with our reader (``seal.verify_container``).
* A container encrypted by the ``age`` CLI to a partner opens with ``seal.open_sealed``.
* A container that a partner re-encrypts with the ``age`` CLI to a third party is refused
  as forwarded.

These tests FAIL when ``age`` is missing and the environment variable CI is set, and are
skipped otherwise. Keys are TEST-ONLY (tests/vectors/sealed/vectors.json).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from securesubmit.core import agev1, crypto, seal
from securesubmit.core.identity import PublicKeys
from tests.unit.test_seal import VECTORS, HashingSink, MemorySink

KEYS = {
    "A": (b"\x01" * 32, b"\x02" * 32),
    "B": (b"\x03" * 32, b"\x04" * 32),
    "C": (b"\x05" * 32, b"\x06" * 32),
}
WHEN = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
LARGE = os.urandom(3 * 1024 * 1024 + 12_345)  # many age chunks


def keys(name: str) -> PublicKeys:
    seed, secret = KEYS[name]
    return PublicKeys(crypto.signing_public_key(seed), crypto.encryption_public_key(secret))


@pytest.fixture
def age_cli() -> str:
    path = shutil.which("age")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("the age command-line tool is required in CI (apt-get install age)")
        pytest.skip("the age command-line tool is not installed")
    return path


def identity_file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.key"
    path.write_text(crypto.age_identity(KEYS[name][1]) + "\n")
    path.chmod(0o600)
    return path


def run_age(age: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([age, *args], capture_output=True, timeout=120, check=False)


def seal_to_file(path: Path, *to: str) -> seal.SealReceipt:
    seed, secret = KEYS["A"]
    with path.open("wb") as out:
        return seal.seal_report(
            out,
            report={"title": "Interop (test)", "description": "Проверка совместимости"},
            attachments=[
                seal.AttachmentSource(
                    name="note.txt",
                    size=5,
                    media_type="text/plain",
                    open=lambda: io.BytesIO(b"hello"),
                ),
                seal.AttachmentSource(
                    name="video.mp4",
                    size=len(LARGE),
                    media_type="video/mp4",
                    open=lambda: io.BytesIO(LARGE),
                ),
            ],
            sender_seed=seed,
            sender_encryption_public=crypto.encryption_public_key(secret),
            recipients=[keys(name) for name in to],
            report_id="interop-1",
            created=WHEN,
            sealed=WHEN,
        )


@pytest.mark.interop
def test_a_sealed_report_opens_with_age_and_its_container_verifies(
    age_cli: str, tmp_path: Path
) -> None:
    sealed = tmp_path / "report.age"
    receipt = seal_to_file(sealed, "B", "C")
    container = tmp_path / "report.container"
    for reader in ("B", "C"):
        key = identity_file(tmp_path, reader)
        result = run_age(age_cli, "-d", "-i", str(key), "-o", str(container), str(sealed))
        assert result.returncode == 0, result.stderr.decode()
        sink = MemorySink()
        with container.open("rb") as source:
            opened = seal.verify_container(
                source, my_fingerprint=keys(reader).fingerprint, sink=sink, known_senders=None
            )
        assert sink.committed and sink.content(0) == b"hello" and sink.content(1) == LARGE
        assert opened.payload_sha256 == receipt.payload_sha256
        assert opened.sender_fingerprint == keys("A").fingerprint
        assert opened.recipients == tuple(sorted([keys("B").fingerprint, keys("C").fingerprint]))


@pytest.mark.interop
def test_a_sealed_report_does_not_open_with_age_for_someone_else(
    age_cli: str, tmp_path: Path
) -> None:
    sealed = tmp_path / "report.age"
    seal_to_file(sealed, "B")
    result = run_age(age_cli, "-d", "-i", str(identity_file(tmp_path, "C")), str(sealed))
    assert result.returncode != 0 and result.stdout == b""


@pytest.mark.interop
def test_the_vector_report_opens_with_age(age_cli: str, tmp_path: Path) -> None:
    result = run_age(
        age_cli, "-d", "-i", str(identity_file(tmp_path, "B")), str(VECTORS / "report.age")
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == (VECTORS / "report.container").read_bytes()


@pytest.mark.interop
def test_a_container_encrypted_by_age_opens_with_open_sealed(age_cli: str, tmp_path: Path) -> None:
    # Our container, made by sealing and decrypting, then encrypted by the age CLI.
    ours = tmp_path / "ours.age"
    receipt = seal_to_file(ours, "B")
    container = tmp_path / "report.container"
    with ours.open("rb") as source, container.open("wb") as plain:
        agev1.decrypt_untrusted(source, plain, [KEYS["B"][1]])
    by_age = tmp_path / "by-age.age"
    result = run_age(age_cli, "-r", keys("B").age_recipient, "-o", str(by_age), str(container))
    assert result.returncode == 0, result.stderr.decode()
    sink = HashingSink()
    with by_age.open("rb") as source:
        opened = seal.open_sealed(
            source,
            identity_secrets=[KEYS["B"][1]],
            my_fingerprint=keys("B").fingerprint,
            sink=sink,
            known_senders=None,
        )
    assert sink.committed
    assert opened.payload_sha256 == receipt.payload_sha256
    assert sink.sizes == {0: 5, 1: len(LARGE)}
    assert sink.hashes[1].digest() == crypto.sha256(LARGE)


@pytest.mark.interop
def test_a_report_forwarded_with_the_age_cli_is_refused(age_cli: str, tmp_path: Path) -> None:
    # B decrypts A's report with age and encrypts it again to C with age.
    sealed = tmp_path / "report.age"
    seal_to_file(sealed, "B")
    container = tmp_path / "report.container"
    result = run_age(
        age_cli, "-d", "-i", str(identity_file(tmp_path, "B")), "-o", str(container), str(sealed)
    )
    assert result.returncode == 0, result.stderr.decode()
    forwarded = tmp_path / "forwarded.age"
    result = run_age(age_cli, "-r", keys("C").age_recipient, "-o", str(forwarded), str(container))
    assert result.returncode == 0, result.stderr.decode()
    sink = MemorySink()
    with forwarded.open("rb") as source, pytest.raises(seal.ForwardedReport):
        seal.open_sealed(
            source,
            identity_secrets=[KEYS["C"][1]],
            my_fingerprint=keys("C").fingerprint,
            sink=sink,
            known_senders=None,
        )
    assert sink.discarded and not sink.committed
