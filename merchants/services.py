"""Merchant-side rules that span models (users, terminals, exports)."""

import csv
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.audit import audit_log
from merchants.models import Company, ExportFile, Terminal, User, new_terminal_password


def send_templated_mail(*, template: str, to: str, context: dict) -> None:
    """An e-mail from the templates/<app>/emails/<name>_{subject,body}.txt/.html triplet."""
    subject = render_to_string(f"{template}_subject.txt", context).strip()
    body = render_to_string(f"{template}_body.txt", context)
    html = render_to_string(f"{template}_body.html", context)
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    message.send()


def terminal_password_regenerate(*, actor: User, terminal: Terminal) -> Terminal:
    """A new terminal password; devices already set up keep working, new set-ups need it."""
    terminal.setup_password = new_terminal_password()
    terminal.save(update_fields=["setup_password"])
    audit_log(
        action="merchants.terminal.password_regenerated",
        actor=actor,
        obj=terminal,
        company=terminal.store.company,
        terminal_id=terminal.terminal_id,
    )
    return terminal


def merchant_user_create(
    *,
    actor: User,
    name: str,
    username: str,
    email: str,
    role: str,
    store,
    password: str,
    notify: bool,
) -> User:
    """管理ユーザ登録: a store manager or staff member who must change the password at first sign-in."""
    with transaction.atomic():
        user = User(
            username=username,
            name=name,
            email=email,
            role=role,
            company=store.company,
            store=store,
            must_change_password=True,
        )
        user.set_password(password)
        user.save()
        audit_log(
            action="merchants.user.created",
            actor=actor,
            obj=user,
            company=store.company,
            username=username,
            role=role,
            store=store.code,
        )
        if notify and email:
            context = {
                "user": user,
                "store": store,
                "login_url": f"{settings.SITE_URL}/merchant/login/",
            }
            transaction.on_commit(
                lambda: send_templated_mail(
                    template="merchants/emails/user_registered", to=email, context=context
                )
            )
    return user


def merchant_user_deactivate(*, actor: User, user: User) -> User:
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit_log(
        action="merchants.user.deactivated",
        actor=actor,
        obj=user,
        company=user.company,
        username=user.username,
    )
    return user


def merchant_user_unlock(*, actor: User, user: User) -> None:
    """Lift django-axes' lock (company admins for their company, city staff for anyone)."""
    from axes.utils import reset

    reset(username=user.username)
    audit_log(
        action="merchants.user.unlocked",
        actor=actor,
        obj=user,
        company=user.company,
        username=user.username,
    )


def company_update(*, actor: User, company: Company, changes: dict) -> Company:
    """加盟店情報: contact details and the bank account the city pays out to."""
    # From the database: a bound ModelForm has already written its values onto the instance.
    before = Company.objects.values(*changes).get(pk=company.pk)
    for field, value in changes.items():
        setattr(company, field, value)
    company.full_clean()
    company.save(update_fields=list(changes))
    changed = {f: [before[f], v] for f, v in changes.items() if before[f] != v}
    if changed:
        audit_log(
            action="merchants.company.updated",
            actor=actor,
            obj=company,
            company=company,
            changes=changed,
        )
    return company


def export_request(*, actor: User, filters, encoding: str) -> ExportFile:
    """データ出力: reserve a CSV of the usage history; the worker writes it after commit."""
    from merchants.tasks import write_export

    export = ExportFile.objects.create(
        company=actor.company,
        store=actor.store if actor.role != User.Role.COMPANY_ADMIN else None,
        requested_by=actor,
        filters=filters.to_json(),
        encoding=encoding,
        expires_at=timezone.now() + timedelta(days=settings.MERCHANT_EXPORT_DAYS),
    )
    audit_log(
        action="merchants.export.requested",
        actor=actor,
        obj=export,
        company=actor.company,
        filters=export.filters,
        encoding=encoding,
    )
    transaction.on_commit(lambda: write_export.enqueue(export_id=export.pk))
    return export


EXPORT_HEADER = [
    _("Usage date and time"),
    _("Store code"),
    _("Store name"),
    _("Terminal name"),
    _("Terminal ID"),
    _("Payment number"),
    _("Usage amount"),
    _("Product"),
    _("Status"),
    _("Cancelled at"),
]


def export_scope(export: ExportFile) -> User:
    """The scope the export was asked in (company, or store for store roles), as a user object
    for the selectors, so that a later change to the requesting user cannot widen it."""
    if export.store_id is None:
        return User(role=User.Role.COMPANY_ADMIN, company_id=export.company_id)
    return User(
        role=User.Role.STORE_MANAGER, company_id=export.company_id, store_id=export.store_id
    )


def export_write(*, export: ExportFile) -> ExportFile:
    """Stream the rows into a file under MEDIA_ROOT: one chunk of rows in memory at a time."""
    from merchants.selectors import HistoryFilters, payment_export_rows

    export.status = ExportFile.Status.RUNNING
    export.save(update_fields=["status"])
    filters = HistoryFilters.from_json(export.filters)
    tz = timezone.get_current_timezone()
    with translation.override(settings.LANGUAGE_CODE):
        header = [str(column) for column in EXPORT_HEADER]
        cancelled_label = str(_("Cancelled"))
    name = f"exports/{export.company_id}/{export.pk}-{export.filename}"
    path = settings.MEDIA_ROOT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    try:
        # cp932 has no code for some characters (e.g. emoji in a store name): they become "?".
        with open(path, "w", encoding=export.encoding, errors="replace", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            for created_at, *middle, status, cancelled_at in payment_export_rows(
                user=export_scope(export), filters=filters
            ):
                writer.writerow(
                    [
                        _excel_time(created_at, tz),
                        *middle,
                        cancelled_label if status == "cancelled" else "",
                        _excel_time(cancelled_at, tz) if cancelled_at else "",
                    ]
                )
                rows += 1
    except Exception:
        path.unlink(missing_ok=True)
        export.status = ExportFile.Status.FAILED
        export.save(update_fields=["status"])
        raise
    export.file.name = name
    export.size = path.stat().st_size
    export.row_count = rows
    export.status = ExportFile.Status.DONE
    export.finished_at = timezone.now()
    export.save(update_fields=["file", "size", "row_count", "status", "finished_at"])
    return export


def _excel_time(moment, tz) -> str:
    return moment.astimezone(tz).strftime("%Y/%m/%d %H:%M:%S")


def exports_purge(*, now=None) -> int:
    """Delete the files and rows of exports past their keeping time."""
    expired = ExportFile.objects.filter(expires_at__lte=now or timezone.now())
    count = 0
    for export in expired.iterator():
        if export.file:
            export.file.delete(save=False)
        export.delete()
        count += 1
    return count
