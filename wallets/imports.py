"""CSV imports (取込): residents with their tickets, and grants to existing tickets.

A file is checked in full first (the dry run stops there), then applied by the background
worker in chunks of `CHUNK_ROWS`. Each chunk and the run's progress commit together, so a run
that was killed resumes where it stopped; every row is idempotent besides (a resident by the
city's external ID, a wallet by resident and programme, a grant by its key), so the same file
again, or one that overlaps an earlier file, creates and grants nothing twice.
"""

import csv
import hashlib
import io
import unicodedata
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.audit import audit_log
from core.csv import looks_like_formula
from core.formatting import grouped
from wallets import ledger
from wallets.models import ImportRun, Programme, Resident, ValueType, Wallet, new_ticket_number

MAX_FILE_BYTES = 20 * 1024 * 1024  # 30,000 households are about 5 MB
MAX_GRANT = 1_000_000  # per row: an extra zero is a typo, not a grant
CHUNK_ROWS = 1000

RESIDENT_COLUMNS = ["external_id", "name", "name_kana", "postal_code", "address"]
GRANT_COLUMNS = ["ticket_number", "value_type", "amount"]
# Optional on both: value_type/amount (residents), memo (grants), paid_amount (購入額).
OPTIONAL_COLUMNS = {
    ImportRun.Kind.RESIDENTS: ["value_type", "amount", "paid_amount"],
    ImportRun.Kind.GRANTS: ["memo", "paid_amount"],
}
REQUIRED_COLUMNS = {
    ImportRun.Kind.RESIDENTS: RESIDENT_COLUMNS,
    ImportRun.Kind.GRANTS: GRANT_COLUMNS,
}


class FileRejected(Exception):
    """The whole file is refused (encoding, header, size, a formula): nothing is written."""


@dataclass
class Row:
    line: int
    key: str  # external_id or ticket number, as the rejected-rows list shows it
    values: dict
    error: str = ""


@dataclass
class Plan:
    """A checked file: its rows, and what applying it would do."""

    run: ImportRun
    text_digest: str
    rows: list[Row] = field(default_factory=list)

    @property
    def accepted(self) -> list[Row]:
        return [row for row in self.rows if not row.error]

    @property
    def rejected(self) -> list[Row]:
        return [row for row in self.rows if row.error]


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode_csv(data: bytes) -> str:
    """Excel in Japan writes Shift_JIS (cp932) or UTF-8 with a BOM; accept both."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp932")
        except UnicodeDecodeError:
            raise FileRejected(_("The file is neither UTF-8 nor Shift_JIS text.")) from None


def read_records(data: bytes, kind: str) -> tuple[str, list[tuple[int, dict]]]:
    """The text, and (line, {column: cleaned cell}) of every non-empty row; FileRejected for a
    bad file."""
    if len(data) > MAX_FILE_BYTES:
        raise FileRejected(
            _("The file is larger than %(limit)s MB: split it into several files.")
            % {"limit": MAX_FILE_BYTES // (1024 * 1024)}
        )
    text = decode_csv(data)
    if "\x00" in text:
        raise FileRejected(_("The file is not a CSV text file."))
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [unicodedata.normalize("NFKC", h).strip().lower() for h in next(reader, [])]
    required, optional = REQUIRED_COLUMNS[kind], OPTIONAL_COLUMNS[kind]
    if set(required) - set(header) or set(header) - set(required) - set(optional):
        raise FileRejected(
            _("The first line must name the columns: %(columns)s (optional: %(optional)s).")
            % {"columns": ",".join(required), "optional": ",".join(optional)}
        )
    records = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            line = reader.line_num
            for cell in cells:
                if looks_like_formula(cell.strip()):
                    raise FileRejected(
                        _(
                            "Line %(line)s holds a spreadsheet formula (%(cell)s): remove it;"
                            " nothing was imported."
                        )
                        % {"line": grouped(line), "cell": cell.strip()[:20]}
                    )
            values = {
                name: unicodedata.normalize("NFKC", cells[i]).strip() if i < len(cells) else ""
                for i, name in enumerate(header)
            }
            if len(cells) > len(header):
                values["_extra"] = "1"
            records.append((line, values))
    except csv.Error as error:
        raise FileRejected(
            _("Line %(line)s cannot be read as CSV (%(error)s).")
            % {"line": grouped(reader.line_num), "error": error}
        ) from None
    if not records:
        raise FileRejected(_("The file has no rows below its header."))
    return text, records


def _yen(text: str, *, allow_zero=False) -> int | None:
    """`12,000`, `12000円`, full-width digits (already NFKC): the number, else None."""
    text = text.replace(",", "").removesuffix("円").strip()
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    if value > MAX_GRANT or (value == 0 and not allow_zero):
        return None
    return value


def _check_grant(values: dict, value_types: dict) -> tuple[ValueType | None, int, int, str]:
    """(value type, amount, paid, error) of a row's optional or required grant columns."""
    code, amount_text = values.get("value_type", ""), values.get("amount", "")
    paid_text = values.get("paid_amount", "")
    if not code and not amount_text and not paid_text:
        return None, 0, 0, ""
    value_type = value_types.get(code)
    if value_type is None:
        return (
            None,
            0,
            0,
            _("Unknown value type “%(code)s”: use %(codes)s.")
            % {
                "code": code,
                "codes": ", ".join(sorted({vt.code for vt in value_types.values()})),
            },
        )
    amount = _yen(amount_text)
    if amount is None:
        return (
            None,
            0,
            0,
            _("The amount must be a whole number of yen from 1 to %(max)s.")
            % {"max": grouped(MAX_GRANT)},
        )
    paid = _yen(paid_text, allow_zero=True) if paid_text else 0
    if paid is None or paid > amount:
        return (
            None,
            0,
            0,
            _(
                "The purchase price (paid_amount) must be a whole number of yen from 0 to the amount."
            ),
        )
    return value_type, amount, paid, ""


