import secrets
import string

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.formatting import yen

PAYMENT_NUMBER_ALPHABET = string.ascii_letters + string.digits
PAYMENT_NUMBER_LENGTH = 16
# What a payment number looks like: URLs, forms and the API refuse anything else unread.
PAYMENT_NUMBER_PATTERN = f"[A-Za-z0-9]{{{PAYMENT_NUMBER_LENGTH}}}"


def new_payment_number() -> str:
    """16 random letters and digits, as in the manuals (e.g. sVCsZr5zWJFV8H5I): one uniform
    draw below 62**16 written in base 62, as uniform as 16 draws and a fifth of their cost."""
    base = len(PAYMENT_NUMBER_ALPHABET)
    value = secrets.randbelow(base**PAYMENT_NUMBER_LENGTH)
    digits = []
    for _position in range(PAYMENT_NUMBER_LENGTH):
        value, digit = divmod(value, base)
        digits.append(PAYMENT_NUMBER_ALPHABET[digit])
    return "".join(digits)


class Payment(models.Model):
    """A resident paying a store (決済). Money moves only through its journal entries."""

    MAX_AMOUNT = 10_000_000  # yen: the largest single payment any screen or the API accepts

    class Mode(models.TextChoices):
        MPM = "mpm", _("Store QR (MPM)")
        CPM = "cpm", _("Resident QR (CPM)")
        POS = "pos", _("POS integration")
        # The resident's printed card + PIN typed on the store device (store app or POS).
        CARD = "card", _("Card and PIN")

    class Status(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(
        _("payment number"),
        max_length=PAYMENT_NUMBER_LENGTH,
        default=new_payment_number,
    )
    programme = models.ForeignKey(
        "wallets.Programme", models.PROTECT, related_name="payments", verbose_name=_("programme")
    )
    # wallet, company and store are indexed by the (…, -created_at) indexes below, which serve
    # lookups on the column alone too; a second index would only slow every payment's insert.
    wallet = models.ForeignKey(
        "wallets.Wallet",
        models.PROTECT,
        db_index=False,
        related_name="payments",
        verbose_name=_("wallet"),
    )
    # company is the store's, copied so that every merchant query filters on one indexed column.
    company = models.ForeignKey(
        "merchants.Company",
        models.PROTECT,
        db_index=False,
        related_name="payments",
        verbose_name=_("company"),
    )
    store = models.ForeignKey(
        "merchants.Store",
        models.PROTECT,
        db_index=False,
        related_name="payments",
        verbose_name=_("store"),
    )
    terminal = models.ForeignKey(
        "merchants.Terminal",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("terminal"),
    )
    amount = models.BigIntegerField(_("amount (yen)"))
    mode = models.CharField(_("payment mode"), max_length=10, choices=Mode)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.COMPLETED)
    created_at = models.DateTimeField(_("date and time"), db_index=True)
    entry = models.OneToOneField(
        "wallets.JournalEntry",
        models.PROTECT,
        related_name="payment",
        verbose_name=_("journal entry"),
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=200)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancel_memo = models.CharField(_("cancel memo"), max_length=200, blank=True)
    cancel_entry = models.OneToOneField(
        "wallets.JournalEntry",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="cancelled_payment",
        verbose_name=_("cancel journal entry"),
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["company", "-created_at"], name="payment_company_time"),
            models.Index(fields=["store", "-created_at"], name="payment_store_time"),
            models.Index(fields=["wallet", "-created_at"], name="payment_wallet_time"),
        ]
        constraints = [
            # Constraints, not unique=True: that would add a LIKE index per column, which no
            # query uses and every payment's insert would maintain.
            models.UniqueConstraint(fields=["number"], name="payment_number_unique"),
            models.UniqueConstraint(fields=["idempotency_key"], name="payment_key_unique"),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        status="completed", cancelled_at__isnull=True, cancel_entry__isnull=True
                    )
                    | models.Q(
                        status="cancelled", cancelled_at__isnull=False, cancel_entry__isnull=False
                    )
                ),
                name="payment_status_matches_cancel",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    def cancel_deadline(self):
        return self.created_at + self.programme.cancel_window

    @staticmethod
    def terminal_key(mode: str, terminal, key: str) -> str:
        """A store device's Idempotency-Key as stored: each terminal's keys are its own."""
        return f"{mode}:{terminal.pk}:{key}"

    def can_be_cancelled(self, now) -> bool:
        """取消 by the store is possible until the programme's cancel window has passed."""
        return not self.is_cancelled and now <= self.cancel_deadline()


class PaymentSplit(models.Model):
    """How much of a payment each value type paid (most restricted first, soonest expiring)."""

    # Indexed by split_unique (payment, value_type).
    payment = models.ForeignKey(
        Payment, models.CASCADE, db_index=False, related_name="splits", verbose_name=_("payment")
    )
    value_type = models.ForeignKey(
        "wallets.ValueType", models.PROTECT, related_name="+", verbose_name=_("value type")
    )
    amount = models.BigIntegerField(_("amount (yen)"))

    class Meta:
        verbose_name = _("value type breakdown")
        verbose_name_plural = _("value type breakdown")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="split_amount_positive"),
            models.UniqueConstraint(fields=["payment", "value_type"], name="split_unique"),
        ]

    def __str__(self):
        return f"{self.value_type}: {yen(self.amount)}"


class CpmCode(models.Model):
    """One QR code shown by a resident (CPM): short-lived, single use, never the ticket number.

    The row is consumed (payment set) in the same transaction as the payment, so a code scanned
    twice, or by two terminals at once, pays once.
    """

    wallet = models.ForeignKey(
        "wallets.Wallet", models.CASCADE, related_name="cpm_codes", verbose_name=_("wallet")
    )
    nonce = models.CharField(_("nonce"), max_length=40)
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    payment = models.OneToOneField(
        Payment,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="cpm_code",
        verbose_name=_("payment"),
    )

    class Meta:
        verbose_name = _("resident QR code")
        verbose_name_plural = _("resident QR codes")
        ordering = ["-created_at"]
        # A constraint, not unique=True: no query needs the LIKE index that would add, and the
        # consuming update (not HOT: payment is indexed) writes an entry in every index.
        constraints = [models.UniqueConstraint(fields=["nonce"], name="cpmcode_nonce_unique")]

    def __str__(self):
        return self.nonce


class ApiKey(models.Model):
    """A POS terminal's key for /api/v1/. Only a SHA-256 of the key is kept: the key itself is
    random and long, so a fast hash is enough and keeps each request cheap."""

    terminal = models.ForeignKey(
        "merchants.Terminal", models.PROTECT, related_name="api_keys", verbose_name=_("terminal")
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("key prefix"), max_length=12, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        editable=False,
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("POS API key")
        verbose_name_plural = _("POS API keys")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.prefix}… ({self.terminal})"
