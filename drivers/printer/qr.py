"""A QR code as ESC/POS bytes: the printer's own QR command, or a raster image of one.

Most Chinese thermal printers draw a QR code themselves from ``GS ( k`` (model 2: store the
data, then print it), which costs a few dozen bytes and no memory here. Cheap 58 mm printers
without it print a raster bitmap (``GS v 0``); the bitmap is made with the ``qrcode`` library,
imported only when a receipt needs one, and drawn dot by dot without Pillow.

python-escpos would do both, but importing it costs several megabytes of resident memory for two
commands (measured in ``docs/performance.md``), so these few lines stand in its place.
"""

from __future__ import annotations

QR_NATIVE = "native"
QR_IMAGE = "image"
QR_OFF = "off"
QR_MODES = (QR_NATIVE, QR_IMAGE, QR_OFF)

CENTER = b"\x1ba\x01"  # ESC a 1
LEFT = b"\x1ba\x00"  # ESC a 0
MODULE_DOTS = 6  # one QR module as 6×6 dots: 37 modules of a version-3 code are 222 of 384 dots


def _gs_k(function: int, payload: bytes) -> bytes:
    """``GS ( k pL pH cn fn payload`` for the QR symbol (cn = 49)."""
    size = len(payload) + 2
    return b"\x1d(k" + bytes([size % 256, size // 256, 49, function]) + payload


def native(text: str, module_dots: int = MODULE_DOTS) -> bytes:
    """The printer draws the code: model 2, module size, error correction M, store, print."""
    data = text.encode("ascii")
    return (
        CENTER
        + _gs_k(65, b"\x32\x00")  # fn 65: model 2
        + _gs_k(67, bytes([module_dots]))  # fn 67: module size in dots
        + _gs_k(69, b"\x31")  # fn 69: error correction level M (15 %)
        + _gs_k(80, b"\x30" + data)  # fn 80: store the data
        + _gs_k(81, b"\x30")  # fn 81: print what was stored
        + LEFT
        + b"\n"
    )


def matrix(text: str) -> list[list[bool]]:
    """The code's modules, quiet zone included (4 modules), dark = True."""
    import qrcode  # lazy: only a printer configured for images needs it

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(text.encode("ascii"))
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def raster(text: str, module_dots: int = MODULE_DOTS) -> bytes:
    """The code as a ``GS v 0`` raster bitmap: rows of dots, 8 dots a byte, most significant
    bit leftmost, each module ``module_dots`` square."""
    modules = matrix(text)
    dots = len(modules) * module_dots
    width_bytes = (dots + 7) // 8
    rows = bytearray()
    for module_row in modules:
        line = bytearray(width_bytes)
        for x, dark in enumerate(module_row):
            if not dark:
                continue
            for dot in range(x * module_dots, (x + 1) * module_dots):
                line[dot // 8] |= 0x80 >> (dot % 8)
        rows += bytes(line) * module_dots
    header = b"\x1dv0\x00" + width_bytes.to_bytes(2, "little") + dots.to_bytes(2, "little")
    return CENTER + header + bytes(rows) + LEFT + b"\n"


def qr_bytes(text: str, mode: str) -> bytes:
    """The bytes that print ``text`` as a QR code in ``mode`` (nothing when off)."""
    if mode == QR_NATIVE:
        return native(text)
    if mode == QR_IMAGE:
        return raster(text)
    return b""
