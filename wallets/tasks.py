"""Background work for wallets, run by the django-tasks-db worker (manage.py db_worker)."""

from django.tasks import task

from wallets import services
from wallets.models import NoticeBatch


@task
def write_notices(*, batch_id: int) -> int:
    batch = NoticeBatch.objects.select_related("programme").get(pk=batch_id)
    if batch.status == NoticeBatch.Status.DONE:
        return batch.pages_done  # a retried task: the files are there
    return services.notice_batch_write(batch).pages_done
