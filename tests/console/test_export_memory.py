"""Exports stream: memory does not grow with the number of projects.

Projects are bulk-inserted straight into the tables (the API would take
minutes for thousands), each with an approved 基本信息 revision. The peak
of Python allocations while writing must stay about the same at 1,000 and
at 2,500 rows, because rows are read and written in fixed-size batches.
"""

import tracemalloc

import pytest
from flask import current_app
from openpyxl import load_workbook

from models import Entry, Project, Revision, db, utcnow
from models.form_schema import load_schema
from tests.factories import VALID_BASIC
from wxapp_backend.console.warehouse import BATCH_SIZE, write_csv_zip, write_xlsx


def insert_approved_projects(count, town_id, owner_id):
    """Insert ``count`` projects with an approved basic entry; return their ids."""
    now = utcnow()
    start = (db.session.query(db.func.max(Project.id)).scalar() or 0) + 1
    entry_start = (db.session.query(db.func.max(Entry.id)).scalar() or 0) + 1
    revision_start = (db.session.query(db.func.max(Revision.id)).scalar() or 0) + 1
    projects, entries, revisions = [], [], []
    for offset in range(count):
        name = f"批量测试小区{offset:06d}"
        address = f"佛山市南海区测试路{offset}号"
        data = dict(VALID_BASIC, project_name=name, address=address, town="桂城街道")
        projects.append(
            dict(
                id=start + offset,
                town_id=town_id,
                owner_id=owner_id,
                name=name,
                address=address,
                name_key=name,
                address_key=address,
                status="filling",
                created_at=now,
                updated_at=now,
            )
        )
        entries.append(
            dict(
                id=entry_start + offset,
                project_id=start + offset,
                category="basic",
                state="approved",
                version=1,
                data=data,
                completeness=100,
                current_revision_id=revision_start + offset,
                approved_revision_id=revision_start + offset,
                approved_at=now,
                updated_at=now,
            )
        )
        revisions.append(
            dict(
                id=revision_start + offset,
                entry_id=entry_start + offset,
                number=1,
                data=data,
                created_at=now,
            )
        )
    db.session.execute(db.insert(Project), projects)
    db.session.execute(db.insert(Entry), entries)
    db.session.execute(db.insert(Revision), revisions)
    db.session.commit()


def peak_while_writing(writer, path, town_id):
    schema = load_schema(current_app.config["FORM_SCHEMA_FILE"])
    written = []
    tracemalloc.start()
    try:
        writer(path, schema, ["basic"], town_id, True, written.append)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, sum(written)


@pytest.mark.parametrize("writer", [write_xlsx, write_csv_zip], ids=["xlsx", "csv"])
def test_export_memory_is_flat(app, world, tmp_path, writer):
    small, large = 1000, 2500
    with app.app_context():
        insert_approved_projects(small, world.guicheng_id, world.staff_id)
        peak_small, rows_small = peak_while_writing(
            writer, tmp_path / "a", world.guicheng_id
        )
        insert_approved_projects(large - small, world.guicheng_id, world.staff_id)
        peak_large, rows_large = peak_while_writing(
            writer, tmp_path / "b", world.guicheng_id
        )

    assert rows_small == small + 1
    assert rows_large == large + 1
    assert small // BATCH_SIZE >= 1
    assert large // BATCH_SIZE >= 2
    assert peak_large < peak_small * 1.2, (peak_small, peak_large)


def test_large_xlsx_reads_back_complete(app, world, tmp_path):
    with app.app_context():
        insert_approved_projects(2500, world.guicheng_id, world.staff_id)
        schema = load_schema(current_app.config["FORM_SCHEMA_FILE"])
        write_xlsx(
            tmp_path / "all.xlsx", schema, ["basic"], None, True, lambda rows: None
        )

    book = load_workbook(tmp_path / "all.xlsx", read_only=True)
    ids = [row[0] for row in book["基本信息"].iter_rows(min_row=2, values_only=True)]
    assert len(ids) == 2501
    assert ids == sorted(ids)
    assert len(set(ids)) == 2501
