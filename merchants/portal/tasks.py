"""Background work for the merchant admin, run by django-tasks-db's worker (manage.py db_worker)."""

from django.tasks import task
from django.utils import translation

from core.db import heavy_reads
from merchants.models import ExportFile
from merchants.portal import exports
from merchants.portal.forms import PasswordResetForm


@task
def write_export(*, export_id: int) -> int:
    export = ExportFile.objects.get(pk=export_id)
    if export.status != ExportFile.Status.PENDING:
        return export.row_count  # a retried task: the file is there or failed already
    with heavy_reads():  # the rows from the replica when it is fresh; writes stay on the primary
        return exports.export_write(export=export).row_count


@task
def send_password_reset(*, email: str, domain: str, use_https: bool, language: str) -> None:
    """The reset mail, looked up and sent here so the request does the same work for a known and an
    unknown address (no timing oracle for which addresses have accounts)."""
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return
    with translation.override(language):
        form.save(
            domain_override=domain,
            use_https=use_https,
            subject_template_name="merchants/emails/password_reset_subject.txt",
            email_template_name="merchants/emails/password_reset_body.txt",
            html_email_template_name="merchants/emails/password_reset_body.html",
        )