def _resident_row(line: int, values: dict, value_types: dict) -> Row:
    row = Row(line=line, key=values.get("external_id", ""), values=values)
    missing = [
        name for name in ("external_id", "name", "postal_code", "address") if not values[name]
    ]
    postal = values["postal_code"].replace("〒", "").replace("-", "").replace("ー", "")
    if values.get("_extra"):
        row.error = _("The row has more cells than the header.")
    elif missing:
        row.error = _("Missing: %(columns)s.") % {"columns": ", ".join(missing)}
    elif len(row.key) > 50 or len(values["name"]) > 100 or len(values["name_kana"]) > 100:
        row.error = _("Too long: external_id up to 50, name and name_kana up to 100 characters.")
    elif len(values["address"]) > 200:
        row.error = _("The address is longer than 200 characters.")
    elif not (postal.isascii() and postal.isdigit() and len(postal) == 7):
        row.error = _("The postal code must have 7 digits, e.g. 123-4567.")
    else:
        values["postal_code"] = f"{postal[:3]}-{postal[3:]}"
        row.values["grant"] = _check_grant(values, value_types)
        row.error = row.values["grant"][3]
    return row


def _grant_row(line: int, values: dict, value_types: dict, wallets: dict) -> Row:
    ticket = "".join(ch for ch in values["ticket_number"] if ch.isdigit())
    row = Row(line=line, key=ticket or values["ticket_number"], values=values)
    values["wallet"] = wallets.get(ticket)
    if values.get("_extra"):
        row.error = _("The row has more cells than the header.")
    elif values["wallet"] is None:
        row.error = _("No ticket with this number in this programme.")
    elif len(values.get("memo", "")) > 200:
        row.error = _("The memo is longer than 200 characters.")
    else:
        values["grant"] = _check_grant(values, value_types)
        row.error = values["grant"][3]
        if not row.error and values["grant"][0] is None:
            row.error = _("Give the value type and the amount.")
    return row


def import_plan(run: ImportRun, data: bytes) -> Plan:
    """Every row checked; FileRejected for a bad file. Nothing is written."""
    programme = run.programme
    text, records = read_records(data, run.kind)
    value_types = {vt.code: vt for vt in programme.value_types.all()}
    value_types |= {vt.name: vt for vt in value_types.values()}  # the name as the city writes it
    plan = Plan(run=run, text_digest=hashlib.sha256(text.encode()).hexdigest())
    if run.kind == ImportRun.Kind.RESIDENTS:
        plan.rows = [_resident_row(line, values, value_types) for line, values in records]
        lines_of: dict[str, list[int]] = {}
        for row in plan.rows:
            lines_of.setdefault(row.key, []).append(row.line)
        for row in plan.rows:
            if row.key and len(lines_of[row.key]) > 1:
                row.error = _(
                    "This external_id is in the file more than once (lines %(lines)s)."
                ) % {"lines": ", ".join(grouped(n) for n in lines_of[row.key])}
    else:
        numbers = ["".join(ch for ch in v["ticket_number"] if ch.isdigit()) for _line, v in records]
        wallets = {}
        for start in range(0, len(numbers), 5000):
            wallets |= Wallet.objects.filter(
                programme=programme, ticket_number__in=numbers[start : start + 5000]
            ).in_bulk(field_name="ticket_number")
        plan.rows = [_grant_row(line, values, value_types, wallets) for line, values in records]
    return plan


