"""Where the portal deliberately or knowingly differs from the corpus metadata.

Every entry names the file, what Facteur does, and why (see
backend/invoices/validation/POLICY.md, section "Known differences"). The tests
assert Facteur's documented behaviour for these files, so an entry that stops
being true fails and must be removed or updated: nothing is hidden.
"""

from __future__ import annotations

# MANIFEST kind says facturx-pdf, but no invoice can be read from these files: the
# portal refuses them at detection (format "unsupported") with the code given.
DETECTION_DIFFERENCES: dict[str, tuple[str, str]] = {
    "mustang/invalid/corruptedV2PDF.pdf": (
        "FCT-DETECT-01",
        "damaged PDF: pypdf recovers the pages but no embedded factur-x.xml is reachable",
    ),
    "mustang/invalid/corrupt-factur-x-waytoosmall.pdf": (
        "FCT-PDF-01",
        "15-byte truncated file: not a readable PDF",
    ),
    "mustang/invalid/EmptyPDFA1.pdf": (
        "FCT-DETECT-01",
        "PDF/A-1 without any embedded invoice XML",
    ),
}

# VERIFY.tsv 'observed' verdict vs Facteur: path -> (Facteur's verdict, reason).
_FX_CODE_LIST = (
    "Facteur enforces the Factur-X 1.09.2 code lists for every CII (they carry the "
    "EN 16931 code lists); here the Factur-X list is stricter than CEN 1.3.16 ({what}), "
    "so Facteur refuses a file VERIFY's EN 16931-only check accepts"
)
VERDICT_DIFFERENCES: dict[str, tuple[bool, str]] = {
    "cen-en16931/valid/cii/XRechnung-O.xml": (
        False,
        _FX_CODE_LIST.format(what="VAT exemption reason code, FX-SCH-A-000589"),
    ),
    "xrechnung-testsuite/valid/business-cases/standard/01.21a-INVOICE_uncefact.xml": (
        False,
        _FX_CODE_LIST.format(what="buyer tax registration scheme 'FC', FX-SCH-A-000570"),
    ),
}

# expected_rules tokens that name no EN 16931 / Factur-X rule.
RULE_TOKEN_DIFFERENCES: dict[tuple[str, str], str] = {
    ("mustang/invalid/invalidV2Profile.xml", "MUSTANG-25"): (
        "Mustang's internal error number for an unknown profile, not an official rule "
        "ID; Facteur has no equivalent. The file is refused as VERIFY says, for CEN CII "
        "syntax rule CII-DT-031 (currencyID on amounts)"
    ),
}

# VERIFY.tsv 'br_fr_fatal' (BR-FR "Flux 2" rules that fail) vs the BR-FR findings of
# Facteur (warnings by default, fatal in strict mode). MINIMUM files are not checked
# (Facteur does not run BR-FR on MINIMUM, as factur-x does not), nor rows where
# VERIFY's own BR-FR run crashed ("XSLT-DYNAMIC-ERROR" in the cell: Facteur's run
# completes and reports the rules that fail).
BR_FR_DIFFERENCES: dict[str, str] = {
    path: (
        "VERIFY's BR-FR release also flags BR-FR-02_EXT-FR-FE-136 on this UBL file; the "
        "BR-FR release bundled by factur-x 7.8 has no such assertion"
    )
    for path in (
        "cen-en16931/valid/ubl-testfiles/BIS_Billing_30-Tjanster_Bevakning.xml",
        "zugferd-corpus/xml/invalid/ubl/not_validating_full_invoice_based_onTest_EeISI_300_CENfullmodel.ubl.xml",
    )
}
