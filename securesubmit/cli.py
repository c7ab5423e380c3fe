"""The command line: parse arguments, call the service, print. No logic of its own.

Results go to stdout, messages to stderr. Every user error is one ``error:`` line (and a
``hint:`` line where useful) with the exit code documented in securesubmit.errors. Textual
is never imported here unless the app is started, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sqlite3
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from securesubmit import __version__
from securesubmit.errors import (
    EXIT_OK,
    EXIT_UNREADABLE,
    EXIT_USAGE,
    InputError,
    NotFound,
    Refused,
    SecureSubmitError,
)

EXIT_INTERRUPTED = 130
MAX_PASSPHRASE_BYTES = 4096
MAX_JSON_INPUT = 4 * 1024 * 1024

Handler = Callable[[argparse.Namespace], int]


# --- passphrases ------------------------------------------------------------------------


def _read_secret_line(source: str, opener: Callable[[], Any]) -> str:
    try:
        with opener() as handle:
            data = handle.read(MAX_PASSPHRASE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the passphrase from {source}: {exc.strerror}") from None
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"the passphrase from {source} is not UTF-8") from None
    if len(data) > MAX_PASSPHRASE_BYTES:
        raise InputError(f"the passphrase from {source} is too long")
    line: str = data.split("\n", 1)[0].rstrip("\r")
    if not line:
        raise InputError(f"the passphrase from {source} is empty")
    return line


def _from_fd(fd: int) -> Callable[[], Any]:
    return lambda: os.fdopen(fd, "rb", closefd=False)


def _prompt(text: str) -> str:
    if not sys.stdin.isatty():
        raise InputError(
            "no passphrase was given and there is no terminal to ask for one",
            hint="use --passphrase-fd N or SECURESUBMIT_PASSPHRASE_FILE in scripts",
        )
    try:
        return getpass.getpass(text)
    except EOFError:
        raise InputError("no passphrase was given") from None


def read_passphrase(args: argparse.Namespace, prompt: str = "Passphrase: ") -> str:
    """From --passphrase-fd, else SECURESUBMIT_PASSPHRASE_FILE, else a no-echo prompt."""
    if getattr(args, "passphrase_fd", None) is not None:
        return _read_secret_line(
            f"file descriptor {args.passphrase_fd}", _from_fd(args.passphrase_fd)
        )
    env = os.environ.get("SECURESUBMIT_PASSPHRASE_FILE")
    if env:
        return _read_secret_line(env, lambda: open(env, "rb"))
    return _prompt(prompt)


def read_new_passphrase(args: argparse.Namespace, *, env: str, fd_attr: str) -> str:
    """A new passphrase: from its fd or file for scripts, else asked twice."""
    fd = getattr(args, fd_attr, None)
    if fd is not None:
        return _read_secret_line(f"file descriptor {fd}", _from_fd(fd))
    path = os.environ.get(env)
    if path:
        return _read_secret_line(path, lambda: open(path, "rb"))
    first = _prompt("New passphrase: ")
    second = _prompt("Repeat the new passphrase: ")
    if first != second:
        raise InputError("the two passphrases differ; nothing was changed")
    return first


# --- helpers ------------------------------------------------------------------------------


def _vault_path(args: argparse.Namespace) -> Path:
    from securesubmit.core.service import default_vault_path

    return Path(args.vault).expanduser() if args.vault else default_vault_path()


def _session(args: argparse.Namespace) -> Any:
    from securesubmit.core.service import unlock_vault
    from securesubmit.core.vault import Vault

    path = _vault_path(args)
    # Fail on a missing or busy vault before asking for a passphrase.
    Vault.open(path).close()
    return unlock_vault(path, read_passphrase(args))


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))


def _confirm(args: argparse.Namespace, question: str, expected: str) -> None:
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise Refused("this needs a confirmation", hint="add --yes to confirm in a script")
    answer = input(f"{question} Type {expected!r} to confirm: ")
    if answer.strip() != expected:
        raise Refused("not confirmed; nothing was changed")


def _kdf_from_args(args: argparse.Namespace) -> Any:
    from securesubmit.core import crypto

    memory = getattr(args, "kdf_memory_mib", None)
    iterations = getattr(args, "kdf_iterations", None)
    if memory is None and iterations is None:
        return None
    memory_kib = int(memory if memory is not None else crypto.MIN_MEMORY_KIB // 1024) * 1024
    if memory_kib < crypto.MIN_MEMORY_KIB and os.environ.get("SECURESUBMIT_ALLOW_WEAK_KDF") != "1":
        raise InputError(
            f"the key derivation needs at least {crypto.MIN_MEMORY_KIB // 1024} MiB of memory",
            hint="weaker settings are for tests only (SECURESUBMIT_ALLOW_WEAK_KDF=1)",
        )
    return crypto.KdfParams(
        memory_kib=max(memory_kib, 64),
        iterations=iterations or 1,
        lanes=1 if memory_kib < 1024 else 4,
    )


# --- commands -------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from securesubmit.core.service import check_new_passphrase, create_vault

    path = _vault_path(args)
    if path.exists():
        from securesubmit.errors import VaultExists

        raise VaultExists(f"a vault already exists at {path}")
    kdf = _kdf_from_args(args)
    passphrase = (
        read_passphrase(args, "New passphrase: ")
        if (args.passphrase_fd is not None or os.environ.get("SECURESUBMIT_PASSPHRASE_FILE"))
        else read_new_passphrase(args, env="SECURESUBMIT_PASSPHRASE_FILE", fd_attr="passphrase_fd")
    )
    check_new_passphrase(passphrase)
    if kdf is None:
        print("Measuring this computer to choose the key-derivation cost…", file=sys.stderr)
    session = create_vault(
        path,
        passphrase,
        name=args.name or "",
        organisation=args.organisation or "",
        role=args.role,
        kdf=kdf,
        max_failed=args.max_failed_unlocks,
        post_quantum=True if args.post_quantum else False if args.classical else None,
    )
    with session:
        info = session.info()
    if args.json:
        _print_json({"vault": str(path), "role": info.role, "age_recipient": info.age_recipient})
    else:
        print(f"Created a {info.role} vault at {path}")
        print("If you forget the passphrase, nothing in this vault can be recovered.")
        print(
            f"After {args.max_failed_unlocks} wrong passphrases in a row "
            "the vault destroys its keys."
        )
    return EXIT_OK


def cmd_vault_info(args: argparse.Namespace) -> int:
    from securesubmit.core.service import read_locked_info

    path = _vault_path(args)
    locked = read_locked_info(path)
    data: dict[str, Any] = {
        "path": str(path),
        "size_bytes": locked.size_bytes,
        "schema_version": locked.schema_version,
        "keyslots": locked.keyslots,
        "failed_unlocks": locked.failed_unlocks,
        "max_failed_unlocks": locked.max_failed_unlocks,
        "kdf": None
        if locked.kdf is None
        else {
            "algorithm": "argon2id",
            "memory_mib": locked.kdf.memory_kib / 1024,
            "iterations": locked.kdf.iterations,
            "lanes": locked.kdf.lanes,
        },
    }
    if args.unlock:
        with _session(args) as session:
            info = session.info()
            data.update(
                role=info.role,
                name=info.name,
                organisation=info.organisation,
                age_recipient=info.age_recipient,
                drafts=info.drafts,
            )
    if args.json:
        _print_json(data)
        return EXIT_OK
    print(f"vault:           {data['path']}")
    print(f"size:            {data['size_bytes']} bytes")
    print(f"schema version:  {data['schema_version']}")
    print(f"key slots:       {data['keyslots']}" + ("  (destroyed)" if not locked.keyslots else ""))
    if data["kdf"]:
        k = data["kdf"]
        print(f"key derivation:  Argon2id, {k['memory_mib']:g} MiB, {k['iterations']} pass(es)")
    print(f"failed unlocks:  {data['failed_unlocks']} of {data['max_failed_unlocks']} allowed")
    if args.unlock:
        print(f"role:            {data['role']}")
        print(f"name:            {data['name'] or '-'}")
        print(f"organisation:    {data['organisation'] or '-'}")
        print(f"age recipient:   {data['age_recipient']}")
        print(f"drafts:          {data['drafts']}")
    return EXIT_OK


def cmd_passphrase_change(args: argparse.Namespace) -> int:
    with _session(args) as session:
        new = read_new_passphrase(
            args, env="SECURESUBMIT_NEW_PASSPHRASE_FILE", fd_attr="new_passphrase_fd"
        )
        session.change_passphrase(new, kdf=_kdf_from_args(args))
    print("Passphrase changed.", file=sys.stderr)
    return EXIT_OK


def _report_values(args: argparse.Namespace, *, for_edit: bool) -> dict[str, Any]:
    from securesubmit.core.models import parse_person

    values: dict[str, Any] = {}
    if args.from_json:
        values.update(_load_json_object(args.from_json))
    simple = {
        "title": args.title,
        "category": args.category,
        "template": args.template,
        "incident_date": args.date,
        "country": args.country,
        "place": args.place,
        "language": args.language,
    }
    values.update({k: v for k, v in simple.items() if v is not None})
    if args.approximate is not None:
        values["date_approximate"] = args.approximate
    if args.description is not None:
        values["description"] = args.description
    if args.description_file is not None:
        from securesubmit.core.fs import read_limited

        raw = read_limited(Path(args.description_file), MAX_JSON_INPUT, "the description file")
        try:
            values["description"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("the description file is not UTF-8 text") from None
    if args.person:
        values["people"] = [parse_person(p) for p in args.person]
    if args.source:
        values["sources"] = list(args.source)
    if args.tag:
        values["tags"] = list(args.tag)
    if args.field:
        fields: dict[str, str] = {}
        for item in args.field:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise InputError(f"--field takes key=value, not {item!r}")
            fields[key.strip()] = value
        values["fields"] = fields
    return values


def _load_json_object(source: str) -> dict[str, Any]:
    from securesubmit.core.fs import read_limited

    raw = (
        sys.stdin.buffer.read(MAX_JSON_INPUT + 1)
        if source == "-"
        else read_limited(Path(source), MAX_JSON_INPUT, "the JSON file")
    )
    if len(raw) > MAX_JSON_INPUT:
        raise InputError("the JSON input is too large")
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"the JSON input is not valid: {exc}") from None
    if not isinstance(value, dict):
        raise InputError("the JSON input must be an object of report fields")
    return value


def _interactive_report() -> dict[str, Any]:
    from securesubmit.core.models import CATEGORIES, COUNTRIES, TEMPLATES

    print("New report (empty answers are skipped; the report stays a draft).", file=sys.stderr)
    names = list(TEMPLATES)
    for i, key in enumerate(names, 1):
        print(f"  {i}. {TEMPLATES[key].title}", file=sys.stderr)
    print(f"  {len(names) + 1}. no template", file=sys.stderr)
    choice = input("Template number: ").strip()
    values: dict[str, Any] = {}
    if choice.isdigit() and 1 <= int(choice) <= len(names):
        template = TEMPLATES[names[int(choice) - 1]]
        values["template"] = template.id
        values["category"] = template.category
    else:
        values["category"] = input(f"Category ({', '.join(CATEGORIES)}): ").strip()
    values["title"] = input("Title: ").strip()
    for key, prompt in (
        ("incident_date", "Date of the incident (YYYY, YYYY-MM or YYYY-MM-DD): "),
        ("country", f"Country ({', '.join(COUNTRIES)}): "),
        ("place", "Place: "),
        ("description", "What happened (one paragraph): "),
    ):
        answer = input(prompt).strip()
        if answer:
            values[key] = answer
    template_id = values.get("template")
    if template_id:
        fields = {}
        for tfield in TEMPLATES[template_id].fields:
            answer = input(f"{tfield.label}{' (' + tfield.help + ')' if tfield.help else ''}: ")
            if answer.strip():
                fields[tfield.key] = answer.strip()
        values["fields"] = fields
    return values


def _report_dict(report: Any) -> dict[str, Any]:
    from dataclasses import asdict

    from securesubmit.core.models import missing_required

    data = asdict(report)
    data["missing_required"] = missing_required(report)
    return data


def cmd_report_new(args: argparse.Namespace) -> int:
    with _session(args) as session:
        values = _report_values(args, for_edit=False)
        if "title" not in values and not args.from_json:
            if not sys.stdin.isatty():
                raise InputError("a report needs a title", hint="give --title or --from-json")
            values.update(_interactive_report())
        report = session.create_report(**values)
    if args.json:
        _print_json(_report_dict(report))
    else:
        print(report.id)
        print(f"Saved draft {report.id[:8]}: {report.title}", file=sys.stderr)
    return EXIT_OK


def cmd_report_edit(args: argparse.Namespace) -> int:
    with _session(args) as session:
        values = _report_values(args, for_edit=True)
        if not values:
            raise InputError("nothing to change", hint="give the fields to change, e.g. --title")
        report = session.update_report(args.id, **values)
    if args.json:
        _print_json(_report_dict(report))
    else:
        print(f"Saved draft {report.id[:8]}: {report.title}", file=sys.stderr)
    return EXIT_OK


def cmd_report_list(args: argparse.Namespace) -> int:
    from securesubmit.core.models import CATEGORIES

    with _session(args) as session:
        reports = session.list_reports()
    if args.json:
        _print_json([_report_dict(r) for r in reports])
        return EXIT_OK
    if not reports:
        print("No reports yet. Start one with: securesubmit report new", file=sys.stderr)
        return EXIT_OK
    print(f"{'ID':8}  {'STATUS':7}  {'DATE':10}  {'CATEGORY':32}  TITLE")
    for r in reports:
        print(
            f"{r.id[:8]}  {r.status:7}  {r.incident_date or '-':10}  "
            f"{CATEGORIES.get(r.category, r.category)[:32]:32}  {r.title}"
        )
    return EXIT_OK


def cmd_report_show(args: argparse.Namespace) -> int:
    from securesubmit.core.models import CATEGORIES, COUNTRIES, TEMPLATES, missing_required

    with _session(args) as session:
        report = session.get_report(args.id)
        attachments = session.list_attachments(report.id)
    if args.json:
        _print_json(
            {**_report_dict(report), "attachments": [_attachment_json(a) for a in attachments]}
        )
        return EXIT_OK
    template = TEMPLATES.get(report.template)
    lines = [
        f"id:          {report.id}",
        f"status:      {report.status}",
        f"title:       {report.title}",
        f"category:    {CATEGORIES.get(report.category, report.category)}",
        f"template:    {template.title if template else '-'}",
        f"date:        {report.incident_date or '-'}"
        + (" (approximate)" if report.date_approximate else ""),
        f"country:     {COUNTRIES.get(report.country, report.country) or '-'}",
        f"place:       {report.place or '-'}",
        f"language:    {report.language}",
        f"created:     {report.created}",
        f"updated:     {report.updated}",
    ]
    if template:
        for tfield in template.fields:
            lines.append(f"{tfield.label}: {report.fields.get(tfield.key, '') or '-'}")
    for person in report.people:
        flags = ", ".join(
            x
            for x, on in (("sensitive", person.sensitive), ("organisation", person.organisation))
            if on
        )
        lines.append(
            f"involved:    {person.name}"
            + (f" ({person.role})" if person.role else "")
            + (f" [{flags}]" if flags else "")
        )
    lines += [f"source:      {s}" for s in report.sources]
    if report.tags:
        lines.append(f"tags:        {', '.join(report.tags)}")
    for a in attachments:
        lines.append(f"attachment:  {a.id[:8]}  {a.name} ({_size(a.size)})")
    lines += ["", report.description or "(no description)"]
    missing = missing_required(report)
    if missing:
        lines += ["", "still missing: " + ", ".join(missing)]
    print("\n".join(lines))
    return EXIT_OK


def cmd_report_delete(args: argparse.Namespace) -> int:
    with _session(args) as session:
        report = session.get_report(args.id)
        _confirm(args, f"Delete draft {report.id[:8]} for good?", "delete")
        session.delete_report(report.id)
    print(f"Deleted draft {report.id[:8]}.", file=sys.stderr)
    return EXIT_OK


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _attachment_json(a: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(a)


def _progress_printer(label: str, total: int) -> Callable[[int], None] | None:
    if not sys.stderr.isatty() or total < 8 * 1024 * 1024:
        return None

    def show(done: int) -> None:
        print(
            f"\r{label}: {done * 100 // max(total, 1):3d}% of {_size(total)}",
            end="",
            file=sys.stderr,
        )
        if done >= total:
            print(file=sys.stderr)

    return show


def cmd_report_attach(args: argparse.Namespace) -> int:
    added = []
    with _session(args) as session:
        for name in args.files:
            path = Path(name)
            total = path.stat().st_size if path.is_file() else 0
            added.append(
                session.attach_file(
                    args.id,
                    path,
                    progress=_progress_printer(path.name, total),
                    scrub=not args.no_scrub,
                    keep_original=args.keep_original,
                )
            )
    if args.json:
        _print_json([_attachment_json(a) for a in added])
    for a in added:
        print(f"Attached {a.name} ({_size(a.size)}) as {a.id[:8]}.", file=sys.stderr)
        for item in a.removed_metadata:
            print(f"  removed: {item}", file=sys.stderr)
        for item in a.remaining_metadata:
            print(f"  warning: still inside: {item}", file=sys.stderr)
        if a.metadata_warning:
            print(f"  warning: {a.metadata_warning}", file=sys.stderr)
    return EXIT_OK


def cmd_attachment_list(args: argparse.Namespace) -> int:
    with _session(args) as session:
        attachments = session.list_attachments(args.id)
    if args.json:
        _print_json([_attachment_json(a) for a in attachments])
        return EXIT_OK
    if not attachments:
        print("This report has no attachments.", file=sys.stderr)
    for a in attachments:
        print(f"{a.id[:8]}  {_size(a.size):>10}  {a.media_type:28}  {a.name}")
    return EXIT_OK


def cmd_attachment_save(args: argparse.Namespace) -> int:
    with _session(args) as session:
        target = session.save_attachment(args.id, args.attachment, Path(args.out))
    print(f"Saved to {target}. This copy is NOT encrypted.", file=sys.stderr)
    return EXIT_OK


def cmd_attachment_remove(args: argparse.Namespace) -> int:
    with _session(args) as session:
        attachment = session.get_attachment(args.id, args.attachment)
        _confirm(args, f"Remove attachment {attachment.name}?", "remove")
        session.remove_attachment(args.id, attachment.id)
    print(f"Removed {attachment.name}.", file=sys.stderr)
    return EXIT_OK


SEAL_WARNING = (
    "Sealing encrypts this report to the partners you chose and signs it. Afterwards the "
    "draft and its attachments are destroyed on this device{keep}. Only the partners can "
    "read it. This cannot be undone."
)


def cmd_report_seal(args: argparse.Namespace) -> int:
    with _session(args) as session:
        report = session.get_report(args.id)
        partners = [session.get_partner(ref) for ref in args.to or []]
        keep = "" if not args.keep_readable else " (you keep the ability to read it)"
        if not args.yes and sys.stdin.isatty():
            print(SEAL_WARNING.format(keep=keep), file=sys.stderr)
            for partner in partners:
                print(f"  to: {partner.name}  {partner.display_fingerprint}", file=sys.stderr)
        _confirm(args, f"Seal report {report.id[:8]}?", "seal")
        receipt = session.seal_report(
            report.id, [p.id for p in partners], keep_readable=args.keep_readable
        )
    if args.json:
        _print_json(_receipt_json(receipt))
    else:
        print(receipt.id)
        names = ", ".join(r["name"] for r in receipt.recipients)
        print(f"Sealed {receipt.title!r} to {names}. The draft was destroyed.", file=sys.stderr)
        print(f"Protection: {_protection(receipt.encryption, receipt.signature)}.", file=sys.stderr)
    return EXIT_OK


_ENCRYPTION_SHOWN = {
    "hybrid": "hybrid (ML-KEM-768 + X25519)",
    "classical": "classical only (X25519)",
}
_SIGNATURE_SHOWN = {
    "hybrid": "hybrid (ML-DSA-65 + Ed25519)",
    "classical": "classical only (Ed25519)",
}


def _protection(encryption: str | None, signature: str) -> str:
    """How a sealed report or bundle is protected, in the words every output uses."""
    shown = _ENCRYPTION_SHOWN.get(encryption or "", "not checked (decrypted elsewhere)")
    return f"encryption {shown}, signature {_SIGNATURE_SHOWN.get(signature, signature)}"


def _receipt_json(receipt: Any) -> dict[str, Any]:
    from dataclasses import asdict

    data = asdict(receipt)
    data["status"] = receipt.status
    return data


def cmd_sealed_list(args: argparse.Namespace) -> int:
    with _session(args) as session:
        receipts = session.list_receipts()
    if args.json:
        _print_json([_receipt_json(r) for r in receipts])
        return EXIT_OK
    if not receipts:
        print("No sealed reports yet.", file=sys.stderr)
        return EXIT_OK
    print(f"{'ID':8}  {'STATUS':8}  {'SEALED':20}  {'TO':24}  {'ENCRYPTION':10}  TITLE")
    for r in receipts:
        names = ", ".join(x["name"] for x in r.recipients)
        print(
            f"{r.id[:8]}  {r.status:8}  {r.sealed:20}  {names[:24]:24}  {r.encryption:10}  "
            f"{r.title}"
        )
    return EXIT_OK


def cmd_sealed_show(args: argparse.Namespace) -> int:
    with _session(args) as session:
        receipt = session.get_receipt(args.id)
    if args.json:
        _print_json(_receipt_json(receipt))
        return EXIT_OK
    print(f"receipt:       {receipt.id}")
    print(f"report:        {receipt.report_id}")
    print(f"title:         {receipt.title}")
    print(f"sealed:        {receipt.sealed}")
    for r in receipt.recipients:
        print(f"to:            {r['name']}")
    print(f"readable here: {'yes' if receipt.keep_readable else 'no'}")
    print(f"protection:    {_protection(receipt.encryption, receipt.signature)}")
    print(f"sealed file:   {_size(receipt.file_size)}, SHA-256 {receipt.file_sha256}")
    for a in receipt.attachments:
        print(f"attachment:    {a['name']} ({_size(a['size'])})")
    for e in receipt.exports:
        print(f"exported:      {e.get('time')} to {e.get('partner')} (bundle {e.get('sequence')})")
    if receipt.copy_deleted:
        print("sealed copy:   deleted after export (receipt kept)")
    return EXIT_OK


def cmd_sealed_export_file(args: argparse.Namespace) -> int:
    with _session(args) as session:
        receipt = session.export_sealed_file(args.id, Path(args.out))
    print(f"Wrote the sealed report {receipt.id[:8]} to {args.out}.", file=sys.stderr)
    return EXIT_OK


def cmd_sealed_open(args: argparse.Namespace) -> int:
    from securesubmit.core.identity import format_fingerprint

    save_to = Path(args.save_attachments) if args.save_attachments else None
    with _session(args) as session:
        opened, saved = session.open_sealed_file(Path(args.file), save_to)
        known = [p for p in session.list_partners() if p.fingerprint == opened.sender_fingerprint]
    sender = known[0].name if known else "UNKNOWN sender (not one of your partners)"
    if args.json:
        _print_json(
            {
                "verified": True,
                "sender": sender,
                "sender_fingerprint": format_fingerprint(opened.sender_fingerprint),
                "report_id": opened.report_id,
                "created": opened.created.isoformat(),
                "sealed": opened.sealed.isoformat(),
                "encryption": opened.encryption,
                "signature": opened.signature_protection,
                "report": opened.report,
                "attachments": [
                    {
                        "name": a.name,
                        "size": a.size,
                        "sha256": a.sha256.hex(),
                        "original_sha256": a.original_sha256.hex() if a.original_sha256 else None,
                    }
                    for a in opened.attachments
                ],
                "saved": [str(p) for p in saved],
            }
        )
        return EXIT_OK
    print(f"verified: signed by {sender} ({format_fingerprint(opened.sender_fingerprint)})")
    print(f"sealed:   {opened.sealed:%Y-%m-%d %H:%M} UTC, report {opened.report_id}")
    print(f"protected: {_protection(opened.encryption, opened.signature_protection)}")
    print(f"title:    {opened.report.get('title', '')}")
    print()
    print(opened.report.get("description", "") or "(no description)")
    for a in opened.attachments:
        print(f"attachment: {a.name} ({_size(a.size)}) SHA-256 {a.sha256.hex()}")
    for path in saved:
        print(f"saved (NOT encrypted): {path}", file=sys.stderr)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    with _session(args) as session:
        result = session.export_bundle(
            args.to,
            Path(args.out),
            report_refs=args.reports or [],
            delete_after_export=args.delete_after_export,
        )
    if args.json:
        _print_json(
            {
                "file": str(result.path),
                "partner": result.partner,
                "sequence": result.sequence,
                "bundle_id": result.bundle_id,
                "bundle_sha256": result.bundle_hash.hex(),
                "reports": result.reports,
                "encryption": result.encryption,
                "signature": result.signature,
            }
        )
    else:
        print(
            f"Wrote bundle {result.sequence} for {result.partner} with "
            f"{len(result.reports)} report(s) to {result.path}.",
            file=sys.stderr,
        )
        print(f"Protection: {_protection(result.encryption, result.signature)}.", file=sys.stderr)
        print("Only that partner can open it. Carry it by any channel.", file=sys.stderr)
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from securesubmit.core.identity import format_fingerprint

    results = []
    with _session(args) as session:
        for name in args.files:
            results.append(session.import_bundle(Path(name)))
    if args.json:
        _print_json(
            [
                {
                    "file": str(r.path),
                    "sender": r.sender,
                    "sender_fingerprint": format_fingerprint(r.sender_fingerprint),
                    "verified": True,
                    "sequence": r.sequence,
                    "decision": r.decision,
                    "message": r.message,
                    "imported": r.imported,
                    "warnings": r.warnings,
                    "encryption": r.encryption,
                    "signature": r.signature,
                }
                for r in results
            ]
        )
        return EXIT_OK
    for r in results:
        print(
            f"{r.path.name}: from {r.sender} ({format_fingerprint(r.sender_fingerprint)}), "
            f"verified, bundle {r.sequence}: {len(r.imported)} new report(s)"
        )
        print(f"  protection: {_protection(r.encryption, r.signature)}")
        if r.decision == "duplicate":
            print(f"  {r.message}")
        for warning in r.warnings:
            print(f"  WARNING: {warning}")
    return EXIT_OK


def _inbox_json(item: Any) -> dict[str, Any]:
    from dataclasses import asdict

    data = asdict(item)
    for attachment in data["attachments"]:
        attachment.pop("blob", None)
        attachment.pop("chunks", None)
    data.pop("sealed_blob", None)
    return data


def _inbox_filters(args: argparse.Namespace) -> dict[str, Any]:
    return {
        key: value
        for key, value in (
            ("sender", args.sender),
            ("category", args.category),
            ("country", args.country),
            ("date_from", args.date_from),
            ("date_to", args.date_to),
            ("tag", args.tag),
            ("status", args.status),
            ("with_warnings", True if args.with_warnings else None),
        )
        if value is not None
    }


def cmd_inbox_list(args: argparse.Namespace) -> int:
    from securesubmit.core.inbox import Workspace

    with _session(args) as session:
        workspace = Workspace.load(session)
        page = workspace.view(
            query=args.search, page=args.page, per_page=args.per_page, **_inbox_filters(args)
        )
    if args.json:
        _print_json([_inbox_json(i) for i in page.items])
        return EXIT_OK
    if not page.total:
        print(
            "No reports match."
            if workspace.items
            else "The inbox is empty. Import a bundle with: securesubmit import FILE",
            file=sys.stderr,
        )
        return EXIT_OK
    print(f"{'ID':8}  {'STATUS':9}  {'DATE':10}  {'FROM':18}  TITLE")
    for i in page.items:
        title = str(i.report.get("title", ""))
        date = str(i.report.get("incident_date", "") or "-")
        print(f"{i.id[:8]}  {i.status:9}  {date[:10]:10}  {i.sender_name[:18]:18}  {title}")
    print(f"page {page.number} of {page.pages}, {page.total} report(s)", file=sys.stderr)
    return EXIT_OK


def cmd_inbox_annotate(args: argparse.Namespace) -> int:
    from securesubmit.core import inbox

    with _session(args) as session:
        if args.verb == "status":
            item = inbox.set_status(session, args.id, args.value)
        elif args.verb == "tag":
            item = (inbox.remove_tag if args.remove else inbox.add_tag)(
                session, args.id, args.value
            )
        elif args.verb == "note":
            item = inbox.add_note(session, args.id, args.value)
        else:
            item, _other = inbox.mark_duplicate(session, args.id, args.value)
    print(
        f"{item.id[:8]}: status {item.status}; tags {', '.join(item.tags) or '-'}", file=sys.stderr
    )
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from securesubmit.core import inbox

    with _session(args) as session:
        items = inbox.filter_items(session.list_inbox(), **_inbox_filters(args))
    stats = inbox.statistics(items)
    if args.json:
        _print_json(stats.to_dict())
    else:
        print(inbox.format_table(stats))
    return EXIT_OK


def cmd_inbox_export(args: argparse.Namespace) -> int:
    from securesubmit.core import inbox

    with _session(args) as session:
        everything = session.list_inbox()
        items = inbox.filter_items(everything, **_inbox_filters(args))
        written = inbox.export(
            items,
            args.format,
            Path(args.out),
            redact_sensitive=args.redact_sensitive,
            also_redact=inbox.sensitive_names(everything) if args.redact_sensitive else (),
            include_notes=args.include_notes,
            attachments=inbox.vault_attachments(session) if args.format == "uwazi" else None,
        )
    for path in written:
        print(path)
    print(f"warning: {written.warning}", file=sys.stderr)
    for warning in written.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


def cmd_inbox_show(args: argparse.Namespace) -> int:
    from securesubmit.core.identity import format_fingerprint

    with _session(args) as session:
        item = session.get_inbox_item(args.id)
    if args.json:
        _print_json(_inbox_json(item))
        return EXIT_OK
    report = item.report
    print(f"id:          {item.id}")
    print(f"title:       {report.get('title', '')}")
    sender = format_fingerprint(bytes.fromhex(item.sender_fingerprint))
    print(f"from:        {item.sender_name} ({sender})")
    print(f"signature:   verified, {_SIGNATURE_SHOWN.get(item.signature, item.signature)}")
    print(f"encryption:  {_ENCRYPTION_SHOWN.get(item.encryption, item.encryption)}")
    print(f"bundle:      {item.bundle_id} (sequence {item.sequence})")
    print(f"sealed:      {item.sealed}")
    print(f"status:      {item.status}")
    for key in ("category", "incident_date", "country", "place"):
        if report.get(key):
            print(f"{key.replace('_', ' ') + ':':12} {report[key]}")
    for a in item.attachments:
        print(f"attachment:  {a['name']} ({_size(a['size'])}) SHA-256 {a['sha256']}")
        if a.get("original_sha256"):
            print(f"             original's SHA-256 {a['original_sha256']}")
    for warning in item.warnings:
        print(f"WARNING:     {warning}")
    print()
    print(report.get("description") or "(no description)")
    return EXIT_OK


def cmd_inbox_save(args: argparse.Namespace) -> int:
    with _session(args) as session:
        target = session.save_inbox_attachment(args.id, args.attachment, Path(args.out))
    print(f"Saved to {target}. This copy is NOT encrypted.", file=sys.stderr)
    return EXIT_OK


def cmd_report_templates(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from securesubmit.core.models import TEMPLATES

    if args.json:
        _print_json([asdict(t) for t in TEMPLATES.values()])
        return EXIT_OK
    for template in TEMPLATES.values():
        print(f"{template.id}  ({template.category}): {template.title}")
        for tfield in template.fields:
            required = " (required)" if tfield.required else ""
            print(f"    --field {tfield.key}=…   {tfield.label}{required}")
    return EXIT_OK


# --- identity, cards, partners ---------------------------------------------------------


def _card_lines(card: Any) -> list[str]:
    from securesubmit.core.identity import format_fingerprint

    return [
        f"name:          {card.name}",
        f"organisation:  {card.organisation or '-'}",
        f"role:          {card.role}",
        f"valid:         {card.created:%Y-%m-%d} to {card.expires:%Y-%m-%d}",
        f"protection:    {card.protection}"
        + (", requires hybrid sealing" if card.require_hybrid else ""),
        f"fingerprint:   {format_fingerprint(card.fingerprint)}",
    ]


def _card_json(card: Any) -> dict[str, Any]:
    from securesubmit.core.identity import format_fingerprint

    return {
        "name": card.name,
        "organisation": card.organisation,
        "role": str(card.role),
        "created": card.created.isoformat(),
        "expires": card.expires.isoformat(),
        "age_recipient": card.age_recipient,
        "pq_age_recipient": card.pq_recipient,
        "version": card.version,
        "hybrid": card.is_hybrid,
        "require_hybrid": card.require_hybrid,
        "protection": card.protection,
        "fingerprint": format_fingerprint(card.fingerprint),
    }


def _read_card(path: str) -> Any:
    from securesubmit.core.fs import read_limited
    from securesubmit.core.identity import MAX_TEXT_BYTES, parse_card

    data = read_limited(Path(path), MAX_TEXT_BYTES, "the card file")
    try:
        return parse_card(data)
    except SecureSubmitError as exc:
        raise type(exc)(f"{path}: {exc}", hint=exc.hint) from None


def _read_statement(path: str) -> Any:
    from securesubmit.core.fs import read_limited
    from securesubmit.core.identity import MAX_TEXT_BYTES, parse_statement

    data = read_limited(Path(path), MAX_TEXT_BYTES, "the statement file")
    try:
        return parse_statement(data)
    except SecureSubmitError as exc:
        raise type(exc)(f"{path}: {exc}", hint=exc.hint) from None


def _partner_json(partner: Any, now: Any) -> dict[str, Any]:
    revoked = partner.revoked_since()
    return {
        "id": partner.id,
        "name": partner.name,
        "organisation": partner.card.organisation,
        "role": str(partner.card.role),
        "fingerprint": partner.display_fingerprint,
        "age_recipient": partner.keys.age_recipient,
        "pq_age_recipient": partner.keys.pq_recipient,
        "hybrid": partner.is_hybrid,
        "require_hybrid": partner.requires_hybrid,
        "protection": partner.protection,
        "status": partner.status(now),
        "verified": partner.verified,
        "added": partner.added,
        "expires": partner.card.expires.isoformat(),
        "rotations": partner.rotations,
        "revoked_since": revoked.isoformat() if revoked else None,
    }


def cmd_identity_show(args: argparse.Namespace) -> int:
    from securesubmit.core.identity import format_fingerprint

    with _session(args) as session:
        me = session.identity
        data = {
            "name": me.name,
            "organisation": me.organisation,
            "role": me.role,
            "fingerprint": format_fingerprint(me.fingerprint),
            "protection": me.keys.protection,
            "age_recipient": me.age_recipient,
            "rotations": len(me.statements),
        }
    if args.json:
        _print_json(data)
    else:
        for key in (
            "name",
            "organisation",
            "role",
            "fingerprint",
            "protection",
            "age_recipient",
            "rotations",
        ):
            value = data[key]
            print(f"{key.replace('_', ' ') + ':':15}{'-' if value in ('', None) else value}")
    return EXIT_OK


def cmd_identity_rename(args: argparse.Namespace) -> int:
    with _session(args) as session:
        me = session.set_name(args.name, args.organisation)
    print(f"Your card will show: {me.name}" + (f", {me.organisation}" if me.organisation else ""))
    return EXIT_OK


def cmd_identity_rotate(args: argparse.Namespace) -> int:
    from securesubmit.core import fs

    with _session(args) as session:
        if Path(args.out).exists():
            raise Refused(f"{args.out} already exists; refusing to overwrite it")
        statement = session.rotate_identity()
        fs.write_file_atomic(Path(args.out), statement.to_text())
        card = session.own_card()
    print(f"New keys made. Your fingerprint is now {card.keys.display()}.", file=sys.stderr)
    print(
        f"Give {args.out} to your partners (it is also sent with your next bundles), "
        "and a new card: securesubmit card export",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_identity_upgrade(args: argparse.Namespace) -> int:
    from securesubmit.core import fs

    with _session(args) as session:
        if Path(args.out).exists():
            raise Refused(f"{args.out} already exists; refusing to overwrite it")
        statement = session.upgrade_identity()
        fs.write_file_atomic(Path(args.out), statement.to_text())
        card = session.own_card()
    print(
        f"Post-quantum keys added ({card.protection}). "
        f"Your fingerprint is now {card.keys.display()}.",
        file=sys.stderr,
    )
    print(
        f"Give {args.out} to your partners (it is also sent with your next bundles), "
        "and a new card: securesubmit card export",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_identity_revoke(args: argparse.Namespace) -> int:
    from securesubmit.core import fs

    with _session(args) as session:
        statement = session.make_revocation(args.reason or "")
        fs.write_file_atomic(Path(args.out), statement.to_text())
    print(
        f"Wrote a revocation of your current keys to {args.out}. Keep it offline; if this "
        "device is lost, send it to your partners: they will refuse anything signed with "
        "these keys from that moment on.",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_card_export(args: argparse.Namespace) -> int:
    from securesubmit.core import fs

    with _session(args) as session:
        card = session.own_card(args.valid_days, require_hybrid=args.require_hybrid)
    if args.out:
        fs.write_file_atomic(Path(args.out), card.to_text())
        print(f"Wrote your card to {args.out}", file=sys.stderr)
        print(f"fingerprint: {card.keys.display()}", file=sys.stderr)
    else:
        sys.stdout.write(card.to_text().decode("utf-8"))
    return EXIT_OK


def cmd_card_show(args: argparse.Namespace) -> int:
    card = _read_card(args.file)
    if args.json:
        _print_json(_card_json(card))
    else:
        print("\n".join(_card_lines(card)))
    return EXIT_OK


def _confirm_fingerprint(args: argparse.Namespace, card: Any) -> str:
    """How the user checked the card's fingerprint; refuses when they did not."""
    from securesubmit.core.identity import check_fingerprint
    from securesubmit.core.partners import VERIFIED_CONFIRMED, VERIFIED_TYPED

    if args.fingerprint:
        check_fingerprint(card.fingerprint, args.fingerprint)
        return VERIFIED_TYPED
    if args.yes:
        return VERIFIED_CONFIRMED
    if not sys.stdin.isatty():
        raise Refused(
            "the card's fingerprint was not confirmed; nothing was added",
            hint="compare it with the partner, then pass --fingerprint 'XXXX XXXX …' (or --yes)",
        )
    print("\n".join(_card_lines(card)), file=sys.stderr)
    print(
        "Compare the fingerprint with the partner by phone or in person.\n"
        "Type the fingerprint they read to you, or 'yes' if you compared it: ",
        end="",
        file=sys.stderr,
    )
    answer = input().strip()
    if answer.lower() == "yes":
        return VERIFIED_CONFIRMED
    if not answer:
        raise Refused("not confirmed; nothing was added")
    check_fingerprint(card.fingerprint, answer)
    return VERIFIED_TYPED


