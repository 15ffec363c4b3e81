"""The works final circuit and its tacit procedure (issue #11): the titulaire files a projet de
décompte final (A7), its MOE accepts it within 7 days (the projet de décompte général A17 is filed
for the MOA: the balance is the final cumul − the last accepted monthly cumul), the MOA validates it
(the décompte général A20 waits for the titulaire's signature), the titulaire signs (the DGD, A8,
reaches the payer, who pays it) or refuses to sign (a réclamation). Past the MOA's 30 days the
titulaire files the tacit projet (A22, the A17 is REMPLACEE_A22), then past 10 more days the tacit
DGD (A23) for the payer. Deadlines run through the worker's pass with the controlled clock."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from backend.invoices.tables import Invoice, InvoiceHistory
from backend.processing import deadlines
from backend.processing.lifecycle import Actor, Payment, TransitionError, change_status
from backend.processing.tables import Outbox
from backend.works import dossiers, pieces
from backend.works.markets import WorksError
from backend.works.pieces import StatementIn
from tests.integration.processing.conftest import make_user
from tests.integration.works.test_monthly_circuit import mails

MONTH = {"works": "10000.00", "supplies": "2000.00"}
FINAL = {"works": "40000.00", "supplies": "2000.00", "expenses": "500.00"}


async def file(cast, market, number, amounts, *, final=False):
    market_id, users = market
    data = StatementIn(number=number, period_start="2026-09-01", period_end="2026-12-31", amounts=amounts, final=final)
    return await pieces.file_statement(market_id, cast.titulaire.id, Actor("supplier", users["titulaire"]), data)


async def statuses(invoice_id: int) -> list[str]:
    rows = await InvoiceHistory.select(InvoiceHistory.status).where(InvoiceHistory.invoice == invoice_id).order_by(InvoiceHistory.id)
    return [r["status"] for r in rows]


async def piece(framework: str) -> Invoice:
    return await Invoice.objects().where(Invoice.billing_framework == framework).order_by(Invoice.id, ascending=False).first()


async def filed_final(cast, market) -> tuple[Invoice, Invoice]:
    """A monthly statement accepted, then the final one accepted by the MOE: (A7, A17)."""
    _, users = market
    moe = Actor("moe", users["moe"])
    a4 = await file(cast, market, "DM-2026-09", MONTH)
    await change_status(a4.id, moe, "PRISE_EN_COMPTE_MOE", expected_version=a4.version)
    a7 = await file(cast, market, "DF-2026", FINAL, final=True)
    assert (a7.billing_framework, a7.status, a7.recipient) == ("A7", "MISE_A_DISPOSITION_MOE", cast.moe.id)
    assert await deadlines.pending("works_moe_overdue", a7.id) is not None  # the MOE's same 7 days
    a7 = await change_status(a7.id, moe, "PRISE_EN_COMPTE_MOE", expected_version=a7.version)
    return a7, await piece("A17")


async def test_final_statement_to_signed_dgd_paid_by_the_payer(cast, market):
    _, users = market
    a7, a17 = await filed_final(cast, market)
    # The balance: 42 000 final − 12 000 accepted monthly = 30 000 HT, plus the 500 of expenses.
    assert (a17.status, a17.recipient, a17.total_excl_vat, a17.number) == ("MISE_A_DISPOSITION_MOA", cast.moa.id,
                                                                           Decimal("30000.00"), "DF-2026-PDG")
    moa_row = await deadlines.pending("works_moa_overdue", a17.id)
    assert moa_row is not None and a17.validation_due_at is not None
    pushes = [json.loads(r["payload"]) for r in await Outbox.select().where(Outbox.channel == "push").order_by(Outbox.id)]
    assert any(p["audience"] == {"structure_id": cast.moa.id} and "Projet de décompte général" in p["title"] for p in pushes)
    [waiting] = [r for r in (await pieces.piece_page(cast.moa.id, to_act=True))[0] if r["id"] == a17.id]
    assert waiting["days_left"] == 30 and waiting["kind_label"] == "Projet de décompte général"

    moa = Actor("moa", users["moa"])
    await change_status(a17.id, moa, "PRISE_EN_COMPTE_MOA", expected_version=a17.version)
    assert await deadlines.pending("works_moa_overdue", a17.id) is None  # the MOA answered in time
    a20 = await piece("A20")
    assert (a20.status, a20.supplier, a20.recipient, a20.amount_due) == ("A_SIGNER_TITULAIRE", cast.titulaire.id, cast.moa.id,
                                                                          a17.amount_due)
    assert [r["id"] for r in (await pieces.piece_page(cast.titulaire.id, to_act=True))[0]] == [a20.id]
    with pytest.raises(TransitionError) as moa_signs:  # only the titulaire signs its décompte général
        await change_status(a20.id, moa, "SIGNEE_TITULAIRE", expected_version=a20.version)
    assert moa_signs.value.http_status == 403
    assert await pieces.piece_page(cast.payer.id) == ([], None)  # nothing for the payer before the signature

    titulaire = Actor("supplier", users["titulaire"])
    await change_status(a20.id, titulaire, "SIGNEE_TITULAIRE", expected_version=a20.version)
    a8 = await piece("A8")
    assert (a8.status, a8.recipient, a8.amount_due, a8.service_code, a8.payment_due_by is not None) == (
        "MISE_A_DISPOSITION", cast.payer.id, a20.amount_due, "FIN", True)
    received = [json.loads(r["payload"])["invoice_id"] for r in await Outbox.select().where(Outbox.event_type == "invoice.received").order_by(Outbox.id)]
    assert received == [a8.id]
    payer = Actor("recipient", users["payer"])
    a8 = await change_status(a8.id, payer, "SERVICE_FAIT", expected_version=a8.version)
    a8 = await change_status(a8.id, payer, "MANDATEE", expected_version=a8.version, mandate_number="M-2027-1")
    await change_status(a8.id, payer, "MISE_EN_PAIEMENT", expected_version=a8.version,
                        payment=Payment(date=a8.deposited_at.date(), amount=Decimal(str(a8.amount_due))))
    assert await statuses(a8.id) == ["DEPOSEE", "MISE_A_DISPOSITION", "SERVICE_FAIT", "MANDATEE", "MISE_EN_PAIEMENT"]
    # The dossier's timeline: asked (A7), accepted (A17), validated (A20), paid (the A8's payment).
    assert [s.step for s in await dossiers.timeline(a7.dossier)] == ["asked", "accepted", "validated", "paid"]
    detail = await pieces.detail(await Invoice.objects().get(Invoice.id == a20.id), None)
    assert detail["status"] == "SIGNEE_TITULAIRE" and detail["kind_label"] == "Décompte général"


async def test_titulaire_refuses_to_sign_with_a_claim(cast, market):
    _, users = market
    _, a17 = await filed_final(cast, market)
    await change_status(a17.id, Actor("moa", users["moa"]), "PRISE_EN_COMPTE_MOA", expected_version=a17.version)
    a20 = await piece("A20")
    titulaire = Actor("supplier", users["titulaire"])
    with pytest.raises(TransitionError) as silent:
        await change_status(a20.id, titulaire, "RECLAMATION_TITULAIRE", expected_version=a20.version, reason_code="PENALITES_CONTESTEES")
    assert (silent.value.code, silent.value.http_status) == ("comment_required", 422)
    with pytest.raises(TransitionError) as unknown:
        await change_status(a20.id, titulaire, "RECLAMATION_TITULAIRE", expected_version=a20.version, reason_code="DOUBLON", comment="x")
    assert unknown.value.code == "reason_invalid"
    await change_status(a20.id, titulaire, "RECLAMATION_TITULAIRE", expected_version=a20.version,
                        reason_code="PENALITES_CONTESTEES", comment="12 jours de retard dus aux intempéries (ordre de service n° 7).")
    detail = await pieces.detail(await Invoice.objects().get(Invoice.id == a20.id), None)
    assert detail["status_label"] == "Contesté par l'entreprise (mémoire en réclamation)"
    assert detail["claim"]["label"] == "Pénalités contestées" and "intempéries" in detail["claim"]["comment"]
    assert await Invoice.count().where(Invoice.billing_framework == "A8") == 0  # nothing goes to the payer


async def test_moa_sends_the_general_project_back_to_the_moe(cast, market):
    _, users = market
    a7, a17 = await filed_final(cast, market)
    await change_status(a17.id, Actor("moa", users["moa"]), "REFUSEE_MOA", expected_version=a17.version, comment="Revoir les pénalités.")
    a7 = await Invoice.objects().get(Invoice.id == a7.id)
    assert a7.status == "MISE_A_DISPOSITION_MOE" and await deadlines.pending("works_moa_overdue", a17.id) is None
    await change_status(a7.id, Actor("moe", users["moe"]), "PRISE_EN_COMPTE_MOE", expected_version=a7.version)
    second = await piece("A17")
    assert second.id != a17.id and second.number == "DF-2026-PDG2"


async def test_tacit_procedure_after_the_moas_silence(cast, market, clock):
    _, users = market
    _, a17 = await filed_final(cast, market)
    titulaire = Actor("supplier", users["titulaire"])
    with pytest.raises(TransitionError) as early:  # the MOA's 30 days still run
        await change_status(a17.id, titulaire, "REMPLACEE_A22", expected_version=a17.version)
    assert early.value.http_status == 409
    clock.advance(days=30, seconds=1)
    await deadlines.run_due()
    a17 = await Invoice.objects().get(Invoice.id == a17.id)
    assert a17.status == "HORS_DELAI_MOA"
    [row] = [r for r in (await pieces.piece_page(cast.titulaire.id, to_act=True))[0] if r["id"] == a17.id]
    assert row["status"] == "HORS_DELAI_MOA"

    await change_status(a17.id, titulaire, "REMPLACEE_A22", expected_version=a17.version)
    a22 = await piece("A22")
    assert (a22.status, a22.recipient, a22.amount_due) == ("MISE_A_DISPOSITION_MOA", cast.moa.id, a17.amount_due)
    superseded = await pieces.detail(await Invoice.objects().get(Invoice.id == a17.id), None)
    assert superseded["chorus_status"] == "REMPLACEE_PAR_A22" and superseded["replaced_by"]["id"] == a22.id
    assert await deadlines.pending("works_moa_overdue", a22.id) is not None

    clock.advance(days=9)
    await deadlines.run_due()
    assert (await Invoice.objects().get(Invoice.id == a22.id)).status == "MISE_A_DISPOSITION_MOA"  # 10 days, not 9
    clock.advance(days=1, seconds=1)
    await deadlines.run_due()
    a22 = await Invoice.objects().get(Invoice.id == a22.id)
    assert a22.status == "HORS_DELAI_MOA"
    with pytest.raises(TransitionError):  # too late for the MOA: the titulaire's projet is the DGD
        await change_status(a22.id, Actor("moa", users["moa"]), "PRISE_EN_COMPTE_MOA", expected_version=a22.version)
    await change_status(a22.id, titulaire, "DGD_TACITE", expected_version=a22.version)
    a23 = await piece("A23")
    assert (a23.status, a23.recipient, a23.amount_due) == ("MISE_A_DISPOSITION", cast.payer.id, a22.amount_due)
    assert await statuses(a22.id) == ["DEPOSEE", "MISE_A_DISPOSITION_MOA", "HORS_DELAI_MOA", "DGD_TACITE"]
    payer = Actor("recipient", users["payer"])
    await change_status(a23.id, payer, "SERVICE_FAIT", expected_version=a23.version)


async def test_moa_answers_the_tacit_project_within_ten_days(cast, market, clock):
    _, users = market
    _, a17 = await filed_final(cast, market)
    clock.advance(days=30, seconds=1)
    await deadlines.run_due()
    a17 = await Invoice.objects().get(Invoice.id == a17.id)
    await change_status(a17.id, Actor("supplier", users["titulaire"]), "REMPLACEE_A22", expected_version=a17.version)
    a22 = await piece("A22")
    await change_status(a22.id, Actor("moa", users["moa"]), "PRISE_EN_COMPTE_MOA", expected_version=a22.version)
    assert await deadlines.pending("works_moa_overdue", a22.id) is None
    a20 = await piece("A20")
    assert a20.status == "A_SIGNER_TITULAIRE" and a20.number == "DF-2026-DG"


async def test_cocontractor_final_statement_is_validated_first_and_subcontractor_files_none(cast, market):
    market_id, _ = market
    co_user = await make_user(cast.cotraitant.id, can_deposit=True)
    data = StatementIn(number="CO-DF", period_start="2026-09-01", period_end="2026-12-31", amounts={"works": "5000.00"}, final=True)
    a14 = await pieces.file_statement(market_id, cast.cotraitant.id, Actor("supplier", co_user), data)
    assert (a14.billing_framework, a14.status, a14.validator_1) == ("A14", "A_VALIDER_1", cast.titulaire.id)
    sub_user = await make_user(cast.sous_traitant.id, can_deposit=True)
    with pytest.raises(WorksError) as sub:
        await pieces.file_statement(market_id, cast.sous_traitant.id, Actor("supplier", sub_user),
                                    StatementIn(number="ST-DF", period_start="2026-09-01", period_end="2026-12-31", final=True))
    assert (sub.value.code, sub.value.http_status) == ("final_not_subcontractor", 403)


async def test_moa_delay_counts_from_the_moes_receipt_of_the_final_statement(cast, market, clock):
    _, users = market
    a7 = await file(cast, market, "DF-2026", FINAL, final=True)
    clock.advance(days=5)  # the MOE takes 5 of its 7 days: the MOA has 25 left (art. 12.4.2)
    await change_status(a7.id, Actor("moe", users["moe"]), "PRISE_EN_COMPTE_MOE", expected_version=a7.version)
    a17 = await piece("A17")
    [row] = [r for r in (await pieces.piece_page(cast.moa.id, to_act=True))[0] if r["id"] == a17.id]
    assert row["days_left"] == 25
    clock.advance(days=25, seconds=1)
    await deadlines.run_due()
    assert (await Invoice.objects().get(Invoice.id == a17.id)).status == "HORS_DELAI_MOA"
    pushes = [json.loads(r["payload"]) for r in await Outbox.select().where(Outbox.channel == "push").order_by(Outbox.id)]
    assert any(p["audience"] == {"structure_id": cast.titulaire.id} and "pas de décompte général" in p["title"] for p in pushes)


async def test_one_final_statement_per_market_until_it_is_refused(cast, market):
    _, users = market
    a7 = await file(cast, market, "DF-1", FINAL, final=True)
    with pytest.raises(WorksError) as again:
        await file(cast, market, "DF-2", FINAL, final=True)
    assert (again.value.code, again.value.http_status) == ("final_exists", 409)
    assert "DF-1" in again.value.message
    assert await Invoice.count().where(Invoice.billing_framework == "A7") == 1  # nothing written
    await file(cast, market, "DM-2026-10", MONTH)  # monthly statements go on
    await change_status(a7.id, Actor("moe", users["moe"]), "REFUSEE_MOE", expected_version=a7.version,
                        reason_code="CMD_ERR", comment="Pas ce marché.")
    replacement = await file(cast, market, "DF-2", FINAL, final=True)
    assert (replacement.billing_framework, replacement.status) == ("A7", "MISE_A_DISPOSITION_MOE")


async def _reminders_to(structure_id: int) -> list[dict]:
    rows = await Outbox.select().where(Outbox.channel == "push").order_by(Outbox.id)
    return [p for p in (json.loads(r["payload"]) for r in rows) if p.get("reminder") and p["audience"] == {"structure_id": structure_id}]


async def _mail_subjects() -> list[str]:
    return [m["subject"] for m in await mails()]


async def test_the_moa_is_reminded_before_its_30_then_10_days_run_out(cast, market, clock):
    _, users = market
    _, a17 = await filed_final(cast, market)
    clock.advance(days=24)
    await deadlines.run_due()
    assert await _reminders_to(cast.moa.id) == []
    clock.advance(days=1, seconds=1)  # 5 days before the 30
    await deadlines.run_due()
    [reminder] = await _reminders_to(cast.moa.id)
    assert reminder["invoice_id"] == a17.id and "plus que 5 jours" in reminder["title"]
    assert "art. 12.4.2" in reminder["comment"]
    assert any("Projet de décompte général" in s and "plus que 5 jours" in s for s in await _mail_subjects())
    assert (await Invoice.objects().get(Invoice.id == a17.id)).status == "MISE_A_DISPOSITION_MOA"  # a reminder, not a step

    clock.advance(days=5)
    await deadlines.run_due()
    a17 = await Invoice.objects().get(Invoice.id == a17.id)
    await change_status(a17.id, Actor("supplier", users["titulaire"]), "REMPLACEE_A22", expected_version=a17.version)
    a22 = await piece("A22")
    clock.advance(days=8, seconds=1)  # 2 days before the 10
    await deadlines.run_due()
    assert [r["invoice_id"] for r in await _reminders_to(cast.moa.id)] == [a17.id, a22.id]
    assert "art. 12.4.4" in (await _reminders_to(cast.moa.id))[-1]["comment"]


async def test_an_moa_that_answers_in_time_gets_no_reminder(cast, market, clock):
    _, users = market
    _, a17 = await filed_final(cast, market)
    await change_status(a17.id, Actor("moa", users["moa"]), "PRISE_EN_COMPTE_MOA", expected_version=a17.version)
    assert await deadlines.pending("works_moa_reminder", a17.id) is None
    clock.advance(days=31)
    await deadlines.run_due()
    assert await _reminders_to(cast.moa.id) == []
