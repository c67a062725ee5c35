"""Who may open merchant pages, and the scope every merchant query starts from.

A merchant page needs: a merchant user (role set), signed in with password and the e-mailed
code (django-otp verified), and no pending forced password change. Reads start from
`scope_payments`/`scope_stores` (the tenant rule of `merchants.scope`), so no view can forget it.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from merchants.models import DailySummary, ExportFile, Store, Terminal, TerminalDevice, User
from merchants.scope import Scope
from payments.models import Payment
from wallets.models import Programme

LOGIN_URL = "/merchant/login/"
PASSWORD_CHANGE_URL = "/merchant/password/change/"


def merchant_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_merchant and user.is_verified()):
            return redirect_to_login(request.get_full_path(), LOGIN_URL)
        if user.role == User.Role.STORE_STAFF:  # their place is the store app (issue 11)
            raise PermissionDenied
        if user.must_change_password:
            return redirect(PASSWORD_CHANGE_URL)
        # Saving the session on every merchant page slides its idle expiry (set at sign-in).
        request.session.modified = True
        request.scope = Scope.of(user)
        return view(request, *args, **kwargs)

    return wrapper


def scope_stores(scope: Scope):
    return scope.filter(Store.objects.all(), store_field="pk")


def scope_programmes(scope: Scope):
    """The programmes the scope's stores take part in (for their contact and cancel window)."""
    return Programme.objects.filter(stores__in=scope_stores(scope)).distinct().order_by("pk")


def scope_payments(scope: Scope):
    return scope.filter(Payment.objects.all())


def scope_terminals(scope: Scope):
    return Terminal.objects.filter(store__in=scope_stores(scope))


def scope_terminal_devices(scope: Scope):
    return TerminalDevice.objects.filter(terminal__in=scope_terminals(scope))


def scope_daily_summaries(scope: Scope):
    return scope.filter(DailySummary.objects.all())


def scope_exports(scope: Scope):
    return scope.filter(ExportFile.objects.all())


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
