"""利用実績 CSV exports: requested on the page, written by the background worker, kept a while.

An export keeps the Scope it was asked in, so a later change to the requesting user cannot
widen what the file holds.
"""

import io
import tempfile
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.audit import audit_log
from core.csv import SafeWriter
from merchants.models import ExportFile, User
from merchants.scope import Scope
from payments.models import Payment


def export_request(*, actor: User, filters, encoding: str) -> ExportFile:
    """データ出力: reserve a CSV of the usage history; the worker writes it after commit."""
    from merchants.portal.tasks import write_export

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
    _("Payment method"),
    _("Staff"),
]
# Then one column per value type: its part of each payment.
SPLIT_HEADER = _("%(product)s amount")


def export_scope(export: ExportFile) -> Scope:
    """The scope the export was asked in, so a later change to the requesting user cannot widen it."""
    if export.store_id is None:
        return Scope(company_id=export.company_id)
    return Scope(company_id=export.company_id, store_id=export.store_id, company_wide=False)


def export_write(*, export: ExportFile) -> ExportFile:
    """Stream the rows into a file in the default storage: one chunk of rows in memory at a time."""
    from merchants.portal.selectors import HistoryFilters, payment_export_rows, value_types_for

    export.status = ExportFile.Status.RUNNING
    export.save(update_fields=["status"])
    filters = HistoryFilters.from_json(export.filters)
    tz = timezone.get_current_timezone()
    value_types = list(value_types_for(export_scope(export)).select_related("programme"))
    several = len({vt.programme_id for vt in value_types}) > 1
    column_of = {str(vt.pk): i for i, vt in enumerate(value_types)}
    with translation.override(settings.LANGUAGE_CODE):
        header = [str(column) for column in EXPORT_HEADER] + [
            str(SPLIT_HEADER)
            % {"product": f"{vt.name}（{vt.programme.name}）" if several else vt.name}
            for vt in value_types
        ]
        cancelled_label = str(_("Cancelled"))
        modes = {str(value): str(label) for value, label in Payment.Mode.choices}
    name = f"exports/{export.company_id}/{export.pk}-{export.filename}"
    rows = 0
    # Written to a local temporary file, then stored through STORAGES["default"] (the shared
    # MEDIA_ROOT, or S3), so any app server can serve what any worker wrote.
    with tempfile.TemporaryFile() as spool:
        try:
            # cp932 has no code for some characters (e.g. emoji in a store name): they become "?".
            out = io.TextIOWrapper(spool, encoding=export.encoding, errors="replace", newline="")
            writer = SafeWriter(out)
            writer.writerow(header)
            for (
                created_at,
                *middle,
                status,
                cancelled_at,
                mode,
                staff,
                splits,
            ) in payment_export_rows(scope=export_scope(export), filters=filters):
                amounts = [""] * len(value_types)
                for part in (splits or "").split():
                    value_type, _sep, amount = part.partition(":")
                    amounts[column_of[value_type]] = amount
                writer.writerow(
                    [
                        _excel_time(created_at, tz),
                        *middle,
                        cancelled_label if status == "cancelled" else "",
                        _excel_time(cancelled_at, tz) if cancelled_at else "",
                        modes.get(mode, mode),
                        staff or "",
                        *amounts,
                    ]
                )
                rows += 1
            out.flush()
            out.detach()
            size = spool.tell()
            spool.seek(0)
            stored = default_storage.save(name, File(spool, name=name))
        except Exception:
            export.status = ExportFile.Status.FAILED
            export.save(update_fields=["status"])
            raise
    export.file.name = stored
    export.size = size
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
