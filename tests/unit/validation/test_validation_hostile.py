"""Hostile or broken input: refused with a code, never an exception, never slow."""

from __future__ import annotations

import random
import time

import pytest
from invoice_builders import cii_bytes, facturx_pdf, pdf_with_attachment, ubl_bytes

from backend.invoices.validation import validate_bytes
from backend.invoices.validation import pipeline as pipeline_module

SECRET = "facteur-xxe-canary"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100">&lol9;</rsm:CrossIndustryInvoice>
"""


def xxe_document(tmp_path) -> bytes:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    invoice = cii_bytes().decode("utf-8")
    invoice = invoice.replace("<?xml version='1.0' encoding='UTF-8'?>", "")
    invoice = invoice.replace("F2026-0042", "&xxe;", 1)
    header = f'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
    return (header + invoice).encode("utf-8")


def assert_refused_for_dtd(result) -> None:
    assert result.format == "unsupported" and result.valid is False
    assert [f.rule for f in result.findings] == ["FCT-XML-02"]
    assert SECRET not in repr(result)


def test_xxe_is_refused_and_nothing_is_read(tmp_path) -> None:
    assert_refused_for_dtd(validate_bytes(xxe_document(tmp_path), "facture.xml"))


def test_billion_laughs_is_refused_quickly() -> None:
    start = time.perf_counter()
    assert_refused_for_dtd(validate_bytes(BILLION_LAUGHS, "facture.xml"))
    assert time.perf_counter() - start < 1.0


def test_any_doctype_is_refused_even_without_entities() -> None:
    document = (
        b'<?xml version="1.0"?><!DOCTYPE Invoice SYSTEM "http://example.invalid/x.dtd">'
        + ubl_bytes().split(b"?>", 1)[1]
    )
    assert_refused_for_dtd(validate_bytes(document))


def test_doctype_in_utf16_is_refused() -> None:
    document = BILLION_LAUGHS.decode("ascii").replace(
        '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>'
    )
    assert_refused_for_dtd(validate_bytes(document.encode("utf-16")))


def test_billion_laughs_inside_a_pdf_is_refused(tmp_path) -> None:
    result = validate_bytes(pdf_with_attachment("factur-x.xml", BILLION_LAUGHS), "facture.pdf")
    assert result.format == "unsupported" and result.valid is False
    assert result.findings[0].rule == "FCT-XML-02"
    assert "factur-x.xml" in (result.findings[0].location or "")


def test_xxe_inside_a_pdf_is_refused(tmp_path) -> None:
    result = validate_bytes(pdf_with_attachment("factur-x.xml", xxe_document(tmp_path)), "facture.pdf")
    assert result.format == "unsupported"
    assert result.findings[0].rule == "FCT-XML-02"
    assert SECRET not in repr(result)


def test_size_limit_is_checked_before_anything_else() -> None:
    data = cii_bytes()
    result = validate_bytes(data, "facture.xml", max_size=len(data) - 1)
    assert [f.rule for f in result.findings] == ["FCT-SIZE-01"]
    assert result.valid is False
    assert validate_bytes(data, "facture.xml", max_size=len(data)).valid is True


def test_default_size_limit_is_20_mb() -> None:
    result = validate_bytes(b" " * (20 * 1024 * 1024 + 1))
    assert [f.rule for f in result.findings] == ["FCT-SIZE-01"]
    assert "20 Mo" in result.findings[0].message


def test_deeply_nested_xml_is_refused_not_crashing() -> None:
    depth = 5000
    document = b"<a>" * depth + b"</a>" * depth
    result = validate_bytes(document)
    assert result.format == "unsupported" and result.valid is False


def test_an_internal_error_becomes_a_finding(monkeypatch) -> None:
    def explode(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pipeline_module, "detect", explode)
    result = validate_bytes(cii_bytes(), "facture.xml")
    assert [f.rule for f in result.findings] == ["FCT-INTERNAL-01"]
    assert result.valid is False


@pytest.mark.parametrize("seed", range(3))
def test_mutated_documents_never_raise(seed: int) -> None:
    """Random byte damage on real documents: always a result, never an exception."""
    rng = random.Random(seed)
    originals = [cii_bytes(), ubl_bytes(), facturx_pdf()]
    for _ in range(40):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        cut = rng.randrange(len(data) + 1)
        result = validate_bytes(bytes(data[: max(cut, len(data) // 2)]), "fuzz")
        assert result.format in ("facturx-pdf", "cii-xml", "ubl-xml", "unsupported")
        assert isinstance(result.valid, bool)
