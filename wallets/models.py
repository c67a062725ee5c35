import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.checkdigit import damm_digit


class Programme(models.Model):
    """A voucher scheme run by a city (事業): who issues it, when it may be spent, how it settles."""

    class SettlementCycle(models.TextChoices):
        SEMIMONTHLY = "semimonthly", _("Semi-monthly (1st-15th, 16th-end)")
        MONTHLY = "monthly", _("Monthly")
        WEEKLY = "weekly", _("Weekly (Monday-Sunday)")

    code = models.SlugField(_("programme code"), max_length=30, unique=True)
    name = models.CharField(_("programme name"), max_length=100)
    issuer = models.CharField(_("issuer"), max_length=100)
    starts_on = models.DateField(_("usage starts on"))
    ends_on = models.DateField(_("usage ends on"))
    cancel_window = models.DurationField(
        _("merchant cancel window"),
        default=timedelta(hours=24),
        help_text=_(
            "How long after a payment the merchant may cancel it (e.g. 24 hours for a child-support ticket, 90 days for a premium voucher)."
        ),
    )
    settlement_cycle = models.CharField(
        _("settlement cycle"),
        max_length=20,
        choices=SettlementCycle,
        default=SettlementCycle.SEMIMONTHLY,
    )
    payment_offset_days = models.PositiveSmallIntegerField(
        _("days from period end to payment"),
        default=15,
        help_text=_("Moved to the next business day when it falls on a weekend or holiday."),
    )
    contact = models.TextField(
        _("contact"),
        blank=True,
        help_text=_(
            "お問い合わせ先 printed on notices and QR sheets and shown to residents and merchants (office, phone, hours)."
        ),
    )
    fee_rate = models.DecimalField(
        _("merchant fee rate"),
        max_digits=5,
        decimal_places=4,
        default=0,
        help_text=_("換金手数料 as a fraction (0.0150 = 1.5%), rounded down to the yen."),
    )
    payout_four_eyes = models.BooleanField(
        _("payouts approved by a second staff member"),
        default=True,
        help_text=_(
            "A settlement run's payouts must be approved by another staff member than the one who "
            "ran it before a transfer file is made or a payout is marked paid."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["-starts_on", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="programme_period_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(fee_rate__gte=0, fee_rate__lt=1), name="programme_fee_rate_range"
            ),
        ]

    def __str__(self):
        return self.name

    def is_active_on(self, day) -> bool:
        return self.starts_on <= day <= self.ends_on


class ValueType(models.Model):
    """A kind of balance (券種): 共通券 spends anywhere, 専用券 only at small/local stores."""

    programme = models.ForeignKey(
        Programme, models.PROTECT, related_name="value_types", verbose_name=_("programme")
    )
    code = models.SlugField(_("value type code"), max_length=30)
    name = models.CharField(_("value type name"), max_length=50)
    small_local_only = models.BooleanField(
        _("small/local stores only"),
        default=False,
        help_text=_("Spendable only at stores flagged as small/local (専用券)."),
    )
    expires_on = models.DateField(_("expires on"))

    class Meta:
        verbose_name = _("value type")
        verbose_name_plural = _("value types")
        ordering = ["programme", "-small_local_only", "expires_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="value_type_code_unique")
        ]

    def __str__(self):
        return self.name


class Resident(models.Model):
    """A person who holds wallets; personal data stays minimal."""

    external_id = models.CharField(
        _("external ID"),
        max_length=50,
        unique=True,
        null=True,
        blank=True,
        help_text=_("The city's own number for the household (宛名番号), as in its import files."),
    )
    name = models.CharField(_("name"), max_length=100)
    name_kana = models.CharField(_("name (kana)"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=8, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail address"), blank=True)
    phone = models.CharField(_("phone number"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["pk"]

    def __str__(self):
        return self.name


def card_digest(token: str) -> str:
    """Cards are found by the digest of their token: the database never holds a usable card."""
    return hashlib.sha256(token.encode()).hexdigest()


TICKET_DIGITS = 12


def new_ticket_number() -> str:
    """11 random digits and a Damm check digit: digits only (nothing to confuse on paper), and
    the sign-in form turns away a mistyped number before any database work."""
    body = f"{secrets.randbelow(10 ** (TICKET_DIGITS - 1)):0{TICKET_DIGITS - 1}d}"
    return body + damm_digit(body)


# New PINs have 6 digits; tickets issued with 4 keep working (the sign-in takes 4 to 8).
NEW_PIN_DIGITS = 6


def pin_failure_keys(ticket_number: str) -> tuple[str, str]:
    """Rate-limit keys of wrong PINs (recent, total) by ticket *number*, so that a number no
    ticket has is counted and locked exactly like a real one."""
    return f"pin:ticket:{ticket_number}", f"pin:ticket-total:{ticket_number}"


class Wallet(models.Model):
    """A resident's electronic ticket (電子チケット) in one programme, opened with ticket number + PIN."""

    programme = models.ForeignKey(
        Programme, models.PROTECT, related_name="wallets", verbose_name=_("programme")
    )
    resident = models.ForeignKey(
        Resident, models.PROTECT, related_name="wallets", verbose_name=_("resident")
    )
    ticket_number = models.CharField(
        _("ticket number"), max_length=12, unique=True, default=new_ticket_number
    )
    pin_hash = models.CharField(_("PIN (hashed)"), max_length=200)
    card_digest = models.CharField(
        _("card (hashed)"), max_length=64, unique=True, null=True, blank=True, editable=False
    )
    credentials_issued_at = models.DateTimeField(
        _("PIN and card issued at"), null=True, blank=True, editable=False
    )
    imported_by = models.ForeignKey(
        "ImportRun",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="wallets",
        editable=False,
        verbose_name=_("created by import"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("wallet")
        permissions = [
            ("grant_wallet", _("Can grant and adjust balances")),
            ("reissue_pin", _("Can reissue PINs and lift PIN locks")),
        ]
        verbose_name_plural = _("wallets")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "resident"], name="wallet_one_per_resident_programme"
            )
        ]

    def __str__(self):
        return self.ticket_number

    def set_pin(self, pin: str) -> None:
        self.pin_hash = make_password(pin, hasher="pin_hmac")

    def check_pin(self, pin: str) -> bool:
        return check_password(pin, self.pin_hash)


class Account(models.Model):
    """A ledger account. Its balance is kept by a database trigger from its postings only."""

    class Kind(models.TextChoices):
        WALLET = "wallet", _("Resident wallet")
        ISSUANCE = "issuance", _("Issued value")
        # What residents paid for premium vouchers (購入額); ISSUANCE then holds the premium
        # (プレミアム分) and free grants, the part the city funds.
        SALES = "sales", _("Purchase proceeds")
        ADJUSTMENT = "adjustment", _("Adjustments")
        EXPIRED = "expired", _("Expired value")
        MERCHANT_PAYABLE = "merchant_payable", _("Payable to merchant")
        PAYOUT_CLEARING = "payout_clearing", _("Payouts to transfer")
        FEE_INCOME = "fee_income", _("Fee income")
        PAID_OUT = "paid_out", _("Paid out")

    # Indexed by account_unique_per_owner, which starts with it.
    programme = models.ForeignKey(
        Programme,
        models.PROTECT,
        db_index=False,
        related_name="accounts",
        verbose_name=_("programme"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    wallet = models.ForeignKey(
        Wallet,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("wallet"),
    )
    value_type = models.ForeignKey(
        ValueType, models.PROTECT, null=True, blank=True, verbose_name=_("value type")
    )
    company = models.ForeignKey(
        "merchants.Company",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("company"),
    )
    balance = models.BigIntegerField(_("balance (yen)"), default=0, editable=False)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "kind", "wallet", "value_type", "company"],
                nulls_distinct=False,
                name="account_unique_per_owner",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="wallet") | models.Q(balance__gte=0),
                name="account_wallet_balance_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="wallet")
                | models.Q(wallet__isnull=False, value_type__isnull=False),
                name="account_wallet_has_value_type",
            ),
        ]

    def __str__(self):
        owner = self.wallet or self.company or self.programme
        return f"{self.get_kind_display()} / {owner}" + (
            f" / {self.value_type}" if self.value_type_id else ""
        )


class JournalEntry(models.Model):
    """One balanced movement of value (取引). Never changed: corrections are new entries."""

    class Kind(models.TextChoices):
        GRANT = "grant", _("Grant")
        PAYMENT = "payment", _("Payment")
        PAYMENT_CANCEL = "payment_cancel", _("Payment cancel")
        ADJUSTMENT = "adjustment", _("Balance adjustment")
        EXPIRY = "expiry", _("Expiry")
        SETTLEMENT = "settlement", _("Settlement")
        PAYOUT = "payout", _("Payout")

    programme = models.ForeignKey(
        Programme, models.PROTECT, related_name="entries", verbose_name=_("programme")
    )
    kind = models.CharField(_("transaction kind"), max_length=20, choices=Kind)
    created_at = models.DateTimeField(_("date and time"), default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, verbose_name=_("by")
    )
    memo = models.CharField(_("memo"), max_length=200, blank=True)
    # NULL, not "": entries without a key (payments, cancellations) must not collide.
    idempotency_key = models.CharField(  # noqa: DJ001
        _("idempotency key"), max_length=200, null=True, blank=True
    )
    reverses = models.OneToOneField(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["-created_at", "-pk"]
        # Not unique=True, whose extra LIKE index every entry's insert would maintain.
        constraints = [models.UniqueConstraint(fields=["idempotency_key"], name="entry_key_unique")]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()}"


class Posting(models.Model):
    """One line of a journal entry; amounts of an entry sum to zero (checked at commit)."""

    entry = models.ForeignKey(
        JournalEntry, models.PROTECT, related_name="postings", verbose_name=_("journal entry")
    )
    account = models.ForeignKey(
        Account, models.PROTECT, related_name="postings", verbose_name=_("account")
    )
    amount = models.BigIntegerField(_("amount (yen)"))

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="posting_amount_not_zero")
        ]

    def __str__(self):
        return f"{self.account}: {self.amount:+,}"


