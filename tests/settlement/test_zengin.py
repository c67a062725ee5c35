"""The 総合振込 file, record by record: 120 bytes each, fields at their offsets, trailer sums."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from settlement import services, zengin
from settlement.models import PayingAccount
from tests import factories
from tests.settlement.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def paying_account(autumn):
    return PayingAccount.objects.create(
        programme=autumn,
        requester_code="1234567890",
        requester_name_kana="ﾃｽﾄｼ ｼﾖｳﾋﾝｹﾝｼﾞﾂｺｳｲｲﾝｶｲ",
        bank_code="0001",
        bank_name_kana="ﾐｽﾞﾎ",
        branch_code="100",
        branch_name_kana="ﾎﾝﾃﾝ",
        account_type="1",
        account_number="7654321",
    )


def bank(company, **kw):
    values = dict(
        bank_code="0005",
        bank_name_kana="ﾐﾂﾋﾞｼUFJ",
        branch_code="001",
        branch_name_kana="ﾄｳｷﾖｳ",
        account_type="1",
        account_number="1234567",
        account_holder_kana="ｶ)ﾊﾟﾝﾔ",
    )
    for name, value in (values | kw).items():
        setattr(company, name, value)
    company.save()
    return company


@pytest.fixture
def payouts(autumn):
    vt = factories.value_type(autumn)
    wallet = factories.funded_wallet(autumn, {vt: 100_000})
    first = bank(factories.company(name="パン屋"))
    second = bank(
        factories.company(name="八百屋"),
        account_type="2",
        account_number="0000042",
        account_holder_kana="ﾔｵﾔ ﾀﾛｳ",
    )
    for n, (company, amount) in enumerate([(first, 12_345), (second, 40_000), (first, 5)]):
        store = factories.store(company, autumn)
        factories.payment(
            wallet, store, amount, key=f"z{n}", mode="mpm", now=at(date(2026, 10, 2 + n))
        )
    run = services.settlement_run(programme=autumn, period_end=date(2026, 10, 15))
    return list(run.payouts.select_related("company").order_by("company__code"))


def test_transfer_file_record_by_record(paying_account, payouts):
    data = zengin.transfer_file(
        paying_account=paying_account, payouts=payouts, transfer_date=date(2026, 10, 30)
    )
    assert data.endswith(b"\r\n")
    records = data[:-2].split(b"\r\n")
    assert [len(r) for r in records] == [120] * 5
    assert [r[:1] for r in records] == [b"1", b"2", b"2", b"8", b"9"]
    header, first, second, trailer, end = records

    assert header[1:3] == b"21" and header[3:4] == b"0"
    assert header[4:14] == b"1234567890"
    assert header[14:54].decode("shift_jis").rstrip() == "ﾃｽﾄｼ ｼﾖｳﾋﾝｹﾝｼﾞﾂｺｳｲｲﾝｶｲ"
    assert header[54:58] == b"1030"
    assert header[58:62] == b"0001" and header[62:77].decode("shift_jis").rstrip() == "ﾐｽﾞﾎ"
    assert header[77:80] == b"100" and header[80:95].decode("shift_jis").rstrip() == "ﾎﾝﾃﾝ"
    assert header[95:96] == b"1" and header[96:103] == b"7654321"
    assert header[103:] == b" " * 17

    bakery, grocer = payouts
    assert (bakery.net, grocer.net) == (12_350 - 185, 40_000 - 600)  # 1.5 % fee, rounded down
    assert first[1:5] == b"0005" and first[5:20].decode("shift_jis").rstrip() == "ﾐﾂﾋﾞｼUFJ"
    assert first[20:23] == b"001" and first[23:38].decode("shift_jis").rstrip() == "ﾄｳｷﾖｳ"
    assert first[38:42] == b"    "
    assert first[42:43] == b"1" and first[43:50] == b"1234567"
    assert first[50:80].decode("shift_jis").rstrip() == "ｶ)ﾊﾟﾝﾔ"
    assert first[80:90] == f"{bakery.net:010d}".encode()
    assert first[90:91] == b"0"
    assert first[91:101] == f"{bakery.company_id:010d}".encode()
    assert first[101:111] == f"{bakery.pk:010d}".encode()
    assert first[111:112] == b"7" and first[112:] == b" " * 8
    assert second[42:43] == b"2" and second[43:50] == b"0000042"
    assert second[80:90] == f"{grocer.net:010d}".encode()

    assert trailer[1:7] == b"000002"
    assert trailer[7:19] == f"{bakery.net + grocer.net:012d}".encode()
    assert trailer[19:] == b" " * 101
    assert end[1:] == b" " * 119


def test_half_width_kana_is_one_byte_each_in_shift_jis(paying_account, payouts):
    data = zengin.transfer_file(
        paying_account=paying_account, payouts=payouts[:1], transfer_date=date(2026, 10, 30)
    )
    name = data.split(b"\r\n")[1][50:80]
    assert all(0xA1 <= b <= 0xDF or b < 0x80 for b in name)


def test_company_without_a_valid_account_is_named_in_the_error(paying_account, payouts):
    company = payouts[0].company
    company.account_number = "123"
    with pytest.raises(zengin.TransferFileError) as error:
        zengin.transfer_file(
            paying_account=paying_account, payouts=payouts, transfer_date=date(2026, 10, 30)
        )
    assert company.name in str(error.value)
    company.account_number = "1234567"
    company.account_holder_kana = "山田商店"
    with pytest.raises(zengin.TransferFileError):
        zengin.transfer_file(
            paying_account=paying_account, payouts=payouts, transfer_date=date(2026, 10, 30)
        )


def test_company_bank_details_are_validated_and_kana_converted_on_entry(company):
    company.bank_code = "001"
    company.branch_code = "12"
    company.account_number = "12345678"
    company.account_holder_kana = "カ）やまだしょうてん"
    with pytest.raises(ValidationError) as error:
        company.full_clean()
    assert set(error.value.message_dict) == {"bank_code", "branch_code", "account_number"}
    assert company.account_holder_kana == "ｶ)ﾔﾏﾀﾞｼﾖｳﾃﾝ"
    company.account_holder_kana = "山田商店"
    with pytest.raises(ValidationError) as error:
        company.full_clean()
    assert "account_holder_kana" in error.value.message_dict


def test_to_half_width_kana():
    assert zengin.to_half_width_kana("ガギグ　パピプ") == "ｶﾞｷﾞｸﾞ ﾊﾟﾋﾟﾌﾟ"
    assert zengin.to_half_width_kana("ｶﾞｯｺｳ") == "ｶﾞﾂｺｳ"  # small kana are not allowed
    assert zengin.to_half_width_kana("ａｂｃ１２３") == "ABC123"
