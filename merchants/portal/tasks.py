"""Background work for the merchant admin, run by django-tasks-db's worker (manage.py db_worker)."""

from django.tasks import task

from merchants.models import ExportFile
from merchants.portal import exports


@task
def write_export(*, export_id: int) -> int:
    export = ExportFile.objects.get(pk=export_id)
    if export.status != ExportFile.Status.PENDING:
        return export.row_count  # a retried task: the file is there or failed already
    return exports.export_write(export=export).row_count
