"""Wallet rules that span several models: PINs and cards, notices (交付通知書) and their
reissue, lifting a PIN lock (CSV imports: wallets.imports)."""

import hashlib
import io
import secrets
import tempfile
from dataclasses import dataclass
from itertools import batched

from django.contrib.auth.hashers import make_password
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import override

from core.audit import audit_log
from core.csv import SafeWriter
from core.ratelimit import rate_limit_clear
from wallets import notices
from wallets.exceptions import NoticeSetInvalid
from wallets.models import (
    NEW_PIN_DIGITS,
    Account,
    ImportRun,
    NoticeBatch,
    Programme,
    Wallet,
    card_digest,
    pin_failure_keys,
)


def wallet_pin_unlock(*, wallet: Wallet, actor) -> None:
    """City staff lift the lock of a ticket whose PIN was entered wrongly too many times."""
    rate_limit_clear(*pin_failure_keys(wallet.ticket_number))
    audit_log(action="wallets.wallet.pin_unlocked", actor=actor, obj=wallet)


# A card QR says what it is, so the store app tells it from a CPM code before any lookup.
CARD_TOKEN_PREFIX = "CARD-"


@dataclass(frozen=True)
class Credentials:
    """What a notice prints; the only time the PIN and the card token exist in clear."""

    wallet: Wallet
    pin: str
    card_token: str


def wallet_credentials_issue(wallets) -> list[Credentials]:
    """A new PIN and card for each wallet; every earlier notice's PIN and card stop working.

    Callers (a notice batch, a reissue) write the audit row and print the result at once:
    nothing keeps the clear values.
    """
    issued, now = [], timezone.now()
    for wallet in wallets:
        pin = f"{secrets.randbelow(10**NEW_PIN_DIGITS):0{NEW_PIN_DIGITS}d}"
        token = CARD_TOKEN_PREFIX + secrets.token_urlsafe(18)
        wallet.set_pin(pin)
        wallet.card_digest = card_digest(token)
        wallet.credentials_issued_at = now
        issued.append(Credentials(wallet=wallet, pin=pin, card_token=token))
    Wallet.objects.bulk_update(
        [c.wallet for c in issued],
        ["pin_hash", "card_digest", "credentials_issued_at"],
        batch_size=1000,
    )
    rate_limit_clear(*(key for c in issued for key in pin_failure_keys(c.wallet.ticket_number)))
    return issued


def wallet_for_card(token: str) -> Wallet | None:
    """The wallet of a card QR, or None for anything else (an old, reissued or made-up card)."""
    token = token.strip()
    if not token.startswith(CARD_TOKEN_PREFIX) or len(token) > 64:
        return None
    return Wallet.objects.select_related("programme").filter(card_digest=card_digest(token)).first()


# ---- Notices (交付通知書) --------------------------------------------------------------------

# Tickets issued and drawn per step: the memory a batch needs does not grow with its size.
NOTICE_CHUNK = 1000


