"""Bundles between vaults: export on the reporter's side, import into the coordinator's inbox.

The bundle format is core/bundle.py's (docs/spec/bundle.md); this module keeps the
state around it in the vault, all of it encrypted:

* reporter: per partner, the last sequence number, the last bundle's hash, and the
  audit-log size that partner last received (so the next bundle carries a consistency
  proof from there);
* coordinator: per sender, every chain link seen and the sender's last verified audit
  checkpoint; each imported report as an inbox item, with its attachments and the
  sealed original kept as evidence.

Export writes the bundle to a temporary file, commits the new state, and only then gives
the file its name: a crash leaves at worst a gap the partner is told about, never two
different bundles under one sequence number (which the partner would take for a fork).
Import is one transaction: on any failure nothing of the bundle is stored. Each report is
opened and stored while the bundle streams, as soon as its bytes have matched the signed
manifest (see _InboxSink), so memory stays bounded however many reports a bundle holds.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from securesubmit.core import agev1, bundle, fs, identity, merkle, note, seal
from securesubmit.core.models import Receipt, now_iso
from securesubmit.core.partners import Partner
from securesubmit.core.streams import ByteTally, IterReader, Progress
from securesubmit.core.vault import ChunkSink, ChunkWriter, Vault
from securesubmit.errors import NotFound, Refused, SecureSubmitError

if TYPE_CHECKING:
    from securesubmit.core.service import Session

MAX_BUNDLE_BYTES = 64 * 1024 * 1024 * 1024


@dataclass
class InboxItem:
    """A verified report in the coordinator's inbox (decrypted, then re-encrypted here)."""

    id: str
    report_id: str
    report: dict[str, Any]
    sender_fingerprint: str
    sender_name: str
    bundle_id: str
    sequence: int
    created: str
    sealed: str
    imported: str
    attachments: list[dict[str, Any]]
    sealed_blob: dict[str, Any]
    status: str = "new"
    tags: list[str] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)
    duplicate_of: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    encryption: str = "classical"
    """The sealed report's age layer: "hybrid" (ML-KEM-768 + X25519) or "classical"."""
    signature: str = "classical"
    """"hybrid" (Ed25519 + ML-DSA-65) or "classical" (Ed25519 only)."""

    def to_record(self) -> dict[str, Any]:
        # Not dataclasses.asdict, which deep-copies the whole report (13% of the time of
        # an import of 10,000 reports): the record is serialised by Vault.put at once.
        record = {name: getattr(self, name) for name in _INBOX_FIELDS}
        record["kind"] = "inbox"
        record["schema"] = 1
        return record

    @classmethod
    def from_record(cls, item_id: str, record: dict[str, Any]) -> InboxItem:
        data = {k: v for k, v in record.items() if k not in ("kind", "schema")}
        return cls(id=item_id, **data)


_INBOX_FIELDS = tuple(f.name for f in fields(InboxItem) if f.name != "id")


@dataclass(frozen=True)
class ExportResult:
    path: Path
    partner: str
    sequence: int
    bundle_id: str
    bundle_hash: bytes
    reports: list[str]
    encryption: str = "classical"
    """The bundle's age layer: "hybrid" or "classical"."""
    signature: str = "classical"
    """The manifest's signature: "hybrid" (Ed25519 + ML-DSA-65) or "classical"."""


@dataclass(frozen=True)
class ImportResult:
    path: Path
    sender: str
    sender_fingerprint: bytes
    sequence: int
    decision: str
    message: str
    imported: list[str]
    """Ids of the new inbox items (not the items: a bundle may hold 10,000 reports)."""
    warnings: list[str]
    encryption: str = "classical"
    """The bundle's age layer as found: "hybrid" or "classical"."""
    signature: str = "classical"
    """The manifest's signature: "hybrid" (Ed25519 + ML-DSA-65) or "classical"."""


# --- reporter side ------------------------------------------------------------------


def _export_state_id(session: Session, partner: Partner) -> bytes:
    return session.vault.fixed_id("export-state:" + partner.original_fingerprint.hex())


