"""Bundles and the standard `age` command-line tool (docs/spec/bundle.md §1).

The outer layer of every bundle must open with `age -d -i partner.key`, and what it
prints is the container whose SHA-256 is the bundle hash. The other way round, a
container encrypted by the `age` CLI opens on our path. If `age` is missing these tests
fail when CI is set and are skipped otherwise.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from securesubmit.core import bundle, crypto, identity
from securesubmit.errors import NotFound, VerificationError
from tests.vectors.bundle import generate as vec

VECTOR_DIR = Path(__file__).resolve().parents[1] / "vectors" / "bundle"
SENDER = vec.public("sender")
RECIPIENT = vec.public("recipient")
RECIPIENT_SECRET = vec.KEYS["recipient"][1]


@pytest.fixture
def age_cli() -> str:
    path = shutil.which("age")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("the age command-line tool is required in CI (apt-get install age)")
        pytest.skip("the age command-line tool is not installed")
    return path


def _key_file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.key"
    path.write_text(crypto.age_identity(vec.KEYS[name][1]) + "\n")
    path.chmod(0o600)
    return path


class _Sink:
    def __init__(self) -> None:
        self.data: dict[int, bytearray] = {}
        self.events: list[str] = []

    def write(self, index: int, chunk: bytes) -> None:
        self.data.setdefault(index, bytearray()).extend(chunk)

    def commit(self) -> None:
        self.events.append("commit")

    def discard(self) -> None:
        self.events.append("discard")


def _lookup(fp: bytes) -> identity.PublicKeys:
    if fp == SENDER.fingerprint:
        return SENDER
    raise NotFound()


def _member(report_id: str, data: bytes) -> bundle.Member:
    return bundle.Member(
        report_id, len(data), hashlib.sha256(data).digest(), lambda: io.BytesIO(data)
    )


@pytest.mark.interop
def test_a_bundle_we_write_opens_with_age_and_shows_its_container(
    age_cli: str, tmp_path: Path
) -> None:
    members = [_member(f"r{i}", os.urandom(30_000 * i)) for i in range(4)]
    path = tmp_path / "bundle.ssb"
    with path.open("wb") as out:
        info = bundle.write_bundle(
            out,
            sender_seed=vec.KEYS["sender"][0],
            sender_keys=SENDER,
            recipient=RECIPIENT,
            sequence=1,
            previous_hash=bundle.ZERO_HASH,
            members=members,
            statements=[],
            audit=None,
            created=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        )
    opened = subprocess.run(
        [age_cli, "-d", "-i", str(_key_file(tmp_path, "recipient")), str(path)],
        capture_output=True,
        check=True,
    )
    container = opened.stdout
    assert container.startswith(bundle.MAGIC)
    assert hashlib.sha256(container).digest() == info.bundle_hash
    assert info.manifest_bytes in container
    for m in members:
        assert m.open().read() in container

    # Only the recipient: the sender's own key does not open it.
    refused = subprocess.run(
        [age_cli, "-d", "-i", str(_key_file(tmp_path, "sender")), str(path)],
        capture_output=True,
        check=False,
    )
    assert refused.returncode != 0 and refused.stdout == b""


@pytest.mark.interop
@pytest.mark.parametrize("name", ["empty", "one-member", "full"])
def test_a_vector_encrypted_by_the_age_cli_opens_on_our_path(
    age_cli: str, tmp_path: Path, name: str
) -> None:
    container = (VECTOR_DIR / f"{name}.bin").read_bytes()
    expected = next(
        v
        for v in json.loads((VECTOR_DIR / "vectors.json").read_text())["vectors"]
        if v["name"] == name
    )
    encrypted = subprocess.run(
        [age_cli, "-r", crypto.age_recipient(RECIPIENT.encryption_public)],
        input=container,
        capture_output=True,
        check=True,
    ).stdout
    sink = _Sink()
    result = bundle.read_bundle(
        io.BytesIO(encrypted),
        my_secret=RECIPIENT_SECRET,
        my_fingerprint=RECIPIENT.fingerprint,
        sender_lookup=_lookup,
        sink=sink,
    )
    assert sink.events == ["commit"]
    assert result.bundle_hash.hex() == expected["bundle_hash_hex"]
    assert [m.report_id for m in result.manifest.members] == [
        m["report_id"] for m in expected["members"]
    ]


@pytest.mark.interop
def test_an_invalid_container_encrypted_by_the_age_cli_is_refused(
    age_cli: str, tmp_path: Path
) -> None:
    container = (VECTOR_DIR / "invalid" / "member-hash-mismatch.bin").read_bytes()
    encrypted = subprocess.run(
        [age_cli, "-r", crypto.age_recipient(RECIPIENT.encryption_public)],
        input=container,
        capture_output=True,
        check=True,
    ).stdout
    sink = _Sink()
    with pytest.raises(VerificationError, match="does not match its SHA-256"):
        bundle.read_bundle(
            io.BytesIO(encrypted),
            my_secret=RECIPIENT_SECRET,
            my_fingerprint=RECIPIENT.fingerprint,
            sender_lookup=_lookup,
            sink=sink,
        )
    assert sink.events == ["discard"]


def test_a_classical_vaults_bundle_opens_with_the_age_cli(age_cli: str, tmp_path: Path) -> None:
    """Vaults, not vectors: a (hybrid, the default) reporter exports to a coordinator whose
    vault is classical; the outer layer is X25519, so age 1.1.1 opens it, and it holds a
    version 2 container (the manifest says "encryption": "classical", signed with both
    algorithms). age 1.1.1 cannot open a hybrid bundle's outer layer (age >= 1.3 can)."""
    from securesubmit.core.partners import VERIFIED_CONFIRMED
    from securesubmit.core.service import create_vault
    from tests.helpers import FAST_KDF, PASSPHRASE

    reporter = create_vault(tmp_path / "r.db", PASSPHRASE, name="Aigerim", kdf=FAST_KDF)
    coord = create_vault(
        tmp_path / "c.db",
        PASSPHRASE,
        name="Classic Org",
        role="coordinator",
        kdf=FAST_KDF,
        post_quantum=False,
    )
    with reporter, coord:
        reporter.add_partner(coord.own_card(), verified=VERIFIED_CONFIRMED)
        coord.add_partner(reporter.own_card(), verified=VERIFIED_CONFIRMED)
        report = reporter.create_report(title="via age", category="media", description="x")
        reporter.seal_report(report.id, ["Classic Org"])
        result = reporter.export_bundle("Classic Org", tmp_path / "b.ssb")
        assert (result.encryption, result.signature) == ("classical", "hybrid")
        key = tmp_path / "coord.key"
        key.write_text(crypto.age_identity(coord.identity.encryption_secret) + "\n")
        opened = subprocess.run(
            [age_cli, "-d", "-i", str(key), str(result.path)], capture_output=True, check=True
        )
        assert opened.stdout.startswith(bundle.MAGIC_V2)
        assert hashlib.sha256(opened.stdout).digest() == result.bundle_hash
        manifest = json.loads(opened.stdout[28 : 28 + int.from_bytes(opened.stdout[24:28], "big")])
        assert manifest["encryption"] == "classical"
        imported = coord.import_bundle(result.path)
        assert (imported.encryption, imported.signature, len(imported.imported)) == (
            "classical",
            "hybrid",
            1,
        )
