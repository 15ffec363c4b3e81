"""A question to a public structure (no invoice) reaches both parties' webhooks as `message.created`
with `invoice: null` and the question in `data`."""

from __future__ import annotations

from backend.messages.tables import MessageThread
from tests.integration.messages.test_questions import SUBJECT, answer, ask
from tests.integration.processing.conftest import make_user
from tests.integration.webhooks.conftest import drain


async def test_a_question_and_its_answer_reach_both_parties_with_no_invoice(client, accounts, receiver, supplier, recipient,
                                                                             supplier_api, recipient_api):
    await supplier_api.subscribe(receiver, "/fournisseur", events=["message.created"])
    await recipient_api.subscribe(receiver, "/acheteur", events=["message.created"])
    await make_user(recipient.id, can_process=True)
    assert (await ask(client, recipient.siret, SUBJECT, "Quel code service indiquer ?")).status_code == 303
    question = await MessageThread.objects().first()
    await drain()
    for path in ("/fournisseur", "/acheteur"):
        [seen] = receiver.seen(path)
        assert seen.event == "message.created"
        assert "invoice" in seen.body and seen.body["invoice"] is None
        data = seen.body["data"]
        assert data["question"] == {"id": question.id, "subject": SUBJECT}
        assert data["body_excerpt"] == "Quel code service indiquer ?" and data["author_side"] == "supplier"
        assert data["supplier"]["siret"] == supplier.siret and data["recipient"] == {"siret": recipient.siret, "name": "Commune de Paris"}

    # The agent's answer: the same event, from the other side.
    from tests.integration.messages.conftest import join_and_log_in

    await accounts.logout()
    await join_and_log_in(accounts, recipient, can_process=True)
    assert (await answer(client, question.id, "Le code VOIRIE-01.")).status_code == 303
    await drain()
    for path in ("/fournisseur", "/acheteur"):
        latest = receiver.seen(path)[-1]
        assert latest.body["invoice"] is None and latest.body["data"]["author_side"] == "recipient"
        assert latest.body["data"]["body_excerpt"] == "Le code VOIRIE-01."