def export_bundle(
    session: Session,
    partner_ref: str,
    out: Path,
    *,
    report_refs: Sequence[str] = (),
    delete_after_export: bool = False,
    progress: Progress | None = None,
) -> ExportResult:
    """Write the chosen sealed reports (default: every one not yet sent to this partner)
    into one bundle for ``partner_ref`` at ``out``. ``progress`` counts the sealed
    reports' bytes as they go in; if it raises, the temporary file is removed before the
    vault's state changes, so nothing remains."""
    vault = session.vault
    partner = session.get_partner(partner_ref)
    now = session.clock().replace(microsecond=0)
    partner.check_usable(now)
    receipts = _receipts_for(session, partner, report_refs)
    state_id = _export_state_id(session, partner)
    state = vault.get(state_id) or {"sequence": 0, "last_hash": bytes(32).hex(), "seen_size": 0}
    sequence = int(state["sequence"]) + 1
    previous_hash = bytes.fromhex(state["last_hash"])
    tally = ByteTally(progress, sum(r.file_size for r in receipts))
    members = [
        bundle.Member(
            report_id=r.report_id,
            size=r.file_size,
            sha256=bytes.fromhex(r.file_sha256),
            open=tally.opener(_opener(session, r)),
        )
        for r in receipts
    ]
    me = session.identity
    audit_slot, tree_size = _audit_slot(
        vault, int(state["seen_size"]), hybrid_manifest=me.keys.is_hybrid
    )
    out = Path(out)
    # A killed export left its encrypted temporary file beside the destination: remove
    # such leftovers of ours before writing a new one (fs.remove_stale_parts says which).
    fs.remove_stale_parts(out.parent if str(out.parent) else Path("."), (".ssb", out.name))
    with fs.atomic_writer(out) as handle:
        info = bundle.write_bundle(
            handle,
            sender_seed=me.signing_seed,
            sender_keys=me.keys,
            recipient=partner.keys,
            sequence=sequence,
            previous_hash=previous_hash,
            members=members,
            statements=[s.encode("utf-8") for s in me.statements],
            audit=audit_slot,
            created=now,
            sender_mldsa_seed=me.mldsa_seed,
        )
        handle.flush()
        # Commit the state before the file takes its name (see the module docstring).
        details = {
            "partner": partner.id,
            "sequence": sequence,
            "bundle": info.manifest.bundle_id,
            "reports": [r.report_id for r in receipts],
        }
        with vault.transaction("bundle.exported", details):
            vault.put(
                state_id,
                {
                    "kind": "export-state",
                    "schema": 1,
                    "sequence": sequence,
                    "last_hash": info.bundle_hash.hex(),
                    "seen_size": tree_size,
                },
            )
            export = {
                "partner": partner.name,
                "fingerprint": partner.fingerprint.hex(),
                "bundle_id": info.manifest.bundle_id,
                "sequence": sequence,
                "time": now_iso(now),
            }
            for receipt in receipts:
                receipt.exports.append(export)
                if delete_after_export:
                    vault.delete_chunks(bytes.fromhex(receipt.id), receipt.chunks)
                    receipt.copy_deleted = True
                vault.put(bytes.fromhex(receipt.id), receipt.to_record())
            vault.keep_checkpoint(tree_size)
    if delete_after_export:
        vault.checkpoint()
    return ExportResult(
        out,
        partner.name,
        sequence,
        info.manifest.bundle_id,
        info.bundle_hash,
        [r.report_id for r in receipts],
        info.encryption,
        "hybrid" if info.manifest.version == 2 else "classical",
    )


def _receipts_for(session: Session, partner: Partner, refs: Sequence[str]) -> list[Receipt]:
    sealed_to = {partner.fingerprint.hex(), partner.original_fingerprint.hex()}
    sealed_to |= {p.keys.fingerprint.hex() for p in partner.history.periods}
    if refs:
        chosen = [session.get_receipt(ref) for ref in refs]
        for receipt in chosen:
            if not sealed_to & {r["fingerprint"] for r in receipt.recipients}:
                raise Refused(
                    f"report {receipt.report_id[:8]} was not sealed to {partner.name}; "
                    "only its recipients can read it"
                )
            if receipt.copy_deleted:
                raise Refused(
                    f"report {receipt.report_id[:8]}'s sealed copy was deleted after an "
                    "earlier export; it cannot be sent again"
                )
    else:
        chosen = [
            r
            for r in session.list_receipts()
            if sealed_to & {x["fingerprint"] for x in r.recipients}
            and not r.copy_deleted
            and not any(e["fingerprint"] in sealed_to for e in r.exports)
        ]
        if not chosen:
            raise Refused(
                f"there are no sealed reports for {partner.name} that were not sent yet",
                hint="seal a report to this partner first, or name reports with --reports",
            )
    return sorted(chosen, key=lambda r: (r.sealed, r.id))


