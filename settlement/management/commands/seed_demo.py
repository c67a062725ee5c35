"""Demo data mirroring the two manuals: a child-support ticket (MPM, 24-hour cancel
window) and a premium voucher with 共通券 and 専用券 (CPM, 90-day window). Deterministic: the same
sign-ins every time; running it again on a seeded database only prints them."""

import base64
import hashlib
import json
import random
from datetime import datetime, time, timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import roles
from core.checkdigit import damm_digit
from core.exceptions import DomainError
from merchants.models import Company, Store, Terminal, User
from payments import services as payment_services
from payments.models import Payment
from settlement.periods import period_containing
from settlement.services import payout_approve, payout_mark_paid, settlement_run
from wallets import ledger
from wallets.models import NEW_PIN_DIGITS, Programme, Resident, ValueType, Wallet, card_digest
from wallets.services import CARD_TOKEN_PREFIX

STAFF_PASSWORD = "Demo-pass-2026"
# One city staff user per role (core.roles); city_admin stays the superuser.
ROLE_USERS = [
    ("staff_programme", roles.PROGRAMME, "事業 担当者"),
    ("staff_merchants", roles.MERCHANTS, "加盟店 担当者"),
    ("staff_settlement", roles.SETTLEMENT, "精算 担当者"),
    ("staff_audit", roles.AUDIT, "監査 担当者"),
]
APP_STAFF_PASSWORD = "Demo-store-app-2026"

COMPANIES = [
    # code, name, kana, bank (code, branch, number, holder)
    ("C0001", "エーナ食堂", "ｴｰﾅｼｮｸﾄﾞｳ", ("0001", "001", "1234567", "ｶ)ｴｰﾅｼﾖｸﾄﾞｳ")),
    ("C0002", "かしわ書店", "ｶｼﾜｼｮﾃﾝ", ("0005", "123", "7654321", "ｶ)ｶｼﾜｼﾖﾃﾝ")),
    ("C0003", "まちなかスーパー株式会社", "ﾏﾁﾅｶｽｰﾊﾟｰ", ("0009", "456", "1112223", "ｶ)ﾏﾁﾅｶｽ-ﾊﾟ-")),
]
# company code, programme code, store code, name, small/local
STORES = [
    ("C0001", "kids", "KID0001_00001", "エーナ食堂 本店", True),
    ("C0002", "kids", "KID0002_00001", "かしわ書店", True),
    ("C0003", "kids", "KID0003_00001", "まちなかスーパー 駅前店", False),
    ("C0001", "premium", "PRM0001_00001", "エーナ食堂 本店", True),
    ("C0003", "premium", "PRM0003_00001", "まちなかスーパー 駅前店", False),
    ("C0003", "premium", "PRM0003_00002", "まちなかスーパー 港町店", False),
]
SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
GIVEN = ["陽菜", "蓮", "結衣", "湊", "葵", "大和", "凛", "悠真", "芽依", "樹"]


