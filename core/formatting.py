"""Money and numbers written the manuals' way: 1,120 円."""


def grouped(value: int) -> str:
    """1120 -> '1,120' whatever the language (the manuals group yen in threes)."""
    return f"{int(value):,}"


def yen(value) -> str:
    """1120 -> '1,120 円'; empty for no value."""
    if value in (None, ""):
        return ""
    return f"{grouped(value)} 円"


def masked(value: str, *, shown: int = 4) -> str:
    """'000000001234' -> '********1234': a receipt names the ticket without giving it away."""
    value = str(value)
    return "*" * max(len(value) - shown, 0) + value[-shown:]
