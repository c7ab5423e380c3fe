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
Import is one transaction: on any failure nothing of the bundle is stored.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from securesubmit.core import audit, bundle, fs, identity, merkle, note, seal
from securesubmit.core.models import Receipt, now_iso
from securesubmit.core.partners import Partner
from securesubmit.core.vault import ChunkSink, Vault
from securesubmit.errors import DecryptionFailed, NotFound, Refused, SecureSubmitError

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

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record.pop("id")
        record["kind"] = "inbox"
        record["schema"] = 1
        return record

    @classmethod
    def from_record(cls, item_id: str, record: dict[str, Any]) -> InboxItem:
        data = {k: v for k, v in record.items() if k not in ("kind", "schema")}
        return cls(id=item_id, **data)


@dataclass(frozen=True)
class ExportResult:
    path: Path
    partner: str
    sequence: int
    bundle_id: str
    bundle_hash: bytes
    reports: list[str]


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
) -> ExportResult:
    """Write the chosen sealed reports (default: every one not yet sent to this partner)
    into one bundle for ``partner_ref`` at ``out``."""
    vault = session.vault
    partner = session.get_partner(partner_ref)
    now = session.clock().replace(microsecond=0)
    partner.check_usable(now)
    receipts = _receipts_for(session, partner, report_refs)
    state_id = _export_state_id(session, partner)
    state = vault.get(state_id) or {"sequence": 0, "last_hash": bytes(32).hex(), "seen_size": 0}
    sequence = int(state["sequence"]) + 1
    previous_hash = bytes.fromhex(state["last_hash"])
    members = [
        bundle.Member(
            report_id=r.report_id,
            size=r.file_size,
            sha256=bytes.fromhex(r.file_sha256),
            open=_opener(session, r),
        )
        for r in receipts
    ]
    audit_slot, tree_size = _audit_slot(vault, int(state["seen_size"]))
    me = session.identity
    out = Path(out)
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


def _audit_slot(vault: Vault, seen_size: int) -> tuple[bundle.AuditSlot, int]:
    """This vault's latest checkpoint, its verifier key, and a consistency proof from the
    tree size the partner last received."""
    checkpoint_note = vault.latest_checkpoint()
    public = vault.log_public_key()
    name = audit.log_name(public)
    checkpoint = note.parse_and_verify_checkpoint(checkpoint_note, name, public)
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
    )
    return slot, checkpoint.size


# --- coordinator side ---------------------------------------------------------------


def _sender_state_id(session: Session, partner: Partner) -> bytes:
    return session.vault.fixed_id("sender-state:" + partner.original_fingerprint.hex())


def import_bundle(session: Session, path: Path) -> ImportResult:
    """Verify a bundle and store its reports in the inbox, atomically."""
    vault = session.vault
    me = session.identity
    path = Path(path)
    try:
        size = path.stat().st_size
        source = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror}") from None
    if size > MAX_BUNDLE_BYTES:
        source.close()
        raise Refused(f"{path} is larger than the {MAX_BUNDLE_BYTES >> 30} GiB a bundle may be")
    now = session.clock().replace(microsecond=0)
    partners = session.list_partners()
    found: dict[str, Partner] = {}
    details: dict[str, Any] = {"file": path.name}

    def lookup(fingerprint: bytes) -> identity.PublicKeys:
        for partner in partners:
            period = partner.history.period_of(fingerprint)
            if period is not None:
                revocations = [
                    s for s in partner.statements if isinstance(s, identity.RevocationStatement)
                ]
                identity.check_not_revoked(fingerprint, now, revocations)
                found["partner"] = partner
                return period.keys
        raise NotFound()

    with source:
        try:
            with vault.transaction("bundle.imported", details):
                members = ChunkSink(vault, session.rng)
                verified = _read(source, me, members, lookup)
                partner = found["partner"]
                state_id = _sender_state_id(session, partner)
                stored = vault.get(state_id)
                links = _links(stored)
                decision = bundle.classify_sequence(
                    bundle.SeqState.of(links) if links else None, verified.link
                )
                if decision.kind is bundle.SequenceKind.DUPLICATE:
                    raise _NothingToDo(decision, verified.manifest.sequence)
                decision.raise_if_fork()
                warnings = []
                if decision.kind is not bundle.SequenceKind.NEW:
                    warnings.append(decision.message)
                if decision.kind is not bundle.SequenceKind.OLDER:
                    # A late, older bundle carries an older checkpoint by nature.
                    warnings += _check_audit(stored, verified)
                if partner.rotations == 0 and partner.card.expires < verified.manifest.created:
                    warnings.append(
                        f"the sender's card expired on {partner.card.expires:%Y-%m-%d}, before "
                        "this bundle was made: ask them for a new card and check it"
                    )
                items = _store_reports(session, verified, members, partner, now, warnings)
                _apply_statements(session, partner, verified)
                links.append(verified.link)
                vault.put(state_id, _sender_state(stored, links, verified, warnings))
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
    )