class Command(BaseCommand):
    help = "Load deterministic demo data (programmes, merchants, residents, payments) and print the sign-ins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json",
            dest="json_path",
            metavar="FILE",
            help="also write every sign-in to this JSON file",
        )

    def handle(self, *args, json_path=None, **options):
        if not Programme.objects.filter(code="kids").exists():
            with transaction.atomic():
                self.seed(random.Random(2026))
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        logins = self.logins()
        if json_path:
            with open(json_path, "w", encoding="utf-8") as f:
                json.dump(logins, f, ensure_ascii=False, indent=2)
        self.print_logins(logins)

    def seed(self, rnd: random.Random):
        today = timezone.localdate()
        kids = Programme.objects.create(
            code="kids",
            name="子育て応援券 (キッズ★スターチケット)",
            issuer="柏崎市 子育て支援課",
            starts_on=today - timedelta(days=60),
            ends_on=today + timedelta(days=120),
            cancel_window=timedelta(hours=24),
        )
        ValueType.objects.create(
            programme=kids, code="kids", name="子育て応援券", expires_on=kids.ends_on
        )
        premium = Programme.objects.create(
            code="premium",
            name="プレミアム付き電子商品券",
            issuer="恵那市商品券事業実行委員会",
            starts_on=today - timedelta(days=45),
            ends_on=today + timedelta(days=90),
            cancel_window=timedelta(days=90),
            fee_rate="0.0100",
        )
        ValueType.objects.create(
            programme=premium, code="common", name="共通券", expires_on=premium.ends_on
        )
        ValueType.objects.create(
            programme=premium,
            code="local",
            name="専用券",
            small_local_only=True,
            expires_on=premium.ends_on,
        )
        programmes = {"kids": kids, "premium": premium}

        # One hash for all demo users keeps seeding fast (PBKDF2 is slow on purpose).
        staff_hash, app_hash = make_password(STAFF_PASSWORD), make_password(APP_STAFF_PASSWORD)
        city_admin = User.objects.create(
            is_staff=True,
            is_superuser=True,
            username="city_admin",
            email="city@example.jp",
            password=staff_hash,
            name="市役所 担当者",
            must_change_password=False,
        )
        roles.roles_sync(Group, Permission)  # made by migration; again after a database flush
        role_users = {}
        for username, role, name in ROLE_USERS:
            role_users[role] = User.objects.create(
                is_staff=True,
                username=username,
                email=f"{username}@example.jp",
                password=staff_hash,
                name=name,
                must_change_password=False,
            )
            role_users[role].groups.add(Group.objects.get(name=role))
        for user in [city_admin, *role_users.values()]:
            TOTPDevice.objects.create(
                user=user, name="authenticator", confirmed=True, key=demo_totp_key(user.username)
            )
        companies = {}
        for code, name, kana, (bank, branch, number, holder) in COMPANIES:
            companies[code] = Company.objects.create(
                code=code,
                name=name,
                name_kana=kana,
                email=f"{code.lower()}@example.jp",
                bank_code=bank,
                branch_code=branch,
                account_number=number,
                account_holder_kana=holder,
                bank_name_kana="ﾃﾞﾓｷﾞﾝｺｳ",
                branch_name_kana="ﾎﾝﾃﾝ",
            )
            User.objects.create(
                username=f"{code.lower()}admin",
                password=staff_hash,
                name=f"{name} 管理者",
                email=f"{code.lower()}admin@example.jp",
                role=User.Role.COMPANY_ADMIN,
                company=companies[code],
                must_change_password=False,
            )
        stores = []
        for i, (company_code, programme_code, code, name, small) in enumerate(STORES, start=1):
            store = Store.objects.create(
                company=companies[company_code],
                programme=programmes[programme_code],
                code=code,
                name=name,
                is_small_local=small,
                passcode=f"{rnd.randrange(10**6):06d}",
                phone="0257-00-0000",
            )
            stores.append(store)
            kinds = [
                (Terminal.Kind.QR_SHEET, "QR台紙", ""),
                (Terminal.Kind.STORE_APP, "店頭タブレット", ""),
            ]
            if not small:
                kinds.append((Terminal.Kind.POS, "POSレジ1", f"POS-{i:04d}"))
            for n, (kind, terminal_name, external_id) in enumerate(kinds, start=1):
                terminal = Terminal(
                    store=store,
                    kind=kind,
                    name=terminal_name,
                    external_id=external_id,
                    terminal_id=f"{1000_0000_0000 + i * 10 + n}",
                )
                terminal.set_setup_password(demo_terminal_password(terminal.terminal_id))
                terminal.save()
            User.objects.create(
                username=f"{code.lower()}mgr",
                password=staff_hash,
                name=f"{name} 店長",
                email=f"{code.lower()}mgr@example.jp",
                role=User.Role.STORE_MANAGER,
                company=store.company,
                store=store,
                must_change_password=False,
            )
            User.objects.create(
                username=f"{code.lower()}staff",
                password=app_hash,
                name=f"{name} 担当",
                email=f"{code.lower()}staff@example.jp",
                role=User.Role.STORE_STAFF,
                company=store.company,
                store=store,
                must_change_password=False,
            )

        wallets = []
        for n in range(12):
            resident = Resident.objects.create(
                name=f"{SURNAMES[n % 10]} {GIVEN[(n * 3) % 10]}",
                email=f"resident{n + 1:02d}@example.jp",
            )
            for programme in (kids, premium):
                body = f"{(2 if programme is kids else 3)}{rnd.randrange(10**10):010d}"
                wallet = Wallet(
                    programme=programme, resident=resident, ticket_number=body + damm_digit(body)
                )
                wallet.set_pin(demo_pin(wallet.ticket_number))
                wallet.card_digest = card_digest(demo_card(wallet.ticket_number))
                wallet.save()
                wallets.append(wallet)
                for value_type in programme.value_types.all():
                    # Premium vouchers: 13,000 yen of value bought for 10,000 (30% premium).
                    amount = 10_000 if programme is kids else 6_500
                    ledger.grant(
                        wallet=wallet,
                        value_type=value_type,
                        amount=amount,
                        paid=0 if programme is kids else 5_000,
                        memo="初回付与",
                        idempotency_key=f"demo-grant:{wallet.ticket_number}:{value_type.code}",
                    )

        # Six weeks of payments, newest today, some cancelled by the store inside the window.
        now = timezone.localtime()
        for day in range(40, -1, -1):
            date = now.date() - timedelta(days=day)
            for k in range(rnd.randint(3, 7)):
                wallet = rnd.choice(wallets)
                candidates = [s for s in stores if s.programme_id == wallet.programme_id]
                store = rnd.choice(candidates)
                at = timezone.make_aware(
                    datetime.combine(date, time(9 + k, rnd.randrange(60), rnd.randrange(60)))
                )
                if at > now:
                    continue
                amount = rnd.choice([100, 350, 550, 650, 800, 1_095, 1_120, 1_500, 2_300])
                terminal = store.terminals.order_by("pk").first()
                try:
                    payment = payment_services.payment_create(
                        wallet=wallet,
                        store=store,
                        amount=amount,
                        mode=Payment.Mode.MPM,
                        terminal=terminal,
                        idempotency_key=f"demo-pay:{date}:{k}",
                        now=at,
                    )
                except DomainError:
                    continue
                if rnd.random() < 0.1:
                    payment_services.payment_cancel(
                        payment=payment, memo="金額誤りのため", now=at + timedelta(minutes=3)
                    )

        # Close the settlement periods already over, and mark paid what was due by today,
        # so that 支払一覧 and the city's dashboard have something to show.
        for programme in programmes.values():
            period = period_containing(programme, programme.starts_on)
            while period.end < today:
                run = settlement_run(programme=programme, period_end=period.end, actor=city_admin)
                due = run.payouts.filter(scheduled_on__lt=today)
                # Four eyes: 精算担当 approves what city_admin settled, then it is marked paid.
                payout_approve(payouts=list(due), actor=role_users[roles.SETTLEMENT])
                payout_mark_paid(payouts=list(due), paid_on=period.payment_date, actor=city_admin)
                period = period_containing(programme, period.end + timedelta(days=1))

    def logins(self) -> dict:
        return {
            "admin_url": "/admin/",
            "city_staff": [
                {
                    "username": u.username,
                    "password": STAFF_PASSWORD,
                    "roles": [g.name for g in u.groups.all()] or ["superuser"],
                    # Demo only: the authenticator key, to add in an app or compute codes with.
                    "totp_secret": demo_totp_secret(u.username),
                }
                for u in User.objects.filter(is_staff=True)
                .prefetch_related("groups")
                .order_by("username")
            ],
            "merchant_users": [
                {
                    "username": u.username,
                    "password": APP_STAFF_PASSWORD
                    if u.role == User.Role.STORE_STAFF
                    else STAFF_PASSWORD,
                    "role": u.role,
                    "company": u.company.name,
                    "store": u.store.name if u.store else None,
                    "store_code": u.store.code if u.store else None,
                }
                for u in User.objects.exclude(role="")
                .select_related("company", "store")
                .order_by("pk")
            ],
            "stores": [
                {
                    "code": s.code,
                    "name": s.name,
                    "programme": s.programme.code,
                    "passcode": s.passcode,
                    "small_local": s.is_small_local,
                }
                for s in Store.objects.select_related("programme").order_by("pk")
            ],
            "terminals": [
                {
                    "terminal_id": t.terminal_id,
                    "password": demo_terminal_password(t.terminal_id),
                    "kind": t.kind,
                    "store_code": t.store.code,
                    "external_id": t.external_id,
                }
                for t in Terminal.objects.select_related("store").order_by("pk")
            ],
            "residents": [
                {
                    "ticket_number": w.ticket_number,
                    "pin": demo_pin(w.ticket_number),
                    "card_token": demo_card(w.ticket_number),
                    "programme": w.programme.code,
                    "name": w.resident.name,
                }
                for w in Wallet.objects.select_related("programme", "resident").order_by("pk")
            ],
        }

    def print_logins(self, logins: dict):
        out = self.stdout.write
        out("\nDemo sign-ins (all of them are in the --json file):")
        out(
            "  Residents /login/ · store app /store/ · merchant admin /merchant/ · city staff /admin/"
        )
        out(
            "  The merchant admin e-mails a 6-digit code; the demo writes e-mails to media/outbox/."
        )
        out(
            "  City staff (Django admin /admin/) then enter the authenticator code (TOTP key below;"
            " demo only)"
        )
        for u in logins["city_staff"]:
            out(
                f"  {'staff':14} {u['username']:22} / {u['password']}"
                f"  TOTP key {u['totp_secret']}  ({'/'.join(u['roles'])})"
            )
        for u in logins["merchant_users"][:4]:
            out(
                f"  {u['role']:14} {u['username']:22} / {u['password']}  ({u['store'] or u['company']})"
            )
        for t in logins["terminals"][:2]:
            out(
                f"  terminal {t['terminal_id']} / {t['password']}  ({t['kind']}, {t['store_code']})"
            )
        for s in logins["stores"][:2]:
            out(f"  store {s['code']} passcode {s['passcode']}  ({s['name']})")
        for r in logins["residents"][:3]:
            out(f"  resident ticket {r['ticket_number']} / PIN {r['pin']}  ({r['programme']})")
        card = logins["residents"][0]
        out(
            f"  card (store app QRコード決済, type it as the scanned code) {card['card_token']}"
            f" / PIN {card['pin']}"
        )


