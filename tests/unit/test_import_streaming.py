"""Import opens each report while the bundle streams (exchange._InboxSink): what it stores
must still be all of the bundle or nothing, and its decision must be the one the whole
bundle gives."""

from __future__ import annotations

import functools
import io
import shutil
import threading
from pathlib import Path

import pytest

from securesubmit.core import agev1, bundle, crypto, exchange, seal
from securesubmit.core.service import Session, unlock_vault, verify_audit
from securesubmit.errors import DecryptionFailed, FormatError, SecureSubmitError
from tests.helpers import PASSPHRASE
from tests.security.world import vault_digest


def _seal(reporter: Session, title: str, attachment: bytes = b"", tmp: Path | None = None) -> str:
    draft = reporter.create_report(title=title, category="media", description=f"{title} text")
    if attachment and tmp is not None:
        path = tmp / f"{title}.bin"
        path.write_bytes(attachment)
        reporter.attach_file(draft.id, path, scrub=False)
    return reporter.seal_report(draft.id, ["Free Press Org"]).id


def _titles(coord: Session) -> list[str]:
    return sorted(item.report["title"] for item in coord.list_inbox())


def test_small_and_large_reports_are_stored_with_their_sealed_originals(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    """One report opened from memory, one larger than SMALL_MEMBER_BYTES opened from the
    copy just stored: both attachments and both sealed originals come back intact."""
    reporter, coord = pair
    big = crypto.random_bytes(exchange.SMALL_MEMBER_BYTES + 300_000)
    _seal(reporter, "small", b"photo" * 1000, tmp_path)
    _seal(reporter, "large", big, tmp_path)
    sealed = {r.report_id: r.file_sha256 for r in reporter.list_receipts()}
    assert len(sealed) == 2
    path = tmp_path / "b1.ssb"
    reporter.export_bundle("Free Press Org", path)
    result = coord.import_bundle(path)
    assert (result.decision, len(result.imported)) == ("new", 2)
    items = {item.report["title"]: item for item in coord.list_inbox()}
    assert items["small"].sealed_blob["size"] <= exchange.SMALL_MEMBER_BYTES
    assert items["large"].sealed_blob["size"] > exchange.SMALL_MEMBER_BYTES
    for title, content in (("small", b"photo" * 1000), ("large", big)):
        item = items[title]
        saved = coord.save_inbox_attachment(item.id, f"{title}.bin", tmp_path / f"{title}.out")
        assert saved.read_bytes() == content
        blob = item.sealed_blob
        hasher = crypto.sha256_hasher()
        for block in coord.vault.read_chunks(bytes.fromhex(blob["blob"]), blob["chunks"]):
            hasher.update(block)
        assert hasher.hexdigest() == blob["sha256"] == sealed[item.report_id]
    coord.close()  # closing twice (again by the fixture) is safe
    verify_audit(tmp_path / "c.db")


def _bundle_with(reporter: Session, coord: Session, members: list[bytes], ids: list[str]) -> bytes:
    out = io.BytesIO()
    me = reporter.identity
    bundle.write_bundle(
        out,
        sender_seed=me.signing_seed,
        sender_keys=me.keys,
        recipient=coord.identity.keys,
        sequence=1,
        previous_hash=bundle.ZERO_HASH,
        members=[
            bundle.Member(rid, len(data), crypto.sha256(data), functools.partial(io.BytesIO, data))
            for rid, data in zip(ids, members, strict=True)
        ],
        statements=(),
        audit=None,
        created=reporter.clock(),
        sender_mldsa_seed=me.mldsa_seed,
    )
    return out.getvalue()


@pytest.mark.parametrize("bad", ["sealed to another key", "empty"])
def test_a_bad_report_after_good_ones_stores_nothing_and_names_the_report(
    pair: tuple[Session, Session], tmp_path: Path, bad: str
) -> None:
    """The first reports are opened and stored before the bad one arrives; the bad one
    rolls all of them back, and its own error is what the user sees (a DecryptionFailed
    inside a report is not reworded as the bundle's)."""
    reporter, coord = pair
    for n in range(3):
        _seal(reporter, f"good {n}")
    receipts = sorted(reporter.list_receipts(), key=lambda r: r.report_id)
    members = [reporter.open_sealed_copy(r).read() for r in receipts]
    ids = [r.report_id for r in receipts]
    if bad == "empty":
        members.append(b"")
    else:
        stranger = crypto.encryption_public_key(crypto.generate_encryption_key())
        sealed = io.BytesIO()
        agev1.encrypt_stream(io.BytesIO(b"not for you"), sealed, [agev1.X25519Recipient(stranger)])
        members.append(sealed.getvalue())
    ids.append("zz-bad-report")
    path = tmp_path / "bad.ssb"
    path.write_bytes(_bundle_with(reporter, coord, members, ids))
    before = vault_digest(coord.vault._conn)
    expected = DecryptionFailed if bad != "empty" else FormatError
    with pytest.raises(expected) as caught:
        coord.import_bundle(path)
    assert str(caught.value).startswith("report zz-bad-r in the bundle: ")
    assert vault_digest(coord.vault._conn) == before
    assert coord.list_inbox() == []


def test_a_fork_only_the_bundle_hash_reveals_stores_none_of_its_reports(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    """Bundle 2 arrived first; a different bundle 1 (from a rolled-back copy of the
    reporter's vault) looks like the late bundle 1 until its hash is known at the end,
    after its reports were opened: the fork is refused and none of them is kept. The
    real bundle 1 is then imported as older."""
    reporter, coord = pair
    _seal(reporter, "first")
    reporter.close()
    shutil.copy(tmp_path / "r.db", tmp_path / "backup.db")
    with unlock_vault(tmp_path / "r.db", PASSPHRASE) as again:
        again.export_bundle("Free Press Org", tmp_path / "b1.ssb")
        _seal(again, "second")
        again.export_bundle("Free Press Org", tmp_path / "b2.ssb")
    assert coord.import_bundle(tmp_path / "b2.ssb").decision == "gap"
    shutil.copy(tmp_path / "backup.db", tmp_path / "r.db")
    with unlock_vault(tmp_path / "r.db", PASSPHRASE) as rolled:
        _seal(rolled, "other first")
        rolled.export_bundle("Free Press Org", tmp_path / "b1-fork.ssb")
    before = vault_digest(coord.vault._conn)
    with pytest.raises(bundle.ChainForked, match="bundle 2 already imported"):
        coord.import_bundle(tmp_path / "b1-fork.ssb")
    assert vault_digest(coord.vault._conn) == before
    late = coord.import_bundle(tmp_path / "b1.ssb")
    assert late.decision == "older" and late.warnings == [late.message]
    assert _titles(coord) == ["first", "second"]
    assert all(item.warnings for item in coord.list_inbox())


def test_a_duplicate_opens_none_of_its_reports(
    pair: tuple[Session, Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reporter, coord = pair
    _seal(reporter, "one")
    path = tmp_path / "b1.ssb"
    reporter.export_bundle("Free Press Org", path)
    coord.import_bundle(path)
    before = vault_digest(coord.vault._conn)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a report of a duplicate bundle was opened")

    monkeypatch.setattr(seal, "open_sealed", refuse)
    assert coord.import_bundle(path).decision == "duplicate"
    assert vault_digest(coord.vault._conn) == before


def test_an_interrupted_import_keeps_nothing(
    pair: tuple[Session, Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception from outside the bundle (here the vault's own write, as a full disk
    would) between two reports: the reports already stored are rolled back with it."""
    reporter, coord = pair
    for n in range(4):
        _seal(reporter, f"r{n}")
    path = tmp_path / "b1.ssb"
    reporter.export_bundle("Free Press Org", path)
    before = vault_digest(coord.vault._conn)
    real_put = coord.vault.put
    calls = []

    def failing_put(record_id: bytes, value: dict[str, object]) -> int:
        calls.append(value.get("kind"))
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_put(record_id, value)

    monkeypatch.setattr(coord.vault, "put", failing_put)
    with pytest.raises(OSError, match="No space left"):
        coord.import_bundle(path)
    monkeypatch.undo()
    assert calls == ["inbox", "inbox", "inbox"]
    assert vault_digest(coord.vault._conn) == before
    assert coord.import_bundle(path).decision == "new"
    assert _titles(coord) == ["r0", "r1", "r2", "r3"]
    with pytest.raises(SecureSubmitError):
        coord.get_inbox_item("zzzz")


def test_a_large_report_sealed_to_another_key_is_refused_by_its_streamed_opening(
    pair: tuple[Session, Session], tmp_path: Path
) -> None:
    """A report larger than SMALL_MEMBER_BYTES is opened in a second thread while it
    streams: its error reaches the user as the report's, and nothing is kept."""
    reporter, coord = pair
    _seal(reporter, "good")
    (receipt,) = reporter.list_receipts()
    stranger = crypto.encryption_public_key(crypto.generate_encryption_key())
    sealed = io.BytesIO()
    payload = crypto.random_bytes(exchange.SMALL_MEMBER_BYTES * 2)
    agev1.encrypt_stream(io.BytesIO(payload), sealed, [agev1.X25519Recipient(stranger)])
    members = [reporter.open_sealed_copy(receipt).read(), sealed.getvalue()]
    path = tmp_path / "bad.ssb"
    path.write_bytes(_bundle_with(reporter, coord, members, [receipt.report_id, "zz-large"]))
    before = vault_digest(coord.vault._conn)
    threads = threading.active_count()
    with pytest.raises(DecryptionFailed, match=r"^report zz-large in the bundle: "):
        coord.import_bundle(path)
    assert threading.active_count() == threads
    assert vault_digest(coord.vault._conn) == before


@pytest.mark.parametrize("damage", ["cut inside the large report", "a byte flipped in it"])
def test_a_bundle_damaged_inside_a_large_report_stops_its_opening_and_keeps_nothing(
    pair: tuple[Session, Session], tmp_path: Path, damage: str
) -> None:
    reporter, coord = pair
    _seal(reporter, "small")
    _seal(reporter, "large", crypto.random_bytes(3 * exchange.SMALL_MEMBER_BYTES), tmp_path)
    path = tmp_path / "b1.ssb"
    reporter.export_bundle("Free Press Org", path)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2  # inside the large report, the bundle's largest part
    if damage.startswith("cut"):
        del data[middle:]
    else:
        data[middle] ^= 0x01
    bad = tmp_path / "bad.ssb"
    bad.write_bytes(bytes(data))
    before = vault_digest(coord.vault._conn)
    threads = threading.active_count()
    with pytest.raises(DecryptionFailed, match="the bundle could not be opened"):
        coord.import_bundle(bad)
    assert threading.active_count() == threads
    assert vault_digest(coord.vault._conn) == before
    assert coord.import_bundle(path).decision == "new"
    assert _titles(coord) == ["large", "small"]