def _opener(session: Session, receipt: Receipt) -> Any:
    return lambda: session.open_sealed_copy(receipt)


def _audit_slot(
    vault: Vault, seen_size: int, *, hybrid_manifest: bool | None = None
) -> tuple[bundle.AuditSlot, int]:
    """This vault's latest checkpoint, its verifier key(s), and a consistency proof from
    the tree size the partner last received. A hybrid log's ML-DSA-65 verifier key goes
    in when the manifest is version 2 (``hybrid_manifest``; by default, when the log is
    hybrid, as a hybrid log's owner always has a hybrid identity)."""
    checkpoint_note = vault.latest_checkpoint()
    public, mldsa_public = vault.log_public_key(), vault.log_mldsa_public_key()
    name = vault.log_name()
    checkpoint = vault.verify_own_checkpoint(checkpoint_note)
    proof = None
    if 0 < seen_size < checkpoint.size:
        leaves = vault.leaf_hashes()
        proof = bundle.ConsistencyProof(
            seen_size, tuple(merkle.consistency_proof(seen_size, checkpoint.size, leaves))
        )
    slot = bundle.AuditSlot(
        checkpoint=checkpoint_note,
        verifier_key=note.verifier_key(name, public),
        consistency=proof,
        # Only a version 2 (hybrid-signed) manifest carries it (docs/spec/bundle.md §3).
        mldsa_verifier_key=None
        if mldsa_public is None or hybrid_manifest is False
        else note.mldsa_verifier_key(name, mldsa_public),
    )
    return slot, checkpoint.size


# --- coordinator side ---------------------------------------------------------------


def _sender_state_id(session: Session, partner: Partner) -> bytes:
    return session.vault.fixed_id("sender-state:" + partner.original_fingerprint.hex())


def import_bundle(
    session: Session, path: Path, *, progress: Progress | None = None
) -> ImportResult:
    """Verify a bundle and store its reports in the inbox, atomically. ``progress``
    counts the bundle's bytes as they are read; if it raises, the transaction rolls
    back and nothing of the bundle is stored."""
    vault = session.vault
    path = Path(path)
    try:
        size = path.stat().st_size
        source = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror}") from None
    if size > MAX_BUNDLE_BYTES:
        source.close()
        raise Refused(f"{path} is larger than the {MAX_BUNDLE_BYTES >> 30} GiB a bundle may be")
    counted = ByteTally(progress, size).reader(source)
    now = session.clock().replace(microsecond=0)
    partners = session.list_partners()
    found: dict[str, Partner] = {}
    details: dict[str, Any] = {"file": path.name}

    # The Ed25519 + X25519 keys of a hybrid partner, named by their classical (version 1)
    # fingerprint: a bundle signed by them alone is a downgrade, not an unknown sender.
    classical_of_hybrid = {
        period.keys.classical.fingerprint: partner
        for partner in partners
        for period in partner.history.periods
        if period.keys.is_hybrid
    }

    def lookup(fingerprint: bytes) -> identity.PublicKeys:
        downgraded = classical_of_hybrid.get(fingerprint)
        for partner in partners:
            period = partner.history.period_of(fingerprint)
            if period is not None and partner.is_hybrid and not period.keys.is_hybrid:
                downgraded = partner
            elif period is not None:
                revocations = [
                    s for s in partner.statements if isinstance(s, identity.RevocationStatement)
                ]
                identity.check_not_revoked(fingerprint, now, revocations)
                found["partner"] = partner
                return period.keys
        if downgraded is not None:
            raise Refused(
                f"this bundle is signed with classical keys only (Ed25519), but "
                f"{downgraded.name} uses post-quantum (hybrid) keys: a downgrade is refused",
                hint="ask the sender, by phone or in person, to export the bundle again",
            )
        raise NotFound()

    with counted:
        try:
            with vault.transaction("bundle.imported", details):
                verified, sink = _read(counted, session, now, lookup, lambda: found["partner"])
                plan = sink.plan
                partner = plan.partner
                decision = bundle.classify_sequence(
                    bundle.SeqState.of(plan.links) if plan.links else None, verified.link
                )
                if decision.kind is bundle.SequenceKind.DUPLICATE:
                    raise _NothingToDo(decision, verified.manifest.sequence)
                decision.raise_if_fork()
                warnings = _warnings(
                    decision, plan.stored, partner, verified.manifest, verified.checkpoint
                )
                if decision != plan.decision or warnings != plan.warnings:
                    # Cannot happen (see _Plan); the stored items carry plan.warnings.
                    raise RuntimeError("the import's decision changed after the reports were read")
                items = sink.items
                _apply_statements(session, partner, verified)
                links = [*plan.links, verified.link]
                vault.put(plan.state_id, _sender_state(plan.stored, links, verified, warnings))
                details.update(
                    sender=partner.id,
                    sequence=verified.manifest.sequence,
                    bundle=verified.manifest.bundle_id,
                    reports=len(items),
                    warnings=warnings,
                )
        except _NothingToDo as nothing:  # rolled back: nothing changed
            sender = found["partner"]
            return ImportResult(
                path,
                sender.name,
                sender.fingerprint,
                nothing.sequence,
                "duplicate",
                nothing.decision.message,
                [],
                [],
            )
    return ImportResult(
        path,
        partner.name,
        partner.fingerprint,
        verified.manifest.sequence,
        str(decision.kind),
        decision.message,
        items,
        warnings,
        verified.encryption,
        verified.signature_protection,
    )


