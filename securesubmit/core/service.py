"""The operations a user performs, each one atomic. The CLI and the TUI call only this.

A ``Session`` is an unlocked vault. Functions take what they need (a clock, a KDF cost,
a path) so tests can pass a fixed clock and a cheap KDF.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, cast

from securesubmit.core import agev1, crypto, fs
from securesubmit.core import identity as cards
from securesubmit.core.audit import AuditResult
from securesubmit.core.identity import IdentityCard, PublicKeys
from securesubmit.core.models import (
    EDITABLE,
    Attachment,
    Person,
    Receipt,
    Report,
    check_attachment_name,
    missing_required,
    now_iso,
    validate,
)
from securesubmit.core.partners import VERIFY_METHODS, Partner
from securesubmit.core.streams import ByteTally, Progress
from securesubmit.core.vault import DEFAULT_MAX_FAILED, ChunkSink, LockedInfo, Vault
from securesubmit.errors import InputError, NotFound, Refused, VaultCorrupt, VaultNotFound

Clock = Callable[[], datetime]
ROLES = ("reporter", "coordinator")
POST_QUANTUM_BY_DEFAULT = True
"""Whether create_vault gives a new vault a hybrid identity (ML-DSA-65 and age1pq keys,
version 2 cards) when not told. Hybrid senders write sealed reports and bundles of
version 2 (docs/spec/sealed-report.md §12, bundle.md §13), signed with Ed25519 and
ML-DSA-65. ``create_vault(post_quantum=False)`` still makes a classical vault."""
MIN_PASSPHRASE = 8


def utc_now() -> datetime:
    return datetime.now(UTC)


def default_vault_path() -> Path:
    """``SECURESUBMIT_VAULT``, else the platform's user data directory."""
    env = os.environ.get("SECURESUBMIT_VAULT")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("securesubmit", appauthor=False)) / "vault.db"


def check_new_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise InputError(
            f"the passphrase is too short (at least {MIN_PASSPHRASE} characters)",
            hint="use several unrelated words; a long passphrase is easier to remember than a "
            "complex short one",
        )


@dataclass(frozen=True)
class Identity:
    """The vault owner's own keys and public description. Secret; lives only in the vault.

    A hybrid identity (every new vault's) also has an ML-DSA-65 seed and an
    MLKEM768-X25519 (age1pq) seed; an identity made before them is classical until
    Session.upgrade_identity. Old decryption keys are kept after every rotation."""

    signing_seed: bytes
    encryption_secret: bytes
    name: str
    organisation: str
    role: str
    created: str
    previous_encryption_secrets: tuple[bytes, ...] = ()
    statements: tuple[str, ...] = ()
    mldsa_seed: bytes | None = None
    hybrid_seed: bytes | None = None
    previous_hybrid_seeds: tuple[bytes, ...] = ()
    require_hybrid: bool = False
    """The last card exported asked partners for hybrid (post-quantum) encryption only:
    bundles whose age layer is classical are then refused on import."""

    def __post_init__(self) -> None:
        if (self.mldsa_seed is None) != (self.hybrid_seed is None):
            raise VaultCorrupt("the vault's identity has only some of its post-quantum keys")

    @property
    def is_hybrid(self) -> bool:
        return self.mldsa_seed is not None

    @property
    def key_set(self) -> cards.SigningKeySet:
        """The signing keys, for identity.sign_with_key_set."""
        return cards.SigningKeySet(self.signing_seed, self.mldsa_seed)

    @property
    def age_identities(self) -> list[agev1.Identity]:
        """Every age identity to open files with: post-quantum ones first, then X25519,
        current before earlier (rotated-away) keys."""
        hybrid = [] if self.hybrid_seed is None else [self.hybrid_seed]
        return [
            *(agev1.HybridIdentity(s) for s in [*hybrid, *reversed(self.previous_hybrid_seeds)]),
            *(
                agev1.X25519Identity(s)
                for s in [self.encryption_secret, *reversed(self.previous_encryption_secrets)]
            ),
        ]

    @property
    def hybrid_public(self) -> bytes | None:
        """The MLKEM768-X25519 public key (age1pq recipient), None if classical."""
        return None if self.hybrid_seed is None else crypto.hybrid_public_key(self.hybrid_seed)

    @property
    def keys(self) -> PublicKeys:
        return PublicKeys(
            self.signing_public,
            self.encryption_public,
            None if self.mldsa_seed is None else crypto.mldsa_public_key(self.mldsa_seed),
            self.hybrid_public,
        )

    @property
    def fingerprint(self) -> bytes:
        return self.keys.fingerprint

    @property
    def signing_public(self) -> bytes:
        return crypto.signing_public_key(self.signing_seed)

    @property
    def encryption_public(self) -> bytes:
        return crypto.encryption_public_key(self.encryption_secret)

    @property
    def age_recipient(self) -> str:
        return crypto.age_recipient(self.encryption_public)

    def to_record(self) -> dict[str, Any]:
        return {
            "kind": "identity",
            "schema": 1,
            "signing_seed": self.signing_seed.hex(),
            "encryption_secret": self.encryption_secret.hex(),
            "name": self.name,
            "organisation": self.organisation,
            "role": self.role,
            "created": self.created,
            "previous_encryption_secrets": [k.hex() for k in self.previous_encryption_secrets],
            "statements": list(self.statements),
            "mldsa_seed": None if self.mldsa_seed is None else self.mldsa_seed.hex(),
            "hybrid_seed": None if self.hybrid_seed is None else self.hybrid_seed.hex(),
            "previous_hybrid_seeds": [k.hex() for k in self.previous_hybrid_seeds],
            "require_hybrid": self.require_hybrid,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Identity:
        return cls(
            signing_seed=bytes.fromhex(record["signing_seed"]),
            encryption_secret=bytes.fromhex(record["encryption_secret"]),
            name=record["name"],
            organisation=record["organisation"],
            role=record["role"],
            created=record["created"],
            previous_encryption_secrets=tuple(
                bytes.fromhex(k) for k in record.get("previous_encryption_secrets", [])
            ),
            statements=tuple(record.get("statements", [])),
            mldsa_seed=_optional_hex(record.get("mldsa_seed")),
            hybrid_seed=_optional_hex(record.get("hybrid_seed")),
            previous_hybrid_seeds=tuple(
                bytes.fromhex(k) for k in record.get("previous_hybrid_seeds", [])
            ),
            require_hybrid=bool(record.get("require_hybrid", False)),
        )

    def __repr__(self) -> str:  # never print secrets, even in a debugger or a traceback
        return f"Identity(role={self.role!r}, <secret keys hidden>)"


def _refuse_classical_sealing(
    partners: list[Partner], me: Identity, keep_readable: bool
) -> None:
    """Sealing will be classical (some reader has no post-quantum key): refuse it, in one
    line, if a chosen partner's card requires hybrid sealing (identity-card.md §13)."""
    strict = [p for p in partners if p.requires_hybrid]
    if not strict:
        return
    classical = [p.name for p in partners if not p.is_hybrid]
    if keep_readable and not me.is_hybrid:
        classical.append("your own copy (your keys are classical only)")
    raise Refused(
        f"{strict[0].name} requires post-quantum (hybrid) sealing, but "
        f"{', '.join(classical)} cannot receive it: seal to {strict[0].name} separately",
        hint="or upgrade your keys first: securesubmit identity upgrade --out FILE"
        if keep_readable and not me.is_hybrid
        else None,
    )


def _optional_hex(value: Any) -> bytes | None:
    return None if value is None else bytes.fromhex(value)


def _refuse_downgrade(partner: Partner, card: IdentityCard) -> None:
    """Refuse a classical-only card that carries keys of a partner known with hybrid
    keys: only someone who can forge Ed25519 signatures, or the partner going back to
    weaker keys, makes one (docs/spec/identity-card.md §8.4)."""
    if card.is_hybrid:
        return
    for period in partner.history.periods:
        keys = period.keys
        if keys.is_hybrid and (
            card.signing_public == keys.signing_public
            or card.encryption_public == keys.encryption_public
        ):
            raise Refused(
                f"this card is classical only, but it carries keys that {partner.name} "
                "uses with post-quantum keys: a downgrade is refused",
                hint="ask the partner, by phone or in person, for their current card",
            )


@dataclass(frozen=True)
class VaultInfo:
    locked: LockedInfo
    role: str
    name: str
    organisation: str
    age_recipient: str
    drafts: int


def create_vault(
    path: Path,
    passphrase: str,
    *,
    name: str = "",
    organisation: str = "",
    role: str = "reporter",
    kdf: crypto.KdfParams | None = None,
    max_failed: int = DEFAULT_MAX_FAILED,
    clock: Clock = utc_now,
    rng: crypto.Rng | None = None,
    post_quantum: bool | None = None,
) -> Session:
    """A new vault with a new identity: hybrid (post-quantum) when ``post_quantum``, or
    when it is None and POST_QUANTUM_BY_DEFAULT is set; classical otherwise."""
    check_new_passphrase(passphrase)
    hybrid = POST_QUANTUM_BY_DEFAULT if post_quantum is None else post_quantum
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}", hint="choose reporter or coordinator")
    if not 1 <= max_failed <= 1000:
        raise InputError("the number of allowed failed unlocks must be between 1 and 1000")
    if len(name) > 100 or len(organisation) > 200:
        raise InputError("the name or organisation is too long")
    vault = Vault.create(
        Path(path),
        passphrase,
        kdf=kdf or crypto.calibrate_kdf(),
        max_failed=max_failed,
        rng=rng,
        clock=clock,
        hybrid_log=hybrid,
    )
    try:
        identity = Identity(
            signing_seed=crypto.generate_signing_key(rng),
            encryption_secret=crypto.generate_encryption_key(rng),
            name=name,
            organisation=organisation,
            role=role,
            created=now_iso(clock()),
            mldsa_seed=crypto.generate_mldsa_key(rng) if hybrid else None,
            hybrid_seed=crypto.generate_hybrid_encryption_key(rng) if hybrid else None,
        )
        session = Session(vault, clock=clock, rng=rng)
        with vault.transaction("identity.created"):
            vault.put(session._identity_id, identity.to_record())
        session._identity = identity
        return session
    except BaseException:
        vault.close()
        fs.remove_vault_files(Path(path))
        raise


