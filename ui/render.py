"""Drawing a screen: as text (headless runs, tests, the console) and as a picture (framebuffer,
PNG snapshots for the docs). The status bar — signal, link, pending items, paper, time — is on
every screen, drawn here from the terminal's ``Status``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from terminal.core.receipt import LOCAL_TZ, fit, width
from terminal.core.requests import Status  # re-exported: every renderer draws one
from ui.machine import Screen
from ui.texts import t

COLUMNS = 32  # a 320-pixel display with a 20-pixel CJK font holds 16 characters, 32 columns


def status_line(status: Status, columns: int = COLUMNS) -> str:
    """The status bar as one line: signal bars, link (or what it waits for), owed items, low
    power, paper, clock. When it is too long for the display, the least useful parts go first
    (paper, then the clock), never the link, the wait or what is owed."""
    locale = status.locale
    bars = "" if status.bars is None else "▂▄▆█"[: status.bars].ljust(4, "_")
    link = t("link_up" if status.link_up else "link_down", locale)
    if status.waiting:
        link = t("waiting_s", locale, what=_wait_text(status.waiting, locale), s=status.waiting_s)
    pending = t("pending_n", locale, n=status.pending) if status.pending else ""
    if status.offline:
        pending += t("offline_n", locale, n=status.offline)
    power = t("low_power", locale) if status.low_power else ""
    paper = "" if status.paper is None else t("paper_ok" if status.paper else "paper_out", locale)
    clock = (status.time or datetime.now(LOCAL_TZ)).astimezone(LOCAL_TZ).strftime("%H:%M")
    parts = [bars, link, pending, power, paper, clock]
    for droppable in (4, 5):  # paper, clock
        line = " ".join(part for part in parts if part)
        if width(line) <= columns:
            return line
        parts[droppable] = ""
    return " ".join(part for part in parts if part)


def _wait_text(key: str, locale: str) -> str:
    """The modem's own words for what it waits for (the same ones ``gridpos diag modem``
    prints); loaded only when there is a wait to show, that is, with a GPRS module."""
    from drivers.modem.ready import WAIT_TEXT

    zh, en = WAIT_TEXT.get(key, (key, key))
    return zh if locale == "zh_CN" else en


def text_lines(screen: Screen, status: Status, columns: int = COLUMNS) -> list[str]:
    out = [status_line(status), "=" * columns]
    if screen.title:
        out += fit(screen.title, columns)
    for line in screen.lines:
        out += fit(line, columns)
    if screen.entry is not None:
        out += fit(screen.entry, columns)
    if screen.hint:
        out.append("-" * columns)
        out += fit(screen.hint, columns)
    return out


def as_text(screen: Screen, status: Status) -> str:
    return "\n".join(text_lines(screen, status))


FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


def as_image(
    screen: Screen, status: Status, size: tuple[int, int] = (320, 240), font_path: str = FONT
):
    """The screen as a Pillow image: status bar, title bar, body, entry and hint."""
    from PIL import Image, ImageDraw, ImageFont

    w, h = size
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont  # the built-in font when the file is missing
    small: ImageFont.FreeTypeFont | ImageFont.ImageFont
    try:
        font = ImageFont.truetype(font_path, 16)
        small = ImageFont.truetype(font_path, 12)
    except OSError:
        font = small = ImageFont.load_default()
    image = Image.new("RGB", size, (250, 250, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, w, 16), fill=(30, 60, 110))
    draw.text((4, 1), status_line(status), fill=(255, 255, 255), font=small)
    y = 20
    if screen.title:
        draw.text((6, y), screen.title, fill=(30, 60, 110), font=font)
        y += 22
        draw.line((4, y - 2, w - 4, y - 2), fill=(180, 180, 180))
    columns = max((w - 12) // 8, 10)
    body = [part for line in screen.lines for part in fit(line, columns)]
    for line in body[: max((h - y - 44) // 19, 1)]:
        draw.text((6, y), line, fill=(0, 0, 0), font=font)
        y += 19
    if screen.entry is not None:
        draw.rectangle((4, h - 44, w - 4, h - 24), outline=(30, 60, 110))
        draw.text((8, h - 42), screen.entry, fill=(0, 0, 0), font=font)
    if screen.hint:
        draw.text((6, h - 18), screen.hint, fill=(90, 90, 90), font=small)
    return image


def save_png(screen: Screen, status: Status, path: str | Path, **kw) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    as_image(screen, status, **kw).save(path)
    return path


class FramebufferRenderer:
    """Writes screens onto a Linux framebuffer in its own pixel format (16 or 32 bits)."""

    def __init__(
        self, device: str = "/dev/fb0", size: tuple[int, int] = (320, 240), font_path: str = FONT
    ) -> None:
        self.device = device
        self.size = size
        self.font_path = font_path
        name = Path(device).name
        try:
            bpp = int(Path(f"/sys/class/graphics/{name}/bits_per_pixel").read_text())
        except (OSError, ValueError):
            bpp = 16
        self.bpp = bpp

    def __call__(self, screen: Screen, status: Status) -> None:
        image = as_image(screen, status, self.size, self.font_path)
        with open(self.device, "wb") as fb:
            fb.write(pack_pixels(image, self.bpp))


def pack_pixels(image, bpp: int) -> bytes:
    """RGB image to framebuffer bytes: RGB565 little-endian or BGRX 8888."""
    if bpp == 32:
        return image.convert("RGBA").tobytes("raw", "BGRA")
    out = bytearray()
    for r, g, b in image.convert("RGB").getdata():
        value = ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3)
        out += value.to_bytes(2, "little")
    return bytes(out)


def screen_width_ok(screen: Screen, columns: int = COLUMNS) -> bool:
    return all(width(line) <= columns for line in text_lines(screen, Status(), columns))
