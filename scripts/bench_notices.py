#!/usr/bin/env python
"""Notice benchmark: 交付通知書 for 30,000 households in one PDF (and the vendor CSV).

Builds its own database (voucher_bench_notices) and media folder, both removed at the end, also
when something fails (unless --keep): a programme with two value types, 30,000 residents with
addresses and names drawn from a few hundred kanji (so the font subset is realistic), their
tickets from one import and their grants. Then times the real `print_notices --import` command
in a child process: wall seconds, peak RSS, PDF and CSV size, and checks the file (page count,
embedded fonts). Usage:

    .venv/bin/python scripts/bench_notices.py                 # 30,000 households
    .venv/bin/python scripts/bench_notices.py --households 2000
"""

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
from benchdb import bench_url, drop_database, recreate_database  # noqa: E402

DB = "voucher_bench_notices"
FAMILY = "佐藤鈴木高橋田中伊藤渡辺山本中村小林加藤吉田山田佐々木山口松本井上木村林斎藤清水山崎森池橋本阿部石川前田藤田小川後藤岡田長谷川村上近藤石井坂本遠藤青木藤井西村福田太田三浦藤原岡本松田中川中野原田小野竹内金子和田中山石田上田森田原柴田酒井工藤横山宮崎宮本内田高木安藤谷口大野丸山今井河野藤本村田武田上野杉山増田平野大塚千葉久保松井小島岩崎桜井野口松尾野村木下菊地佐野大西杉本新井浜田菅原市川水野小松島田古川小山高野西田菅野"
GIVEN = "太郎花子一郎次郎三郎健二美咲陽菜結衣大翔蓮湊樹悠真葵凛翼颯優奈美月陽向愛莉心春千尋直人和也智子恵子洋子幸子正男博之浩二誠実聡明裕香織康介拓海翔太彩乃真央茜楓雅人"
TOWNS = [
    "中央区本町",
    "北区緑が丘",
    "南区桜台",
    "東区旭町",
    "西区若葉",
    "港区海岸通",
    "城山町",
    "新町",
]


