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
from django.db import connections, transaction
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
    """Write the file from PostgreSQL's COPY, which formats every cell; Python passes rows on.

    Memory stays flat (about a megabyte of rows at a time), and COPY needs no server-side cursor,
    so it works through PgBouncer too."""
    export.status = ExportFile.Status.RUNNING
    export.save(update_fields=["status"])
    name = f"exports/{export.company_id}/{export.pk}-{export.filename}"
    # Written to a local temporary file, then stored through STORAGES["default"] (the shared
    # MEDIA_ROOT, or S3), so any app server can serve what any worker wrote.
    with tempfile.TemporaryFile() as spool:
        try:
            header, rows = _export_query(export)
            sql, params = rows.query.get_compiler(using=rows.db).as_sql()
            # cp932 has no code for some characters (e.g. emoji in a store name): they become "?".
            out = io.TextIOWrapper(spool, encoding=export.encoding, errors="replace", newline="")
            SafeWriter(out).writerow(header)
            count, buffer = 0, bytearray()
            with transaction.atomic(using=rows.db), connections[rows.db].cursor() as cursor:
                # Every join is a key lookup (store, terminal, entry, user, a split per value
                # type): as index lookups the export costs in proportion to its own rows. A hash
                # join reads the whole split and journal tables, every company's, and took half
                # as long again for 1M rows of 10M (scripts/bench_merchant_admin.py).
                cursor.execute("SET LOCAL enable_hashjoin = off")
                with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
                    # One row per read, in UTF-8, ending in LF where csv.writer (and Excel) end
                    # rows in CRLF; a newline inside a quoted cell stays as csv.writer leaves it.
                    for row in copy:
                        buffer += row[:-1]
                        buffer += b"\r\n"
                        count += 1
                        if len(buffer) >= EXPORT_BUFFER_BYTES:
                            out.write(buffer.decode())
                            buffer.clear()
            out.write(buffer.decode())
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
    export.row_count = count
    export.status = ExportFile.Status.DONE
    export.finished_at = timezone.now()
    export.save(update_fields=["file", "size", "row_count", "status", "finished_at"])
    return export


EXPORT_BUFFER_BYTES = 1 << 20


def _export_query(export: ExportFile):
    """The header and the rows' query, in the site's language and time zone."""
    from merchants.portal.selectors import HistoryFilters, export_value_types, payment_export_rows

    scope = export_scope(export)
    filters = HistoryFilters.from_json(export.filters)
    value_types = list(export_value_types(scope=scope, filters=filters).select_related("programme"))
    several = len({vt.programme_id for vt in value_types}) > 1
    with translation.override(settings.LANGUAGE_CODE):
        header = [str(column) for column in EXPORT_HEADER] + [
            str(SPLIT_HEADER)
            % {"product": f"{vt.name}（{vt.programme.name}）" if several else vt.name}
            for vt in value_types
        ]
        rows = payment_export_rows(
            scope=scope,
            filters=filters,
            value_types=value_types,
            cancelled_label=str(_("Cancelled")),
            mode_labels={str(value): str(label) for value, label in Payment.Mode.choices},
            time_zone=timezone.get_current_timezone_name(),
        )
    return header, rows


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
