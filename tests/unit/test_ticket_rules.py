"""The ticket's routing and status machine, as data: every pair routes somewhere, every action's
statuses exist, and the tabs cover every status exactly once per side."""

from backend.tickets import categories, statuses


def test_every_pair_routes_to_a_structure_or_to_support():
    assert categories.route_of("factures_emises", "question_entite_publique") == categories.STRUCTURE
    assert categories.route_of("structures_utilisateurs", "creation_structure_publique") == categories.SUPPORT
    assert categories.route_of("compte_connexion", "acces_compte") == categories.SUPPORT
    assert categories.route_of("factures_emises", "acces_compte") is None  # a sub-category of another category
    codes = [(c.code, s.code) for c in categories.CATEGORIES for s in c.subcategories]
    assert len(codes) == len(set(codes)) and all(categories.route_of(*pair) for pair in codes)


def test_actions_go_between_known_statuses_and_tabs_cover_them():
    for action in statuses.ACTIONS.values():
        assert action.sources <= set(statuses.LABELS) and action.target in statuses.LABELS
        assert action.role in (statuses.AUTHOR, statuses.RECEIVER, statuses.SYSTEM)
        if action.needs_assignee or action.body_required:
            assert action.code not in ("assign", "author_close")
    author = [s for _, wanted in statuses.AUTHOR_TABS.values() for s in wanted]
    receiver = [s for _, wanted in statuses.RECEIVER_TABS.values() for s in wanted]
    assert sorted(author) == sorted(statuses.LABELS) and sorted(receiver + [statuses.BROUILLON]) == sorted(statuses.LABELS)
    # Answering needs the ticket taken first; taking it does not.
    assert statuses.ACTIONS["answer"].needs_assignee and not statuses.ACTIONS["assign"].needs_assignee
    assert [a.code for a in statuses.available(statuses.INFO_DEMANDEE, statuses.AUTHOR)] == ["complete", "author_close"]
    # Facteur's own step (the automatic closing) is offered to nobody.
    assert all(a.code != "auto_close" for s in statuses.LABELS for r in (statuses.AUTHOR, statuses.RECEIVER)
               for a in statuses.available(s, r))
