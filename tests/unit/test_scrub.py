"""Metadata scrubbing: every sample is generated here, with canary strings to hunt for."""

from __future__ import annotations

import io
import struct
import tempfile
import unicodedata
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageOps, PngImagePlugin

from securesubmit.core import scrub
from securesubmit.errors import FormatError, NotFound, Refused, SecureSubmitError

SERIAL = "SERIAL-CANARY-7731"
ARTIST = "ARTIST-CANARY-Aigerim"
MAKERNOTE = b"MAKERNOTE-CANARY-0042"
XMP_CANARY = b"XMP-CANARY-5e1f"
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:exif="http://ns.adobe.com/exif/1.0/">'
    b"<dc:creator>" + XMP_CANARY + b"</dc:creator><exif:GPSLatitude>43,15.0N</exif:GPSLatitude>"
    b'</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
CANARIES = (SERIAL.encode(), ARTIST.encode(), MAKERNOTE, XMP_CANARY, b"Canon EOS 80D")


def _exif(orientation: int = 1, artist: str = ARTIST) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 80D"
    exif[0x013B] = artist
    exif[0x0131] = "Firmware 1.0.2"
    if orientation != 1:
        exif[0x0112] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[1], gps[2] = "N", (43.0, 15.0, 0.0)
    gps[3], gps[4] = "E", (76.0, 57.0, 0.0)
    gps[6] = 850.0
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[0xA431] = SERIAL
    sub[0x9003] = "2026:05:01 10:22:33"
    sub[0x927C] = MAKERNOTE
    return exif


def _picture(size: tuple[int, int] = (96, 64), mode: str = "RGB") -> Image.Image:
    """A non-uniform picture, so that a rotation or a lost pixel shows."""
    width, height = size
    data = bytes(
        (x * 7 + y * 3 + c * 50) % 256
        for y in range(height)
        for x in range(width)
        for c in range(3)
    )
    return Image.frombytes("RGB", size, data).convert(mode)


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _jpeg(orientation: int = 1, **options: object) -> bytes:
    return _encode(_picture(), "JPEG", quality=95, exif=_exif(orientation), xmp=XMP, **options)


def _clean(
    data: bytes, hint: str | None = None
) -> tuple[scrub.ScrubPlan, scrub.ScrubResult, bytes]:
    plan = scrub.inspect(io.BytesIO(data), hint)
    out = io.BytesIO()
    result = scrub.scrub(io.BytesIO(data), out, plan)
    return plan, result, out.getvalue()


def _pixels(data: bytes, transpose: bool = False) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return ImageOps.exif_transpose(image) if transpose else image


def _assert_no_canaries(data: bytes) -> None:
    for canary in CANARIES:
        assert canary not in data, canary


# --- JPEG ---------------------------------------------------------------------------


def test_jpeg_gps_camera_serial_and_xmp_are_listed_in_plain_words() -> None:
    plan = scrub.inspect(io.BytesIO(_jpeg()))
    assert plan.scrubbable and plan.media_type == "image/jpeg" and plan.kind == "JPEG photo"
    assert plan.dimensions == (96, 64)
    assert "GPS position 43.25 N 76.95 E" in plan.found
    assert "GPS altitude 850 m" in plan.found
    assert f"camera: Canon EOS 80D serial {SERIAL}" in plan.found
    assert f"author: {ARTIST}" in plan.found
    assert "creation software: Firmware 1.0.2" in plan.found
    assert any(i.startswith("maker notes") for i in plan.found)
    assert any(i.startswith("XMP packet") and "GPS position" in i for i in plan.found)
    assert plan.removable == plan.found and plan.remaining == () and plan.warning is None


def test_jpeg_scrub_removes_every_canary_and_keeps_the_pixels_bit_for_bit() -> None:
    original = _jpeg(comment=b"COMMENT-CANARY", icc_profile=b"ICC-CANARY" * 20)
    _, result, cleaned = _clean(original)
    _assert_no_canaries(cleaned)
    # The GPS IFD pointer entry: tag 0x8825, type LONG, count 1 (big-endian, as Pillow writes).
    gps_entry = b"\x88\x25\x00\x04\x00\x00\x00\x01"
    assert gps_entry in original
    for marker in (gps_entry, b"Exif\x00\x00", b"http://ns.adobe.com/xap", b"ICC_PROFILE"):
        assert marker not in cleaned
    assert Image.open(io.BytesIO(cleaned)).getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert "GPS position 43.25 N 76.95 E" in result.removed
    assert 'comment: "COMMENT-CANARY"' in result.removed
    assert result.lossless and result.remaining == ()
    assert any("colour profile was removed" in n for n in result.notes)
    assert result.size_in == len(original) and result.size_out == len(cleaned)
    before, after = _pixels(original), _pixels(cleaned)
    assert after.size == before.size and after.tobytes() == before.tobytes()
    assert scrub.inspect(io.BytesIO(cleaned)).found == ()


