"""Live events: recorded with each change, published after the commit, streamed to the people who may see them.

Streams are read over a real socket (uvicorn in the test's loop); on the PostgreSQL run
FACTEUR_REDIS_URL is set and the events go through Redis Pub/Sub.
"""

from __future__ import annotations

import asyncio
import time

import anyio
import msgspec
import pytest

from backend.accounts.tables import Membership, User
from backend.lib.db import transaction
from backend.invoices.tables import Invoice
from backend.processing.lifecycle import ACKNOWLEDGE, Actor, change_status
from backend.tracking import events
from backend.tracking.stream import subscriber_count
from backend.tracking.tables import Event
from tests.integration.invoices.test_deposit import post_files
from tests.integration.processing.conftest import make_user
from tests.support.accounts import AccountFactory
from tests.support.web import csrf_from
from tests.unit.validation.invoice_builders import facturx_pdf


async def _reject(http, invoice_id: int, version: int):
    page = await http.get(f"/invoices/{invoice_id}")
    return await http.post(f"/invoices/{invoice_id}/status", data={
        "target": "REJETEE", "version": str(version), "reason_code": "DOUBLON", "comment": "Déjà reçue",
        "_csrf_token": csrf_from(page.text),
    })


async def _event_ids(invoice_id: int) -> list[int]:
    rows = await Event.select(Event.id).where(Event.invoice == invoice_id).order_by(Event.id)
    return [r["id"] for r in rows]


async def _until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.05)
    return await predicate()


# --- recording --------------------------------------------------------------------------------

async def test_a_deposit_records_invoice_received_for_both_sides(invoice, recipient):
    [event] = await Event.select().where(Event.invoice == invoice.id).output(load_json=True)
    assert event["kind"] == "invoice.received"
    assert (event["supplier"], event["recipient"]) == (invoice.supplier, recipient.id)
    assert event["payload"]["status"] == "MISE_A_DISPOSITION" and event["payload"]["number"] == invoice.number


async def test_each_history_step_records_one_status_event(invoice, agent_id, supplier_id):
    await change_status(invoice.id, Actor("recipient", agent_id), "REJETEE", expected_version=invoice.version,
                        reason_code="DOUBLON", comment="Déjà reçue")
    await change_status(invoice.id, Actor("supplier", supplier_id), ACKNOWLEDGE, expected_version=None)
    rows = await Event.select().where(Event.kind == "invoice.status_changed").order_by(Event.id).output(load_json=True)
    assert [r["payload"]["status"] for r in rows] == ["REJETEE", "REJETEE"]
    rejected, acknowledged = (r["payload"] for r in rows)
    assert rejected == {"status": "REJETEE", "status_code": "210", "label": "Rejetée", "reason": "DOUBLON",
                        "version": invoice.version + 1, "actor_kind": "recipient", "acknowledged": False}
    assert acknowledged["acknowledged"] is True and acknowledged["version"] == invoice.version + 2


async def test_a_refused_change_records_no_event(invoice, supplier_id):
    before = await Event.count()
    with pytest.raises(Exception):
        await change_status(invoice.id, Actor("supplier", supplier_id), "REJETEE", expected_version=None)
    assert await Event.count() == before


async def test_an_event_rolled_back_with_its_transaction_is_gone(invoice):
    with pytest.raises(RuntimeError):
        async with transaction():
            await events.record_event("invoice.status_changed", invoice_id=invoice.id, supplier_id=invoice.supplier,
                                      recipient_id=invoice.recipient, payload={"status": "X"})
            raise RuntimeError("the change fails after the event was written")
    assert await Event.count().where(Event.kind == "invoice.status_changed") == 0
    with pytest.raises(ValueError):
        await events.record_event("invoice.unknown", invoice_id=1, supplier_id=1, recipient_id=2, payload={})


async def test_event_ids_follow_commit_order(invoice, agent_id):
    """Browsers resume after the last id they saw: an event that commits later must not have
    a smaller id, so a writer with an event to record waits for the one before it to commit."""
    recorded, release = asyncio.Event(), asyncio.Event()

    async def slow_writer() -> int:
        async with transaction():
            event_id = await events.record_event("invoice.status_changed", invoice_id=invoice.id, supplier_id=invoice.supplier,
                                                 recipient_id=invoice.recipient, payload={"status": "X"})
            recorded.set()
            await release.wait()  # still not committed
        return event_id

    slow = asyncio.create_task(slow_writer())
    await asyncio.wait_for(recorded.wait(), 10)
    fast = asyncio.create_task(change_status(invoice.id, Actor("recipient", agent_id), "PRISE_EN_CHARGE", expected_version=None))
    await asyncio.sleep(0.5)
    assert not fast.done()  # its event waits for the earlier one's commit
    release.set()
    slow_id = await asyncio.wait_for(slow, 10)
    await asyncio.wait_for(fast, 10)
    assert (await _event_ids(invoice.id))[-1] > slow_id


