"""core.csv: cells Excel would run as formulas are written as text."""

import csv
import io

import pytest
from django.db.models import F

from core.csv import SafeWriter, safe_cell, safe_cell_sql
from merchants.models import Company
from tests import factories


@pytest.mark.parametrize(
    "value", ["=1+1", "+81 3", "-2", "@SUM(A1)", "\tx", "\rx", "=cmd|' /C calc'!A0"]
)
def test_formula_starts_get_an_apostrophe(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["山田 太郎", "100-0001", "'quoted", "", -300, 0, None])
def test_other_cells_are_unchanged(value):
    assert safe_cell(value) == value


def test_writer_applies_it_to_every_cell():
    out = io.StringIO()
    SafeWriter(out).writerows([["=A1", -5, "ok"], ["@x", "a=b", "+"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["'=A1", "-5", "ok"],
        ["'@x", "a=b", "'+"],
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value", ["=1+1", "+81 3", "-2", "@SUM(A1)", "\tx", "\rx", "山田 太郎", "100-0001", "'q", ""]
)
def test_the_sql_rule_is_the_same_rule(value):
    """What COPY writes (the 利用実績 export) is made safe in SQL exactly as safe_cell does."""
    company = factories.company(name=value)
    cells = Company.objects.filter(pk=company.pk).annotate(cell=safe_cell_sql(F("name")))
    assert cells.values_list("cell", flat=True).get() == safe_cell(value)
