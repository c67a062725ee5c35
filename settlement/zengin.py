"""全銀協規定 総合振込 transfer file: fixed-length 120-byte records in Shift_JIS.

Records: header (1), one data record per payout (2), trailer (8), end (9). Records are
separated by CRLF and the file ends with CRLF after the end record (most Japanese internet
banking services accept both with and without; CRLF is the common choice).
"""

from datetime import date

from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from core.kana import to_half_width_kana

RECORD_LENGTH = 120
TRANSFER_KIND = "21"  # 総合振込
CODE_KIND = "0"  # Shift_JIS (JIS); 1 would be EBCDIC


class TransferFileError(DomainError):
    code = "transfer_file_error"
    message = _("%(company)s: %(problem)s")


def _text(value: str, width: int) -> bytes:
    """Half-width only: one byte per character in Shift_JIS, cut or padded to the width."""
    text = to_half_width_kana(value)
    data = text.encode("shift_jis", errors="replace")
    if len(data) != len(text):
        raise ValueError(value)
    return data[:width].ljust(width, b" ")


def _digits(value, width: int) -> bytes:
    text = str(value)
    if not text.isdigit() or len(text) > width:
        raise ValueError(value)
    return text.zfill(width).encode("ascii")


def _record(*fields: bytes) -> bytes:
    record = b"".join(fields)
    assert len(record) == RECORD_LENGTH, len(record)
    return record


def _check_company(company) -> None:
    problems = []
    if not (len(company.bank_code) == 4 and company.bank_code.isdigit()):
        problems.append(_("bank code must be 4 digits"))
    if not (len(company.branch_code) == 3 and company.branch_code.isdigit()):
        problems.append(_("branch code must be 3 digits"))
    if not (len(company.account_number) == 7 and company.account_number.isdigit()):
        problems.append(_("account number must be 7 digits"))
    if company.account_type not in ("1", "2"):
        problems.append(_("account type must be ordinary or current"))
    if not company.account_holder_kana:
        problems.append(_("account holder (kana) is missing"))
    if problems:
        raise TransferFileError(company=str(company), problem="、".join(str(p) for p in problems))


def transfer_file(*, paying_account, payouts, transfer_date: date) -> bytes:
    """The file for the bank: one data record per payout with a positive amount."""
    pa = paying_account
    records = [
        _record(
            b"1",
            TRANSFER_KIND.encode(),
            CODE_KIND.encode(),
            _digits(pa.requester_code, 10),
            _text(pa.requester_name_kana, 40),
            f"{transfer_date:%m%d}".encode(),
            _digits(pa.bank_code, 4),
            _text(pa.bank_name_kana, 15),
            _digits(pa.branch_code, 3),
            _text(pa.branch_name_kana, 15),
            _digits(pa.account_type, 1),
            _digits(pa.account_number, 7),
            b" " * 17,
        )
    ]
    count = total = 0
    for payout in payouts:
        if payout.net <= 0:
            continue
        company = payout.company
        _check_company(company)
        try:
            record = _record(
                b"2",
                _digits(company.bank_code, 4),
                _text(company.bank_name_kana, 15),
                _digits(company.branch_code, 3),
                _text(company.branch_name_kana, 15),
                b" " * 4,  # 手形交換所番号: unused
                _digits(company.account_type, 1),
                _digits(company.account_number, 7),
                _text(company.account_holder_kana, 30),
                _digits(payout.net, 10),
                b"0",  # 新規コード: その他
                _digits(company.pk, 10),  # 顧客コード1: our company id, shown on the statement
                _digits(payout.pk, 10),  # 顧客コード2: the payout
                b"7",  # 振込指定区分: テレ振込
                b" ",  # 識別表示
                b" " * 7,
            )
        except ValueError:
            raise TransferFileError(
                company=str(company), problem=_("use half-width kana, letters and digits only")
            ) from None
        records.append(record)
        count += 1
        total += payout.net
    records.append(_record(b"8", _digits(count, 6), _digits(total, 12), b" " * 101))
    records.append(_record(b"9", b" " * 119))
    return b"\r\n".join(records) + b"\r\n"
