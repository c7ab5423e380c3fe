"""Removing hidden metadata from attachments before they are sealed.

A photo's EXIF data can hold the GPS position where it was taken and the camera's serial
number; an Office file names its author, company and editing times. This module finds
such metadata, says in plain words what it found, and writes a cleaned copy. It is a pure
library over byte streams: it writes nothing but the caller's ``dest`` stream (never a
temporary file), and every text it returns is plain and safe to show in a terminal.

Two calls:

* :func:`inspect` identifies a file by its content (magic bytes, never the extension)
  and returns a :class:`ScrubPlan`: what kind of file it is, the metadata it carries in
  plain words, what will remain after cleaning, and whether it can be cleaned at all.
  A file we cannot clean gives a :class:`NotScrubbable` plan (a result, not an
  exception) whose ``warning`` is the sentence to show the user before sealing.
* :func:`scrub` writes a cleaned copy to the caller's ``dest`` stream and returns a
  :class:`ScrubResult` listing, in plain words, what was removed. The copy is built in
  memory and checked by inspecting it again; ``dest`` receives nothing unless that check
  passes.

What is cleaned (docs/spec/scrubbing.md has the details and the reasons):

* **JPEG** -- lossless: the file is rewritten segment by segment, keeping only what the
  decoder needs (quantisation and Huffman tables, frame and scan headers, the compressed
  image data bit for bit). EXIF (GPS, camera, serial numbers, maker notes, thumbnail),
  XMP, IPTC/Photoshop data, comments, ICC profile, multi-picture data (MPF), C2PA and all
  other application segments are dropped, as is anything after the end of the image
  (previews, depth maps, "motion photo" videos). A canonical JFIF header (pixel density
  only) and the Adobe colour-transform flag are rebuilt from scratch when present.
* **PNG** -- lossless: chunks are copied bit for bit except text (tEXt, zTXt, iTXt), eXIf,
  tIME, iCCP and every private chunk, which are dropped. CRCs are checked.
* **WebP** -- lossless: the RIFF container is rebuilt without EXIF, XMP, ICCP and unknown
  chunks (also inside animation frames); the image bitstreams are copied unchanged.
* **TIFF** -- decoded with Pillow and re-encoded losslessly (LZW) with only the tags
  needed to read the pixels, the orientation applied to the pixels, and the DPI kept.
  Camera RAW files built on TIFF (DNG, CR2, NEF, ARW...) are *not* scrubbable: re-encoding
  would keep only their small preview.
* **Office Open XML (docx, xlsx, pptx) and OpenDocument (odt, ods, odp, odg)** -- the ZIP
  archive is rewritten with fixed timestamps and no comments or extra fields; the
  document properties (docProps/core.xml, app.xml, custom.xml; meta.xml) are replaced by
  empty ones; embedded JPEG/PNG/WebP/TIFF images (including the thumbnail) are cleaned as
  above; every other part is copied unchanged.

Orientation: the lossless formats (JPEG, PNG, WebP) keep a minimal EXIF block that holds
the orientation value and nothing else, built by us, so a photo taken sideways still shows
upright without re-encoding it. TIFF has the orientation applied to its pixels.

What is *not* cleaned, and reported as such (``NotScrubbable``, or ``remaining`` in a plan):

* PDF (no dependency that cleans PDFs thoroughly installs without system libraries and
  without writing temporary files); HEIC/HEIF/AVIF photos; GIF; camera RAW files; video;
  audio; old binary Office files (.doc, .xls, .ppt) and password-protected Office files;
  ZIP archives and EPUB; anything unrecognised; scrubbable kinds above
  :data:`MAX_SCRUB_BYTES`.
* Inside Office files: tracked changes and comments with their authors' names, people
  lists, editing-session IDs (rsid), custom XML parts, file paths from the author's
  computer, printer names, macros and embedded objects. They are listed in
  ``ScrubPlan.remaining`` so the user can remove them in the editor.
* In any image: the picture itself (faces, places, reflections), the camera's sensor noise
  pattern, and the JPEG quantisation tables, which can hint at the camera model.

Limits (refusals are :class:`~securesubmit.errors.Refused`, damaged files
:class:`~securesubmit.errors.FormatError`): at most :data:`MAX_SCRUB_BYTES` per file held
in memory (peak about three times the file size; TIFF more), at most :data:`MAX_PIXELS` declared
pixels per image, at most :data:`MAX_DECODE_PIXELS` decoded pixels (TIFF only; this module
sets Pillow's ``Image.MAX_IMAGE_PIXELS`` to it when imported), ZIP archives of at most
:data:`MAX_ZIP_MEMBERS` members and :data:`MAX_ZIP_UNCOMPRESSED` bytes uncompressed.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import posixpath
import re
import struct
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, ClassVar
from xml.etree import ElementTree

from PIL import ExifTags, Image

from securesubmit.errors import FormatError, NotFound, Refused, SecureSubmitError

# --- limits -------------------------------------------------------------------

MAX_SCRUB_BYTES = 256 * 1024 * 1024
"""Largest file we clean. It is held in memory with its cleaned copy: a JPEG, PNG or WebP
needs about three times its size at the peak (a 26 MB, 50-megapixel JPEG: 96 MiB RSS)."""
MAX_PIXELS = 250_000_000
"""Largest declared image (width x height) we accept: covers 200-megapixel phone photos
and refuses decompression bombs (a few bytes that claim billions of pixels)."""
MAX_DECODE_PIXELS = 64_000_000
"""Largest image we decode into memory (TIFF, which is re-encoded): the decoded pixels are
held twice, so a 50-megapixel RGB TIFF peaks at about 460 MiB. JPEG, PNG and WebP are
cleaned without decoding. Pillow's ``MAX_IMAGE_PIXELS`` is set to this value, for the
whole process, when this module is imported."""
MAX_TIFF_PAGES = 64
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_UNCOMPRESSED = 1024 * 1024 * 1024
MAX_XML_PART_BYTES = 8 * 1024 * 1024
"""Largest XML part we parse (document properties, relationships)."""
MAX_MEMBER_IN_MEMORY = 64 * 1024 * 1024
"""Larger members of an Office file are streamed through unchecked (a zip bomb's member is
never held in memory)."""
MAX_SEGMENTS = 65_536
"""Most JPEG segments, PNG chunks or WebP chunks in one image."""

_SNIFF_BYTES = 64 * 1024
_PDF_SCAN_BYTES = 4 * 1024 * 1024
_COPY_CHUNK = 1024 * 1024

Image.MAX_IMAGE_PIXELS = MAX_DECODE_PIXELS

# --- media types --------------------------------------------------------------

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
TIFF = "image/tiff"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
ODG = "application/vnd.oasis.opendocument.graphics"
PDF = "application/pdf"

_IMAGE_TYPES = frozenset({JPEG, PNG, WEBP, TIFF})
_OOXML_TYPES = frozenset({DOCX, XLSX, PPTX})
_ODF_TYPES = frozenset({ODT, ODS, ODP, ODG})
SUPPORTED_TYPES = _IMAGE_TYPES | _OOXML_TYPES | _ODF_TYPES
"""Media types :func:`scrub` can clean."""

_KIND = {
    JPEG: "JPEG photo",
    PNG: "PNG image",
    WEBP: "WebP image",
    TIFF: "TIFF image",
    DOCX: "Word document (.docx)",
    XLSX: "Excel spreadsheet (.xlsx)",
    PPTX: "PowerPoint presentation (.pptx)",
    ODT: "OpenDocument text (.odt)",
    ODS: "OpenDocument spreadsheet (.ods)",
    ODP: "OpenDocument presentation (.odp)",
    ODG: "OpenDocument drawing (.odg)",
    PDF: "PDF document",
}

_ALIASES = {"image/jpg": JPEG, "image/pjpeg": JPEG, "image/x-png": PNG, "image/tif": TIFF}


def _normalise_type(media_type: str) -> str:
    base = media_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def supported(media_type: str) -> bool:
    """Whether :func:`scrub` can clean files of this media type (``"image/jpeg"``...)."""
    return _normalise_type(media_type) in SUPPORTED_TYPES


# --- results ------------------------------------------------------------------


@dataclass(frozen=True)
class ScrubPlan:
    """What :func:`inspect` found in a file.

    ``found`` lists the hidden metadata in plain words ("GPS position 43.25 N 76.95 E",
    "camera: Canon EOS 80D serial 1234"). ``remaining`` lists what :func:`scrub` will
    *not* remove (for a :class:`NotScrubbable` plan: everything found). ``notes`` are
    other facts for the user (a misleading file name, the orientation that is kept).
    ``warning`` is set whenever something identifying may stay in the file.
    """

    scrubbable: ClassVar[bool] = True

    media_type: str
    kind: str
    size: int | None
    found: tuple[str, ...] = ()
    remaining: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    dimensions: tuple[int, int] | None = None
    warning: str | None = None

    @property
    def removable(self) -> tuple[str, ...]:
        """What :func:`scrub` will remove."""
        if not self.scrubbable:
            return ()
        return tuple(item for item in self.found if item not in self.remaining)


@dataclass(frozen=True)
class NotScrubbable(ScrubPlan):
    """A file SecureSubmit cannot clean; ``warning`` says what it may still reveal."""

    scrubbable: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if not self.warning:
            raise ValueError("a NotScrubbable plan needs a warning for the user")


@dataclass(frozen=True)
class ScrubResult:
    """What :func:`scrub` did, in plain words."""

    media_type: str
    removed: tuple[str, ...]
    remaining: tuple[str, ...]
    notes: tuple[str, ...]
    lossless: bool
    """True when the image data (or every document part) was copied bit for bit."""
    size_in: int
    size_out: int


# --- user-facing warnings -------------------------------------------------------

_W_PDF = (
    "This PDF's metadata cannot be removed by SecureSubmit. It may contain the author's "
    "name, the program and computer that made it, dates, and the hidden metadata of any "
    "photos inside it, such as GPS positions. If that could identify you or a source, do "
    "not attach it as it is: for example, take screenshots of the pages and attach those."
)
_W_HEIC = (
    "SecureSubmit cannot remove the metadata of HEIC or AVIF photos (the usual format of "
    "iPhones). They usually contain the GPS position where the photo was taken, the phone "
    "model and the time. Convert the photo to JPEG, or take a screenshot of it, and attach "
    "that instead: SecureSubmit can clean JPEG and PNG."
)
_W_RAW = (
    "SecureSubmit cannot remove the metadata of camera RAW files. They contain the "
    "camera's serial number and settings, and often the GPS position. Convert the photo "
    "to JPEG or TIFF and attach that instead."
)
_W_GIF = (
    "SecureSubmit does not clean GIF images; they can contain comments and XMP data with "
    "names. Convert the image to PNG and attach that instead."
)
_W_VIDEO = (
    "SecureSubmit cannot remove the metadata of videos. Videos from phones and cameras "
    "usually record the GPS position, the device model and the time of recording. Attach "
    "this video only if that cannot identify you or a source."
)
_W_AUDIO = (
    "SecureSubmit cannot remove the metadata of audio recordings. They may contain the "
    "recording device's name, the time, and sometimes the place or the author's name. "
    "Attach this recording only if that cannot identify you or a source."
)
_W_OLE = (
    "This is an old-format Office file (.doc, .xls, .ppt) or a password-protected one. "
    "SecureSubmit cannot remove its metadata: it usually contains the author's name, the "
    "company, the name of the last person who saved it, and sometimes file paths from "
    "their computer. Save it as .docx, .xlsx or .pptx without a password and attach that."
)
_W_ARCHIVE = (
    "SecureSubmit does not check or clean the files inside archives (ZIP, EPUB). Any "
    "photo or document inside keeps its metadata, such as GPS positions or author names. "
    "Attach the files one by one instead, so that each can be cleaned."
)
_W_OFFICE_OTHER = (
    "SecureSubmit does not know this kind of Office file, so it cannot remove its "
    "metadata (author, company, editing times). Save it as .docx, .xlsx, .pptx or "
    "OpenDocument and attach that instead."
)
_W_UNKNOWN = (
    "SecureSubmit does not recognise this kind of file, so it cannot check it for hidden "
    "metadata. Attach it only if you know it contains nothing that could identify you or "
    "a source."
)
_W_REMAINING = (
    "SecureSubmit will not remove everything identifying from this file (see the list of "
    "what remains). Remove it in the program that made the file, then attach it again."
)


def _w_too_large(kind: str) -> str:
    return (
        f"This {kind} is larger than the {MAX_SCRUB_BYTES // (1024 * 1024)} MiB SecureSubmit "
        "can clean, so its hidden metadata (for a photo: the GPS position and the camera's "
        "serial number; for a document: the author's name) will stay in it. Make it smaller "
        "(fewer pages, a smaller image) and attach it again."
    )


# --- small helpers ------------------------------------------------------------

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
"""Control, format (bidirectional overrides, zero-width), surrogate, private-use and
line/paragraph separator characters: never shown (the same rule as the sealed report's)."""
MAX_ITEMS = 100
MAX_ITEM_BYTES = 200
"""Every list in a plan or result has at most MAX_ITEMS entries of at most MAX_ITEM_BYTES
(UTF-8), so it fits the sealed report's ``scrubbed`` list as it is."""


def _text(value: object, limit: int = 80) -> str:
    """A value from a hostile file, made safe and short enough to show in a terminal."""
    if isinstance(value, bytes | bytearray):
        raw = bytes(value[: 8 * limit]).rstrip(b"\x00")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
    else:
        text = str(value)[: 8 * limit]
    text = "".join(" " if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch for ch in text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _items(values: Iterable[str]) -> tuple[str, ...]:
    """Unique entries, each cut to MAX_ITEM_BYTES, at most MAX_ITEMS of them."""
    items: list[str] = []
    for value in _unique(values):
        if len(value.encode()) > MAX_ITEM_BYTES:
            while len(value.encode()) > MAX_ITEM_BYTES - 3:
                value = value[:-1]
            value += "…"
        items.append(value)
    items = _unique(items)
    if len(items) > MAX_ITEMS:
        items = [*items[: MAX_ITEMS - 1], f"and {len(items) - MAX_ITEMS + 1} more"]
    return tuple(items)


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _size_words(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _damaged(kind: str, why: str) -> FormatError:
    return FormatError(
        f"this {kind} is damaged or incomplete ({why}); it was not changed",
        hint="open it in a viewer to check it, or attach a copy saved again by another program",
    )


def _check_pixels(kind: str, width: int, height: int, limit: int | None = None) -> None:
    cap = MAX_PIXELS if limit is None else limit
    if width * height > cap:
        raise Refused(
            f"this {kind} is {width} x {height} pixels, more than SecureSubmit processes "
            f"({cap // 1_000_000} megapixels); it was refused",
            hint="a file that claims so many pixels is usually an attack (a 'decompression "
            "bomb'); if it is a real image, reduce its size in an image editor first",
        )


@contextlib.contextmanager
def _pillow_guard(kind: str) -> Iterator[None]:
    """Turn anything Pillow raises on a hostile file into one of our errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except SecureSubmitError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise Refused(
                f"this {kind} has more pixels than SecureSubmit decodes "
                f"({MAX_DECODE_PIXELS // 1_000_000} megapixels); it was refused",
                hint="reduce its size in an image editor first",
            ) from None
        except MemoryError:
            raise Refused(f"this {kind} is too large to process in memory") from None
        except Exception as exc:
            raise FormatError(
                f"this {kind} is damaged or not a valid file; it was not changed",
                hint=f"details: {_text(exc, 120)}",
            ) from None


# --- EXIF, XMP, IPTC descriptions ---------------------------------------------

_ORIENTATION = 0x0112
_IFD0_IDENTIFYING = {
    0x010E: "description",
    0x013B: "author",
    0x013C: "computer",
    0x8298: "copyright",
    0x0131: "creation software",
    0x010D: "document name",
    0x011D: "page name",
}
_EXIF_IDENTIFYING = {
    0xA430: "camera owner",
    0xA420: "unique image ID",
}
_XP_TAGS = {
    0x9C9B: "title",
    0x9C9C: "comment",
    0x9C9D: "author",
    0x9C9E: "keywords",
    0x9C9F: "subject",
}
_STRUCTURAL_IFD0 = {_ORIENTATION, 0x8769, 0x8825, 0xA005}  # orientation and sub-IFD pointers


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _degrees(value: object) -> float | None:
    if isinstance(value, tuple | list) and 1 <= len(value) <= 3:
        parts = [_number(v) for v in value]
        if any(p is None for p in parts):
            return None
        total = 0.0
        for part, scale in zip(parts, (1.0, 60.0, 3600.0), strict=False):
            total += (part or 0.0) / scale
        return total
    return _number(value)


def _coordinate(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")


def _describe_gps(gps: dict[int, Any]) -> list[str]:
    items: list[str] = []
    lat, lon = _degrees(gps.get(2)), _degrees(gps.get(4))
    if lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180:
        lat_ref = _text(gps.get(1, "N"), 1).upper() or "N"
        lon_ref = _text(gps.get(3, "E"), 1).upper() or "E"
        lat_ref = lat_ref if lat_ref in "NS" else "N"
        lon_ref = lon_ref if lon_ref in "EW" else "E"
        items.append(f"GPS position {_coordinate(lat)} {lat_ref} {_coordinate(lon)} {lon_ref}")
    elif 2 in gps or 4 in gps:
        items.append("GPS position (in a form SecureSubmit could not read)")
    altitude = _number(gps.get(6))
    if altitude is not None:
        items.append(f"GPS altitude {altitude:.0f} m")
    if 7 in gps or 29 in gps:
        items.append("GPS date and time")
    if 17 in gps:
        items.append("the direction the camera was facing")
    if gps and not items:
        items.append("GPS data")
    return items


def _user_comment(value: object) -> str:
    if not isinstance(value, bytes):
        return _text(value)
    head, body = value[:8], value[8:]
    if head.startswith(b"UNICODE"):
        for codec in ("utf-16-be", "utf-16-le"):
            with contextlib.suppress(UnicodeDecodeError):
                return _text(body.decode(codec))
        return ""
    return _text(body if head.rstrip(b"\x00").isalpha() or head == b"\x00" * 8 else value)


def _xp_text(value: object) -> str:
    if isinstance(value, tuple):
        with contextlib.suppress(ValueError, TypeError):
            value = bytes(value)
    if isinstance(value, bytes):
        with contextlib.suppress(UnicodeDecodeError):
            return _text(value.decode("utf-16-le"))
        return ""
    return _text(value)


def _describe_exif(exif: Image.Exif, *, tiff: bool = False) -> tuple[list[str], int | None]:
    """Plain-language items for an EXIF structure, and its orientation (1-8) if any.

    In a TIFF file the EXIF structure is the file itself, and its second directory is the
    next page rather than a thumbnail.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ifd0 = dict(exif)
            sub = dict(exif.get_ifd(ExifTags.IFD.Exif)) if 0x8769 in ifd0 else {}
            gps = dict(exif.get_ifd(ExifTags.IFD.GPSInfo)) if 0x8825 in ifd0 else {}
            ifd1 = {} if tiff else dict(exif.get_ifd(ExifTags.IFD.IFD1))
        except Exception:
            return ["EXIF data (damaged; SecureSubmit could not read it)"], None
    orientation_value = ifd0.get(_ORIENTATION)
    orientation = (
        orientation_value
        if isinstance(orientation_value, int) and 1 <= orientation_value <= 8
        else None
    )
    items: list[str] = []
    items += _describe_gps(gps)
    make, model = _text(ifd0.get(0x010F, "")), _text(ifd0.get(0x0110, ""))
    camera = model if make and model.lower().startswith(make.lower()) else f"{make} {model}"
    camera = camera.strip()
    serial = _text(sub.get(0xA431, "") or ifd0.get(0xC62F, ""))
    if camera:
        items.append(f"camera: {camera}" + (f" serial {serial}" if serial else ""))
    elif serial:
        items.append(f"camera serial number: {serial}")
    lens = " ".join(p for p in (_text(sub.get(0xA433, "")), _text(sub.get(0xA434, ""))) if p)
    lens_serial = _text(sub.get(0xA435, ""))
    if lens or lens_serial:
        items.append(f"lens: {lens}{' serial ' + lens_serial if lens_serial else ''}".strip())
    for tag, label in _IFD0_IDENTIFYING.items():
        value = _text(ifd0.get(tag, ""))
        if value:
            items.append(f"{label}: {value}")
    for tag, label in _XP_TAGS.items():
        value = _xp_text(ifd0.get(tag, ""))
        if value:
            items.append(f"{label}: {value}")
    for tag, label in _EXIF_IDENTIFYING.items():
        value = _text(sub.get(tag, ""))
        if value:
            items.append(f"{label}: {value}")
    comment = _user_comment(sub.get(0x9286, b""))
    if comment:
        items.append(f"comment: {comment}")
    taken = _text(sub.get(0x9003, "") or ifd0.get(0x0132, ""))
    if taken:
        items.append(f"date and time: {taken}")
    if 0x927C in sub:
        items.append(
            "maker notes (the camera maker's private data; they often include the serial number)"
        )
    if ifd1:
        items.append("a small preview copy of the photo (thumbnail)")
    others = len(set(ifd0) - _STRUCTURAL_IFD0 - _TIFF_STRUCTURAL) + len(sub) + len(gps)
    if items or others:
        items.insert(0, "EXIF data (camera settings and dates)")
    return items, orientation


def _describe_exif_bytes(raw: bytes) -> tuple[list[str], int | None]:
    exif = Image.Exif()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exif.load(raw)
        except Exception:
            return ["EXIF data (damaged; SecureSubmit could not read it)"], None
    return _describe_exif(exif)


def _orientation_exif(orientation: int) -> bytes:
    """A minimal big-endian TIFF structure holding only the orientation: the one EXIF
    value we keep, so a photo taken sideways still displays upright."""
    entry = struct.pack(">HHIHH", _ORIENTATION, 3, 1, orientation, 0)
    return b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00\x01" + entry + b"\x00\x00\x00\x00"


_ROTATION_WORDS = {
    2: "mirrored",
    3: "turned upside down",
    4: "mirrored upside down",
    5: "mirrored and turned",
    6: "turned 90° clockwise",
    7: "mirrored and turned",
    8: "turned 90° anticlockwise",
}


def _orientation_note(orientation: int | None) -> list[str]:
    if orientation is None or orientation == 1:
        return []
    return [
        f"the photo is shown {_ROTATION_WORDS[orientation]}: SecureSubmit keeps only this "
        "orientation so that it still shows the right way up"
    ]


_XMP_DETAILS = (
    (re.compile(rb"GPS(?:Latitude|Longitude)"), "a GPS position"),
    (
        re.compile(rb"dc:creator|photoshop:AuthorsPosition|CreatorContactInfo|xmpRights:Owner"),
        "names of people",
    ),
    (
        re.compile(
            rb"photoshop:City|photoshop:Country|Iptc4xmpCore:Location|LocationCreated|"
            rb"LocationShown"
        ),
        "place names",
    ),
    (re.compile(rb"xmpMM:History"), "the edit history"),
    (re.compile(rb"DocumentID|InstanceID"), "unique document IDs"),
    (re.compile(rb"CreatorTool"), "the creation software"),
    (
        re.compile(rb"(?:tiff|exifEX|aux):(?:Make|Model|SerialNumber|BodySerialNumber)"),
        "camera details",
    ),
)


def _describe_xmp(xmp: bytes) -> str:
    details = [words for pattern, words in _XMP_DETAILS if pattern.search(xmp)]
    return f"XMP packet ({_size_words(len(xmp))})" + (
        f" with {', '.join(details)}" if details else ""
    )


def _describe_photoshop(payload: bytes) -> list[str]:
    items = []
    if b"8BIM\x04\x04" in payload:
        items.append("IPTC data (captions, names, places)")
    if b"8BIM\x04\x0c" in payload or b"8BIM\x04\x09" in payload:
        items.append("Photoshop thumbnail")
    return items or ["Photoshop data"]


def _ident(payload: bytes) -> str:
    return _text(payload[:24].split(b"\x00", 1)[0], 24)


# --- JPEG: lossless segment stripping -----------------------------------------

_SOF_MARKERS = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
_JPEG_TABLES = frozenset({0xC4, 0xCC, 0xDB, 0xDD})  # DHT, DAC, DQT, DRI
_JPEG_REFUSED = {
    0xDC: "a DNL segment",
    0xDE: "hierarchical coding",
    0xDF: "hierarchical coding",
    0xF7: "JPEG-LS coding",
    0xF8: "JPEG-LS coding",
}
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_JPEG_KIND = _KIND[JPEG]


@dataclass
class _JpegPart:
    marker: int  # 0 for entropy-coded data
    start: int
    end: int

    def payload(self, data: bytes) -> bytes:
        return data[self.start + 4 : self.end]


@dataclass
class _Jpeg:
    parts: list[_JpegPart] = field(default_factory=list)
    width: int = 0
    height: int = 0
    trailing: int = 0
    trailing_blank: bool = True


def _parse_jpeg(data: bytes) -> _Jpeg:
    """Walk a JPEG's segments strictly, without decoding anything."""
    n = len(data)
    if data[:2] != b"\xff\xd8":
        raise _damaged(_JPEG_KIND, "it does not start like a JPEG")
    jpeg = _Jpeg()
    pos = 2
    seen_sof = seen_sos = False
    while True:
        if len(jpeg.parts) > MAX_SEGMENTS:
            raise _damaged(_JPEG_KIND, "it has too many segments")
        if pos >= n:
            raise _damaged(_JPEG_KIND, "it ends before the image data does")
        if data[pos] != 0xFF:
            raise _damaged(_JPEG_KIND, f"unexpected data at byte {pos}")
        while pos < n and data[pos] == 0xFF:
            pos += 1
        if pos >= n:
            raise _damaged(_JPEG_KIND, "it ends before the image data does")
        marker = data[pos]
        start = pos - 1
        pos += 1
        if marker == 0xD9:
            if not seen_sos:
                raise _damaged(_JPEG_KIND, "it has no image data")
            jpeg.trailing = n - pos
            jpeg.trailing_blank = not data[pos:].strip(b"\x00")
            return jpeg
        if marker in _JPEG_REFUSED:
            raise FormatError(
                f"this JPEG uses {_JPEG_REFUSED[marker]}, which SecureSubmit cannot clean; "
                "it was not changed",
                hint="save it again as an ordinary JPEG in an image editor",
            )
        if marker == 0xD8 or marker == 0x01 or 0xD0 <= marker <= 0xD7 or marker < 0xC0:
            raise _damaged(_JPEG_KIND, f"unexpected marker 0x{marker:02X}")
        if pos + 2 > n:
            raise _damaged(_JPEG_KIND, "it ends inside a segment")
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > n:
            raise _damaged(_JPEG_KIND, "a segment runs past the end of the file")
        end = pos + length
        payload = data[pos + 2 : end]
        if marker in _SOF_MARKERS:
            if seen_sof:
                raise _damaged(_JPEG_KIND, "it has more than one frame header")
            if len(payload) < 6 or len(payload) != 6 + 3 * payload[5] or not 1 <= payload[5] <= 4:
                raise _damaged(_JPEG_KIND, "its frame header is malformed")
            jpeg.height = int.from_bytes(payload[1:3], "big")
            jpeg.width = int.from_bytes(payload[3:5], "big")
            if jpeg.width == 0 or jpeg.height == 0:
                raise _damaged(_JPEG_KIND, "it declares an empty image")
            _check_pixels(_JPEG_KIND, jpeg.width, jpeg.height)
            seen_sof = True
        jpeg.parts.append(_JpegPart(marker, start, end))
        pos = end
        if marker == 0xDA:
            count = payload[0] if payload else 0
            if not seen_sof or not 1 <= count <= 4 or len(payload) != 4 + 2 * count:
                raise _damaged(_JPEG_KIND, "a scan header is malformed")
            seen_sos = True
            found = _SCAN_END.search(data, pos)
            if found is None:
                raise _damaged(_JPEG_KIND, "it ends before the image data does")
            jpeg.parts.append(_JpegPart(0, pos, found.start()))
            pos = found.start()


def _describe_jpeg(data: bytes) -> tuple[_Jpeg, list[str], int | None, bool]:
    """The parsed JPEG, what it carries, its orientation, and whether it has an ICC profile."""
    jpeg = _parse_jpeg(data)
    items: list[str] = []
    orientation: int | None = None
    has_icc = False
    for part in jpeg.parts:
        marker = part.marker
        if marker == 0xFE:
            comment = _text(part.payload(data))
            items.append(f'comment: "{comment}"' if comment else "comment")
        if not 0xE0 <= marker <= 0xEF and not 0xF0 <= marker <= 0xFD:
            continue
        payload = part.payload(data)
        app = marker - 0xE0
        if marker >= 0xF0:
            items.append(f"unknown data segment (0x{marker:02X})")
        elif app == 0 and payload.startswith(b"JFIF\x00"):
            if len(payload) >= 14 and payload[12] * payload[13]:
                items.append("a small preview copy of the photo (JFIF thumbnail)")
        elif app == 0 and payload.startswith(b"JFXX\x00"):
            items.append("a small preview copy of the photo (JFIF thumbnail)")
        elif app == 1 and payload.startswith(b"Exif\x00"):
            exif_items, exif_orientation = _describe_exif_bytes(payload)
            items += exif_items
            if orientation is None:
                orientation = exif_orientation
        elif app == 1 and payload.startswith(b"http://ns.adobe.com/xap/1.0/\x00"):
            items.append(_describe_xmp(payload))
        elif app == 1 and payload.startswith(b"http://ns.adobe.com/xmp/extension/\x00"):
            items.append("extended XMP data")
        elif app == 2 and payload.startswith(b"ICC_PROFILE\x00"):
            has_icc = True
            items.append("ICC colour profile (it can name the screen or scanner it was made for)")
        elif app == 2 and payload.startswith(b"MPF\x00"):
            items.append("multi-picture data (extra images such as previews or depth maps)")
        elif app == 2 and payload.startswith(b"FPXR\x00"):
            items.append("FlashPix data (camera maker's extra data)")
        elif app == 13 and payload.startswith(b"Photoshop 3.0\x00"):
            items += _describe_photoshop(payload)
        elif app == 14 and payload.startswith(b"Adobe"):
            continue  # colour transform flag: rebuilt, not metadata
        elif app == 11 and payload[:2] == b"JP":
            items.append("content credentials (C2PA/JUMBF: can hold names and edit history)")
        elif app == 12 and payload.startswith(b"Ducky"):
            items.append("Photoshop 'Save for Web' data (can hold a comment or copyright)")
        else:
            ident = _ident(payload)
            items.append(f"application data segment APP{app}" + (f" ({ident})" if ident else ""))
    if jpeg.trailing and not jpeg.trailing_blank:
        items.append(
            f"extra data after the end of the photo ({_size_words(jpeg.trailing)}), for "
            "example a second image, a depth map or a 'motion photo' video"
        )
    return jpeg, _unique(items), orientation, has_icc


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def _clean_jpeg(data: bytes) -> bytes:
    jpeg, _, orientation, _ = _describe_jpeg(data)
    view = memoryview(data)
    out = io.BytesIO()
    out.write(b"\xff\xd8")
    jfif = adobe = None
    for part in jpeg.parts:
        if part.marker not in (0xE0, 0xEE):
            continue  # (and never slice the image data: that would copy it)
        payload = part.payload(data)
        if jfif is None and part.marker == 0xE0 and payload.startswith(b"JFIF\x00"):
            units = payload[7] if len(payload) >= 12 and payload[7] <= 2 else 0
            density = payload[8:12] if len(payload) >= 12 else b""
            if len(density) != 4 or density[:2] == b"\0\0" or density[2:] == b"\0\0":
                units, density = 0, b"\x00\x01\x00\x01"
            jfif = b"JFIF\x00\x01\x02" + bytes((units,)) + density + b"\x00\x00"
        if (
            adobe is None
            and part.marker == 0xEE
            and payload.startswith(b"Adobe")
            and len(payload) >= 12
            and payload[11] <= 2
        ):
            adobe = b"Adobe\x00\x64\x00\x00\x00\x00" + bytes((payload[11],))
    if jfif is not None:
        out.write(_segment(0xE0, jfif))
    if orientation not in (None, 1):
        out.write(_segment(0xE1, b"Exif\x00\x00" + _orientation_exif(orientation or 1)))
    if adobe is not None:
        out.write(_segment(0xEE, adobe))
    for part in jpeg.parts:
        if (
            part.marker == 0
            or part.marker in _SOF_MARKERS
            or part.marker in _JPEG_TABLES
            or part.marker == 0xDA
        ):
            out.write(view[part.start : part.end])
    out.write(b"\xff\xd9")
    return out.getvalue()


# --- PNG: lossless chunk stripping ---------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Image structure and colour chunks; everything else (text, eXIf, tIME, iCCP, private
# chunks) is dropped.
# fmt: off
_PNG_KEEP = frozenset({
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD",
    b"pHYs", b"hIST", b"acTL", b"fcTL", b"fdAT", b"cICP", b"mDCV", b"cLLI",
})
# fmt: on
_PNG_CRITICAL = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND"})
_PNG_KIND = _KIND[PNG]
_CHUNK_TYPE = re.compile(rb"[A-Za-z]{4}")


@dataclass
class _PngChunk:
    kind: bytes
    start: int
    end: int

    def data(self, png: bytes) -> bytes:
        return png[self.start + 8 : self.end - 4]


def _parse_png(data: bytes) -> tuple[list[_PngChunk], int, int, int]:
    """Chunks, width, height and the number of bytes after IEND."""
    if not data.startswith(_PNG_SIGNATURE):
        raise _damaged(_PNG_KIND, "it does not start like a PNG")
    chunks: list[_PngChunk] = []
    view = memoryview(data)
    pos, n = len(_PNG_SIGNATURE), len(data)
    width = height = 0
    while True:
        if len(chunks) > MAX_SEGMENTS:
            raise _damaged(_PNG_KIND, "it has too many chunks")
        if pos + 12 > n:
            raise _damaged(_PNG_KIND, "it ends before its last chunk")
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > n:
            raise _damaged(_PNG_KIND, "a chunk runs past the end of the file")
        if not _CHUNK_TYPE.fullmatch(kind):
            raise _damaged(_PNG_KIND, "a chunk has an invalid name")
        crc = int.from_bytes(data[end - 4 : end], "big")
        if zlib.crc32(view[pos + 4 : end - 4]) != crc:
            raise _damaged(_PNG_KIND, f"the checksum of a '{kind.decode()}' chunk is wrong")
        if not chunks:
            if kind != b"IHDR" or length != 13:
                raise _damaged(_PNG_KIND, "it does not start with an image header")
            width = int.from_bytes(data[pos + 8 : pos + 12], "big")
            height = int.from_bytes(data[pos + 12 : pos + 16], "big")
            if not 0 < width <= 0x7FFFFFFF or not 0 < height <= 0x7FFFFFFF:
                raise _damaged(_PNG_KIND, "it declares an impossible size")
            _check_pixels(_PNG_KIND, width, height)
        elif kind == b"IHDR":
            raise _damaged(_PNG_KIND, "it has two image headers")
        if kind[0:1].isupper() and kind not in _PNG_CRITICAL:
            raise FormatError(
                f"this PNG uses a feature SecureSubmit does not know ('{kind.decode()}'); "
                "it was not changed",
                hint="save it again as an ordinary PNG in an image editor",
            )
        chunks.append(_PngChunk(kind, pos, end))
        pos = end
        if kind == b"IEND":
            if not any(c.kind == b"IDAT" for c in chunks):
                raise _damaged(_PNG_KIND, "it has no image data")
            return chunks, width, height, n - pos


def _png_text(kind: bytes, body: bytes) -> tuple[str, bytes]:
    """Keyword and (bounded) text of a tEXt, zTXt or iTXt chunk."""
    keyword, _, rest = body.partition(b"\x00")
    text = rest
    try:
        if kind == b"zTXt":
            text = zlib.decompressobj().decompress(rest[1:], 4096)
        elif kind == b"iTXt":
            compressed = rest[:1] == b"\x01"
            rest = rest[2:]
            _, _, rest = rest.partition(b"\x00")  # language tag
            _, _, rest = rest.partition(b"\x00")  # translated keyword
            text = zlib.decompressobj().decompress(rest, 4096) if compressed else rest
    except zlib.error:
        text = b""
    return _text(keyword, 40), text


def _describe_png(data: bytes) -> tuple[list[_PngChunk], list[str], int | None, tuple[int, int]]:
    chunks, width, height, trailing = _parse_png(data)
    items: list[str] = []
    orientation: int | None = None
    for chunk in chunks:
        if chunk.kind in _PNG_KEEP:
            continue  # (and never slice the image data: that would copy it)
        kind, body = chunk.kind, chunk.data(data)
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            keyword, text = _png_text(kind, body)
            if keyword == "XML:com.adobe.xmp":
                items.append(_describe_xmp(text))
            elif keyword.lower().startswith("raw profile type"):
                items.append(f"{keyword[17:].upper() or 'other'} data stored in a text note")
            else:
                value = _text(text)
                items.append(f'text note "{keyword}"' + (f": {value}" if value else ""))
        elif kind == b"eXIf":
            exif_items, orientation = _describe_exif_bytes(body)
            items += exif_items
        elif kind == b"tIME":
            items.append("the time the image was last changed")
        elif kind == b"iCCP":
            name = _text(body.split(b"\x00", 1)[0], 40)
            items.append(f'ICC colour profile "{name}"' if name else "ICC colour profile")
        elif kind == b"caBX":
            items.append("content credentials (C2PA: can hold names and edit history)")
        else:
            items.append(f"private data chunk '{_text(kind, 4)}'")
    if trailing and data[len(data) - trailing :].strip(b"\x00"):
        items.append(f"extra data after the end of the image ({_size_words(trailing)})")
    return chunks, _unique(items), orientation, (width, height)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


def _clean_png(data: bytes) -> bytes:
    chunks, _, orientation, _ = _describe_png(data)
    view = memoryview(data)
    out = io.BytesIO()
    out.write(_PNG_SIGNATURE)
    for chunk in chunks:
        if chunk.kind in _PNG_KEEP:
            out.write(view[chunk.start : chunk.end])
        if chunk.kind == b"IHDR" and orientation not in (None, 1):
            out.write(_png_chunk(b"eXIf", _orientation_exif(orientation or 1)))
    return out.getvalue()


# --- WebP: lossless RIFF rebuild -----------------------------------------------

_WEBP_KIND = _KIND[WEBP]
_WEBP_IMAGE = frozenset({b"VP8 ", b"VP8L", b"ALPH"})
_VP8X_ICC, _VP8X_EXIF, _VP8X_XMP = 0x20, 0x08, 0x04


@dataclass
class _RiffChunk:
    fourcc: bytes
    start: int  # of the header
    end: int  # of the payload, without padding

    def payload(self, data: bytes) -> bytes:
        return data[self.start + 8 : self.end]


def _riff_chunks(data: bytes, pos: int, end: int) -> list[_RiffChunk]:
    chunks: list[_RiffChunk] = []
    while pos < end:
        if len(chunks) > MAX_SEGMENTS:
            raise _damaged(_WEBP_KIND, "it has too many chunks")
        if pos + 8 > end:
            raise _damaged(_WEBP_KIND, "a chunk header is cut short")
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        payload_end = pos + 8 + size
        if payload_end > end:
            raise _damaged(_WEBP_KIND, "a chunk runs past the end of the file")
        chunks.append(_RiffChunk(data[pos : pos + 4], pos, payload_end))
        pos = payload_end + (size & 1)
    return chunks


def _webp_size(chunk: _RiffChunk, data: bytes) -> tuple[int, int]:
    payload = chunk.payload(data)
    if chunk.fourcc == b"VP8X" and len(payload) >= 10:
        return (
            1 + int.from_bytes(payload[4:7], "little"),
            1 + int.from_bytes(payload[7:10], "little"),
        )
    if chunk.fourcc == b"VP8 " and len(payload) >= 10 and payload[3:6] == b"\x9d\x01\x2a":
        return (
            int.from_bytes(payload[6:8], "little") & 0x3FFF,
            int.from_bytes(payload[8:10], "little") & 0x3FFF,
        )
    if chunk.fourcc == b"VP8L" and len(payload) >= 5 and payload[0] == 0x2F:
        bits = int.from_bytes(payload[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    raise _damaged(_WEBP_KIND, "its image header is malformed")


def _parse_webp(data: bytes) -> tuple[list[_RiffChunk], tuple[int, int], int]:
    if len(data) < 20 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise _damaged(_WEBP_KIND, "it does not start like a WebP image")
    riff_end = 8 + int.from_bytes(data[4:8], "little")
    if riff_end > len(data) or riff_end < 20:
        raise _damaged(_WEBP_KIND, "it is shorter than it says")
    chunks = _riff_chunks(data, 12, riff_end)
    if not chunks or chunks[0].fourcc not in (b"VP8X", b"VP8 ", b"VP8L"):
        raise _damaged(_WEBP_KIND, "it has no image header")
    width, height = _webp_size(chunks[0], data)
    if width == 0 or height == 0:
        raise _damaged(_WEBP_KIND, "it declares an empty image")
    _check_pixels(_WEBP_KIND, width, height)
    if not any(c.fourcc in (b"VP8 ", b"VP8L", b"ANMF") for c in chunks):
        raise _damaged(_WEBP_KIND, "it has no image data")
    return chunks, (width, height), len(data) - riff_end


def _anmf_parts(chunk: _RiffChunk, data: bytes) -> tuple[bytes, list[_RiffChunk]]:
    if chunk.end - chunk.start < 8 + 16:
        raise _damaged(_WEBP_KIND, "an animation frame is cut short")
    header_end = chunk.start + 8 + 16
    return data[chunk.start + 8 : header_end], _riff_chunks(data, header_end, chunk.end)


def _describe_webp(data: bytes) -> tuple[list[_RiffChunk], list[str], int | None, tuple[int, int]]:
    chunks, size, trailing = _parse_webp(data)
    items: list[str] = []
    orientation: int | None = None
    for chunk in chunks:
        if chunk.fourcc == b"EXIF":
            exif_items, orientation = _describe_exif_bytes(chunk.payload(data))
            items += exif_items
        elif chunk.fourcc == b"XMP ":
            items.append(_describe_xmp(chunk.payload(data)))
        elif chunk.fourcc == b"ICCP":
            items.append("ICC colour profile (it can name the screen or scanner it was made for)")
        elif chunk.fourcc == b"ANMF":
            for sub in _anmf_parts(chunk, data)[1]:
                if sub.fourcc not in _WEBP_IMAGE:
                    items.append(f"private data in an animation frame ('{_text(sub.fourcc, 4)}')")
        elif chunk.fourcc not in _WEBP_IMAGE and chunk.fourcc not in (b"VP8X", b"ANIM"):
            items.append(f"private data chunk '{_text(chunk.fourcc, 4)}'")
    if trailing and data[len(data) - trailing :].strip(b"\x00"):
        items.append(f"extra data after the end of the image ({_size_words(trailing)})")
    return chunks, _unique(items), orientation, size


def _riff_chunk(fourcc: bytes, payload: bytes) -> bytes:
    pad = b"\x00" if len(payload) & 1 else b""
    return fourcc + len(payload).to_bytes(4, "little") + payload + pad


def _copy_chunk(out: io.BytesIO, view: memoryview, chunk: _RiffChunk) -> None:
    out.write(view[chunk.start : chunk.end])
    if (chunk.end - chunk.start) & 1:
        out.write(b"\x00")


def _clean_webp(data: bytes) -> bytes:
    chunks, _, orientation, _ = _describe_webp(data)
    keep_orientation = orientation not in (None, 1) and chunks[0].fourcc == b"VP8X"
    view = memoryview(data)
    out = io.BytesIO()
    out.write(b"RIFF\x00\x00\x00\x00WEBP")  # the size is filled in at the end
    for chunk in chunks:
        if chunk.fourcc == b"VP8X":
            payload = chunk.payload(data)
            flags = payload[0] & ~(_VP8X_ICC | _VP8X_EXIF | _VP8X_XMP)
            if keep_orientation:
                flags |= _VP8X_EXIF
            out.write(_riff_chunk(b"VP8X", bytes((flags,)) + payload[1:10]))
        elif chunk.fourcc in _WEBP_IMAGE or chunk.fourcc == b"ANIM":
            _copy_chunk(out, view, chunk)
        elif chunk.fourcc == b"ANMF":
            header, subs = _anmf_parts(chunk, data)
            kept = [s for s in subs if s.fourcc in _WEBP_IMAGE]
            size = len(header) + sum(s.end - s.start + ((s.end - s.start) & 1) for s in kept)
            out.write(b"ANMF" + size.to_bytes(4, "little") + header)
            for sub in kept:
                _copy_chunk(out, view, sub)
    if keep_orientation:
        out.write(_riff_chunk(b"EXIF", _orientation_exif(orientation or 1)))
    out.seek(4)
    out.write((out.getbuffer().nbytes - 8).to_bytes(4, "little"))
    return out.getvalue()


# --- TIFF: decode and re-encode losslessly ---------------------------------------

_TIFF_KIND = _KIND[TIFF]
# Tags needed to read the pixels; anything else in a TIFF is metadata to us.
# fmt: off
_TIFF_STRUCTURAL = frozenset({
    254, 255, 256, 257, 258, 259, 262, 263, 264, 265, 266, 273, 274, 277, 278, 279, 280, 281,
    282, 283, 284, 290, 291, 292, 293, 296, 297, 301, 317, 318, 319, 320, 321, 322, 323, 324,
    325, 332, 334, 338, 339, 340, 341, 347, 512, 513, 514, 515, 517, 518, 519, 520, 521, 529,
    530, 531, 532,
})
# fmt: on
_TIFF_DESCRIBED = {
    700: "XMP packet",
    33723: "IPTC data (captions, names, places)",
    34377: "Photoshop data",
    34675: "ICC colour profile (it can name the screen or scanner it was made for)",
    33550: "map coordinates (GeoTIFF)",
    33922: "map coordinates (GeoTIFF)",
    34264: "map coordinates (GeoTIFF)",
    34735: "map coordinates (GeoTIFF)",
    34736: "map coordinates (GeoTIFF)",
    34737: "map coordinates (GeoTIFF)",
    37724: "Photoshop layer data",
}
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _is_camera_raw(data: bytes, tags: Iterable[int]) -> bool:
    return data[8:10] == b"CR" or 50706 in tags or 330 in tags


def _open_tiff(data: bytes) -> Any:
    with _pillow_guard(_TIFF_KIND):
        return Image.open(io.BytesIO(data), formats=["TIFF"])


def _tiff_pages(image: Any) -> Iterator[int]:
    """Seek through the pages of an open TIFF, refusing too many."""
    for page in range(MAX_TIFF_PAGES + 1):
        if page == MAX_TIFF_PAGES:
            raise Refused(f"this TIFF image has more than {MAX_TIFF_PAGES} pages; it was refused")
        with _pillow_guard(_TIFF_KIND):
            try:
                image.seek(page)
            except EOFError:
                return
        yield page


def _describe_tiff(data: bytes) -> tuple[list[str], tuple[int, int], bool]:
    """What a TIFF carries, its first page's size, and whether it is a camera RAW file."""
    image = _open_tiff(data)
    items: list[str] = []
    total = 0
    first: tuple[int, int] | None = None
    for _ in _tiff_pages(image):
        width, height = image.size
        first = first or (width, height)
        total += width * height
        _check_pixels(_TIFF_KIND, width, height)
        tags = set(image.tag_v2.keys())
        if _is_camera_raw(data, tags):
            return [], first, True
        with _pillow_guard(_TIFF_KIND):
            exif = image.getexif()
        exif_items, _ = _describe_exif(exif, tiff=True)
        items += exif_items
        for tag in sorted(tags - _TIFF_STRUCTURAL):
            if tag == 700:
                with _pillow_guard(_TIFF_KIND):
                    value = image.tag_v2.get(700)
                items.append(_describe_xmp(value if isinstance(value, bytes) else b""))
            elif tag in _TIFF_DESCRIBED:
                items.append(_TIFF_DESCRIBED[tag])
            elif (
                tag not in _IFD0_IDENTIFYING
                and tag not in _XP_TAGS
                and tag not in (0x010F, 0x0110, 0x0132, 0x8769, 0x8825, 0xC62F)
            ):
                items.append(f"other tagged data (TIFF tag {tag})")
    if first is None:
        raise _damaged(_TIFF_KIND, "it has no pages")
    if total > MAX_DECODE_PIXELS:
        raise Refused(
            f"this TIFF image's pages hold {total // 1_000_000} megapixels together, more than "
            f"SecureSubmit decodes ({MAX_DECODE_PIXELS // 1_000_000} megapixels); it was refused",
            hint="split it into smaller files, or reduce its size in an image editor first",
        )
    return _unique(items), first, False


def _clean_tiff(data: bytes) -> tuple[bytes, list[str]]:
    image = _open_tiff(data)
    pages: list[Image.Image] = []
    notes: list[str] = []
    dpi: tuple[float, float] | None = None
    for page in _tiff_pages(image):
        with _pillow_guard(_TIFF_KIND):
            _check_pixels(_TIFF_KIND, image.size[0], image.size[1], MAX_DECODE_PIXELS)
            orientation = image.tag_v2.get(_ORIENTATION)
            bits = image.tag_v2.get(258)
            image.load()
            # Pillow 13 applies the orientation itself while loading a TIFF and then drops
            # the tag; should a version leave the tag in place, we apply it here.
            pending = image.tag_v2.get(_ORIENTATION)
            if page == 0:
                raw_dpi = image.info.get("dpi")
                if isinstance(raw_dpi, tuple) and len(raw_dpi) == 2:
                    x, y = (_number(v) for v in raw_dpi)
                    dpi = (x, y) if x and y and x > 0 and y > 0 else None
            method = _TRANSPOSE.get(pending) if isinstance(pending, int) else None
            clean = image.transpose(method) if method is not None else image.copy()
            clean.info.clear()
        if orientation in _TRANSPOSE:
            notes.append("the orientation was applied to the pixels")
        if (
            isinstance(bits, tuple)
            and any(isinstance(b, int) and b > 8 for b in bits)
            and clean.mode in ("RGB", "RGBA", "CMYK")
        ):
            notes.append("colour depth was reduced to 8 bits per channel")
        pages.append(clean)
    image.close()  # frees the decoded original before encoding the copy
    if not pages:
        raise _damaged(_TIFF_KIND, "it has no pages")
    out = io.BytesIO()
    options: dict[str, Any] = {"compression": "tiff_lzw"}
    if dpi is not None:
        options["dpi"] = dpi
    with _pillow_guard(_TIFF_KIND):
        pages[0].save(out, format="TIFF", save_all=True, append_images=pages[1:], **options)
        check: Any = Image.open(io.BytesIO(out.getvalue()), formats=["TIFF"])
        for _ in _tiff_pages(check):
            extra = set(check.tag_v2.keys()) - _TIFF_STRUCTURAL
            if extra:
                raise Refused(f"internal check failed: TIFF tags {sorted(extra)} were written")
    notes.append("the image was re-encoded without loss (LZW compression)")
    return out.getvalue(), _unique(notes)


# --- ZIP-based documents: OOXML and OpenDocument -------------------------------

_ZIP_KIND = "Office document"
_OOXML_MAIN = {"word/document.xml": DOCX, "xl/workbook.xml": XLSX, "ppt/presentation.xml": PPTX}
_ODF_MIMETYPES = {t.encode(): t for t in _ODF_TYPES}
_EMPTY_CORE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    b'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms='
    b'"http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
)
_EMPTY_APP = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'docPropsVTypes"/>'
)
_EMPTY_CUSTOM = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'docPropsVTypes"/>'
)
_EMPTY_ODF_META = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    b'office:version="1.2"><office:meta/></office:document-meta>'
)
_CORE_LABELS = {
    "creator": "author",
    "lastModifiedBy": "last edited by",
    "created": "created",
    "modified": "last saved",
    "lastPrinted": "last printed",
    "revision": "revision number",
    "title": "title",
    "subject": "subject",
    "keywords": "keywords",
    "description": "comments",
    "category": "category",
    "contentStatus": "status",
    "identifier": "identifier",
    "language": "language",
    "version": "version",
}
_APP_LABELS = {
    "Application": "creation software",
    "AppVersion": "software version",
    "Company": "company",
    "Manager": "manager",
    "Template": "template",
    "TotalTime": "total editing time (minutes)",
    "HyperlinkBase": "link base",
}
_ODF_META_LABELS = {
    "initial-creator": "author",
    "creator": "last edited by",
    "creation-date": "created",
    "date": "last saved",
    "generator": "creation software",
    "editing-cycles": "times edited",
    "editing-duration": "total editing time",
    "printed-by": "last printed by",
    "print-date": "last printed",
    "title": "title",
    "subject": "subject",
    "description": "comments",
    "keyword": "keywords",
    "language": "language",
}
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_REL_CORE = "/metadata/core-properties"
_REL_APP = "/extended-properties"
_REL_CUSTOM = "/custom-properties"
_AUTHOR_ATTR = re.compile(rb'w:author="([^"]{1,200})"')
_ODF_CREATOR = re.compile(rb"<dc:creator>([^<]{1,200})</dc:creator>")
_ODF_PRINTER = re.compile(rb'config:name="PrinterName"[^>]{0,200}>([^<]{1,200})<')
_LOCAL_PATH = re.compile(rb'(?:[A-Za-z]:\\|/home/|/Users/)[^"<>\r\n]{2,150}')
_UNCHECKED = "embedded files that SecureSubmit did not check"
_ZIP_CONTAINER = "file dates and other details of the ZIP container"
_HARMLESS_EXTENSIONS = (".emf", ".wmf", ".svg", ".odttf", ".ttf", ".otf", ".fntdata")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse_xml(part: bytes, kind: str) -> ElementTree.Element:
    """Parse a small XML part from a hostile file: no DTDs, no entities, bounded size."""
    if len(part) > MAX_XML_PART_BYTES:
        raise _damaged(kind, "a document part is too large")
    if b"<!DOCTYPE" in part or b"<!ENTITY" in part:
        raise FormatError(
            f"this {kind} contains an XML document type declaration, which Office files must "
            "not have; it was refused"
        )
    try:
        # Safe without defusedxml: a part with a DTD is refused above, so no entity can be
        # declared (no "billion laughs"), and ElementTree never fetches external resources.
        return ElementTree.fromstring(part)  # noqa: S314
    except (ElementTree.ParseError, ValueError) as exc:
        raise _damaged(kind, f"a document part is not valid XML: {_text(exc, 60)}") from None


def _describe_properties(part: bytes, labels: dict[str, str], kind: str) -> list[str]:
    try:
        root = _parse_xml(part, kind)
    except FormatError:
        return ["document properties (damaged; SecureSubmit could not read them)"]
    items: list[str] = []
    others = 0
    for element in root.iter():
        if element is root:
            continue
        name = _local(element.tag)
        value = _text(element.text or "")
        if name == "meta" and _local(root.tag) == "document-meta":
            continue
        if name in labels and value:
            items.append(f"{labels[name]}: {value}")
        elif name == "property" or name == "user-defined":
            prop = _text(
                element.get("name", "")
                or element.get("{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}name", ""),
                40,
            )
            text = value or _text("".join(element.itertext()))
            items.append(f'custom property "{prop}"' + (f": {text}" if text else ""))
        elif name == "template" and element.get("{http://www.w3.org/1999/xlink}href"):
            items.append(f"template: {_text(element.get('{http://www.w3.org/1999/xlink}href'))}")
        elif (element.text and element.text.strip()) or element.attrib:
            others += 1
    if others:
        items.append("other document properties (page and word counts and the like)")
    return items


def _check_eocd(data: bytes) -> int:
    """Read the ZIP end record ourselves before zipfile builds anything: member count."""
    pos = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65535))
    if pos < 0 or pos + 22 > len(data):
        raise _damaged(_ZIP_KIND, "its ZIP directory is missing")
    disk, cd_disk, here, total, cd_size, cd_offset, comment = struct.unpack_from(
        "<HHHHIIH", data, pos + 4
    )
    if total == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        raise FormatError("this ZIP file uses the ZIP64 extension, which SecureSubmit refuses")
    if disk or cd_disk or here != total or pos + 22 + comment != len(data):
        raise _damaged(_ZIP_KIND, "its ZIP directory is inconsistent")
    return int(total)


