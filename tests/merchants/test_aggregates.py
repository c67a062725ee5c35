"""月別/日別利用実績 from the trigger-kept summary, cross-checked against the payments.

The summary triggers run at commit, so these tests commit (transaction=True)."""

import random
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core.dates import add_months
from merchants.models import DailySummary
from merchants.portal import selectors
from merchants.scope import Scope
from payments import services as payment_services
from payments.models import Payment
from tests import factories


def expected_from_history(user, first, last, *, by_month):
    """Count and amount per period and value type, straight from the usage history."""
    start = timezone.make_aware(timezone.datetime.combine(first, timezone.datetime.min.time()))
    end = timezone.make_aware(
        timezone.datetime.combine(last + timedelta(days=1), timezone.datetime.min.time())
    )
    filters = selectors.HistoryFilters(start=start, end=end, exclude_cancelled=True)
    totals = Counter()
    per_type = defaultdict(Counter)
    for payment in selectors.payment_history_page(scope=Scope.of(user), filters=filters):
        day = timezone.localtime(payment.created_at).date()
        key = day.replace(day=1) if by_month else day
        totals[(key, "count")] += 1
        totals[(key, "amount")] += payment.amount
        for split in payment.splits.all():
            per_type[key][(split.value_type.name, "count")] += 1
            per_type[key][(split.value_type.name, "amount")] += split.amount
    return totals, per_type


def as_counters(result):
    totals = Counter()
    per_type = defaultdict(Counter)
    for period in result["periods"]:
        totals[(period.start, "count")] += period.count
        totals[(period.start, "amount")] += period.amount
        for row in period.rows:
            per_type[period.start][(row["value_type"], "count")] += row["count"]
            per_type[period.start][(row["value_type"], "amount")] += row["amount"]
    return totals, per_type


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_aggregates_match_the_history_for_random_data(
    seed, programme, common, local, company, small_store, large_store, company_admin, store_manager
):
    rng = random.Random(seed)
    stores = [small_store, large_store]
    wallets = [
        factories.funded_wallet(programme, {common: 50_000, local: 20_000}) for _ in range(4)
    ]
    now = timezone.now()
    payments = []
    for i in range(80):
        moment = now - timedelta(minutes=rng.randint(0, 60 * 24 * 29))
        payments.append(
            factories.payment(
                rng.choice(wallets),
                rng.choice(stores),
                rng.randint(1, 2500),
                key=f"agg-{seed}-{i}",
                mode="mpm",
                now=moment,
            )
        )
    for payment in rng.sample(payments, 15):
        payment_services.payment_cancel(payment=payment, enforce_window=False)

    today = timezone.localdate()
    first = today - timedelta(days=30)
    for user in (company_admin, store_manager):
        daily = selectors.daily_totals(scope=Scope.of(user), first=first, last=today)
        assert as_counters(daily) == expected_from_history(user, first, today, by_month=False)
        monthly = selectors.monthly_totals(scope=Scope.of(user), first=first, last=today)
        month_end = add_months(today.replace(day=1), 1) - timedelta(days=1)
        assert as_counters(monthly) == expected_from_history(
            user, first.replace(day=1), month_end, by_month=True
        )
        assert daily["count"] == monthly["count"] > 0
    completed = Payment.objects.filter(status="completed")
    assert daily["count"] < completed.count()  # the manager sees one store of two