def cmd_partners_add(args: argparse.Namespace) -> int:
    card = _read_card(args.card)
    with _session(args) as session:
        how = _confirm_fingerprint(args, card)
        partner = session.add_partner(card, verified=how)
        now = session.clock()
    print(f"Added {partner.name} ({partner.display_fingerprint}).", file=sys.stderr)
    if partner.test_only:
        print(
            "warning: this is the TEST-ONLY example card; nothing can be sealed to it.",
            file=sys.stderr,
        )
    if args.json:
        _print_json(_partner_json(partner, now))
    return EXIT_OK


def cmd_partners_list(args: argparse.Namespace) -> int:
    with _session(args) as session:
        partners = session.list_partners()
        now = session.clock()
    if args.json:
        _print_json([_partner_json(p, now) for p in partners])
        return EXIT_OK
    if not partners:
        print(
            "No partners yet. Add one with: securesubmit partners add CARD "
            "(or: securesubmit partners trust-store import)",
            file=sys.stderr,
        )
        return EXIT_OK
    print(f"{'NAME':30}  {'STATUS':9}  {'FINGERPRINT':39}  PROTECTION")
    for p in partners:
        print(
            f"{p.name[:30]:30}  {p.status(now):9}  {p.display_fingerprint}  {p.protection}"
            + (", requires hybrid" if p.requires_hybrid else "")
        )
    return EXIT_OK