def _zip_name_ok(name: str) -> bool:
    parts = name.rstrip("/").split("/")
    return (
        bool(name)
        and len(name) <= 1024
        and not (
            name.startswith("/")
            or "\\" in name
            or "\x00" in name
            or any(part in ("", ".", "..") for part in parts)
            or (len(parts[0]) == 2 and parts[0][1] == ":")
        )
    )


@dataclass
class _Zip:
    archive: zipfile.ZipFile
    members: list[zipfile.ZipInfo]


def _open_zip(data: bytes) -> _Zip | str:
    """A checked ZIP archive, or the warning text if it is too big to check."""
    count = _check_eocd(data)
    if count > MAX_ZIP_MEMBERS:
        return _W_ARCHIVE
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        OSError,
        EOFError,
        NotImplementedError,
        struct.error,
    ) as exc:
        raise _damaged(_ZIP_KIND, f"its ZIP structure is broken: {_text(exc, 60)}") from None
    seen: set[str] = set()
    packed = unpacked = 0
    for info in members:
        if not _zip_name_ok(info.filename):
            raise FormatError(
                f"this file contains a member with an unsafe name ({_text(info.filename, 60)!r}); "
                "it was refused"
            )
        folded = info.filename.casefold()
        if folded in seen:
            raise FormatError(
                f"this file contains two members named {_text(info.filename, 60)!r}; it was refused"
            )
        seen.add(folded)
        if info.flag_bits & 0x1:
            raise FormatError(
                "this file is password-protected inside; SecureSubmit cannot clean it",
                hint="remove the password and attach it again",
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FormatError("this file uses a ZIP compression method SecureSubmit refuses")
        packed += info.compress_size
        unpacked += info.file_size
    if packed > len(data):
        raise FormatError("this ZIP file's members overlap (a 'zip bomb'); it was refused")
    if unpacked > MAX_ZIP_UNCOMPRESSED:
        return _w_too_large("document")
    return _Zip(archive, members)


def _read_member(archive: _Zip, info: zipfile.ZipInfo, budget: list[int]) -> bytes:
    """A member's content, never more than it declares nor than the remaining budget."""
    out = io.BytesIO()
    try:
        with archive.archive.open(info) as handle:
            while True:
                chunk = handle.read(_COPY_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                budget[0] -= len(chunk)
                if out.tell() > info.file_size or budget[0] < 0:
                    raise FormatError("a ZIP member is larger than it declares; it was refused")
    except SecureSubmitError:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        ValueError,
        OSError,
        EOFError,
        NotImplementedError,
        struct.error,
    ) as exc:
        raise _damaged(_ZIP_KIND, f"a member is damaged: {_text(exc, 60)}") from None
    return out.getvalue()


def _classify_zip(archive: _Zip) -> str | None:
    names = {info.filename.casefold(): info for info in archive.members}
    first = archive.members[0] if archive.members else None
    if first is not None and first.filename == "mimetype" and first.file_size <= 100:
        mimetype = _read_member(archive, first, [100]).strip()
        if mimetype in _ODF_MIMETYPES:
            return _ODF_MIMETYPES[mimetype]
        return None
    if "[content_types].xml" in names:
        for main, media_type in _OOXML_MAIN.items():
            if main in names:
                return media_type
        return "ooxml"
    return None


def _ooxml_property_parts(archive: _Zip, budget: list[int]) -> dict[str, str]:
    """Lower-cased member name -> "core" | "app" | "custom", from _rels/.rels and the usual
    places, so that properties moved elsewhere by a crafted file are still found."""
    parts = {
        "docprops/core.xml": "core",
        "docprops/app.xml": "app",
        "docprops/custom.xml": "custom",
    }
    rels = next((i for i in archive.members if i.filename.casefold() == "_rels/.rels"), None)
    if rels is None:
        return parts
    root = _parse_xml(_read_member(archive, rels, budget), _ZIP_KIND)
    for rel in root:
        rel_type = rel.get("Type", "")
        target = rel.get("Target", "")
        if rel.get("TargetMode", "Internal") != "Internal" or not target:
            continue
        name = posixpath.normpath(target.lstrip("/")).casefold()
        if name.startswith(".."):
            continue
        for suffix, role in ((_REL_CORE, "core"), (_REL_APP, "app"), (_REL_CUSTOM, "custom")):
            if rel_type.endswith(suffix):
                parts[name] = role
    return parts


_IMAGE_HANDLED = (JPEG, PNG, WEBP, TIFF)


def _zip_member_role(name: str, media_type: str, properties: dict[str, str]) -> str:
    folded = name.casefold()
    if media_type in _OOXML_TYPES and folded in properties:
        return properties[folded]
    if media_type in _ODF_TYPES and (folded == "meta.xml" or folded.endswith("/meta.xml")):
        return "odf-meta"
    return ""


def _scan_remaining(name: str, content: bytes, media_type: str) -> list[str]:
    """Identifying things inside document parts that we do not remove."""
    items: list[str] = []
    folded = name.casefold()
    if not (folded.endswith(".xml") or folded.endswith(".rels")):
        return items
    authors = _unique(_text(m.group(1), 40) for m in _AUTHOR_ATTR.finditer(content))
    if media_type in _ODF_TYPES and folded in ("content.xml", "styles.xml"):
        authors += _unique(_text(m.group(1), 40) for m in _ODF_CREATOR.finditer(content))
    if authors:
        shown = ", ".join(authors[:5]) + (
            f" and {len(authors) - 5} more" if len(authors) > 5 else ""
        )
        items.append(f"tracked changes or comments by: {shown}")
    base = posixpath.basename(folded)
    if (
        base.startswith("comments")
        or base.startswith("threadedcomment")
        or base in ("commentauthors.xml", "people.xml")
        or "/persons/" in folded
    ):
        items.append("comments and the names of their authors")
    if b"w:rsidR=" in content or b"<w:rsids>" in content:
        items.append(
            "editing-session IDs (rsid) that can link this document to others "
            "edited on the same computer"
        )
    if folded.startswith("customxml/"):
        items.append("custom XML data (for example from SharePoint; it can include names)")
    for match in _LOCAL_PATH.finditer(content):
        items.append(f"a file path from the author's computer: {_text(match.group(0), 60)}")
        break
    printer = _ODF_PRINTER.search(content)
    if printer:
        items.append(f"printer name: {_text(printer.group(1), 40)}")
    return items


def _describe_member_binary(name: str, content: bytes) -> str | None:
    folded = name.casefold()
    if (
        folded.endswith(".xml")
        or folded.endswith(".rels")
        or folded == "mimetype"
        or folded.endswith("/")
        or not content
    ):
        return None
    if "vbaproject" in folded:
        return "macros (VBA code; it can contain the author's name)"
    if "printersettings" in folded:
        return "printer settings (they can include the printer's name)"
    if folded.endswith(_HARMLESS_EXTENSIONS):
        return None
    return _UNCHECKED


def _fresh_entry(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """The same name and compression, nothing else: no dates, comments or extra fields."""
    entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
    entry.compress_type = info.compress_type
    entry.external_attr = (0o40755 << 16) | 0x10 if info.is_dir() else 0o644 << 16
    return entry


def _copy_member(
    archive: _Zip, info: zipfile.ZipInfo, budget: list[int], out: zipfile.ZipFile
) -> None:
    """Stream a large member through unchanged, as bounded as :func:`_read_member`."""
    copied = 0
    try:
        with archive.archive.open(info) as source, out.open(_fresh_entry(info), "w") as dest:
            while chunk := source.read(_COPY_CHUNK):
                copied += len(chunk)
                budget[0] -= len(chunk)
                if copied > info.file_size or budget[0] < 0:
                    raise FormatError("a ZIP member is larger than it declares; it was refused")
                dest.write(chunk)
    except SecureSubmitError:
        raise
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, struct.error) as exc:
        raise _damaged(_ZIP_KIND, f"a member is damaged: {_text(exc, 60)}") from None


@dataclass
class _ZipReport:
    found: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    lossless: bool = True


def _process_zip(data: bytes, media_type: str, out: zipfile.ZipFile | None) -> _ZipReport:
    """Describe (and when ``out`` is given, write a cleaned copy of) an Office document."""
    opened = _open_zip(data)
    if isinstance(opened, str):
        raise _damaged(_ZIP_KIND, "it changed since it was inspected")
    kind = _KIND[media_type]
    budget = [MAX_ZIP_UNCOMPRESSED]
    properties = _ooxml_property_parts(opened, budget) if media_type in _OOXML_TYPES else {}
    report = _ZipReport()
    for info in opened.members:
        role = _zip_member_role(info.filename, media_type, properties)
        if not role and info.file_size > MAX_MEMBER_IN_MEMORY:
            report.unchecked.append(info.filename)
            if out is not None:
                _copy_member(opened, info, budget, out)
            continue
        if role and info.file_size > MAX_XML_PART_BYTES:
            content = b"<too-large/>"  # not read: it is replaced below all the same
        else:
            content = _read_member(opened, info, budget)
        replacement: bytes | None = None
        if role:
            labels = {
                "core": _CORE_LABELS,
                "app": _APP_LABELS,
                "custom": {},
                "odf-meta": _ODF_META_LABELS,
            }[role]
            report.found += _describe_properties(content, labels, kind)
            replacement = {
                "core": _EMPTY_CORE,
                "app": _EMPTY_APP,
                "custom": _EMPTY_CUSTOM,
                "odf-meta": _EMPTY_ODF_META,
            }[role]
        else:
            member_type = _sniff(content[:_SNIFF_BYTES])
            if member_type in _IMAGE_HANDLED:
                where = _text(info.filename, 60)
                try:
                    image_items, _, _ = _describe_image(content, member_type)
                    if out is not None:
                        replacement, _, image_lossless = _clean_image(content, member_type)
                        report.lossless = report.lossless and image_lossless
                except SecureSubmitError as exc:
                    report.remaining.append(
                        f"an embedded image that could not be cleaned ({where}: {exc})"
                    )
                else:
                    report.found += [f"in the embedded image {where}: {i}" for i in image_items]
            else:
                report.remaining += _scan_remaining(info.filename, content, media_type)
                binary = _describe_member_binary(info.filename, content)
                if binary == _UNCHECKED:
                    report.unchecked.append(info.filename)
                elif binary is not None:
                    report.remaining.append(binary)
        if out is not None:
            out.writestr(_fresh_entry(info), content if replacement is None else replacement)
    if report.unchecked:
        shown = ", ".join(_text(n, 40) for n in report.unchecked[:3])
        extra = len(report.unchecked) - 3
        more = f" and {extra} more" if extra > 0 else ""
        report.remaining.append(f"{_UNCHECKED}: {shown}{more}")
    if media_type in _OOXML_TYPES or media_type in _ODF_TYPES:
        report.found.append(_ZIP_CONTAINER)
    return report


# --- PDF: described, not cleaned --------------------------------------------------

_PDF_KEYS = (
    (b"/Author", "author"),
    (b"/Creator", "creation software"),
    (b"/Producer", "PDF software"),
    (b"/Title", "title"),
    (b"/Subject", "subject"),
    (b"/Keywords", "keywords"),
    (b"/CreationDate", "created"),
    (b"/ModDate", "last changed"),
)
_PDF_STRING = rb"\s*(\((?:[^()\\]|\\.){0,300}\)|<[0-9A-Fa-f\s]{0,1200}>)"
_PDF_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _pdf_string(token: bytes) -> str:
    if token.startswith(b"<"):
        digits = re.sub(rb"\s", b"", token[1:-1])
        raw = bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode("ascii"))
    else:
        raw = re.sub(
            rb"\\(?:([0-7]{1,3})|(.))",
            lambda m: (
                bytes((int(m.group(1), 8) & 0xFF,))
                if m.group(1)
                else _PDF_ESCAPES.get(m.group(2), m.group(2))
            ),
            token[1:-1],
            flags=re.DOTALL,
        )
    if raw.startswith(b"\xfe\xff"):
        return _text(raw[2:].decode("utf-16-be", "replace"))
    return _text(raw.decode("latin-1"))


