"""A synthetic Chorus Pro directory export: N structures and their services, deterministic.

Names, cities and flags imitate the real annuaire (communes, CCAS, schools, hospitals,
syndicates…, mostly upper case, accents, hyphens, apostrophes), written in Windows-1252
with `;` like the real export, with the extra columns the real file has.

    .venv/bin/python bench/directory/generate.py 150000 /tmp/structures.csv /tmp/services.csv
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from stdnum import luhn

HEADER = (
    "TypeIdentifiant;Identifiant;RaisonSociale;EmetteurEdi;RecepteurEdi;GestionStatutMiseEnPaiement;"
    "GestionEngagement;GestionService;GestionServiceEngagement;EstMOA;EstMOAUniquement;StructureActive;"
    "Adresse;ComplementAdresse1;ComplementAdresse2;CodePostal;Ville;NumTelephone;Courriel;CodePays;LibellePays"
)
SERVICE_HEADER = "IdentifiantStructure;CodeService;NomService;GestionEGMT;ServiceActif"

_ONSETS = ["b", "br", "c", "ch", "cl", "d", "f", "fr", "g", "gr", "j", "l", "m", "n", "p", "pl", "r", "s", "t", "tr", "v", "vi"]
_VOWELS = ["a", "e", "i", "o", "u", "é", "è", "ai", "au", "ou", "ie", "eu", "â", "ô"]
_CODAS = ["", "", "n", "r", "l", "s", "t", "nt", "rt", "x", "c"]
_ENDINGS = ["ville", "bourg", "court", "mont", "ac", "ay", "ières", "heim", "eux", "elle", "ange", "y", "oux", "iers", "at"]
_PREFIXES = ["", "", "", "", "Saint-", "Sainte-", "Le ", "La ", "Les ", "Villeneuve-", "Mont-", "Fontaine-"]
_SUFFIXES = ["", "", "", "", "", "-sur-Mer", "-sur-Saône", "-sur-Loire", "-lès-Bains", "-en-Bresse", "-le-Château",
             "-la-Forêt", "-d'Azur", "-les-Vignes", "-sous-Bois", "-en-Yvelines"]
_FIRST = ["Jean", "Marie", "Louis", "Jules", "Victor", "Simone", "Pierre", "Marcel", "Paul", "Émile", "Jacques",
          "Lucie", "Germaine", "Anatole", "Irène", "Françoise", "Hélène", "Aimé", "Léon", "Gustave", "Rosa", "Olympe"]
_LAST = ["Moulin", "Ferry", "Curie", "Hugo", "Zola", "Jaurès", "Pasteur", "Verne", "Camus", "Prévert", "Veil",
         "Pagnol", "Daudet", "Brassens", "Renoir", "Monet", "Lumière", "Cézanne", "Éluard", "Desnos", "Césaire",
         "de Gaulle", "Mendès-France", "Blum", "Condorcet", "Montesquieu", "Rousseau", "Diderot", "d'Alembert"]
_REGIONS = ["Val de Saône", "Pays de Gex", "Haut-Jura", "Pays d'Auge", "Vallée de l'Hérault", "Causses et Cévennes",
            "Plateau de Langres", "Pays de Bray", "Val d'Oise", "Bocage Bressuirais", "Grand Ouest", "Côte d'Opale"]
_DEPARTMENTS = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B", "971", "972", "973", "974"]

# (weight, pattern); {city}, {person}, {region}, {n} are filled in.
_KINDS = [
    (30, "Commune de {city}"), (9, "CCAS de {city}"), (10, "École élémentaire {person}"),
    (5, "École maternelle {person}"), (5, "Collège {person}"), (3, "Lycée {person}"),
    (4, "Syndicat intercommunal des eaux de {city}"), (3, "SIVOM de {city}"), (3, "Caisse des écoles de {city}"),
    (1, "Communauté de communes du {region}"), (1, "Centre hospitalier de {city}"), (5, "EHPAD {person}"),
    (2, "Office public de l'habitat de {city}"), (2, "Régie des eaux de {city}"), (1, "Syndicat mixte du {region}"),
    (1, "Centre communal d'action sociale de {city}"), (2, "Trésorerie de {city}"), (1, "Établissement public foncier {n}"),
    (1, "Direction départementale des territoires {n}"), (2, "Centre de gestion de la fonction publique {n}"),
    (1, "Lycée professionnel {person}"), (1, "Maison de retraite {person}"),
]
_SERVICE_NAMES = ["Direction des finances", "Services techniques", "Affaires scolaires", "Service des achats",
                  "Ressources humaines", "Pharmacie", "Restauration", "Voirie", "Urbanisme", "Comptabilité",
                  "Informatique", "Culture et patrimoine", "Espaces verts", "Petite enfance", "Sports"]


def siret_of(n: int) -> str:
    siren = f"{n:08d}"
    siren += luhn.calc_check_digit(siren)
    body = siren + f"{(n % 97) + 10:04d}"
    return body + luhn.calc_check_digit(body)


def _word(rng: random.Random) -> str:
    syllables = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(rng.randint(1, 2)))
    return (syllables + rng.choice(_ENDINGS)).capitalize()


def cities(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(name, postal code) pairs."""
    result = []
    for _ in range(count):
        name = rng.choice(_PREFIXES) + _word(rng) + rng.choice(_SUFFIXES)
        dept = rng.choice(_DEPARTMENTS)
        postal = (dept.replace("2A", "20").replace("2B", "20") + f"{rng.randint(0, 999):03d}")[:5]
        result.append((name, postal))
    return result


