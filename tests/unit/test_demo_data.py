from stdnum.fr import siret as stdnum_siret
from stdnum.fr import tva

from backend.demo import PUBLIC, SUPPLIER, demo_description
from backend.demo.justice import EXPERT, JURIDICTIONS
from backend.demo.works import WORKS


def test_demo_identifiers_are_valid():
    for spec in [SUPPLIER, *PUBLIC, *WORKS, *JURIDICTIONS, EXPERT]:
        assert stdnum_siret.is_valid(spec["siret"]), spec["name"]
    assert tva.is_valid(SUPPLIER["vat_number"]) and SUPPLIER["vat_number"].endswith(SUPPLIER["siret"][:9])
    assert tva.is_valid(EXPERT["vat_number"]) and EXPERT["vat_number"].endswith(EXPERT["siret"][:9])


def test_demo_covers_every_directory_flag():
    structures = demo_description()["public_structures"]
    assert len(structures) >= 3
    assert any(s["requires_service"] for s in structures)
    assert any(s["requires_engagement"] for s in structures)
    assert any(not s["reports_payment"] for s in structures)
    assert all(s["services"] and s["agent"]["email"] for s in structures)


def test_demo_works_accounts_have_every_role_once():
    works = demo_description()["works"]
    assert sorted(w["role"] for w in works) == sorted(["moa", "moe", "payer", "titulaire", "cotraitant", "sous_traitant"])
    assert len({w["siret"] for w in works}) == len({w["email"] for w in works}) == 6
