"""check_ledger: green on sound data (the demo data too), loud on every kind of breach."""

import io
import json

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from merchants.models import Terminal
from payments.models import Payment
from tests import factories
from wallets.models import Account, Wallet

pytestmark = pytest.mark.django_db(transaction=True)


def check() -> str:
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    return out.getvalue()


def test_demo_data_is_sound_and_prints_every_sign_in(tmp_path):
    path = tmp_path / "logins.json"
    call_command("seed_demo", json_path=str(path), stdout=io.StringIO())
    logins = json.loads(path.read_text())

    report = check()
    assert "BAD" not in report
    assert {"city_staff", "merchant_users", "stores", "terminals", "residents"} <= logins.keys()
    assert {u["role"] for u in logins["merchant_users"]} == {
        "company_admin",
        "store_manager",
        "store_staff",
    }
    assert all(len(r["pin"]) == 6 for r in logins["residents"])
    # Every demo ticket has a card to try at the store app.
    from wallets.services import wallet_for_card

    first = logins["residents"][0]
    assert wallet_for_card(first["card_token"]).ticket_number == first["ticket_number"]
    # One staff user per role, each with a printed authenticator key that computes real codes.
    assert {r for u in logins["city_staff"] for r in u["roles"]} == {
        "superuser",
        "事業担当",
        "加盟店担当",
        "精算担当",
        "監査",
    }
    import base64

    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    staff = logins["city_staff"][0]
    device = TOTPDevice.objects.get(user__username=staff["username"])
    key = base64.b32decode(staff["totp_secret"])
    assert TOTP(key).token() == TOTP(device.bin_key).token()
    wallet = Wallet.objects.get(ticket_number=logins["residents"][0]["ticket_number"])
    assert wallet.check_pin(logins["residents"][0]["pin"])
    # Terminal passwords are stored hashed; the printed ones are the ones that set up a device.
    for printed in logins["terminals"]:
        terminal = Terminal.objects.get(terminal_id=printed["terminal_id"])
        assert check_password(printed["password"], terminal.setup_password_hash)
    assert Payment.objects.filter(status="cancelled").exists()
    assert Account.objects.filter(
        kind="wallet", value_type__small_local_only=True, balance__gt=0
    ).exists()

    # A second run changes nothing and prints the same sign-ins.
    payments = Payment.objects.count()
    call_command("seed_demo", json_path=str(path), stdout=io.StringIO())
    assert Payment.objects.count() == payments
    assert json.loads(path.read_text()) == logins


def breach(statements):
    """Break the ledger behind the database's back, as only a superuser with triggers off could."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE wallets_posting DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE wallets_account DISABLE TRIGGER USER")
        try:
            for sql, params in statements:
                cursor.execute(sql, params)
        finally:
            cursor.execute("ALTER TABLE wallets_posting ENABLE TRIGGER USER")
            cursor.execute("ALTER TABLE wallets_account ENABLE TRIGGER USER")


@pytest.mark.parametrize(
    ("sql", "label"),
    [
        (
            "UPDATE wallets_posting SET amount = amount + 1 WHERE id = (SELECT min(id) FROM wallets_posting)",
            "BAD unbalanced journal entries: 1",
        ),
        (
            "UPDATE wallets_account SET balance = balance + 7 WHERE kind = 'wallet' AND id = "
            "(SELECT min(id) FROM wallets_account WHERE kind = 'wallet')",
            "BAD accounts whose balance differs from their postings: 1",
        ),
    ],
)
def test_each_breach_is_reported_and_fails_the_command(wallet, small_store, sql, label):
    factories.payment(wallet, small_store, 100, key="x", mode="mpm")
    assert "BAD" not in check()

    breach([(sql, [])])

    with pytest.raises(CommandError, match="ledger check failed"):
        call_command("check_ledger", stdout=(out := io.StringIO()))
    assert label in out.getvalue()
