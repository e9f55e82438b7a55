"""Images (scanned letters, photographed forms, faxes): text by OCR with the `tesseract` program when it
is installed; otherwise each image is counted as needing OCR in the report, never silently skipped.

Every frame of a multi-page TIFF or GIF is read. The size an image claims is checked before any pixel
is decoded (Pillow reads headers lazily), so a tiny file claiming gigapixels is refused instead of
exhausting memory.
"""

from garde.scanner.extract.base import ExtractionError, Source, extractor, text_records
from garde.scanner.extract.documents import ocr_image, tesseract
from garde.scanner.model import Note

MAX_PIXELS = 120_000_000  # an A0 page at 300 dpi is about 140 Mpx; a scanned A4 at 600 dpi 35 Mpx
MAX_FRAMES = 500

_SIGNATURES = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"II*\x00",  # TIFF, little endian
    b"MM\x00*",  # TIFF, big endian
    b"GIF87a",
    b"GIF89a",
    b"BM",  # BMP
)


def _is_image(head: bytes) -> bool:
    return head.startswith(_SIGNATURES[:-1]) or (
        head.startswith(b"BM") and len(head) > 14 and head[6:10] == b"\0\0\0\0"
    )


@extractor(
    "image",
    extensions={".png", ".jpg", ".jpeg", ".tif", ".tiff", ".gif", ".bmp"},
    mime_types={"image/png", "image/jpeg", "image/tiff", "image/gif", "image/bmp"},
    sniff=_is_image,
    text_based=False,
)
def extract_image(source: Source):
    try:
        from PIL import Image, ImageFile, ImageSequence
    except ImportError:
        raise ExtractionError("image not read: install Pillow") from None
    program = tesseract()
    # WeasyPrint, once imported in the same process, makes Pillow fill truncated images with grey;
    # a cut scan must be reported as an error instead, so the flag is set off while reading.
    loads_truncated, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        with Image.open(source.path) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ExtractionError(
                    f"image refused: {image.width} x {image.height} pixels is more than {MAX_PIXELS:,}"
                )
            for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
                if number > MAX_FRAMES:
                    raise ExtractionError(f"more than {MAX_FRAMES} frames: the rest of the image is not read")
                if program is None:
                    yield Note("images_needing_ocr")
                    continue
                yield Note("images_ocr")
                text = ocr_image(frame.convert("L"), program)
                prefix = f"frame {number} " if getattr(image, "n_frames", 1) > 1 else ""
                yield from text_records(text.replace("\r\n", "\n").replace("\r", "\n"), prefix=prefix)
    except Image.DecompressionBombError as error:
        raise ExtractionError(f"image refused: {error}") from None
    except (Image.UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ExtractionError(f"not a readable image ({error})") from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = loads_truncated