def _grant_key(plan: Plan, row: Row) -> str:
    run = plan.run
    value_type = row.values["grant"][0]
    if run.kind == ImportRun.Kind.RESIDENTS:
        # By household and value type: a later or overlapping file grants it only once.
        return f"import:{run.programme_id}:{row.key}:{value_type.pk}"
    # By file and line, as the synchronous bulk grant keyed them: the same file grants once.
    return f"grant-csv:{run.programme_id}:{plan.text_digest[:20]}:{row.line}"


def _wallets_for(run: ImportRun, rows: list[Row]) -> tuple[dict[str, int], int]:
    """{external_id: wallet id} for these rows, creating what is missing; and how many were new."""
    programme = run.programme
    ids = [row.key for row in rows]
    Resident.objects.bulk_create(
        [
            Resident(
                external_id=row.key,
                name=row.values["name"],
                name_kana=row.values["name_kana"],
                postal_code=row.values["postal_code"],
                address=row.values["address"],
            )
            for row in rows
        ],
        ignore_conflicts=True,
    )
    residents = dict(Resident.objects.filter(external_id__in=ids).values_list("external_id", "pk"))
    created = 0
    for _attempt in range(5):  # a new ticket number may collide with an existing one: draw again
        wallets = dict(
            Wallet.objects.filter(
                programme=programme, resident_id__in=residents.values()
            ).values_list("resident__external_id", "pk")
        )
        missing = [external_id for external_id in ids if external_id not in wallets]
        if not missing:
            return wallets, created
        # No PIN yet: the notice issues it (wallets.services.wallet_credentials_issue).
        unusable = make_password(None)
        made = Wallet.objects.bulk_create(
            [
                Wallet(
                    programme=programme,
                    resident_id=residents[external_id],
                    ticket_number=new_ticket_number(),
                    pin_hash=unusable,
                    imported_by=run,
                )
                for external_id in missing
            ],
            ignore_conflicts=True,
        )
        created += Wallet.objects.filter(
            ticket_number__in=[w.ticket_number for w in made], imported_by=run
        ).count()
    raise RuntimeError("could not draw unique ticket numbers")


class Superseded(Exception):
    """Another worker moved this run on (it was started again while still running)."""


def _apply_chunk(plan: Plan, rows: list[Row], start: int) -> None:
    """One chunk's residents, wallets and grants, and the run's progress, in one transaction.

    The run's row is locked and must still say `start` rows done, so two workers on one run
    (run again while the first still works) never count a chunk twice."""
    run = plan.run
    with transaction.atomic():
        done = ImportRun.objects.select_for_update().values_list("rows_done", flat=True)
        if done.get(pk=run.pk) != start:
            raise Superseded()
        created = 0
        if run.kind == ImportRun.Kind.RESIDENTS:
            wallet_of, created = _wallets_for(run, rows)
        else:
            wallet_of = {row.key: row.values["wallet"].pk for row in rows}
        granting = [row for row in rows if row.values["grant"][0] is not None]
        lines = [
            ledger.GrantLine(
                wallet_id=wallet_of[row.key],
                value_type_id=row.values["grant"][0].pk,
                amount=row.values["grant"][1],
                paid=row.values["grant"][2],
                idempotency_key=_grant_key(plan, row),
            )
            for row in granting
        ]
        result = ledger.grant_many(
            programme=run.programme,
            lines=lines,
            actor=run.created_by,
            memo=_("Import #%(id)s") % {"id": run.pk},
        )
        conflicts = []
        for row, line in zip(granting, lines, strict=True):
            if line.idempotency_key in result.conflicts:
                conflicts.append(
                    {
                        "line": row.line,
                        "key": row.key,
                        "reason": _(
                            "Already granted %(amount)s yen of this value type by an earlier file:"
                            " not granted again."
                        )
                        % {"amount": grouped(result.conflicts[line.idempotency_key])},
                    }
                )
        ImportRun.objects.filter(pk=run.pk).update(
            rows_done=F("rows_done") + len(rows),
            created_count=F("created_count") + created,
            granted_count=F("granted_count") + result.granted,
            granted_total=F("granted_total") + result.total,
            rejected=run.rejected + conflicts if conflicts else F("rejected"),
            updated_at=timezone.now(),
        )
        run.rejected = run.rejected + conflicts


