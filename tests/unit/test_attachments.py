"""Attachments: streamed into encrypted chunks, bounded memory, cancellable, saved safely."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from securesubmit.core.fs import safe_child
from securesubmit.core.service import Session, unlock_vault, verify_audit
from securesubmit.errors import InputError, NotFound, Refused
from tests.helpers import PASSPHRASE


def _chunk_rows(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM chunks").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def draft(session: Session) -> str:
    return session.create_report(title="with files", category="media").id


@pytest.mark.parametrize("size", [0, 1, 1024 * 1024, 3 * 1024 * 1024 + 17])
def test_attachment_round_trips(session: Session, draft: str, tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    source = tmp_path / "photo.jpg"
    source.write_bytes(data)
    attachment = session.attach_file(draft, source)
    assert (attachment.name, attachment.size) == ("photo.jpg", size)
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    # Random bytes are not a JPEG, whatever the name says: the type comes from the content.
    assert attachment.media_type != "image/jpeg"
    assert attachment.original_sha256 == attachment.sha256
    assert b"".join(session.read_attachment(attachment)) == data
    out = session.save_attachment(draft, "photo.jpg", tmp_path / "out.jpg")
    assert out.read_bytes() == data


def test_progress_is_reported_and_cancel_leaves_nothing(
    session: Session, draft: str, tmp_path: Path, vault_path: Path
) -> None:
    source = tmp_path / "video.mp4"
    source.write_bytes(os.urandom(5 * 1024 * 1024))
    seen: list[int] = []

    class Cancelled(Exception):
        pass

    def progress(done: int) -> None:
        seen.append(done)
        if done >= 3 * 1024 * 1024:
            raise Cancelled

    with pytest.raises(Cancelled):
        session.attach_file(draft, source, progress=progress)
    assert seen == [1024 * 1024, 2 * 1024 * 1024, 3 * 1024 * 1024]
    assert session.list_attachments(draft) == []
    session.close()
    assert _chunk_rows(vault_path) == 0
    verify_audit(vault_path)


def test_save_never_overwrites_and_never_escapes(
    session: Session, draft: str, tmp_path: Path
) -> None:
    source = tmp_path / "doc.pdf"
    source.write_bytes(b"%PDF-1.7 evidence")
    session.attach_file(draft, source)
    existing = tmp_path / "exists.pdf"
    existing.write_bytes(b"keep me")
    with pytest.raises(Refused, match="already exists"):
        session.save_attachment(draft, "doc.pdf", existing)
    assert existing.read_bytes() == b"keep me"
    folder = tmp_path / "usb"
    folder.mkdir()
    saved = session.save_attachment(draft, "doc.pdf", folder)
    assert saved == folder / "doc.pdf" and saved.stat().st_mode & 0o777 == 0o600
    for bad in ("../escape.pdf", "/etc/passwd", "a/b", "..", ""):
        with pytest.raises(Refused):
            safe_child(folder, bad)


@pytest.mark.parametrize("name", ["../x", "a/b", "nul\x00", "bell\x07", "x" * 256])
def test_unsafe_attachment_names_are_refused(
    session: Session, draft: str, tmp_path: Path, name: str
) -> None:
    source = tmp_path / "f.txt"
    source.write_bytes(b"x")
    with pytest.raises(InputError):
        session.attach_file(draft, source, name=name)


def test_missing_file_and_folder_are_clear_errors(
    session: Session, draft: str, tmp_path: Path
) -> None:
    with pytest.raises(NotFound, match="no such file"):
        session.attach_file(draft, tmp_path / "nothing.jpg")
    with pytest.raises(InputError):
        session.attach_file(draft, tmp_path)


def test_remove_attachment_and_delete_report_remove_every_chunk(
    session: Session, draft: str, tmp_path: Path, vault_path: Path
) -> None:
    source = tmp_path / "a.bin"
    source.write_bytes(os.urandom(2 * 1024 * 1024 + 5))
    first = session.attach_file(draft, source)
    session.attach_file(draft, source, name="copy.bin")
    session.remove_attachment(draft, first.id[:6])
    assert [a.name for a in session.list_attachments(draft)] == ["copy.bin"]
    session.delete_report(draft)
    session.close()
    assert _chunk_rows(vault_path) == 0
    result = verify_audit(vault_path)
    with unlock_vault(vault_path, PASSPHRASE) as again:
        types = [e["type"] for e in again.audit_log()]
    assert types[-4:] == [
        "attachment.added",
        "attachment.added",
        "attachment.removed",
        "report.deleted",
    ]
    assert result.events == len(types)


BIG_MIB = int(os.environ.get("SECURESUBMIT_BIG_ATTACHMENT_MIB", "256"))


def test_big_attachment_stays_under_64_mib_of_memory(tmp_path: Path) -> None:
    """256 MiB in the normal suite; `make hardening` sets 4096 (the issue's 4 GiB)."""
    source = tmp_path / "big.bin"
    with open(source, "wb") as f:  # sparse: cheap to make, still read and encrypted in full
        f.truncate(BIG_MIB * 1024 * 1024)
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from securesubmit.core import crypto\n"
        "from securesubmit.core.service import create_vault\n"
        "s = create_vault(Path(sys.argv[1]), 'a passphrase here', kdf=crypto.TEST_KDF)\n"
        "rid = s.create_report(title='t', category='other').id\n"
        "a = s.attach_file(rid, Path(sys.argv[2]))\n"
        "n = sum(len(b) for b in s.read_attachment(a))\n"
        "s.close()\n"
        # VmHWM, not ru_maxrss: on Linux ru_maxrss keeps the parent's peak across fork+exec.
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "print(json.dumps({'size': a.size, 'read': n, 'rss_mib': int(hwm.split()[1]) / 1024}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "v.db"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["size"] == figures["read"] == BIG_MIB * 1024 * 1024
    assert figures["rss_mib"] <= 64, figures


def _jpeg_with_gps(path: Path, canary: str) -> None:
    from PIL import Image

    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "CanonCANARY"  # Make
    exif[0x0110] = f"Model {canary}"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (43.0, 15.0, 0.0)
    gps[3], gps[4] = "E", (76.0, 57.0, 0.0)
    image.save(path, "JPEG", exif=exif.tobytes())


def test_gps_and_camera_metadata_are_removed_when_attaching(
    session: Session, draft: str, tmp_path: Path, vault_path: Path
) -> None:
    source = tmp_path / "protest.jpg"
    _jpeg_with_gps(source, "SERIALCANARY42")
    original = source.read_bytes()
    assert b"SERIALCANARY42" in original
    attachment = session.attach_file(draft, source)
    cleaned = b"".join(session.read_attachment(attachment))
    assert b"SERIALCANARY42" not in cleaned and b"CanonCANARY" not in cleaned
    assert any("GPS" in item for item in attachment.removed_metadata), attachment.removed_metadata
    assert attachment.original_sha256 == hashlib.sha256(original).hexdigest() != attachment.sha256
    assert attachment.media_type == "image/jpeg"
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(cleaned)).size == (64, 48)


