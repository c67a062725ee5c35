from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

register = template.Library()


@register.filter
def yen(value) -> str:
    """1120 -> '1,120 円', the manuals' way of writing money."""
    if value in (None, ""):
        return ""
    return f"{intcomma(int(value), use_l10n=False)} 円"
