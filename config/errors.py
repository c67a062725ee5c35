"""Error pages in Japanese for each audience, with a way back (handler400/403/404/500).

The audience is read from the path: /merchant/ (merchant admin), /store/ (store app), /admin/
(Django admin, in its own look), /api/ (JSON like every API answer), anything else residents.
The 500 page is rendered without the request's context processors and never touches the
database, so it still answers when PostgreSQL is the reason for the error.
"""

from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

from core.middleware import API_PREFIX

AUDIENCES = (
    ("/merchant/", "merchant"),
    ("/store/", "store"),
    ("/admin/", "admin"),
    (API_PREFIX, "api"),
)


def audience(request) -> str:
    path = request.path
    return next((name for prefix, name in AUDIENCES if path.startswith(prefix)), "resident")


def _texts(status: int) -> tuple[str, str, str]:
    """(code, title, explanation) for the status; evaluated per request, in its language."""
    return {
        400: (
            "bad_request",
            _("The request could not be processed"),
            _("The request was not understood. Please go back and try again."),
        ),
        403: (
            "forbidden",
            _("You cannot open this page"),
            _(
                "You do not have permission to open this page, or the form expired. Please go "
                "back, reload the page and try again."
            ),
        ),
        404: (
            "not_found",
            _("Page not found"),
            _(
                "The page you are looking for does not exist or has moved. Please check the address."
            ),
        ),
        500: (
            "server_error",
            _("A system error occurred"),
            _(
                "Something went wrong on our side and nothing was changed. Please wait a moment "
                "and try again. If it keeps happening, contact the office."
            ),
        ),
    }[status]


def _back(kind: str) -> tuple[str, str]:
    return {
        "merchant": ("/merchant/", _("Back to the merchant admin")),
        "store": ("/store/", _("Back to the store app")),
        "admin": ("/admin/", _("Back to the administration")),
        "resident": ("/", _("Back to the top page")),
    }[kind]


def _render(request, status: int) -> HttpResponse:
    kind = audience(request)
    code, title, message = _texts(status)
    if kind == "api":
        return JsonResponse({"error": {"code": code, "message": message}}, status=status)
    back_url, back_label = _back(kind)
    context = {
        "status": status,
        "title": title,
        "message": message,
        "back_url": back_url,
        "back_label": back_label,
    }
    if status == 500:
        # No request: no context processors, no session, no user, no query.
        body = loader.render_to_string(f"errors/500_{kind}.html", context)
    else:
        body = loader.render_to_string(f"errors/{kind}.html", context, request=request)
    return HttpResponse(body, status=status)


@requires_csrf_token
def bad_request(request, exception=None):
    return _render(request, 400)


@requires_csrf_token
def permission_denied(request, exception=None):
    return _render(request, 403)


@requires_csrf_token
def page_not_found(request, exception=None):
    return _render(request, 404)


def server_error(request):
    return _render(request, 500)


@requires_csrf_token
def csrf_failure(request, reason=""):
    """A form sent without its token (expired page, cookies off): the 403 page of its audience."""
    return _render(request, 403)
