"""The structure profile: address, VAT number, IBAN/BIC, contact; French errors next to
the field, and nothing saved when one field is wrong."""

from __future__ import annotations

import html
import re

import pytest
from stdnum.fr import tva as stdnum_tva

from backend.directory.tables import Structure
from tests.support.accounts import Person, valid_siret
from tests.support.web import post_form

IBAN = "FR7630006000011234567890189"
BIC = "AGRIFRPP"




def vat_of(siren: str) -> str:
    """The French VAT number of a SIREN: key = (12 + 3 × (SIREN mod 97)) mod 97."""
    return "FR%02d%s" % ((12 + 3 * (int(siren) % 97)) % 97, siren)


def page_text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def field_error(page: str, name: str) -> str | None:
    """The error printed next to a field (the <p> its input points to), or None."""
    match = re.search(rf'<p class="field-error" id="e-{name}">([^<]*)</p>', page)
    if not match:
        return None
    input_tag = re.search(rf'<input id="f-{name}"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in input_tag and f"e-{name}" in input_tag
    return html.unescape(match.group(1))


def input_value(page: str, name: str) -> str:
    tag = re.search(rf'<input id="f-{name}"[^>]*>', page).group(0)
    return html.unescape(re.search(r'value="([^"]*)"', tag).group(1))


@pytest.fixture
async def manager(accounts) -> Person:
    return await accounts.registered(company="Menuiserie Lambert")


@pytest.fixture
async def structure(manager) -> Structure:
    return await Structure.objects().get(Structure.siret == manager.siret)


def good_form(structure: Structure, **changes: str) -> dict[str, str]:
    form = {
        "name": "Menuiserie Lambert et fils",
        "address_line1": "4 impasse des Tilleuls",
        "address_line2": "Bâtiment B",
        "postal_code": "69003",
        "city": "Lyon",
        "vat_number": "",
        "iban": "FR76 3000 6000 0112 3456 7890 189",
        "bic": "agrifrpp",
        "contact_email": "Compta@Lambert.FR",
    }
    return form | changes


async def save(client, structure: Structure, form: dict[str, str], **kwargs):
    url = f"/structures/{structure.id}/profile"
    return await post_form(client, url, url, form, **kwargs)


@pytest.mark.parametrize("siren", ["303265045", "732829320", "895723989"])
def test_the_vat_formula_of_these_tests_agrees_with_python_stdnum(siren):
    assert stdnum_tva.is_valid(vat_of(siren))
    assert not stdnum_tva.is_valid(vat_of(siren)[:2] + "00" + siren)


async def test_profile_page_shows_the_structure(client, manager, structure):
    response = await client.get(f"/structures/{structure.id}/profile")
    assert response.status_code == 200
    text = page_text(response.text)
    assert f"SIRET {structure.siret} · SIREN {structure.siren}" in text
    assert input_value(response.text, "name") == "Menuiserie Lambert"
    assert f"FR + clé + SIREN, par exemple FR32{structure.siren}" in text


async def test_profile_saves_address_iban_bic_and_contact_cleaned(client, manager, structure):
    response = await save(client, structure, good_form(structure), follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == f"/structures/{structure.id}/profile"
    saved = await Structure.objects().get(Structure.id == structure.id)
    assert saved.name == "Menuiserie Lambert et fils"
    assert (saved.address_line1, saved.address_line2, saved.postal_code, saved.city) == (
        "4 impasse des Tilleuls", "Bâtiment B", "69003", "Lyon")
    assert saved.iban == IBAN
    assert saved.bic == BIC
    assert saved.contact_email == "compta@lambert.fr"
    assert saved.vat_number == ""
    assert "lyon" in saved.search_key and "lambert" in saved.search_key

    page = await client.get(response.headers["location"])
    assert "Profil de la structure enregistré." in page_text(page.text)
    assert input_value(page.text, "iban") == IBAN
    assert input_value(page.text, "address_line2") == "Bâtiment B"
    assert "Menuiserie Lambert et fils" in page_text(page.text)  # the header follows the new name


async def test_profile_accepts_the_vat_number_of_its_own_siren(client, manager, structure):
    vat = vat_of(structure.siren)
    spaced = f"{vat[:2].lower()} {vat[2:4]} {vat[4:7]} {vat[7:10]} {vat[10:]}"
    response = await save(client, structure, good_form(structure, vat_number=spaced))
    assert response.status_code == 200, field_error(response.text, "vat_number")
    saved = await Structure.objects().get(Structure.id == structure.id)
    assert saved.vat_number == vat
    assert saved.iban == IBAN and saved.bic == BIC


def _other_siren() -> str:
    return valid_siret(424_242)[:9]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("vat_number", "FR00{siren}", "Ce numéro de TVA intracommunautaire n'est pas valide (format FRxx + SIREN)."),
        ("vat_number", "FR12ABC", "Ce numéro de TVA intracommunautaire n'est pas valide (format FRxx + SIREN)."),
        ("vat_number", "{other_vat}", "Ce numéro de TVA ne correspond pas au SIREN de la structure."),
        ("iban", "FR7630006000011234567890188", "Cet IBAN n'est pas valide (clé de contrôle incorrecte)."),
        ("iban", "FR76", "Cet IBAN n'est pas valide (clé de contrôle incorrecte)."),
        ("bic", "AGRIFRP", "Ce BIC n'est pas valide (8 ou 11 caractères)."),
        ("bic", "12RIFRPP", "Ce BIC n'est pas valide (8 ou 11 caractères)."),
        ("name", "   ", "La raison sociale est obligatoire."),
        ("postal_code", "1" * 17, "Le code postal est trop long (16 caractères au plus)."),
        ("contact_email", "compta@", "Cette adresse e-mail n'est pas valide."),
    ],
    ids=["vat-bad-key", "vat-garbage", "vat-other-siren", "iban-bad-key", "iban-short", "bic-7-chars",
         "bic-digits", "name-blank", "postal-code-long", "contact-email"],
)
async def test_a_wrong_field_is_refused_in_french_next_to_it_and_nothing_is_saved(client, manager, structure, field, value, message):
    value = value.format(siren=structure.siren, other_vat=vat_of(_other_siren()))
    before = await Structure.select().where(Structure.id == structure.id).first()
    form = good_form(structure, **{field: value})
    response = await save(client, structure, form)
    assert response.status_code == 422
    assert field_error(response.text, field) == message
    assert "Corrigez les champs signalés ci-dessous." in page_text(response.text)
    others = [name for name in form if name != field and field_error(response.text, name)]
    assert others == []  # only the wrong field is flagged
    assert input_value(response.text, field) == value  # what was typed is kept for correction
    assert input_value(response.text, "address_line1") == "4 impasse des Tilleuls"
    assert await Structure.select().where(Structure.id == structure.id).first() == before  # not even the good fields


