"""``facteur validate``: exit codes, JSON lines, French text report."""

from __future__ import annotations

import io
import json

from invoice_builders import cii_bytes, facturx_pdf, invoice_data, ubl_bytes

from backend.invoices.validation import Finding, result_to_json_dict, validate_bytes
from backend.invoices.validation.cli import main

TOP_KEYS = ["file", "format", "profile", "valid", "findings", "invoice"]
# The first five keep their names and order (programs read them); later keys are additions.
FINDING_KEYS = ["rule", "severity", "stage", "message", "location", "field", "term", "official"]
INVOICE_KEYS = [
    "number",
    "issue_date",
    "type_code",
    "currency",
    "buyer_reference",
    "purchase_order",
    "seller",
    "buyer",
    "totals",
    "vat_breakdown",
    "line_count",
]
PARTY_KEYS = ["name", "siret", "siren", "vat_id"]
TOTAL_KEYS = ["line_net", "tax_exclusive", "tax", "tax_inclusive", "prepaid", "payable"]
VAT_KEYS = ["category", "rate", "basis", "tax"]


def write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def run(
    paths: list[str], *, as_json: bool = True, strict_fr: bool = False, portal_check=None
) -> tuple[int, str]:
    out = io.StringIO()
    code = main(paths, as_json, strict_fr, portal_check, out=out)
    return code, out.getvalue()


def test_json_lines_have_the_documented_shape(tmp_path) -> None:
    good = write(tmp_path, "facture.pdf", facturx_pdf())
    code, output = run([good])
    assert code == 0
    lines = output.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert list(record) == TOP_KEYS
    assert record["file"] == good
    assert (record["format"], record["profile"], record["valid"]) == ("facturx-pdf", "en16931", True)
    invoice = record["invoice"]
    assert list(invoice) == INVOICE_KEYS
    assert list(invoice["seller"]) == list(invoice["buyer"]) == PARTY_KEYS
    assert list(invoice["totals"]) == TOTAL_KEYS
    assert all(list(v) == VAT_KEYS for v in invoice["vat_breakdown"])
    assert invoice["issue_date"] == "2026-03-02"
    assert invoice["totals"]["payable"] == "468.00"  # the text as written, not a float
    assert invoice["vat_breakdown"] == [{"category": "S", "rate": "20.00", "basis": "390.00", "tax": "78.00"}]
    assert invoice["line_count"] == 2


def test_one_line_per_file_and_exit_1_when_one_is_invalid(tmp_path) -> None:
    good = write(tmp_path, "a.xml", ubl_bytes())
    bad = write(tmp_path, "b.xml", cii_bytes(invoice_data(**{"BT-115": "1.00"})))
    code, output = run([good, bad])
    assert code == 1
    first, second = (json.loads(line) for line in output.splitlines())
    assert first["valid"] is True and second["valid"] is False
    finding = next(f for f in second["findings"] if f["rule"] == "BR-CO-16")
    assert list(finding) == FINDING_KEYS
    assert (finding["severity"], finding["stage"]) == ("fatal", "en16931")


def test_unreadable_file_is_a_finding_not_a_traceback(tmp_path) -> None:
    code, output = run([str(tmp_path / "absent.pdf")])
    assert code == 1
    record = json.loads(output)
    assert record["format"] == "unsupported" and record["invoice"] is None and record["profile"] is None
    assert [f["rule"] for f in record["findings"]] == ["FCT-IO-01"]


def test_unsupported_file_has_null_invoice(tmp_path) -> None:
    code, output = run([write(tmp_path, "photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 32)])
    record = json.loads(output)
    assert code == 1
    assert record["invoice"] is None and record["valid"] is False


def test_text_report_is_french(tmp_path) -> None:
    bad = write(tmp_path, "facture.xml", cii_bytes(invoice_data(**{"BT-115": "1.00"})))
    code, output = run([bad], as_json=False)
    assert code == 1
    assert "Format : CII D16B (XML), profil EN 16931" in output
    assert "Facture n° F2026-0042 du 02/03/2026" in output
    assert "Résultat : REFUSÉE" in output
    assert "[ERREUR] BR-CO-16" in output
    assert "Le net à payer est 1,00\u00a0€ mais le total TTC est de 468,00\u00a0€, sans acompte ni arrondi" in output
    assert "Champ : net à payer (BT-115)" in output
    assert "Détail (règle officielle) : Amount due for payment (BT-115)" in output


def test_strict_fr_flag_reaches_the_pipeline(tmp_path) -> None:
    path = write(tmp_path, "facture.xml", cii_bytes(invoice_data(**{"BT-1": "F" * 40})))
    assert run([path])[0] == 0
    code, output = run([path], strict_fr=True)
    assert code == 1
    assert "BR-FR-01_BT-1" in output


def test_portal_check_findings_are_added(tmp_path) -> None:
    path = write(tmp_path, "facture.xml", ubl_bytes())
    seen = []

    def portal(result):
        seen.append(result.invoice.number)
        return [Finding("FCT-PORTAL-99", "fatal", "portal", "Service inconnu.", "BT-10")]

    code, output = run([path], portal_check=portal)
    record = json.loads(output)
    assert seen == ["F2026-0042"]
    assert record["findings"][-1]["rule"] == "FCT-PORTAL-99"
    assert code == 1  # the portal would refuse it…
    assert record["valid"] is True  # …but `valid` speaks of the file itself


def test_failing_portal_check_does_not_raise(tmp_path) -> None:
    def portal(_result):
        raise RuntimeError("database down")

    code, output = run([write(tmp_path, "facture.xml", ubl_bytes())], portal_check=portal)
    assert code == 1
    assert json.loads(output)["findings"][-1]["rule"] == "FCT-INTERNAL-01"


def test_result_to_json_dict_is_json_serialisable_for_every_format(tmp_path) -> None:
    for data in (facturx_pdf(), cii_bytes(), ubl_bytes(), b"not an invoice"):
        json.dumps(result_to_json_dict(validate_bytes(data, "x")))
