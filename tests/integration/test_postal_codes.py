"""The structure profile checks the postal code (5 digits, a French department) and saves nothing otherwise.

Sign-up asks for no address (the SIRET identifies the structure): the profile is where one is typed.
"""

from __future__ import annotations

import pytest

from backend.directory.tables import Structure
from tests.integration.test_profile import field_error, good_form, input_value, manager, save, structure  # noqa: F401


@pytest.mark.parametrize("typed, message", [
    ("6900", "Le code postal doit compter 5 chiffres, par exemple 69003."),
    ("LYON3", "Le code postal doit compter 5 chiffres, par exemple 69003."),
    ("00300", "Le code postal 00300 ne correspond à aucun département français."),
    ("96100", "Le code postal 96100 ne correspond à aucun département français."),
])
async def test_a_wrong_postal_code_is_refused_next_to_its_field(client, structure, typed, message):  # noqa: F811
    before = await Structure.objects().get(Structure.id == structure.id)
    response = await save(client, structure, good_form(structure, postal_code=typed))
    assert response.status_code == 422
    assert field_error(response.text, "postal_code") == message
    assert input_value(response.text, "postal_code") == typed  # kept for correcting
    after = await Structure.objects().get(Structure.id == structure.id)
    assert (after.name, after.postal_code) == (before.name, before.postal_code)  # nothing saved


async def test_a_postal_code_typed_with_a_space_is_saved_as_five_digits(client, structure):  # noqa: F811
    response = await save(client, structure, good_form(structure, postal_code="97 200", city="Fort-de-France"),
                          follow_redirects=False)
    assert response.status_code in (302, 303)
    saved = await Structure.objects().get(Structure.id == structure.id)
    assert saved.postal_code == "97200" and "97200" in saved.search_key
