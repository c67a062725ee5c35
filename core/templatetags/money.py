from django import template

from core import formatting

register = template.Library()
register.filter("yen", formatting.yen)
register.filter("duration", formatting.duration)
