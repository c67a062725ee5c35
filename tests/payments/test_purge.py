from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from core import ratelimit
from core.models import RateLimit
from merchants.portal.views.auth import RESET_WINDOW
from payments import services
from payments.models import CpmCode


def test_purge_keeps_used_and_fresh_codes_and_live_counters(wallet, app_terminal):
    old = timezone.now() - timedelta(days=2)
    _stale, _ = services.cpm_code_issue(wallet=wallet, now=old)
    used, text = services.cpm_code_issue(wallet=wallet, now=old)
    CpmCode.objects.filter(pk=used.pk).update(expires_at=timezone.now() + timedelta(seconds=60))
    services.payment_create_cpm(terminal=app_terminal, code=text, amount=1, idempotency_key="u")
    CpmCode.objects.filter(pk=used.pk).update(expires_at=old)
    fresh, _ = services.cpm_code_issue(wallet=wallet)
    ratelimit.rate_limit_hit(key="live", window=services.ATTEMPT_WINDOW)
    RateLimit.objects.create(
        key="stale", window_start=old, count=3, window_length=services.ATTEMPT_WINDOW
    )

    call_command("purge_payment_codes")

    assert set(CpmCode.objects.values_list("pk", flat=True)) == {used.pk, fresh.pk}
    assert list(RateLimit.objects.values_list("key", flat=True)) == ["live"]


def test_rate_limit_window_restarts(db):
    key, window = "k", timedelta(minutes=15)
    assert [ratelimit.rate_limit_hit(key=key, window=window) for _ in range(3)] == [1, 2, 3]
    assert ratelimit.rate_limit_exceeded(key=key, limit=3, window=window)
    RateLimit.objects.filter(key=key).update(window_start=timezone.now() - window)
    assert not ratelimit.rate_limit_exceeded(key=key, limit=3, window=window)
    assert ratelimit.rate_limit_hit(key=key, window=window) == 1


def counters_started(ago, **windows):
    """Counters of these keys and windows, started `ago`; the keys left after a purge."""
    for key, window in windows.items():
        ratelimit.rate_limit_hit(key=key, window=window)
    RateLimit.objects.filter(key__in=windows).update(window_start=timezone.now() - ago)
    call_command("purge_payment_codes")
    return set(RateLimit.objects.values_list("key", flat=True))


def test_each_counter_is_purged_after_its_own_window(db):
    """The purge used to delete every counter after 15 minutes, the 1-hour reset ones too."""
    windows = {
        "pin:addr:192.0.2.1": services.ATTEMPT_WINDOW,
        "password-reset:email:a@example.jp": RESET_WINDOW,
        "pin:ticket-total:1": services.PIN_FAILURE_MEMORY,
    }
    assert counters_started(timedelta(minutes=20), **windows) == {
        "password-reset:email:a@example.jp",
        "pin:ticket-total:1",
    }
    assert counters_started(timedelta(minutes=61), **windows) == {"pin:ticket-total:1"}
    assert counters_started(timedelta(days=180), **windows) == {"pin:ticket-total:1"}
    assert counters_started(services.PIN_FAILURE_MEMORY, **windows) == set()