def notice_batch_create(
    *,
    programme: Programme,
    actor,
    import_run: ImportRun | None = None,
    wallet_ids=None,
    whole_programme: bool = False,
    limit: int | None = None,
    kind: str = NoticeBatch.Kind.ISSUE,
    enqueue: bool = True,
    actor_label: str = "",
) -> NoticeBatch:
    """Reserve notices for a whole import or chosen tickets; the worker writes them after commit.

    Writing gives every ticket in the set a new PIN and card, so earlier notices stop working.
    """
    if import_run is not None and import_run.programme_id != programme.pk:
        raise NoticeSetInvalid
    ids = sorted({int(pk) for pk in wallet_ids or ()})
    if (
        import_run is None
        and not whole_programme
        and (not ids or Wallet.objects.filter(pk__in=ids).exclude(programme=programme).exists())
    ):
        raise NoticeSetInvalid
    batch = NoticeBatch.objects.create(
        programme=programme,
        kind=kind,
        import_run=import_run,
        wallet_ids=[] if import_run or whole_programme else ids,
        whole_programme=whole_programme and import_run is None,
        limit=limit,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    batch.pages_total = batch.wallets().count()
    if not batch.pages_total:
        raise NoticeSetInvalid
    batch.save(update_fields=["pages_total"])
    audit_log(
        action="wallets.notice_batch.requested",
        actor=actor,
        actor_label=actor_label,
        obj=batch,
        programme=programme.code,
        kind=kind,
        import_run=import_run.pk if import_run else None,
        wallets=batch.pages_total,
    )
    if enqueue:
        from wallets.tasks import write_notices

        transaction.on_commit(lambda: write_notices.enqueue(batch_id=batch.pk))
    return batch


def wallet_notice_reissue(*, wallet: Wallet, actor) -> NoticeBatch:
    """A lost notice: the old PIN and card stop working now, the new ones are on a new notice."""
    with transaction.atomic():
        wallet = Wallet.objects.select_for_update().get(pk=wallet.pk)
        wallet.pin_hash = make_password(None)  # unusable until the new notice is written
        wallet.card_digest = None
        wallet.save(update_fields=["pin_hash", "card_digest"])
        audit_log(action="wallets.wallet.notice_reissued", actor=actor, obj=wallet)
        return notice_batch_create(
            programme=wallet.programme,
            actor=actor,
            wallet_ids=[wallet.pk],
            kind=NoticeBatch.Kind.REISSUE,
        )


def _amounts(wallet_ids) -> dict[int, dict[int, int]]:
    amounts: dict[int, dict[int, int]] = {}
    rows = Account.objects.filter(kind=Account.Kind.WALLET, wallet_id__in=wallet_ids).values_list(
        "wallet_id", "value_type_id", "balance"
    )
    for wallet_id, value_type_id, balance in rows:
        amounts.setdefault(wallet_id, {})[value_type_id] = balance
    return amounts


def _household(credentials: Credentials, amounts) -> notices.Household:
    wallet, resident = credentials.wallet, credentials.wallet.resident
    return notices.Household(
        postal_code=resident.postal_code,
        address=resident.address,
        name=resident.name,
        external_id=resident.external_id or "",
        ticket_number=wallet.ticket_number,
        pin=credentials.pin,
        card_token=credentials.card_token,
        amounts=amounts.get(wallet.pk, {}),
    )


def _sha256(file) -> str:
    file.seek(0)
    digest = hashlib.sha256()
    while chunk := file.read(1 << 20):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def notice_batch_retry(*, batch: NoticeBatch, actor) -> None:
    """A batch that failed (or whose worker died): written again from the start, with fresh
    credentials, since none of it was mailed."""
    from wallets.tasks import write_notices

    NoticeBatch.objects.filter(pk=batch.pk).update(status=NoticeBatch.Status.PENDING, error="")
    audit_log(action="wallets.notice_batch.retried", actor=actor, obj=batch)
    transaction.on_commit(lambda: write_notices.enqueue(batch_id=batch.pk))


def notice_batch_files_delete(*, batch: NoticeBatch, actor) -> None:
    """Printing is done: the only copies of the batch's PINs and cards go."""
    for stored in (batch.pdf, batch.csv):
        if stored:
            stored.delete(save=False)
    batch.save(update_fields=["pdf", "csv"])
    audit_log(action="wallets.notice_batch.files_deleted", actor=actor, obj=batch)


def notice_batch_write(batch: NoticeBatch, *, actor_label: str = "") -> NoticeBatch:
    """Issue the batch's tickets new credentials and print them, NOTICE_CHUNK at a time.

    The PDF and the CSV are written to temporary files and then stored with default_storage;
    pages_done shows the progress. A batch that fails is simply written again: no notice of it
    has left the building, and writing it again issues fresh credentials.
    """
    NoticeBatch.objects.filter(pk=batch.pk).update(
        status=NoticeBatch.Status.RUNNING, pages_done=0, error=""
    )
    programme = batch.programme
    value_types = list(programme.value_types.all())
    ids = list(batch.wallets().values_list("pk", flat=True))
    NoticeBatch.objects.filter(pk=batch.pk).update(pages_total=len(ids))
    try:
        with (
            override("ja"),
            tempfile.TemporaryFile() as pdf_file,
            tempfile.TemporaryFile() as csv_file,
        ):
            writer = notices.NoticeWriter(
                pdf_file,
                programme=programme,
                value_types=value_types,
                issued_on=timezone.localdate(),
            )
            # UTF-8 with a BOM, as Excel opens it.
            csv_text = io.TextIOWrapper(csv_file, encoding="utf-8-sig", newline="")
            rows = SafeWriter(csv_text)
            rows.writerow(notices.csv_header(value_types))
            done = 0
            for chunk in batched(ids, NOTICE_CHUNK, strict=False):
                with transaction.atomic():
                    order = {pk: i for i, pk in enumerate(chunk)}
                    wallets = sorted(
                        Wallet.objects.select_for_update(of=("self",))
                        .select_related("resident")
                        .filter(pk__in=chunk),
                        key=lambda wallet: order[wallet.pk],
                    )
                    issued = wallet_credentials_issue(wallets)
                amounts = _amounts(chunk)
                for credentials in issued:
                    household = _household(credentials, amounts)
                    writer.page(household)
                    rows.writerow(notices.csv_row(household, value_types))
                done += len(issued)
                NoticeBatch.objects.filter(pk=batch.pk).update(pages_done=done)
            writer.close()
            csv_text.detach()  # flushes; the binary file stays open
            stem = f"notices-{programme.code}-{batch.pk}"
            batch.refresh_from_db()
            pdf_digest, csv_digest = _sha256(pdf_file), _sha256(csv_file)
            batch.pdf.save(f"{stem}.pdf", File(pdf_file), save=False)
            batch.csv.save(f"{stem}.csv", File(csv_file), save=False)
    except Exception as error:
        NoticeBatch.objects.filter(pk=batch.pk).update(
            status=NoticeBatch.Status.FAILED, error=str(error)[:1000], finished_at=timezone.now()
        )
        raise
    batch.pdf_size = batch.pdf.size
    batch.status = NoticeBatch.Status.DONE
    batch.finished_at = timezone.now()
    batch.save(update_fields=["pdf", "csv", "pdf_size", "status", "finished_at"])
    audit_log(
        action="wallets.notice_batch.written",
        actor=batch.created_by,
        actor_label=actor_label,
        obj=batch,
        pages=done,
        pdf_sha256=pdf_digest,
        csv_sha256=csv_digest,
        pdf_bytes=batch.pdf_size,
    )
    return batch