class _NothingToDo(Exception):
    """Raised inside the import transaction to roll it back: a duplicate bundle."""

    def __init__(self, decision: bundle.Decision, sequence: int) -> None:
        super().__init__(decision.message)
        self.decision = decision
        self.sequence = sequence


def _read(
    source: BinaryIO,
    session: Session,
    now: datetime,
    lookup: bundle.SenderLookup,
    partner_of: Callable[[], Partner],
) -> tuple[bundle.VerifiedBundle, _InboxSink]:
    """Read, verify and store the bundle (see _InboxSink). Opened with the current
    encryption key or an earlier one (after a rotation, bundles sealed to the old key may
    still arrive): the identities are built once, for the bundle and all its reports."""
    me = session.identity
    identities = me.age_identities
    sink = _InboxSink(session, now, identities, partner_of)
    try:
        verified = bundle.read_bundle(
            source,
            my_secret=identities,
            my_fingerprint=sink.my_fingerprint,
            sender_lookup=lookup,
            sink=sink,
            on_manifest=sink.on_manifest,
            require_hybrid=me.require_hybrid,
        )
    except _MemberFailed as failed:
        raise failed.error from None
    return verified, sink


def _links(stored: dict[str, Any] | None) -> list[bundle.ChainLink]:
    if not stored:
        return []
    return [
        bundle.ChainLink(int(seq), bytes.fromhex(h), bytes.fromhex(prev))
        for seq, (h, prev) in sorted(stored["links"].items(), key=lambda kv: int(kv[0]))
    ]


def _sender_state(
    stored: dict[str, Any] | None,
    links: list[bundle.ChainLink],
    verified: bundle.VerifiedBundle,
    warnings: list[str],
) -> dict[str, Any]:
    state = dict(stored or {"kind": "sender-state", "schema": 1, "warnings": []})
    state["links"] = {
        str(link.sequence): [link.bundle_hash.hex(), link.previous_hash.hex()] for link in links
    }
    slot = verified.manifest.audit
    checkpoint = verified.checkpoint
    keep_new = (
        checkpoint is not None
        and not any(w.startswith("audit log") for w in warnings)
        and checkpoint.size >= int((stored or {}).get("checkpoint_size", 0))
    )
    if keep_new and slot is not None and slot.checkpoint is not None and checkpoint is not None:
        state["checkpoint"] = slot.checkpoint.decode("utf-8")
        state["checkpoint_size"] = checkpoint.size
        state["checkpoint_root"] = checkpoint.root_hash.hex()
        state["verifier_key"] = slot.verifier_key
        if slot.mldsa_verifier_key is None:
            state.pop("mldsa_verifier_key", None)
        else:
            state["mldsa_verifier_key"] = slot.mldsa_verifier_key
    state["warnings"] = list(state.get("warnings", [])) + warnings
    return state