def _preview(plan: Plan) -> tuple[int, int, int]:
    """What applying would create and grant (for the dry run): new tickets, grants, yen."""
    run, accepted = plan.run, plan.accepted
    if run.kind == ImportRun.Kind.RESIDENTS:
        existing = set()
        for start in range(0, len(accepted), 5000):
            existing |= set(
                Wallet.objects.filter(
                    programme=run.programme,
                    resident__external_id__in=[r.key for r in accepted[start : start + 5000]],
                ).values_list("resident__external_id", flat=True)
            )
        new_tickets = sum(1 for row in accepted if row.key not in existing)
    else:
        new_tickets = 0
    granting = [row for row in accepted if row.values["grant"][0] is not None]
    used = set()
    keys = [_grant_key(plan, row) for row in granting]
    for start in range(0, len(keys), 5000):
        used |= set(
            ledger.JournalEntry.objects.filter(
                idempotency_key__in=keys[start : start + 5000]
            ).values_list("idempotency_key", flat=True)
        )
    new = [row for row, key in zip(granting, keys, strict=True) if key not in used]
    return new_tickets, len(new), sum(row.values["grant"][1] for row in new)


def import_run(run: ImportRun, *, language: str = "ja", progress=None) -> ImportRun:
    """Check and (unless a dry run) apply a run's file; resumes a run that was stopped."""
    with translation.override(language):
        return _import_run(run, progress)


def _import_run(run: ImportRun, progress) -> ImportRun:
    if run.finished:
        return run
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING)
    with run.file.open("rb") as f:
        data = f.read()
    try:
        plan = import_plan(run, data)
    except FileRejected as error:
        return _finish(run, ImportRun.Status.REJECTED, error=str(error))
    rejected = [{"line": r.line, "key": r.key, "reason": r.error} for r in plan.rejected]
    accepted = plan.accepted
    ImportRun.objects.filter(pk=run.pk).update(rows_total=len(plan.rows))
    run.rows_total = len(plan.rows)
    if run.dry_run or (run.kind == ImportRun.Kind.GRANTS and rejected):
        # Grants by ticket are all or nothing: their keys are per line, so a corrected file
        # (another digest) would grant the good rows again.
        run.created_count, run.granted_count, run.granted_total = _preview(plan)
        run.rows_done = len(plan.rows)
        run.rejected = rejected
        status = (
            ImportRun.Status.REJECTED if rejected and not run.dry_run else ImportRun.Status.DONE
        )
        return _finish(run, status)
    # Resume: rows_done counts accepted rows applied by committed chunks.
    if run.rows_done == 0:
        run.rejected = rejected
        ImportRun.objects.filter(pk=run.pk).update(rejected=rejected)
    for start in range(run.rows_done, len(accepted), CHUNK_ROWS):
        chunk = accepted[start : start + CHUNK_ROWS]
        try:
            _apply_chunk(plan, chunk, start)
        except Superseded:
            run.refresh_from_db()
            return run
        if progress:
            progress(start + len(chunk), len(accepted))
    run.refresh_from_db()
    run.rows_done = run.rows_total  # rejected rows are done too: they were reported
    return _finish(run, ImportRun.Status.DONE)


def _finish(run: ImportRun, status: str, *, error: str = "") -> ImportRun:
    run.status, run.error, run.finished_at = status, error, timezone.now()
    run.save(
        update_fields=[
            "status",
            "error",
            "finished_at",
            "rows_total",
            "rows_done",
            "created_count",
            "granted_count",
            "granted_total",
            "rejected",
            "updated_at",
        ]
    )
    audit_log(
        action="wallets.import.checked" if run.dry_run else "wallets.import.applied",
        actor=run.created_by,
        obj=run,
        programme=run.programme.code,
        kind=run.kind,
        status=status,
        file=run.filename,
        digest=run.digest,
        rows=run.rows_total,
        rejected=len(run.rejected),
        created=run.created_count,
        granted=run.granted_count,
        total=run.granted_total,
    )
    return run


def import_start(*, programme: Programme, kind: str, upload, dry_run: bool, actor) -> ImportRun:
    """The run, its file kept through the storage API so any server's worker can read it.
    The caller queues `wallets.tasks.run_import` (or runs `import_run` itself)."""
    data = upload.read()
    run = ImportRun(
        programme=programme,
        kind=kind,
        dry_run=dry_run,
        filename=upload.name[:200],
        digest=file_digest(data),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    upload.seek(0)
    run.file.save(f"{run.digest[:16]}.csv", upload, save=False)
    run.save()
    return run
