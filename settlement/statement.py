"""支払明細書: an A4 PDF (core.pdf, real text), rendered once per payout.

Every late cancellation is listed; the list goes on to further pages when it does not fit.
"""

import io

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from core import pdf
from core.formatting import grouped, yen

MARGIN = 18.6
RIGHT = pdf.A4_MM[0] - MARGIN
BOTTOM = 280  # the lowest baseline on a page, in mm from the top
TITLE, BIG, BODY, SMALL = 21, 14.4, 11.5, 9.1
LINE_GREY = (0.67, 0.67, 0.67)


def render_statement(payout, *, late_lines) -> ContentFile:
    """The statement in Japanese, whatever the language of whoever triggered it."""
    with override("ja"):
        return ContentFile(_draw(payout, late_lines))


def _bank_account(company) -> str:
    """The approved account the payout is transferred to (振込先), as the 全銀 file names it."""
    if not company.account_number:
        return _("not registered")
    return (
        f"{company.bank_name_kana}（{company.bank_code}） {company.branch_name_kana}"
        f"（{company.branch_code}） {company.get_account_type_display()} {company.account_number}"
        f" {company.account_holder_kana}"
    )


def _draw(payout, late_lines) -> bytes:
    buffer = io.BytesIO()
    doc = pdf.Document(buffer, title=_("Payout statement"), author=payout.programme.issuer)
    centre = pdf.A4_MM[0] / 2
    doc.text(centre, 22, _("Payout statement"), TITLE, bold=True, align="centre")
    issued = timezone.localdate()
    doc.text(
        RIGHT, 32, _("Issued on %(date)s") % {"date": pdf.date_ja(issued)}, SMALL, align="right"
    )
    doc.text(MARGIN, 46, f"{payout.company.name} 御中", BIG)
    doc.text(MARGIN, 53, f"{_('company code')}: {payout.company.code}", SMALL, colour=pdf.GREY)
    doc.text(RIGHT, 45, payout.programme.issuer, BODY, align="right")
    doc.text(RIGHT, 51, payout.programme.name, SMALL, align="right")
    for i, line in enumerate(payout.programme.contact.splitlines()[:3]):
        doc.text(RIGHT, 56 + 4.5 * i, line, SMALL, align="right", colour=pdf.GREY)

    y = 68
    rows = [
        (
            _("Settlement period"),
            f"{pdf.date_ja(payout.period_start)} 〜 {pdf.date_ja(payout.period_end)}",
        ),
        (_("Scheduled payment date"), pdf.date_ja(payout.scheduled_on)),
        (_("Paid to"), _bank_account(payout.company)),
    ]
    for label, value in rows:
        doc.text(MARGIN, y, label, BODY)
        doc.text(MARGIN + 56, y, value, BODY)
        y += 8.5

    y += 3
    doc.rect(MARGIN, y, RIGHT - MARGIN, 15, width=0.5)
    doc.text(MARGIN + 5, y + 10, _("Payout amount"), BIG)
    doc.text(RIGHT - 5, y + 10.5, yen(payout.net), TITLE, bold=True, align="right")
    y += 22

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
    doc.line(MARGIN, y, RIGHT, y, width=0.35)
    for i, (label, count, amount) in enumerate(amount_rows):
        bold = i in (3, 5)
        doc.text(MARGIN + 2, y + 6, label, BODY)
        doc.text(MARGIN + 105, y + 6, count, BODY, align="right", colour=pdf.GREY)
        doc.text(RIGHT - 2, y + 6, yen(amount), BIG if bold else BODY, bold=bold, align="right")
        y += 10
        doc.line(
            MARGIN, y, RIGHT, y, width=0.35 if bold else 0.15, colour=pdf.INK if bold else LINE_GREY
        )
    if payout.carried_forward:
        doc.text(MARGIN + 2, y + 6, _("Carried forward (not yet deducted)"), BODY)
        doc.text(RIGHT - 2, y + 6, yen(payout.carried_forward), BODY, align="right")
        y += 10
        doc.line(MARGIN, y, RIGHT, y, width=0.15, colour=LINE_GREY)

    y += 8
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
        y = doc.wrapped(MARGIN, y, "※ " + note, SMALL, RIGHT - MARGIN, leading=1.6, colour=pdf.GREY)

    if late_lines:
        y += 6
        heading = _("Late cancellations in this payout")
        doc.text(MARGIN, y, heading, BODY)
        y += 7
        for line in late_lines:
            if y > BOTTOM:
                doc.show_page()
                doc.text(
                    MARGIN,
                    20,
                    f"{_('Payout statement')} — {payout.company.name} 御中",
                    SMALL,
                    colour=pdf.GREY,
                )
                doc.text(MARGIN, 30, _("%(heading)s (continued)") % {"heading": heading}, BODY)
                y = 37
            payment = line.payment
            when = timezone.localtime(payment.created_at)
            doc.text(MARGIN + 2, y, f"{pdf.date_ja(when)} {when:%H:%M}", SMALL)
            doc.text(MARGIN + 56, y, payment.number, SMALL)
            doc.text(RIGHT - 2, y, yen(-line.amount), SMALL, align="right")
            y += 5.4
    doc.show_page()
    doc.close()
    return buffer.getvalue()
