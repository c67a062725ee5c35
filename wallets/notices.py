"""交付通知書: one A4 page per household, and the same fields as a CSV row for a print vendor.

The page is folded in three into a 長3 window envelope (120 x 235 mm): the address block sits
where the envelope's window is (the top third, 20 mm from the left, 15-60 mm from the top).
What every page repeats is drawn once as a form; a page only adds the household's own values,
so a 30,000-page file stays small and fast. Writing the batch is wallets.services.notice_batch_write.
"""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from core import pdf
from core.formatting import yen

STATIC = "notice"
LEFT, RIGHT = 20, 190
BRAND = (11 / 255, 110 / 255, 79 / 255)
CARD = (LEFT, 214, 86, 54)  # x, y, width, height: a credit card's size, to keep in a wallet


def grouped_ticket(number: str) -> str:
    """1234 5678 9012: twelve digits are read and typed in fours."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def login_url(ticket_number: str) -> str:
    return f"{settings.SITE_URL}{reverse('payments:login')}?{urlencode({'ticket': ticket_number})}"


@dataclass(frozen=True)
class Household:
    """One page's own values."""

    postal_code: str
    address: str
    name: str
    external_id: str
    ticket_number: str
    pin: str
    card_token: str
    amounts: dict  # value type id -> yen


def where_usable(value_type) -> str:
    if value_type.small_local_only:
        return _("Small and local stores only")
    return _("All participating stores")