def _check_audit(
    stored: dict[str, Any] | None, slot: bundle.AuditSlot | None, checkpoint: note.Checkpoint | None
) -> list[str]:
    """The sender's log must only grow: rollback, fork or a missing proof are reported."""
    if slot is None or checkpoint is None:
        return ["audit log: the bundle carries no checkpoint of the sender's log"]
    if not stored or "checkpoint_size" not in stored:
        return []
    if stored.get("verifier_key") != slot.verifier_key or stored.get(
        "mldsa_verifier_key"
    ) != slot.mldsa_verifier_key:
        return ["audit log: the sender's log key changed; its history cannot be compared"]
    old_size = int(stored["checkpoint_size"])
    old_root = bytes.fromhex(stored["checkpoint_root"])
    if checkpoint.size < old_size:
        return [
            f"audit log ROLLED BACK: the sender's log has {checkpoint.size:,} events, "
            f"{old_size:,} were seen before (restored from an older copy?)"
        ]
    if checkpoint.size == old_size:
        if checkpoint.root_hash != old_root:
            return ["audit log FORKED: same size as before, different history"]
        return []
    proof = slot.consistency
    if proof is None or proof.old_size != old_size:
        return [
            f"audit log: no consistency proof from the {old_size:,} events seen before; "
            "the history may have been rewritten"
        ]
    try:
        merkle.verify_consistency(
            old_size, checkpoint.size, old_root, checkpoint.root_hash, list(proof.hashes)
        )
    except SecureSubmitError:
        return ["audit log FORKED: the new checkpoint is not an extension of the old one"]
    return []


def _warnings(
    decision: bundle.Decision,
    stored: dict[str, Any] | None,
    partner: Partner,
    manifest: bundle.Manifest,
    checkpoint: note.Checkpoint | None,
) -> list[str]:
    """What every report of the bundle is marked with in the inbox."""
    warnings = []
    if decision.kind is not bundle.SequenceKind.NEW:
        warnings.append(decision.message)
    if decision.kind is not bundle.SequenceKind.OLDER:
        # A late, older bundle carries an older checkpoint by nature.
        warnings += _check_audit(stored, manifest.audit, checkpoint)
    if partner.rotations == 0 and partner.card.expires < manifest.created:
        warnings.append(
            f"the sender's card expired on {partner.card.expires:%Y-%m-%d}, before "
            "this bundle was made: ask them for a new card and check it"
        )
    return warnings


def _manifest_checkpoint(manifest: bundle.Manifest) -> note.Checkpoint | None:
    """The manifest's audit checkpoint (read_bundle verified it before on_manifest; its
    VerifiedBundle gives the same one only at the end)."""
    slot = manifest.audit
    if slot is None or slot.verifier_key is None or slot.checkpoint is None:
        return None
    name, public_key = note.parse_verifier_key(slot.verifier_key)
    mldsa_public = None
    if slot.mldsa_verifier_key is not None:
        mldsa_public = note.parse_mldsa_verifier_key(slot.mldsa_verifier_key)[1]
    return note.parse_and_verify_checkpoint(
        slot.checkpoint, name, public_key, mldsa_public=mldsa_public
    )


def _refuse_log_downgrade(stored: dict[str, Any] | None, manifest: bundle.Manifest) -> None:
    """A sender whose log was hybrid stays hybrid: a bundle without its ML-DSA-65 log key
    is refused (docs/spec/bundle.md §3), never just marked."""
    pinned = (stored or {}).get("mldsa_verifier_key")
    slot = manifest.audit
    if pinned is not None and (slot is None or slot.mldsa_verifier_key is None):
        raise Refused(
            "this bundle's audit checkpoint has no ML-DSA-65 log key, but the sender's "
            "earlier bundles were signed by one: a downgrade is refused",
            hint="ask the sender, by phone or in person, to export the bundle again",
        )


def _expected_link(links: list[bundle.ChainLink], manifest: bundle.Manifest) -> bundle.ChainLink:
    """The bundle's chain link as the stored chain expects it. Its real hash is known only
    at the end, and classify_sequence looks at it only to tell a duplicate or a fork:
    with the expected hash it gives the same decision as with the real one unless the
    real one makes the bundle a fork (import_bundle checks that at the end)."""
    known = {link.sequence: link for link in links}
    same, after = known.get(manifest.sequence), known.get(manifest.sequence + 1)
    if same is not None:
        expected = same.bundle_hash
    elif after is not None:
        expected = after.previous_hash
    else:
        expected = bytes(bundle.HASH_SIZE)  # not looked at
    return bundle.ChainLink(manifest.sequence, expected, manifest.previous_hash)


