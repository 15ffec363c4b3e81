"""Findings speak to a supplier: French sentences with the file's values, the field named as a
person knows it (BT term apart, in small print), the official English text kept apart."""

from __future__ import annotations

import copy

import pytest
from invoice_builders import BASE_INVOICE, cii_bytes, facturx_pdf, invoice_data, ubl_bytes

from backend.invoices.validation import result_to_json_dict, validate_bytes

NBSP = "\u00a0"


def euros(text: str) -> str:
    """'1 234,56 €' as Babel writes it (narrow no-break space for thousands, no-break space before €)."""
    return text.replace(" ", "\u202f").replace("\u202f€", f"{NBSP}€")


def finding(data: dict, rule: str, build=cii_bytes):
    result = validate_bytes(build(data), "facture.xml")
    found = [f for f in result.findings if f.rule == rule]
    assert found, [f.rule for f in result.findings]
    return found[0]


BOTH = pytest.mark.parametrize("build", [cii_bytes, ubl_bytes], ids=["cii", "ubl"])


@BOTH
def test_br_co_10_says_the_total_and_the_sum_of_the_lines(build) -> None:
    item = finding(invoice_data(**{"BT-106": "12000.00"}), "BR-CO-10", build)
    assert item.message == (f"Le total des lignes HT est {euros('12 000,00 €')} mais la somme des montants nets "
                            f"des 2 lignes donne {euros('390,00 €')}.")
    assert (item.field, item.term) == ("total des lignes HT", "BT-106")
    assert item.official.startswith("Sum of Invoice line net amount (BT-106)")
    assert item.official not in item.message


@BOTH
def test_br_co_14_and_br_co_16_show_both_sides_of_the_equation(build) -> None:
    wrong_vat = invoice_data(**{"BT-110": "70.00", "BT-112": "460.00", "BT-115": "460.00"})
    item = finding(wrong_vat, "BR-CO-14", build)
    assert item.message == (f"Le total de la TVA est {euros('70,00 €')} mais la somme des montants de TVA de la "
                            f"ventilation (1 taux) donne {euros('78,00 €')}.")
    prepaid = invoice_data(**{"BT-113": "100.00", "BT-115": "468.00"})
    item = finding(prepaid, "BR-CO-16", build)
    assert item.message == (f"Le net à payer est {euros('468,00 €')} mais le total TTC ({euros('468,00 €')}), "
                            f"moins les acomptes ({euros('100,00 €')}) donne {euros('368,00 €')}.")
    assert item.term == "BT-115"


@BOTH
def test_br_co_13_starts_from_the_lines_total_as_written(build) -> None:
    item = finding(invoice_data(**{"BT-109": "380.00", "BT-112": "458.00", "BT-115": "458.00"}), "BR-CO-13", build)
    assert item.message.startswith(f"Le total HT est {euros('380,00 €')} mais le total des lignes HT est de {euros('390,00 €')}")
    assert item.term == "BT-109"


def test_br_co_11_sums_the_document_allowances() -> None:
    allowance = {"amount": "40.00", "vat_category_code": "S", "vat_rate": "20.00", "reason": "Remise fidélité"}
    data = invoice_data(**{"BG-20": [allowance], "BT-107": "50.00", "BT-109": "340.00",
                           "BG-23": [{"BT-116": "340.00", "BT-117": "68.00", "BT-118": "S", "BT-119": "20.00"}],
                           "BT-110": "68.00", "BT-112": "408.00", "BT-115": "408.00"})
    for build in (cii_bytes, ubl_bytes):
        item = finding(data, "BR-CO-11", build)
        assert item.message == (f"Le total des remises est {euros('50,00 €')} mais la somme de la remise du document "
                                f"donne {euros('40,00 €')}."), build


@BOTH
def test_br_co_17_names_the_vat_breakdown_and_computes_base_times_rate(build) -> None:
    data = invoice_data(**{"BG-23": [{"BT-116": "390.00", "BT-117": "80.00", "BT-118": "S", "BT-119": "20.00"}],
                           "BT-110": "80.00", "BT-112": "470.00", "BT-115": "470.00"})
    item = finding(data, "BR-CO-17", build)
    assert item.message == (f"Dans la ventilation de TVA (catégorie S, 20{NBSP}%), le montant de TVA est {euros('80,00 €')} "
                            f"mais la base ({euros('390,00 €')}) × 20{NBSP}% donne {euros('78,00 €')}.")
    assert (item.field, item.term) == ("montant de TVA", "BT-117")
    assert finding(data, "BR-S-09", build).message == item.message


@BOTH
def test_standard_rate_rules_name_the_line_and_the_rate(build) -> None:
    lines = copy.deepcopy(BASE_INVOICE["BG-25"])
    lines[1]["BT-152"] = "0.00"
    item = finding(invoice_data(**{"BG-25": lines}), "BR-S-05", build)
    assert item.message == (f"La ligne 2 « Pose » est en TVA au taux normal (catégorie S) avec un taux de 0{NBSP}% : "
                            f"ce taux doit être supérieur à 0{NBSP}%.")
    assert (item.field, item.term) == ("taux de TVA de la ligne", "BT-152")
    basis = finding(invoice_data(**{"BG-25": lines}), "BR-S-08", build)
    assert basis.message == (f"Dans la ventilation de TVA (catégorie S, 20{NBSP}%), la base imposable est {euros('390,00 €')} "
                             f"mais la somme des lignes à ce taux donne {euros('300,00 €')}.")


