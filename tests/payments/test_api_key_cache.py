"""POS keys are looked up once per process every few seconds: revocation still takes effect at
once in the revoking process and within the cache's lifetime everywhere else."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from merchants.models import Store, Terminal
from payments import selectors, services
from payments.models import ApiKey
from tests.payments.conftest import assert_error


def key_lookups(queries) -> int:
    return sum(ApiKey._meta.db_table in q["sql"] for q in queries)


def test_a_key_seen_is_not_looked_up_again(api):
    assert api("get", "/payments").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert api("get", "/payments").status_code == 200
    assert key_lookups(queries.captured_queries) == 0
    assert queries.captured_queries  # the listing itself still reads the database


def test_revoking_through_the_service_ends_the_key_at_once_in_this_process(api, pos_terminal):
    assert api("get", "/payments").status_code == 200
    services.api_key_revoke(api_key=ApiKey.objects.get(terminal=pos_terminal))
    assert_error(api("get", "/payments"), 401, "unauthorized")


def revoke_elsewhere(terminal):
    ApiKey.objects.filter(terminal=terminal).update(revoked_at="2026-01-01T00:00:00+09:00")


def deactivate_terminal_elsewhere(terminal):
    Terminal.objects.filter(pk=terminal.pk).update(is_active=False)


def deactivate_store_elsewhere(terminal):
    Store.objects.filter(pk=terminal.store_id).update(is_active=False)


@pytest.mark.parametrize(
    "change", [revoke_elsewhere, deactivate_terminal_elsewhere, deactivate_store_elsewhere]
)
def test_a_change_on_another_server_ends_the_key_within_the_cache_lifetime(
    api, pos_terminal, monkeypatch, change
):
    """Another server's change reaches this process's database, not its cache (an UPDATE here
    stands for it): the key keeps working until its entry expires, then stops."""
    monkeypatch.setattr(selectors, "API_KEY_CACHE_SECONDS", 2)
    assert api("get", "/payments").status_code == 200
    change(pos_terminal)
    assert api("get", "/payments").status_code == 200
    time.sleep(2.1)
    assert_error(api("get", "/payments"), 401, "unauthorized")
    assert_error(api("get", "/payments"), 401, "unauthorized")


def test_a_deactivated_store_or_terminal_is_refused(api, pos_terminal):
    Store.objects.filter(pk=pos_terminal.store_id).update(is_active=False)
    assert_error(api("get", "/payments"), 401, "unauthorized")
    Store.objects.filter(pk=pos_terminal.store_id).update(is_active=True)
    Terminal.objects.filter(pk=pos_terminal.pk).update(is_active=False)
    assert_error(api("get", "/payments"), 401, "unauthorized")


def test_made_up_keys_are_not_kept(api):
    before = len(selectors._api_key_rows)
    for n in range(10):
        assert_error(api("get", "/payments", auth=f"vk_made-up-{n}"), 401, "unauthorized")
    assert len(selectors._api_key_rows) == before


def test_requests_do_not_share_the_cached_objects(api, pos_terminal):
    first = selectors.terminal_for_api_key(key_hash=pos_terminal.api_keys.get().key_hash)
    second = selectors.terminal_for_api_key(key_hash=pos_terminal.api_keys.get().key_hash)
    assert first == second == pos_terminal
    assert first is not second and first.store is not second.store
