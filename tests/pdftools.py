"""Read PDFs back the way a person or a scanner does: poppler's pdftotext, pdftoppm, pdffonts and
zbar's zbarimg (poppler-utils and zbar-tools, installed by scripts/setup.sh)."""

import subprocess
import tempfile
from pathlib import Path


def _run(*args, data: bytes | None = None) -> str:
    return subprocess.run(
        args, input=data, capture_output=True, check=True, timeout=120
    ).stdout.decode()


def pdf_text(data: bytes, *, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return _run("pdftotext", "-layout", *pages, "-", "-", data=data)


def pdf_pages(data: bytes) -> int:
    info = _run("pdfinfo", "-", data=data)
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


def pdf_fonts(data: bytes) -> list[dict]:
    """One row per font: name, type, embedded and subset (yes/no)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(data)
        file.flush()
        lines = _run("pdffonts", file.name).splitlines()[2:]
    rows = []
    for line in lines:
        parts = line.split()
        # name type [type…] encoding emb sub uni object ID
        rows.append(
            {"name": parts[0], "embedded": parts[-5] == "yes", "subset": parts[-4] == "yes"}
        )
    return rows


def pdf_qr_codes(data: bytes, *, page: int = 1, dpi: int = 150) -> list[str]:
    """Every QR code zbarimg finds on the page rendered at `dpi`."""
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "page.png"
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                str(dpi),
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                "-",
                str(png.with_suffix("")),
            ],
            input=data,
            check=True,
            timeout=120,
        )
        result = subprocess.run(
            ["zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
            capture_output=True,
            timeout=120,
        )
    return [line for line in result.stdout.decode().splitlines() if line]


def pdf_has_images(data: bytes) -> bool:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(data)
        file.flush()
        return len(_run("pdfimages", "-list", file.name).splitlines()) > 2
