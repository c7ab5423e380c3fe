"""Files we write outside the vault appear whole or not at all, and leave no debris.

* ``sealed open --save-attachments`` writes every attachment under a temporary name and
  gives them their names only when all were written and matched the verified header
  (fs.AtomicFiles): a corrupted second attachment leaves nothing in the folder.
* A killed export leaves a hidden, encrypted ``.part`` file; the next export to that
  folder removes such leftovers of ours (fs.remove_stale_parts), and nothing else.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from securesubmit.core import fs, seal
from securesubmit.core.partners import VERIFIED_CONFIRMED
from securesubmit.core.service import Session, create_vault
from securesubmit.core.vault import ChunkSink
from securesubmit.errors import SecureSubmitError
from tests.helpers import FAST_KDF, PASSPHRASE
from tests.security.world import COORDINATOR_NAME, age_decrypt, age_encrypt, real_now_clock

FIRST = b"first attachment " * 4096
SECOND = b"SECOND attachment, the one we corrupt " * 4096


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Session, Session]]:
    clock = real_now_clock()
    reporter = create_vault(
        tmp_path / "r.db", PASSPHRASE, name="Aigerim", kdf=FAST_KDF, clock=clock
    )
    coord = create_vault(
        tmp_path / "c.db", PASSPHRASE, name=COORDINATOR_NAME, role="coordinator",
        kdf=FAST_KDF, clock=clock, post_quantum=False,  # X25519: the test re-encrypts to it
    )  # fmt: skip
    reporter.add_partner(coord.own_card(), verified=VERIFIED_CONFIRMED)
    coord.add_partner(reporter.own_card(), verified=VERIFIED_CONFIRMED)
    yield reporter, coord
    reporter.close()
    coord.close()


def _sealed_with_two_attachments(reporter: Session, tmp_path: Path) -> Path:
    report = reporter.create_report(title="two files", category="media")
    for name, data in (("one.bin", FIRST), ("two.bin", SECOND)):
        source = tmp_path / name
        source.write_bytes(data)
        reporter.attach_file(report.id, source, scrub=False)
    receipt = reporter.seal_report(report.id, [COORDINATOR_NAME])
    sealed = tmp_path / "two.age"
    reporter.export_sealed_file(receipt.id, sealed)
    return sealed


def _everything_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- sealed open --save-attachments --------------------------------------------------------


def test_a_corrupted_second_attachment_leaves_nothing_in_the_folder(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    """The second attachment's bytes are altered inside the sealed container (which is
    then encrypted to the coordinator again, as anyone can): nothing is saved, neither
    the intact first attachment nor any temporary file."""
    reporter, coord = pair
    sealed = _sealed_with_two_attachments(reporter, tmp_path)
    container = age_decrypt(sealed.read_bytes(), coord.identity.encryption_secret)
    where = container.index(b"SECOND attachment")
    altered = container[:where] + b"s" + container[where + 1 :]
    bad = tmp_path / "bad.age"
    bad.write_bytes(age_encrypt(altered, coord.identity.encryption_public))
    folder = tmp_path / "evidence"
    with pytest.raises(SecureSubmitError):
        coord.open_sealed_file(bad, folder)
    assert _everything_in(folder) == []
    _opened, saved = coord.open_sealed_file(sealed, folder)  # the intact file still saves
    assert [p.read_bytes() for p in saved] == [FIRST, SECOND]


def test_attachments_take_their_names_only_when_all_were_written_and_matched(
    pair: tuple[Session, Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the second attachment is written, the first has no final name yet; when the
    second's bytes (read back from the encrypted scratch copy) differ from the verified
    header, nothing is left: no final name, no temporary file."""
    reporter, coord = pair
    sealed = _sealed_with_two_attachments(reporter, tmp_path)
    folder = tmp_path / "evidence"
    seen_while_writing: list[list[str]] = []
    real_read = ChunkSink.read

    def corrupting_read(self: ChunkSink, index: int) -> Iterator[bytes]:
        for block in real_read(self, index):
            seen_while_writing.append(_everything_in(folder))
            yield block[:-1] + bytes([block[-1] ^ 1]) if index == 1 else block

    monkeypatch.setattr(ChunkSink, "read", corrupting_read)
    with pytest.raises(seal.AttachmentAltered, match="no attachment was saved"):
        coord.open_sealed_file(sealed, folder)
    assert _everything_in(folder) == []
    during = {name for names in seen_while_writing for name in names}
    assert during and not during & {"one.bin", "two.bin"}  # only hidden temporary names
    assert all(re.fullmatch(r"\.(one|two)\.bin\.[0-9a-f]{16}\.part", n) for n in during)

    monkeypatch.undo()
    _opened, saved = coord.open_sealed_file(sealed, folder)
    assert _everything_in(folder) == ["one.bin", "two.bin"]
    assert [p.read_bytes() for p in saved] == [FIRST, SECOND]


def test_an_existing_file_of_the_same_name_stops_the_save_before_anything_is_written(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    reporter, coord = pair
    sealed = _sealed_with_two_attachments(reporter, tmp_path)
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "two.bin").write_bytes(b"keep me")
    with pytest.raises(SecureSubmitError, match="already exists"):
        coord.open_sealed_file(sealed, folder)
    assert _everything_in(folder) == ["two.bin"]
    assert (folder / "two.bin").read_bytes() == b"keep me"


