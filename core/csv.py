"""CSV files that people open in Excel: a cell that starts like a formula stays text.

A cell beginning with = + - @ TAB or CR would be run by Excel (=cmd|… is the classic attack on
an exported file): it is written with a leading apostrophe, which Excel shows as text.
Numbers are written as they are, so a negative amount stays a number. Files we read (imports)
are refused when a cell looks like a formula. A file PostgreSQL writes itself (COPY … CSV) gets
the same rule in SQL from `safe_cell_sql`.
"""

import csv

from django.db.models import Case, TextField, Value, When
from django.db.models.functions import Concat, Left
from django.db.models.lookups import In

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(cell: str) -> bool:
    """`=cmd|…`, `@SUM(…)`, `+A1`: a spreadsheet would run it. A signed number is not one."""
    if not cell.startswith(FORMULA_STARTS):
        return False
    return not cell[1:].replace(",", "").replace(".", "").isdigit()


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_cell_sql(expression):
    """safe_cell as an SQL expression over a text column (NULL stays NULL)."""
    return Case(
        When(In(Left(expression, 1), FORMULA_STARTS), then=Concat(Value("'"), expression)),
        default=expression,
        output_field=TextField(),
    )


class SafeWriter:
    """csv.writer whose rows go through safe_cell."""

    def __init__(self, out, **kwargs):
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row) -> None:
        self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)
