"""Merchant-side rules that span models (users, terminals, exports)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core.audit import audit_log
from merchants.models import (
    BANK_FIELDS,
    BankAccountChange,
    Company,
    Store,
    Terminal,
    TerminalDevice,
    User,
    new_sheet_token,
    new_terminal_password,
)
from merchants.tokens import welcome_token_generator


def send_templated_mail(*, template: str, to: str, context: dict) -> None:
    """An e-mail from the templates/<app>/emails/<name>_{subject,body}.txt/.html triplet."""
    subject = render_to_string(f"{template}_subject.txt", context).strip()
    body = render_to_string(f"{template}_body.txt", context)
    html = render_to_string(f"{template}_body.html", context)
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    message.send()


def terminal_create(
    *,
    actor: User,
    store: Store,
    kind: str,
    name: str = "",
    external_id: str = "",
    terminal_id: str = "",
) -> tuple[Terminal, str]:
    """A new terminal and its first password, returned once: only its hash is kept."""
    terminal = Terminal(store=store, kind=kind, name=name, external_id=external_id)
    if terminal_id:
        terminal.terminal_id = terminal_id
    password = new_terminal_password()
    terminal.set_setup_password(password)
    terminal.save()
    audit_log(
        action="merchants.terminal.created",
        actor=actor,
        obj=terminal,
        company=store.company,
        terminal_id=terminal.terminal_id,
    )
    return terminal, password


def terminal_password_regenerate(*, actor: User, terminal: Terminal) -> str:
    """A new terminal password, returned once: every device set up with the old one is unpaired
    at once."""
    password = new_terminal_password()
    with transaction.atomic():
        terminal.set_setup_password(password)
        terminal.save(update_fields=["setup_password_hash", "setup_password_issued_at"])
        terminal.devices.all().delete()
        audit_log(
            action="merchants.terminal.password_regenerated",
            actor=actor,
            obj=terminal,
            company=terminal.store.company,
            terminal_id=terminal.terminal_id,
        )
    return password


def store_sheet_token_rotate(*, store: Store, actor) -> Store:
    """A new QR sheet URL for one store (a sheet was stolen or copied): its printed sheets stop
    working at once and must be reprinted."""
    store.sheet_token = new_sheet_token()
    store.save(update_fields=["sheet_token"])
    audit_log(
        action="merchants.store.sheet_token_rotated", actor=actor, obj=store, company=store.company
    )
    return store


def terminal_unpair(*, actor: User, terminal: Terminal) -> int:
    """接続解除: every device set up for this terminal must be set up again (the password stays).
    Returns how many were disconnected."""
    with transaction.atomic():
        ended, _by_model = terminal.devices.all().delete()
        audit_log(
            action="merchants.terminal.unpaired",
            actor=actor,
            obj=terminal,
            company=terminal.store.company,
            terminal_id=terminal.terminal_id,
            devices=ended,
        )
    return ended


def terminal_device_end(*, actor: User, device: TerminalDevice) -> None:
    """One device disconnected (a lost phone), the terminal's other devices keep working."""
    terminal = device.terminal
    with transaction.atomic():
        device.delete()
        audit_log(
            action="merchants.terminal.device_ended",
            actor=actor,
            obj=terminal,
            company=terminal.store.company,
            terminal_id=terminal.terminal_id,
            device=device.label,
            address=device.client_address,
            paired_at=device.paired_at.isoformat(),
        )


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
    *, actor: User, name: str, username: str, email: str, role: str, store
) -> User:
    """管理ユーザ登録: the new user sets their own password from a one-time link in the mail."""
    with transaction.atomic():
        user = User(
            username=username,
            name=name,
            email=email,
            role=role,
            company=store.company,
            store=store,
            must_change_password=False,  # the password will be their own
        )
        user.set_unusable_password()
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
        merchant_welcome_send(user=user, actor=actor)
    return user


