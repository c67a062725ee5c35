"""The project's WSGI app, for test_api_lost_response.py only: once Django has answered the first
POST (its payment committed), the worker writes its pid to $KILL_ME_MARKER and waits, before a
byte of the answer is sent, for the test to kill it with SIGKILL."""

import os
import time
from pathlib import Path

from config.wsgi import application as django_application


def application(environ, start_response):
    response = django_application(environ, start_response)
    marker = Path(os.environ["KILL_ME_MARKER"])
    if environ["REQUEST_METHOD"] == "POST" and not marker.exists():
        marker.with_suffix(".tmp").write_text(str(os.getpid()))
        marker.with_suffix(".tmp").rename(marker)  # whole, or not there
        time.sleep(60)
    return response
