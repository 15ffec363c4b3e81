"""At 390×844 in Chromium: « Exporter » on the list downloads the filtered list, CSV and XLSX."""

from __future__ import annotations

import codecs
import csv
import io
import re

import openpyxl
import pytest

from tests.e2e.test_workspaces import _log_in, _world, assert_fits_phone

pytestmark = pytest.mark.e2e


async def test_export_on_a_phone_follows_the_filters_chosen_with_htmx(phone, server, shots):
    supplier, commune, invoices, supplier_person, agent = await _world()
    page, watch = await phone()
    await _log_in(page, supplier_person)
    await page.goto("/invoices")
    await page.locator("label.chip", has_text="À traiter").click()  # htmx redraws the list, not the page
    await page.wait_for_url(re.compile(r"status=a_traiter"))
    await page.locator(".export summary").click()
    csv_link = page.get_by_role("link", name="Tableur (CSV)")
    box = await csv_link.bounding_box()
    assert box and box["height"] >= 44  # a thumb's target
    await assert_fits_phone(page)
    await page.screenshot(path=shots / "export-01-menu.png")

    async with page.expect_download() as info:
        await csv_link.click()
    download = await info.value
    assert re.fullmatch(r"factures-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    body = open(await download.path(), "rb").read()
    assert body.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(body[3:].decode("utf-8"), newline=""), delimiter=";"))
    assert len(rows) == 12  # 4 suspended, 4 to recycle, 4 rejections not acknowledged: the list shown
    assert {r["Statut"] for r in rows} == {"Suspendue", "À recycler", "Rejetée"}

    async with page.expect_download() as info:
        await page.get_by_role("link", name="Excel (XLSX)").click()
    download = await info.value
    assert download.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(open(await download.path(), "rb").read()), read_only=True).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 13 and all(isinstance(row[12], (int, float)) for row in values[1:])  # Montant TTC, numeric
    assert not watch.page_errors