async def test_publish_never_raises_and_does_nothing_without_a_running_app(invoice, settings, monkeypatch):
    from backend.tracking.stream import make_channels

    monkeypatch.setattr(events, "_publisher", None)
    monkeypatch.setattr(events, "_loop", None)
    await events.publish(await _event_ids(invoice.id))  # CLI, worker: no app, no error
    monkeypatch.setattr(events, "_publisher", make_channels(msgspec.structs.replace(settings, redis_url=None)))
    await events.publish(await _event_ids(invoice.id))  # a backend that was never started: logged, not raised


# --- the stream -------------------------------------------------------------------------------

async def test_unauthenticated_stream_is_401(live):
    async with live.client() as anonymous:
        response = await anonymous.get("/events")
    assert response.status_code == 401
    assert "Connectez-vous" in response.text


async def test_supplier_page_hears_the_agent_reject_within_a_second(client, live, invoice, recipient):
    async with live.client(client.cookies) as supplier_http, live.agent(recipient) as agent_http:
        async with live.stream(supplier_http) as supplier_stream, live.stream(agent_http) as agent_stream:
            response = await _reject(agent_http, invoice.id, invoice.version)
            assert response.status_code in (200, 302)
            committed = time.monotonic()
            first, changed = await supplier_stream.pair(timeout=3)
            assert time.monotonic() - committed < 1.0
            assert first.event == f"invoice-{invoice.id}"
            message = first.json
            assert message["kind"] == "invoice.status_changed" and message["invoice"] == invoice.id
            assert message["payload"]["status"] == "REJETEE" and message["payload"]["label"] == "Rejetée"
            assert int(first.id) == (await _event_ids(invoice.id))[-1]
            agent_first, _ = await agent_stream.pair(timeout=3)  # the other side of the invoice too
            assert agent_first.id == first.id


async def test_a_new_deposit_reaches_the_recipient_agents(client, live, supplier, recipient):
    async with live.agent(recipient) as agent_http, live.stream(agent_http) as agent_stream:
        assert (await post_files(client, [("facture.pdf", facturx_pdf())])).status_code == 201
        first, _ = await agent_stream.pair(timeout=3)
        invoice = await Invoice.objects().first()
        assert first.event == f"invoice-{invoice.id}" and first.json["kind"] == "invoice.received"


async def test_resume_sends_what_was_missed_then_live_events_without_duplicates(client, live, invoice, agent_id, supplier_id):
    agent = Actor("recipient", agent_id)
    await change_status(invoice.id, agent, "PRISE_EN_CHARGE", expected_version=None)
    await change_status(invoice.id, agent, "SUSPENDUE", expected_version=None, reason_code="JUSTIF_ABS", comment="Bon manquant")
    await change_status(invoice.id, agent, "REJETEE", expected_version=None, reason_code="DOUBLON", comment="Doublon")
    received, taken, suspended, rejected = await _event_ids(invoice.id)
    async with live.client(client.cookies) as http, live.stream(http, last_event_id=taken) as stream:
        replayed = [await stream.pair() for _ in range(2)]
        assert [int(first.id) for first, _ in replayed] == [suspended, rejected]
        # The same events published again (as when they race with the replay): skipped.
        await events.publish([suspended, rejected])
        await change_status(invoice.id, Actor("supplier", supplier_id), ACKNOWLEDGE, expected_version=None)
        first, _ = await stream.pair()
        assert int(first.id) == (await _event_ids(invoice.id))[-1] > rejected
        assert await stream.silence(0.6) == []


async def test_a_new_event_source_resumes_from_the_query_parameter(client, live, invoice):
    [received] = await _event_ids(invoice.id)
    async with live.client(client.cookies) as http:
        async with http.stream("GET", f"/events?last_event_id={received - 1}") as response:
            from tests.integration.tracking.sse_client import SSEReader

            first, _ = await SSEReader(response).pair()
    assert int(first.id) == received


async def test_someone_on_both_sides_gets_each_event_once(client, live, invoice, recipient, supplier_id):
    await Membership.insert(Membership(user=supplier_id, structure=recipient.id, status="active", can_process=True))
    async with live.client(client.cookies) as http, live.stream(http) as stream:
        await change_status(invoice.id, Actor("recipient", supplier_id), "PRISE_EN_CHARGE", expected_version=None)
        await stream.pair()
        assert await stream.silence(0.8) == []


async def test_idle_streams_get_keepalive_comments(client, live, invoice):
    async with live.client(client.cookies) as http, live.stream(http) as stream:
        started = time.monotonic()
        message = await stream.next(timeout=3)
        assert message.event is None and message.comments == ["keepalive"]
        assert time.monotonic() - started < 2


async def test_closed_clients_leave_no_subscriber_behind(client, live, invoice, recipient, settings):
    channel = events.channel_for(invoice.supplier)
    async with live.agent(recipient) as agent_http, live.client(client.cookies) as supplier_http:
        async with live.stream(supplier_http), live.stream(supplier_http), live.stream(agent_http):
            # Each stream listens on its structure's channel and on its person's (resets).
            assert subscriber_count(live.plugin) == 6 and len(live.plugin.streams) == 3
            if settings.redis_url:
                assert await _redis_subscribers(settings.redis_url, channel) == 1
    assert await _until(lambda: _zero(live.plugin)), (subscriber_count(live.plugin), len(live.plugin.streams))
    if settings.redis_url:
        assert await _until(lambda: _redis_zero(settings.redis_url, channel))


