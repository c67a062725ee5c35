"""Background work for settlement, run by the django-tasks-db worker (manage.py db_worker)."""

from datetime import date

from django.contrib.auth import get_user_model
from django.tasks import task

from settlement import services
from settlement.models import Payout
from wallets.models import Programme


@task
def settle_period(*, programme_id: int, period_end: str, actor_id: int | None = None) -> int:
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    run = services.settlement_run(
        programme=Programme.objects.get(pk=programme_id),
        period_end=date.fromisoformat(period_end),
        actor=actor,
    )
    return run.pk


@task
def issue_statements(*, run_id: int) -> int:
    """Render each payout's statement once after the run, so downloads are instant."""
    count = 0
    for payout in Payout.objects.filter(run_id=run_id, statement="").order_by("pk").iterator():
        services.payout_statement_issue(payout=payout)
        count += 1
    return count