@dataclass(frozen=True)
class _Plan:
    """What the import decides when the verified manifest arrives, before any report:
    the sender, their stored state, the sequence decision and the warnings every inbox
    item carries. Only a duplicate or a fork depends on the bundle's hash, which is known
    only at the end (see _expected_link); import_bundle then decides again with it and
    refuses to commit if anything came out differently."""

    partner: Partner
    state_id: bytes
    stored: dict[str, Any] | None
    links: list[bundle.ChainLink]
    decision: bundle.Decision
    warnings: list[str]


SMALL_MEMBER_BYTES = 1024 * 1024
"""A report in a bundle up to this size is held in memory until its bytes are complete, then
opened; a larger one is opened while it streams, in a second thread (see _StreamedOpen)."""
PIPE_BYTES = 1024 * 1024
"""At most this much of a large report is between the bundle's stream and its opening."""


class _MemberFailed(Exception):
    """A report inside the bundle was refused. Carries the error across the bundle's age
    decryption, which would otherwise read a DecryptionFailed of the report's own age
    layer as the bundle's and reword it."""

    def __init__(self, error: SecureSubmitError) -> None:
        super().__init__(str(error))
        self.error = error


class _Stopped(Exception):
    """Raised into a report's opening when the import stopped before the report's end."""


class _Pipe:
    """A bounded pipe in memory: the bundle's stream puts a large report's bytes in, as they
    arrive; the report's opening (another thread) reads them out through ``chunks``."""

    def __init__(self, limit: int) -> None:
        self._ready = threading.Condition()
        self._queue: deque[bytes] = deque()
        self._held = 0
        self._limit = limit
        self._ended = False  # the report's last byte was put
        self._stopped = False  # the import failed: the reader raises _Stopped
        self._gone = False  # the reader returned or failed: puts are dropped

    def put(self, data: bytes) -> None:
        with self._ready:
            while self._held >= self._limit and not self._gone:
                self._ready.wait()
            if not self._gone:
                self._queue.append(data)
                self._held += len(data)
                self._ready.notify_all()

    def end(self, *, stopped: bool = False) -> None:
        with self._ready:
            self._ended = True
            self._stopped = stopped
            self._ready.notify_all()

    def gone(self) -> None:
        with self._ready:
            self._gone = True
            self._queue.clear()
            self._ready.notify_all()

    def chunks(self) -> Iterator[bytes]:
        while True:
            with self._ready:
                while not self._queue and not self._ended:
                    self._ready.wait()
                if self._stopped:
                    raise _Stopped()
                if not self._queue:
                    return
                data = self._queue.popleft()
                self._held -= len(data)
                self._ready.notify_all()
            yield data


class _LockedSink:
    """An attachment sink whose vault writes take the import's lock: while a large report
    streams, its opening (one thread) and its sealed copy (the other) both write."""

    def __init__(self, inner: ChunkSink, lock: threading.Lock) -> None:
        self._inner = inner
        self._lock = lock

    def write(self, index: int, chunk: bytes) -> None:
        with self._lock:
            self._inner.write(index, chunk)

    def commit(self) -> None:
        with self._lock:
            self._inner.commit()

    def discard(self) -> None:
        with self._lock:
            self._inner.discard()


