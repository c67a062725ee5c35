"""Japanese first: every user-facing string in the code and templates has a Japanese translation."""

import shutil
import subprocess
import sys
from pathlib import Path

from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    "core",
    "config",
    "merchants",
    "wallets",
    "payments",
    "settlement",
    "templates",
    "locale",
    "manage.py",
]


def test_japanese_catalogue_is_complete_and_current(tmp_path):
    # Extract the strings afresh from a copy, so a stale committed catalogue fails too.
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, tmp_path / name)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ja", "--no-obsolete", "-v", "0"],
        cwd=tmp_path,
        check=True,
    )
    po = tmp_path / "locale/ja/LC_MESSAGES/django.po"
    result = subprocess.run(
        ["msgfmt", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "translated messages" in result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


def test_domain_errors_speak_japanese_and_english():
    from wallets.exceptions import InsufficientBalance

    with translation.override("ja"):
        assert (
            str(InsufficientBalance(available="1,120"))
            == "残高が不足しています。このお店で使える残高は 1,120 円です。"
        )
    with translation.override("en"):
        assert "1,120 yen" in str(InsufficientBalance(available="1,120"))
