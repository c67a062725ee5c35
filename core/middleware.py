"""Django's session, authentication and messages middleware, passed by on the POS API.

The API (/api/, payments.api) is authenticated by its bearer key alone: it reads no cookie and has
no session, signed-in user or messages, so on an API call these would only spend time. Everything
else stays on every path: the request log, security headers, CSP, language, host and CSRF checks.
Where request.user is read by our own middleware, an API request simply has none.
"""

from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions

API_PREFIX = "/api/"


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


class PagesOnly:
    """Mixed in before a MiddlewareMixin middleware: an API request goes straight on."""

    def __call__(self, request):
        if is_api(request):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(PagesOnly, sessions.SessionMiddleware):
    pass


class AuthenticationMiddleware(PagesOnly, auth.AuthenticationMiddleware):
    pass


class MessageMiddleware(PagesOnly, messages.MessageMiddleware):
    pass