def test_jpeg_orientation_is_kept_as_the_only_exif_value() -> None:
    original = _jpeg(orientation=6)
    plan, _, cleaned = _clean(original)
    assert any("turned 90° clockwise" in n for n in plan.notes)
    _assert_no_canaries(cleaned)
    assert dict(Image.open(io.BytesIO(cleaned)).getexif()) == {0x0112: 6}
    upright_before, upright_after = _pixels(original, True), _pixels(cleaned, True)
    assert upright_after.size == (64, 96)
    assert upright_after.tobytes() == upright_before.tobytes()


def test_jpeg_trailing_video_iptc_and_app_segments_are_removed() -> None:
    base = _encode(_picture(), "JPEG", quality=90)
    iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x10\x1c\x02\x50\x00\x0cIPTC-CANARY!"
    extra = b"".join(
        bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload
        for marker, payload in (
            (0xED, iptc),
            (0xEB, b"JP\x00\x00C2PA-CANARY"),
            (0xE2, b"MPF\x00\x00\x00\x00\x00"),
        )
    )
    original = base[:2] + extra + base[2:] + b"ftypmp42MOTION-CANARY" * 10
    plan, _, cleaned = _clean(original)
    assert "IPTC data (captions, names, places)" in plan.found
    assert any(i.startswith("content credentials") for i in plan.found)
    assert any(i.startswith("multi-picture data") for i in plan.found)
    assert any(i.startswith("extra data after the end of the photo") for i in plan.found)
    for canary in (b"IPTC-CANARY", b"C2PA-CANARY", b"MOTION-CANARY", b"MPF\x00"):
        assert canary not in cleaned
    assert cleaned.endswith(b"\xff\xd9")
    assert _pixels(cleaned).tobytes() == _pixels(base).tobytes()


def test_progressive_and_grayscale_jpegs_are_cleaned_losslessly() -> None:
    for image, options in (
        (_picture(), {"progressive": True}),
        (_picture(mode="L"), {}),
        (_picture(mode="CMYK"), {}),
    ):
        original = _encode(image, "JPEG", quality=92, exif=_exif(), **options)
        _, result, cleaned = _clean(original)
        assert result.lossless
        _assert_no_canaries(cleaned)
        assert _pixels(cleaned).tobytes() == _pixels(original).tobytes()


def test_truncated_jpeg_gives_a_clear_error() -> None:
    original = _jpeg()
    for cut in (len(original) // 2, len(original) - 2, 3, 40):
        with pytest.raises(FormatError, match="damaged or incomplete"):
            scrub.inspect(io.BytesIO(original[:cut]))


def test_jpeg_claiming_billions_of_pixels_is_refused() -> None:
    original = bytearray(_encode(_picture(), "JPEG"))
    sof = original.index(b"\xff\xc0")
    original[sof + 5 : sof + 9] = struct.pack(">HH", 60000, 60000)
    with pytest.raises(Refused, match="megapixels"):
        scrub.inspect(io.BytesIO(bytes(original)))


# --- PNG ----------------------------------------------------------------------------


def _png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "PNG-TEXT-CANARY")
    info.add_text("Comment", "PNG-ZTXT-CANARY", zip=True)
    info.add_itxt("Description", "PNG-ITXT-CANARY", lang="ru", tkey="Описание")
    info.add(b"tIME", b"\x07\xea\x05\x01\x0a\x16\x21")
    info.add(b"prVW", b"PRIVATE-CANARY")
    return _encode(_picture(), "PNG", pnginfo=info, exif=_exif(), icc_profile=b"P" * 300)


def _png_chunk_types(data: bytes) -> list[bytes]:
    pos, kinds = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kinds.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return kinds


