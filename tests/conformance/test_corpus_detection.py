"""Format detection and Factur-X profile against MANIFEST.tsv and VERIFY.tsv."""

from __future__ import annotations

import pytest
from corpus_support import corpus_result, manifest, params, require_corpus, verify
from known_differences import DETECTION_DIFFERENCES

FACTURX_PROFILES = {"MINIMUM", "BASICWL", "BASIC", "EN16931", "EXTENDED"}


def _expected_format(kind: str) -> str:
    return "unsupported" if kind == "other" else kind


@pytest.mark.parametrize("path", params(sorted(manifest())))
def test_detected_format_matches_manifest_kind(path: str) -> None:
    require_corpus()
    row = manifest()[path]
    result = corpus_result(path)
    if path in DETECTION_DIFFERENCES:
        code, _reason = DETECTION_DIFFERENCES[path]
        assert result.format == "unsupported"
        assert [f.rule for f in result.findings if f.stage == "detect"] == [code]
        return
    assert result.format == _expected_format(row["kind"]), [f.rule for f in result.findings]
    if result.format == "unsupported":
        refusals = [f for f in result.findings if f.stage == "detect" and f.severity == "fatal"]
        assert refusals and all(f.rule.startswith("FCT-") and f.message for f in refusals)
        assert result.valid is False


@pytest.mark.parametrize(
    "path", params(sorted(p for p, r in manifest().items() if r["profile"] in FACTURX_PROFILES))
)
def test_profile_matches_manifest(path: str) -> None:
    require_corpus()
    result = corpus_result(path)
    assert (result.profile or "").upper() == manifest()[path]["profile"]


def _profile_rows() -> list[str]:
    kinds = ("cii-xml", "facturx-pdf")
    return sorted(
        p
        for p, r in verify().items()
        if (r["fx_profile"] or manifest()[p]["kind"] in kinds) and p not in DETECTION_DIFFERENCES
    )


@pytest.mark.parametrize("path", params(_profile_rows()))
def test_profile_matches_verify(path: str) -> None:
    """VERIFY names a Factur-X profile only when BT-24 designates one; an XRechnung
    or Peppol CII has none (neither has any UBL file)."""
    require_corpus()
    result = corpus_result(path)
    assert (result.profile or "").upper() == verify()[path]["fx_profile"]
