"""Stages 3 and 4: XSD and business rules, findings, strict_fr, fragments, threads."""

from __future__ import annotations

import threading

import pytest
from invoice_builders import cii_bytes, facturx_pdf, invoice_data, ubl_bytes

from backend.invoices.validation import (
    incomplete_profile_finding,
    validate_bytes,
    validate_rule_fragment,
)
from backend.invoices.validation import schematron as schematron_module

# BT-112 no longer equals BT-109 + BT-110, and BT-115 no longer BT-112 - BT-113.
WRONG_TOTALS = invoice_data(**{"BT-112": "500.00", "BT-115": "500.00"})


def fatal_rules(result) -> set[str]:
    return {f.rule for f in result.findings if f.severity == "fatal"}


@pytest.mark.parametrize("build", [cii_bytes, ubl_bytes], ids=["cii", "ubl"])
def test_inconsistent_totals_fire_br_co_15(build) -> None:
    result = validate_bytes(build(WRONG_TOTALS), "facture.xml")
    assert result.valid is False
    assert "BR-CO-15" in fatal_rules(result)
    finding = next(f for f in result.findings if f.rule == "BR-CO-15")
    assert finding.stage == "en16931"
    # A French sentence with the file's values; the official English text is kept apart.
    assert finding.message == "Le total TTC est 500,00\u00a0€ mais le total HT (390,00\u00a0€) plus la TVA (78,00\u00a0€) donne 468,00\u00a0€."
    assert (finding.field, finding.term) == ("total TTC", "BT-112")
    assert "Invoice total amount with VAT (BT-112)" in finding.official
    assert "BT-112" in (finding.location or "")
    assert "namespace-uri" not in (finding.location or "")


def test_the_same_rule_fires_for_the_same_mistake_in_cii_and_ubl() -> None:
    cii = {r for r in fatal_rules(validate_bytes(cii_bytes(WRONG_TOTALS))) if r.startswith("BR-")}
    ubl = {r for r in fatal_rules(validate_bytes(ubl_bytes(WRONG_TOTALS))) if r.startswith("BR-")}
    assert cii == ubl == {"BR-CO-15"}


def test_rule_in_a_factur_x_pdf() -> None:
    result = validate_bytes(facturx_pdf(cii_bytes(WRONG_TOTALS)), "facture.pdf")
    assert result.format == "facturx-pdf"
    assert "BR-CO-15" in fatal_rules(result)


def test_xsd_errors_do_not_stop_the_business_rules() -> None:
    broken = cii_bytes(WRONG_TOTALS).replace(
        b"<ram:InvoiceCurrencyCode>", b"<ram:Unexpected>x</ram:Unexpected><ram:InvoiceCurrencyCode>", 1
    )
    result = validate_bytes(broken, "facture.xml")
    stages = {f.stage for f in result.findings if f.severity == "fatal"}
    assert {"xsd", "en16931"} <= stages
    xsd = next(f for f in result.findings if f.stage == "xsd")
    assert xsd.rule == "FCT-XSD-01" and "Unexpected" in xsd.message
    assert "BR-CO-15" in fatal_rules(result)
    assert result.checks == ["xsd:facturx-en16931", "sch:facturx-en16931", "sch:cen-cii", "sch:br-fr-cii"]


def test_a_warning_does_not_invalidate() -> None:
    # An empty element is only a warning (PEPPOL-EN16931-R008 in the Factur-X rules).
    document = cii_bytes().replace(
        b"<ram:Name>Pose</ram:Name>", b"<ram:Name>Pose</ram:Name><ram:Description/>", 1
    )
    result = validate_bytes(document, "facture.xml")
    assert any(f.severity == "warning" for f in result.findings)
    assert result.valid is True


def test_missing_mandatory_data_fires_its_rule() -> None:
    result = validate_bytes(ubl_bytes(invoice_data(**{"BT-10": None, "BT-13": None})), "facture.xml")
    assert result.valid is True  # BT-10 / BT-13 are portal rules, not EN 16931 ones
    no_currency = ubl_bytes().replace(b"<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>", b"")
    assert "BR-05" in fatal_rules(validate_bytes(no_currency))