class ImportRun(models.Model):
    """One uploaded CSV (residents, or grants to existing tickets), checked and applied by the
    background worker. Rows are applied idempotently, so a run killed halfway is simply run again."""

    class Kind(models.TextChoices):
        RESIDENTS = "residents", _("Residents and tickets")
        GRANTS = "grants", _("Grants to tickets")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")

    programme = models.ForeignKey(
        Programme, models.PROTECT, related_name="imports", verbose_name=_("programme")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    filename = models.CharField(_("file name"), max_length=200)
    digest = models.CharField(_("SHA-256"), max_length=64)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    created_count = models.PositiveIntegerField(_("tickets created"), default=0)
    granted_count = models.PositiveIntegerField(_("grants made"), default=0)
    granted_total = models.BigIntegerField(_("granted (yen)"), default=0)
    # [{"line": 3, "reason": "…"}]: reasons are stored in Japanese, as the rejected-rows CSV gives them.
    rejected = models.JSONField(_("rejected rows"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Moved on by every chunk: a run that is 実行中 but has not moved for minutes has stopped.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"#{self.pk} {self.filename}"

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.REJECTED, self.Status.FAILED}


class NoticeBatch(models.Model):
    """交付通知書 for a chosen set of tickets (a whole import, or wallets picked in admin): one A4
    page per household in one PDF, and the same fields in a CSV for a print vendor.

    Writing it issues every ticket in the set a new PIN and card (the only moment they exist in
    clear): the files are the only copies, so they are kept only as long as printing takes.
    """

    class Kind(models.TextChoices):
        ISSUE = "issue", _("Notices")
        REISSUE = "reissue", _("Reissue")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Creating")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    programme = models.ForeignKey(
        Programme, models.PROTECT, related_name="notice_batches", verbose_name=_("programme")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.ISSUE)
    import_run = models.ForeignKey(
        ImportRun,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="notice_batches",
        verbose_name=_("import"),
    )
    # Explicitly chosen tickets (when not a whole import).
    wallet_ids = models.JSONField(_("wallets"), default=list, blank=True)
    whole_programme = models.BooleanField(_("every ticket of the programme"), default=False)
    limit = models.PositiveIntegerField(_("at most"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    pages_total = models.PositiveIntegerField(_("pages"), default=0)
    pages_done = models.PositiveIntegerField(_("pages done"), default=0)
    pdf = models.FileField(_("PDF"), upload_to="notices/%Y/%m/", blank=True)
    csv = models.FileField(_("CSV for the print vendor"), upload_to="notices/%Y/%m/", blank=True)
    pdf_size = models.BigIntegerField(_("PDF size (bytes)"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice batch")
        verbose_name_plural = _("notice batches")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pages_done__lte=models.F("pages_total")),
                name="notice_batch_progress_bounded",
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.programme}"

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}

    def wallets(self):
        """The chosen tickets, in print order (by postal code, so the vendor's sort is cheap)."""
        wallets = Wallet.objects.filter(programme_id=self.programme_id)
        if self.import_run_id:
            wallets = wallets.filter(imported_by_id=self.import_run_id)
        elif not self.whole_programme:
            wallets = wallets.filter(pk__in=self.wallet_ids)
        wallets = wallets.order_by("resident__postal_code", "pk")
        return wallets[: self.limit] if self.limit else wallets
