from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditLog(models.Model):
    """Who did what, when and why: one row per state change (pretix's log_action)."""

    created_at = models.DateTimeField(_("date and time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, verbose_name=_("by")
    )
    actor_label = models.CharField(_("actor"), max_length=100, blank=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    object_type = models.CharField(_("object type"), max_length=50, blank=True)
    object_id = models.CharField(_("object ID"), max_length=50, blank=True)
    company = models.ForeignKey(
        "merchants.Company", models.SET_NULL, null=True, blank=True, verbose_name=_("company")
    )
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        db_table = "merchants_auditlog"  # moved from merchants; the table kept its name
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.action} {self.object_type}:{self.object_id}"


class RateLimit(models.Model):
    """A fixed-window counter shared by every worker process (the cache is per process)."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    window_start = models.DateTimeField(_("window start"))
    count = models.PositiveIntegerField(_("count"), default=0)
    # Each counter keeps its own window so one purge can honour them all (15 minutes, 1 hour, a year).
    window_length = models.DurationField(_("window length"))

    class Meta:
        db_table = "payments_ratelimit"  # moved from payments; the table kept its name
        verbose_name = _("rate limit counter")
        verbose_name_plural = _("rate limit counters")

    def __str__(self):
        return f"{self.key}: {self.count}"


class WorkerHeartbeat(models.Model):
    """One row per running background worker (`manage.py run_worker`), touched every few seconds.

    django-tasks-db's worker records nothing while idle, so /readyz could not tell a quiet queue
    from a dead worker. Times are the database's own clock, so app servers' clocks do not matter.
    """

    worker_id = models.CharField(_("worker ID"), max_length=64, unique=True)
    hostname = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process ID"))
    started_at = models.DateTimeField(_("started at"))
    beat_at = models.DateTimeField(_("last heartbeat"), db_index=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self):
        return f"{self.hostname}:{self.pid}"
