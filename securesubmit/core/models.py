"""Plain data: incident reports, their templates and their validation.

Reports are stored in the vault as JSON records (``to_record``/``from_record``); nothing
here touches storage or cryptography.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from securesubmit.errors import InputError

CATEGORIES: dict[str, str] = {
    "media": "Media restriction",
    "repression": "Repression of critics or civil society",
    "environment": "Environmental information denied",
    "other": "Other",
}

COUNTRIES: dict[str, str] = {
    "KZ": "Kazakhstan",
    "KG": "Kyrgyzstan",
    "TJ": "Tajikistan",
    "TM": "Turkmenistan",
    "UZ": "Uzbekistan",
    "other": "Other / outside Central Asia",
}

LANGUAGES = ("en", "ru", "kk", "ky", "tg", "tk", "uz", "other")

MAX_TITLE = 300
MAX_SHORT = 500
MAX_TEXT = 200_000
MAX_ITEMS = 200

_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True)
class TemplateField:
    key: str
    label: str
    help: str = ""
    required: bool = False


@dataclass(frozen=True)
class Template:
    id: str
    category: str
    title: str
    description: str
    fields: tuple[TemplateField, ...]


TEMPLATES: dict[str, Template] = {
    t.id: t
    for t in (
        Template(
            id="press-freedom",
            category="media",
            title="Press freedom incident",
            description="A blocked outlet, a detained journalist, pressure on a blogger.",
            fields=(
                TemplateField("outlet", "Media outlet or channel", "name, website or account"),
                TemplateField(
                    "restriction",
                    "Kind of restriction",
                    "blocking, detention, assault, accreditation refused, lawsuit, threat …",
                    required=True,
                ),
                TemplateField("responsible", "Who is responsible", "authority, agency or person"),
                TemplateField("consequence", "What happened since", "outlet closed, fine, release"),
            ),
        ),
        Template(
            id="repression",
            category="repression",
            title="Repression or persecution case",
            description="Arrests, bans on assembly or association, persecution of critics.",
            fields=(
                TemplateField("action", "What was done", "arrest, search, ban, charge …", True),
                TemplateField("charges", "Charges or legal basis used", "article of the code"),
                TemplateField("authority", "Authority acting", "police, prosecutor, court …"),
                TemplateField("case_number", "Case number", "if known"),
                TemplateField("case_status", "Status of the case", "investigation, trial …"),
            ),
        ),
        Template(
            id="environment-info",
            category="environment",
            title="Environmental information request denied",
            description="Water, glaciers, uranium tailings, industrial pollution: access denied.",
            fields=(
                TemplateField("requested", "What was requested", "", required=True),
                TemplateField("requested_from", "From whom", "agency or company", True),
                TemplateField("request_date", "When it was requested", "YYYY-MM-DD"),
                TemplateField("legal_basis", "Legal basis", "e.g. Aarhus Convention, art. 4"),
                TemplateField("answer", "Answer received", "refusal, silence, partial answer"),
                TemplateField("answer_date", "When the answer came", "YYYY-MM-DD"),
            ),
        ),
    )
}


@dataclass
class Person:
    """A person or organisation involved. ``sensitive`` ones are redacted on request."""

    name: str
    role: str = ""
    sensitive: bool = False
    organisation: bool = False


@dataclass
class Report:
    id: str
    title: str
    category: str
    created: str
    updated: str
    template: str = ""
    incident_date: str = ""
    date_approximate: bool = False
    country: str = ""
    place: str = ""
    people: list[Person] = field(default_factory=list)
    description: str = ""
    sources: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    language: str = "en"
    fields: dict[str, str] = field(default_factory=dict)
    status: str = "draft"

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record.pop("id")
        record["kind"] = "report"
        record["schema"] = 1
        return record

    @classmethod
    def from_record(cls, report_id: str, record: dict[str, Any]) -> Report:
        data = {k: v for k, v in record.items() if k not in ("kind", "schema")}
        data["people"] = [Person(**p) for p in data.get("people", [])]
        return cls(id=report_id, **data)


EDITABLE = (
    "title",
    "category",
    "template",
    "incident_date",
    "date_approximate",
    "country",
    "place",
    "people",
    "description",
    "sources",
    "tags",
    "language",
    "fields",
)


def now_iso(clock_value: datetime) -> str:
    return clock_value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_person(text: str) -> Person:
    """``name[;role][;sensitive][;organisation]`` as typed on the command line."""
    parts = [p.strip() for p in text.split(";")]
    name, rest = parts[0], parts[1:]
    flags = {p.lower() for p in rest if p.lower() in ("sensitive", "organisation", "org")}
    roles = [p for p in rest if p.lower() not in ("sensitive", "organisation", "org")]
    return Person(
        name=name,
        role=roles[0] if roles else "",
        sensitive="sensitive" in flags,
        organisation=bool(flags & {"organisation", "org"}),
    )


def _text(name: str, value: Any, limit: int, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise InputError(f"{name} must be text")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise InputError(f"{name} contains control characters")
    if required and not value.strip():
        raise InputError(f"{name} is required", hint=f"give a {name}")
    if len(value) > limit:
        raise InputError(f"{name} is too long ({len(value)} characters, at most {limit})")
    return value


def check_date(name: str, value: str) -> None:
    """A date may be approximate: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``."""
    if not value:
        return
    match = _DATE_RE.match(value)
    if not match:
        raise InputError(
            f"{name} must be YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}",
            hint="for an approximate date give only the year or the month",
        )
    year, month, day = match.groups()
    try:
        datetime(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise InputError(f"{name} is not a real date: {value!r}") from None


def validate(report: Report) -> None:
    """Raise InputError naming the first field that is not valid."""
    _text("title", report.title, MAX_TITLE, required=True)
    if not report.category:
        raise InputError(
            "a report needs a category", hint="choose one of: " + ", ".join(CATEGORIES)
        )
    if report.category not in CATEGORIES:
        raise InputError(
            f"unknown category {report.category!r}",
            hint="choose one of: " + ", ".join(CATEGORIES),
        )
    if report.template and report.template not in TEMPLATES:
        raise InputError(
            f"unknown template {report.template!r}", hint="choose one of: " + ", ".join(TEMPLATES)
        )
    check_date("incident date", report.incident_date)
    if report.country and report.country not in COUNTRIES:
        raise InputError(
            f"unknown country {report.country!r}", hint="choose one of: " + ", ".join(COUNTRIES)
        )
    if report.language not in LANGUAGES:
        raise InputError(
            f"unknown language {report.language!r}", hint="choose one of: " + ", ".join(LANGUAGES)
        )
    _text("place", report.place, MAX_SHORT)
    _text("description", report.description, MAX_TEXT)
    for label, items in (
        ("people", report.people),
        ("sources", report.sources),
        ("tags", report.tags),
    ):
        if len(items) > MAX_ITEMS:
            raise InputError(f"too many {label} (at most {MAX_ITEMS})")
    for person in report.people:
        _text("person name", person.name, MAX_SHORT, required=True)
        _text("person role", person.role, MAX_SHORT)
    for source in report.sources:
        _text("source", source, MAX_SHORT * 4, required=True)
    for tag in report.tags:
        _text("tag", tag, 100, required=True)
    if not isinstance(report.fields, dict):
        raise InputError("template fields must be key=value pairs")
    template = TEMPLATES.get(report.template)
    known = {f.key: f for f in template.fields} if template else {}
    for key, value in report.fields.items():
        if template and key not in known:
            raise InputError(
                f"the {template.title} template has no field {key!r}",
                hint="fields: " + ", ".join(known),
            )
        _text(known[key].label if key in known else key, value, MAX_TEXT)
    for tfield in known.values():
        if tfield.key.endswith("_date"):
            check_date(tfield.label.lower(), report.fields.get(tfield.key, ""))


def missing_required(report: Report) -> list[str]:
    """Labels of the template fields that are required but still empty (allowed in drafts)."""
    template = TEMPLATES.get(report.template)
    if template is None:
        return []
    return [
        f.label for f in template.fields if f.required and not report.fields.get(f.key, "").strip()
    ]


@dataclass
class Attachment:
    """A file attached to a draft. Its content lives in encrypted chunks (vault.md §6)."""

    id: str
    report: str
    name: str
    size: int
    media_type: str
    sha256: str
    chunks: int
    added: str
    original_sha256: str = ""
    removed_metadata: list[str] = field(default_factory=list)
    remaining_metadata: list[str] = field(default_factory=list)
    metadata_warning: str = ""
    evidence_original: bool = False

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record.pop("id")
        record["kind"] = "attachment"
        record["schema"] = 1
        return record

    @classmethod
    def from_record(cls, attachment_id: str, record: dict[str, Any]) -> Attachment:
        data = {k: v for k, v in record.items() if k not in ("kind", "schema")}
        return cls(id=attachment_id, **data)


MAX_ATTACHMENT_NAME = 255


def check_attachment_name(name: str) -> None:
    if not name or len(name.encode("utf-8")) > MAX_ATTACHMENT_NAME:
        raise InputError("an attachment's file name must be 1 to 255 bytes long")
    if any(c in name for c in "/\\\x00") or any(ord(c) < 32 for c in name) or name in (".", ".."):
        raise InputError(f"unsafe attachment file name: {name!r}")


@dataclass
class Receipt:
    """What the reporter's device keeps of a sealed report: enough to manage exports,
    never the text. The sealed file itself stays (encrypted) until exported and deleted."""

    id: str
    report_id: str
    title: str
    category: str
    incident_date: str
    country: str
    created: str
    sealed: str
    recipients: list[dict[str, str]]
    keep_readable: bool
    payload_sha256: str
    file_sha256: str
    file_size: int
    chunks: int
    attachments: list[dict[str, Any]] = field(default_factory=list)
    exports: list[dict[str, Any]] = field(default_factory=list)
    copy_deleted: bool = False
    encryption: str = "classical"
    """The sealed file's age layer: "hybrid" (ML-KEM-768 + X25519) or "classical" (X25519).
    Receipts written before hybrid sealing existed were all classical."""
    signature: str = "classical"
    """"hybrid" (Ed25519 + ML-DSA-65, sealed report version 2) or "classical" (Ed25519)."""

    @property
    def status(self) -> str:
        return "exported" if self.exports else "sealed"

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record.pop("id")
        record["kind"] = "receipt"
        record["schema"] = 1
        return record

    @classmethod
    def from_record(cls, receipt_id: str, record: dict[str, Any]) -> Receipt:
        data = {k: v for k, v in record.items() if k not in ("kind", "schema")}
        return cls(id=receipt_id, **data)
