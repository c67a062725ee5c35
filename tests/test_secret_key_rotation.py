"""SECRET_KEY_FALLBACKS from the environment: after a rotation, what the old key signed still opens."""

import os
import subprocess

import pytest
from django.core import signing

from tests.subprocesses import ROOT


def test_fallbacks_are_read_from_the_environment_comma_separated():
    env = dict(os.environ, SECRET_KEY="new-key", SECRET_KEY_FALLBACKS="old-key-2, old-key-1")
    done = subprocess.run(
        [
            str(ROOT / ".venv/bin/python"),
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.SECRET_KEY_FALLBACKS)",
        ],
        cwd=ROOT,
        env=dict(env, DJANGO_SETTINGS_MODULE="config.settings"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['old-key-2', 'old-key-1']"


def test_a_value_signed_with_the_old_key_still_opens_after_rotation(settings):
    settings.SECRET_KEY = "old-key"
    settings.SECRET_KEY_FALLBACKS = []
    token = signing.dumps({"terminal": 7}, salt="any")
    settings.SECRET_KEY = "new-key"
    with pytest.raises(signing.BadSignature):
        signing.loads(token, salt="any")
    settings.SECRET_KEY_FALLBACKS = ["old-key"]
    assert signing.loads(token, salt="any") == {"terminal": 7}
