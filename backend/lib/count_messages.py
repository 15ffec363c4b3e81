"""Every message that prints a count, with what it must say for 0, 1 and 2.

Each entry names a file, the exact snippet in it that prints the count (a Jinja expression for
a template, a Python expression for a module), the values that snippet reads for a count n, and
the three texts it must produce. tests/unit/test_count_messages.py renders each snippet with the
real filters for 0, 1 and 2, checks the snippet is still in its file, and fails on any call of
plural()/agree() in templates or backend code that is not listed here — so adding a message means
adding it to this list. In French 0 and 1 take the singular (backend/lib/formats.py plural).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace as NS
from typing import Any, NamedTuple


class CountMessage(NamedTuple):
    file: str  # from the repository root
    source: str  # the exact snippet in that file that prints the count
    names: Callable[[int], dict[str, Any]]  # the values the snippet reads, for a count n
    shown: tuple[str, str, str]  # what it prints for 0, 1 and 2


T = "frontend/templates/"

COUNT_MESSAGES: list[CountMessage] = [
    # Deposits: the report of one deposit and the list of deposits.
    CountMessage(T + "invoices/deposit_report.html",
                 '{{ deposit.accepted_count | plural("facture intégrée", "factures intégrées") }}',
                 lambda n: {"deposit": {"accepted_count": n}},
                 ("0 facture intégrée", "1 facture intégrée", "2 factures intégrées")),
    CountMessage(T + "invoices/deposit_report.html",
                 '{{ deposit.file_count | plural("fichier déposé", "fichiers déposés") }}',
                 lambda n: {"deposit": {"file_count": n}},
                 ("0 fichier déposé", "1 fichier déposé", "2 fichiers déposés")),
    CountMessage(T + "invoices/deposit_report.html",
                 '{{ item.blocking | length | plural("point bloquant à corriger", "points bloquants à corriger") }}',
                 lambda n: {"item": {"blocking": [{}] * n}},
                 ("0 point bloquant à corriger", "1 point bloquant à corriger", "2 points bloquants à corriger")),
    CountMessage(T + "invoices/deposit_report.html",
                 '{{ item.warning_count | plural("avertissement (non bloquant)", "avertissements (non bloquants)") }}',
                 lambda n: {"item": {"warning_count": n}},
                 ("0 avertissement (non bloquant)", "1 avertissement (non bloquant)", "2 avertissements (non bloquants)")),
    CountMessage(T + "invoices/deposits.html", '{{ d.file_count | plural("fichier") }}',
                 lambda n: {"d": {"file_count": n}}, ("0 fichier", "1 fichier", "2 fichiers")),
    CountMessage(T + "invoices/deposits.html", '{{ d.accepted_count | plural("intégré") }}',
                 lambda n: {"d": {"accepted_count": n}}, ("0 intégré", "1 intégré", "2 intégrés")),
    # Actions on several invoices at once: the confirmation page and the summary after.
    CountMessage(T + "invoices/bulk.html", '{{ n | plural("facture") }}',
                 lambda n: {"n": n}, ("0 facture", "1 facture", "2 factures")),
    CountMessage("backend/processing/bulk.py", 'plural(done, f"facture {one}", f"factures {several}")',
                 lambda n: {"done": n, "one": "mandatée", "several": "mandatées"},
                 ("0 facture mandatée", "1 facture mandatée", "2 factures mandatées")),
    CountMessage("backend/processing/bulk.py", "plural(len(refused), 'refusée')",
                 lambda n: {"refused": [None] * n}, ("0 refusée", "1 refusée", "2 refusées")),
    # Synthèse (home page): a recipient that never reports payment.
    CountMessage(T + "_summary.html",
                 '{{ s.count | plural("Votre facture passée en service fait ou mandatée chez cette entité ne changera", '
                 '"Vos {n} factures passées en service fait ou mandatées chez cette entité ne changeront") }}',
                 lambda n: {"s": {"count": n}},
                 ("Votre facture passée en service fait ou mandatée chez cette entité ne changera",
                  "Votre facture passée en service fait ou mandatée chez cette entité ne changera",
                  "Vos 2 factures passées en service fait ou mandatées chez cette entité ne changeront")),
    CountMessage(T + "_summary.html", '{{ n | plural("rejetée à lire", "rejetées à lire") }}',
                 lambda n: {"n": n}, ("0 rejetée à lire", "1 rejetée à lire", "2 rejetées à lire")),
    CountMessage(T + "_summary.html", '{{ n | plural("suspendue", "suspendues") }}',
                 lambda n: {"n": n}, ("0 suspendue", "1 suspendue", "2 suspendues")),
    CountMessage(T + "_summary.html", '{{ n | plural("à recycler", "à recycler") }}',
                 lambda n: {"n": n}, ("0 à recycler", "1 à recycler", "2 à recycler")),
    CountMessage(T + "accounts/_invoicing_steps.html", '{{ steps_done | plural("étape") }}',
                 lambda n: {"steps_done": n}, ("0 étape", "1 étape", "2 étapes")),
    CountMessage(T + "home.html",
                 '{{ pending_requests[0] | plural("demande de rattachement en attente", "demandes de rattachement en attente") }}',
                 lambda n: {"pending_requests": [n, 0]},
                 ("0 demande de rattachement en attente", "1 demande de rattachement en attente",
                  "2 demandes de rattachement en attente")),
    CountMessage(T + "home.html",
                 '{{ pending_requests[1] | plural("demande d\'habilitation en attente", "demandes d\'habilitation en attente") }}',
                 lambda n: {"pending_requests": [0, n]},
                 ("0 demande d'habilitation en attente", "1 demande d'habilitation en attente",
                  "2 demandes d'habilitation en attente")),
    CountMessage(T + "webhooks/_delivery_row.html", '{{ d.attempts | plural("tentative") }}',
                 lambda n: {"d": {"attempts": n}}, ("0 tentative", "1 tentative", "2 tentatives")),
    # Questions to a public structure: who will answer.
    CountMessage(T + "directory/structure.html",
                 '{{ question.agents | plural("agent de la structure est inscrit sur Facteur et vous répondra", '
                 '"agents de la structure sont inscrits sur Facteur et vous répondront") }}',
                 lambda n: {"question": {"agents": n}},
                 ("0 agent de la structure est inscrit sur Facteur et vous répondra",
                  "1 agent de la structure est inscrit sur Facteur et vous répondra",
                  "2 agents de la structure sont inscrits sur Facteur et vous répondront")),
    # Unread messages: the navigation badge, the invoice rows, the threads.
    CountMessage(T + "messages/_badge.html", '{{ unread | agree("message non lu", "messages non lus") }}',
                 lambda n: {"unread": n}, ("message non lu", "message non lu", "messages non lus")),
    CountMessage(T + "invoices/_row.html", '{{ unread[i.id] | agree("message non lu", "messages non lus") }}',
                 lambda n: {"unread": {7: n}, "i": {"id": 7}}, ("message non lu", "message non lu", "messages non lus")),
    CountMessage(T + "messages/_thread.html",
                 '{{ thread.unread_before | plural("nouveau message", "nouveaux messages") }}',
                 lambda n: {"thread": {"unread_before": n}}, ("0 nouveau message", "1 nouveau message", "2 nouveaux messages")),
    CountMessage(T + "messages/notifications.html", '{{ t.unread | plural("non lu", "non lus") }}',
                 lambda n: {"t": {"unread": n}}, ("0 non lu", "1 non lu", "2 non lus")),
    CountMessage(T + "messages/_question_rows.html", '{{ q.unread | plural("non lu", "non lus") }}',
                 lambda n: {"q": {"unread": n}}, ("0 non lu", "1 non lu", "2 non lus")),
    CountMessage(T + "directory/structure.html", '{{ q.unread | plural("non lu", "non lus") }}',
                 lambda n: {"q": {"unread": n}}, ("0 non lu", "1 non lu", "2 non lus")),
    # Directory search: the sentence the screen reader hears.
    CountMessage(T + "directory/_macros.html",
                 '{{ results | length | plural("structure trouvée", "structures trouvées") }}',
                 lambda n: {"results": [{}] * n}, ("0 structure trouvée", "1 structure trouvée", "2 structures trouvées")),
    # Flash message after the guided profile form.
    CountMessage("backend/accounts/account_controllers.py", "plural(len(missing), 'étape')",
                 lambda n: {"missing": [None] * n}, ("0 étape", "1 étape", "2 étapes")),
    # Validation reports and API problem details.
    CountMessage("backend/invoices/validation/report.py", "plural(len(fatal), 'erreur')",
                 lambda n: {"fatal": [None] * n}, ("0 erreur", "1 erreur", "2 erreurs")),
    CountMessage("backend/invoices/validation/report.py", "plural(len(warnings), 'avertissement')",
                 lambda n: {"warnings": [None] * n}, ("0 avertissement", "1 avertissement", "2 avertissements")),
    CountMessage("backend/invoices/validation/xsd.py", "plural(rest, 'autre erreur', 'autres erreurs')",
                 lambda n: {"rest": n}, ("0 autre erreur", "1 autre erreur", "2 autres erreurs")),
    CountMessage("backend/invoices/validation/values.py", "plural(len(rows), 'taux')",
                 lambda n: {"rows": [None] * n}, ("0 taux", "1 taux", "2 taux")),
    CountMessage("backend/invoices/validation/values.py", 'plural(lines, "ligne")',
                 lambda n: {"lines": n}, ("0 ligne", "1 ligne", "2 lignes")),
    CountMessage("backend/invoices/validation/values.py", "plural(charges, 'remise ou frais', 'remises ou frais')",
                 lambda n: {"charges": n}, ("0 remise ou frais", "1 remise ou frais", "2 remises ou frais")),
    CountMessage("backend/api/decoding.py", "plural(len(findings) - 1, 'autre constat', 'autres constats')",
                 lambda n: {"findings": [None] * (n + 1)}, ("0 autre constat", "1 autre constat", "2 autres constats")),
    CountMessage("backend/directory/export_csv.py",
                 "agree(len(missing), 'colonne obligatoire absente', 'colonnes obligatoires absentes')",
                 lambda n: {"missing": [None] * n},
                 ("colonne obligatoire absente", "colonne obligatoire absente", "colonnes obligatoires absentes")),
    # Directory import report (command line).
    CountMessage("backend/directory/importer.py", "plural(counts.created, f'créé{e}', f'créé{e}s')",
                 lambda n: {"counts": NS(created=n), "e": "e"}, ("0 créée", "1 créée", "2 créées")),
    CountMessage("backend/directory/importer.py",
                 "plural(counts.updated, f'mis{e} à jour', f'mis{e}s à jour' if feminine else 'mis à jour')",
                 lambda n: {"counts": NS(updated=n), "e": "e", "feminine": True},
                 ("0 mise à jour", "1 mise à jour", "2 mises à jour")),
    CountMessage("backend/directory/importer.py", "plural(counts.unchanged, f'inchangé{e}', f'inchangé{e}s')",
                 lambda n: {"counts": NS(unchanged=n), "e": ""}, ("0 inchangé", "1 inchangé", "2 inchangés")),
    CountMessage("backend/directory/importer.py", "plural(counts.skipped, f'ignoré{e}', f'ignoré{e}s')",
                 lambda n: {"counts": NS(skipped=n), "e": ""}, ("0 ignoré", "1 ignoré", "2 ignorés")),
    CountMessage("backend/directory/importer.py", "plural(parsed.lines, 'ligne', 'lignes')",
                 lambda n: {"parsed": NS(lines=n)}, ("0 ligne", "1 ligne", "2 lignes")),
    CountMessage("backend/directory/importer.py", "plural(len(report.bad), 'ligne en erreur', 'lignes en erreur')",
                 lambda n: {"report": NS(bad=[None] * n)}, ("0 ligne en erreur", "1 ligne en erreur", "2 lignes en erreur")),
    CountMessage("backend/directory/importer.py", "plural(len(issues) - MAX_LISTED, 'autre')",
                 lambda n: {"issues": [None] * (n + 20), "MAX_LISTED": 20}, ("0 autre", "1 autre", "2 autres")),
    CountMessage("backend/directory/export_csv.py", "plural(len(fields), 'champ')",
                 lambda n: {"fields": [None] * n}, ("0 champ", "1 champ", "2 champs")),
    CountMessage("backend/directory/importer.py", "plural(len(report.skipped), 'ligne ignorée', 'lignes ignorées')",
                 lambda n: {"report": NS(skipped=[None] * n)}, ("0 ligne ignorée", "1 ligne ignorée", "2 lignes ignorées")),
    # `facteur files clean-orphans`: what it looked at and what it removed.
    CountMessage("backend/cli.py", "plural(report.examined, 'fichier examiné', 'fichiers examinés')",
                 lambda n: {"report": NS(examined=n)}, ("0 fichier examiné", "1 fichier examiné", "2 fichiers examinés")),
    CountMessage("backend/cli.py", "plural(report.orphans, 'orphelin', 'orphelins')",
                 lambda n: {"report": NS(orphans=n)}, ("0 orphelin", "1 orphelin", "2 orphelins")),
    CountMessage("backend/cli.py", "plural(report.orphan_bytes, 'octet')",
                 lambda n: {"report": NS(orphan_bytes=n)}, ("0 octet", "1 octet", "2 octets")),
    # Two-factor login: recovery codes left (the "Sécurité" page, and the flash after one is used).
    CountMessage(T + "accounts/security.html",
                 '{{ security.recovery_codes_left | plural("code inutilisé", "codes inutilisés") }}',
                 lambda n: {"security": {"recovery_codes_left": n}},
                 ("0 code inutilisé", "1 code inutilisé", "2 codes inutilisés")),
    CountMessage("backend/accounts/twofactor_controllers.py", "plural(left, 'code inutilisé', 'codes inutilisés')",
                 lambda n: {"left": n}, ("0 code inutilisé", "1 code inutilisé", "2 codes inutilisés")),
    # Payment delays: the invoice page, the lists and the synthèse.
    CountMessage("backend/processing/payment_delays.py", "plural(view['days_late'], 'jour')",
                 lambda n: {"view": {"days_late": n}}, ("0 jour", "1 jour", "2 jours")),
    CountMessage("backend/processing/payment_delays.py", "plural(view['days_left'], 'jour')",
                 lambda n: {"view": {"days_left": n}}, ("0 jour", "1 jour", "2 jours")),
    CountMessage(T + "_summary.html",
                 '{{ summary.late | plural("facture en retard de paiement", "factures en retard de paiement") }}',
                 lambda n: {"summary": {"late": n}},
                 ("0 facture en retard de paiement", "1 facture en retard de paiement", "2 factures en retard de paiement")),
    # Validation circuit: the days a titulaire or mandataire has left to validate.
    CountMessage("backend/invoices/invoice_page.py", "plural(left, 'jour')",
                 lambda n: {"left": n}, ("0 jour", "1 jour", "2 jours")),
    CountMessage(T + "invoices/validations.html", '{{ row.days_left | plural("jour", "jours") }}',
                 lambda n: {"row": {"days_left": n}}, ("0 jour", "1 jour", "2 jours")),
    CountMessage(T + "works/_piece_live.html", '{{ piece.days_left | plural("jour", "jours") }}',
                 lambda n: {"piece": {"days_left": n}}, ("0 jour", "1 jour", "2 jours")),
    # A CDAR message refused by the API: how many blocking findings.
    CountMessage("backend/api/lifecycle_controllers.py", 'plural(len(problems), "erreur bloquante", "erreurs bloquantes")',
                 lambda n: {"problems": [None] * n}, ("0 erreur bloquante", "1 erreur bloquante", "2 erreurs bloquantes")),
]
