"""A4 PDFs drawn with reportlab: Japanese text as real text, fonts embedded, QR codes as vectors.

The font is IPAexGothic (Debian's fonts-ipaexfont, installed by scripts/setup.sh): TrueType
outlines, which reportlab embeds as subsets with a ToUnicode map, so `pdftotext` reads every
character. (reportlab cannot embed Noto CJK: its .ttc holds CFF outlines.) Why reportlab and
the figures behind the choice: docs/printing.md.

Layout is given in millimetres from the page's top-left corner, as a printed form is measured;
y is the text's baseline.
"""

import tempfile
import zlib
from contextlib import contextmanager
from datetime import date

import qrcode
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from core.formatting import yen

__all__ = ["A4_MM", "FONT", "Document", "date_ja", "qr_matrix", "yen"]

FONT_PATH = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
FONT = "IPAexGothic"
A4_MM = (210, 297)
INK = (0.12, 0.16, 0.2)
GREY = (0.37, 0.42, 0.48)
BLACK = (0, 0, 0)

# Flate alone: ASCII85 on top makes files 25 % larger and costs a third of the writing time.
rl_config.useA85 = 0


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, FONT_PATH))
    return FONT


def qr_matrix(data: str) -> list[list[bool]]:
    """The QR modules (no quiet zone), error correction M.

    The mask is fixed: trying all eight for the best score took 9 of the 10 ms a code cost, and
    every mask scans the same.
    """
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=0
    )
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def date_ja(day: date) -> str:
    """2026年11月04日: the site's DATE_FORMAT (config/formats/ja), so paper and screen agree."""
    return f"{day:%Y年%m月%d日}"


class _Compressed:
    """A stream 'filter' for content that is already Flate-compressed (see Document.show_page)."""

    pdfname = "FlateDecode"

    def encode(self, data):
        return data


_COMPRESSED = _Compressed()


class _SpilledStream(pdfdoc.PDFStream):
    """A page's compressed drawing, kept in a temporary file until the document is written."""

    _NO_ENTRIES = pdfdoc.PDFDictionary()  # format() copies it before adding /Length

    def __init__(self, spill, data: bytes):
        super().__init__(dictionary=self._NO_ENTRIES, filters=[_COMPRESSED])
        self.spill, self.at, self.length = spill, spill.tell(), len(data)
        spill.write(data)

    def format(self, document):
        self.spill.seek(self.at)
        self.content = self.spill.read(self.length)
        try:
            return super().format(document)
        finally:
            self.content = None


class _StreamingDocument(pdfdoc.PDFDocument):
    """reportlab's PDFDocument, saved object by object into the output file.

    reportlab's own save formats every object into a list and joins it (the whole file twice in
    memory, then written). This is its PDFDocument.format with each object written as it is
    formatted; a page and its content stream are let go once written.
    """

    def SaveToFile(self, out, canvas):
        for font in self.delayedFonts:
            font.addObjects(self)
        self.info.invariant = self.invariant
        self.info.digest(self.signature)
        self.Reference(self.Catalog)
        self.Reference(self.info)
        self.Outlines.prepare(self, canvas)
        if self.Outlines.ready < 0:
            self.Catalog.Outlines = None
        self._write(out)

    def _write(self, out):
        self.encrypt.prepare(self)
        catalog, info = self.Catalog, self.info
        self.Reference(catalog)
        self.Reference(info)
        encryptinfo = self.encrypt.info()
        encryptref = self.Reference(encryptinfo) if encryptinfo else None
        offset = 0

        def add(data) -> int:
            nonlocal offset
            data = pdfdoc.pdfdocEnc(data)
            start = offset
            out.write(data)
            offset += len(data)
            return start

        add(pdfdoc.PDFFile(self._pdfVersion).strings[0])  # the header
        ids, counter = [], 0
        while (counter := counter + 1) in self.numberToId:
            oid = self.numberToId[counter]
            obj = self.idToObject[oid]
            self.idToOffset[oid] = add(pdfdoc.PDFIndirectObject(oid, obj).format(self))
            ids.append(oid)
            if obj is self.Pages:
                obj.pages = []  # the kids are references now; the pages follow
            elif isinstance(obj, (pdfdoc.PDFPage, pdfdoc.PDFStream)):
                self.idToObject[oid] = None
        if counter - 1 != len(self.numberToId):
            raise ValueError("reportlab's object numbering changed while writing")
        xref = pdfdoc.PDFCrossReferenceTable()
        xref.addsection(0, ids)
        start = add(xref.format(self))
        trailer = pdfdoc.PDFTrailer(
            startxref=start,
            Size=len(self.numberToId) + 1,
            Root=self.Reference(catalog),
            Info=self.Reference(info),
            Encrypt=encryptref,
            ID=self.ID(),
        )
        add(trailer.format(self))