def generate(households: int) -> int:
    from datetime import date

    from django.db import connection, transaction

    from core.checkdigit import damm_digit
    from wallets.models import ImportRun, Programme, Resident, ValueType, Wallet

    rng = random.Random(9)
    programme = Programme.objects.create(
        code="bench",
        name="ベンチ市プレミアム付商品券",
        issuer="ベンチ市",
        starts_on=date(2026, 10, 1),
        ends_on=date(2027, 3, 31),
        contact="ベンチ市 商工観光課 商品券係 電話 0120-000-000（平日 9時〜17時）",
    )
    common = ValueType.objects.create(
        programme=programme, code="common", name="共通券", expires_on=date(2027, 3, 31)
    )
    local = ValueType.objects.create(
        programme=programme,
        code="local",
        name="専用券",
        small_local_only=True,
        expires_on=date(2027, 3, 31),
    )
    run = ImportRun.objects.create(
        programme=programme, kind=ImportRun.Kind.RESIDENTS, filename="bench.csv", digest="0" * 64
    )
    families = [FAMILY[i : i + 2] for i in range(0, len(FAMILY) - 1, 2)]
    givens = [GIVEN[i : i + 2] for i in range(0, len(GIVEN) - 1, 2)]
    with transaction.atomic():
        residents = Resident.objects.bulk_create(
            [
                Resident(
                    external_id=f"H{i:07d}",
                    name=f"{rng.choice(families)} {rng.choice(givens)}",
                    postal_code=f"{rng.randrange(100, 999)}-{rng.randrange(10000):04d}",
                    address=f"ベンチ市{rng.choice(TOWNS)}{rng.randrange(1, 9)}丁目"
                    f"{rng.randrange(1, 40)}-{rng.randrange(1, 30)}"
                    + (f" ベンチハイツ{rng.randrange(101, 999)}号室" if i % 3 == 0 else ""),
                )
                for i in range(households)
            ],
            batch_size=5_000,
        )
        Wallet.objects.bulk_create(
            [
                Wallet(
                    programme=programme,
                    resident=resident,
                    ticket_number=f"{resident.pk:011d}{damm_digit(f'{resident.pk:011d}')}",
                    pin_hash="!",
                    imported_by=run,
                )
                for resident in residents
            ],
            batch_size=5_000,
        )
    p = {"programme": programme.pk, "common": common.pk, "local": local.pk}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO wallets_account (programme_id, kind, wallet_id, value_type_id, balance)
               SELECT %(programme)s, 'wallet', w.id, vt.id, 0
               FROM wallets_wallet w CROSS JOIN (VALUES (%(common)s), (%(local)s)) vt(id);
               INSERT INTO wallets_account (programme_id, kind, balance)
               VALUES (%(programme)s, 'issuance', 0)""",
            p,
        )
    # Balances as the grants leave them: 10,000 yen 共通券 and 3,000 yen 専用券 each, one balanced
    # entry per wallet and value type (issuance −, wallet +). In steps of 1,000 wallets: every
    # posting updates the one issuance row, and a transaction's row versions of it pile up.
    ids = list(Wallet.objects.filter(programme=programme).values_list("pk", flat=True))
    for first in range(0, len(ids), 1_000):
        chunk = ids[first : first + 1_000]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """CREATE TEMP TABLE g ON COMMIT DROP AS
                   SELECT nextval('wallets_journalentry_id_seq') AS entry_id, a.id AS account_id,
                          CASE WHEN a.value_type_id = %(common)s THEN 10000 ELSE 3000 END AS amount
                   FROM wallets_account a
                   WHERE a.kind = 'wallet' AND a.wallet_id BETWEEN %(low)s AND %(high)s;
                   INSERT INTO wallets_journalentry (id, programme_id, kind, created_at, memo)
                   SELECT entry_id, %(programme)s, 'grant', now(), '' FROM g;
                   INSERT INTO wallets_posting (entry_id, account_id, amount)
                   SELECT entry_id, account_id, amount FROM g
                   UNION ALL
                   SELECT entry_id, (SELECT id FROM wallets_account WHERE kind = 'issuance'),
                          -amount FROM g""",
                p | {"low": chunk[0], "high": chunk[-1]},
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return run.pk


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=30_000)
    parser.add_argument("--keep", action="store_true", help="keep the database and files")
    args = parser.parse_args()

    url = bench_url(DB)
    media = tempfile.mkdtemp(prefix="bench-notices-")
    os.environ["DATABASE_URL"] = url
    os.environ["MEDIA_ROOT"] = media
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    recreate_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        run_id = generate(args.households)
        print(
            f"{args.households:,} households ready in {time.perf_counter() - started:.0f} s",
            flush=True,
        )

        out = Path(media) / "out" / "notices.pdf"
        command = [
            sys.executable,
            str(BASE / "manage.py"),
            "print_notices",
            "--programme=bench",
            f"--import={run_id}",
            f"--out={out}",
        ]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=os.environ)
        seconds = time.perf_counter() - started
        if done.returncode:
            raise SystemExit(f"print_notices failed:\n{done.stdout}\n{done.stderr}")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        pdf_size, csv_size = out.stat().st_size, out.with_suffix(".csv").stat().st_size
        info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
        pages = int(next(x.split()[1] for x in info.splitlines() if x.startswith("Pages:")))
        fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True).stdout
        embedded = all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])
        print(
            f"notices: {pages:,} pages in {seconds:.1f} s ({pages / seconds:.0f} pages/s), "
            f"peak RSS {peak:.0f} MB, PDF {pdf_size / 1e6:.1f} MB "
            f"({pdf_size / pages / 1000:.1f} kB/page), CSV {csv_size / 1e6:.1f} MB, "
            f"fonts embedded: {'yes' if embedded else 'NO'}"
        )
        if pages != args.households or not embedded:
            raise SystemExit("the PDF is not what was asked for")
    finally:
        if not args.keep:
            drop_database(url)
            shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    main()