class _StreamedOpen:
    """A large report opened in a second thread while its bytes stream through a _Pipe,
    instead of stored whole and then read back from the vault (one full read and
    decryption of it fewer). Its result is used only after the report's bytes have
    matched the manifest (see _InboxSink); ``stop`` ends the thread when the import fails.
    Both threads write into the same open transaction, one at a time (the lock)."""

    def __init__(
        self,
        opener: Callable[[BinaryIO, seal.AttachmentSink], seal.OpenedReport],
        attachments: ChunkSink,
        lock: threading.Lock,
    ) -> None:
        self.pipe = _Pipe(PIPE_BYTES)
        self.result: seal.OpenedReport | None = None
        self.error: BaseException | None = None
        self._opener = opener
        self._sink = _LockedSink(attachments, lock)
        self._thread = threading.Thread(target=self._run, name="securesubmit-import", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.result = self._opener(cast(BinaryIO, IterReader(self.pipe.chunks())), self._sink)
        except BaseException as error:  # handed to the importing thread by finish()
            self.error = error
        finally:
            self.pipe.gone()

    def finish(self) -> seal.OpenedReport:
        self.pipe.end()
        self._thread.join()
        if self.error is not None:
            raise self.error
        if self.result is None:  # pragma: no cover - _run sets one of the two
            raise RuntimeError("a report's opening ended without a result")
        return self.result

    def stop(self) -> None:
        """End the thread and wait for it, even through a Ctrl+C: the transaction may only
        roll back once this thread can write into it no more."""
        self.pipe.end(stopped=True)
        while self._thread.is_alive():
            with contextlib.suppress(BaseException):
                self._thread.join()


class _InboxSink:
    """Where the members of an imported bundle go (bundle.MemberSink): each sealed report
    is opened, verified and stored as an inbox item, with its sealed copy as evidence,
    while the bundle streams; nothing is read back from the vault, and memory does not
    grow with the number or the size of the reports.

    read_bundle checks member i's size and SHA-256 right after its last byte, before any
    byte of member i + 1 and before ``commit``: so member i's opening is completed and its
    item stored when member i + 1 starts, or at ``commit`` (a member of 0 bytes gets no
    write; it is opened, and refused, in its turn). A small member is held in memory
    until then; a large one streams into its opening meanwhile (_StreamedOpen), whose
    attachment bytes go into the transaction as they are decrypted. All this is before
    the rest of the bundle is authenticated, but everything stored goes into the import's
    transaction, which only commits once the whole bundle has verified: on any failure
    nothing of it is kept. A duplicate or fork (judged from the manifest, see _Plan)
    opens nothing.
    """

    def __init__(
        self,
        session: Session,
        now: datetime,
        identities: Sequence[agev1.Identity],
        partner_of: Callable[[], Partner],
    ) -> None:
        self._session = session
        self._vault = session.vault
        self._identities = identities
        self._partner_of = partner_of
        self.my_fingerprint = session.identity.fingerprint
        self._imported = now_iso(now)
        self._manifest: bundle.Manifest | None = None
        self._plan: _Plan | None = None
        self.items: list[str] = []
        self._next = 0
        self._current = -1
        self._blob = b""
        self._memory: bytearray | None = None
        self._writer: ChunkWriter | None = None
        self._streamed: _StreamedOpen | None = None
        self._attachments: ChunkSink | None = None
        self._lock = threading.Lock()

    @property
    def plan(self) -> _Plan:
        if self._plan is None:  # read_bundle calls on_manifest before any member
            raise RuntimeError("the bundle's manifest was not seen")
        return self._plan

    @property
    def manifest(self) -> bundle.Manifest:
        if self._manifest is None:  # read_bundle calls on_manifest before any member
            raise RuntimeError("the bundle's manifest was not seen")
        return self._manifest

    def on_manifest(self, manifest: bundle.Manifest) -> None:
        partner = self._partner_of()
        state_id = _sender_state_id(self._session, partner)
        stored = self._vault.get(state_id)
        links = _links(stored)
        _refuse_log_downgrade(stored, manifest)
        decision = bundle.classify_sequence(
            bundle.SeqState.of(links) if links else None, _expected_link(links, manifest)
        )
        warnings = _warnings(decision, stored, partner, manifest, _manifest_checkpoint(manifest))
        self._manifest = manifest
        self._plan = _Plan(partner, state_id, stored, links, decision, warnings)

    def write(self, index: int, chunk: bytes) -> None:
        if not self.plan.decision.should_import:
            return  # a duplicate or a fork: read_bundle still checks every byte
        if index != self._current:
            self._open_until(index)
            self._start(index)
        if self._memory is not None:
            self._memory += chunk
        elif self._writer is not None and self._streamed is not None:
            with self._lock:
                self._writer.write(chunk)
            self._streamed.pipe.put(chunk)

    def commit(self) -> None:
        if self._manifest is not None and self.plan.decision.should_import:
            self._open_until(len(self._manifest.members))

    def discard(self) -> None:
        streamed, self._streamed = self._streamed, None
        if streamed is not None:
            streamed.stop()
        self._memory = self._writer = None  # the caller's transaction rolls back the rest

    def _start(self, index: int) -> None:
        self._current = index
        self._blob = Vault.new_id(self._session.rng)
        if self.manifest.members[index].size <= SMALL_MEMBER_BYTES:
            self._memory = bytearray()
        else:
            self._writer = self._vault.chunk_writer(self._blob)
            self._attachments = ChunkSink(self._vault, self._session.rng)
            self._streamed = _StreamedOpen(self._open_report, self._attachments, self._lock)

    def _open_until(self, end: int) -> None:
        while self._next < end:
            self._open(self._next)
            self._next += 1

    def _open_report(self, source: BinaryIO, sink: seal.AttachmentSink) -> seal.OpenedReport:
        sender_fp = self.manifest.sender.fingerprint

        hybrid_sender = self.manifest.sender.is_hybrid

        def same_sender(fp: bytes) -> None:
            if fp != sender_fp and hybrid_sender:
                raise Refused(
                    "a report inside the bundle is not signed with the post-quantum "
                    "(hybrid) keys of the bundle's sender (classical only, or someone "
                    "else's): a possible downgrade; the bundle was refused"
                )
            if fp != sender_fp:
                raise Refused(
                    "a report inside the bundle was sealed by someone other than the "
                    "bundle's sender; the bundle was refused"
                )

        return seal.open_sealed(
            source,
            identity_secrets=self._identities,
            my_fingerprint=self.my_fingerprint,
            sink=sink,
            known_senders=same_sender,
        )

    def _open(self, index: int) -> None:
        """Complete member ``index``: its sealed copy, its opening, its inbox item."""
        entry = self.manifest.members[index]
        vault = self._vault
        blob, chunks = b"", 0
        attachments = ChunkSink(vault, self._session.rng)
        try:
            if index != self._current:  # 0 bytes: nothing was written for it
                opened = self._open_report(io.BytesIO(b""), attachments)
            elif self._streamed is not None and self._writer is not None:
                attachments = self._attachments or attachments
                opened = self._streamed.finish()  # on failure, discard() stops it
                self._streamed = None
                chunks, self._writer = self._writer.close(), None
                blob = self._blob
            else:
                data, self._memory = bytes(self._memory or b""), None
                blob = self._blob
                chunks = vault.write_chunks(blob, io.BytesIO(data).read)
                opened = self._open_report(io.BytesIO(data), attachments)
        except SecureSubmitError as exc:
            error = type(exc)(f"report {entry.report_id[:8]} in the bundle: {exc}")
            raise _MemberFailed(error) from None
        if opened.report_id != entry.report_id:
            raise _MemberFailed(
                Refused("a report inside the bundle does not match its manifest entry")
            )
        plan = self.plan
        item_id = Vault.new_id(self._session.rng)
        item = InboxItem(
            id=item_id.hex(),
            report_id=opened.report_id,
            report=opened.report,
            sender_fingerprint=self.manifest.sender.fingerprint.hex(),
            sender_name=plan.partner.name,
            bundle_id=self.manifest.bundle_id,
            sequence=self.manifest.sequence,
            created=now_iso(opened.created),
            sealed=now_iso(opened.sealed),
            imported=self._imported,
            attachments=[
                {
                    "name": d.name,
                    "size": d.size,
                    "media_type": d.media_type,
                    "sha256": d.sha256.hex(),
                    "original_sha256": d.original_sha256.hex() if d.original_sha256 else None,
                    "scrubbed": list(d.scrubbed),
                    "blob": attachments.blob(i)[0].hex(),
                    "chunks": attachments.blob(i)[1],
                }
                for i, d in enumerate(opened.attachments)
            ],
            sealed_blob={
                "blob": blob.hex(),
                "chunks": chunks,
                "size": entry.size,
                "sha256": entry.sha256.hex(),
            },
            warnings=list(plan.warnings),
            encryption=opened.encryption or "classical",
            signature=opened.signature_protection,
        )
        vault.put(item_id, item.to_record())
        self.items.append(item.id)


def _apply_statements(session: Session, partner: Partner, verified: bundle.VerifiedBundle) -> None:
    """Follow rotations the sender carried along; ones already applied are skipped."""
    for statement in verified.statements:
        if any(s.to_text() == statement.to_text() for s in partner.statements):
            continue
        statements = (*partner.statements, statement)
        history = identity.follow_rotations(partner.card, statements)
        from dataclasses import replace

        partner = replace(partner, statements=statements, history=history)
        session.vault.put(bytes.fromhex(partner.id), partner.to_record())
