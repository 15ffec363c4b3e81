"""Parsing untrusted XML.

Deposited files come from anyone with an account (or an API key), so the parser
never resolves entities, never loads a DTD, never touches the network and keeps
libxml2's size limits (huge_tree=False). On top of that any DOCTYPE is refused
outright: an e-invoice never needs one, and refusing it closes XXE and
entity-expansion ("billion laughs") attacks whatever the parser version does.
"""

from __future__ import annotations

import threading

from lxml import etree

from .codes import finding
from .model import Finding

# A DOCTYPE or ENTITY declaration in an ASCII-compatible encoding or in UTF-16 (XML
# keywords are case-sensitive). Anything else is caught after parsing through
# docinfo.doctype.
_DTD_MARKERS = tuple(
    keyword.encode(encoding)
    for keyword in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("ascii", "utf-16-le", "utf-16-be")
)

_local = threading.local()


def _parser() -> etree.XMLParser:
    # XMLParser objects are not thread-safe: one per thread.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_blank_text=False,
        )
        _local.parser = parser
    return parser


def has_dtd_marker(data: bytes) -> bool:
    return any(marker in data for marker in _DTD_MARKERS)


def parse_untrusted(data: bytes) -> tuple[etree._Element | None, Finding | None]:
    """Parse XML bytes safely: (root, None) or (None, refusal finding)."""
    if has_dtd_marker(data):
        return None, finding("FCT-XML-02")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        return None, finding("FCT-XML-01", detail=_syntax_detail(exc))
    except (ValueError, etree.LxmlError) as exc:
        return None, finding("FCT-XML-01", detail=str(exc)[:200])
    if root is None:
        return None, finding("FCT-XML-01", detail="document vide")
    if root.getroottree().docinfo.doctype:
        return None, finding("FCT-XML-02")
    return root, None


def _syntax_detail(exc: etree.XMLSyntaxError) -> str:
    msg = (exc.msg or str(exc)).strip()
    line = getattr(exc, "lineno", None)
    if line:
        return f"ligne {line} : {msg}"[:300]
    return msg[:300]


def looks_like_xml(data: bytes) -> bool:
    """True when the bytes start (after a BOM and blanks) like an XML document."""
    head = data[:512]
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if head.startswith(bom):
            return True  # only text files carry a BOM; the parser decides
    stripped = head.lstrip(b" \t\r\n")
    return stripped.startswith(b"<")