def test_png_text_chunks_exif_and_private_chunks_are_removed_losslessly() -> None:
    original = _png_with_text()
    plan, result, cleaned = _clean(original)
    assert 'text note "Author": PNG-TEXT-CANARY' in plan.found
    assert 'text note "Comment": PNG-ZTXT-CANARY' in plan.found
    assert 'text note "Description": PNG-ITXT-CANARY' in plan.found
    assert "GPS position 43.25 N 76.95 E" in plan.found
    assert "the time the image was last changed" in plan.found
    assert "private data chunk 'prVW'" in plan.found
    assert any(i.startswith("ICC colour profile") for i in plan.found)
    for canary in (b"PNG-TEXT-CANARY", b"PRIVATE-CANARY", *CANARIES):
        assert canary not in cleaned
    assert set(_png_chunk_types(cleaned)) == {b"IHDR", b"IDAT", b"IEND"}
    assert result.lossless
    assert _pixels(cleaned).tobytes() == _pixels(original).tobytes()


def test_png_orientation_is_kept_in_a_minimal_exif_chunk() -> None:
    original = _encode(_picture(), "PNG", exif=_exif(orientation=8))
    _, _, cleaned = _clean(original)
    _assert_no_canaries(cleaned)
    assert b"eXIf" in _png_chunk_types(cleaned)
    assert dict(Image.open(io.BytesIO(cleaned)).getexif()) == {0x0112: 8}
    assert _pixels(cleaned, True).tobytes() == _pixels(original, True).tobytes()


def test_png_with_a_wrong_checksum_is_refused() -> None:
    original = bytearray(_png_with_text())
    original[original.index(b"IDAT") + 6] ^= 0xFF
    with pytest.raises(FormatError, match="checksum"):
        scrub.inspect(io.BytesIO(bytes(original)))


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_png_decompression_bomb_is_refused_without_decoding() -> None:
    # 40000 x 40000 pixels of black declared in a file of a few hundred bytes.
    ihdr = struct.pack(">IIBBBBB", 40000, 40000, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )
    with pytest.raises(Refused, match="megapixels"):
        scrub.inspect(io.BytesIO(bomb))


# --- WebP and TIFF ------------------------------------------------------------------


def test_webp_exif_and_xmp_are_removed_losslessly() -> None:
    original = _encode(
        _picture(), "WEBP", lossless=True, exif=_exif(), xmp=XMP, icc_profile=b"I" * 64
    )
    plan, result, cleaned = _clean(original)
    assert "GPS position 43.25 N 76.95 E" in plan.found
    assert any(i.startswith("XMP packet") for i in plan.found)
    _assert_no_canaries(cleaned)
    assert b"EXIF" not in cleaned and b"XMP " not in cleaned and b"ICCP" not in cleaned
    assert result.lossless
    assert _pixels(cleaned).tobytes() == _pixels(original).tobytes()


def test_lossy_and_animated_webp_keep_their_image_data() -> None:
    lossy = _encode(_picture(), "WEBP", quality=80, exif=_exif(orientation=3))
    _, _, cleaned = _clean(lossy)
    _assert_no_canaries(cleaned)
    assert dict(Image.open(io.BytesIO(cleaned)).getexif()) == {0x0112: 3}
    assert _pixels(cleaned).tobytes() == _pixels(lossy).tobytes()
    frames = [_picture(), _picture().transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    animated = _encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], exif=_exif())
    _, _, cleaned = _clean(animated)
    _assert_no_canaries(cleaned)
    assert Image.open(io.BytesIO(cleaned)).n_frames == 2


def _tiff(orientation: int = 1) -> bytes:
    info = {
        270: "DESCRIPTION-CANARY",
        271: "Canon",
        272: "Canon EOS 80D",
        305: "SOFTWARE-CANARY",
        315: ARTIST,
        700: XMP,
        33432: "COPYRIGHT-CANARY",
    }
    if orientation != 1:
        info[274] = orientation
    return _encode(_picture(), "TIFF", tiffinfo=info)


def test_tiff_tags_are_removed_and_orientation_applied_to_pixels() -> None:
    original = _tiff(orientation=6)
    plan, result, cleaned = _clean(original)
    assert f"author: {ARTIST}" in plan.found
    assert "description: DESCRIPTION-CANARY" in plan.found
    assert any(i.startswith("XMP packet") for i in plan.found)
    for canary in (b"DESCRIPTION-CANARY", b"SOFTWARE-CANARY", b"COPYRIGHT-CANARY", *CANARIES):
        assert canary not in cleaned
    assert "the orientation was applied to the pixels" in result.notes
    out = Image.open(io.BytesIO(cleaned))
    assert set(out.tag_v2) <= scrub._TIFF_STRUCTURAL and 274 not in out.tag_v2
    assert out.size == (64, 96)
    assert _pixels(cleaned).tobytes() == _pixels(original, True).tobytes()


