import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractUser
from django.core.validators import MinLengthValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.kana import digits, half_width_kana, normalise_kana_fields


class Company(models.Model):
    """A merchant (加盟店/企業): owns stores and receives the payouts."""

    class AccountType(models.TextChoices):
        ORDINARY = "1", _("Ordinary (普通)")
        CURRENT = "2", _("Current (当座)")

    code = models.CharField(_("company code"), max_length=20, unique=True)
    name = models.CharField(_("company name"), max_length=100)
    name_kana = models.CharField(_("company name (kana)"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=8, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone number"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail address"), blank=True)
    bank_code = models.CharField(
        _("bank code"), max_length=4, blank=True, validators=[digits, MinLengthValidator(4)]
    )
    bank_name_kana = models.CharField(
        _("bank name (kana)"), max_length=15, blank=True, validators=[half_width_kana]
    )
    branch_code = models.CharField(
        _("branch code"), max_length=3, blank=True, validators=[digits, MinLengthValidator(3)]
    )
    branch_name_kana = models.CharField(
        _("branch name (kana)"), max_length=15, blank=True, validators=[half_width_kana]
    )
    account_type = models.CharField(
        _("account type"), max_length=1, choices=AccountType, default=AccountType.ORDINARY
    )
    account_number = models.CharField(
        _("account number"), max_length=7, blank=True, validators=[digits, MinLengthValidator(7)]
    )
    account_holder_kana = models.CharField(
        _("account holder (kana)"), max_length=30, blank=True, validators=[half_width_kana]
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def clean_fields(self, exclude=None):
        # People type ヤマダ or やまだ; the bank transfer file needs ﾔﾏﾀﾞ (settlement).
        normalise_kana_fields(self, ["bank_name_kana", "branch_name_kana", "account_holder_kana"])
        super().clean_fields(exclude)


BANK_FIELDS = [
    "bank_code",
    "bank_name_kana",
    "branch_code",
    "branch_name_kana",
    "account_type",
    "account_number",
    "account_holder_kana",
]


class BankAccountChange(models.Model):
    """A company admin's new payout account, used only once city staff approved it: stolen
    merchant credentials cannot redirect a shop's money (the commonest payout fraud)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUPERSEDED = "superseded", _("Replaced by a later request")

    company = models.ForeignKey(
        Company, models.CASCADE, related_name="bank_changes", verbose_name=_("company")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    bank_code = Company._meta.get_field("bank_code").clone()
    bank_name_kana = Company._meta.get_field("bank_name_kana").clone()
    branch_code = Company._meta.get_field("branch_code").clone()
    branch_name_kana = Company._meta.get_field("branch_name_kana").clone()
    account_type = Company._meta.get_field("account_type").clone()
    account_number = Company._meta.get_field("account_number").clone()
    account_holder_kana = Company._meta.get_field("account_holder_kana").clone()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("bank account change")
        verbose_name_plural = _("bank account changes")
        ordering = ["-requested_at", "-pk"]
        permissions = [("approve_bankaccountchange", _("Can approve payout bank accounts"))]
        constraints = [
            models.UniqueConstraint(
                fields=["company"],
                condition=models.Q(status="pending"),
                name="bank_change_one_pending_per_company",
            )
        ]

    def __str__(self):
        return f"{self.company} {self.get_status_display()}"

    def account(self) -> dict:
        return {field: getattr(self, field) for field in BANK_FIELDS}

    def clean_fields(self, exclude=None):
        normalise_kana_fields(self, ["bank_name_kana", "branch_name_kana", "account_holder_kana"])
        super().clean_fields(exclude)


def new_sheet_token() -> str:
    return secrets.token_urlsafe(16)


def new_passcode() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


class Store(models.Model):
    """A shop (店舗) taking part in one programme; its passcode is printed on the QR sheet."""

    company = models.ForeignKey(
        Company, models.PROTECT, related_name="stores", verbose_name=_("company")
    )
    programme = models.ForeignKey(
        "wallets.Programme", models.PROTECT, related_name="stores", verbose_name=_("programme")
    )
    code = models.CharField(_("store code"), max_length=30, unique=True)
    name = models.CharField(_("store name"), max_length=100)
    passcode = models.CharField(
        _("passcode"),
        max_length=6,
        default=new_passcode,
        validators=[digits, MinLengthValidator(6)],
        help_text=_("Six digits printed on the QR sheet, unique in the programme."),
    )
    # In the QR sheet's URL: random per store and stored, so rotating SECRET_KEY voids no
    # sheet taped in a shop; a new token (admin) voids that store's old sheets only.
    sheet_token = models.CharField(
        _("QR sheet token"), max_length=32, unique=True, default=new_sheet_token, editable=False
    )
    is_small_local = models.BooleanField(
        _("small/local store"),
        default=False,
        help_text=_("Small and local stores also accept value types reserved for them (専用券)."),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone number"), max_length=20, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "passcode"], name="store_passcode_unique_in_programme"
            ),
            models.CheckConstraint(
                condition=models.Q(passcode__regex=r"^[0-9]{6}$"), name="store_passcode_six_digits"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


def new_terminal_id() -> str:
    return f"{secrets.randbelow(10**12):012d}"


def new_terminal_password() -> str:
    return f"{secrets.randbelow(10**8):08d}"


class Terminal(models.Model):
    """A device that takes payments for a store (端末): a QR sheet, the store app or a POS."""

    class Kind(models.TextChoices):
        QR_SHEET = "qr_sheet", _("QR sheet")
        STORE_APP = "store_app", _("Store app")
        POS = "pos", _("POS integration")

    store = models.ForeignKey(
        Store, models.PROTECT, related_name="terminals", verbose_name=_("store")
    )
    terminal_id = models.CharField(
        _("terminal ID"), max_length=12, unique=True, default=new_terminal_id
    )
    name = models.CharField(_("terminal name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.STORE_APP)
    # For the store app's one-time set-up, as in the store app manual; it only pairs a device with
    # a store, every payment still needs a staff sign-in. Only its keyed hash is kept (pin_hmac):
    # it is shown once when issued (merchants.services), never again.
    setup_password_hash = models.CharField(max_length=128, blank=True, editable=False)
    # Null for a password issued before this was recorded.
    setup_password_issued_at = models.DateTimeField(
        _("terminal password issued at"), null=True, blank=True, editable=False
    )
    external_id = models.CharField(_("external terminal ID"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Wrong terminal passwords in a row; at the limit the set-up stays locked until a merchant
    # admin lifts it, so the 10^8 passwords cannot be walked through from many addresses.
    failed_setup_attempts = models.PositiveSmallIntegerField(_("failed set-up attempts"), default=0)
    setup_locked_at = models.DateTimeField(_("set-up locked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("terminal")
        verbose_name_plural = _("terminals")
        ordering = ["terminal_id"]

    def __str__(self):
        return self.name or self.terminal_id

    def set_setup_password(self, password: str) -> None:
        # pin_hmac as for resident PINs: slowness cannot protect 10^8 passwords offline, the key
        # kept outside the database does; the set-up lock limits guesses online.
        self.setup_password_hash = make_password(password, hasher="pin_hmac")
        self.setup_password_issued_at = timezone.now()

    @classmethod
    def store_apps_in_use(cls):
        """Store-app terminals a device may pair with or keep using: active, of an active store."""
        return cls.objects.filter(kind=cls.Kind.STORE_APP, is_active=True, store__is_active=True)


class TerminalDevice(models.Model):
    """A device set up for a store-app terminal. Its cookie carries a random token; only the
    token's SHA-256 is here, so the table alone pairs nothing."""

    # last_seen_at is written at most this often, not on every request.
    SEEN_EVERY = timedelta(minutes=1)

    terminal = models.ForeignKey(
        Terminal, models.CASCADE, related_name="devices", verbose_name=_("terminal")
    )
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    label = models.CharField(_("device"), max_length=100, blank=True)
    client_address = models.CharField(_("address at set-up"), max_length=45, blank=True)
    paired_at = models.DateTimeField(_("set up at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)

    class Meta:
        verbose_name = _("set-up device")
        verbose_name_plural = _("set-up devices")
        ordering = ["-last_seen_at", "pk"]

    def __str__(self):
        return self.label or self.client_address or str(self.pk)

    @staticmethod
    def digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def seen(cls, pk: int, now) -> None:
        """One cheap UPDATE a minute at most, and none when another request just did it."""
        cls.objects.filter(pk=pk, last_seen_at__lt=now - cls.SEEN_EVERY).update(last_seen_at=now)


class User(AbstractUser):
    """A person who signs in with a login ID: merchant users by role, city staff by is_staff."""

    class Role(models.TextChoices):
        COMPANY_ADMIN = "company_admin", _("Company admin")
        STORE_MANAGER = "store_manager", _("Store manager")
        STORE_STAFF = "store_staff", _("Store staff")

    name = models.CharField(_("name"), max_length=100, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role, blank=True)
    company = models.ForeignKey(
        Company,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("company"),
    )
    store = models.ForeignKey(
        Store,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("store"),
    )
    must_change_password = models.BooleanField(_("must change password"), default=True)
    # The long per-account budget (docs/security.md): consecutive failures from unknown devices.
    failed_sign_ins = models.PositiveIntegerField(_("failed sign-ins"), default=0, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(role="")
                    | models.Q(role="company_admin", company__isnull=False, store__isnull=True)
                    | models.Q(
                        role__in=["store_manager", "store_staff"],
                        company__isnull=False,
                        store__isnull=False,
                    )
                ),
                name="user_role_has_scope",
            )
        ]

    def __str__(self):
        return self.name or self.username

    @property
    def is_merchant(self) -> bool:
        return bool(self.role)

    def set_password(self, raw_password):
        # The password being replaced joins the history when the user is saved.
        if self.pk and self.password and self.has_usable_password():
            self._replaced_password = self.password
        super().set_password(raw_password)

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        replaced = self.__dict__.pop("_replaced_password", None)
        if replaced:
            PasswordHistory.objects.create(user=self, password=replaced)
            keep = self.password_history.values_list("pk", flat=True)[: PasswordHistory.KEEP]
            self.password_history.exclude(pk__in=list(keep)).delete()


class PasswordHistory(models.Model):
    """The hashes of a user's last passwords: a forced change may not go back to one of them."""

    KEEP = 3  # each is checked with the slow password hash on every change

    user = models.ForeignKey(User, models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("earlier password")
        verbose_name_plural = _("earlier passwords")

    def __str__(self):
        return f"{self.user} {self.created_at:%Y-%m-%d}"


class DailySummary(models.Model):
    """Payments per store, day (Tokyo) and value type, kept exact by PostgreSQL triggers.

    Written only by the triggers in migration daily_summary (payments and their splits, insert and
    cancellation), so monthly and daily aggregates read a few rows instead of millions of payments.
    value_type is null on the row that counts whole payments (a split payment counts once there).
    """

    # Every payment upserts its rows: only the unique and the company-day indexes, which lead
    # with store and company, and no index on the counters, so updates stay HOT.
    company = models.ForeignKey(
        Company, models.DO_NOTHING, db_index=False, related_name="+", db_constraint=False
    )
    store = models.ForeignKey(
        Store, models.DO_NOTHING, db_index=False, related_name="+", db_constraint=False
    )
    day = models.DateField()
    value_type = models.ForeignKey(
        "wallets.ValueType",
        models.DO_NOTHING,
        null=True,
        db_index=False,
        related_name="+",
        db_constraint=False,
    )
    count = models.BigIntegerField(default=0)
    amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "day", "value_type"],
                name="daily_summary_unique",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["company", "day"], name="daily_summary_company_day")]

    def __str__(self):
        return f"{self.store_id} {self.day} {self.value_type_id}: {self.count} / {self.amount}"


class ExportFile(models.Model):
    """A reserved CSV download (データ出力): written by a background task, kept for some days."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Creating")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    class Encoding(models.TextChoices):
        UTF8 = "utf-8-sig", _("UTF-8 (with BOM)")
        SJIS = "cp932", _("Shift_JIS")

    company = models.ForeignKey(Company, models.CASCADE, related_name="exports")
    # Set for store managers and staff: their exports are theirs and their store's only.
    store = models.ForeignKey(Store, models.CASCADE, null=True, blank=True, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    filters = models.JSONField(default=dict)
    encoding = models.CharField(max_length=10, choices=Encoding, default=Encoding.UTF8)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True)
    size = models.BigIntegerField(default=0)
    row_count = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("CSV export")
        verbose_name_plural = _("CSV exports")

    def __str__(self):
        return f"CSV {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def filename(self) -> str:
        return f"payments_{timezone.localtime(self.created_at):%Y%m%d_%H%M%S}.csv"
