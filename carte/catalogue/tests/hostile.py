"""Malformed and hostile import files, made in memory, for the tests of both importers
(the catalogue's and the KPI values').

Each file is a `Hostile`: a name, its bytes and the words the refusal must hold. A
workbook is written part by part (`workbook()`), so a test can say exactly what a sheet
claims: a cell in column AAAAAAA, a shared string that does not exist, a row numbered
"two"; `spreadsheet_files(header)` gives them with the header of the importer under test
on row 1.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


@dataclass(frozen=True)
class Hostile:
    """A file an import must refuse, with what the refusal says."""

    key: str
    name: str
    content: bytes
    says: str

    def __str__(self) -> str:
        return self.key


def workbook(sheets: dict[str, str], strings: list[str] | None = None) -> bytes:
    """An .xlsx package whose sheets (title -> the XML inside `<sheetData>`) are written
    as given, with `strings` as its shared strings."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_SHEET_TYPE}"/>'
            for i in range(1, len(sheets) + 1)
        )
        package.writestr(
            "[Content_Types].xml",
            f'<Types xmlns="{_CT}">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            f"{overrides}</Types>",
        )
        package.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_REL}/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        entries = "".join(
            f'<sheet name="{title}" sheetId="{i}" r:id="rId{i}"/>'
            for i, title in enumerate(sheets, start=1)
        )
        package.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{_REL}"><sheets>{entries}</sheets></workbook>',
        )
        links = "".join(
            f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        strings_id = len(sheets) + 1
        links += (
            f'<Relationship Id="rId{strings_id}" Type="{_REL}/sharedStrings" '
            'Target="sharedStrings.xml"/>'
        )
        package.writestr(
            "xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{_PKG}">{links}</Relationships>'
        )
        items = "".join(f"<si><t>{text}</t></si>" for text in strings or [])
        package.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{items}</sst>')
        for i, data in enumerate(sheets.values(), start=1):
            package.writestr(
                f"xl/worksheets/sheet{i}.xml",
                f'<worksheet xmlns="{MAIN}"><sheetData>{data}</sheetData></worksheet>',
            )
    return out.getvalue()


def _header_row(header: list[str]) -> str:
    cells = "".join(f'<c t="inlineStr"><is><t>{name}</t></is></c>' for name in header)
    return f'<row r="1">{cells}</row>'


def spreadsheet_files(sheet: str, header: list[str]) -> list[Hostile]:
    """Workbooks with one sheet, titled `sheet`, whose row 1 is `header` and whose next
    rows are broken in every way found by probing the importers."""
    top = _header_row(header)

    def book(key: str, rows: str, says: str, strings: list[str] | None = None) -> Hostile:
        return Hostile(key, f"{key}.xlsx", workbook({sheet: top + rows}, strings), says)

    # 5 MB of one repeated row packs into a few KB: far more than any sheet grows.
    bomb = top + '<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 110_000
    # 60,000 cells in one row, most of them empty: more than a row may hold.
    crowded = '<row r="2">' + "<c/>" * 60_000 + "</row>"
    return [
        book(
            "huge-column",
            '<row r="2"><c r="AAAAAAA2" t="inlineStr"><is><t>x</t></is></c></row>',
            "which is no column",
        ),
        book("shared-string-out-of-range", '<row r="2"><c r="A2" t="s"><v>57</v></c></row>', "57"),
        book("not-a-number", '<row r="2"><c r="A2"><v>ninety</v></c></row>', "ninety"),
        book("bad-boolean", '<row r="2"><c r="A2" t="b"><v>yes</v></c></row>', "yes"),
        book("row-number-not-a-number", '<row r="two"><c><v>1</v></c></row>', "'two'"),
        book("row-number-past-the-last", '<row r="99999999"><c><v>1</v></c></row>', "99999999"),
        book("too-many-cells", crowded, "over 50,000 elements"),
        book("not-xml", "<row><c><v>1</v></c></row><row", "damaged or truncated"),
        Hostile(
            "unpacks-too-much",
            "unpacks-too-much.xlsx",
            workbook({sheet: bomb}),
            "unpacks to too much data",
        ),
        Hostile("corrupt-bytes", "corrupt.xlsx", bytes(range(256)) * 8, "damaged or truncated"),
        Hostile(
            "truncated",
            "truncated.xlsx",
            workbook({sheet: top})[:300],
            "damaged or truncated",
        ),
        Hostile(
            "encrypted",
            "encrypted.xlsx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512,
            "password-protected",
        ),
    ]


def deep_json(depth: int = 100_000) -> bytes:
    """A JSON document nested `depth` lists deep."""
    return b"[" * depth + b"]" * depth


def deep_yaml(depth: int = 20_000) -> bytes:
    """A YAML document nested `depth` flow sequences deep."""
    return b"[" * depth + b"]" * depth