def _describe_pdf(head: bytes, tail: bytes) -> list[str]:
    items: list[str] = []
    if b"/Encrypt" in head or b"/Encrypt" in tail:
        return ["the PDF is encrypted, so SecureSubmit could not read its metadata"]
    for key, label in _PDF_KEYS:
        for chunk in (tail, head):
            match = re.search(re.escape(key) + _PDF_STRING, chunk)
            if match:
                value = _pdf_string(match.group(1))
                if value:
                    items.append(f"{label}: {value}")
                break
    if b"<x:xmpmeta" in head or b"<x:xmpmeta" in tail:
        items.append("XMP packet")
    if b"/DCTDecode" in head or b"/DCTDecode" in tail:
        items.append("photos inside, which may carry their own EXIF data such as GPS positions")
    if b"/Annots" in head or b"/Annots" in tail:
        items.append("comments or annotations, which can carry their authors' names")
    return _unique(items)


# --- content sniffing ---------------------------------------------------------------

_HEIF_BRANDS = (
    b"heic",
    b"heix",
    b"hevc",
    b"hevx",
    b"heim",
    b"heis",
    b"mif1",
    b"msf1",
    b"avif",
    b"avis",
    b"mif2",
)


def _sniff(head: bytes) -> str:
    """The media type of a file from its first bytes (never from its name)."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(_PNG_SIGNATURE):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return TIFF
    if head[:4] in (b"IIRO", b"IIRS", b"IIU\x00", b"FUJI") or head[:8] == b"FUJIFILM":
        return "image/x-raw"
    if b"%PDF-" in head[:1024]:
        return PDF
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "application/zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/x-ole-storage"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "image/heic"
        if brand == b"crx ":
            return "image/x-raw"
        if brand in (b"M4A ", b"M4B ", b"M4P "):
            return "audio/mp4"
        return "video/mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3" or (head[:4] == b"RIFF" and head[8:12] == b"AVI "):
        return "video/x-matroska" if head[0] == 0x1A else "video/x-msvideo"
    if (
        head[:3] == b"ID3"
        or head[:4] in (b"OggS", b"fLaC", b"#!AM")
        or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")
        or (head[:4] == b"RIFF" and head[8:12] == b"WAVE")
        or (head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"))
    ):
        return "audio/x-recording"
    return "application/octet-stream"


_NOT_SCRUBBABLE = {
    PDF: ("PDF document", _W_PDF),
    "image/heic": ("HEIC or AVIF photo", _W_HEIC),
    "image/x-raw": ("camera RAW photo", _W_RAW),
    "image/gif": ("GIF image", _W_GIF),
    "video/mp4": ("video", _W_VIDEO),
    "video/x-matroska": ("video", _W_VIDEO),
    "video/x-msvideo": ("video", _W_VIDEO),
    "audio/mp4": ("audio recording", _W_AUDIO),
    "audio/x-recording": ("audio recording", _W_AUDIO),
    "application/x-ole-storage": ("old-format or password-protected Office file", _W_OLE),
    "application/zip": ("ZIP archive", _W_ARCHIVE),
    "application/epub+zip": ("EPUB book", _W_ARCHIVE),
    "ooxml": ("Office file", _W_OFFICE_OTHER),
    "application/octet-stream": ("file of unknown kind", _W_UNKNOWN),
}


# --- dispatch -----------------------------------------------------------------------


def _describe_image(
    data: bytes, media_type: str
) -> tuple[list[str], list[str], tuple[int, int] | None]:
    """Found items, notes and size of a scrubbable image."""
    if media_type == JPEG:
        jpeg, items, orientation, _ = _describe_jpeg(data)
        return items, _orientation_note(orientation), (jpeg.width, jpeg.height)
    if media_type == PNG:
        _, items, orientation, size = _describe_png(data)
        return items, _orientation_note(orientation), size
    if media_type == WEBP:
        chunks, items, orientation, size = _describe_webp(data)
        keeps = chunks[0].fourcc == b"VP8X"
        return items, _orientation_note(orientation) if keeps else [], size
    items, size, raw = _describe_tiff(data)
    if raw:
        raise Refused("camera RAW files cannot be cleaned")
    return items, [], size


def _clean_image(data: bytes, media_type: str) -> tuple[bytes, list[str], bool]:
    """Cleaned bytes, notes and whether the image data was copied bit for bit."""
    if media_type == JPEG:
        return _clean_jpeg(data), [], True
    if media_type == PNG:
        return _clean_png(data), [], True
    if media_type == WEBP:
        return _clean_webp(data), [], True
    cleaned, notes = _clean_tiff(data)
    return cleaned, notes, False


def _hint_note(hint: str | None, media_type: str, kind: str) -> list[str]:
    if not hint:
        return []
    claimed = _normalise_type(hint)
    if claimed in ("", "application/octet-stream") or claimed == media_type:
        return []
    claimed_kind = _KIND.get(claimed, _text(claimed, 60))
    return [
        f"the file's name or type says it is a {claimed_kind}, but its content is a {kind}; "
        "SecureSubmit goes by the content"
    ]


@contextlib.contextmanager
def _source(path_or_stream: str | os.PathLike[str] | BinaryIO) -> Iterator[BinaryIO]:
    if isinstance(path_or_stream, str | os.PathLike):
        try:
            handle = open(path_or_stream, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise NotFound(f"file not found: {path_or_stream}") from None
        except IsADirectoryError:
            raise NotFound(f"this is a folder, not a file: {path_or_stream}") from None
        except PermissionError:
            raise NotFound(
                f"this file cannot be read (permission denied): {path_or_stream}"
            ) from None
        with handle:
            yield handle
        return
    yield path_or_stream


def _read_up_to(stream: BinaryIO, limit: int) -> bytes:
    """At most ``limit`` bytes. One read returns a whole regular file without an extra
    copy; short reads (pipes) are gathered in chunks."""
    first = stream.read(limit) or b""
    if len(first) >= limit or not first:
        return first
    parts, total = [first], len(first)
    while total < limit:
        chunk = stream.read(min(_COPY_CHUNK, limit - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts) if len(parts) > 1 else first


def _remaining_size(stream: BinaryIO) -> int | None:
    try:
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
    except (OSError, ValueError, AttributeError):
        return None
    return end - here


def _plan(data: bytes, media_type: str, size: int | None, hint: str | None) -> ScrubPlan:
    """The plan for a whole file already in memory (a scrubbable kind or a ZIP)."""
    kind = _KIND.get(media_type, "file")
    if media_type == "application/zip":
        opened = _open_zip(data)
        if isinstance(opened, str):
            return NotScrubbable(media_type, "ZIP archive", size, warning=opened)
        classified = _classify_zip(opened)
        if classified is None or classified == "ooxml":
            label = "ooxml" if classified == "ooxml" else media_type
            zip_kind, warning = _NOT_SCRUBBABLE[label]
            return NotScrubbable(
                media_type,
                zip_kind,
                size,
                warning=warning,
                notes=_items(_hint_note(hint, media_type, zip_kind)),
            )
        media_type, kind = classified, _KIND[classified]
        report = _process_zip(data, media_type, None)
        found = _unique(report.found + report.remaining)
        remaining = _unique(report.remaining)
        return ScrubPlan(
            media_type,
            kind,
            size,
            _items(found),
            _items(remaining),
            _items(_hint_note(hint, media_type, kind) + report.notes),
            warning=_W_REMAINING if remaining else None,
        )
    if media_type == TIFF:
        items, tiff_size, raw = _describe_tiff(data)
        dimensions: tuple[int, int] | None = tiff_size
        if raw:
            raw_kind, warning = _NOT_SCRUBBABLE["image/x-raw"]
            return NotScrubbable(
                "image/x-raw",
                raw_kind,
                size,
                warning=warning,
                dimensions=dimensions,
                notes=_items(_hint_note(hint, "image/x-raw", raw_kind)),
            )
        notes: list[str] = []
    else:
        items, notes, dimensions = _describe_image(data, media_type)
    return ScrubPlan(
        media_type,
        kind,
        size,
        _items(items),
        (),
        _items(_hint_note(hint, media_type, kind) + notes),
        dimensions,
    )


def inspect(
    path_or_stream: str | os.PathLike[str] | BinaryIO, media_type_hint: str | None = None
) -> ScrubPlan:
    """Identify a file by its content and list the hidden metadata it carries.

    ``media_type_hint`` is a media type such as ``"image/jpeg"`` (for example guessed from
    the file name); it is never trusted: when it disagrees with the content, the plan says
    so in ``notes``. A seekable stream is put
    back where it was. Returns a :class:`NotScrubbable` plan for kinds of file we cannot
    clean; raises :class:`~securesubmit.errors.FormatError` for a damaged file of a kind
    we clean and :class:`~securesubmit.errors.Refused` for a decompression bomb.
    """
    with _source(path_or_stream) as stream:
        try:
            start = stream.tell() if stream.seekable() else None
        except (OSError, ValueError, AttributeError):
            start = None
        size = _remaining_size(stream) if start is not None else None
        try:
            return _inspect_stream(stream, start, size, media_type_hint)
        finally:
            if start is not None:
                with contextlib.suppress(OSError, ValueError):
                    stream.seek(start)


def _inspect_stream(
    stream: BinaryIO, start: int | None, size: int | None, hint: str | None
) -> ScrubPlan:
    head = _read_up_to(stream, _SNIFF_BYTES)
    media_type = _sniff(head)
    if media_type in _IMAGE_TYPES or media_type == "application/zip":
        kind = _KIND.get(media_type, "document")
        if size is not None and size > MAX_SCRUB_BYTES:
            return NotScrubbable(media_type, kind, size, warning=_w_too_large(kind))
        if start is not None:  # read it again in one piece rather than copy head + rest
            stream.seek(start)
            data = _read_up_to(stream, MAX_SCRUB_BYTES + 1)
        else:
            data = head + _read_up_to(stream, MAX_SCRUB_BYTES + 1 - len(head))
        if len(data) > MAX_SCRUB_BYTES:
            return NotScrubbable(media_type, kind, size, warning=_w_too_large(kind))
        return _plan(data, media_type, len(data) if size is None else size, hint)
    kind, warning = _NOT_SCRUBBABLE[media_type]
    found: list[str] = []
    if media_type == PDF:
        head += _read_up_to(stream, _PDF_SCAN_BYTES - len(head))
        tail = b""
        if size is not None and size > len(head):
            with contextlib.suppress(OSError, ValueError):
                stream.seek(max(0, size - _PDF_SCAN_BYTES - len(head)), io.SEEK_CUR)
                tail = _read_up_to(stream, _PDF_SCAN_BYTES)
        found = _describe_pdf(head, tail)
    return NotScrubbable(
        media_type,
        kind,
        size,
        _items(found),
        _items(found),
        _items(_hint_note(hint, media_type, kind)),
        warning=warning,
    )


def scrub(source: BinaryIO, dest: BinaryIO, plan: ScrubPlan) -> ScrubResult:
    """Write a copy of ``source`` without its hidden metadata to ``dest``.

    ``plan`` is what :func:`inspect` returned for this file; ``source`` is read from its
    current position. The cleaned copy is built in memory and inspected again before a
    single byte goes to ``dest``, so on any error ``dest`` is untouched. Raises
    :class:`~securesubmit.errors.Refused` for a :class:`NotScrubbable` plan or a file
    that differs from the inspected one.
    """
    if not plan.scrubbable:
        raise Refused(plan.warning or _W_UNKNOWN)
    data = _read_up_to(source, MAX_SCRUB_BYTES + 1)
    if len(data) > MAX_SCRUB_BYTES:
        raise Refused(_w_too_large(plan.kind))
    media_type = _sniff(data[:_SNIFF_BYTES])
    if media_type == "application/zip":
        opened = _open_zip(data)
        media_type = (
            (_classify_zip(opened) or media_type) if not isinstance(opened, str) else media_type
        )
    if media_type != plan.media_type:
        raise Refused(
            "the file is not the one that was inspected; nothing was written",
            hint="inspect the file again, then clean it",
        )
    notes: list[str] = []
    if media_type in _IMAGE_TYPES:
        removed, before_notes, _ = _describe_image(data, media_type)
        cleaned, clean_notes, lossless = _clean_image(data, media_type)
        notes = before_notes + clean_notes
        remaining: list[str] = []
        if any(item.startswith("ICC colour profile") for item in removed):
            notes.append(
                "the colour profile was removed: photos taken in a wide colour space "
                "(Display P3, Adobe RGB) may look slightly less vivid"
            )
        after, _, _ = _describe_image(cleaned, media_type)
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            report = _process_zip(data, media_type, archive)
        cleaned = buffer.getvalue()
        removed, remaining, lossless = report.found, _unique(report.remaining), report.lossless
        notes = report.notes
        after_report = _process_zip(cleaned, media_type, None)
        after = [i for i in after_report.found if i != _ZIP_CONTAINER]
    if after:
        raise Refused(
            "SecureSubmit could not confirm that the file was cleaned; nothing was written",
            hint=f"still present: {'; '.join(after[:3])} (please report this as a bug)",
        )
    view = memoryview(cleaned)
    for offset in range(0, len(view), _COPY_CHUNK):
        dest.write(view[offset : offset + _COPY_CHUNK])
    return ScrubResult(
        media_type,
        _items(removed),
        _items(remaining),
        _items(notes),
        lossless,
        len(data),
        len(cleaned),
    )
