import os
from pathlib import Path

import pytest

from tests import factories


@pytest.fixture(autouse=True)
def test_settings(settings):
    # PBKDF2's deliberate slowness is not what the tests are about.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "wallets.hashers.PinHasher",
    ]
    # Tests run without collectstatic, so there is no manifest of hashed file names.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Generated files (exports, statements, QR sheets) go to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def programme(db):
    return factories.programme()


@pytest.fixture
def common(programme):
    """共通券: spendable at every store."""
    return factories.value_type(programme, code="common", name="共通券")


@pytest.fixture
def local(programme):
    """専用券: only at small/local stores; expires earlier to test the split order."""
    return factories.value_type(programme, code="local", name="専用券", small_local_only=True)


@pytest.fixture
def company(db):
    return factories.company()


@pytest.fixture
def other_company(db):
    return factories.company(name="他社")


@pytest.fixture
def small_store(company, programme):
    return factories.store(company, programme, is_small_local=True)


@pytest.fixture
def large_store(company, programme):
    return factories.store(company, programme, is_small_local=False)


@pytest.fixture
def wallet(programme, common, local):
    return factories.funded_wallet(programme, {common: 5_000, local: 3_000})


@pytest.fixture
def city_staff(db):
    return factories.user("cityadmin01", is_staff=True, is_superuser=True)


@pytest.fixture
def company_admin(company):
    return factories.user("alice-admin", role="company_admin", company=company)


@pytest.fixture
def store_manager(small_store):
    return factories.user(
        "bob-manager", role="store_manager", company=small_store.company, store=small_store
    )


@pytest.fixture
def store_staff(small_store):
    return factories.user(
        "charlie-staff", role="store_staff", company=small_store.company, store=small_store
    )


@pytest.fixture
def other_company_admin(other_company):
    return factories.user("mallory-admin", role="company_admin", company=other_company)


# --- Browser tests: Debian's Chromium through Playwright, never a downloaded browser. ---

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "ja-JP",
    "timezone_id": "Asia/Tokyo",
}
DESKTOP = {
    "viewport": {"width": 1366, "height": 900},
    "locale": "ja-JP",
    "timezone_id": "Asia/Tokyo",
}


@pytest.fixture(scope="session")
def playwright_instance():
    # Playwright's sync API runs an event loop in this thread; the ORM calls in tests are safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


def launch_chromium(playwright_instance, extra_args=()):
    """A fresh Chromium; tests that need the fake camera pass its flags in extra_args."""
    return playwright_instance.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args]
    )


@pytest.fixture(scope="session")
def browser(playwright_instance):
    chromium = launch_chromium(playwright_instance)
    yield chromium
    chromium.close()


@pytest.fixture
def phone(browser):
    """A page the size of a phone, in Japanese, Tokyo time."""
    context = browser.new_context(**PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser):
    context = browser.new_context(**DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def screenshot(request):
    """screenshot(page, "name") saves test-artifacts/<test>/<name>.png for a person to look at."""
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def merchant_login():
    """merchant_login(client, user): signed in with password and e-mailed code, as after login."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_email.models import EmailDevice

    def login(client, user):
        device, _ = EmailDevice.objects.get_or_create(user=user, name="email")
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return login
