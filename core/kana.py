"""Half-width katakana, as banks' transfer files and account names require."""

import unicodedata

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

digits = RegexValidator(r"^\d+$", _("Enter digits only."))
half_width_kana = RegexValidator(
    r"^[ｦ-ﾟA-Z0-9 ()\-.,/]+$",
    _("Enter half-width katakana, upper-case letters, digits and spaces only."),
)

_SMALL_TO_LARGE = str.maketrans("ｧｨｩｪｫｬｭｮｯ", "ｱｲｳｴｵﾔﾕﾖﾂ")
_FULL_TO_HALF = {}
for _code in range(0xFF66, 0xFFA0):
    _half = chr(_code)
    _full = unicodedata.normalize("NFKC", _half)
    if (len(_full) == 1 and "ァ" <= _full <= "ヺ") or _full == "ー":
        _FULL_TO_HALF[_full] = _half
_FULL_TO_HALF["\u3099"] = "ﾞ"  # combining voiced mark, from NFD of ガ etc.
_FULL_TO_HALF["\u309a"] = "ﾟ"
_FULL_TO_HALF["ヴ"] = "ｳﾞ"
_FULL_TO_HALF["　"] = " "


def to_half_width_kana(text: str) -> str:
    """Full-width kana, hiragana and ASCII to the half-width upper-case form banks expect."""
    out = []
    for char in unicodedata.normalize("NFD", text):
        if "ぁ" <= char <= "ゖ":
            char = chr(ord(char) + 0x60)  # hiragana -> katakana
        if "\uff61" <= char <= "\uff9f":
            out.append(char)  # already half-width kana
        elif char in _FULL_TO_HALF:
            out.append(_FULL_TO_HALF[char])
        else:
            out.append(unicodedata.normalize("NFKC", char).upper())
    return "".join(out).translate(_SMALL_TO_LARGE)


def normalise_kana_fields(obj, names) -> None:
    """For model clean_fields(): convert what people type into the accepted half-width form."""
    for name in names:
        value = getattr(obj, name)
        if value:
            setattr(obj, name, to_half_width_kana(value).strip())
