"""Four eyes on payouts: a second staff member approves a run's payouts before a transfer file is
made or a payout is marked paid; configurable per programme; audited."""

from datetime import date

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from core.models import AuditLog
from core.roles import SETTLEMENT
from settlement import services, zengin
from settlement.models import PayingAccount, Payout
from tests import factories
from tests.settlement.conftest import at

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/settlement/payout/"


@pytest.fixture
def closed(autumn, shop):
    """October 1-15 closed; returns a function giving the run's payout for a starter."""
    wallet, store = shop
    factories.payment(wallet, store, 4_000, key="f1", now=at(date(2026, 10, 3)))

    def close(actor):
        run = services.settlement_run(
            programme=autumn, period_end=date(2026, 10, 15), actor=actor, today=date(2026, 11, 1)
        )
        return Payout.objects.get(run=run, company=store.company)

    return close


def staff(name):
    return factories.user(name, is_staff=True)


def test_the_one_who_ran_the_settlement_cannot_approve_it(closed):
    alice, bob = staff("alice-city"), staff("bob-city")
    payout = closed(alice)
    with pytest.raises(services.SameStaffMember):
        services.payout_approve(payouts=[payout], actor=alice)
    payout.refresh_from_db()
    assert payout.approved_by is None
    with pytest.raises(services.PayoutNotApproved):
        services.payout_mark_paid(payouts=[payout], paid_on=date(2026, 10, 30), actor=alice)
    with pytest.raises(services.PayoutNotApproved):
        services.payouts_check_approved([payout])
    payout.refresh_from_db()
    assert payout.status == Payout.Status.SCHEDULED

    assert services.payout_approve(payouts=[payout], actor=bob) == 1
    payout.refresh_from_db()
    assert payout.approved_by == bob and payout.approved_at is not None
    entry = AuditLog.objects.get(action="settlement.payout.approved")
    assert (entry.actor, entry.object_id, entry.data["run_started_by"]) == (
        bob,
        str(payout.pk),
        alice.pk,
    )
    assert services.payout_approve(payouts=[payout], actor=bob) == 0  # once
    services.payouts_check_approved([payout])
    assert services.payout_mark_paid(payouts=[payout], paid_on=date(2026, 10, 30), actor=alice)


def test_an_automatic_run_needs_a_marker_other_than_the_approver(closed):
    bob, carol = staff("bob-city"), staff("carol-city")
    payout = closed(None)
    services.payout_approve(payouts=[payout], actor=bob)
    with pytest.raises(services.SameStaffMember):
        services.payout_mark_paid(payouts=[payout], paid_on=date(2026, 10, 30), actor=bob)
    payout.refresh_from_db()
    assert payout.status == Payout.Status.SCHEDULED
    assert services.payout_mark_paid(payouts=[payout], paid_on=date(2026, 10, 30), actor=carol)


def test_one_unapproved_payout_stops_the_whole_batch(autumn, shop, closed):
    wallet, _store = shop
    other = factories.store(factories.company(name="別会社"), autumn)
    factories.payment(wallet, other, 2_000, key="f2", now=at(date(2026, 10, 4)))
    payout = closed(staff("alice-city"))
    second = Payout.objects.exclude(pk=payout.pk).get()
    services.payout_approve(payouts=[payout], actor=staff("bob-city"))
    with pytest.raises(services.PayoutNotApproved):
        services.payout_mark_paid(
            payouts=[payout, second], paid_on=date(2026, 10, 30), actor=staff("carol-city")
        )
    assert set(Payout.objects.values_list("status", flat=True)) == {"scheduled"}


def test_a_programme_can_turn_four_eyes_off(autumn, closed):
    autumn.payout_four_eyes = False
    autumn.save()
    alice = staff("alice-city")
    payout = closed(alice)
    services.payouts_check_approved([payout])
    assert services.payout_mark_paid(payouts=[payout], paid_on=date(2026, 10, 30), actor=alice)


def test_in_admin_approval_then_transfer_file_and_paid(autumn, company, closed):
    company.bank_code, company.branch_code, company.account_number = "0005", "001", "1234567"
    company.account_holder_kana = "ｶ)ﾃｽﾄ"
    company.save()
    factories.paying_account(autumn)
    alice = staff("alice-city")
    bob = staff("bob-city")
    payout = closed(alice)
    as_alice = factories.staff_login(Client(), alice, role=SETTLEMENT)
    as_bob = factories.staff_login(Client(), bob, role=SETTLEMENT)
    transfer = {
        "action": "download_transfer_file",
        ACTION_CHECKBOX_NAME: [payout.pk],
        "apply": "1",
        "transfer_date": "2026-10-30",
    }
    refused = as_alice.post(CHANGELIST, transfer, follow=True).content.decode()
    assert "承認" in refused
    paid = {
        "action": "mark_paid",
        ACTION_CHECKBOX_NAME: [payout.pk],
        "apply": "1",
        "paid_on": "2026-10-30",
    }
    assert "承認" in as_alice.post(CHANGELIST, paid, follow=True).content.decode()
    approve = {"action": "approve", ACTION_CHECKBOX_NAME: [payout.pk]}
    assert "2人目" in as_alice.post(CHANGELIST, approve, follow=True).content.decode()
    payout.refresh_from_db()
    assert payout.approved_by is None and payout.status == "scheduled"

    as_bob.post(CHANGELIST, approve)
    payout.refresh_from_db()
    assert payout.approved_by == bob
    done = as_alice.post(CHANGELIST, transfer)
    assert done["Content-Disposition"].startswith("attachment")
    assert done.content == zengin.transfer_file(
        paying_account=PayingAccount.objects.get(programme=autumn),
        payouts=[payout],
        transfer_date=date(2026, 10, 30),
    )
    as_alice.post(CHANGELIST, paid)
    payout.refresh_from_db()
    assert (payout.status, payout.paid_by, payout.approved_by) == ("paid", alice, bob)


def test_turning_four_eyes_off_needs_a_fresh_check_and_is_audited(autumn, city_staff):
    from core.verification import VERIFIED_AT_KEY

    client = factories.staff_login(Client(), city_staff)
    session = client.session
    session[VERIFIED_AT_KEY] = 0
    session.save()
    url = f"/admin/wallets/programme/{autumn.pk}/change/"
    data = {
        "code": autumn.code,
        "name": autumn.name,
        "issuer": autumn.issuer,
        "starts_on": autumn.starts_on.isoformat(),
        "ends_on": autumn.ends_on.isoformat(),
        "cancel_window": "1 00:00:00",
        "settlement_cycle": autumn.settlement_cycle,
        "payment_offset_days": autumn.payment_offset_days,
        "fee_rate": str(autumn.fee_rate),
        "value_types-TOTAL_FORMS": "0",
        "value_types-INITIAL_FORMS": "0",
    }
    response = client.post(url, data)
    assert response["Location"].startswith("/admin/otp/reverify/")
    autumn.refresh_from_db()
    assert autumn.payout_four_eyes
    factories.staff_login(client, city_staff)
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    autumn.refresh_from_db()
    assert not autumn.payout_four_eyes
    entry = AuditLog.objects.get(action="wallets.programme.payout_four_eyes_changed")
    assert entry.data == {"payout_four_eyes": False}
