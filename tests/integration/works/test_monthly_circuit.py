"""The works monthly circuit (issue #11): the titulaire files a projet de décompte mensuel (A4), the
MOE accepts or corrects it within 7 days (the état d'acompte A15 is filed for the MOA), the MOA
validates it (the A19 reaches the payer's "Factures reçues") or sends it back; the payer pays.
Deadlines run through the worker's deadline pass with the controlled clock."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from backend.invoices.tables import Invoice, InvoiceHistory
from backend.accounts.tables import User
from backend.notifications import delivery, service
from backend.notifications.tables import PushSubscription
from backend.processing import deadlines, validation, worker
from backend.processing.lifecycle import Actor, Payment, TransitionError, change_status
from backend.processing.tables import Outbox
from backend.tracking.tables import Event
from backend.works import dossiers, pieces
from backend.works.markets import WorksError
from backend.works.pieces import StatementIn
from tests.integration.processing.conftest import make_user
from tests.support.web import last_mail_to

AMOUNTS = {"works": "10000.00", "supplies": "2000.00", "bonuses": "0", "expenses": "150.00"}


async def file(cast, market, number="DM-2026-09", amounts=None, **fields):
    market_id, users = market
    data = StatementIn(number=number, period_start="2026-09-01", period_end="2026-09-30", amounts=amounts or AMOUNTS, **fields)
    return await pieces.file_statement(market_id, cast.titulaire.id, Actor("supplier", users["titulaire"]), data)


async def mails() -> list[dict]:
    rows = await Outbox.select(Outbox.payload).where(Outbox.channel == validation.EMAIL_CHANNEL).order_by(Outbox.id)
    return [json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"] for r in rows]


async def statuses(invoice_id: int) -> list[str]:
    rows = await InvoiceHistory.select(InvoiceHistory.status).where(InvoiceHistory.invoice == invoice_id).order_by(InvoiceHistory.id)
    return [r["status"] for r in rows]


async def piece(framework: str) -> Invoice:
    return await Invoice.objects().where(Invoice.billing_framework == framework).order_by(Invoice.id, ascending=False).first()


async def test_statement_goes_to_moe_then_moa_then_payer_who_pays(cast, market):
    _, users = market
    a4 = await file(cast, market)
    assert (a4.status, a4.recipient, a4.billing_framework) == ("MISE_A_DISPOSITION_MOE", cast.moe.id, "A4")
    assert await statuses(a4.id) == ["DEPOSEE", "MISE_A_DISPOSITION_MOE"]
    assert a4.total_excl_vat == Decimal("12000.00")  # works + supplies, first month
    assert await deadlines.pending("works_moe_overdue", a4.id) is not None
    # The MOE's people get a push; the payer sees nothing yet.
    pushes = [json.loads(r["payload"]) for r in await Outbox.select().where(Outbox.channel == "push").order_by(Outbox.id)]
    assert any(p["audience"] == {"structure_id": cast.moe.id} and "à vérifier" in p["title"] for p in pushes)
    assert await pieces.piece_page(cast.payer.id) == ([], None)

    # The MOE corrects the works amount (partial acceptance): the état d'acompte follows the correction.
    moe = Actor("moe", users["moe"])
    await change_status(a4.id, moe, "PRISE_EN_COMPTE_MOE", expected_version=a4.version,
                        comment="Travaux réalisés : 9 000 € constatés sur place.", correction={"works": "9000.00"})
    assert await deadlines.pending("works_moe_overdue", a4.id) is None
    a15 = await piece("A15")
    assert (a15.status, a15.recipient, a15.total_excl_vat) == ("MISE_A_DISPOSITION_MOA", cast.moa.id, Decimal("11000.00"))
    detail = await pieces.detail(a15, None)
    works = next(a for a in detail["amounts"] if a["code"] == "works")
    assert (works["asked"], works["accepted"], works["corrected"]) == ("10000.00", "9000.00", True)
    assert [line["code"] for line in detail["lines"]][-1] == "total"
    # The titulaire heard it live (its stream), with the correction in the history.
    events = await Event.select(Event.supplier, Event.payload).where(Event.invoice == a4.id)
    assert any('"PRISE_EN_COMPTE_MOE"' in (e["payload"] if isinstance(e["payload"], str) else json.dumps(e["payload"])) for e in events)

    # The MOA validates: the payer receives the A19, in the simple circuit.
    await change_status(a15.id, Actor("moa", users["moa"]), "PRISE_EN_COMPTE_MOA", expected_version=a15.version)
    a19 = await piece("A19")
    assert (a19.status, a19.recipient, a19.payment_due_by is not None) == ("MISE_A_DISPOSITION", cast.payer.id, True)
    assert a19.amount_due == a15.amount_due and a19.service_code == "FIN" and a19.engagement == "EJ-42"
    received = [json.loads(r["payload"]) for r in await Outbox.select().where(Outbox.event_type == "invoice.received").order_by(Outbox.id)]
    assert [r["invoice_id"] for r in received] == [a19.id]
    hooks = [json.loads(r["payload"]) for r in await Outbox.select().where(
        (Outbox.event_type == "invoice.status_changed") & (Outbox.channel == "webhook")).order_by(Outbox.id)]
    assert {(h["billing_framework"], h["status"]) for h in hooks} >= {("A4", "PRISE_EN_COMPTE_MOE"), ("A15", "MISE_A_DISPOSITION_MOA"),
                                                                     ("A19", "MISE_A_DISPOSITION")}
    payer = Actor("recipient", users["payer"])
    a19 = await change_status(a19.id, payer, "SERVICE_FAIT", expected_version=a19.version)
    await change_status(a19.id, payer, "MISE_EN_PAIEMENT", expected_version=a19.version,
                        payment=Payment(date=a19.deposited_at.date(), amount=Decimal(str(a19.amount_due))))
    steps = [s.step for s in await dossiers.timeline(a4.dossier)]
    assert steps == ["asked", "corrected", "validated", "paid"]


async def test_moe_may_not_refuse_for_an_amount_and_needs_the_right(cast, market):
    _, users = market
    a4 = await file(cast, market)
    moe = Actor("moe", users["moe"])
    with pytest.raises(TransitionError) as amount:
        await change_status(a4.id, moe, "REFUSEE_MOE", expected_version=a4.version, reason_code="MONTANTTOTAL_ERR", comment="Trop cher")
    assert (amount.value.code, amount.value.http_status) == ("amount_refusal_forbidden", 422)
    with pytest.raises(TransitionError) as reader:
        await change_status(a4.id, Actor("moe", users["moe_reader"]), "PRISE_EN_COMPTE_MOE", expected_version=a4.version)
    assert reader.value.http_status == 403
    with pytest.raises(TransitionError) as payer:  # the payer is no party to the statement
        await change_status(a4.id, Actor("moe", users["payer"]), "PRISE_EN_COMPTE_MOE", expected_version=a4.version)
    assert payer.value.http_status == 404
    with pytest.raises(TransitionError) as silent:
        await change_status(a4.id, moe, "PRISE_EN_COMPTE_MOE", expected_version=a4.version, correction={"works": "1"})
    assert silent.value.code == "comment_required"
    assert (await Invoice.objects().get(Invoice.id == a4.id)).status == "MISE_A_DISPOSITION_MOE"  # nothing written
    await change_status(a4.id, moe, "REFUSEE_MOE", expected_version=a4.version, reason_code="CMD_ERR", comment="Pas ce marché.")
    assert await statuses(a4.id) == ["DEPOSEE", "MISE_A_DISPOSITION_MOE", "REFUSEE_MOE"]
    assert await Invoice.count().where(Invoice.billing_framework == "A15") == 0


async def test_suspension_completion_and_moa_sends_back(cast, market):
    _, users = market
    a4 = await file(cast, market)
    moe = Actor("moe", users["moe"])
    a4 = await change_status(a4.id, moe, "SUSPENDUE_MOE", expected_version=a4.version, comment="Joignez l'attachement.")
    assert await deadlines.pending("works_moe_overdue", a4.id) is None  # the 7 days stop
    a4 = await change_status(a4.id, Actor("supplier", users["titulaire"]), "COMPLETEE_MOE", expected_version=a4.version)
    assert await deadlines.pending("works_moe_overdue", a4.id) is not None  # and start again
    a4 = await change_status(a4.id, moe, "PRISE_EN_COMPTE_MOE", expected_version=a4.version)
    a15 = await piece("A15")
    await change_status(a15.id, Actor("moa", users["moa"]), "REFUSEE_MOA", expected_version=a15.version, comment="Revoir la révision.")
    a4 = await Invoice.objects().get(Invoice.id == a4.id)
    assert a4.status == "MISE_A_DISPOSITION_MOE" and await deadlines.pending("works_moe_overdue", a4.id) is not None
    await change_status(a4.id, moe, "PRISE_EN_COMPTE_MOE", expected_version=a4.version)
    second = await piece("A15")
    assert second.id != a15.id and second.number == "DM-2026-09-EA2"


async def test_moe_overdue_after_seven_days_then_titulaire_transmits_to_moa(cast, market, clock, settings):
    _, users = market
    a4 = await file(cast, market)
    clock.advance(days=5, seconds=1)
    await deadlines.run_due()  # the reminder, two days before
    reminders = [json.loads(r["payload"]) for r in await Outbox.select().where(Outbox.channel == "push").order_by(Outbox.id)]
    assert any(p.get("reminder") and p["audience"] == {"structure_id": cast.moe.id} for p in reminders)
    # …and an e-mail to the MOE's people who may answer (not to its reader without the right).
    emails = await User.select(User.id, User.email)
    address = {r["id"]: r["email"] for r in emails}
    assert [(m["to"], "plus que 2 jours" in m["subject"]) for m in await mails()] == [(address[users["moe"]], True)]
    assert (await Invoice.objects().get(Invoice.id == a4.id)).status == "MISE_A_DISPOSITION_MOE"
    clock.advance(days=2)
    await deadlines.run_due()
    a4 = await Invoice.objects().get(Invoice.id == a4.id)
    assert a4.status == "HORS_DELAI_MOE"
    # At the deadline: the titulaire's people (who may now transmit) and the MOE's (who may still answer) are mailed.
    overdue = [m for m in await mails() if "dépassé" in m["subject"]]
    assert sorted(m["to"] for m in overdue) == sorted([address[users["titulaire"]], address[users["moe"]]])
    assert all(f"/works/pieces/{a4.id}" in m["body"] for m in overdue)
    assert await deadlines.run_due() == 0 and len(await mails()) == 3  # once
    await worker.run_pass()  # sent as the validation circuit's e-mails are, with a link to the piece
    sent = last_mail_to(settings.mailbox_dir, address[users["titulaire"]])
    assert f"{settings.base_url.rstrip('/')}/works/pieces/{a4.id}" in sent.get_content()
    [row] = (await pieces.piece_page(cast.titulaire.id, to_act=True))[0]
    assert row["chorus_status"] == "ABSENCE_VALIDATION_MOE_DELAI_REGLEMENTAIRE"
    await change_status(a4.id, Actor("supplier", users["titulaire"]), "TRANSMISE_MOA", expected_version=a4.version)
    a15 = await piece("A15")
    assert a15.status == "MISE_A_DISPOSITION_MOA" and a15.total_excl_vat == Decimal("12000.00")  # as asked


async def test_second_month_is_this_cumul_minus_the_previous(cast, market):
    _, users = market
    a4 = await file(cast, market)
    await change_status(a4.id, Actor("moe", users["moe"]), "PRISE_EN_COMPTE_MOE", expected_version=a4.version)
    second = await file(cast, market, number="DM-2026-10", amounts={**AMOUNTS, "works": "25000.00"})
    assert second.total_excl_vat == Decimal("15000.00")  # 27 000 cumulated − 12 000 accepted before


async def test_only_the_titulaire_files_and_names_are_unique(cast, market):
    market_id, users = market
    with pytest.raises(WorksError) as moe:
        await pieces.file_statement(market_id, cast.moe.id, Actor("supplier", users["moe"]), StatementIn(number="X"))
    assert moe.value.http_status == 403
    with pytest.raises(WorksError) as stranger:
        await pieces.file_statement(market_id, cast.stranger.id, Actor("supplier", users["moe"]), StatementIn(number="X"))
    assert stranger.value.http_status == 404
    with pytest.raises(WorksError) as negative:
        await file(cast, market, amounts={"works": "-5"})
    assert negative.value.code == "amount_negative"
    await file(cast, market)
    with pytest.raises(WorksError) as again:
        await file(cast, market)
    assert again.value.http_status == 409
    assert await Invoice.count() == 1


async def test_subcontractor_statement_is_validated_by_the_titulaire_then_goes_to_the_moe(cast, market):
    market_id, users = market
    sub_user = await make_user(cast.sous_traitant.id, can_deposit=True)
    data = StatementIn(number="ST-09", period_start="2026-09-01", period_end="2026-09-30", amounts={"works": "3000.00"})
    a10 = await pieces.file_statement(market_id, cast.sous_traitant.id, Actor("supplier", sub_user), data)
    assert (a10.billing_framework, a10.status, a10.validator_1) == ("A10", "A_VALIDER_1", cast.titulaire.id)
    assert await deadlines.pending("validation_tacit_1", a10.id) is not None
    with pytest.raises(TransitionError):  # the MOE does not have it yet
        await change_status(a10.id, Actor("moe", users["moe"]), "PRISE_EN_COMPTE_MOE", expected_version=a10.version)
    [waiting] = (await pieces.piece_page(cast.titulaire.id, to_act=True))[0]
    assert waiting["id"] == a10.id
    await change_status(a10.id, Actor("validator", users["titulaire"]), "VALIDEE_1", expected_version=a10.version)
    a10 = await Invoice.objects().get(Invoice.id == a10.id)
    assert a10.status == "MISE_A_DISPOSITION_MOE" and await deadlines.pending("works_moe_overdue", a10.id) is not None
    await change_status(a10.id, Actor("moe", users["moe"]), "PRISE_EN_COMPTE_MOE", expected_version=a10.version)
    a15 = await piece("A15")
    await change_status(a15.id, Actor("moa", users["moa"]), "PRISE_EN_COMPTE_MOA", expected_version=a15.version)
    a19 = await piece("A19")
    # The payer pays the subcontractor directly.
    assert (a19.supplier, a19.recipient, a19.total_excl_vat) == (cast.sous_traitant.id, cast.payer.id, Decimal("3000.00"))


async def test_cocontractor_statement_tacitly_validated_after_15_days(cast, market, clock):
    market_id, users = market
    co_user = await make_user(cast.cotraitant.id, can_deposit=True)
    data = StatementIn(number="CO-09", period_start="2026-09-01", period_end="2026-09-30", amounts={"works": "5000.00"})
    a13 = await pieces.file_statement(market_id, cast.cotraitant.id, Actor("supplier", co_user), data)
    assert (a13.billing_framework, a13.status, a13.validator_1) == ("A13", "A_VALIDER_1", cast.titulaire.id)  # the mandataire
    clock.advance(days=15, seconds=1)
    await deadlines.run_due()
    assert await statuses(a13.id) == ["DEPOSEE", "A_VALIDER_1", "ABSENCE_VALIDATION_1_HORS_DELAI", "MISE_A_DISPOSITION_MOE"]
    assert await deadlines.pending("works_moe_overdue", a13.id) is not None  # now the MOE's 7 days run


async def test_works_pushes_follow_their_own_preference(cast, market):
    """« Pièce de travaux à traiter » (works.requested) governs the works pushes, not the
    subcontractors' « validation.requested »: the MOE who turns it off hears nothing of its pieces."""
    _, users = market
    await file(cast, market)
    [row] = await Outbox.select().where((Outbox.channel == "push") & (Outbox.event_type == service.WORKS_EVENT)).order_by(Outbox.id)
    assert delivery.event_key(row, json.loads(row["payload"])) == service.WORKS_EVENT
    await PushSubscription.insert(PushSubscription(user=users["moe"], endpoint="https://push.example.net/moe", p256dh="k", auth="a"))
    assert len(await service.subscriptions_for(service.WORKS_EVENT, cast.moe.id)) == 1  # on by default
    await service.set_preferences(users["moe"], {service.VALIDATION_EVENT})
    assert await service.subscriptions_for(service.WORKS_EVENT, cast.moe.id) == []
    await service.set_preferences(users["moe"], {service.WORKS_EVENT})
    assert len(await service.subscriptions_for(service.WORKS_EVENT, cast.moe.id)) == 1
    assert service.WORKS_EVENT in {item["key"] for item in service.choices() if item["default"]}
