"""支払明細書: an A4 PDF drawn with Pillow and the Noto CJK font, rendered once per payout."""

import io

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from PIL import Image, ImageDraw

from core import pdf
from core.formatting import grouped, yen

DPI = 150
WIDTH, HEIGHT = pdf.a4_pixels(DPI)
MARGIN = 110
MAX_LATE_LINES = 25


def render_statement(payout, *, late_lines) -> ContentFile:
    """The statement in Japanese, whatever the language of whoever triggered it."""
    with override("ja"):
        return ContentFile(_draw(payout, late_lines))


def _draw(payout, late_lines) -> bytes:
    image = Image.new("L", (WIDTH, HEIGHT), 255)
    draw = ImageDraw.Draw(image)
    title, big, body, small = pdf.font(44), pdf.font(30), pdf.font(24), pdf.font(19)
    right = WIDTH - MARGIN

    draw.text((WIDTH // 2, 120), _("Payout statement"), font=title, fill=0, anchor="mm")
    issued = timezone.localdate()
    draw.text(
        (right, 190),
        _("Issued on %(date)s") % {"date": f"{issued:%Y年%m月%d日}"},
        font=small,
        fill=0,
        anchor="rs",
    )
    draw.text((MARGIN, 250), f"{payout.company.name} 御中", font=big, fill=0)
    draw.text((MARGIN, 300), f"{_('company code')}: {payout.company.code}", font=small, fill=80)
    draw.text((right, 250), payout.programme.issuer, font=body, fill=0, anchor="ra")
    draw.text((right, 290), payout.programme.name, font=small, fill=0, anchor="ra")

    y = 380
    rows = [
        (
            _("Settlement period"),
            f"{payout.period_start:%Y年%m月%d日} 〜 {payout.period_end:%Y年%m月%d日}",
        ),
        (_("Scheduled payment date"), f"{payout.scheduled_on:%Y年%m月%d日}"),
    ]
    for label, value in rows:
        draw.text((MARGIN, y), label, font=body, fill=0)
        draw.text((MARGIN + 330, y), value, font=body, fill=0)
        y += 50

    y += 30
    draw.rectangle((MARGIN, y, right, y + 90), outline=0, width=3)
    draw.text((MARGIN + 30, y + 45), _("Payout amount"), font=big, fill=0, anchor="lm")
    draw.text((right - 30, y + 45), yen(payout.net), font=title, fill=0, anchor="rm")
    y += 140

    amount_rows = [
        (
            _("Payments"),
            _("%(count)s payments") % {"count": grouped(payout.payment_count)},
            payout.gross,
        ),
        (
            _("Cancellations in the period"),
            _("%(count)s payments") % {"count": grouped(payout.cancelled_count)},
            -payout.cancelled,
        ),
        (
            _("Adjustment (late cancellations)"),
            _("%(count)s payments") % {"count": grouped(payout.adjustment_count)},
            payout.adjustment,
        ),
        (_("Amount before fee"), "", payout.gross - payout.cancelled + payout.adjustment),
        (
            _("Fee"),
            _("rate %(rate)s%%") % {"rate": f"{payout.programme.fee_rate * 100:.2f}"},
            -payout.fee,
        ),
        (_("Payout amount"), "", payout.net),
    ]
    draw.line((MARGIN, y, right, y), fill=0, width=2)
    for i, (label, count, amount) in enumerate(amount_rows):
        y += 14
        bold = i in (3, 5)
        draw.text((MARGIN + 10, y), label, font=body, fill=0)
        draw.text((MARGIN + 620, y), count, font=body, fill=60, anchor="ra")
        draw.text((right - 10, y), yen(amount), font=big if bold else body, fill=0, anchor="ra")
        y += 46
        draw.line((MARGIN, y, right, y), fill=0 if bold else 170, width=2 if bold else 1)
    if payout.carried_forward:
        y += 14
        draw.text((MARGIN + 10, y), _("Carried forward (not yet deducted)"), font=body, fill=0)
        draw.text((right - 10, y), yen(payout.carried_forward), font=body, fill=0, anchor="ra")
        y += 46
        draw.line((MARGIN, y, right, y), fill=170, width=1)

    y += 30
    notes = [
        _(
            "The fee is the fee rate times the amount before fee, rounded down to the yen, per payout."
        ),
        _(
            "A payment cancelled after its period was closed is deducted from the next payout as an adjustment."
        ),
        _(
            "What does not fit in a payout is carried forward and deducted from the next payouts, oldest first."
        ),
        _("For the breakdown, search the usage history for the settlement period."),
    ]
    for note in notes:
        draw.text((MARGIN, y), "※ " + note, font=small, fill=60)
        y += 34

    if late_lines:
        y += 30
        draw.text((MARGIN, y), _("Late cancellations in this payout"), font=body, fill=0)
        y += 48
        for line in late_lines[:MAX_LATE_LINES]:
            payment = line.payment
            when = timezone.localtime(payment.created_at)
            draw.text((MARGIN + 10, y), f"{when:%Y年%m月%d日 %H:%M}", font=small, fill=0)
            draw.text((MARGIN + 330, y), payment.number, font=small, fill=0)
            draw.text((right - 10, y), yen(-line.amount), font=small, fill=0, anchor="ra")
            y += 32
        if len(late_lines) > MAX_LATE_LINES:
            more = len(late_lines) - MAX_LATE_LINES
            draw.text(
                (MARGIN + 10, y), _("and %(count)s more") % {"count": more}, font=small, fill=60
            )

    buffer = io.BytesIO()
    image.save(buffer, "PDF", resolution=DPI)
    return buffer.getvalue()
