"""The warehouse (数据入库) as files: approved data only, streamed to XLSX or CSV.

Each category becomes one sheet (XLSX) or one CSV file inside a zip. A row
is one project's approved revision of that category, never the working
copy. Rows are read in keyset batches ordered by project id and written
one by one, with openpyxl's write-only mode for XLSX, so memory stays flat
whatever the number of projects. Projects marked as a duplicate are left out.
"""

import csv
import io
import zipfile
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import func, select

from models import Company, Entry, Project, Revision, Town, db
from models.masking import mask_id_number
from wxapp_backend.console.pages import SHANGHAI

BATCH_SIZE = 1000
BASE_HEADERS = (
    "项目编号",
    "镇街",
    "项目名称",
    "项目地址",
    "物业服务企业",
    "入库版本",
    "通过时间",
)
# A spreadsheet runs a cell that starts with one of these as a formula; CSV
# cells that start so get a leading apostrophe (OWASP's CSV injection advice).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def headers(schema, category):
    """Return the column headers: the project columns, then the schema's labels."""
    labels = []
    for spec in schema.fields(category):
        label = spec["label"]
        if spec.get("unit"):
            label = f"{label}（{spec['unit']}）"
        elif spec["type"] == "file":
            label = f"{label}（文件编号）"
        labels.append(label)
    return [*BASE_HEADERS, *labels]


def _scope(query, category, town_id):
    query = query.where(
        Entry.category == category,
        Entry.approved_revision_id.isnot(None),
        Project.duplicate_of_id.is_(None),
    )
    if town_id is not None:
        query = query.where(Project.town_id == town_id)
    return query


def count_approved(categories, town_id):
    """Return how many rows an export of ``categories`` will write."""
    query = select(func.count(Entry.id)).join(Project, Entry.project_id == Project.id)
    total = 0
    for category in categories:
        total += db.session.scalar(_scope(query, category, town_id))
    return total


def approved_rows(category, town_id, progress):
    """Yield the approved rows of ``category``, read ``BATCH_SIZE`` at a time.

    Keyset paging (``project id > last``) runs one short query per batch, so
    no cursor stays open between batches and ``progress(rows)``, called after
    each batch, may commit. A batch is dropped before the next one is read,
    so at most one batch is in memory.
    """
    query = _approved_query(category, town_id)
    last_id = 0
    while True:
        batch = db.session.execute(query.where(Project.id > last_id)).all()
        if not batch:
            return
        last_id, count = batch[-1][0], len(batch)
        yield from batch
        batch = None
        progress(count)


def _approved_query(category, town_id):
    columns = select(
        Project.id,
        Town.name,
        Project.name,
        Project.address,
        Company.name,
        Revision.number,
        Entry.approved_at,
        Revision.data,
    )
    query = (
        columns.select_from(Project)
        .join(Entry, Entry.project_id == Project.id)
        .join(Revision, Revision.id == Entry.approved_revision_id)
        .join(Town, Town.id == Project.town_id)
        .outerjoin(Company, Company.id == Project.company_id)
    )
    return _scope(query, category, town_id).order_by(Project.id).limit(BATCH_SIZE)


class RowFormatter:
    """Turn one approved row into cell values in header order."""

    def __init__(self, schema, category, full_id_numbers):
        self.fields = schema.fields(category)
        self.full_id_numbers = full_id_numbers

    def values(self, row):
        project_id, town, name, address, company, number, approved_at, data = row
        approved = (
            approved_at.astimezone(SHANGHAI).replace(tzinfo=None)
            if approved_at
            else None
        )
        cells = [project_id, town, name, address, company or "", number, approved]
        for spec in self.fields:
            cells.append(self._field_value(spec, (data or {}).get(spec["key"])))
        return cells

    def _field_value(self, spec, value):
        if value is None:
            return None
        if spec["type"] == "id_number" and not self.full_id_numbers:
            return mask_id_number(value)
        if spec["type"] == "date" and isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                return value
        return value


def write_xlsx(target, schema, categories, town_id, full_id_numbers, progress):
    """Write an XLSX workbook with one sheet per category to the path ``target``.

    ``progress(rows)`` is called after each batch with the number of rows read.
    """
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for category in categories:
        sheet = workbook.create_sheet(title=schema.label(category)[:31])
        sheet.freeze_panes = "A2"
        header_cells = []
        for text in headers(schema, category):
            cell = WriteOnlyCell(sheet, value=text)
            cell.font = bold
            header_cells.append(cell)
        sheet.append(header_cells)
        formatter = RowFormatter(schema, category, full_id_numbers)
        for row in approved_rows(category, town_id, progress):
            sheet.append([_xlsx_cell(sheet, value) for value in formatter.values(row)])
    workbook.save(target)


def _xlsx_cell(sheet, value):
    """Return ``value``, or a cell that keeps it as the type it is in the data."""
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, str) and value.startswith("="):
        # openpyxl stores a string starting with "=" as a formula; data
        # entered in a form is text and must stay text.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def write_csv_zip(target, schema, categories, town_id, full_id_numbers, progress):
    """Write a zip with one UTF-8 CSV (with BOM) per category to the path ``target``.

    The BOM makes Excel read the file as UTF-8 instead of the system code
    page, so Chinese text opens correctly.
    """
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for category in categories:
            name = f"{schema.label(category)}.csv"
            with archive.open(name, "w") as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                writer = csv.writer(text)
                writer.writerow(headers(schema, category))
                formatter = RowFormatter(schema, category, full_id_numbers)
                for row in approved_rows(category, town_id, progress):
                    writer.writerow([_csv_value(v) for v in formatter.values(row)])
                text.flush()
                text.detach()


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
