"""ESC/POS bytes as the printer would put them on paper: text lines, QR codes, a PNG picture.

Understands what gridpos sends (ESC @, FS & / FS . for Chinese mode, GS V cut, DLE EOT status
queries, LF, GS ( k for a QR code and GS v 0 for a raster image) and skips the arguments of the
other common commands, so a capture from any program decodes to readable text instead of
garbage. The two graphics commands carry their own length: their bytes are never read as text
or as a cut, whatever they contain.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

# Command prefix -> number of argument bytes that follow it (fixed-length commands).
ARGS = {
    b"\x1b@": 0,
    b"\x1c&": 0,
    b"\x1c.": 0,
    b"\x1b!": 1,
    b"\x1ba": 1,
    b"\x1bE": 1,
    b"\x1b-": 1,
    b"\x1bd": 1,
    b"\x1bJ": 1,
    b"\x1bt": 1,
    b"\x1b2": 0,
    b"\x1b3": 1,
    b"\x1dV": 1,
    b"\x1d!": 1,
    b"\x1dB": 1,
    b"\x1dL": 2,
    b"\x1dW": 2,
    b"\x1c!": 1,
    b"\x10\x04": 1,
    b"\x1bp": 3,
}
CUT = b"\x1dV"
QR_COMMAND = b"\x1d(k"  # GS ( k pL pH cn fn ...: pL + 256 pH bytes after pH
RASTER = b"\x1dv0"  # GS v 0 m xL xH yL yH: then x * y bytes of dots


def graphics_length(data: bytes, i: int) -> int | None:
    """Bytes of the QR or raster command at ``i``: 0 when there is none, None when the command
    has not all arrived yet."""
    if data.startswith(QR_COMMAND, i):
        if i + 5 > len(data):
            return None
        size = 5 + data[i + 3] + 256 * data[i + 4]
    elif data.startswith(RASTER, i):
        if i + 8 > len(data):
            return None
        width = data[i + 4] + 256 * data[i + 5]
        height = data[i + 6] + 256 * data[i + 7]
        size = 8 + width * height
    else:
        return 0
    return size if i + size <= len(data) else None


def split_receipts(data: bytes) -> list[bytes]:
    """Split a capture at paper cuts (GS V n, and GS V A/B n which carry one more byte)."""
    parts, start, i = [], 0, 0
    while i < len(data):
        graphics = graphics_length(data, i)
        if graphics:
            i += graphics
        elif data.startswith(CUT, i):
            mode = data[i + 2] if i + 2 < len(data) else 0
            parts.append(data[start:i])
            start = i = i + 3 + (1 if mode in (65, 66) else 0)
        else:
            i += 1
    tail = data[start:]
    if tail.strip(b"\n\x00"):
        parts.append(tail)
    return [p for p in parts if p.strip(b"\n\x00")]


def qr_codes(data: bytes) -> list[str]:
    """The text of each QR code the printer was told to print (GS ( k: store, then print)."""
    found, stored, i = [], b"", 0
    while i < len(data):
        size = graphics_length(data, i) or 1
        if data.startswith(QR_COMMAND, i) and size > 7:
            function = data[i + 6]
            if function == 80:  # store the data (after m = 48)
                stored = data[i + 8 : i + size]
            elif function == 81:  # print what was stored
                found.append(stored.decode("ascii", errors="replace"))
        i += size
    return found


def raster_images(data: bytes) -> list[list[list[bool]]]:
    """Each GS v 0 raster image as rows of dots (dark = True)."""
    images, i = [], 0
    while i < len(data):
        size = graphics_length(data, i) or 1
        if data.startswith(RASTER, i) and size > 8:
            width = data[i + 4] + 256 * data[i + 5]
            body = data[i + 8 : i + size]
            images.append(
                [
                    [bool(body[row + x // 8] & (0x80 >> (x % 8))) for x in range(width * 8)]
                    for row in range(0, len(body), width)
                ]
            )
        i += size
    return images


def text_lines(data: bytes) -> list[str]:
    """The printed lines of one receipt (GB18030 text; commands removed)."""
    text = bytearray()
    i = 0
    while i < len(data):
        graphics = graphics_length(data, i)
        if graphics:
            i += graphics
            continue
        matched = False
        for prefix, count in ARGS.items():
            if data.startswith(prefix, i):
                if prefix == CUT and i + 2 < len(data) and data[i + 2] in (65, 66):
                    count = 2
                i += len(prefix) + count
                matched = True
                break
        if matched:
            continue
        byte = data[i]
        if byte == 0x0A or byte >= 0x20:
            text.append(byte)
        i += 1
    lines = text.decode("gb18030", errors="replace").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


def printed_codes(data: bytes, module_dots: int = 6) -> list[list[list[bool]]]:
    """Every QR code of a receipt as dots: raster images as sent, native codes drawn as the
    printer would (at ``module_dots`` per module)."""
    from drivers.printer.qr import matrix

    drawn = [
        [[dark for dark in row for _ in range(module_dots)] for row in matrix(text)]
        for text in qr_codes(data)
    ]
    drawn = [[row for row in image for _ in range(module_dots)] for image in drawn]
    return raster_images(data) + drawn


def to_png(
    lines: list[str],
    path: str | Path,
    columns: int = 32,
    images: list[list[list[bool]]] | None = None,
) -> Path:
    """Draw the receipt as a strip of thermal paper (needs a CJK font for Chinese), with its
    ``images`` (rows of dots, e.g. ``printed_codes``) centred below the text."""
    from PIL import Image, ImageDraw, ImageFont

    size = 20
    font = None
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            font = ImageFont.truetype(candidate, size)
            break
    if font is None:
        font = ImageFont.load_default()
    cell = size // 2 + 1
    width = columns * cell + 24
    text_height = max(len(lines), 1) * (size + 6) + 24
    pictures = images or []
    height = text_height + sum(len(picture) + 12 for picture in pictures)
    image = Image.new("L", (width, height), 255)
    top = text_height
    for picture in pictures:
        left = max((width - len(picture[0])) // 2, 0) if picture else 0
        for y, row in enumerate(picture):
            for x, dark in enumerate(row):
                if dark and left + x < width:
                    image.putpixel((left + x, top + y), 0)
        top += len(picture) + 12
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        # A thermal printer's character grid: one cell for a Latin character, two for a CJK
        # one, whatever the font's own widths; so columns line up as on paper.
        column = 0
        for ch in line:
            cells = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
            x = 12 + column * cell + (cells * cell - draw.textlength(ch, font=font)) / 2
            draw.text((x, 12 + row * (size + 6)), ch, fill=0, font=font)
            column += cells
    path = Path(path)
    image.save(path)
    return path
