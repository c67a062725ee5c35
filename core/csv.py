"""CSV cells that a spreadsheet will not run as formulas (CSV injection, OWASP)."""

# What Excel and LibreOffice start a formula with.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(cell: str) -> bool:
    """`=cmd|…`, `@SUM(…)`, `+A1`: a spreadsheet would run it. A signed number is not one."""
    if not cell.startswith(FORMULA_STARTS):
        return False
    return not cell[1:].replace(",", "").replace(".", "").isdigit()


def safe_cell(value):
    """A text cell a spreadsheet shows as typed: a formula start gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
