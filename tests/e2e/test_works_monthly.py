"""At 390×844 in Chromium against the real server, the works monthly circuit end to end: the
titulaire deposits a projet de décompte mensuel, the MOE corrects one amount on its phone, the
titulaire sees the correction arrive live (no reload), the MOA validates the état d'acompte, and
the payer pays it from its "Factures reçues"."""

from __future__ import annotations

import pytest

from backend.accounts.tables import Membership, User
from backend.invoices.tables import Invoice
from backend.lib.common import paris_today
from backend.works import markets
from backend.works.markets import Declarer, MarketIn
from tests.e2e.conftest import new_person
from tests.e2e.test_messages import _person_in
from tests.e2e.test_signup_join import _expect, assert_fits_phone
from tests.e2e.test_works_markets import _public

pytestmark = pytest.mark.e2e


async def _agent(phone, server, structure, first: str, last: str):
    person = new_person(first, last, structure.name, siret=structure.siret)
    page, _ = await _person_in(phone, server, person)
    user = await User.objects().get(User.email == person.email)
    await Membership.update({Membership.can_process: True, Membership.can_deposit: True}).where(Membership.user == user.id)
    page.on("dialog", lambda dialog: dialog.accept())
    return page


async def test_statement_corrected_by_the_moe_validated_by_the_moa_paid_by_the_payer(phone, server, shots):
    expect = _expect()
    moa = await _public("Commune de Beaulieu")
    moe = await _public("Cabinet d'architecture municipal")
    payer = await _public("Trésorerie de Beaulieu")
    titulaire = new_person("Julien", "Roux", "Roux Maçonnerie")
    company_page, _ = await _person_in(phone, server, titulaire)
    company = (await Membership.objects().where(Membership.user == (await User.objects().get(User.email == titulaire.email)).id).first()).structure
    number = f"TX-{titulaire.siret[:6]}"
    market_id = await markets.declare(MarketIn(number=number, title="Extension de l'école", moa_siret=moa.siret, moe_siret=moe.siret,
                                               payer_siret=payer.siret, titulaire_siret=titulaire.siret),
                                      Declarer(moa.id, None, may_act_as_moa=True, may_act_as_titulaire=False))
    statement = f"DM-{titulaire.siret[:6]}"

    # The titulaire deposits its monthly statement from the market page.
    await company_page.goto(f"/works/markets/{market_id}")
    await company_page.get_by_role("link", name="Déposer un projet de décompte mensuel").click()
    await company_page.get_by_label("Numéro du décompte").fill(statement)
    await company_page.get_by_label("Début de la période").fill("2026-09-01")
    await company_page.get_by_label("Fin de la période").fill("2026-09-30")
    await company_page.get_by_label("Travaux", exact=True).fill("10000")
    await company_page.get_by_label("Approvisionnements").fill("2000")
    await assert_fits_phone(company_page)
    await company_page.get_by_role("button", name="Envoyer au maître d'œuvre").click()
    await expect(company_page.locator("[data-piece-status]")).to_have_text("À vérifier par le maître d'œuvre")
    await expect(company_page.locator("[data-days-left]")).to_contain_text("7 jours")

    # The MOE finds it under "Travaux" → "À traiter", corrects the works amount with one thumb.
    moe_page = await _agent(phone, server, moe, "Claire", "Vidal")
    await moe_page.locator(".bottom-nav").get_by_role("link", name="Travaux").click()
    await moe_page.locator("#works-to-act").get_by_role("link", name=statement).click()
    await moe_page.get_by_label("Travaux (demandé").fill("9000")
    await moe_page.get_by_label("Commentaire (obligatoire si vous corrigez)").fill("9 000 € de travaux constatés au cumul.")
    await assert_fits_phone(moe_page)
    await moe_page.get_by_role("button", name="Accepter").click()
    await expect(moe_page.locator("[data-piece-status]")).to_have_text("Acceptée par le maître d'œuvre")

    # The titulaire's open page shows the correction live, without a reload.
    await expect(company_page.locator("[data-corrected='works']")).to_be_visible()
    await expect(company_page.locator("[data-piece-status]")).to_have_text("Acceptée par le maître d'œuvre")
    await company_page.screenshot(path=shots / "works-statement-corrected.png", full_page=False)

    # The MOA validates the état d'acompte.
    moa_page = await _agent(phone, server, moa, "Nadia", "Lopez")
    await moa_page.locator(".bottom-nav").get_by_role("link", name="Travaux").click()
    await moa_page.locator("#works-to-act").get_by_role("link", name=f"{statement}-EA").click()
    await expect(moa_page.locator("[data-line='total']")).to_be_visible()
    await moa_page.locator("summary", has_text="Valider l'état d'acompte").click()
    await moa_page.get_by_role("button", name="Valider l'état d'acompte").click()
    await expect(moa_page.locator("[data-piece-status]")).to_have_text("Validée par le maître d'ouvrage")
    await assert_fits_phone(moa_page)

    # The payer pays the validated état d'acompte from its received invoices.
    a19 = await Invoice.objects().where((Invoice.billing_framework == "A19") & (Invoice.supplier == company)).first()
    payer_page = await _agent(phone, server, payer, "Louis", "Garcia")
    await payer_page.goto(f"/invoices/{a19.id}")
    await payer_page.locator("summary", has_text="Mettre en paiement").click()
    await payer_page.get_by_label("Date du paiement").fill(paris_today().isoformat())
    await payer_page.get_by_label("Montant (€)").fill(f"{a19.amount_due:.2f}")
    await payer_page.get_by_role("button", name="Mettre en paiement").click()
    await expect(payer_page.locator(".live-status")).to_contain_text("Mise en paiement")
    assert (await Invoice.objects().get(Invoice.id == a19.id)).status == "MISE_EN_PAIEMENT"
    await company_page.goto(f"/works/dossiers/{a19.dossier}")
    await expect(company_page.locator("[data-step='paid']")).to_be_visible()
    await expect(company_page.locator("[data-step='corrected']")).to_be_visible()
