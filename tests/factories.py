"""Plain factory functions: each builds one valid object, overrides by keyword."""

import itertools
from datetime import timedelta

from django.utils import timezone

from core.checkdigit import damm_digit
from merchants.models import Company, Store, Terminal, User
from payments import services as payment_services
from payments.models import Payment
from settlement.models import PayingAccount
from wallets import ledger
from wallets.models import Programme, Resident, ValueType, Wallet

_seq = itertools.count(1)
_keys = itertools.count(1)


def programme(**kw) -> Programme:
    n = next(_seq)
    today = timezone.localdate()
    defaults = dict(
        code=f"prog{n}",
        name=f"プレミアム商品券{n}",
        issuer="テスト市",
        starts_on=today - timedelta(days=30),
        ends_on=today + timedelta(days=60),
        cancel_window=timedelta(hours=24),
    )
    return Programme.objects.create(**(defaults | kw))


def value_type(programme, **kw) -> ValueType:
    n = next(_seq)
    defaults = dict(code=f"vt{n}", name=f"共通券{n}", expires_on=programme.ends_on)
    return ValueType.objects.create(programme=programme, **(defaults | kw))


def company(**kw) -> Company:
    n = next(_seq)
    return Company.objects.create(**(dict(code=f"C{n:05d}", name=f"テスト企業{n}") | kw))


def store(company, programme, **kw) -> Store:
    n = next(_seq)
    defaults = dict(code=f"S{n:06d}", name=f"テスト店舗{n}", passcode=f"{n:06d}")
    return Store.objects.create(company=company, programme=programme, **(defaults | kw))


def terminal(store, *, setup_password: str | None = None, **kw) -> Terminal:
    """A terminal; with `setup_password`, that password issued (stored hashed)."""
    t = Terminal(store=store, **kw)
    if setup_password is not None:
        t.set_setup_password(setup_password)
    t.save()
    return t


def wallet(programme, *, pin="1234", **kw) -> Wallet:
    n = next(_seq)
    resident = Resident.objects.create(name=f"市民 {n}")
    w = Wallet(
        programme=programme,
        resident=resident,
        ticket_number=f"{n:011d}{damm_digit(f'{n:011d}')}",
        **kw,
    )
    w.set_pin(pin)
    w.save()
    return w


def funded_wallet(programme, balances: dict, **kw) -> Wallet:
    """balances: {value_type: yen}"""
    w = wallet(programme, **kw)
    for vt, amount in balances.items():
        ledger.grant(wallet=w, value_type=vt, amount=amount)
    return w


def user(username=None, password="Passw0rd-test", **kw) -> User:
    n = next(_seq)
    u = User(username=username or f"user{n:05d}x", must_change_password=False, **kw)
    u.set_password(password)
    u.save()
    return u


def earlier_today(minutes: int = 0):
    """`minutes` before now, on today's list even just after midnight (Tokyo): then the moments
    shift up to ten minutes ahead, in the same order, instead of falling into yesterday."""
    now = timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(now, midnight + timedelta(minutes=10)) - timedelta(minutes=minutes)


def payment(
    wallet,
    store,
    amount,
    *,
    key=None,
    mode="mpm",
    terminal=None,
    actor=None,
    now=None,
    minutes_ago=0,
) -> Payment:
    """A real payment through payments.services; a fresh idempotency key unless `key` is given."""
    return payment_services.payment_create(
        wallet=wallet,
        store=store,
        amount=amount,
        idempotency_key=key or f"test-{next(_keys)}",
        mode=mode,
        terminal=terminal,
        actor=actor,
        now=now or (timezone.now() - timedelta(minutes=minutes_ago) if minutes_ago else None),
    )


def paying_account(programme, **kw) -> PayingAccount:
    """The city's bank account that transfer files are paid from (依頼人)."""
    defaults = dict(
        requester_code="0000000001",
        requester_name_kana="ﾃｽﾄｼ",
        bank_code="0001",
        bank_name_kana="ﾐｽﾞﾎ",
        branch_code="001",
        branch_name_kana="ﾎﾝﾃﾝ",
        account_number="0000001",
    )
    return PayingAccount.objects.create(programme=programme, **(defaults | kw))


def staff_login(client, user, *, fresh=True, role=None):
    """Signed in to Django admin as after password and authenticator code (fresh: just now).

    role: a staff group's name (core.roles), given to the user first."""
    import time

    from django.contrib.auth.models import Group, Permission
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from core.roles import roles_sync
    from core.verification import VERIFIED_AT_KEY

    if role is not None:
        if not Group.objects.filter(name=role).exists():
            roles_sync(Group, Permission)  # a transactional test flushed the migration's groups
        user.groups.add(Group.objects.get(name=role))
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    device = device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    if fresh:
        session[VERIFIED_AT_KEY] = time.time()
    session.save()
    return client
