"""French reform rules and CEN CII syntax rules against VERIFY.tsv.

* BR-FR "Flux 2" runs on every deposit: the rules it reports are the ones VERIFY's
  `br_fr_fatal` column lists (documented exceptions in known_differences), and by
  default they never change the verdict (warnings).
* The CEN EN 16931 CII stylesheet runs on CII and Factur-X: the FNFE examples that the
  official validator refuses for CII-DT-031 alone are refused for it.
"""

from __future__ import annotations

import pytest
from corpus_support import corpus_result, manifest, params, require_corpus, verify
from known_differences import BR_FR_DIFFERENCES


def _french_rows() -> list[str]:
    return sorted(
        p
        for p, r in verify().items()
        if manifest()[p]["profile"] not in ("rule-fragment", "minimum")
        and r["observed"] != "case-ok"
        and "XSLT-DYNAMIC-ERROR" not in r["br_fr_fatal"]
        and p not in BR_FR_DIFFERENCES
    )


@pytest.mark.parametrize("path", params(_french_rows()))
def test_french_rules_agree_with_verify(path: str) -> None:
    require_corpus()
    result = corpus_result(path)
    if result.format == "unsupported" or result.profile == "minimum":
        return  # refused at detection, or BR-FR not applicable (see POLICY.md)
    expected = set(filter(None, verify()[path]["br_fr_fatal"].split(",")))
    french = [f for f in result.findings if f.rule.startswith("BR-FR")]
    assert {f.rule for f in french} == expected
    # Outside the strict mode the French rules inform, they never refuse.
    assert all(f.severity == "warning" for f in french)


@pytest.mark.parametrize("path", params(sorted(BR_FR_DIFFERENCES)))
def test_documented_french_rule_differences_still_hold(path: str) -> None:
    require_corpus()
    expected = set(filter(None, verify()[path]["br_fr_fatal"].split(",")))
    got = {f.rule for f in corpus_result(path).findings if f.rule.startswith("BR-FR")}
    assert expected - got == {"BR-FR-02_EXT-FR-FE-136"}


CII_DT_031_ONLY = [
    "zugferd-corpus/pdf/invalid/FNFE-factur-x-examples/Avoir_FR_type380_EN16931.pdf",
    "zugferd-corpus/pdf/invalid/FNFE-factur-x-examples/Avoir_FR_type381_EN16931.pdf",
    "zugferd-corpus/pdf/invalid/FNFE-factur-x-examples/Facture_FR_EN16931.pdf",
    "mustang/invalid/invalidV2Profile.xml",
]


@pytest.mark.parametrize("path", params(CII_DT_031_ONLY))
def test_cen_cii_syntax_rule_refuses_what_the_official_validator_refuses(path: str) -> None:
    require_corpus()
    result = corpus_result(path)
    assert result.valid is False
    assert "sch:cen-cii" in result.checks
    fatal = {f.rule for f in result.findings if f.severity == "fatal"}
    assert fatal == {"CII-DT-031"}
    finding = next(f for f in result.findings if f.rule == "CII-DT-031")
    assert finding.stage == "en16931" and finding.official