def test_multipage_tiff_keeps_every_page() -> None:
    pages = [_picture(), _picture((40, 30))]
    original = _encode(
        pages[0], "TIFF", save_all=True, append_images=pages[1:], tiffinfo={315: ARTIST}
    )
    _, _, cleaned = _clean(original)
    assert ARTIST.encode() not in cleaned
    out = Image.open(io.BytesIO(cleaned))
    assert out.n_frames == 2
    out.seek(1)
    assert out.size == (40, 30)


def test_camera_raw_built_on_tiff_is_not_scrubbable() -> None:
    dng = _encode(_picture(), "TIFF", tiffinfo={50706: b"\x01\x04\x00\x00", 315: ARTIST})
    plan = scrub.inspect(io.BytesIO(dng))
    assert isinstance(plan, scrub.NotScrubbable) and plan.kind == "camera RAW photo"
    assert "serial number" in (plan.warning or "")


def test_truncated_images_of_every_kind_give_format_errors_not_pillow_tracebacks() -> None:
    samples = (_png_with_text(), _encode(_picture(), "WEBP"), _tiff(), _docx())
    for data in samples:
        for cut in (len(data) // 3, len(data) - 5):
            with pytest.raises(FormatError, match="damaged"):
                plan = scrub.inspect(io.BytesIO(data[:cut]))
                scrub.scrub(io.BytesIO(data[:cut]), io.BytesIO(), plan)


def test_tiff_over_the_decode_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Image.MAX_IMAGE_PIXELS == scrub.MAX_DECODE_PIXELS  # set explicitly on import
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    monkeypatch.setattr(scrub, "MAX_DECODE_PIXELS", 1000)
    with pytest.raises(Refused, match="pixels"):
        scrub.inspect(io.BytesIO(_tiff()))


# --- Office documents -------------------------------------------------------------

CT = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
    'ContentType="application/xml"/><Default Extension="jpeg" ContentType="image/jpeg"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
    '.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
    'metadata/core-properties" Target="{core}"/><Relationship Id="rId3" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/extended-properties" '
    'Target="docProps/app.xml"/></Relationships>'
)
CORE = (
    '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.'
    'openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/'
    'elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"><dc:creator>AUTHOR-CANARY Nurlan'
    "</dc:creator><cp:lastModifiedBy>EDITOR-CANARY</cp:lastModifiedBy><dcterms:created>"
    "2026-05-01T10:00:00Z</dcterms:created><cp:revision>7</cp:revision></cp:coreProperties>"
)
APP = (
    '<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats.org/'
    'officeDocument/2006/extended-properties"><Application>Microsoft Office Word</Application>'
    "<Company>COMPANY-CANARY</Company><Template>Normal.dotm</Template><Pages>1</Pages>"
    "</Properties>"
)
DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats'
    '.org/wordprocessingml/2006/main"><w:body><w:p w:rsidR="00A1B2C3"><w:r><w:t>Evidence text'
    '</w:t></w:r><w:ins w:id="1" w:author="REVIEWER-CANARY"><w:r><w:t>added</w:t></w:r>'
    "</w:ins></w:p></w:body></w:document>"
)


