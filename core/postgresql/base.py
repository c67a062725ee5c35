"""Django's PostgreSQL backend, with a health check that costs no round trip when it can't fail.

CONN_HEALTH_CHECKS makes Django send `SELECT 1` before a persistent connection's first query in
each request: on the POS API that was half of the database round trips, and a wait for the
thread each time. A connection the server or PgBouncer has ended always has something to read
(the FATAL notice, or the end of the stream), so while there is nothing to read the connection
is as good as the `SELECT 1` would find it, and that is checked with one poll of the socket.
When there is something to read, Django's own check runs and closes the connection if it fails.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self._server_has_spoken()
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _server_has_spoken(self) -> bool:
        """Whether anything (a message or the end of the stream) waits on an idle connection."""
        try:
            readable, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError, base.Database.Error):
            return True  # no usable socket: Django's check will say so and close it
        return bool(readable)
