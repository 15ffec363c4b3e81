"""Which rule set applies: BT-24 (guideline) -> factur-x level -> XSD and schematron.

factur-x's ``get_level`` reads BT-24 but is generous on purpose (it serves a
generator): any EN 16931 CIUS such as XRechnung comes out as "en16931", and the
ZUGFeRD 1 "comfort" guideline as an Order-X level. The portal must not call an
XRechnung a Factur-X EN 16931, so a level is kept as a Factur-X *profile* only when
BT-24 names Factur-X / ZUGFeRD 2 or is exactly the EN 16931 core identifier that
Factur-X uses for its EN 16931 profile.
"""

from __future__ import annotations

import facturx
from lxml import etree

from .model import Profile

FACTURX_PROFILES: tuple[Profile, ...] = ("minimum", "basicwl", "basic", "en16931", "extended")
CTC_FR = "extended-ctc-fr"
EN16931_CORE = "urn:cen.eu:en16931:2017"
_FACTURX_MARKERS = ("factur-x.eu", "zugferd.de")


def level_of(root: etree._Element, syntax: str) -> str | None:
    """factur-x's level for this document, or None when it cannot say."""
    flavor = {"CII": "factur-x", "UBL-Invoice": "ubl-2.1-invoice"}.get(syntax, "ubl-2.1-creditnote")
    try:
        return facturx.get_level(root, flavor)
    except Exception:  # missing BT-24, unknown URN: factur-x raises ValueError
        return None


def profile_from_guideline(guideline: str | None, level: str | None = None) -> Profile | None:
    """The Factur-X profile designated by BT-24, None for anything else."""
    if not guideline:
        return None
    guideline = guideline.strip()
    if guideline == EN16931_CORE:
        return "en16931"
    if CTC_FR in guideline:
        return "extended"  # Factur-X EXTENDED-CTC-FR is the French EXTENDED profile
    if not any(marker in guideline for marker in _FACTURX_MARKERS):
        return None
    if level is None:
        level = guideline.split("#")[-1].split(":")[-1]
    return level if level in FACTURX_PROFILES else None  # type: ignore[return-value]
