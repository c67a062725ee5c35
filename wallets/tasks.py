"""Background work for wallets, run by the django-tasks-db worker (manage.py db_worker)."""

from django.tasks import task
from django.utils import timezone

from wallets import services
from wallets.imports import import_run
from wallets.models import ImportRun, NoticeBatch


@task
def run_import(*, import_id: int, language: str = "ja") -> int:
    """Check and apply an import; on an unexpected error the run says so instead of hanging."""
    run = ImportRun.objects.select_related("programme", "created_by").get(pk=import_id)
    try:
        return import_run(run, language=language).rows_done
    except Exception as error:
        ImportRun.objects.filter(pk=run.pk).update(
            status=ImportRun.Status.FAILED, error=repr(error)[:2000], finished_at=timezone.now()
        )
        raise


@task
def write_notices(*, batch_id: int) -> int:
    batch = NoticeBatch.objects.select_related("programme").get(pk=batch_id)
    if batch.status == NoticeBatch.Status.DONE:
        return batch.pages_done  # a retried task: the files are there
    return services.notice_batch_write(batch).pages_done
