#!/usr/bin/env python
"""Import benchmark: 30,000 households, each created with a ticket and granted, from one CSV.

Builds its own database (voucher_bench_import, dropped at the end unless --keep), writes a
city-style Shift_JIS file, then times the real `import_residents` command in a child process
(the worker runs the same code) and reports wall time and peak RSS; then the same file again
(nothing to do) and `check_ledger`. Usage:

    .venv/bin/python scripts/bench_import.py                 # 30,000 households
    .venv/bin/python scripts/bench_import.py --households 2000
"""

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
from benchdb import bench_url, drop_database, recreate_database, run_child  # noqa: E402

DB = "voucher_bench_import"
SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]


def write_file(path: Path, households: int) -> None:
    with path.open("w", encoding="cp932", newline="") as f:
        f.write("external_id,name,name_kana,postal_code,address,value_type,amount,paid_amount\r\n")
        for n in range(households):
            f.write(
                f"{100000 + n},{SURNAMES[n % 10]} 太郎{n},タロウ,{9800000 + n % 999:07d},"
                f"青葉市中央{n % 9 + 1}丁目{n % 30 + 1}-{n % 17 + 1},common,13000,10000\r\n"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=30_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    url = bench_url(DB)
    os.environ["DATABASE_URL"] = url
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    os.environ["MEDIA_ROOT"] = str(work / "media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    recreate_database(url)
    import django

    django.setup()
    from datetime import date

    from django.core.management import call_command

    try:
        call_command("migrate", verbosity=0)
        from wallets.models import Programme, ValueType

        programme = Programme.objects.create(
            code="bench",
            name="ベンチマーク商品券",
            issuer="ベンチ市",
            starts_on=date(2026, 10, 1),
            ends_on=date(2027, 3, 31),
        )
        ValueType.objects.create(
            programme=programme, code="common", name="共通券", expires_on=date(2027, 3, 31)
        )
        csv_path = work / "households.csv"
        write_file(csv_path, args.households)
        size = csv_path.stat().st_size
        print(f"{args.households:,} households, {size / 1e6:.1f} MB Shift_JIS", flush=True)

        command = ["import_residents", "--programme=bench", str(csv_path)]
        seconds, peak_mb, output = run_child(*command)
        rate = args.households / seconds
        print(
            f"import + grant: {seconds:.1f} s ({rate:,.0f} households/s), peak RSS {peak_mb:.0f} MB"
        )
        print(f"  {output}")
        again, _peak, output = run_child(*command)
        print(f"the same file again: {again:.1f} s  ({output})")
        check, _peak, out = run_child("check_ledger")
        print(f"check_ledger: {check:.1f} s, {out.splitlines()[-1]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep:
            drop_database(url)


if __name__ == "__main__":
    main()