def test_atomic_files_remove_what_they_linked_when_a_later_name_appears(tmp_path: Path) -> None:
    """The last step (giving names) fails on the second file: the first name is taken
    back, so the folder is as it was."""
    finals = [tmp_path / "a.txt", tmp_path / "b.txt"]
    with pytest.raises(SecureSubmitError, match="already exists"), fs.AtomicFiles(finals) as files:
        for index in range(2):
            with files.open(index) as handle:
                handle.write(b"new")
        finals[1].write_bytes(b"appeared meanwhile")
        files.commit()
    assert _everything_in(tmp_path) == ["b.txt"] and finals[1].read_bytes() == b"appeared meanwhile"


# --- stale temporary files of a killed export -----------------------------------------------


def _old(path: Path, data: bytes = b"age-encryption.org/v1 ...") -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    past = fs.STARTED - 3600
    os.utime(path, (past, past))
    return path


def test_a_killed_export_leaves_a_part_file_that_the_next_export_removes(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    """A real export killed mid-write (SIGKILL of a process that holds the temporary
    file open) leaves a hidden .part file; the next export to the folder removes it."""
    reporter, _coord = pair
    out = tmp_path / "usb"
    out.mkdir()
    script = (
        "import os, sys, time\n"
        "from pathlib import Path\n"
        "from securesubmit.core import fs\n"
        "with fs.atomic_writer(Path(sys.argv[1])) as handle:\n"
        "    handle.write(b'age-encryption.org/v1 partial'); handle.flush()\n"
        "    print('writing', flush=True); time.sleep(60)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(out / "bundle-1.ssb")], stdout=subprocess.PIPE
    )
    assert child.stdout is not None and child.stdout.readline() == b"writing\n"
    (left,) = _everything_in(out)
    assert re.fullmatch(r"\.bundle-1\.ssb\.[0-9a-f]{16}\.part", left)
    # While the writer lives, its file is in use: left alone even if it looks old.
    past = fs.STARTED - 3600
    os.utime(out / left, (past, past))
    assert fs.remove_stale_parts(out, (".ssb",)) == []
    child.kill()
    child.wait()
    assert _everything_in(out) == [left]  # what a killed export leaves

    report = reporter.create_report(title="after the crash", category="media")
    reporter.seal_report(report.id, [COORDINATOR_NAME])
    reporter.export_bundle(COORDINATOR_NAME, out / "bundle-2.ssb")
    assert _everything_in(out) == ["bundle-2.ssb"]


def test_only_stale_temporary_files_of_ours_are_removed(tmp_path: Path) -> None:
    stale = _old(tmp_path / ".bundle.ssb.0123456789abcdef.part")
    stale_age = _old(tmp_path / ".report.age.0123456789abcdef.part")
    kept = [
        _old(tmp_path / ".notes.txt.0123456789abcdef.part"),  # another final name
        _old(tmp_path / ".bundle.ssb.part"),  # not our naming
        _old(tmp_path / ".bundle.ssb.0123456789ABCDEF.part"),  # not our naming
        _old(tmp_path / "bundle.ssb.0123456789abcdef.part"),  # not hidden: not ours
        _old(tmp_path / "bundle.ssb"),
    ]
    fresh = tmp_path / ".new.ssb.0123456789abcdef.part"
    fresh.write_bytes(b"written after this process started")
    fresh.chmod(0o600)
    kept.append(fresh)
    readable = _old(tmp_path / ".shared.ssb.0123456789abcdef.part")
    readable.chmod(0o644)  # we write 0600 only
    kept.append(readable)
    target = _old(tmp_path / "victim.txt")
    link = tmp_path / ".link.ssb.0123456789abcdef.part"
    link.symlink_to(target)
    os.utime(link, (fs.STARTED - 3600, fs.STARTED - 3600), follow_symlinks=False)
    kept += [target, link]
    locked = _old(tmp_path / ".busy.ssb.0123456789abcdef.part")
    fd = os.open(locked, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    kept.append(locked)
    try:
        removed = fs.remove_stale_parts(tmp_path, (".ssb", ".age"))
    finally:
        os.close(fd)
    assert sorted(removed) == sorted([stale.name, stale_age.name])
    assert not stale.exists() and not stale_age.exists()
    assert all(os.path.lexists(p) for p in kept)
    assert time.time() > fs.STARTED


def test_an_inbox_export_removes_the_plaintext_part_file_a_killed_export_left(
    tmp_path: Path,
) -> None:
    from securesubmit.core import inbox
    from tests.vectors.exports import generate as export_vectors

    out = tmp_path / "exports"
    out.mkdir(mode=0o700)
    stale = _old(out / ".reports.csv.0123456789abcdef.part", b"id,title\r\nplaintext")
    other = _old(out / ".uwazi-import.zip.0123456789abcdef.part")  # another format's
    inbox.export(export_vectors.load_inbox(), "csv", out)
    assert _everything_in(out) == sorted([other.name, "reports.csv"]) and not stale.exists()