def cmd_partners_show(args: argparse.Namespace) -> int:
    with _session(args) as session:
        partner = session.get_partner(args.partner)
        now = session.clock()
    data = _partner_json(partner, now)
    if args.json:
        _print_json(data)
        return EXIT_OK
    print("\n".join(_card_lines(partner.card)))
    if partner.rotations:
        print(
            f"current keys:  {partner.display_fingerprint} (after {partner.rotations} rotation(s))"
        )
        print(f"protection:    {partner.protection} (current keys)")
    print(f"status:        {data['status']}")
    print(f"checked by:    {data['verified']}")
    print(f"age recipient: {data['age_recipient']}")
    if partner.keys.pq_recipient:
        print(f"pq recipient:  {partner.keys.pq_recipient[:24]}… (age1pq, ML-KEM-768 + X25519)")
    return EXIT_OK


def cmd_partners_remove(args: argparse.Namespace) -> int:
    with _session(args) as session:
        partner = session.get_partner(args.partner)
        _confirm(args, f"Remove partner {partner.name}?", "remove")
        session.remove_partner(partner.id)
    print(f"Removed {partner.name}.", file=sys.stderr)
    return EXIT_OK


def cmd_partners_statement(args: argparse.Namespace) -> int:
    statement = _read_statement(args.file)
    with _session(args) as session:
        partner = session.apply_statement(statement)
        now = session.clock()
    print(f"{partner.name}: now {partner.status(now)}, keys {partner.display_fingerprint}")
    return EXIT_OK


