"""Money and numbers written the manuals' way: 1,120 円."""


def grouped(value: int) -> str:
    """1120 -> '1,120' whatever the language (the manuals group yen in threes)."""
    return f"{int(value):,}"


def yen(value) -> str:
    """1120 -> '1,120 円'; empty for no value."""
    if value in (None, ""):
        return ""
    return f"{grouped(value)} 円"


def duration(value) -> str:
    """A cancel window as people say it: "24時間", "90日" (English: "24 hours", "90 days")."""
    from django.utils.translation import ngettext

    hours = int(value.total_seconds() // 3600)
    if hours % 24 == 0 and hours >= 48:
        return ngettext("%(n)d day", "%(n)d days", hours // 24) % {"n": hours // 24}
    return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}


def masked(value: str, *, shown: int = 4) -> str:
    """'000000001234' -> '********1234': a receipt names the ticket without giving it away."""
    value = str(value)
    return "*" * max(len(value) - shown, 0) + value[-shown:]
