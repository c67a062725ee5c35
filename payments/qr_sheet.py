"""The store QR sheet (QR台紙): an A4 page with the pay URL's QR, store name and passcode.

Drawn with Pillow so no PDF library is needed; the Japanese text needs the Noto CJK font
(Debian's fonts-noto-cjk, installed by scripts/setup.sh).
"""

from io import BytesIO

import qrcode
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw

from core import pdf
from payments.selectors import store_pay_url

DPI = 200
A4 = pdf.a4_pixels(DPI)
MARGIN = 120
INK = (31, 41, 51)
BRAND = (11, 110, 79)


def _centred(draw, y: int, text: str, font, fill=INK) -> int:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text(((A4[0] - (right - left)) // 2 - left, y - top), text, font=font, fill=fill)
    return y + (bottom - top)


def _wrapped(draw, y: int, text: str, font, width: int) -> int:
    """Japanese has no spaces to break at: wrap by characters."""
    line = ""
    for char in text:
        if draw.textlength(line + char, font=font) > width:
            draw.text((MARGIN + 40, y), line, font=font, fill=INK)
            y += int(font.size * 1.5)
            line = char
        else:
            line += char
    draw.text((MARGIN + 40, y), line, font=font, fill=INK)
    return y + int(font.size * 1.5)


def render_page(store) -> Image.Image:
    page = Image.new("RGB", A4, "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, A4[0], 200), fill=BRAND)
    _centred(draw, 60, _("Electronic voucher accepted here"), pdf.font(72, bold=True), "white")
    y = _centred(draw, 260, store.programme.name, pdf.font(44))
    y = _centred(draw, y + 40, store.name, pdf.font(88, bold=True))

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=20, border=4)
    qr.add_data(store_pay_url(store))
    qr.make(fit=True)
    image = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    side = 860
    image = image.resize((side, side), Image.NEAREST)
    page.paste(image, ((A4[0] - side) // 2, y + 50))
    y += 50 + side + 40

    y = _centred(draw, y, _("Passcode"), pdf.font(48))
    passcode = f"{store.passcode[:3]} {store.passcode[3:]}"
    y = _centred(draw, y + 30, passcode, pdf.font(150, bold=True), BRAND)
    y += 70

    steps = [
        _("1. Scan this QR code with your phone's camera (or “Pay” in the ticket page)."),
        _("2. If the camera cannot read it, tap “Enter passcode” and enter the 6 digits."),
        _("3. Enter the amount, confirm, and show the completion screen to the staff."),
    ]
    font = pdf.font(38)
    for step in steps:
        y = _wrapped(draw, y, step, font, A4[0] - 2 * MARGIN - 80)
    _centred(draw, A4[1] - 110, f"{_('Store code')}: {store.code}", pdf.font(32), (95, 107, 122))
    return page


def render_png(stores) -> BytesIO:
    out = BytesIO()
    render_page(stores[0]).save(out, format="PNG", dpi=(DPI, DPI))
    out.seek(0)
    return out


def render_pdf(stores) -> BytesIO:
    """One A4 page per store."""
    pages = [render_page(store) for store in stores]
    out = BytesIO()
    pages[0].save(out, format="PDF", resolution=DPI, save_all=True, append_images=pages[1:])
    out.seek(0)
    return out
