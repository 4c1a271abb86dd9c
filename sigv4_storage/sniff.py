"""Whether a file's first bytes agree with the type it was declared as.

A browser declares a direct upload's type; S3 stores it as declared, so a
file sent as ``image/png`` whose bytes are HTML is stored as a PNG. Before an
upload is accepted (``accept``), its first ``SAMPLE`` bytes are checked here
against the declared type's *signature* (its magic number), for the common
families: images, PDF, audio and video containers, archives and office
files, fonts; and text types (HTML, SVG, XML, JSON, CSS, CSV, plain text)
must be text (no NUL byte, no binary signature; XML types begin with
``<``). A type with no known signature is accepted as declared.

Pure functions over bytes: no request, no Django.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

#: The bytes a check reads from the start of a file (a tar's "ustar" is at 257;
#: a PDF's header may come after up to 1 KiB of other bytes).
SAMPLE = 4096


@dataclass(frozen=True)
class Signature:
    """Bytes ``magic`` at ``offset`` (``anywhere``: at or before ``offset``)."""

    magic: bytes
    offset: int = 0
    anywhere: bool = False

    def found(self, sample: bytes) -> bool:
        if self.anywhere:
            return self.magic in sample[: self.offset + len(self.magic)]
        return sample[self.offset : self.offset + len(self.magic)] == self.magic


def _s(*magic: bytes, offset: int = 0) -> tuple[Signature, ...]:
    return tuple(Signature(m, offset) for m in magic)


_ISO_MEDIA = _s(b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", offset=4)
_ZIP = _s(b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE = _s(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")

#: Families of types with one signature: (what the bytes are, in words; the
#: types; every signature that may begin such a file, any one of which will do).
_FAMILIES: tuple[tuple[str, tuple[str, ...], tuple[Signature, ...]], ...] = (
    ("a JPEG image", ("image/jpeg", "image/pjpeg"), _s(b"\xff\xd8\xff")),
    ("a PNG image", ("image/png", "image/apng"), _s(b"\x89PNG\r\n\x1a\n")),
    ("a GIF image", ("image/gif",), _s(b"GIF87a", b"GIF89a")),
    ("a BMP image", ("image/bmp", "image/x-ms-bmp"), _s(b"BM")),
    ("a TIFF image", ("image/tiff",), _s(b"II*\x00", b"MM\x00*")),
    ("an icon", ("image/x-icon", "image/vnd.microsoft.icon"), _s(b"\x00\x00\x01\x00")),
    ("a WebP image", ("image/webp",), (Signature(b"RIFF"), Signature(b"WEBP", 8))),
    (
        "an ISO media file (MP4, QuickTime, HEIF, AVIF)",
        (
            "image/avif",
            "image/heic",
            "image/heif",
            "video/mp4",
            "audio/mp4",
            "audio/x-m4a",
            "video/quicktime",
            "video/3gpp",
            "video/3gpp2",
        ),
        _ISO_MEDIA,
    ),
    (
        "a Matroska or WebM file",
        ("video/webm", "audio/webm", "video/x-matroska", "audio/x-matroska"),
        _s(b"\x1a\x45\xdf\xa3"),
    ),
    ("an Ogg file", ("audio/ogg", "video/ogg", "application/ogg", "audio/opus"), _s(b"OggS")),
    ("a FLAC file", ("audio/flac", "audio/x-flac"), _s(b"fLaC")),
    (
        "an MP3 file",
        ("audio/mpeg", "audio/mp3"),
        _s(b"ID3", b"\xff\xfb", b"\xff\xfa", b"\xff\xf3", b"\xff\xf2", b"\xff\xe3", b"\xff\xe2"),
    ),
    (
        "a WAVE file",
        ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"),
        (Signature(b"RIFF"), Signature(b"WAVE", 8)),
    ),
    ("an AVI file", ("video/x-msvideo", "video/avi"), (Signature(b"RIFF"), Signature(b"AVI ", 8))),
    ("a PDF document", ("application/pdf",), (Signature(b"%PDF-", 1024, anywhere=True),)),
    (
        "a ZIP archive (or an office document, EPUB or JAR in one)",
        (
            "application/zip",
            "application/x-zip-compressed",
            "application/epub+zip",
            "application/java-archive",
        ),
        _ZIP,
    ),
    ("a gzip file", ("application/gzip", "application/x-gzip"), _s(b"\x1f\x8b")),
    ("a bzip2 file", ("application/x-bzip2",), _s(b"BZh")),
    ("an xz file", ("application/x-xz",), _s(b"\xfd7zXZ\x00")),
    ("a Zstandard file", ("application/zstd",), _s(b"\x28\xb5\x2f\xfd")),
    ("a 7-Zip archive", ("application/x-7z-compressed",), _s(b"7z\xbc\xaf\x27\x1c")),
    ("a RAR archive", ("application/vnd.rar", "application/x-rar-compressed"), _s(b"Rar!\x1a\x07")),
    ("a tar archive", ("application/x-tar",), _s(b"ustar", offset=257)),
    (
        "a legacy Office document",
        ("application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"),
        _OLE,
    ),
    ("a WOFF font", ("font/woff",), _s(b"wOFF")),
    ("a WOFF2 font", ("font/woff2",), _s(b"wOF2")),
    ("a WebAssembly module", ("application/wasm",), _s(b"\x00asm")),
)

#: Types whose signature needs every one of its parts (RIFF containers).
_ALL_PARTS = frozenset({"a WebP image", "a WAVE file", "an AVI file"})

#: Office Open XML and OpenDocument types are ZIP archives.
_ZIP_PREFIXES = (
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
)

_BY_TYPE: dict[str, tuple[str, tuple[Signature, ...]]] = {
    content_type: (words, signatures)
    for words, types, signatures in _FAMILIES
    for content_type in types
}

#: Text types beyond ``text/*``.
_TEXT = frozenset(
    {
        "application/json",
        "application/ld+json",
        "application/xml",
        "application/xhtml+xml",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "image/svg+xml",
    }
)
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _matches(words: str, signatures: tuple[Signature, ...], sample: bytes) -> bool:
    if words in _ALL_PARTS:
        return all(signature.found(sample) for signature in signatures)
    return any(signature.found(sample) for signature in signatures)


def _binary(signature: Signature) -> bool:
    """A signature with a byte no text has (a text may begin "BM" or "GIF89a")."""
    return any(byte < 0x09 or 0x0D < byte < 0x20 or byte > 0x7E for byte in signature.magic)


def _is_xml(content_type: str) -> bool:
    return content_type in ("application/xml", "text/xml", "image/svg+xml") or (
        content_type.endswith("+xml")
    )


def _is_text(content_type: str) -> bool:
    return content_type.startswith("text/") or content_type in _TEXT or _is_xml(content_type)


def looks_like(sample: bytes) -> str:
    """What ``sample`` is, in words: a known signature, text, or other bytes."""
    if not sample:
        return "empty"
    for words, _types, signatures in _FAMILIES:
        if _matches(words, signatures, sample):
            return words
    text = _text(sample)
    if text is None:
        return "binary data of no known type"
    if text.lstrip().lower().startswith(("<!doctype html", "<html", "<script", "<body")):
        return "HTML"
    if text.lstrip().startswith("<"):
        return "markup (HTML or XML)"
    return "text"


def _text(sample: bytes) -> str | None:
    """``sample`` as text, or ``None`` when it is not: a NUL byte (in a file
    with no UTF-16 byte order mark) is binary."""
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return sample.decode("utf-16", errors="ignore")
        except UnicodeDecodeError:  # pragma: no cover - errors="ignore"
            return None
    if b"\x00" in sample:
        return None
    return sample.removeprefix(codecs.BOM_UTF8).decode("latin-1")


def mismatch(content_type: str, sample: bytes) -> str | None:
    """Why ``sample``, a file's first bytes, is not of ``content_type`` (its
    essence: ``type/subtype``, lowercase), in words; ``None`` when it agrees, or
    when the type has no signature to check."""
    family = _BY_TYPE.get(content_type)
    if family is None and content_type.startswith(_ZIP_PREFIXES):
        family = ("a ZIP archive", _ZIP)
    if family is not None:
        words, signatures = family
        if _matches(words, signatures, sample):
            return None
        if not sample:
            return f"it is empty, not {words}"
        return f"its bytes are {looks_like(sample)}, not {words}"
    if not _is_text(content_type):
        return None
    if not sample:
        return None  # an empty text file is text
    for words, _types, signatures in _FAMILIES:  # signatures no text could begin with
        if words not in _ALL_PARTS and any(
            _binary(signature) and signature.found(sample) for signature in signatures
        ):
            return f"its bytes are {words}, not text"
    text = _text(sample)
    if text is None:
        return "its bytes are binary data, not text"
    if _is_xml(content_type) and not text.lstrip("\ufeff \t\r\n").startswith("<"):
        return "its bytes are not XML (they do not begin with '<')"
    return None
