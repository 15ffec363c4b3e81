"""What the invoice PDF can print: the glyph coverage of the DejaVu faces it embeds."""

from __future__ import annotations

import pytest

from backend.invoices.generation import glyphs

pytestmark = pytest.mark.skipif(not glyphs.printable_code_points(), reason="polices DejaVu absentes")


@pytest.mark.parametrize("name", [
    "Menuiserie Lambert & Fils", "Œuvres Ærø — Müller GmbH", "Café « L'Étoile » n° 3", "Ελληνικά Ж Кафе", "Prix 5 € / m²",
    "Sourire 😀 ☺ ★",  # DejaVu draws these (in black and white): exactly what it cannot is refused
])
def test_names_the_pdf_prints_are_accepted(name):
    assert glyphs.unprintable(name) == []
    assert glyphs.unprintable_error("La raison sociale", name) is None


@pytest.mark.parametrize(("name", "refused"), [
    ("Plomberie 🚀", ["🚀"]),
    ("Atelier 🛠 Martin 🦄🛠", ["🛠", "🦄"]),
    ("株式会社テスト", list("株式会社テスト")),
    ("Boulangerie\u0007", ["\u0007"]),
])
def test_characters_no_embedded_face_draws_are_refused(name, refused):
    assert glyphs.unprintable(name) == refused


def test_the_refusal_names_the_characters_in_french():
    message = glyphs.unprintable_error("La raison sociale", "Plomberie 🚀")
    assert message.startswith("La raison sociale contient un caractère que la facture PDF ne peut pas imprimer : 🚀.")
    assert "émoji" in message
    invisible = glyphs.unprintable_error("L'adresse", "12 rue\u0007")
    assert "U+0007" in invisible  # an invisible character is named by its code


def test_the_coverage_is_that_of_the_fonts_the_pdf_embeds():
    from fontTools.ttLib import TTFont

    with TTFont(glyphs.FONT_DIR / "DejaVuSans-Bold.ttf") as bold:
        bold_cmap = set(bold.getBestCmap())
    assert glyphs.printable_code_points() <= bold_cmap  # the name prints in bold
    assert ord("€") in glyphs.printable_code_points() and 0x1F680 not in glyphs.printable_code_points()