def _trust_store_dir(args: argparse.Namespace) -> Path:
    if args.dir:
        return Path(args.dir)
    env = os.environ.get("SECURESUBMIT_KEYS_DIR")
    if env:
        return Path(env)
    shipped = Path(__file__).resolve().parents[1] / "keys"
    if (shipped / "MANIFEST").is_file():
        return shipped
    raise NotFound(
        "no trust store found", hint="give the folder that holds MANIFEST and the .card files"
    )


def cmd_trust_store_list(args: argparse.Namespace) -> int:
    from securesubmit.core.partners import read_trust_store

    entries = read_trust_store(_trust_store_dir(args))
    if args.json:
        _print_json(
            [
                {
                    "file": e.filename,
                    "fingerprint": e.fingerprint,
                    "problem": e.problem,
                    "name": e.card.name if e.card else None,
                }
                for e in entries
            ]
        )
        return EXIT_OK
    for e in entries:
        name = e.card.name if e.card else "?"
        print(
            f"{e.fingerprint}  {e.filename:28} {name}"
            + (f"  PROBLEM: {e.problem}" if e.problem else "")
        )
    return EXIT_OK


def cmd_trust_store_import(args: argparse.Namespace) -> int:
    from securesubmit.core.partners import VERIFIED_TRUST_STORE, read_trust_store

    directory = _trust_store_dir(args)
    entries = read_trust_store(directory)
    added = refused = 0
    with _session(args) as session:
        for entry in entries:
            if entry.problem or entry.card is None:
                print(f"refused {entry.filename}: {entry.problem}", file=sys.stderr)
                refused += 1
                continue
            if not args.yes:
                if not sys.stdin.isatty():
                    raise Refused(
                        "importing the trust store needs a confirmation for each card",
                        hint="compare the fingerprints, then add --yes in a script",
                    )
                print("\n".join(_card_lines(entry.card)), file=sys.stderr)
                if input("Add this partner? [y/N] ").strip().lower() not in ("y", "yes"):
                    continue
            try:
                partner = session.add_partner(entry.card, verified=VERIFIED_TRUST_STORE)
            except Refused as exc:
                print(f"skipped {entry.filename}: {exc}", file=sys.stderr)
                continue
            added += 1
            note = "  (TEST ONLY: cannot be sealed to)" if partner.test_only else ""
            print(f"added {partner.name}  {partner.display_fingerprint}{note}", file=sys.stderr)
    print(f"{added} partner(s) added from {directory}, {refused} refused.", file=sys.stderr)
    return EXIT_OK if not refused else 1


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from securesubmit.core.fs import read_limited
    from securesubmit.core.service import verify_audit

    path = Path(args.file).expanduser() if args.file else _vault_path(args)
    against = [read_limited(Path(f), 64 * 1024, "the checkpoint file") for f in args.against or []]
    try:
        result = verify_audit(path, against)
    except SecureSubmitError as exc:
        problems = getattr(exc, "problems", None)
        if args.json and problems is not None:
            _print_json({"intact": False, "problems": problems})
        elif problems is not None:
            for problem in problems:
                print(f"problem: {problem}")
        raise
    if args.json:
        _print_json(
            {
                "intact": True,
                "events": result.events,
                "tree_head": result.root.hex(),
                "log_key": result.log_key.hex(),
                "log_key_id": result.log_key_id,
                "checked_against": result.checked_against,
            }
        )
    else:
        print(result.summary())
    return EXIT_OK