def _bool(rng: random.Random, probability: float) -> str:
    value = rng.random() < probability
    return ("true" if value else "false") if rng.random() < 0.9 else ("1" if value else "0")


def generate(rows: int, structures_path: Path, services_path: Path, seed: int = 2026) -> dict:
    """Write both files; return what the bench needs (SIRETs, names, cities)."""
    rng = random.Random(seed)
    city_list = cities(rng, max(1000, rows // 4))
    weights = [w for w, _ in _KINDS]
    patterns = [p for _, p in _KINDS]
    names: list[str] = []
    sirets: list[str] = []
    service_lines: list[str] = []
    with structures_path.open("w", encoding="cp1252", newline="") as out:
        out.write(HEADER + "\r\n")
        for i in range(rows):
            city, postal = rng.choice(city_list)
            pattern = rng.choices(patterns, weights)[0]
            name = pattern.format(city=city, person=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                                  region=rng.choice(_REGIONS), n=rng.choice(_DEPARTMENTS))
            if rng.random() < 0.7:
                name = name.upper()
            kind = "SIRET"
            identifier = siret_of(10_000_000 + i * 37)
            if rng.random() < 0.01:
                kind, identifier = rng.choice([("RIDET", f"{rng.randint(0, 9999999):07d}.001"), ("TAHITI", f"A{rng.randint(0, 99999):05d}")])
            else:
                names.append(name)
                sirets.append(identifier)
            active = "true" if rng.random() > 0.05 else "false"
            fields = [
                kind, identifier, name, "false", "true", _bool(rng, 0.9), _bool(rng, 0.3), _bool(rng, 0.2),
                _bool(rng, 0.05), "false", "false", active, f"{rng.randint(1, 120)} rue {rng.choice(_LAST)}", "", "",
                postal, city.upper() if rng.random() < 0.5 else city, "", "", "FR", "France",
            ]
            out.write(";".join(fields) + "\r\n")
            if kind == "SIRET" and rng.random() < 0.2:
                for code_index in range(rng.randint(1, 6)):
                    service = rng.choice(_SERVICE_NAMES)
                    service_lines.append(";".join([
                        identifier, f"{service[:3].upper()}{code_index:02d}", service,
                        "true" if rng.random() < 0.2 else "false", "true" if rng.random() > 0.05 else "false",
                    ]))
    with services_path.open("w", encoding="cp1252", newline="") as out:
        out.write(SERVICE_HEADER + "\r\n")
        for line in service_lines:
            out.write(line + "\r\n")
    return {"names": names, "sirets": sirets, "cities": [c for c, _ in city_list], "services": len(service_lines)}


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 150_000
    info = generate(count, Path(sys.argv[2] if len(sys.argv) > 2 else "structures.csv"),
                    Path(sys.argv[3] if len(sys.argv) > 3 else "services.csv"))
    print(f"{count} structures, {info['services']} services")