def welcome_link(user: User) -> str:
    """The one-time link to set a first password: it stops working once a password is set, and
    after settings.WELCOME_LINK_TIMEOUT (72 hours)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = welcome_token_generator.make_token(user)
    return settings.SITE_URL + reverse("merchants:welcome", args=[uid, token])


def merchant_welcome_send(*, user: User, actor=None) -> None:
    """The registration mail (加盟店登録完了のお知らせ for a company admin) with the link, sent
    after commit; again from the user list when the first link expired."""
    if user.has_usable_password() or not user.email:
        return
    store_app = user.role == User.Role.STORE_STAFF
    context = {
        "user": user,
        "company": user.company,
        "store": user.store,
        "link": welcome_link(user),
        "hours": settings.WELCOME_LINK_TIMEOUT // 3600,
        "login_url": settings.SITE_URL
        + reverse("payments:store_login" if store_app else "merchants:login"),
        "store_app": store_app,
        "manual_url": settings.MERCHANT_MANUAL_URL,
    }
    audit_log(action="merchants.user.welcome_sent", actor=actor, obj=user, company=user.company)
    transaction.on_commit(
        lambda: send_templated_mail(
            template="merchants/emails/user_registered", to=user.email, context=context
        )
    )


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


def company_update(*, actor: User, company: Company, changes: dict) -> BankAccountChange | None:
    """加盟店情報: contact details change at once; a new payout account becomes a request that
    city staff approve (the pending request, if any, is replaced). Returns the request."""
    # From the database: a bound ModelForm has already written its values onto the instance.
    before = Company.objects.values(*changes).get(pk=company.pk)
    company.refresh_from_db(fields=BANK_FIELDS)
    contact = {f: v for f, v in changes.items() if f not in BANK_FIELDS}
    for field, value in contact.items():
        setattr(company, field, value)
    company.full_clean()
    with transaction.atomic():
        company.save(update_fields=list(contact))
        changed = {f: [before[f], v] for f, v in contact.items() if before[f] != v}
        if changed:
            audit_log(
                action="merchants.company.updated",
                actor=actor,
                obj=company,
                company=company,
                changes=changed,
            )
        account = {f: v for f, v in changes.items() if f in BANK_FIELDS}
        if not account or all(before[f] == v for f, v in account.items()):
            return None
        return bank_account_change_request(actor=actor, company=company, account=account)


def bank_account_change_request(
    *, actor: User, company: Company, account: dict
) -> BankAccountChange:
    """A new payout account, pending until city staff approve it; every company admin is told."""
    request = BankAccountChange(company=company, requested_by=actor, **account)
    request.full_clean(exclude=["company", "requested_by"])
    with transaction.atomic():
        Company.objects.select_for_update().filter(pk=company.pk).first()
        company.bank_changes.filter(status=BankAccountChange.Status.PENDING).update(
            status=BankAccountChange.Status.SUPERSEDED
        )
        request.save()
        audit_log(
            action="merchants.bank_account.requested",
            actor=actor,
            obj=request,
            company=company,
            current={f: getattr(company, f) for f in BANK_FIELDS},
            requested=request.account(),
        )
        _tell_company_admins(request, "bank_account_requested")
    return request


def bank_account_change_decide(
    *, change: BankAccountChange, actor, approve: bool, reason: str = ""
) -> BankAccountChange:
    """City staff approve (the payouts and 全銀 file use it from now on) or reject a request."""
    with transaction.atomic():
        change = (
            BankAccountChange.objects.select_for_update()
            .select_related("company")
            .get(pk=change.pk)
        )
        if change.status != BankAccountChange.Status.PENDING:
            raise ValueError("only a pending request is decided")
        company = change.company
        before = {f: getattr(company, f) for f in BANK_FIELDS}
        if approve:
            for field, value in change.account().items():
                setattr(company, field, value)
            company.save(update_fields=BANK_FIELDS)
        change.status = (
            BankAccountChange.Status.APPROVED if approve else BankAccountChange.Status.REJECTED
        )
        change.decided_by, change.decided_at, change.reason = actor, timezone.now(), reason[:200]
        change.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        audit_log(
            action=f"merchants.bank_account.{change.status}",
            actor=actor,
            obj=change,
            company=company,
            before=before,
            requested=change.account(),
            reason=reason,
        )
        _tell_company_admins(change, "bank_account_decided")
    return change


def _tell_company_admins(change: BankAccountChange, template: str) -> None:
    admins = list(
        User.objects.filter(company=change.company, role=User.Role.COMPANY_ADMIN, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    context = {
        "change": change,
        "company": change.company,
        "url": settings.SITE_URL + reverse("merchants:company"),
    }
    for email in admins:
        transaction.on_commit(
            lambda email=email: send_templated_mail(
                template=f"merchants/emails/{template}", to=email, context=context
            )
        )


def locked_usernames(usernames) -> set[str]:
    """The accounts whose long sign-in budget is spent (アカウントロック状態), among these login IDs.

    axes' pauses per (account, address) lock nobody else out, so they are not shown."""
    return set(
        User.objects.filter(
            username__in=list(usernames),
            failed_sign_ins__gte=settings.MERCHANT_ACCOUNT_FAILURE_LIMIT,
        ).values_list("username", flat=True)
    )