@pytest.mark.django_db(transaction=True)
def test_summary_rebuild_equals_trigger_state(programme, common, local, small_store, pay):
    """The migration's rebuild query, run now, gives exactly what the triggers kept."""
    wallet = factories.funded_wallet(programme, {common: 9_000, local: 1_000})
    for amount in (1_500, 700, 2_000):
        pay(wallet, small_store, amount)
    payment_services.payment_cancel(payment=pay(wallet, small_store, 300))
    kept = set(
        DailySummary.objects.filter(count__gt=0).values_list(
            "store_id", "day", "value_type_id", "count", "amount"
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT store_id, (created_at AT TIME ZONE 'Asia/Tokyo')::date, NULL::bigint,
                   count(*), sum(amount)
            FROM payments_payment WHERE status = 'completed' GROUP BY 1, 2
            UNION ALL
            SELECT p.store_id, (p.created_at AT TIME ZONE 'Asia/Tokyo')::date, s.value_type_id,
                   count(*), sum(s.amount)
            FROM payments_payment p JOIN payments_paymentsplit s ON s.payment_id = p.id
            WHERE p.status = 'completed' GROUP BY 1, 2, 3
            """
        )
        rebuilt = set(cursor.fetchall())
    assert kept == rebuilt
    assert any(row[2] == local.pk for row in kept) and any(row[2] is None for row in kept)


@pytest.mark.django_db(transaction=True)
def test_cancellation_leaves_the_aggregates(
    client, merchant_login, company_admin, pay, wallet, small_store
):
    payment = pay(wallet, small_store, 1_234)
    merchant_login(client, company_admin)
    today = timezone.localdate().isoformat()
    response = client.get("/merchant/daily/", {"first": today, "last": today})
    assert response.context["result"]["amount"] == 1_234
    client.post(f"/merchant/payments/{payment.number}/cancel/", {"memo": "打ち間違い"})
    response = client.get("/merchant/daily/", {"first": today, "last": today})
    assert response.context["result"]["amount"] == 0
    assert "この期間の利用実績はありません" in response.content.decode()


@pytest.mark.django_db
def test_ranges_are_limited(client, merchant_login, company_admin):
    merchant_login(client, company_admin)
    response = client.get("/merchant/monthly/", {"first": "2026-01", "last": "2026-04"})
    assert response.context["result"] is None
    assert "最大3ヶ月まで" in response.content.decode()
    response = client.get("/merchant/monthly/", {"first": "2026-01", "last": "2026-03"})
    assert response.context["result"] is not None
    response = client.get("/merchant/daily/", {"first": "2026-01-01", "last": "2026-02-01"})
    assert response.context["result"] is None
    assert "最大31日まで" in response.content.decode()
    response = client.get("/merchant/daily/", {"first": "2026-01-01", "last": "2026-01-31"})
    assert response.context["result"] is not None


@pytest.mark.django_db(transaction=True)
def test_monthly_page_shows_value_types_and_totals(
    client, merchant_login, company_admin, pay, wallet, small_store
):
    pay(wallet, small_store, 3_500)  # 3,000 専用券 + 500 共通券
    merchant_login(client, company_admin)
    body = client.get("/merchant/monthly/").content.decode()
    assert "専用券" in body and "3,000 円" in body and "500 円" in body
    assert "3,500 円" in body and "合計" in body


@pytest.mark.django_db(transaction=True)
def test_paying_and_cancelling_at_one_store_at_once_neither_deadlocks_nor_drifts(
    programme, common, small_store, company_admin
):
    """Pay locks the merchant's account last, cancel early: the summary must not cross them."""
    import threading

    from django.db import connection

    payer = factories.funded_wallet(programme, {common: 100_000})
    other = factories.funded_wallet(programme, {common: 100_000})
    to_cancel = [
        factories.payment(other, small_store, 100, key=f"c{i}", mode="mpm") for i in range(15)
    ]
    errors = []
    barrier = threading.Barrier(2)

    def run(work):
        try:
            barrier.wait()
            work()
        except Exception as error:  # collected for the assertion below
            errors.append(error)
        finally:
            connection.close()

    def paying():
        for i in range(15):
            factories.payment(payer, small_store, 10, key=f"p{i}", mode="mpm")

    def cancelling():
        for payment in to_cancel:
            payment_services.payment_cancel(payment=payment)

    threads = [threading.Thread(target=run, args=(w,)) for w in (paying, cancelling)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    today = timezone.localdate()
    result = selectors.daily_totals(scope=Scope.of(company_admin), first=today, last=today)
    assert (result["count"], result["amount"]) == (15, 150)


@pytest.mark.django_db
def test_daily_shows_the_last_31_days_by_default(client, merchant_login, company_admin):
    merchant_login(client, company_admin)
    form = client.get("/merchant/daily/").context["form"]
    today = timezone.localdate()
    assert (form.initial["first"], form.initial["last"]) == (today - timedelta(days=30), today)


@pytest.mark.django_db(transaction=True)  # the daily summary is kept at commit
def test_daily_and_monthly_draw_a_chart_with_every_period_and_round_ticks(
    client, merchant_login, company_admin, pay, wallet, small_store
):
    pay(wallet, small_store, 1_234)
    merchant_login(client, company_admin)
    daily = client.get("/merchant/daily/")
    chart = daily.context["chart"]
    assert len(chart["bars"]) == 31 and chart["bars"][-1].value == 1_234
    assert [t["value"] for t in chart["ticks"]] == [0, 500, 1_000, 1_500]
    assert '<svg class="m-chart"' in daily.content.decode()
    monthly = client.get("/merchant/monthly/").context["chart"]
    assert len(monthly["bars"]) == 3 and monthly["bars"][-1].value == 1_234
