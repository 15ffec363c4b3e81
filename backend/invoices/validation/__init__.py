"""Deposit validation: format detection, extraction, XSD and EN 16931 business rules.

Pure Python (lxml, factur-x, saxonche, msgspec): no database, no web framework. The
web app calls ``validate_bytes`` from a worker thread; call ``warm_up()`` once at
server start so that the first deposit does not pay for compiling the stylesheets.
"""

from .codes import CODES, incomplete_profile_finding
from .model import (
    Amount,
    Finding,
    Identifier,
    Line,
    NormalizedInvoice,
    Party,
    Totals,
    ValidationResult,
    VatBreakdown,
)
from .pipeline import DEFAULT_MAX_SIZE, validate_bytes, validate_rule_fragment, warm_up
from .report import result_to_json_dict, text_report

__all__ = [
    "CODES",
    "DEFAULT_MAX_SIZE",
    "Amount",
    "Finding",
    "Identifier",
    "Line",
    "NormalizedInvoice",
    "Party",
    "Totals",
    "ValidationResult",
    "VatBreakdown",
    "incomplete_profile_finding",
    "result_to_json_dict",
    "text_report",
    "validate_bytes",
    "validate_rule_fragment",
    "warm_up",
]
