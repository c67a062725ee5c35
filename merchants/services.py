"""Merchant-side rules that span models (users, terminals, exports)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

from core.audit import audit_log
from merchants.models import Company, Terminal, User, new_terminal_password


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


def terminal_setup_unlock(*, actor: User, terminal: Terminal) -> Terminal:
    """Lifts the lock left by wrong terminal passwords; the count starts again from zero."""
    updated = Terminal.objects.filter(pk=terminal.pk, setup_locked_at__isnull=False).update(
        setup_locked_at=None, failed_setup_attempts=0
    )
    if updated:
        audit_log(
            action="merchants.terminal.setup_unlocked",
            actor=actor,
            obj=terminal,
            company=terminal.store.company,
            terminal_id=terminal.terminal_id,
        )
    terminal.refresh_from_db(fields=["setup_locked_at", "failed_setup_attempts"])
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
    """Lift the account's lock and axes' pauses (company admins for their company, city staff for
    anyone)."""
    from axes.utils import reset

    reset(username=user.username)
    User.objects.filter(pk=user.pk).update(failed_sign_ins=0)
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


def locked_usernames(usernames) -> set[str]:
    """The accounts whose long sign-in budget is spent (アカウントロック状態), among these login IDs.

    axes' pauses per (account, address) lock nobody else out, so they are not shown."""
    return set(
        User.objects.filter(
            username__in=list(usernames),
            failed_sign_ins__gte=settings.MERCHANT_ACCOUNT_FAILURE_LIMIT,
        ).values_list("username", flat=True)
    )
