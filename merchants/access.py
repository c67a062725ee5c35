"""Who may open merchant pages, and the scope every merchant query starts from.

A merchant page needs: a merchant user (role set), signed in with password and the e-mailed
code (django-otp verified), and no pending forced password change. Reads start from
`scope_payments`/`scope_stores`, so no view can forget the tenant filter.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect

from merchants.models import DailySummary, ExportFile, Store, Terminal, User
from payments.models import Payment

LOGIN_URL = "/merchant/login/"
PASSWORD_CHANGE_URL = "/merchant/password/change/"


def merchant_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_merchant and user.is_verified()):
            return redirect_to_login(request.get_full_path(), LOGIN_URL)
        if user.must_change_password:
            return redirect(PASSWORD_CHANGE_URL)
        # Saving the session on every merchant page slides its idle expiry (set at sign-in).
        request.session.modified = True
        return view(request, *args, **kwargs)

    return wrapper


def _company_or_store(queryset, user: User, store_field: str = "store_id"):
    """The tenant rule, in one place: the user's company, narrowed to their store unless they
    are the company admin."""
    queryset = queryset.filter(company_id=user.company_id)
    if user.role != User.Role.COMPANY_ADMIN:
        queryset = queryset.filter(**{store_field: user.store_id})
    return queryset


def scope_stores(user: User):
    return _company_or_store(Store.objects.all(), user, store_field="pk")


def scope_payments(user: User):
    return _company_or_store(Payment.objects.all(), user)


def scope_terminals(user: User):
    return Terminal.objects.filter(store__in=scope_stores(user))


def scope_daily_summaries(user: User):
    return _company_or_store(DailySummary.objects.all(), user)


def scope_exports(user: User):
    return _company_or_store(ExportFile.objects.all(), user)


def scope_users(user: User):
    """Company admins manage their company's merchant users; store managers their store's staff."""
    users = User.objects.filter(company_id=user.company_id).exclude(role="")
    if user.role == User.Role.COMPANY_ADMIN:
        return users
    if user.role == User.Role.STORE_MANAGER:
        return users.filter(store_id=user.store_id, role=User.Role.STORE_STAFF)
    return users.none()


def can_manage_users(user: User) -> bool:
    return user.role in (User.Role.COMPANY_ADMIN, User.Role.STORE_MANAGER)