def test_keep_original_stores_the_untouched_file_as_evidence(
    session: Session, draft: str, tmp_path: Path
) -> None:
    source = tmp_path / "evidence.jpg"
    _jpeg_with_gps(source, "KEEPME")
    cleaned = session.attach_file(draft, source, keep_original=True)
    by_kind = {a.evidence_original: a for a in session.list_attachments(draft)}
    assert by_kind[False].id == cleaned.id
    assert b"".join(session.read_attachment(by_kind[True])) == source.read_bytes()
    assert by_kind[True].sha256 == cleaned.original_sha256


def test_unscrubbable_files_are_stored_as_they_are_with_a_warning(
    session: Session, draft: str, tmp_path: Path
) -> None:
    source = tmp_path / "letter.pdf"
    source.write_bytes(b"%PDF-1.4\n1 0 obj << /Author (Someone) >> endobj\ntrailer\n%%EOF\n")
    attachment = session.attach_file(draft, source)
    assert attachment.metadata_warning
    assert b"".join(session.read_attachment(attachment)) == source.read_bytes()


def test_cancelled_attach_leaves_no_wal_behind(
    session: Session, draft: str, tmp_path: Path, vault_path: Path
) -> None:
    source = tmp_path / "big.bin"
    with open(source, "wb") as f:  # large enough to spill out of SQLite's page cache
        f.truncate(48 * 1024 * 1024)

    def cancel(done: int) -> None:
        if done >= 40 * 1024 * 1024:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        session.attach_file(draft, source, progress=cancel)
    wal = Path(f"{vault_path}-wal")
    assert not wal.exists() or wal.stat().st_size < 1024 * 1024