class Document:
    """One PDF of A4 pages written to `out` (a binary file object) on close().

    reportlab keeps every page until it writes the file. Here each page's drawing is compressed
    as soon as the page ends and moved to a temporary file (_SpilledStream), and the file is
    written object by object (_StreamingDocument): a 30,000-page file needs about 3 kB of memory
    a page (reportlab alone: 10 kB, and the whole file twice more while saving).
    """

    def __init__(self, out, *, title: str = "", author: str = ""):
        self.font = _font()
        # The initial font is ours, so no unembedded Helvetica is listed in the file.
        self.canvas = Canvas(
            out, pagesize=A4, pageCompression=1, initialFontName=self.font, initialFontSize=10
        )
        self.canvas._doc.__class__ = _StreamingDocument
        self.canvas.setTitle(title)
        self.canvas.setAuthor(author)
        self.canvas.setCreator("voucher")
        self.height = A4[1]
        self.pages = 0
        self._spill = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())

    # -- pages --------------------------------------------------------------------------

    def show_page(self) -> None:
        self.canvas.showPage()
        page = self.canvas._doc.Pages.pages[-1]
        self._spill.seek(0, 2)
        page.Contents = _SpilledStream(self._spill, zlib.compress(page.stream.encode("utf8"), 6))
        page.stream = None
        self.pages += 1

    def close(self) -> None:
        try:
            self.canvas.save()
        finally:
            self._spill.close()

    @contextmanager
    def form(self, name: str):
        """Draw once what every page repeats (a Form XObject); stamp it with use_form(name)."""
        self.canvas.beginForm(name)
        try:
            yield
        finally:
            self.canvas.endForm()

    def use_form(self, name: str) -> None:
        self.canvas.doForm(name)

    # -- drawing ------------------------------------------------------------------------

    def width(self, text: str, size: float) -> float:
        """The text's width in millimetres."""
        return pdfmetrics.stringWidth(text, self.font, size) / mm

    def text(self, x, y, text, size=10.0, *, bold=False, align="left", colour=INK) -> None:
        """One line; `align` is left, centre or right of x. IPAex has no bold face: bold is
        the glyphs filled and stroked."""
        if align == "centre":
            x -= self.width(text, size) / 2
        elif align == "right":
            x -= self.width(text, size)
        c = self.canvas
        obj = c.beginText(x * mm, self.height - y * mm)
        obj.setFont(self.font, size)
        if bold:
            # The render mode outlives the text object: save and restore the graphics state.
            c.saveState()
            c.setStrokeColorRGB(*colour)
            c.setLineWidth(size * 0.045)
            obj.setTextRenderMode(2)
        c.setFillColorRGB(*colour)
        obj.textOut(text)
        c.drawText(obj)
        if bold:
            c.restoreState()

    def fitted(self, x, y, text, size, width, *, minimum=6.0, **kwargs) -> None:
        """One line no wider than `width` mm: a smaller size first, then cut with …, so a long
        name or address never runs out of its box (an envelope's window, a card)."""
        while size > minimum and self.width(text, size) > width:
            size = max(minimum, size - 0.5)
        if self.width(text, size) > width:
            while text and self.width(text + "…", size) > width:
                text = text[:-1]
            text += "…"
        self.text(x, y, text, size, **kwargs)

    def wrapped(self, x, y, text, size, width, *, leading=1.5, colour=INK) -> float:
        """Japanese has no spaces to break at: wrap by characters. Returns the next baseline."""
        step = size * leading / mm
        for line in self.lines(text, size, width):
            self.text(x, y, line, size, colour=colour)
            y += step
        return y

    def lines(self, text: str, size: float, width: float) -> list[str]:
        lines, line = [], ""
        for char in text:
            if char == "\n":
                lines.append(line)
                line = ""
            elif line and self.width(line + char, size) > width:
                lines.append(line)
                line = char
            else:
                line += char
        lines.append(line)
        return lines

    def line(self, x1, y1, x2, y2, *, width=0.3, colour=INK, dash=None) -> None:
        c = self.canvas
        c.setStrokeColorRGB(*colour)
        c.setLineWidth(width * mm)
        c.setDash(*(dash or ()))
        c.line(x1 * mm, self.height - y1 * mm, x2 * mm, self.height - y2 * mm)
        c.setDash()

    def rect(self, x, y, w, h, *, stroke=INK, fill=None, width=0.3, dash=None, radius=0) -> None:
        """A box whose top-left corner is (x, y)."""
        c = self.canvas
        if stroke:
            c.setStrokeColorRGB(*stroke)
            c.setLineWidth(width * mm)
        if fill:
            c.setFillColorRGB(*fill)
        if dash:
            c.setDash(*dash)
        args = (x * mm, self.height - (y + h) * mm, w * mm, h * mm)
        if radius:
            c.roundRect(*args, radius * mm, stroke=int(bool(stroke)), fill=int(bool(fill)))
        else:
            c.rect(*args, stroke=int(bool(stroke)), fill=int(bool(fill)))
        if dash:
            c.setDash()

    def qr(self, data: str, x, y, side) -> None:
        """A QR code as filled rectangles (one per run of dark modules in a row), `side` mm wide
        including the four-module quiet zone, top-left corner at (x, y)."""
        matrix = qr_matrix(data)
        count = len(matrix)
        module = side / (count + 8)
        c = self.canvas
        c.saveState()
        c.setFillColorRGB(*BLACK)
        # Module units with y downwards: whole numbers are short to write and exact.
        c.translate((x + 4 * module) * mm, self.height - (y + 4 * module) * mm)
        c.scale(module * mm, -module * mm)
        ops = []
        for row, cells in enumerate(matrix):
            col = 0
            while col < count:
                if cells[col]:
                    start = col
                    while col < count and cells[col]:
                        col += 1
                    ops.append(f"{start} {row} {col - start} 1 re")
                else:
                    col += 1
        # One fill of whole-number rectangles, written as PDF operators: going through
        # reportlab's path object formatted every coordinate as a float, a third of a page's time.
        ops.append("f")
        c.addLiteral("\n".join(ops))
        c.restoreState()
