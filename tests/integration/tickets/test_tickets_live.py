"""Live ticket events reach the people concerned only (the author, the receivers), over a real
stream; a transfer to support reaches the former receivers, whose open page then says so."""

from __future__ import annotations

import contextlib

from backend.accounts.tables import Membership
from backend.directory.tables import Structure
from tests.integration.tickets.conftest import QUESTION, act, open_ticket, operator  # noqa: F401  (fixture)
from tests.integration.tracking.conftest import live  # noqa: F401  (fixture)
from tests.support.accounts import AccountFactory


@contextlib.asynccontextmanager
async def member(live, structure, **rights):  # noqa: F811
    """Another person of `structure`, accepted with `rights`, signed in on the live server."""
    async with live.client() as http:
        accounts = AccountFactory(http, live.settings)
        person = accounts.person(siret=structure.siret, company=structure.name)
        await accounts.signup(person)
        await accounts.confirm(person)
        await Membership.update({Membership.status: "active", **{getattr(Membership, k): v for k, v in rights.items()}}).where(
            (Membership.structure == structure.id) & (Membership.status == "pending"))
        assert (await accounts.login(person)).status_code in (200, 302)
        yield http


async def _ticket_events(stream, count: int) -> list[dict]:
    """The next `count` ticket events (each comes as `ticket-<id>` then `changed`)."""
    got = []
    while len(got) < count:
        message = await stream.next_event()
        if message.event.startswith("ticket-"):
            got.append({"name": message.event, **message.json["payload"]})
            assert "audience" not in message.json  # who else is told is not sent
    return got


async def test_only_the_people_concerned_hear_a_ticket_and_a_transfer_reaches_the_former_receivers(
        client, accounts, live, supplier, recipient, operator):  # noqa: F811
    await accounts.login(supplier)
    supplier_structure = await Structure.objects().get(Structure.siret == supplier.siret)
    async with (live.client(client.cookies) as author_http, member(live, supplier_structure) as colleague_http,
                member(live, recipient, can_consult=True) as agent_http,
                member(live, recipient, can_consult=False) as no_right_http):
        async with (live.stream(author_http) as author, live.stream(colleague_http) as colleague,
                    live.stream(agent_http) as agent, live.stream(no_right_http) as uninvolved):
            sent = await open_ticket(author_http, QUESTION, "Code service ?", "Bonjour", recipient=recipient.siret)
            ticket_id = int(sent.headers["location"].rsplit("/", 1)[1])
            for stream in (author, agent):
                [heard] = await _ticket_events(stream, 1)
                assert heard["name"] == f"ticket-{ticket_id}" and heard["action"] == "submit"

            assert (await act(agent_http, ticket_id, "assign")).status_code == 303
            assert (await act(agent_http, ticket_id, "transfer", "Question pour la plateforme.")).status_code == 303
            assert [e["action"] for e in await _ticket_events(agent, 2)] == ["assign", "transfer"]
            # The agent's open page refreshes on that event: it now says where the ticket went.
            panel = await agent_http.get(f"/tickets/{ticket_id}/panel")
            assert panel.status_code == 200 and "Ce ticket a été transféré au support" in panel.text
            assert "Question pour la plateforme." not in panel.text
            page = await agent_http.get(f"/tickets/{ticket_id}")
            assert page.status_code == 200 and "Ce ticket a été transféré au support" in page.text
            assert [e["action"] for e in await _ticket_events(author, 2)] == ["assign", "transfer"]
            # (silence() reads a stream once: it is the last thing asked of these two)
            assert await colleague.silence(1.0) == []  # the author's colleague is not concerned
            assert await uninvolved.silence(0.2) == []  # nor a member without the consult right

        async with live.stream(colleague_http, last_event_id=0) as colleague_resume:
            assert await colleague_resume.silence(0.6) == []  # nor on resume
        async with live.stream(agent_http, last_event_id=0) as agent_resume:
            assert [e["action"] for e in await _ticket_events(agent_resume, 3)] == ["submit", "assign", "transfer"]
        assert (await colleague_http.get(f"/tickets/{ticket_id}/panel")).status_code == 404  # never a receiver