class NoticeWriter:
    """Draws the pages of one batch into `out`; call page() per household, then close()."""

    def __init__(self, out, *, programme, value_types, issued_on: date):
        self.programme = programme
        self.value_types = list(value_types)
        self.issued_on = issued_on
        self.doc = pdf.Document(
            out,
            title=_("%(programme)s notice of issue") % {"programme": programme.name},
            author=programme.issuer,
        )
        self._draw_static()

    def _draw_static(self) -> None:
        doc, programme = self.doc, self.programme
        with doc.form(STATIC):
            doc.text(RIGHT, 20, programme.issuer, 10.5, align="right")
            doc.text(RIGHT, 26, programme.name, 9, align="right", colour=pdf.GREY)
            doc.text(
                RIGHT,
                32,
                _("Issued on %(date)s") % {"date": pdf.date_ja(self.issued_on)},
                9,
                align="right",
                colour=pdf.GREY,
            )
            doc.text(RIGHT, 52, _("Important: contains your PIN"), 10, bold=True, align="right")

            doc.text(
                105,
                80,
                _("%(programme)s notice of issue") % {"programme": programme.name},
                17,
                bold=True,
                align="centre",
            )
            doc.text(
                105,
                88,
                _(
                    "This notice carries your ticket number and PIN. Keep it safe and show it to no one."
                ),
                9,
                align="centre",
                colour=pdf.GREY,
            )
            # The household's sign-in, filled in per page.
            doc.rect(LEFT, 96, 125, 42, width=0.35, radius=2)
            doc.text(LEFT + 4, 104, _("Name"), 9, colour=pdf.GREY)
            doc.text(LEFT + 4, 117, _("Ticket number"), 9, colour=pdf.GREY)
            doc.text(LEFT + 4, 131, _("PIN"), 9, colour=pdf.GREY)
            doc.text(167.5, 140, _("Scan to sign in"), 8, align="centre", colour=pdf.GREY)

            doc.text(LEFT, 148, _("Your vouchers"), 11, bold=True)
            doc.line(LEFT, 150, RIGHT, 150, width=0.3)
            doc.text(LEFT + 2, 155, _("Value type"), 8, colour=pdf.GREY)
            doc.text(LEFT + 55, 155, _("Expires on"), 8, colour=pdf.GREY)
            doc.text(LEFT + 90, 155, _("Where it can be used"), 8, colour=pdf.GREY)
            doc.text(RIGHT - 2, 155, _("Amount"), 8, align="right", colour=pdf.GREY)
            y = 161
            for value_type in self.value_types:
                doc.text(LEFT + 2, y, value_type.name, 10)
                doc.text(LEFT + 55, y, pdf.date_ja(value_type.expires_on), 9)
                doc.text(LEFT + 90, y, where_usable(value_type), 9)
                y += 6
            self.amounts_y = 161

            doc.text(LEFT, 184, _("How to pay"), 11, bold=True)
            steps = [
                _(
                    "1. At the store, scan the store's QR code with your phone (sign in with the QR above)."
                ),
                _("2. Enter the amount and check it with the staff."),
                _(
                    "3. Pay and show the completion screen. No phone? Use the card below at the counter."
                ),
            ]
            y = 190
            for step in steps:
                doc.text(LEFT + 2, y, step, 9)
                y += 5
            if programme.contact:
                contact = " ".join(programme.contact.split())
                doc.wrapped(
                    LEFT,
                    207,
                    _("Contact: %(contact)s") % {"contact": contact},
                    8,
                    RIGHT - LEFT,
                    colour=pdf.GREY,
                )

            # The cut-out card.
            x, top, w, h = CARD
            doc.text(x, top - 2, _("Cut along the dashed line"), 7.5, colour=pdf.GREY)
            doc.rect(x, top, w, h, width=0.3, dash=(3, 2))
            doc.rect(x, top, w, 8, stroke=None, fill=BRAND)
            doc.text(
                x + 3,
                top + 5.5,
                _("%(programme)s payment card") % {"programme": programme.name},
                8.5,
                bold=True,
                colour=(1, 1, 1),
            )
            doc.text(x + 44, top + 44, _("Ticket number"), 6.5, colour=pdf.GREY)
            left, width = x + w + 8, RIGHT - (x + w + 8)
            doc.text(left, top + 6, _("For paying without a smartphone:"), 9, bold=True)
            y = top + 12
            for step in (
                _("1. At the counter, ask to pay by QR code payment."),
                _("2. The staff scan the QR code on this card."),
                _("3. Enter your PIN on the store's device."),
            ):
                y = doc.wrapped(left, y, step, 8.5, width, leading=1.4)
            doc.wrapped(
                left,
                y + 2,
                _(
                    "Keep the card and the PIN apart. Lost it? Contact the office: the card is stopped and a new notice is sent."
                ),
                7.5,
                width,
                colour=pdf.GREY,
            )

    def page(self, household: Household) -> None:
        doc = self.doc
        doc.use_form(STATIC)
        # Address block in the envelope's window.
        # 長3's window is about 90 x 45 mm: everything here fits 82 mm from x = 28.
        if household.postal_code:
            doc.text(28, 24, f"〒{household.postal_code}", 11)
        lines = doc.lines(household.address, 11, 82)
        if len(lines) > 3:  # a very long address: the last line takes the rest, smaller
            lines = [*lines[:2], "".join(lines[2:])]
        y = 31
        for line in lines:
            doc.fitted(28, y, line, 11, 82)
            y += 5.5
        doc.fitted(28, max(y + 5, 48), f"{household.name} 様", 14, 82, bold=True)
        if household.external_id:
            doc.text(28, 58, household.external_id, 7, colour=pdf.GREY)

        doc.fitted(LEFT + 28, 104, f"{household.name} 様", 12, 95)
        doc.text(LEFT + 28, 118, grouped_ticket(household.ticket_number), 17, bold=True)
        doc.text(LEFT + 28, 132, household.pin, 17, bold=True)
        doc.qr(login_url(household.ticket_number), 150, 96, 35)

        y = self.amounts_y
        for value_type in self.value_types:
            doc.text(
                RIGHT - 2,
                y,
                yen(household.amounts.get(value_type.pk, 0)),
                10,
                bold=True,
                align="right",
            )
            y += 6

        x, top = CARD[:2]
        doc.qr(household.card_token, x + 1, top + 9, 42)
        doc.fitted(x + 44, top + 20, household.name + " 様", 8, 40)
        doc.text(x + 44, top + 49, grouped_ticket(household.ticket_number), 9.5, bold=True)
        doc.show_page()

    def close(self) -> None:
        self.doc.close()


def csv_header(value_types) -> list[str]:
    header = [
        _("Postal code"),
        _("Address"),
        _("Name"),
        _("External ID"),
        _("Ticket number"),
        _("PIN"),
        _("Sign-in URL (QR)"),
        _("Card code (QR)"),
    ]
    for value_type in value_types:
        header += [
            _("%(value_type)s amount") % {"value_type": value_type.name},
            _("%(value_type)s expires on") % {"value_type": value_type.name},
            _("%(value_type)s usable at") % {"value_type": value_type.name},
        ]
    return header


def csv_row(household: Household, value_types) -> list:
    row = [
        household.postal_code,
        household.address,
        household.name,
        household.external_id,
        grouped_ticket(household.ticket_number),
        household.pin,
        login_url(household.ticket_number),
        household.card_token,
    ]
    for value_type in value_types:
        row += [
            household.amounts.get(value_type.pk, 0),
            pdf.date_ja(value_type.expires_on),
            where_usable(value_type),
        ]
    return row