class _NothingToDo(Exception):
    """Raised inside the import transaction to roll it back: a duplicate bundle."""

    def __init__(self, decision: bundle.Decision, sequence: int) -> None:
        super().__init__(decision.message)
        self.decision = decision
        self.sequence = sequence


def _read(source: BinaryIO, me: Any, sink: ChunkSink, lookup: Any) -> bundle.VerifiedBundle:
    """Open with the current encryption key, then with earlier ones (after a rotation,
    bundles sealed to the old key may still arrive)."""
    secrets = [me.encryption_secret, *reversed(me.previous_encryption_secrets)]
    for number, secret in enumerate(secrets, start=1):
        source.seek(0)
        try:
            return bundle.read_bundle(
                source,
                my_secret=secret,
                my_fingerprint=me.fingerprint,
                sender_lookup=lookup,
                sink=sink,
            )
        except DecryptionFailed:
            if number == len(secrets):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


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
    state["warnings"] = list(state.get("warnings", [])) + warnings
    return state


def _check_audit(stored: dict[str, Any] | None, verified: bundle.VerifiedBundle) -> list[str]:
    """The sender's log must only grow: rollback, fork or a missing proof are reported."""
    slot = verified.manifest.audit
    checkpoint = verified.checkpoint
    if slot is None or checkpoint is None:
        return ["audit log: the bundle carries no checkpoint of the sender's log"]
    if not stored or "checkpoint_size" not in stored:
        return []
    if stored.get("verifier_key") != slot.verifier_key:
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


def _store_reports(
    session: Session,
    verified: bundle.VerifiedBundle,
    members: ChunkSink,
    partner: Partner,
    now: datetime,
    warnings: list[str],
) -> list[str]:
    """Open, verify and store every report of the bundle; returns the new items' ids.
    Each item is written and dropped before the next, so memory does not grow with the
    number of reports."""
    vault = session.vault
    me = session.identity
    secrets = [me.encryption_secret, *me.previous_encryption_secrets]
    items = []
    for index, entry in enumerate(verified.manifest.members):
        blob, chunks, size = members.blob(index)
        attachments = ChunkSink(vault, session.rng)
        raw = io.BufferedReader(vault.chunk_reader(blob, chunks), buffer_size=1024 * 1024)
        sender_fp = verified.manifest.sender.fingerprint

        def same_sender(fp: bytes, expected: bytes = sender_fp) -> None:
            if fp != expected:
                raise Refused(
                    "a report inside the bundle was sealed by someone other than the "
                    "bundle's sender; the bundle was refused"
                )

        try:
            opened = seal.open_sealed(
                raw,
                identity_secrets=secrets,
                my_fingerprint=me.fingerprint,
                sink=attachments,
                known_senders=same_sender,
            )
        except SecureSubmitError as exc:
            raise type(exc)(f"report {entry.report_id[:8]} in the bundle: {exc}") from None
        if opened.report_id != entry.report_id:
            raise Refused("a report inside the bundle does not match its manifest entry")
        item_id = Vault.new_id(session.rng)
        item = InboxItem(
            id=item_id.hex(),
            report_id=opened.report_id,
            report=opened.report,
            sender_fingerprint=sender_fp.hex(),
            sender_name=partner.name,
            bundle_id=verified.manifest.bundle_id,
            sequence=verified.manifest.sequence,
            created=now_iso(opened.created),
            sealed=now_iso(opened.sealed),
            imported=now_iso(now),
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
                "size": size,
                "sha256": entry.sha256.hex(),
            },
            warnings=list(warnings),
        )
        vault.put(item_id, item.to_record())
        items.append(item.id)
    return items


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