def cmd_audit_log(args: argparse.Namespace) -> int:
    with _session(args) as session:
        events = session.audit_log()
    if args.json:
        _print_json(events)
        return EXIT_OK
    for event in events:
        details = ", ".join(f"{k}={v}" for k, v in sorted(event.get("details", {}).items()))
        print(f"{event['seq']:>6}  {event['time']}  {event['type']:24} {details}")
    return EXIT_OK


def cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    with _session(args) as session:
        checkpoint = session.export_checkpoint(Path(args.out))
    print(f"Wrote the vault's signed checkpoint to {args.out}", file=sys.stderr)
    print(checkpoint.decode("utf-8").split("\n")[1] + " events")
    return EXIT_OK


def cmd_panic(args: argparse.Namespace) -> int:
    from securesubmit.core.service import panic

    path = _vault_path(args)
    if not path.exists():
        raise NotFound(f"no vault at {path}")
    _confirm(args, f"Destroy the vault at {path}? It can never be opened again.", "destroy")
    panic(path)
    print("The vault's keys were destroyed and its file removed.", file=sys.stderr)
    return EXIT_OK


def cmd_app(args: argparse.Namespace) -> int:
    try:
        from securesubmit.tui.app import run_app  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        print("The terminal app is not part of this version yet. Try:", file=sys.stderr)
        print("  securesubmit init          create a vault", file=sys.stderr)
        print("  securesubmit report new   write a report", file=sys.stderr)
        print("  securesubmit --help       everything else", file=sys.stderr)
        return EXIT_OK
    return int(run_app(_vault_path(args), language=args.lang))


