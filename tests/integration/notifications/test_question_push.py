"""A question to a public structure (no invoice) and its answer reach, by Web Push, the other
side's members who asked for message notifications."""

from __future__ import annotations

from backend.accounts.tables import User
from backend.messages.tables import MessageThread
from backend.notifications import service
from tests.integration.messages.conftest import join_and_log_in
from tests.integration.messages.test_questions import SUBJECT, answer, ask
from tests.integration.notifications.conftest import drain, subscribe


async def test_a_question_and_its_answer_reach_the_other_side_by_push(client, accounts, supplier, recipient, push_service):
    agent = await join_and_log_in(accounts, recipient, can_process=True)
    agent_sub, supplier_sub = push_service.subscriber(), push_service.subscriber()
    assert (await subscribe(client, agent_sub)).status_code == 201
    for person in (agent, supplier):
        await service.set_preferences((await User.objects().get(User.email == person.email)).id, {service.MESSAGE_EVENT})
    await accounts.logout()
    await accounts.login(supplier)
    assert (await subscribe(client, supplier_sub)).status_code == 201

    assert (await ask(client, recipient.siret, SUBJECT, "Quel code service indiquer ?")).status_code == 303
    question = await MessageThread.objects().first()
    await drain()
    assert push_service.refused == []
    [asked] = push_service.payloads()
    assert push_service.payloads(agent_sub) == [asked]  # the author's own side is not told
    assert asked["title"] == f"Question\u00a0: {SUBJECT}"
    assert asked["body"] == "Menuiserie Dupont SARL\u00a0: Quel code service indiquer ?"
    assert asked["url"] == f"/questions/{question.id}" and asked["tag"] == f"question-{question.id}"

    await accounts.logout()
    await accounts.login(agent)
    assert (await answer(client, question.id, "Le code VOIRIE-01.")).status_code == 303
    await drain()
    [answered] = push_service.payloads(supplier_sub)
    assert answered["body"] == "Commune de Paris\u00a0: Le code VOIRIE-01." and answered["url"] == f"/questions/{question.id}"
    assert len(push_service.payloads(agent_sub)) == 1