async def test_several_wrong_fields_are_all_reported(client, manager, structure):
    before = await Structure.select().where(Structure.id == structure.id).first()
    response = await save(client, structure, good_form(structure, iban="FR00 1234", bic="X", vat_number="FR99"))
    assert response.status_code == 422
    assert {name for name in ("vat_number", "iban", "bic") if field_error(response.text, name)} == {"vat_number", "iban", "bic"}
    assert await Structure.select().where(Structure.id == structure.id).first() == before


async def test_emptying_optional_fields_is_allowed(client, manager, structure):
    await save(client, structure, good_form(structure))
    response = await save(client, structure, good_form(structure, iban="", bic="", contact_email="", address_line2=""),
                          follow_redirects=False)
    assert response.status_code in (302, 303)
    saved = await Structure.objects().get(Structure.id == structure.id)
    assert (saved.iban, saved.bic, saved.contact_email, saved.address_line2) == ("", "", "", "")


async def test_a_name_or_address_the_pdf_cannot_print_is_refused_in_french(client, manager, structure):
    before = await Structure.select().where(Structure.id == structure.id).first()
    response = await save(client, structure, good_form(structure, name="Menuiserie Lambert 🚀", city="Lyon 🦄"))
    assert response.status_code == 422
    assert field_error(response.text, "name") == (
        "La raison sociale contient un caractère que la facture PDF ne peut pas imprimer : 🚀. Retirez-le "
        "(lettres, accents, chiffres et signes usuels sont acceptés ; pas d'émoji ni de symbole décoratif).")
    assert "🦄" in field_error(response.text, "city")
    assert await Structure.select().where(Structure.id == structure.id).first() == before
    accepted = await save(client, structure, good_form(structure, name="Ærø Menuiserie — Ελλάς"), follow_redirects=False)
    assert accepted.status_code in (302, 303)  # other scripts the PDF's font draws are kept