def _docx(core_path: str = "docProps/core.xml", extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.comment = b"ZIP-COMMENT-CANARY"
        archive.writestr("[Content_Types].xml", CT)
        archive.writestr("_rels/.rels", RELS.format(core=core_path))
        archive.writestr(core_path, CORE)
        archive.writestr("docProps/app.xml", APP)
        archive.writestr("word/document.xml", DOCUMENT)
        archive.writestr("word/media/image1.jpeg", _jpeg())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_docx_properties_and_embedded_photo_metadata_are_removed() -> None:
    original = _docx(extra={"word/media/image2.gif": b"GIF89a" + b"\x00" * 20})
    plan, result, cleaned = _clean(original, "application/msword")
    assert plan.media_type == scrub.DOCX and plan.kind == "Word document (.docx)"
    assert "author: AUTHOR-CANARY Nurlan" in plan.found
    assert "last edited by: EDITOR-CANARY" in plan.found
    assert "company: COMPANY-CANARY" in plan.found
    assert any("word/media/image1.jpeg: GPS position 43.25 N 76.95 E" in i for i in plan.found)
    assert "tracked changes or comments by: REVIEWER-CANARY" in plan.remaining
    assert any(i.startswith("editing-session IDs") for i in plan.remaining)
    assert any("word/media/image2.gif" in i for i in plan.remaining)
    assert plan.warning is not None
    assert "author: AUTHOR-CANARY Nurlan" in result.removed
    assert result.remaining == plan.remaining
    members = _members(cleaned)
    everything = b"".join(members.values()) + cleaned
    for canary in (
        b"AUTHOR-CANARY",
        b"EDITOR-CANARY",
        b"COMPANY-CANARY",
        b"ZIP-COMMENT-CANARY",
        *CANARIES,
    ):
        assert canary not in everything, canary
    assert members["word/document.xml"] == DOCUMENT.encode()
    assert _pixels(members["word/media/image1.jpeg"]).size == (96, 64)
    with zipfile.ZipFile(io.BytesIO(cleaned)) as archive:
        assert archive.comment == b""
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert [i.filename for i in archive.infolist()] == list(_members(original))


def test_docx_properties_moved_elsewhere_are_still_found() -> None:
    original = _docx(core_path="meta/props.xml")
    plan, _, cleaned = _clean(original)
    assert "author: AUTHOR-CANARY Nurlan" in plan.found
    assert b"AUTHOR-CANARY" not in _members(cleaned)["meta/props.xml"]


def test_odt_meta_is_emptied_and_mimetype_stays_first_and_stored() -> None:
    meta = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-meta xmlns:office="urn:oasis:'
        'names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:'
        'xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta>'
        "<meta:initial-creator>ODT-AUTHOR-CANARY</meta:initial-creator><meta:generator>"
        'LibreOffice/7.4</meta:generator><meta:user-defined meta:name="Source">SOURCE-CANARY'
        "</meta:user-defined></office:meta></office:document-meta>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), scrub.ODT, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>")
        archive.writestr("meta.xml", meta)
        archive.writestr("Thumbnails/thumbnail.png", _png_with_text())
    plan, _, cleaned = _clean(out.getvalue())
    assert plan.media_type == scrub.ODT
    assert "author: ODT-AUTHOR-CANARY" in plan.found
    assert 'custom property "Source": SOURCE-CANARY' in plan.found
    members = _members(cleaned)
    assert b"ODT-AUTHOR-CANARY" not in members["meta.xml"]
    assert b"SOURCE-CANARY" not in members["meta.xml"]
    assert b"PNG-TEXT-CANARY" not in members["Thumbnails/thumbnail.png"]
    with zipfile.ZipFile(io.BytesIO(cleaned)) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED


def test_xlsx_and_pptx_are_recognised_by_content() -> None:
    for main, media_type in (("xl/workbook.xml", scrub.XLSX), ("ppt/presentation.xml", scrub.PPTX)):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("[Content_Types].xml", CT)
            archive.writestr(main, "<x/>")
            archive.writestr("docProps/core.xml", CORE)
        plan = scrub.inspect(io.BytesIO(out.getvalue()))
        assert plan.media_type == media_type and "author: AUTHOR-CANARY Nurlan" in plan.found


@pytest.mark.parametrize("name", ["../evil.xml", "/etc/passwd", "word\\..\\x.xml", "C:/x.xml"])
def test_zip_member_with_a_path_trick_is_refused(name: str) -> None:
    with pytest.raises(FormatError, match="unsafe name"):
        scrub.inspect(io.BytesIO(_docx(extra={name: b"x"})))


def test_zip_with_duplicate_members_is_refused() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = _docx(extra={"docProps/CORE.xml": CORE.encode()})
    with pytest.raises(FormatError, match="two members"):
        scrub.inspect(io.BytesIO(data))


def test_xml_entity_expansion_is_refused() -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;'
        '&a;&a;&a;&a;&a;">]><Relationships>&b;</Relationships>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", CT)
        archive.writestr("_rels/.rels", laughs)
        archive.writestr("word/document.xml", DOCUMENT)
    with pytest.raises(FormatError, match="document type declaration"):
        scrub.inspect(io.BytesIO(out.getvalue()))


