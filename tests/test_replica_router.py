"""Heavy reads go to the replica while it keeps up, to the primary when it lags or is away;
writes and everything else always to the primary."""

import pytest

from core import db
from payments.models import Payment


@pytest.fixture
def lag(monkeypatch, settings):
    settings.REPLICA_MAX_LAG_SECONDS = 10
    settings.REPLICA_CHECK_SECONDS = 0  # check on every query here
    seconds = {"now": 0.0}

    def replica_lag():
        if seconds["now"] is None:
            raise OSError("connection refused")
        return seconds["now"]

    monkeypatch.setattr(db, "replica_lag", replica_lag)
    monkeypatch.setattr(
        db, "connections", {db.REPLICA: type("C", (), {"close": lambda self: None})()}
    )
    db._state.update(checked=0.0, fresh=False, lag=None)
    return seconds


def test_heavy_reads_use_the_replica_only_while_it_keeps_up(lag):
    router = db.ReplicaRouter()
    assert router.db_for_read(Payment) == "default"  # not a heavy read
    with db.heavy_reads():
        assert router.db_for_read(Payment) == "replica"
        assert router.db_for_write(Payment) == "default"
        lag["now"] = 42.0
        assert router.db_for_read(Payment) == "default"  # lagging past the bound
        lag["now"] = None
        assert router.db_for_read(Payment) == "default"  # unreachable
        lag["now"] = 1.5
        assert router.db_for_read(Payment) == "replica"
    assert router.db_for_read(Payment) == "default"


def test_the_decorator_marks_only_the_view(lag):
    router = db.ReplicaRouter()

    @db.heavy_read
    def view():
        return router.db_for_read(Payment)

    assert view() == "replica"
    assert router.db_for_read(Payment) == "default"


def test_only_the_primary_is_migrated():
    router = db.ReplicaRouter()
    assert router.allow_migrate("default", "payments")
    assert not router.allow_migrate("replica", "payments")