def test_strict_fr_runs_the_french_rules() -> None:
    long_number = invoice_data(**{"BT-1": "F" * 40})
    strict = validate_bytes(cii_bytes(long_number), "facture.xml", strict_fr=True)
    assert "BR-FR-01_BT-1" in fatal_rules(strict)
    assert "sch:br-fr-cii" in strict.checks
    french = next(f for f in strict.findings if f.rule == "BR-FR-01_BT-1")
    # The official French sentence without its rule prefix and XML names.
    assert french.message.startswith("L'identifiant de facture ne doit pas dépasser 35 caractères.")
    assert "ram:ID" not in french.message and "ram:ID" in french.official
    assert (french.stage, french.term) == ("en16931", "BT-1")


def test_strict_fr_on_ubl() -> None:
    strict = validate_bytes(ubl_bytes(invoice_data(**{"BT-1": "F" * 40})), strict_fr=True)
    assert any(r.startswith("BR-FR-01") for r in fatal_rules(strict))


def test_strict_fr_is_not_applied_to_minimum() -> None:
    minimum = cii_bytes().replace(b"urn:cen.eu:en16931:2017", b"urn:factur-x.eu:1p0:minimum")
    result = validate_bytes(minimum, strict_fr=True)
    assert result.profile == "minimum"
    assert "FCT-FR-01" in {f.rule for f in result.findings}
    assert not any(c.startswith("sch:br-fr") for c in result.checks)


@pytest.mark.parametrize(
    ("guideline", "profile"),
    [
        (b"urn:factur-x.eu:1p0:minimum", "minimum"),
        (b"urn:factur-x.eu:1p0:basicwl", "basicwl"),
        (b"urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic", "basic"),
        (b"urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended", "extended"),
        (b"urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0", None),
    ],
)
def test_profile_drives_the_rule_set(guideline: bytes, profile: str | None) -> None:
    result = validate_bytes(cii_bytes().replace(b"urn:cen.eu:en16931:2017", guideline), "facture.xml")
    assert result.profile == profile
    expected = f"sch:facturx-{profile}" if profile else "sch:facturx-en16931"
    assert expected in result.checks


def test_incomplete_profiles_are_valid_factur_x_but_refused_by_the_portal_helper() -> None:
    finding = incomplete_profile_finding("basicwl")
    assert finding is not None
    assert (finding.rule, finding.stage, finding.severity) == ("FCT-PROFILE-01", "portal", "fatal")
    assert "EN 16931" in finding.message and "BASIC WL" in finding.message
    assert incomplete_profile_finding("minimum").rule == "FCT-PROFILE-01"
    for complete in ("basic", "en16931", "extended", None):
        assert incomplete_profile_finding(complete) is None


def test_portal_findings_do_not_change_validity() -> None:
    from backend.invoices.validation.model import is_valid

    assert is_valid([incomplete_profile_finding("minimum")]) is True


def test_rule_fragment_runs_business_rules_only() -> None:
    fragment = (
        b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
        b'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
        b"<cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID></Invoice>"
    )
    result = validate_rule_fragment(fragment, "fragment.xml")
    rules = fatal_rules(result)
    assert "BR-01" not in rules and "BR-02" in rules
    assert not [f for f in result.findings if f.stage == "xsd"]
    assert result.checks == ["sch:ubl-en16931"]  # no BR-FR on fragments outside the strict mode
    # the full pipeline on the same fragment reports the XSD failure too
    assert any(f.stage == "xsd" for f in validate_bytes(fragment).findings)


def test_stylesheets_are_compiled_once_and_shared() -> None:
    first = schematron_module.compiled("ubl-en16931")
    validate_bytes(ubl_bytes())
    assert schematron_module.compiled("ubl-en16931") is first


def test_concurrent_validations_give_the_same_results() -> None:
    documents = [cii_bytes(), ubl_bytes(), cii_bytes(WRONG_TOTALS), ubl_bytes(WRONG_TOTALS)]
    expected = [fatal_rules(validate_bytes(d)) for d in documents]
    errors: list[str] = []

    def worker() -> None:
        for _ in range(5):
            for document, want in zip(documents, expected):
                got = fatal_rules(validate_bytes(document))
                if got != want:
                    errors.append(f"{got} != {want}")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
