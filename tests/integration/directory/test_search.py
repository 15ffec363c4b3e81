"""Directory search: accents, every word, SIRET prefix, ranking, inactive structures, limits."""

from __future__ import annotations

import pytest
from stdnum import luhn

from backend.accounts.service import create_supplier_structure
from backend.directory.importer import import_directory
from backend.directory.search import search_structures
from tests.integration.directory.support import PARIS, import_fixtures


@pytest.fixture
async def directory(clean_db):
    await import_fixtures()
    await import_fixtures("search_structures.csv", None)


async def names(query: str) -> list[str]:
    return [r["name"] for r in await search_structures(query)]


@pytest.mark.parametrize("query", ["etienne", "Étienne", "ÉTIENNE", "saint-etienne", "Saint Étienne", "  saint   ÉTIENNE "])
async def test_accents_case_hyphens_and_spaces_do_not_matter(directory, query):
    assert await names(query) == ["Centre hospitalier de Saint-Étienne"]


async def test_apostrophes_and_ligatures_match_as_written(directory):
    assert await names("régie de l'étang") == ["Régie des eaux de l'Étang"]
    assert await names("l'œuvre") == ["Collège L'Œuvre"]


async def test_every_word_must_match_in_any_order(directory):
    assert await names("zola rennes") == ["Lycée Émile Zola"]
    assert await names("rennes lycee") == ["Lycée Émile Zola"]
    assert await names("zola marseille") == []
    assert await names("eaux villebourg") == ["Syndicat des eaux de Villebourg"]


async def test_city_and_postal_code(directory):
    assert await names("rennes") == ["Lycée Émile Zola", "Régie 100% Rennes"]
    assert await names("69400") == ["Communauté de communes de Grandvillebourg"]
    assert await names("saint-priest") == ["Centre hospitalier de Saint-Étienne"]


async def test_siret_prefix_with_or_without_spaces(directory):
    assert await names("21750001600019") == ["Commune de Paris"]
    assert await names("217 500 016") == ["Commune de Paris"]
    results = await search_structures("210001")
    assert [r["siret"] for r in results] == sorted(r["siret"] for r in results)
    assert len(results) == 9
    assert await names("99999999") == []


async def test_ranking_exact_then_prefix_then_word_start_then_anywhere_inactive_last(directory):
    assert await names("villebourg") == [
        "VILLEBOURG",  # the exact name
        "Villebourg Habitat",  # the name starts with the query
        "Commune de Villebourg",  # a word starts with it, alphabetical
        "Syndicat des eaux de Villebourg",
        "Ancienne régie de Villebourg",  # inactive: after the active ones of its group
        "Communauté de communes de Grandvillebourg",  # inside a word
    ]
    assert (await names("commune de villebourg"))[0] == "Commune de Villebourg"


async def test_inactive_structures_are_flagged(directory):
    results = {r["name"]: r for r in await search_structures("villebourg")}
    assert results["Ancienne régie de Villebourg"]["active"] is False
    assert results["Commune de Villebourg"]["active"] is True
    assert set(results["Commune de Villebourg"]) == {"id", "siret", "name", "postal_code", "city", "active"}


async def test_words_inside_other_words_need_three_letters(directory):
    assert "Communauté de communes de Grandvillebourg" in await names("bourg")
    assert await names("rseil") == ["Ville de Marseille"]
    # One letter: only names starting with it (alphabetical on the folded name: "ville de" < "villebourg").
    assert await names("v") == ["Ville de Marseille", "VILLEBOURG", "Villebourg Habitat"]


async def test_like_wildcards_are_plain_characters(directory):
    assert await names("100%") == ["Régie 100% Rennes"]
    assert await names("1_0") == []
    assert await names("%") == []


async def test_supplier_structures_are_not_in_the_directory(directory):
    await create_supplier_structure(_siret(99), "Villebourg Menuiserie")
    assert "Villebourg Menuiserie" not in await names("villebourg")


async def test_empty_query_and_limit(directory, tmp_path):
    assert await search_structures("") == []
    assert await search_structures("   ") == []
    lines = ["Identifiant;RaisonSociale;GestionStatutMiseEnPaiement;GestionEngagement;GestionService;StructureActive;CodePostal;Ville"]
    lines += [f"{_siret(n)};École Jules Ferry;1;0;0;1;{35000 + n};Ville {n:02d}" for n in range(25)]
    path = tmp_path / "ecoles.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert (await import_directory(path)).imported
    results = await names("ecole jules")
    assert len(results) == 20
    assert len(await search_structures("ecole jules", limit=5)) == 5
    assert len(await search_structures("jules ferry")) == 20


async def test_paris_is_found_by_its_city(directory):
    results = await search_structures("paris")
    assert [r["siret"] for r in results] == [PARIS]


def _siret(n: int) -> str:
    siren = f"{40000000 + n:08d}"
    siren += luhn.calc_check_digit(siren)
    body = siren + "0001"
    return body + luhn.calc_check_digit(body)