def demo_card(ticket_number: str) -> str:
    """Demo only: a known card token per ticket (real cards are random, issued with notices)."""
    digest = hashlib.sha256(f"demo-card:{ticket_number}".encode()).hexdigest()[:24]
    return CARD_TOKEN_PREFIX + digest


def demo_totp_key(username: str) -> str:
    """Demo only: a known authenticator key per staff user (hex, as django-otp stores it)."""
    return hashlib.sha256(f"demo-totp:{username}".encode()).hexdigest()[:40]


def demo_totp_secret(username: str) -> str:
    """The same key in base32, as an authenticator app takes it."""
    return base64.b32encode(bytes.fromhex(demo_totp_key(username))).decode()


def demo_terminal_password(terminal_id: str) -> str:
    """Demo only, as demo_pin: terminal passwords are stored hashed, so the demo's derive from
    the terminal ID to be printable again."""
    digest = int(hashlib.sha256(f"demo-terminal:{terminal_id}".encode()).hexdigest(), 16)
    return f"{digest % 10**8:08d}"


def demo_pin(ticket_number: str) -> str:
    """PINs are stored hashed, so the demo's derive from the ticket number to be printable again."""
    digest = int(hashlib.sha256(f"demo-pin:{ticket_number}".encode()).hexdigest(), 16)
    return f"{digest % 10**NEW_PIN_DIGITS:0{NEW_PIN_DIGITS}d}"
