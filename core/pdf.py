"""A4 pages drawn with Pillow in Debian's Noto CJK font (fonts-noto-cjk, installed by setup)."""

from PIL import ImageFont

FONT_PATH = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FONT_BOLD_PATH = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
# Face 0 of the collection is Japanese (JP); the other faces prefer Chinese glyph shapes.
JP_FACE = 0
A4_MM = (210, 297)


def a4_pixels(dpi: int) -> tuple[int, int]:
    """An A4 page's size in pixels at this resolution (1240 x 1754 at 150 dpi)."""
    return tuple(round(mm / 25.4 * dpi) for mm in A4_MM)


def font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT_BOLD_PATH if bold else FONT_PATH, size, index=JP_FACE)
