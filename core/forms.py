"""Form fields shared by every audience."""

import unicodedata

from django import forms


class YenField(forms.IntegerField):
    """Yen as people type them: `1,120`, `１，１２０`, `1120円`, `1,120 円`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = unicodedata.normalize("NFKC", value).replace(",", "").replace(" ", "")
            value = value.removesuffix("円")
        return super().to_python(value)
