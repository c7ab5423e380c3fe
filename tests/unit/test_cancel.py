"""Progress and cancel for the long operations other than attaching and sealing: exporting
and importing bundles, saving attachments out, exporting and opening sealed files.

Each reports bytes done and the total, and a progress callback that raises (the app's
Cancel does) leaves nothing behind: no partial file, no temporary file, no vault change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from securesubmit.core.service import Session, verify_audit

MIB = 1024 * 1024


class Cancelled(Exception):
    """What a progress callback raises to stop the work."""


class Recorder:
    """A progress callback that records what it is told and cancels past ``cancel_at``."""

    def __init__(self, cancel_at: int | None = None) -> None:
        self.cancel_at = cancel_at
        self.calls: list[tuple[int, int | None]] = []

    def __call__(self, done: int, total: int | None = None) -> None:
        self.calls.append((done, total))
        if self.cancel_at is not None and done >= self.cancel_at:
            raise Cancelled

    @property
    def done(self) -> list[int]:
        return [done for done, _total in self.calls]

    @property
    def totals(self) -> set[int | None]:
        return {total for _done, total in self.calls}




def _seal(reporter: Session, tmp: Path, title: str, files: dict[str, bytes]) -> str:
    report = reporter.create_report(title=title, category="repression", description="text")
    for name, data in files.items():
        path = tmp / name
        path.write_bytes(data)
        reporter.attach_file(report.id, path, name=name)
    return reporter.seal_report(report.id, ["Free Press Org"]).id


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _events(session: Session) -> int:
    return len(session.audit_log())


def _stored_rows(session: Session) -> tuple[int, int]:
    """Records and chunks in the vault, encrypted, whatever their kind."""
    conn = session.vault._conn
    records = conn.execute("SELECT count(*) FROM objects").fetchone()[0]
    return int(records), int(conn.execute("SELECT count(*) FROM chunks").fetchone()[0])


def test_export_reports_progress_and_a_cancel_leaves_no_file_and_no_state(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    reporter, _coord = pair
    _seal(reporter, tmp_path, "first", {"a.bin": os.urandom(3 * MIB)})
    _seal(reporter, tmp_path, "second", {"b.bin": os.urandom(2 * MIB)})
    sizes = sum(r.file_size for r in reporter.list_receipts())
    usb = tmp_path / "usb"
    usb.mkdir()
    events = _events(reporter)

    cancel = Recorder(cancel_at=4 * MIB)
    with pytest.raises(Cancelled):
        reporter.export_bundle("Free Press Org", usb / "b1.ssb", progress=cancel)
    assert cancel.totals == {sizes}
    assert 4 * MIB <= cancel.done[-1] < sizes
    assert _leftovers(usb) == []  # neither the bundle nor its temporary file
    assert all(r.exports == [] for r in reporter.list_receipts())
    assert _events(reporter) == events

    seen = Recorder()
    result = reporter.export_bundle("Free Press Org", usb / "b1.ssb", progress=seen)
    assert result.sequence == 1  # the cancelled attempt did not use up a sequence number
    assert seen.done == sorted(seen.done) and seen.done[-1] == sizes
    assert seen.totals == {sizes}
    assert _leftovers(usb) == ["b1.ssb"]


def test_import_reports_progress_and_a_cancel_rolls_back(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    reporter, coord = pair
    for n in range(3):
        _seal(reporter, tmp_path, f"report {n}", {f"f{n}.bin": os.urandom(MIB)})
    path = tmp_path / "b1.ssb"
    reporter.export_bundle("Free Press Org", path)
    size = path.stat().st_size
    vault = tmp_path / "c.db"
    events, rows = _events(coord), _stored_rows(coord)

    cancel = Recorder(cancel_at=2 * MIB)  # after the first report was stored
    with pytest.raises(Cancelled):
        coord.import_bundle(path, progress=cancel)
    assert cancel.totals == {size}
    assert coord.list_inbox() == []
    assert (_events(coord), _stored_rows(coord)) == (events, rows)
    wal = Path(f"{vault}-wal")
    assert not wal.exists() or wal.stat().st_size < MIB  # no trace of the rolled-back rows

    seen = Recorder()
    result = coord.import_bundle(path, progress=seen)
    assert result.decision == "new" and len(result.imported) == 3  # not "duplicate"
    assert seen.done == sorted(seen.done) and seen.done[-1] == size
    assert seen.totals == {size}
    coord.close()
    verify_audit(vault)  # the log agrees with the vault after the rollback


def test_saving_an_attachment_reports_progress_and_a_cancel_removes_the_partial_file(
    session: Session, tmp_path: Path
) -> None:
    report = session.create_report(title="t", template="repression")
    data = os.urandom(3 * MIB + 5)
    source = tmp_path / "video.mp4"
    source.write_bytes(data)
    attachment = session.attach_file(report.id, source)
    out = tmp_path / "out"
    out.mkdir()

    cancel = Recorder(cancel_at=2 * MIB)  # two chunks were written to the file by then
    with pytest.raises(Cancelled):
        session.save_attachment(report.id, attachment.id, out, progress=cancel)
    assert cancel.done == [MIB, 2 * MIB] and cancel.totals == {len(data)}
    assert _leftovers(out) == []

    seen = Recorder()
    saved = session.save_attachment(report.id, attachment.id, out, progress=seen)
    assert saved.read_bytes() == data
    assert seen.done == [MIB, 2 * MIB, 3 * MIB, len(data)]


def test_saving_an_inbox_attachment_can_be_cancelled_without_a_trace(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    reporter, coord = pair
    data = os.urandom(3 * MIB)
    _seal(reporter, tmp_path, "photo", {"photo.jpg": data})
    path = tmp_path / "b1.ssb"
    reporter.export_bundle("Free Press Org", path)
    coord.import_bundle(path)
    (item,) = coord.list_inbox()
    out = tmp_path / "out"
    out.mkdir()

    cancel = Recorder(cancel_at=MIB)
    with pytest.raises(Cancelled):
        coord.save_inbox_attachment(item.id, "photo.jpg", out, progress=cancel)
    assert cancel.totals == {len(data)}
    assert _leftovers(out) == []

    seen = Recorder()
    saved = coord.save_inbox_attachment(item.id, "photo.jpg", out, progress=seen)
    assert saved.read_bytes() == data and seen.done[-1] == len(data)


def test_a_cancelled_save_of_a_sealed_files_attachments_leaves_none_of_them(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    reporter, coord = pair
    first, second = os.urandom(2 * MIB), os.urandom(2 * MIB)
    receipt = _seal(reporter, tmp_path, "two files", {"one.bin": first, "two.bin": second})
    sealed = tmp_path / "sealed.age"
    cancel = Recorder(cancel_at=MIB)
    with pytest.raises(Cancelled):
        reporter.export_sealed_file(receipt, sealed, progress=cancel)
    assert not sealed.exists() and not list(tmp_path.glob(".sealed.age.*"))
    reporter.export_sealed_file(receipt, sealed)

    out = tmp_path / "out"
    out.mkdir()
    size = sealed.stat().st_size
    # Past the whole sealed file (read and verified) and the first attachment (saved):
    # the cancel comes while the second one is being written.
    cancel = Recorder(cancel_at=3 * MIB)
    phases: list[int | None] = []

    def saving(done: int, total: int | None = None) -> None:
        if total != size:
            phases.append(total)
            cancel(done, total)

    with pytest.raises(Cancelled):
        coord.open_sealed_file(sealed, out, progress=saving)
    assert phases and set(phases) == {len(first) + len(second)}
    assert _leftovers(out) == []  # the completed first file was removed too

    seen = Recorder()
    _opened, saved = coord.open_sealed_file(sealed, out, progress=seen)
    assert [p.read_bytes() for p in saved] == [first, second]
    assert seen.totals == {size, len(first) + len(second)}
