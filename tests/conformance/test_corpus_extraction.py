"""Extraction against GROUND_TRUTH.jsonl, field by field, and CII / UBL / Factur-X
equivalence: the forms of one invoice must give the same record.

GROUND_TRUTH keeps values exactly as written (CII dates as YYYYMMDD, amounts as
text); Facteur keeps amounts as written too and normalises dates to YYYY-MM-DD.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from corpus_support import corpus_result, ground_truth, params, require_corpus

from backend.invoices.validation import result_to_json_dict
from backend.invoices.validation.extract import french_ids, iso_date
from backend.invoices.validation.model import Amount, Identifier, Party

HEADER_FIELDS = {
    "BT-1": "number",
    "BT-3": "type_code",
    "BT-5": "currency",
    "BT-10": "buyer_reference",
    "BT-12": "contract_reference",
    "BT-13": "purchase_order",
    "BT-23": "business_process",
    "BT-24": "guideline_id",
}
DATE_FIELDS = {"BT-2": "issue_date", "BT-9": "due_date"}
TOTAL_FIELDS = {
    "BT-106": "line_net",
    "BT-107": "allowances",
    "BT-108": "charges",
    "BT-109": "tax_exclusive",
    "BT-110": "tax",
    "BT-112": "tax_inclusive",
    "BT-113": "prepaid",
    "BT-114": "rounding",
    "BT-115": "payable",
}


def _text(amount: Amount | None) -> str | None:
    return None if amount is None else amount.text


def _ids(values: list[Identifier]) -> list[dict]:
    return [{"id": i.id, "scheme": i.scheme} for i in values]


def _party(party: Party, expected: dict) -> dict:
    mine = {
        "name": party.name,
        "ids": _ids(party.identifiers),
        "legal_id": _ids(party.legal_ids),
        "vat_id": party.vat_id,
        "endpoint": _ids(party.endpoints),
        "country": party.country,
    }
    if "trading_name" in expected:  # recorded for UBL only
        mine["trading_name"] = party.trading_name
    return mine


def extracted_like_ground_truth(path: str, expected: dict) -> dict:
    invoice = corpus_result(path).invoice
    assert invoice is not None, "nothing extracted"
    record = {"syntax": invoice.syntax, "line_count": invoice.line_count}
    record.update({bt: getattr(invoice, name) for bt, name in HEADER_FIELDS.items()})
    record.update({bt: getattr(invoice, name) for bt, name in DATE_FIELDS.items()})
    record.update({bt: _text(getattr(invoice.totals, name)) for bt, name in TOTAL_FIELDS.items()})
    record["vat_breakdown"] = [
        {"cat": v.category, "rate": _text(v.rate), "basis": _text(v.basis), "tax": _text(v.tax)}
        for v in invoice.vat_breakdown
    ]
    record["seller"] = _party(invoice.seller, expected["seller"])
    record["buyer"] = _party(invoice.buyer, expected["buyer"])
    return record


def normalised_truth(expected: dict) -> dict:
    truth = {k: v for k, v in expected.items() if k != "relative_path"}
    for bt in DATE_FIELDS:
        truth[bt] = iso_date(truth[bt]) if truth[bt] else truth[bt]
    return truth


def _truth_by_path() -> dict[str, dict]:
    return {record["relative_path"]: record for record in ground_truth()}


@pytest.mark.parametrize("path", params(sorted(_truth_by_path())))
def test_extraction_matches_ground_truth(path: str) -> None:
    require_corpus()
    expected = _truth_by_path()[path]
    mine = extracted_like_ground_truth(path, expected)
    truth = normalised_truth(expected)
    differences = {k: (truth[k], mine.get(k)) for k in truth if truth[k] != mine.get(k)}
    assert not differences, differences


@pytest.mark.parametrize("path", params(sorted(_truth_by_path())))
def test_french_identifiers_follow_the_documented_rule(path: str) -> None:
    """SIRET/SIREN in the report are derived from the identifiers as POLICY.md says."""
    require_corpus()
    expected = _truth_by_path()[path]
    invoice = corpus_result(path).invoice
    for side in ("seller", "buyer"):
        truth = expected[side]
        party = Party(
            identifiers=[Identifier(i["id"], i["scheme"]) for i in truth["ids"]],
            legal_ids=[Identifier(i["id"], i["scheme"]) for i in truth["legal_id"]],
            endpoints=[Identifier(i["id"], i["scheme"]) for i in truth["endpoint"]],
        )
        mine = getattr(invoice, side)
        assert (mine.siret, mine.siren) == french_ids(party)


def _equivalence_groups() -> dict[str, list[str]]:
    """Files whose ground truth is the same invoice (dates normalised; the syntax,
    BT-24 and the UBL-only trading name set aside)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for record in ground_truth():
        truth = normalised_truth(record)
        for key in ("syntax", "BT-24"):
            truth.pop(key)
        for side in ("seller", "buyer"):
            truth[side] = {k: v for k, v in truth[side].items() if k != "trading_name"}
        groups[json.dumps(truth, sort_keys=True)].append(record["relative_path"])
    return {paths[0]: sorted(paths) for paths in groups.values() if len(paths) > 1}


@pytest.mark.parametrize("first", params(sorted(_equivalence_groups())))
def test_forms_of_one_invoice_extract_to_the_same_record(first: str) -> None:
    require_corpus()
    paths = _equivalence_groups()[first]
    records = {path: result_to_json_dict(corpus_result(path))["invoice"] for path in paths}
    reference = records[paths[0]]
    for path in paths[1:]:
        assert records[path] == reference, path