# --- parser ---------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        print(f"hint: run '{self.prog} --help' to see how it is used", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _common(json_output: bool = False) -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--vault",
        metavar="PATH",
        help="vault file (default: $SECURESUBMIT_VAULT or the user data folder)",
    )
    common.add_argument(
        "--passphrase-fd",
        type=int,
        metavar="N",
        help="read the passphrase from file descriptor N (for scripts)",
    )
    if json_output:
        common.add_argument("--json", action="store_true", help="print machine-readable JSON")
    return common


def _report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--title")
    parser.add_argument("--template", help="press-freedom, repression or environment-info")
    parser.add_argument("--category", help="media, repression, environment or other")
    parser.add_argument("--date", help="incident date: YYYY, YYYY-MM or YYYY-MM-DD")
    parser.add_argument(
        "--approximate",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the date is approximate",
    )
    parser.add_argument("--country", help="KZ, KG, TJ, TM, UZ or other")
    parser.add_argument("--place")
    parser.add_argument("--description")
    parser.add_argument("--description-file", metavar="FILE")
    parser.add_argument(
        "--person",
        action="append",
        metavar="NAME[;ROLE][;sensitive][;org]",
        help="a person or organisation involved (repeatable)",
    )
    parser.add_argument("--source", action="append", help="a source (repeatable)")
    parser.add_argument("--tag", action="append", help="a tag (repeatable)")
    parser.add_argument(
        "--field", action="append", metavar="KEY=VALUE", help="a template field (repeatable)"
    )
    parser.add_argument(
        "--language", help="language of the report: en, ru, kk, ky, tg, tk, uz, other"
    )
    parser.add_argument(
        "--from-json", metavar="FILE", help="read the fields from a JSON object ('-' for stdin)"
    )


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="securesubmit",
        description="Document incidents offline and deliver them, sealed, to trusted partners.\n"
        "Run without a command to start the terminal app.",
        epilog="example:\n  securesubmit init --name 'Aigerim'\n"
        "  securesubmit report new --template repression",
        formatter_class=fmt,
    )
    parser.add_argument("--version", action="version", version=f"securesubmit {__version__}")
    parser.add_argument(
        "--vault",
        dest="vault_global",
        metavar="PATH",
        help="vault file (also accepted after the command)",
    )
    parser.add_argument("--lang", help="language of the app: en, ru or kk (partial)")
    parser.set_defaults(handler=cmd_app)
    nouns = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    def leaf(
        sub: Any,
        name: str,
        handler: Handler,
        help_text: str,
        example: str,
        json_output: bool = False,
    ) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=f"example:\n  {example}",
            parents=[_common(json_output)],
            formatter_class=fmt,
        )
        p.set_defaults(handler=handler)
        return p

    p = leaf(
        nouns,
        "init",
        cmd_init,
        "create a new vault",
        "securesubmit init --name 'Aigerim' --role reporter",
        json_output=True,
    )
    p.add_argument("--name", help="your name or pseudonym, as partners will see it")
    p.add_argument("--organisation", help="your organisation (optional)")
    p.add_argument("--role", choices=("reporter", "coordinator"), default="reporter")
    keys = p.add_mutually_exclusive_group()
    keys.add_argument(
        "--post-quantum",
        action="store_true",
        help="hybrid keys (ML-KEM-768 + X25519, ML-DSA-65 + Ed25519); the default",
    )
    keys.add_argument(
        "--classical",
        action="store_true",
        help="classical keys only (X25519, Ed25519), for partners whose software cannot "
        "read hybrid cards yet; upgrade later with: identity upgrade",
    )
    p.add_argument(
        "--max-failed-unlocks",
        type=int,
        default=10,
        metavar="N",
        help="destroy the keys after N wrong passphrases in a row (default 10)",
    )
    p.add_argument("--kdf-memory-mib", type=int, help=argparse.SUPPRESS)
    p.add_argument("--kdf-iterations", type=int, help=argparse.SUPPRESS)

    vault = nouns.add_parser("vault", help="the vault file", description="the vault file")
    vault_verbs = vault.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=_Parser, required=True
    )
    p = leaf(
        vault_verbs,
        "info",
        cmd_vault_info,
        "show what the vault file reveals (and more with --unlock)",
        "securesubmit vault info --unlock",
        json_output=True,
    )
    p.add_argument("--unlock", action="store_true", help="also show what needs the passphrase")

    pw = nouns.add_parser(
        "passphrase", help="the vault passphrase", description="the vault passphrase"
    )
    pw_verbs = pw.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=_Parser, required=True
    )
    p = leaf(
        pw_verbs,
        "change",
        cmd_passphrase_change,
        "change the passphrase (only the key slot is rewritten)",
        "securesubmit passphrase change",
    )
    p.add_argument(
        "--new-passphrase-fd",
        type=int,
        metavar="N",
        help="read the new passphrase from file descriptor N",
    )
    p.add_argument("--kdf-memory-mib", type=int, help=argparse.SUPPRESS)
    p.add_argument("--kdf-iterations", type=int, help=argparse.SUPPRESS)

    report = nouns.add_parser("report", help="incident reports", description="incident reports")
    report_verbs = report.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=_Parser, required=True
    )
    p = leaf(
        report_verbs,
        "new",
        cmd_report_new,
        "write a new draft report",
        "securesubmit report new --template press-freedom --title 'Site blocked' --country KZ",
        json_output=True,
    )
    _report_options(p)
    p = leaf(
        report_verbs,
        "edit",
        cmd_report_edit,
        "change a draft report",
        "securesubmit report edit 3fa2 --place 'Khujand'",
        json_output=True,
    )
    p.add_argument("id", help="report id (or its first characters)")
    _report_options(p)
    leaf(
        report_verbs,
        "list",
        cmd_report_list,
        "list reports",
        "securesubmit report list --json",
        json_output=True,
    )
    p = leaf(
        report_verbs,
        "show",
        cmd_report_show,
        "show one report",
        "securesubmit report show 3fa2",
        json_output=True,
    )
    p.add_argument("id", help="report id (or its first characters)")
    p = leaf(
        report_verbs,
        "delete",
        cmd_report_delete,
        "delete a draft for good",
        "securesubmit report delete 3fa2 --yes",
    )
    p.add_argument("id", help="report id (or its first characters)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p = leaf(
        report_verbs,
        "attach",
        cmd_report_attach,
        "attach files to a draft (stored encrypted in the vault)",
        "securesubmit report attach 3fa2 photo.jpg statement.pdf",
        json_output=True,
    )
    p.add_argument("id", help="report id (or its first characters)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--keep-original",
        action="store_true",
        help="also keep the untouched file, with its metadata, as evidence",
    )
    p.add_argument(
        "--no-scrub", action="store_true", help="store the file exactly as it is (not advised)"
    )
    p = leaf(
        report_verbs,
        "seal",
        cmd_report_seal,
        "seal a finished report to partners (the draft is destroyed)",
        "securesubmit report seal 3fa2 --to 'Free Press Org'",
        json_output=True,
    )
    p.add_argument("id", help="report id (or its first characters)")
    p.add_argument("--to", action="append", metavar="PARTNER", help="a partner (repeatable)")
    p.add_argument(
        "--keep-readable", action="store_true", help="also seal to yourself, to read it later"
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    att = report_verbs.add_parser(
        "attachment", help="a report's attachments", description="a report's attachments"
    )
    att_verbs = att.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=_Parser, required=True
    )
    p = leaf(
        att_verbs,
        "list",
        cmd_attachment_list,
        "list a report's attachments",
        "securesubmit report attachment list 3fa2",
        json_output=True,
    )
    p.add_argument("id", help="report id (or its first characters)")
    p = leaf(
        att_verbs,
        "save",
        cmd_attachment_save,
        "write an attachment back out as a plain file (never overwrites)",
        "securesubmit report attachment save 3fa2 photo.jpg --out /media/usb/",
    )
    p.add_argument("id", help="report id (or its first characters)")
    p.add_argument("attachment", help="attachment id or file name")
    p.add_argument("--out", required=True, metavar="PATH", help="a new file, or a folder")
    p = leaf(
        att_verbs,
        "remove",
        cmd_attachment_remove,
        "remove an attachment from a draft",
        "securesubmit report attachment remove 3fa2 photo.jpg --yes",
    )
    p.add_argument("id", help="report id (or its first characters)")
    p.add_argument("attachment", help="attachment id or file name")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    leaf(
        report_verbs,
        "templates",
        cmd_report_templates,
        "list the report templates and their fields",
        "securesubmit report templates",
        json_output=True,
    )

    p = leaf(
        nouns,
        "export",
        cmd_export,
        "write sealed reports into a bundle for one partner",
        "securesubmit export --to 'Free Press Org' --out /media/usb/bundle.ssb",
        json_output=True,
    )
    p.add_argument("--to", required=True, metavar="PARTNER")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument(
        "--reports", nargs="+", metavar="ID", help="these sealed reports (default: all unsent)"
    )
    p.add_argument(
        "--all-unsent", action="store_true", help="every report not yet sent to them (default)"
    )
    p.add_argument(
        "--delete-after-export",
        action="store_true",
        help="remove the sealed copies after writing the bundle (receipts are kept)",
    )
    p = leaf(
        nouns,
        "stats",
        cmd_stats,
        "statistics of the inbox",
        "securesubmit stats --country KZ",
        json_output=True,
    )
    p.add_argument("--sender")
    p.add_argument("--category")
    p.add_argument("--country")
    p.add_argument("--from", dest="date_from", metavar="DATE")
    p.add_argument("--to", dest="date_to", metavar="DATE")
    p.add_argument("--tag")
    p.add_argument("--status")
    p.add_argument("--with-warnings", action="store_true")
    p = leaf(
        nouns,
        "import",
        cmd_import,
        "verify bundles and add their reports to your inbox",
        "securesubmit import /media/usb/bundle.ssb",
        json_output=True,
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    inbox = nouns.add_parser("inbox", help="reports you received", description="your inbox")
    inbox_verbs = inbox.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=_Parser, required=True
    )

    def filters(p: argparse.ArgumentParser) -> None:
        p.add_argument("--sender", help="name or the start of the fingerprint")
        p.add_argument("--category")
        p.add_argument("--country")
        p.add_argument("--from", dest="date_from", metavar="DATE", help="YYYY[-MM[-DD]]")
        p.add_argument("--to", dest="date_to", metavar="DATE", help="YYYY[-MM[-DD]]")
        p.add_argument("--tag")
        p.add_argument("--status", help="new, reviewed, flagged, verified or published")
        p.add_argument("--with-warnings", action="store_true")

    p = leaf(
        inbox_verbs,
        "list",
        cmd_inbox_list,
        "list, filter and search received reports",
        "securesubmit inbox list --country TJ --search 'water \"ministry of energy\"'",
        json_output=True,
    )
    filters(p)
    p.add_argument("--search", metavar="WORDS", help="all words must match; quote phrases")
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--per-page", type=int, default=50)
    for verb, help_text, example, value_help in (
        (
            "status",
            "set a report's review status",
            "securesubmit inbox status 7d2c verified",
            "new, reviewed, flagged, verified or published",
        ),
        ("tag", "add (or --remove) a tag", "securesubmit inbox tag 7d2c water", "the tag"),
        (
            "note",
            "add a note to a report",
            "securesubmit inbox note 7d2c 'called the source'",
            "the note",
        ),
        (
            "duplicate",
            "mark two reports as the same incident",
            "securesubmit inbox duplicate 7d2c 91ab",
            "the other report's id",
        ),
    ):
        p = leaf(inbox_verbs, verb, cmd_inbox_annotate, help_text, example)
        p.set_defaults(verb=verb)
        p.add_argument("id")
        p.add_argument("value", help=value_help)
        if verb == "tag":
            p.add_argument("--remove", action="store_true")
    p = leaf(
        inbox_verbs,
        "export",
        cmd_inbox_export,
        "export reports for analysis (CSV, JSON lines, Uwazi) - PLAINTEXT files",
        "securesubmit inbox export --format uwazi --out ./export --redact-sensitive",
    )
    filters(p)
    p.add_argument("--format", required=True, choices=("csv", "json", "uwazi"))
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--redact-sensitive", action="store_true", help="remove people marked sensitive")
    p.add_argument("--include-notes", action="store_true")
    p = leaf(
        inbox_verbs,
        "show",
        cmd_inbox_show,
        "show a received report with its provenance",
        "securesubmit inbox show 7d2c",
        json_output=True,
    )
    p.add_argument("id")
    p = leaf(
        inbox_verbs,
        "save-attachment",
        cmd_inbox_save,
        "write a received attachment out as a plain file",
        "securesubmit inbox save-attachment 7d2c photo.jpg --out ./evidence/",
    )
    p.add_argument("id")
    p.add_argument("attachment", help="the attachment's file name")
    p.add_argument("--out", required=True, metavar="PATH")

    sealed = nouns.add_parser(
        "sealed", help="sealed reports and their receipts", description="sealed reports"
    )
    sealed_verbs = sealed.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=_Parser, required=True
    )
    leaf(
        sealed_verbs,
        "list",
        cmd_sealed_list,
        "list sealed reports (receipts only)",
        "securesubmit sealed list",
        json_output=True,
    )
    p = leaf(
        sealed_verbs,
        "show",
        cmd_sealed_show,
        "show a sealed report's receipt",
        "securesubmit sealed show 9c1e",
        json_output=True,
    )
    p.add_argument("id", help="receipt or report id (first characters)")
    p = leaf(
        sealed_verbs,
        "export-file",
        cmd_sealed_export_file,
        "write one sealed report as a standalone age file",
        "securesubmit sealed export-file 9c1e --out report.age",
    )
    p.add_argument("id", help="receipt or report id (first characters)")
    p.add_argument("--out", required=True, metavar="FILE")
    p = leaf(
        sealed_verbs,
        "open",
        cmd_sealed_open,
        "open and verify a sealed report addressed to you",
        "securesubmit sealed open report.age --save-attachments ./evidence",
        json_output=True,
    )
    p.add_argument("file")
    p.add_argument(
        "--save-attachments", metavar="DIR", help="save the attachments here (NOT encrypted)"
    )

    ident = nouns.add_parser("identity", help="your own keys", description="your own keys")
    ident_verbs = ident.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=_Parser, required=True
    )
    leaf(
        ident_verbs,
        "show",
        cmd_identity_show,
        "show your name, fingerprint and age recipient",
        "securesubmit identity show",
        json_output=True,
    )
    p = leaf(
        ident_verbs,
        "rename",
        cmd_identity_rename,
        "change the name your card shows",
        "securesubmit identity rename --name 'Aigerim S.' --organisation 'Free Press KZ'",
    )
    p.add_argument("--name", required=True)
    p.add_argument("--organisation")
    p = leaf(
        ident_verbs,
        "rotate",
        cmd_identity_rotate,
        "make new keys and a statement, signed by old and new keys, for your partners",
        "securesubmit identity rotate --out rotation.txt",
    )
    p.add_argument("--out", required=True, metavar="FILE")
    p = leaf(
        ident_verbs,
        "upgrade",
        cmd_identity_upgrade,
        "add post-quantum keys (ML-KEM-768, ML-DSA-65): new keys and a signed statement",
        "securesubmit identity upgrade --out upgrade.txt",
    )
    p.add_argument("--out", required=True, metavar="FILE")
    p = leaf(
        ident_verbs,
        "revoke",
        cmd_identity_revoke,
        "prepare a revocation of your current keys, to keep offline",
        "securesubmit identity revoke --out revocation.txt --reason 'device lost'",
    )
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--reason")

    card = nouns.add_parser("card", help="identity cards", description="identity cards")
    card_verbs = card.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=_Parser, required=True
    )
    p = leaf(
        card_verbs,
        "export",
        cmd_card_export,
        "write your identity card for partners",
        "securesubmit card export --out my.card",
    )
    p.add_argument("--out", metavar="FILE", help="file to write (default: print it)")
    p.add_argument("--valid-days", type=int, default=730, metavar="N")
    p.add_argument(
        "--require-hybrid",
        action="store_true",
        help="ask partners to seal to you only with your post-quantum (age1pq) recipient",
    )
    p = leaf(
        card_verbs,
        "show",
        cmd_card_show,
        "check a card file and show its fingerprint",
        "securesubmit card show partner.card",
        json_output=True,
    )
    p.add_argument("file")

    partners = nouns.add_parser(
        "partners",
        help="the partners you seal reports to",
        description="the partners you seal reports to",
    )
    partner_verbs = partners.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=_Parser, required=True
    )
    leaf(
        partner_verbs,
        "list",
        cmd_partners_list,
        "list your partners",
        "securesubmit partners list",
        json_output=True,
    )
    p = leaf(
        partner_verbs,
        "add",
        cmd_partners_add,
        "add a partner from their identity card",
        "securesubmit partners add org.card --fingerprint '3AYH 5HFZ KS4Z 2MET …'",
        json_output=True,
    )
    p.add_argument("card", help="the card file")
    p.add_argument("--fingerprint", help="the fingerprint the partner read to you")
    p.add_argument("--yes", action="store_true", help="you compared the fingerprint already")
    p = leaf(
        partner_verbs,
        "show",
        cmd_partners_show,
        "show a partner",
        "securesubmit partners show 'Free Press Org'",
        json_output=True,
    )
    p.add_argument("partner", help="name or the start of the fingerprint")
    p = leaf(
        partner_verbs,
        "remove",
        cmd_partners_remove,
        "remove a partner",
        "securesubmit partners remove 3AYH --yes",
    )
    p.add_argument("partner", help="name or the start of the fingerprint")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p = leaf(
        partner_verbs,
        "statement",
        cmd_partners_statement,
        "apply a partner's rotation or revocation statement",
        "securesubmit partners statement rotation.txt",
    )
    p.add_argument("file")
    store = partner_verbs.add_parser(
        "trust-store",
        help="the shipped partner cards (keys/)",
        description="the shipped partner cards (keys/)",
    )
    store_verbs = store.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=_Parser, required=True
    )
    p = leaf(
        store_verbs,
        "list",
        cmd_trust_store_list,
        "list the cards in the trust store",
        "securesubmit partners trust-store list",
        json_output=True,
    )
    p.add_argument("dir", nargs="?", help="trust store folder (default: the shipped keys/)")
    p = leaf(
        store_verbs,
        "import",
        cmd_trust_store_import,
        "add the trust store's cards as partners, after you confirm each",
        "securesubmit partners trust-store import --yes",
    )
    p.add_argument("dir", nargs="?", help="trust store folder (default: the shipped keys/)")
    p.add_argument("--yes", action="store_true", help="you compared the fingerprints already")

    audit = nouns.add_parser("audit", help="tamper-evident history", description="audit log")
    audit_verbs = audit.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=_Parser, required=True
    )
    p = leaf(
        audit_verbs,
        "verify",
        cmd_audit_verify,
        "check a vault against its signed log (no passphrase needed)",
        "securesubmit audit verify vault.db --against partner-checkpoint.txt",
        json_output=True,
    )
    p.add_argument("file", nargs="?", help="vault file to check (default: your vault)")
    p.add_argument(
        "--against", action="append", metavar="CHECKPOINT", help="a checkpoint kept elsewhere"
    )
    leaf(
        audit_verbs,
        "log",
        cmd_audit_log,
        "show the readable history of the vault (needs the passphrase)",
        "securesubmit audit log --json",
        json_output=True,
    )
    p = leaf(
        audit_verbs,
        "checkpoint",
        cmd_audit_checkpoint,
        "write the latest signed checkpoint to a file, for someone to keep",
        "securesubmit audit checkpoint --out checkpoint-2026-11.txt",
    )
    p.add_argument("--out", required=True, metavar="FILE")

    p = leaf(
        nouns,
        "panic",
        cmd_panic,
        "destroy the vault's keys at once, then remove it",
        "securesubmit panic --yes",
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


# --- entry point ------------------------------------------------------------------------------


def _report_bug(exc: BaseException) -> None:
    """A bug: show where it happened, but not the message or any values (they may hold secrets)."""
    print("error: an internal error occurred (this is a bug in SecureSubmit)", file=sys.stderr)
    print(
        "hint: please report it with the lines below; they contain no vault data", file=sys.stderr
    )
    print("Traceback (most recent call last):", file=sys.stderr)
    for frame in traceback.extract_tb(exc.__traceback__):
        print(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}', file=sys.stderr)
    print(f"{type(exc).__module__}.{type(exc).__qualname__}: <message withheld>", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(0o077)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        args.vault = getattr(args, "vault", None) or args.vault_global
        code: int = args.handler(args)
        return code
    except SecureSubmitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("\nerror: interrupted; nothing more was changed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except sqlite3.DatabaseError:
        print("error: the vault file is damaged: SQLite could not read part of it", file=sys.stderr)
        print(
            "hint: restore it from a backup; 'securesubmit audit verify' says more", file=sys.stderr
        )
        return EXIT_UNREADABLE
    except Exception as exc:  # a bug: traceback without secrets
        _report_bug(exc)
        return 70


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
