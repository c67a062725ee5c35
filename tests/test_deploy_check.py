"""`manage.py check --deploy` is clean for a production configuration (HTTPS, SMTP, HSTS with
preload, secure cookies), so a deploy that drifts from it fails loudly."""

import os
import subprocess
import sys

from tests.subprocesses import ROOT


def test_deploy_check_has_no_warnings_in_production_settings():
    env = dict(
        os.environ,
        DEBUG="false",
        SECURE_COOKIES="true",
        SECURE_SSL_REDIRECT="true",
        EMAIL_BACKEND="smtp",
        SECRET_KEY="x" * 60 + "-a-long-random-production-key",
    )
    env.pop("SECURE_HSTS_PRELOAD", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests for their own process
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout
