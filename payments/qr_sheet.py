"""The store QR sheet (QR台紙): an A4 page with the pay URL's QR, store name and passcode.

A real PDF (core.pdf): the text is text and the QR is drawn as vectors, so it prints sharp at
any size. The PNG for the merchant admin is that page rasterised by poppler's pdftoppm.
"""

import subprocess
from io import BytesIO

from django.utils.translation import gettext as _
from django.utils.translation import override

from core import pdf
from payments.selectors import store_pay_url

BRAND = (11 / 255, 110 / 255, 79 / 255)
WHITE = (1, 1, 1)
PNG_DPI = 200
MARGIN = 15


def draw_page(doc: pdf.Document, store) -> None:
    width = pdf.A4_MM[0]
    centre = width / 2
    doc.rect(0, 0, width, 25.4, stroke=None, fill=BRAND)
    doc.text(
        centre,
        16,
        _("Electronic voucher accepted here"),
        26,
        bold=True,
        align="centre",
        colour=WHITE,
    )
    doc.text(centre, 40, store.programme.name, 16, align="centre")
    doc.text(centre, 56, store.name, 30, bold=True, align="centre")
    side = 120
    doc.qr(store_pay_url(store), centre - side / 2, 62, side)
    doc.text(centre, 192, _("Passcode"), 17, align="centre")
    passcode = f"{store.passcode[:3]} {store.passcode[3:]}"
    doc.text(centre, 214, passcode, 54, bold=True, align="centre", colour=BRAND)
    steps = [
        _("1. Scan this QR code with your phone's camera (or “Pay” in the ticket page)."),
        _("2. If the camera cannot read it, tap “Enter passcode” and enter the 6 digits."),
        _("3. Enter the amount, confirm, and show the completion screen to the staff."),
    ]
    y = 232
    for step in steps:
        y = doc.wrapped(MARGIN + 5, y, step, 13, width - 2 * MARGIN - 10)
    if store.programme.contact:
        y = doc.wrapped(
            MARGIN + 5, y + 2, store.programme.contact, 10, width - 2 * MARGIN - 10, colour=pdf.GREY
        )
    doc.text(centre, 283, f"{_('Store code')}: {store.code}", 11.5, align="centre", colour=pdf.GREY)
    doc.show_page()


def render_pdf(stores) -> BytesIO:
    """One A4 page per store, in Japanese whatever the merchant's browser language: the sheet
    is read by the residents at the counter."""
    out = BytesIO()
    with override("ja"):
        doc = pdf.Document(out, title=_("QR sheet"))
        for store in stores:
            draw_page(doc, store)
        doc.close()
    out.seek(0)
    return out


def render_png(stores) -> BytesIO:
    """The first store's page as a PNG at 200 dpi."""
    result = subprocess.run(
        ["pdftoppm", "-png", "-r", str(PNG_DPI), "-singlefile", "-"],
        input=render_pdf(stores[:1]).getvalue(),
        capture_output=True,
        check=True,
        timeout=60,
    )
    return BytesIO(result.stdout)
