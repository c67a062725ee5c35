from django.conf import settings
from django.core.validators import MinLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.formatting import yen
from core.kana import digits, half_width_kana, normalise_kana_fields
from merchants.models import Company


class SettlementRun(models.Model):
    """The closing of one period of one programme; one per (programme, period)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        DONE = "done", _("Done")

    programme = models.ForeignKey(
        "wallets.Programme",
        models.PROTECT,
        related_name="settlement_runs",
        verbose_name=_("programme"),
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.QUEUED)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, verbose_name=_("by")
    )

    class Meta:
        verbose_name = _("settlement run")
        verbose_name_plural = _("settlement runs")
        ordering = ["-period_start", "programme"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "period_start"], name="settlement_run_one_per_period"
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="settlement_run_period_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.programme} {self.period_start:%Y/%m/%d}-{self.period_end:%Y/%m/%d}"


class Payout(models.Model):
    """What the city owes one company for one period (支払), frozen when the period closes."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        PAID = "paid", _("Paid")

    run = models.ForeignKey(
        SettlementRun, models.PROTECT, related_name="payouts", verbose_name=_("settlement run")
    )
    programme = models.ForeignKey(
        "wallets.Programme", models.PROTECT, related_name="payouts", verbose_name=_("programme")
    )
    company = models.ForeignKey(
        Company, models.PROTECT, related_name="payouts", verbose_name=_("company")
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    scheduled_on = models.DateField(_("scheduled payment date"))
    payment_count = models.PositiveIntegerField(_("payments"))
    gross = models.BigIntegerField(_("payments (yen)"))
    cancelled_count = models.PositiveIntegerField(_("cancellations"))
    cancelled = models.BigIntegerField(_("cancelled (yen)"))
    adjustment_count = models.PositiveIntegerField(_("late cancellations"))
    adjustment = models.BigIntegerField(
        _("adjustment (yen)"),
        help_text=_("Cancellations of payments from earlier, already closed periods (negative)."),
    )
    fee = models.BigIntegerField(_("fee (yen)"))
    net = models.BigIntegerField(_("payout amount (yen)"))
    carried_forward = models.BigIntegerField(
        _("carried forward (yen)"),
        default=0,
        help_text=_(
            "Late cancellations this payout could not absorb, still owed by the company when "
            "the period closed; deducted from its next payouts."
        ),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.SCHEDULED)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("marked paid by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    statement = models.FileField(_("payout statement"), upload_to="statements/%Y/", blank=True)

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        permissions = [
            ("approve_payout", _("Can approve payouts (second staff member)")),
            ("download_transfer_file", _("Can download the Zengin transfer file")),
        ]
        ordering = ["-period_start", "company"]
        constraints = [
            models.UniqueConstraint(fields=["run", "company"], name="payout_one_per_company"),
            models.CheckConstraint(
                condition=models.Q(cancelled__gte=0, adjustment__lte=0, fee__gte=0, net__gte=0),
                name="payout_amount_signs",
            ),
            models.CheckConstraint(
                condition=models.Q(carried_forward__gte=0), name="payout_carried_forward_sign"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    net=models.F("gross")
                    - models.F("cancelled")
                    + models.F("adjustment")
                    - models.F("fee")
                ),
                name="payout_net_adds_up",
            ),
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True, approved_at__isnull=True)
                | models.Q(approved_by__isnull=False, approved_at__isnull=False),
                name="payout_approval_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=models.Q(status="scheduled", paid_on__isnull=True)
                | models.Q(status="paid", paid_on__isnull=False),
                name="payout_paid_has_date",
            ),
        ]

    def __str__(self):
        return f"{self.company} {self.period_start:%Y/%m/%d}-{self.period_end:%Y/%m/%d}"


class PayoutLine(models.Model):
    """A cancelled payment and the payout that accounted for its cancellation (at most one)."""

    class Kind(models.TextChoices):
        CANCELLED = "cancelled", _("Cancelled in the period")
        LATE = "late", _("Late cancellation (adjustment)")

    payout = models.ForeignKey(
        Payout, models.PROTECT, related_name="lines", verbose_name=_("payout")
    )
    payment = models.OneToOneField(
        "payments.Payment",
        models.PROTECT,
        related_name="payout_line",
        verbose_name=_("payment"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    amount = models.BigIntegerField(_("amount (yen)"))

    class Meta:
        verbose_name = _("payout line")
        verbose_name_plural = _("payout lines")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.get_kind_display()} {yen(self.amount)}"


class PayingAccount(models.Model):
    """The city's own account the transfers are paid from (振込依頼人), one per programme."""

    programme = models.OneToOneField(
        "wallets.Programme",
        models.PROTECT,
        related_name="paying_account",
        verbose_name=_("programme"),
    )
    requester_code = models.CharField(
        _("requester code"),
        max_length=10,
        validators=[digits, MinLengthValidator(10)],
        help_text=_("The 10-digit 委託者コード the bank assigned for 総合振込."),
    )
    requester_name_kana = models.CharField(
        _("requester name (kana)"), max_length=40, validators=[half_width_kana]
    )
    bank_code = models.CharField(
        _("bank code"), max_length=4, validators=[digits, MinLengthValidator(4)]
    )
    bank_name_kana = models.CharField(
        _("bank name (kana)"), max_length=15, validators=[half_width_kana]
    )
    branch_code = models.CharField(
        _("branch code"), max_length=3, validators=[digits, MinLengthValidator(3)]
    )
    branch_name_kana = models.CharField(
        _("branch name (kana)"), max_length=15, validators=[half_width_kana]
    )
    account_type = models.CharField(
        _("account type"),
        max_length=1,
        choices=Company.AccountType,
        default=Company.AccountType.ORDINARY,
    )
    account_number = models.CharField(
        _("account number"), max_length=7, validators=[digits, MinLengthValidator(7)]
    )

    class Meta:
        verbose_name = _("paying account")
        verbose_name_plural = _("paying accounts")

    def __str__(self):
        return f"{self.programme}: {self.requester_name_kana}"

    def clean_fields(self, exclude=None):
        normalise_kana_fields(self, ["requester_name_kana", "bank_name_kana", "branch_name_kana"])
        super().clean_fields(exclude)