@contextlib.contextmanager
def damaged_file_is_corrupt() -> Iterator[None]:
    """SQLite's own errors on a damaged or crafted file become one clear user error."""
    try:
        yield
    except sqlite3.DatabaseError:
        raise VaultCorrupt("the vault file is damaged: SQLite could not read part of it") from None


def _damage_is_corrupt(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` (a generator function too) with damaged_file_is_corrupt around it."""
    if inspect.isgeneratorfunction(func):

        @functools.wraps(func)
        def generator(*args: Any, **kwargs: Any) -> Any:
            with damaged_file_is_corrupt():
                return (yield from func(*args, **kwargs))

        return generator

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        with damaged_file_is_corrupt():
            return func(*args, **kwargs)

    return call


def _session_boundary(cls: type[Session]) -> type[Session]:
    """Every public method and property of the session turns SQLite's own errors on a
    damaged page into VaultCorrupt, whenever the page is first read: the session is the
    boundary between the core and its callers (the CLI also maps them, in main). This
    replaces a scan of every record row on unlock, which cost I/O on every command."""
    for name, member in list(vars(cls).items()):
        if name.startswith("_"):
            continue
        if isinstance(member, property) and member.fget is not None:
            guarded = property(_damage_is_corrupt(member.fget), member.fset, member.fdel)
            setattr(cls, name, guarded)
        elif inspect.isfunction(member):
            setattr(cls, name, _damage_is_corrupt(member))
    return cls


def unlock_vault(path: Path, passphrase: str, *, clock: Clock = utc_now) -> Session:
    """A damaged page is reported when it is first read, as VaultCorrupt (see Session)."""
    with damaged_file_is_corrupt():
        vault = Vault.open(Path(path))
        try:
            vault.unlock(passphrase)
            return Session(vault, clock=clock)
        except BaseException:
            vault.close()
            raise


def read_locked_info(path: Path) -> LockedInfo:
    """What the vault file shows without its passphrase."""
    with damaged_file_is_corrupt(), Vault.open(Path(path)) as vault:
        return vault.locked_info()


def verify_audit(path: Path, against: list[bytes] | None = None) -> AuditResult:
    """The auditor's check: no passphrase. Raises LogTampered listing every problem."""
    from securesubmit.core.audit import verify_vault

    with damaged_file_is_corrupt(), Vault.open(Path(path)) as vault:
        return verify_vault(vault, against or [])


def panic(path: Path) -> None:
    """Destroy every key slot, then remove the vault's files. Needs no passphrase."""
    path = Path(path)
    if not path.exists():
        raise VaultNotFound()
    with Vault.open(path) as vault:
        vault.destroy_keyslots()
    fs.remove_vault_files(path)


@_session_boundary
class Session:
    """An unlocked vault and the operations on it. SQLite's errors on a damaged file
    leave it as VaultCorrupt (see _session_boundary), also from a ``with`` block."""

    def __init__(self, vault: Vault, *, clock: Clock = utc_now, rng: crypto.Rng | None = None):
        self.vault = vault
        self.clock = clock
        self.rng = rng
        vault.clock = clock
        self._identity_id = vault.fixed_id("identity")
        self._identity: Identity | None = None

    def close(self) -> None:
        """Forget the keys and release the vault. Safe to call twice."""
        self.vault.close()
        self._identity = None

    @property
    def closed(self) -> bool:
        return not self.vault.unlocked

    def __enter__(self) -> Session:
        return self

    def __exit__(self, kind: object, error: object, tb: object) -> None:
        self.close()
        if isinstance(error, sqlite3.DatabaseError):  # from a stream the session handed out
            raise VaultCorrupt(
                "the vault file is damaged: SQLite could not read part of it"
            ) from None

    # --- identity and vault -------------------------------------------------------------

    @property
    def identity(self) -> Identity:
        if self._identity is None:
            record = self.vault.get(self._identity_id)
            if record is None:
                raise NotFound("this vault has no identity")
            self._identity = Identity.from_record(record)
        return self._identity

    def info(self) -> VaultInfo:
        identity = self.identity
        return VaultInfo(
            locked=self.vault.locked_info(),
            role=identity.role,
            name=identity.name,
            organisation=identity.organisation,
            age_recipient=identity.age_recipient,
            drafts=len(self.list_reports()),
        )

    def change_passphrase(
        self, new_passphrase: str, *, kdf: crypto.KdfParams | None = None
    ) -> None:
        check_new_passphrase(new_passphrase)
        self.vault.change_passphrase(
            new_passphrase, kdf=kdf or crypto.calibrate_kdf(), rng=self.rng
        )

    # --- own identity -------------------------------------------------------------------

    def _save_identity(self, identity: Identity, event: str, details: dict[str, Any]) -> None:
        with self.vault.transaction(event, details):
            self.vault.put(self._identity_id, identity.to_record())
        self._identity = identity

    def set_name(self, name: str, organisation: str | None = None) -> Identity:
        """Change the name (and organisation) your card will show."""
        current = self.identity
        updated = replace(
            current,
            name=name.strip(),
            organisation=current.organisation if organisation is None else organisation.strip(),
        )
        if not updated.name:
            raise InputError("a name is required", hint="a pseudonym is fine")
        now = self.clock()
        # Cards have strict rules for names; check them now, not at export time.
        cards.make_card(
            updated.signing_seed,
            updated.encryption_public,
            updated.name,
            updated.organisation,
            updated.role,
            now,
            now + timedelta(days=1),
        )
        self._save_identity(updated, "identity.renamed", {})
        return updated

    def own_card(self, valid_days: int = 730, *, require_hybrid: bool = False) -> IdentityCard:
        """Your identity card, freshly self-signed, valid for ``valid_days``.

        Version 2 (hybrid) when your identity has post-quantum keys; ``require_hybrid``
        then asks partners to seal to you only with the post-quantum recipient. A
        classical identity gets a version 1 card (upgrade it with upgrade_identity)."""
        me = self.identity
        if not me.name:
            raise Refused(
                "your card needs a name",
                hint="set one with: securesubmit identity rename --name 'Your name'",
            )
        if not 1 <= valid_days <= cards.MAX_CARD_LIFETIME.days:
            raise InputError(f"a card is valid for 1 to {cards.MAX_CARD_LIFETIME.days} days")
        if require_hybrid and not me.is_hybrid:
            raise Refused(
                "your keys are classical only, so your card cannot require hybrid sealing",
                hint="add post-quantum keys first: securesubmit identity upgrade --out FILE",
            )
        now = self.clock().replace(microsecond=0)
        card = cards.make_card(
            me.signing_seed,
            me.encryption_public,
            me.name,
            me.organisation,
            me.role,
            now,
            now + timedelta(days=valid_days),
            mldsa_seed=me.mldsa_seed,
            pq_public=me.hybrid_public,
            require_hybrid=require_hybrid,
        )
        if require_hybrid != me.require_hybrid:
            # Partners holding this card seal to us hybrid only; bundles that are not
            # are refused on import (exchange.import_bundle).
            self._save_identity(
                replace(me, require_hybrid=require_hybrid),
                "identity.require-hybrid",
                {"require_hybrid": require_hybrid},
            )
        with self.vault.transaction("card.exported", {"fingerprint": card.fingerprint.hex()}):
            pass
        return card

    def rotate_identity(self, rng: crypto.Rng | None = None) -> cards.RotationStatement:
        """New keys; a statement signed by the old and the new key hands the identity over.

        The old encryption key is kept, so reports already sealed to it still open.
        """
        me = self.identity
        # A classical identity rotates to classical keys (version 1): post-quantum keys
        # come with upgrade_identity, which says so in its own audit event.
        return self._rotate(me, hybrid=me.is_hybrid, rng=rng, event="identity.rotated")

    def upgrade_identity(self, rng: crypto.Rng | None = None) -> cards.RotationStatement:
        """Move a classical identity to a hybrid key set (ML-KEM-768 + X25519,
        ML-DSA-65 + Ed25519): a version 2 rotation statement, signed by the old keys and
        by both new keys, hands the identity over. Partners who checked your old
        fingerprint follow it as they follow any rotation. Old decryption keys are kept.

        Raises Refused if the identity is hybrid already."""
        me = self.identity
        if me.is_hybrid:
            raise Refused(
                "your identity already has post-quantum keys; nothing was changed",
                hint="to replace your keys anyway, use: securesubmit identity rotate",
            )
        # A bundle is signed by the current keys and every report in it must be too (the
        # coordinator refuses a classical report inside a hybrid bundle as a downgrade):
        # reports sealed before the upgrade could never be sent afterwards.
        waiting = [r for r in self.list_receipts() if r.status == "sealed" and not r.copy_deleted]
        if waiting:
            raise Refused(
                f"{len(waiting)} sealed report(s) are not exported yet and could not be sent "
                "after the upgrade; nothing was changed",
                hint="export them first: securesubmit export --to PARTNER --all-unsent --out FILE",
            )
        return self._rotate(me, hybrid=True, rng=rng, event="identity.upgraded")

    def _rotate(
        self, me: Identity, *, hybrid: bool, rng: crypto.Rng | None, event: str
    ) -> cards.RotationStatement:
        rng = rng or self.rng
        new_seed = crypto.generate_signing_key(rng)
        new_secret = crypto.generate_encryption_key(rng)
        new_mldsa = crypto.generate_mldsa_key(rng) if hybrid else None
        new_hybrid = crypto.generate_hybrid_encryption_key(rng) if hybrid else None
        statement = cards.make_rotation(
            me.signing_seed,
            me.encryption_public,
            new_seed,
            crypto.encryption_public_key(new_secret),
            self.clock().replace(microsecond=0),
            old_mldsa_seed=me.mldsa_seed,
            old_pq_public=me.hybrid_public,
            new_mldsa_seed=new_mldsa,
            new_pq_public=None if new_hybrid is None else crypto.hybrid_public_key(new_hybrid),
        )
        rotated = replace(
            me,
            signing_seed=new_seed,
            encryption_secret=new_secret,
            mldsa_seed=new_mldsa,
            hybrid_seed=new_hybrid,
            previous_encryption_secrets=(*me.previous_encryption_secrets, me.encryption_secret),
            previous_hybrid_seeds=(
                me.previous_hybrid_seeds
                if me.hybrid_seed is None
                else (*me.previous_hybrid_seeds, me.hybrid_seed)
            ),
            statements=(*me.statements, statement.to_text().decode("utf-8")),
        )
        self._save_identity(
            rotated,
            event,
            {"old": me.fingerprint.hex(), "new": rotated.fingerprint.hex()},
        )
        return statement

    def make_revocation(self, reason: str = "") -> cards.RevocationStatement:
        """A signed revocation of your current keys, to keep offline for a lost device."""
        me = self.identity
        statement = cards.make_revocation(
            me.signing_seed,
            me.encryption_public,
            self.clock().replace(microsecond=0),
            reason,
            mldsa_seed=me.mldsa_seed,
            pq_public=me.hybrid_public,
        )
        with self.vault.transaction("identity.revocation_made", {}):
            pass
        return statement

    # --- partners ------------------------------------------------------------------------

    def list_partners(self) -> list[Partner]:
        found = [Partner.from_record(rid.hex(), rec) for rid, rec in self.vault.records("partner")]
        return sorted(found, key=lambda p: (p.name.casefold(), p.id))

    def get_partner(self, ref: str) -> Partner:
        """A partner by name, by the start of its fingerprint (≥ 4 characters) or its id."""
        partners = self.list_partners()
        wanted = ref.strip()
        by_name = [p for p in partners if p.name.casefold() == wanted.casefold()]
        if len(by_name) == 1:
            return by_name[0]
        if len(by_name) > 1:
            raise InputError(
                f"several partners are named {wanted!r}", hint="give the fingerprint instead"
            )
        compact = wanted.replace(" ", "").replace("-", "").upper()
        if len(compact) >= 4:
            matches = [
                p
                for p in partners
                if p.display_fingerprint.replace(" ", "").startswith(compact)
                or p.id.upper().startswith(compact)
            ]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise InputError(f"several partners match {wanted!r}", hint="give more characters")
        raise NotFound(
            f"no partner called {wanted!r}",
            hint="see your partners with: securesubmit partners list",
        )

    def add_partner(self, card: IdentityCard, *, verified: str) -> Partner:
        """Accept ``card`` as a partner; ``verified`` says how its fingerprint was checked."""
        if verified not in VERIFY_METHODS:
            raise ValueError(verified)
        now = self.clock()
        cards.check_card_usable(card, now)
        me = self.identity
        if card.fingerprint == me.fingerprint:
            raise Refused("this is your own card; add the cards of your partners")
        for existing in self.list_partners():
            _refuse_downgrade(existing, card)
            if card.fingerprint in (existing.fingerprint, existing.original_fingerprint):
                if card.created <= existing.card.created:
                    raise Refused(
                        f"{existing.name} is already one of your partners with this key",
                        hint="nothing was changed",
                    )
                renewed = replace(
                    existing, card=card, history=cards.follow_rotations(card, ()), statements=()
                )
                with self.vault.transaction("partner.updated", {"partner": existing.id}):
                    self.vault.put(bytes.fromhex(existing.id), renewed.to_record())
                return renewed
        record_id = Vault.new_id(self.rng)
        partner = Partner.new(record_id.hex(), card, now_iso(now), verified)
        details = {"partner": partner.id, "fingerprint": card.fingerprint.hex(), "how": verified}
        with self.vault.transaction("partner.added", details):
            self.vault.put(record_id, partner.to_record())
        return partner

    def remove_partner(self, ref: str) -> Partner:
        partner = self.get_partner(ref)
        with self.vault.transaction("partner.removed", {"partner": partner.id}):
            self.vault.delete(bytes.fromhex(partner.id))
        self.vault.checkpoint()
        return partner

    def apply_statement(self, statement: cards.Statement) -> Partner:
        """Follow a partner's rotation, or record their revocation; refuses a broken chain."""
        partners = self.list_partners()
        text = statement.to_text()
        if any(s.to_text() == text for p in partners for s in p.statements):
            raise Refused("this statement was already applied; nothing was changed")
        for partner in partners:
            if isinstance(statement, cards.RotationStatement):
                relevant = statement.old.fingerprint == partner.fingerprint
            else:
                relevant = partner.history.period_of(statement.keys.fingerprint) is not None
            if not relevant:
                continue
            if any(s.to_text() == statement.to_text() for s in partner.statements):
                raise Refused("this statement was already applied; nothing was changed")
            statements = (*partner.statements, statement)
            history = cards.follow_rotations(partner.card, statements)
            updated = replace(partner, statements=statements, history=history)
            kind = "rotation" if isinstance(statement, cards.RotationStatement) else "revocation"
            with self.vault.transaction(
                "partner.updated", {"partner": partner.id, "statement": kind}
            ):
                self.vault.put(bytes.fromhex(partner.id), updated.to_record())
            return updated
        raise NotFound(
            "none of your partners has the key this statement is about",
            hint="add the partner's card first",
        )

    # --- audit ------------------------------------------------------------------------------

    def audit_log(self) -> list[dict[str, Any]]:
        """The readable event history, oldest first."""
        return [{"seq": seq, **event} for seq, event in self.vault.events()]

    def export_checkpoint(self, out: Path) -> bytes:
        """Write the latest signed checkpoint to ``out`` and keep it in the vault too."""
        checkpoint = self.vault.latest_checkpoint()
        fs.write_file_atomic(Path(out), checkpoint)
        size = self.vault.verify_own_checkpoint(checkpoint).size
        self.vault.keep_checkpoint(size)
        return checkpoint

    # --- reports --------------------------------------------------------------------------

    def create_report(self, **values: Any) -> Report:
        unknown = set(values) - set(EDITABLE)
        if unknown:
            raise InputError(f"unknown report field(s): {', '.join(sorted(unknown))}")
        stamp = now_iso(self.clock())
        record_id = Vault.new_id(self.rng)
        values.setdefault("category", _category_for(values.get("template", "")))
        report = Report(id=record_id.hex(), created=stamp, updated=stamp, **_coerce(values))
        validate(report)
        with self.vault.transaction("report.created", {"report": report.id}):
            self.vault.put(record_id, report.to_record())
        return report

    def update_report(self, ref: str, **changes: Any) -> Report:
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise InputError(f"unknown report field(s): {', '.join(sorted(unknown))}")
        current = self.get_report(ref)
        updated = replace(current, **_coerce(changes), updated=now_iso(self.clock()))
        validate(updated)
        with self.vault.transaction("report.edited", {"report": current.id}):
            self.vault.put(bytes.fromhex(current.id), updated.to_record())
        return updated

    def list_reports(self) -> list[Report]:
        reports = [Report.from_record(rid.hex(), rec) for rid, rec in self.vault.records("report")]
        return sorted(reports, key=lambda r: (r.created, r.updated, r.title, r.id), reverse=True)

    def get_report(self, ref: str) -> Report:
        """A report by its id or an unambiguous prefix of it (at least 4 characters)."""
        ref = ref.strip().lower()
        if len(ref) == 32:
            try:
                record = self.vault.get(bytes.fromhex(ref))
            except ValueError:
                record = None
            if record is not None and record.get("kind") == "report":
                return Report.from_record(ref, record)
            raise NotFound(f"no report with id {ref}")
        if len(ref) < 4 or not all(c in "0123456789abcdef" for c in ref):
            raise InputError(
                f"{ref!r} is not a report id", hint="give at least 4 characters of the id"
            )
        matches = [r for r in self.list_reports() if r.id.startswith(ref)]
        if not matches:
            raise NotFound(f"no report with an id starting {ref}")
        if len(matches) > 1:
            raise InputError(
                f"several reports have ids starting {ref}", hint="give more characters"
            )
        return matches[0]

    def delete_report(self, ref: str) -> Report:
        """Delete a draft and its attachments for good (secure_delete, WAL truncated)."""
        report = self.get_report(ref)
        attachments = self.list_attachments(report.id)
        with self.vault.transaction("report.deleted", {"report": report.id}):
            for attachment in attachments:
                self._delete_attachment_rows(attachment)
            self.vault.delete(bytes.fromhex(report.id))
        self.vault.checkpoint()
        return report

    # --- attachments ------------------------------------------------------------------

    def attach_file(
        self,
        ref: str,
        path: Path,
        *,
        name: str | None = None,
        progress: Callable[[int], None] | None = None,
        scrub: bool = True,
        keep_original: bool = False,
    ) -> Attachment:
        """Store a file in the vault, encrypted in chunks, in one transaction.

        By default hidden metadata (GPS position, camera serial, author…) is removed
        first, where SecureSubmit can (docs/spec/scrubbing.md); the attachment records
        what was removed, what could not be, and the original's SHA-256. With
        ``keep_original`` the untouched file is stored too, marked as evidence.
        ``progress`` gets bytes done and may raise to cancel: nothing remains then.
        """
        from securesubmit.core import scrub as scrubbing

        report = self._draft(ref)
        path = Path(path)
        shown = name if name is not None else path.name
        check_attachment_name(shown)
        _check_readable_file(path)
        plan = scrubbing.inspect(path, _guess_media_type(shown)) if scrub else None
        details = {"report": report.id}
        try:
            return self._attach(report, path, shown, plan, details, progress, keep_original)
        except BaseException:
            # A cancelled or failed attach was rolled back; truncate the WAL too, so its
            # frames neither waste disk nor show how large the attempted file was.
            self.vault.checkpoint()
            raise

    def _attach(
        self,
        report: Report,
        path: Path,
        shown: str,
        plan: Any,
        details: dict[str, Any],
        progress: Callable[[int], None] | None,
        keep_original: bool,
    ) -> Attachment:
        from securesubmit.core import scrub as scrubbing

        with self.vault.transaction("attachment.added", details):
            if plan is None or not plan.scrubbable or not plan.found:
                with open(path, "rb") as handle:
                    media_type = plan.media_type if plan else _guess_media_type(shown)
                    stored = self._store_stream(report.id, shown, handle.read, progress, media_type)
                stored = replace(
                    stored,
                    original_sha256=stored.sha256,
                    remaining_metadata=list(plan.found if plan else ()),
                    metadata_warning=(plan.warning or "") if plan else "not checked for metadata",
                )
            else:
                cleaned = io.BytesIO()
                with open(path, "rb") as handle:
                    result = scrubbing.scrub(handle, cleaned, plan)
                with open(path, "rb") as handle:
                    if keep_original:
                        evidence = self._store_stream(
                            report.id, shown, handle.read, progress, plan.media_type
                        )
                        original_sha256 = evidence.sha256
                        evidence = replace(
                            evidence,
                            evidence_original=True,
                            original_sha256=original_sha256,
                            remaining_metadata=list(plan.found),
                        )
                        self.vault.put(bytes.fromhex(evidence.id), evidence.to_record())
                        details["original"] = evidence.id
                    else:
                        original_sha256 = _hash_stream(handle, progress)
                cleaned.seek(0)
                stored = self._store_stream(report.id, shown, cleaned.read, None, result.media_type)
                stored = replace(
                    stored,
                    original_sha256=original_sha256,
                    removed_metadata=list(result.removed),
                    remaining_metadata=list(result.remaining),
                )
            self.vault.put(bytes.fromhex(stored.id), stored.to_record())
            details["attachment"] = stored.id
        return stored

    def _store_stream(
        self,
        report_id: str,
        name: str,
        read: Callable[[int], bytes],
        progress: Callable[[int], None] | None,
        media_type: str,
    ) -> Attachment:
        """Chunks of one attachment (inside the caller's transaction); no record yet."""
        hasher = crypto.sha256_hasher()
        size = 0

        def hashed(n: int) -> bytes:
            nonlocal size
            block = read(n)
            hasher.update(block)
            size += len(block)
            return block

        attachment_id = Vault.new_id(self.rng)
        chunks = self.vault.write_chunks(attachment_id, hashed, progress)
        return Attachment(
            id=attachment_id.hex(),
            report=report_id,
            name=name,
            size=size,
            media_type=media_type,
            sha256=hasher.hexdigest(),
            chunks=chunks,
            added=now_iso(self.clock()),
        )

    def list_attachments(self, ref: str) -> list[Attachment]:
        report = self.get_report(ref)
        found = [
            Attachment.from_record(rid.hex(), rec)
            for rid, rec in self.vault.records("attachment")
            if rec.get("report") == report.id
        ]
        return sorted(found, key=lambda a: (a.added, a.name, a.id))

    def get_attachment(self, ref: str, attachment_ref: str) -> Attachment:
        """An attachment of a report by its id prefix (≥ 4 characters) or exact file name."""
        attachments = self.list_attachments(ref)
        wanted = attachment_ref.strip()
        matches = [a for a in attachments if a.name == wanted]
        if not matches and len(wanted) >= 4:
            matches = [a for a in attachments if a.id.startswith(wanted.lower())]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InputError(f"several attachments match {wanted!r}", hint="give its id")
        raise NotFound(f"this report has no attachment {wanted!r}")

    def read_attachment(self, attachment: Attachment) -> Iterator[bytes]:
        """The decrypted content, chunk by chunk; checks size and SHA-256 at the end."""
        hasher = crypto.sha256_hasher()
        size = 0
        for block in self.vault.read_chunks(bytes.fromhex(attachment.id), attachment.chunks):
            hasher.update(block)
            size += len(block)
            yield block
        if size != attachment.size or hasher.hexdigest() != attachment.sha256:
            raise VaultCorrupt(f"attachment {attachment.name!r} does not match its checksum")

    def save_attachment(
        self, ref: str, attachment_ref: str, out: Path, *, progress: Progress | None = None
    ) -> Path:
        """Write an attachment back out as a plain file; never overwrites, never escapes.

        ``out`` is a file path, or an existing folder: then the attachment's own name is
        used, checked to stay inside that folder. ``progress`` may raise to cancel: the
        partial file is removed.
        """
        attachment = self.get_attachment(ref, attachment_ref)
        out = Path(out)
        target = fs.safe_child(out, attachment.name) if out.is_dir() else out
        tally = ByteTally(progress, attachment.size)
        with fs.atomic_writer(target) as handle:
            for block in self.read_attachment(attachment):
                handle.write(block)
                tally.add(len(block))
        return target

    def remove_attachment(self, ref: str, attachment_ref: str) -> Attachment:
        report = self._draft(ref)
        attachment = self.get_attachment(report.id, attachment_ref)
        details = {"report": report.id, "attachment": attachment.id}
        with self.vault.transaction("attachment.removed", details):
            self._delete_attachment_rows(attachment)
        self.vault.checkpoint()
        return attachment

    def _delete_attachment_rows(self, attachment: Attachment) -> None:
        self.vault.delete_chunks(bytes.fromhex(attachment.id), attachment.chunks)
        self.vault.delete(bytes.fromhex(attachment.id))

    # --- sealing ------------------------------------------------------------------------

    def seal_report(
        self,
        ref: str,
        partner_refs: list[str],
        *,
        keep_readable: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> Receipt:
        """Seal a draft to partners: afterwards this device cannot read it (unless
        ``keep_readable``). The draft and its attachments are destroyed in the same
        transaction that stores the sealed file and its receipt."""
        from securesubmit.core import seal

        report = self._draft(ref)
        missing = missing_required(report)
        if missing:
            raise InputError("fill in the required fields before sealing: " + ", ".join(missing))
        partners = self._sealing_partners(partner_refs)
        me = self.identity
        readers = [p.keys for p in partners] + ([me.keys] if keep_readable else [])
        if seal.encryption_for(readers) != seal.HYBRID:
            _refuse_classical_sealing(partners, me, keep_readable)
        now = self.clock().replace(microsecond=0)
        attachments = self.list_attachments(report.id)
        sources = [
            seal.AttachmentSource(
                name=a.name,
                size=a.size,
                media_type=a.media_type,
                open=self._opener(a),
                original_sha256=(
                    bytes.fromhex(a.original_sha256)
                    if a.original_sha256 and a.original_sha256 != a.sha256
                    else None
                ),
                scrubbed=a.removed_metadata,
                sha256=bytes.fromhex(a.sha256),
                authenticated=True,  # the vault's AEAD chunks; not hashed a second time
            )
            for a in attachments
        ]
        fields = {k: v for k, v in report.to_record().items() if k not in ("kind", "schema")}
        fields["attachments_evidence_originals"] = [
            a.name for a in attachments if a.evidence_original
        ]
        sealed_id = Vault.new_id(self.rng)
        details = {"report": report.id, "sealed": sealed_id.hex()}
        with self.vault.transaction("report.sealed", details):
            writer = _HashingWriter(self.vault.chunk_writer(sealed_id))
            result = seal.seal_report(
                cast(BinaryIO, writer),
                report=fields,
                attachments=sources,
                sender_seed=me.signing_seed,
                sender_encryption_public=me.encryption_public,
                recipients=[p.keys for p in partners],
                report_id=report.id,
                created=_parse_iso(report.created),
                sealed=now,
                keep_readable=keep_readable,
                progress=progress,
                sender_mldsa_seed=me.mldsa_seed,
                sender_pq_public=me.hybrid_public,
            )
            chunks = writer.close()
            receipt = Receipt(
                id=sealed_id.hex(),
                report_id=report.id,
                title=report.title,
                category=report.category,
                incident_date=report.incident_date,
                country=report.country,
                created=report.created,
                sealed=now_iso(now),
                recipients=[{"name": p.name, "fingerprint": p.fingerprint.hex()} for p in partners],
                keep_readable=keep_readable,
                payload_sha256=result.payload_sha256.hex(),
                file_sha256=writer.hexdigest(),
                file_size=writer.size,
                chunks=chunks,
                attachments=[
                    {
                        "name": a.name,
                        "size": a.size,
                        "sha256": a.sha256,
                        "original_sha256": a.original_sha256,
                    }
                    for a in attachments
                ],
                encryption=result.encryption,
                signature=result.signature_protection,
            )
            self.vault.put(sealed_id, receipt.to_record())
            for attachment in attachments:
                self._delete_attachment_rows(attachment)
            self.vault.delete(bytes.fromhex(report.id))
        self.vault.checkpoint()
        return receipt

    def _sealing_partners(self, refs: list[str]) -> list[Partner]:
        if not refs:
            raise InputError(
                "a report must be sealed to at least one partner",
                hint="add --to PARTNER; see your partners with: securesubmit partners list",
            )
        now = self.clock()
        chosen: dict[str, Partner] = {}
        for ref in refs:
            partner = self.get_partner(ref)
            partner.check_usable(now)
            if partner.test_only and os.environ.get("SECURESUBMIT_ALLOW_TEST_KEYS") != "1":
                raise Refused(
                    f"{partner.name} is the TEST-ONLY example card: its secret key is public, "
                    "so nothing may be sealed to it",
                    hint="add the card of a real partner organisation",
                )
            chosen[partner.id] = partner
        return list(chosen.values())

    def _opener(self, attachment: Attachment) -> Callable[[], BinaryIO]:
        def open_stream() -> BinaryIO:
            raw = self.vault.chunk_reader(bytes.fromhex(attachment.id), attachment.chunks)
            return io.BufferedReader(raw, buffer_size=1024 * 1024)

        return open_stream

    def list_receipts(self) -> list[Receipt]:
        found = [Receipt.from_record(rid.hex(), rec) for rid, rec in self.vault.records("receipt")]
        return sorted(found, key=lambda r: (r.sealed, r.id), reverse=True)

    def get_receipt(self, ref: str) -> Receipt:
        """A sealed report's receipt by its receipt id or report id prefix (≥ 4)."""
        wanted = ref.strip().lower()
        if len(wanted) < 4:
            raise InputError(f"{ref!r} is too short", hint="give at least 4 characters")
        matches = [
            r
            for r in self.list_receipts()
            if r.id.startswith(wanted) or r.report_id.startswith(wanted)
        ]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InputError(f"several sealed reports match {ref!r}", hint="give more characters")
        raise NotFound(f"no sealed report matches {ref!r}")

    def open_sealed_copy(self, receipt: Receipt) -> BinaryIO:
        """The sealed file itself (age-encrypted to the partners), streamed from the vault."""
        if receipt.copy_deleted:
            raise NotFound("the sealed copy was deleted after export; only the receipt is kept")
        raw = self.vault.chunk_reader(bytes.fromhex(receipt.id), receipt.chunks)
        return io.BufferedReader(raw, buffer_size=1024 * 1024)

    def export_sealed_file(
        self, ref: str, out: Path, *, progress: Progress | None = None
    ) -> Receipt:
        """Write one sealed report as a standalone age file (it opens with `age -d`).
        ``progress`` may raise to cancel: the partial file is removed."""
        receipt = self.get_receipt(ref)
        tally = ByteTally(progress, receipt.file_size)
        out = Path(out)
        fs.remove_stale_parts(out.parent if str(out.parent) else Path("."), (".age", out.name))
        with self.open_sealed_copy(receipt) as source, fs.atomic_writer(out) as handle:
            hasher = crypto.sha256_hasher()
            while block := source.read(1024 * 1024):
                hasher.update(block)
                handle.write(block)
                tally.add(len(block))
            if hasher.hexdigest() != receipt.file_sha256:
                raise VaultCorrupt("the sealed copy does not match its receipt")
        return receipt

    def open_sealed_file(
        self, path: Path, save_to: Path | None = None, *, progress: Progress | None = None
    ) -> tuple[Any, list[Path]]:
        """Open a sealed report addressed to me: verify everything, then optionally save
        its attachments to ``save_to``. Unverified plaintext only ever goes to an
        encrypted scratch space in the vault that is always rolled back.

        ``progress`` counts the sealed file's bytes as they are read, then (when saving)
        the attachments' bytes as they are written; it may raise to cancel.

        Saving is all or nothing: every attachment is written under a temporary name
        (fs.AtomicFiles), hashed again as it is written and compared with the verified
        header, and all take their names only when all were written and matched. A
        failure or a cancel leaves no file of this call in ``save_to``, neither partial
        nor complete; a killed process leaves only hidden ``.part`` files."""
        me = self.identity
        secrets = me.age_identities
        try:
            raw = open(Path(path), "rb")  # noqa: SIM115 - closed by the with below
            size = os.fstat(raw.fileno()).st_size
        except OSError as exc:
            raise NotFound(f"cannot read {path}: {exc.strerror}") from None
        source = ByteTally(progress, size).reader(raw)
        return self._open_sealed(source, secrets, save_to, progress)

    def _open_sealed(
        self,
        source: BinaryIO,
        secrets: list[agev1.Identity],
        save_to: Path | None,
        progress: Progress | None,
    ) -> tuple[Any, list[Path]]:
        from securesubmit.core import seal

        me = self.identity
        with source, self.vault.scratch():
            sink = ChunkSink(self.vault, self.rng)
            opened = seal.open_sealed(
                source,
                identity_secrets=secrets,
                my_fingerprint=me.fingerprint,
                sink=sink,
                known_senders=None,
            )
            if save_to is None:
                return opened, []
            fs.ensure_private_dir(Path(save_to))
            targets = [fs.safe_child(Path(save_to), d.name) for d in opened.attachments]
            fs.remove_stale_parts(Path(save_to), tuple(t.name for t in targets))
            tally = ByteTally(progress, sum(d.size for d in opened.attachments))
            with fs.AtomicFiles(targets) as files:
                for index, descriptor in enumerate(opened.attachments):
                    hasher = crypto.sha256_hasher()
                    written = 0
                    with files.open(index) as handle:
                        for block in sink.read(index):
                            hasher.update(block)
                            written += len(block)
                            handle.write(block)
                            tally.add(len(block))
                    if written != descriptor.size or hasher.digest() != descriptor.sha256:
                        raise seal.AttachmentAltered(
                            f"attachment {index + 1} does not match the sealed report's "
                            "header; no attachment was saved"
                        )
                saved = files.commit()
        return opened, saved

    # --- bundles and inbox ----------------------------------------------------------------

    def export_bundle(
        self,
        partner_ref: str,
        out: Path,
        *,
        report_refs: list[str] | None = None,
        delete_after_export: bool = False,
        progress: Progress | None = None,
    ) -> Any:
        """See exchange.export_bundle; ``progress`` may raise to cancel: the partial
        bundle is removed and the vault is unchanged."""
        from securesubmit.core import exchange

        return exchange.export_bundle(
            self,
            partner_ref,
            out,
            report_refs=report_refs or [],
            delete_after_export=delete_after_export,
            progress=progress,
        )

    def import_bundle(self, path: Path, *, progress: Progress | None = None) -> Any:
        """See exchange.import_bundle; ``progress`` may raise to cancel: the import's
        transaction rolls back, so nothing of the bundle is stored."""
        from securesubmit.core import exchange

        try:
            return exchange.import_bundle(self, path, progress=progress)
        except BaseException:
            # As after a cancelled attach: truncate the WAL, so the rolled-back frames
            # neither waste disk nor show how much of the bundle was stored.
            self.vault.checkpoint()
            raise

    def list_inbox(self) -> list[Any]:
        from securesubmit.core.exchange import InboxItem

        items = [InboxItem.from_record(rid.hex(), rec) for rid, rec in self.vault.records("inbox")]
        return sorted(items, key=lambda i: (i.sealed, i.id), reverse=True)

    def get_inbox_item(self, ref: str) -> Any:
        wanted = ref.strip().lower()
        if len(wanted) < 4:
            raise InputError(f"{ref!r} is too short", hint="give at least 4 characters")
        matches = [
            i
            for i in self.list_inbox()
            if i.id.startswith(wanted) or i.report_id.startswith(wanted)
        ]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InputError(f"several inbox reports match {ref!r}", hint="give more characters")
        raise NotFound(f"no inbox report matches {ref!r}")

    def save_inbox_attachment(
        self, ref: str, name: str, out: Path, *, progress: Progress | None = None
    ) -> Path:
        """Write an inbox report's attachment out as a plain file (never overwrites).
        ``progress`` may raise to cancel: the partial file is removed."""
        item = self.get_inbox_item(ref)
        matches = [a for a in item.attachments if a["name"] == name]
        if not matches:
            raise NotFound(f"this report has no attachment {name!r}")
        attachment = matches[0]
        out = Path(out)
        target = fs.safe_child(out, attachment["name"]) if out.is_dir() else out
        hasher = crypto.sha256_hasher()
        tally = ByteTally(progress, attachment["size"])
        with fs.atomic_writer(target) as handle:
            if attachment["chunks"]:
                for block in self.vault.read_chunks(
                    bytes.fromhex(attachment["blob"]), attachment["chunks"]
                ):
                    hasher.update(block)
                    handle.write(block)
                    tally.add(len(block))
            if hasher.hexdigest() != attachment["sha256"]:
                raise VaultCorrupt(f"attachment {name!r} does not match its checksum")
        return target

    def _draft(self, ref: str) -> Report:
        report = self.get_report(ref)
        if report.status != "draft":
            raise Refused(f"report {report.id[:8]} is {report.status}; only drafts can change")
        return report


class _HashingWriter:
    """Counts and hashes what is written through it (the sealed file's receipt)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._hasher = crypto.sha256_hasher()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._hasher.update(data)
        self.size += len(data)
        written: int = self._inner.write(data)
        return written

    def flush(self) -> None:
        self._inner.flush()

    def close(self) -> int:
        count: int = self._inner.close()
        return count

    def hexdigest(self) -> str:
        return self._hasher.hexdigest()


def _parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _hash_stream(handle: BinaryIO, progress: Callable[[int], None] | None) -> str:
    hasher = crypto.sha256_hasher()
    done = 0
    while block := handle.read(1024 * 1024):
        hasher.update(block)
        done += len(block)
        if progress is not None:
            progress(done)
    return hasher.hexdigest()


def _check_readable_file(path: Path) -> None:
    try:
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        raise NotFound(f"no such file: {path}") from None
    except (IsADirectoryError, PermissionError) as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    if not os.path.isfile(path):
        raise InputError(f"{path} is not a regular file")


def _guess_media_type(name: str) -> str:
    import mimetypes

    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def _category_for(template: str) -> str:
    from securesubmit.core.models import TEMPLATES

    found = TEMPLATES.get(template)
    return found.category if found else ""


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    """Accept people as dicts (from JSON) as well as Person objects."""
    out = dict(values)
    if "people" in out:
        people = []
        for p in out["people"]:
            if isinstance(p, Person):
                people.append(p)
            elif isinstance(p, dict) and isinstance(p.get("name"), str):
                allowed = {"name", "role", "sensitive", "organisation"}
                if set(p) - allowed:
                    raise InputError("a person has unknown fields: " + ", ".join(set(p) - allowed))
                people.append(Person(**p))
            else:
                raise InputError("each person needs at least a name")
        out["people"] = people
    for key in ("sources", "tags"):
        if key in out and not (
            isinstance(out[key], list) and all(isinstance(x, str) for x in out[key])
        ):
            raise InputError(f"{key} must be a list of texts")
    if "fields" in out and not (
        isinstance(out["fields"], dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in out["fields"].items())
    ):
        raise InputError("template fields must be text")
    if "date_approximate" in out and not isinstance(out["date_approximate"], bool):
        raise InputError("date_approximate must be true or false")
    for key in (
        "title",
        "category",
        "template",
        "incident_date",
        "country",
        "place",
        "description",
        "language",
    ):
        if key in out and not isinstance(out[key], str):
            raise InputError(f"{key} must be text")
    return out
