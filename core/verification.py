"""Fresh verification for city staff's money actions (docs/security.md).

A signed-in admin session is verified once; a money action also needs a second-factor check within
the last STAFF_FRESH_SECONDS, so a session left open on a desk cannot grant money or mark payouts
paid. Put `@fresh_verification_required` on an admin view, a ModelAdmin method or an admin action
(below `@admin.action`); a stale session is sent to the re-verify page and comes back.
"""

import time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

VERIFIED_AT_KEY = "staff_verified_at"
# A POST that met a stale session, replayed (after the check) from a page with a button.
REPLAY_KEY = "staff_reverify_replay"


def mark_verified(request) -> None:
    """Called whenever the staff member has just passed a second-factor check."""
    request.session[VERIFIED_AT_KEY] = time.time()


def verified_recently(request, seconds: int | None = None) -> bool:
    seconds = settings.STAFF_FRESH_SECONDS if seconds is None else seconds
    verified_at = request.session.get(VERIFIED_AT_KEY)
    return isinstance(verified_at, int | float) and time.time() - verified_at <= seconds


def reverify_redirect(request):
    """To the re-verify page, then back here; a POST (without files) is kept to be sent again."""
    here = request.get_full_path()
    if request.method == "POST" and not request.FILES:
        request.session[REPLAY_KEY] = {
            "url": here,
            "data": [
                [key, value]
                for key, values in request.POST.lists()
                if key != "csrfmiddlewaretoken"
                for value in values
            ],
        }
    else:
        request.session.pop(REPLAY_KEY, None)
    return redirect(f"{reverse('staff_otp:reverify')}?{urlencode({'next': here})}")


def fresh_verification_required(view):
    """Run `view` only after a second-factor check within the last 10 minutes.

    Works on plain views (request first), ModelAdmin methods (self, request, ...) and admin
    actions (modeladmin, request, queryset).
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        request = next(a for a in args if isinstance(a, HttpRequest))
        if verified_recently(request):
            return view(*args, **kwargs)
        return reverify_redirect(request)

    wrapper.fresh_verification_required = True
    return wrapper
