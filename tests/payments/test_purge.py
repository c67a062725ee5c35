from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from core import ratelimit
from core.models import RateLimit
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
    RateLimit.objects.create(key="stale", window_start=old, count=3)

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
