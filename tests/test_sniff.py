"""``sniff.mismatch``: a file's first bytes against its declared type (pure, no I/O)."""

from __future__ import annotations

import codecs

import pytest

from sigv4_storage.sniff import mismatch

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


@pytest.mark.parametrize(
    "content_type, sample",
    [
        ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
        ("image/png", PNG),
        ("image/gif", b"GIF89a\x01\x00"),
        ("image/gif", b"GIF87a\x01\x00"),
        ("image/webp", b"RIFF\x24\x00\x00\x00WEBPVP8 "),
        ("image/bmp", b"BM\x3e\x00"),
        ("image/tiff", b"II*\x00\x08\x00"),
        ("image/tiff", b"MM\x00*\x00\x00"),
        ("image/x-icon", b"\x00\x00\x01\x00\x01\x00"),
        ("image/heic", b"\x00\x00\x00\x18ftypheic"),
        ("image/avif", b"\x00\x00\x00\x1cftypavif"),
        ("video/mp4", b"\x00\x00\x00\x20ftypisom"),
        ("video/quicktime", b"\x00\x00\x00\x08wide\x00\x00"),
        ("video/webm", b"\x1a\x45\xdf\xa3\x9f"),
        ("audio/ogg", b"OggS\x00\x02"),
        ("audio/flac", b"fLaC\x00\x00"),
        ("audio/mpeg", b"ID3\x04\x00"),
        ("audio/mpeg", b"\xff\xfb\x90\x64"),
        ("audio/wav", b"RIFF\x24\x00\x00\x00WAVEfmt "),
        ("video/x-msvideo", b"RIFF\x24\x00\x00\x00AVI LIST"),
        ("application/pdf", b"%PDF-1.7\n"),
        ("application/pdf", b"\r\n" * 100 + b"%PDF-1.4"),  # after other bytes, in 1 KiB
        ("application/zip", b"PK\x03\x04\x14\x00"),
        ("application/zip", b"PK\x05\x06" + b"\x00" * 18),  # an empty archive
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04"),
        ("application/vnd.oasis.opendocument.text", b"PK\x03\x04"),
        ("application/epub+zip", b"PK\x03\x04"),
        ("application/gzip", b"\x1f\x8b\x08\x00"),
        ("application/x-7z-compressed", b"7z\xbc\xaf\x27\x1c\x00"),
        ("application/vnd.rar", b"Rar!\x1a\x07\x01\x00"),
        ("application/x-tar", b"a.txt" + b"\x00" * 252 + b"ustar\x0000"),
        ("application/msword", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00"),
        ("font/woff2", b"wOF2\x00\x01"),
        ("application/wasm", b"\x00asm\x01\x00\x00\x00"),
        ("text/plain", "Grüße, 사진\n".encode()),
        ("text/csv", b"BMW,GIF89a,OggS\n1,2,3\n"),  # begins as a BMP's signature: text
        ("text/plain", codecs.BOM_UTF16_LE + "text".encode("utf-16-le")),
        ("text/plain", b""),  # an empty text file
        ("image/svg+xml", codecs.BOM_UTF8 + b"\n  <svg xmlns='http://www.w3.org/2000/svg'/>"),
        ("application/xml", b"<?xml version='1.0'?><a/>"),
        ("application/atom+xml", b"<feed/>"),
        ("application/json", b'{"a": 1}'),
        ("text/html", b"<!doctype html><p>hi"),
        ("application/x-custom", b"\x00\x01anything"),  # no signature: as declared
        ("application/octet-stream", PNG),
    ],
)
def test_bytes_of_the_declared_type_agree(content_type, sample):
    assert mismatch(content_type, sample) is None


@pytest.mark.parametrize(
    "content_type, sample, words",
    [
        ("image/png", b"<!doctype html><script>alert(1)</script>", "its bytes are HTML, not a PNG"),
        ("image/png", b"<svg onload=alert(1)>", "markup (HTML or XML), not a PNG"),
        ("image/jpeg", PNG, "its bytes are a PNG image, not a JPEG image"),
        ("image/webp", b"RIFF\x24\x00\x00\x00WAVEfmt ", "a WAVE file, not a WebP image"),
        ("image/gif", b"plain words", "its bytes are text, not a GIF image"),
        ("application/pdf", b"PK\x03\x04", "a ZIP archive (or an office"),
        ("application/pdf", b"\n" * 1100 + b"%PDF-1.4", "not a PDF document"),  # too late
        ("application/pdf", b"", "it is empty, not a PDF document"),
        ("application/zip", b"\x00\x01\x02", "binary data of no known type, not a ZIP"),
        ("application/vnd.ms-excel", b"a,b\n", "not a legacy Office document"),
        ("text/plain", PNG, "its bytes are a PNG image, not text"),
        ("text/plain", b"\xff\xd8\xff\xe0", "a JPEG image, not text"),
        ("text/csv", b"a,b\x00c", "its bytes are binary data, not text"),
        ("image/svg+xml", b"GIF89a<svg/>", "not XML (they do not begin with '<')"),
        ("application/json", b"\x1f\x8b\x08\x00", "a gzip file, not text"),
    ],
)
def test_bytes_of_another_type_are_named(content_type, sample, words):
    found = mismatch(content_type, sample)
    assert found is not None and words in found, found