def test_zip_that_expands_beyond_the_limit_is_not_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scrub, "MAX_ZIP_UNCOMPRESSED", 64 * 1024)
    plan = scrub.inspect(io.BytesIO(_docx(extra={"word/media/zeros.bin": b"\x00" * 200_000})))
    assert isinstance(plan, scrub.NotScrubbable) and "larger than" in (plan.warning or "")


def test_large_members_are_streamed_through_and_reported_unchecked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scrub, "MAX_MEMBER_IN_MEMORY", 64 * 1024)
    zeros = b"\x00" * 1_000_000  # a 1 MB member that deflates to about 1 KB
    original = _docx(extra={"word/embeddings/big.bin": zeros})
    plan, result, cleaned = _clean(original)
    assert any("did not check: word/embeddings/big.bin" in i for i in plan.remaining)
    assert "author: AUTHOR-CANARY Nurlan" in result.removed
    assert _members(cleaned)["word/embeddings/big.bin"] == zeros


def test_a_plain_zip_archive_is_not_scrubbable() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("photo.jpg", _jpeg())
    plan = scrub.inspect(io.BytesIO(out.getvalue()))
    assert isinstance(plan, scrub.NotScrubbable) and "archives" in (plan.warning or "")


# --- what we do not clean ---------------------------------------------------------


def test_pdf_is_not_scrubbable_and_the_warning_names_the_risk() -> None:
    pdf = _encode(_picture(), "PDF", author="PDF-AUTHOR-CANARY", title="Report")
    plan = scrub.inspect(io.BytesIO(pdf))
    assert isinstance(plan, scrub.NotScrubbable) and not plan.scrubbable
    assert plan.media_type == "application/pdf"
    assert plan.warning is not None and "author's name" in plan.warning
    assert "author: PDF-AUTHOR-CANARY" in plan.found and plan.remaining == plan.found
    assert plan.removable == ()
    dest = io.BytesIO()
    with pytest.raises(Refused, match="cannot be removed"):
        scrub.scrub(io.BytesIO(pdf), dest, plan)
    assert dest.getvalue() == b""


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "HEIC or AVIF photo"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", "video"),
        (b"\x00\x00\x00\x18ftypqt  \x00\x00\x02\x00", "video"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio recording"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40,
            "old-format or password-protected Office file",
        ),
        (b"GIF89a\x01\x00\x01\x00", "GIF image"),
        (b"just some text\n", "file of unknown kind"),
        (b"", "file of unknown kind"),
    ],
)
def test_other_kinds_are_not_scrubbable_with_a_warning(head: bytes, kind: str) -> None:
    plan = scrub.inspect(io.BytesIO(head + b"\x00" * 100 if head else b""))
    assert isinstance(plan, scrub.NotScrubbable) and plan.kind == kind
    assert plan.warning and "SecureSubmit" in plan.warning


def test_supported_media_types() -> None:
    for media_type in (
        "image/jpeg",
        "image/jpg",
        "IMAGE/PNG",
        "image/webp",
        "image/tiff",
        scrub.DOCX,
        scrub.XLSX,
        scrub.PPTX,
        scrub.ODT,
        "image/png; charset=x",
    ):
        assert scrub.supported(media_type), media_type
    for media_type in ("application/pdf", "image/heic", "video/mp4", "application/zip", ""):
        assert not scrub.supported(media_type), media_type


def test_file_over_the_size_cap_is_not_scrubbable_and_scrub_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = _jpeg()
    plan = scrub.inspect(io.BytesIO(data))
    monkeypatch.setattr(scrub, "MAX_SCRUB_BYTES", 1000)
    big = scrub.inspect(io.BytesIO(data))
    assert isinstance(big, scrub.NotScrubbable) and "larger than" in (big.warning or "")
    with pytest.raises(Refused, match="larger than"):
        scrub.scrub(io.BytesIO(data), io.BytesIO(), plan)


# --- the API's promises -------------------------------------------------------------


def test_a_file_whose_extension_lies_is_treated_by_its_content(tmp_path: Path) -> None:
    path = tmp_path / "holiday.jpg"
    path.write_bytes(_png_with_text())
    plan = scrub.inspect(path, "image/jpeg")
    assert plan.media_type == "image/png"
    assert any("says it is a JPEG photo, but its content is a PNG image" in n for n in plan.notes)
    with path.open("rb") as source:
        result = scrub.scrub(source, io.BytesIO(), plan)
    assert result.media_type == "image/png"


