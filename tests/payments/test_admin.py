"""City staff create and revoke POS API keys in Django admin; the key is shown once."""

from core.models import AuditLog
from payments.models import ApiKey
from payments.services import api_key_hash


def test_create_shows_the_key_once_and_stores_its_hash(client, city_staff, small_store):
    from tests import factories

    terminal = factories.terminal(small_store, kind="pos")
    factories.staff_login(client, city_staff)
    response = client.post(
        "/admin/payments/apikey/add/", {"terminal": terminal.pk, "name": "レジ1"}, follow=True
    )
    html = response.content.decode()
    api_key = ApiKey.objects.get()
    raw = html.split("のAPIキーは ")[1].split(" です")[0]
    assert raw.startswith("vk_") and api_key_hash(raw) == api_key.key_hash
    assert raw not in client.get(f"/admin/payments/apikey/{api_key.pk}/change/").content.decode()
    assert AuditLog.objects.filter(action="payments.api_key.created").exists()

    client.post("/admin/payments/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]})
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
