"""Photos on incidents: told by their bytes, decoded whole before they are kept, named safely for download."""

from __future__ import annotations

import io
import unicodedata
import warnings
from dataclasses import dataclass

from PIL import Image

from service.errors import Unprocessable, UnsupportedMediaType


@dataclass(frozen=True)
class ImageKind:
    content_type: str
    extension: str
    pillow_format: str


def sniff_image(data: bytes) -> ImageKind | None:
    """JPEG, PNG or WebP, told by the bytes themselves, not by the name or the declared type."""
    if data[:3] == b"\xff\xd8\xff":
        return ImageKind("image/jpeg", "jpg", "JPEG")
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return ImageKind("image/png", "png", "PNG")
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageKind("image/webp", "webp", "WEBP")
    return None


def photo_kind(data: bytes) -> ImageKind:
    """The kind of a photo whose whole file decodes as the type its first bytes claim; 415 or 422 otherwise.

    Magic bytes alone let through a truncated file or anything behind a JPEG header; the file is
    decoded to its last pixel here (CPU work: call it off the event loop).
    """
    kind = sniff_image(data)
    if kind is None:
        raise UnsupportedMediaType(
            "only JPEG, PNG or WebP photos are accepted (checked by content)",
            [{"field": "file", "reason": "not a JPEG, PNG or WebP image"}],
        )
    problem = _decode_problem(data, kind)
    if problem is not None:
        raise Unprocessable(
            f"file: {problem}",
            [{"field": "file", "reason": problem}],
        )
    return kind


def _decode_problem(data: bytes, kind: ImageKind) -> str | None:
    name = kind.pillow_format.replace("WEBP", "WebP")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # verify() checks structure and checksums (PNG chunks' CRCs) but leaves the image unusable;
            # a second open decodes every pixel, which is what catches a truncated JPEG or WebP.
            with Image.open(io.BytesIO(data), formats=[kind.pillow_format]) as image:
                image.verify()
            with Image.open(io.BytesIO(data), formats=[kind.pillow_format]) as image:
                # A JPEG is decoded at 1/8 scale: every byte of the stream is still read, in 1/64 of the memory.
                image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        # Pillow's own bound (about 89 million pixels): more than any phone photo of 10 MB.
        return f"the {name} claims more pixels than a photo can have"
    except Image.UnidentifiedImageError:
        return f"the {name} header cannot be read"
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow reports a broken file as OSError ("image file is truncated"), SyntaxError (bad PNG chunk)
        # or ValueError, depending on the format and where it breaks.
        return f"does not decode as the {name} its first bytes claim ({_short(exc)})"
    return None


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:120]


def download_name(filename: str, fallback: str) -> str:
    """The last part of an uploaded name, with no path separator of either kind and no control character.

    It is stored and sent back in Content-Disposition, so ``..\\..\\evil.png`` is kept as ``evil.png``
    and a right-to-left override cannot disguise the extension.
    """
    last = filename.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(ch for ch in last if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    kept = kept.strip().lstrip(".").strip()
    return kept[:255] or fallback
