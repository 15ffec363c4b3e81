"""Whatever a user or a client sends, the answer is a clear 4xx or a report, never a 500."""

from __future__ import annotations

import pytest

from backend.invoices.tables import Invoice
from tests.integration.invoices.test_deposit import post_files
from tests.integration.invoices.test_capture import _complete_profile, _fields, _new_draft
from tests.unit.validation.invoice_builders import cii_bytes

# Not readable as an invoice: 501 Irrecevable; readable but wrong: 213 Rejetée.
UNREADABLE, REJECTED = "Irrecevable (501)", "Refusée (213)"
GARBAGE_FILES = [
    ("empty.pdf", b"", UNREADABLE),
    ("noise.bin", bytes(range(256)) * 40, UNREADABLE),
    ("fake.pdf", b"%PDF-1.7\n" + b"\x00" * 500, UNREADABLE),
    ("image.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, UNREADABLE),
    ("huge-number.xml", cii_bytes().replace(b"468.00", b"9" * 400 + b".00"), REJECTED),
    ("truncated.xml", cii_bytes()[:700], UNREADABLE),
    ("deep.xml", b"<a>" * 5000 + b"</a>" * 5000, UNREADABLE),
    ("../../etc/passwd", b"root:x:0:0", UNREADABLE),
]


@pytest.mark.parametrize(("name", "data", "verdict"), GARBAGE_FILES, ids=[n for n, _, _ in GARBAGE_FILES])
async def test_garbage_files_get_a_report(client, supplier, name, data, verdict):
    response = await post_files(client, [(name, data)])
    assert response.status_code == 422, response.text[:300]
    assert verdict in response.text
    assert await Invoice.count() == 0


GARBAGE_FIELDS = [
    {"line-0-quantity": "1e999999"},
    {"line-0-unit_price": "NaN"},
    {"line-0-vat_rate": "abc"},
    {"line-0-quantity": "-5"},
    {"issue_date": "2026-13-45"},
    {"due_date": "demain"},
    {"number": "x" * 1000},
    {"number": "F 2026 / é"},
    {"type_code": "999"},
    {"billing_framework": "Z9"},
    {"engagement": "E" * 300},
    {"recipient_siret": "' OR 1=1 --"},
]


@pytest.mark.parametrize("garbage", GARBAGE_FIELDS, ids=[next(iter(g)) + "=" + next(iter(g.values()))[:12] for g in GARBAGE_FIELDS])
async def test_garbage_in_the_capture_form_is_refused_in_french(client, supplier, recipient, garbage):
    await _complete_profile()
    draft_id, token = await _new_draft(client)
    fields = {**_fields(recipient.siret), **garbage, "_csrf_token": token}
    saved = await client.post(f"/capture/{draft_id}", data=fields, headers={"HX-Request": "true"})
    assert saved.status_code == 200  # the draft keeps what was typed; totals say what is wrong
    sent = await client.post(f"/capture/{draft_id}/send", data=fields)
    assert sent.status_code == 422, sent.text[:500]
    assert await Invoice.count() == 0