@BOTH
def test_exempt_and_zero_rated_rules(build) -> None:
    lines = copy.deepcopy(BASE_INVOICE["BG-25"])
    for line in lines:
        line.update({"BT-151": "E", "BT-152": "0.00"})
    exempt = invoice_data(**{"BG-25": lines, "BG-23": [{"BT-116": "390.00", "BT-117": "0.00", "BT-118": "E", "BT-119": "0.00"}],
                             "BT-110": "0.00", "BT-112": "390.00", "BT-115": "390.00"})
    item = finding(exempt, "BR-E-10", build)
    assert item.message.startswith("La ventilation de TVA exonérée (catégorie E) n'indique pas le motif d'exonération")
    assert item.term == "BT-120"
    zero_lines = copy.deepcopy(lines)
    for line in zero_lines:
        line["BT-151"] = "Z"
    zero_lines[0]["BT-152"] = "5.50"
    zero = invoice_data(**{"BG-25": zero_lines, "BG-23": [{"BT-116": "390.00", "BT-117": "0.00", "BT-118": "Z", "BT-119": "0.00"}],
                           "BT-110": "0.00", "BT-112": "390.00", "BT-115": "390.00"})
    item = finding(zero, "BR-Z-05", build)
    assert item.message == (f"La ligne 1 « Porte en chêne » est en TVA au taux zéro (catégorie Z) avec un taux de "
                            f"5,5{NBSP}% : ce taux doit être de 0{NBSP}%.")


@BOTH
def test_missing_seller_vat_number_is_said_plainly(build) -> None:
    seller = {k: v for k, v in BASE_INVOICE["BG-4"].items() if k != "vat_identifier"}
    item = finding(invoice_data(**{"BG-4": seller}), "BR-S-02", build)
    assert item.message.startswith("Des lignes sont en TVA au taux normal (catégorie S) : le numéro de TVA du vendeur est alors obligatoire")
    assert (item.field, item.term) == ("numéro de TVA du vendeur", "BT-31")


def test_missing_seller_name_names_the_seller_by_its_siret() -> None:
    seller = {k: v for k, v in BASE_INVOICE["BG-4"].items() if k != "name"}
    item = finding(invoice_data(**{"BG-4": seller}), "BR-06", ubl_bytes)
    assert item.message == "La raison sociale du vendeur (SIRET 73282932000074) est absente."
    assert (item.field, item.term) == ("raison sociale du vendeur", "BT-27")


def test_code_list_finding_names_the_field_and_the_value_found() -> None:
    xml = cii_bytes().replace(b"<ram:TypeCode>380</ram:TypeCode>", b"<ram:TypeCode>999</ram:TypeCode>", 1)
    result = validate_bytes(facturx_pdf(xml), "facture.pdf")
    item = next(f for f in result.findings if "TypeCode" in (f.official or ""))
    assert item.message == ("La valeur de « type de document (facture, avoir) » ne fait pas partie de la liste de codes "
                            "autorisée. Valeur trouvée : « 999 ».")
    assert item.term == "BT-3" and item.official == "Value of 'ram:TypeCode' is not allowed."


def test_xsd_findings_are_said_in_french_with_the_field() -> None:
    broken = cii_bytes().replace(b"<ram:InvoiceCurrencyCode>", b"<ram:Unexpected>x</ram:Unexpected><ram:InvoiceCurrencyCode>", 1)
    item = next(f for f in validate_bytes(broken, "facture.xml").findings if f.stage == "xsd")
    assert "l'élément « Unexpected » n'est pas attendu à cet endroit" in item.message
    assert "This element is not expected" in item.official and "This element" not in item.message


BROKEN = {
    "totals": invoice_data(**{"BT-112": "500.00", "BT-115": "500.00", "BT-106": "391.00"}),
    "vat": invoice_data(**{"BG-23": [{"BT-116": "380.00", "BT-117": "80.00", "BT-118": "S", "BT-119": "20.00"}]}),
    "seller": invoice_data(**{"BG-4": {k: v for k, v in BASE_INVOICE["BG-4"].items() if k != "vat_identifier"}}),
}


@pytest.mark.parametrize("name", list(BROKEN))
@BOTH
def test_every_rule_finding_is_french_with_its_field_and_official_text_apart(name, build) -> None:
    result = validate_bytes(build(BROKEN[name]), "facture.xml")
    rules = [f for f in result.findings if f.stage in ("en16931", "profile")]
    assert rules
    for item in rules:
        assert item.field and item.term, item
        assert item.official and item.official not in item.message, item
        assert " shall " not in item.message and "Règle officielle" not in item.message, item
    record = result_to_json_dict(result)["findings"][0]
    assert list(record)[:5] == ["rule", "severity", "stage", "message", "location"]
    assert {"field", "term", "official"} <= set(record)
