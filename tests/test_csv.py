"""core.csv: cells Excel would run as formulas are written as text."""

import csv
import io

import pytest

from core.csv import SafeWriter, safe_cell


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