def test_scrub_refuses_a_file_other_than_the_inspected_one() -> None:
    plan = scrub.inspect(io.BytesIO(_jpeg()))
    dest = io.BytesIO()
    with pytest.raises(Refused, match="not the one that was inspected"):
        scrub.scrub(io.BytesIO(_png_with_text()), dest, plan)
    assert dest.getvalue() == b""


def test_inspect_puts_a_seekable_stream_back_where_it_was() -> None:
    stream = io.BytesIO(b"prefix" + _jpeg())
    stream.seek(6)
    scrub.inspect(stream)
    assert stream.tell() == 6


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        scrub.inspect(tmp_path / "nope.jpg")
    with pytest.raises(NotFound):
        scrub.inspect(tmp_path)


def test_text_from_the_file_is_made_safe_for_a_terminal() -> None:
    hostile = "\x1b[2J\x1b]0;pwned\x07EVIL\u202egnp.exe" + "x" * 500
    plan = scrub.inspect(io.BytesIO(_encode(_picture(), "JPEG", exif=_exif(artist=hostile))))
    author = next(i for i in plan.found if i.startswith("author: "))
    assert "\x1b" not in author and "\x07" not in author and "\u202e" not in author
    assert len(author) <= 90


def test_every_list_fits_the_sealed_reports_scrubbed_list() -> None:
    # Many photos with long Cyrillic names: at most 100 entries of at most 200 UTF-8 bytes,
    # and no control, format, private-use or separator characters.
    artist = "Журналист Айгерим Нурланқызы\u2028\ue000\u00ad" * 10
    photo = _encode(_picture((16, 16)), "JPEG", exif=_exif(artist=artist))
    original = _docx(extra={f"word/media/photo{i}.jpeg": photo for i in range(40)})
    plan, result, _ = _clean(original)
    for entries in (plan.found, plan.remaining, plan.notes, result.removed, result.notes):
        assert 0 < len(entries) <= scrub.MAX_ITEMS == 100 or entries == ()
        for entry in entries:
            assert entry and len(entry.encode()) <= scrub.MAX_ITEM_BYTES == 200
            assert not {unicodedata.category(c) for c in entry} & {
                "Cc",
                "Cf",
                "Cs",
                "Co",
                "Zl",
                "Zp",
            }
    assert result.removed[-1].startswith("and ") and result.removed[-1].endswith(" more")


def test_scrub_never_uses_temporary_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a temporary file was requested")

    for name in (
        "mkstemp",
        "mkdtemp",
        "NamedTemporaryFile",
        "TemporaryFile",
        "SpooledTemporaryFile",
    ):
        monkeypatch.setattr(tempfile, name, forbidden)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for data in (_jpeg(), _png_with_text(), _tiff(6), _docx()):
        _clean(data)
    assert list(tmp_path.iterdir()) == []


# --- hostile input -----------------------------------------------------------------

_MAGICS = [
    b"",
    b"\xff\xd8\xff",
    b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00",
    b"\x89PNG\r\n\x1a\n",
    b"RIFF\x40\x00\x00\x00WEBPVP8X",
    b"II*\x00",
    b"MM\x00*",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"%PDF-1.7\n",
    b"\x00\x00\x00\x18ftypheic",
]


def _mutate(data: bytes, flips: list[tuple[int, int]], cut: int) -> bytes:
    buffer = bytearray(data)
    for position, value in flips:
        buffer[position % len(buffer)] = value
    return bytes(buffer[: max(1, cut % (len(buffer) + 1))])


_SAMPLES = [
    _jpeg(orientation=6),
    _png_with_text(),
    _encode(_picture(), "WEBP", exif=_exif()),
    _tiff(),
    _docx(),
]


def _attempt(data: bytes) -> None:
    try:
        plan = scrub.inspect(io.BytesIO(data))
        if plan.scrubbable:
            scrub.scrub(io.BytesIO(data), io.BytesIO(), plan)
    except SecureSubmitError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(_MAGICS), body=st.binary(max_size=2048))
def test_random_bytes_only_ever_raise_our_errors(prefix: bytes, body: bytes) -> None:
    _attempt(prefix + body)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample=st.sampled_from(_SAMPLES),
    flips=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=6),
    cut=st.integers(0, 1 << 20),
)
def test_damaged_real_files_only_ever_raise_our_errors(
    sample: bytes, flips: list[tuple[int, int]], cut: int
) -> None:
    _attempt(_mutate(sample, flips, cut))