async def _zero(plugin) -> bool:
    return subscriber_count(plugin) == 0 and not plugin.streams


async def _redis_subscribers(url: str, channel: str) -> int:
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    try:
        [(_, count)] = await redis.pubsub_numsub(channel)
        return count
    finally:
        await redis.aclose()


async def _redis_zero(url: str, channel: str) -> bool:
    return await _redis_subscribers(url, channel) == 0


async def test_people_only_hear_about_their_own_structures(client, live, invoice, recipient, settings):
    async with live.client() as outsider_http, live.client(client.cookies) as supplier_http:
        await AccountFactory(outsider_http, settings).registered(company="Autre Fournisseur")
        async with live.stream(outsider_http) as outsider, live.stream(supplier_http) as own:
            async with live.agent(recipient) as agent_http:
                assert (await _reject(agent_http, invoice.id, invoice.version)).status_code in (200, 302)
            await own.pair()
            assert await outsider.silence(1.0) == []
        async with live.stream(outsider_http, last_event_id=0) as outsider_resume:
            assert await outsider_resume.silence(0.6) == []
        async with live.stream(supplier_http, last_event_id=0) as own_resume:
            ids = [int((await own_resume.pair())[0].id) for _ in range(2)]
    assert ids == await _event_ids(invoice.id)
    outsider_user = await User.objects().order_by(User.id, ascending=False).first()
    assert not await Membership.exists().where((Membership.user == outsider_user.id) & (Membership.structure == invoice.supplier))


async def test_the_stream_ends_cleanly_when_the_server_stops(client, settings, invoice):
    """A server shutting down closes its streams (the browser reconnects elsewhere) and frees them."""
    import uvicorn

    from tests.integration.tracking.conftest import Live, free_port

    from backend.app import create_app

    app = create_app(msgspec.structs.replace(settings, sse_keepalive=30.0), connection_pool=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1))
    task = asyncio.create_task(server.serve())
    await _until(lambda: _started(server))
    live = Live(app, f"http://127.0.0.1:{port}", settings)
    async with live.client(client.cookies) as http, live.stream(http) as stream:
        server.should_exit = True
        with anyio.fail_after(10):
            with pytest.raises(Exception):
                await stream.next(timeout=8)
    await asyncio.wait_for(task, 10)
    assert subscriber_count(live.plugin) == 0 and not live.plugin.streams


async def _started(server) -> bool:
    return server.started


async def test_a_change_between_the_page_and_its_stream_is_not_missed(client, live, invoice, agent_id):
    """The page says from which event its stream starts; app.js opens /events from there."""
    import re

    async with live.client(client.cookies) as http:
        page = await http.get(f"/invoices/{invoice.id}")
        live_from = int(re.search(r'data-live-from="(\d+)"', page.text).group(1))
        assert live_from == (await _event_ids(invoice.id))[-1]
        # The agent acts while the phone is still parsing the page…
        await change_status(invoice.id, Actor("recipient", agent_id), "PRISE_EN_CHARGE", expected_version=None)
        async with http.stream("GET", f"/events?last_event_id={live_from}") as response:
            from tests.integration.tracking.sse_client import SSEReader

            first, _ = await SSEReader(response).pair(timeout=3)
    assert first.json["payload"]["status"] == "PRISE_EN_CHARGE" and int(first.id) > live_from


async def test_a_removed_member_stops_hearing_the_structure_at_once(client, live, invoice, recipient, agent_id):
    """The stream does not go on with the memberships it opened with."""
    from backend.accounts import memberships

    manager_id = await make_user(recipient.id, is_manager=True)
    async with live.agent(recipient) as agent_http, live.stream(agent_http) as stream:
        member = await Membership.objects().order_by(Membership.id, ascending=False).first()
        await memberships.remove_member(manager_id, recipient.id, member.id)
        with pytest.raises(EOFError), anyio.fail_after(5):
            while True:
                await stream.next(timeout=5)  # keepalives, then the end
        # The browser reconnects: the new stream is the person's as they are now.
        await change_status(invoice.id, Actor("recipient", agent_id), "PRISE_EN_CHARGE", expected_version=None)
        async with live.stream(agent_http, last_event_id=0) as again:
            assert await again.silence(0.6) == []


async def test_logging_out_ends_the_streams_of_the_other_tabs(client, live, invoice):
    async with live.client(client.cookies) as http, live.stream(http) as other_tab:
        page = await client.get("/")
        assert (await client.post("/logout", data={"_csrf_token": csrf_from(page.text)})).status_code in (200, 302, 303)
        with pytest.raises(EOFError), anyio.fail_after(5):
            while True:
                await other_tab.next(timeout=5)
        assert (await http.get("/events")).status_code == 401
