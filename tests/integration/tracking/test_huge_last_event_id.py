"""A Last-Event-ID (or ?last_event_id=) too large for the database opens the stream from now, never a 500."""

from __future__ import annotations

import pytest

from backend.processing.lifecycle import Actor, change_status


@pytest.mark.parametrize("last_event_id", [2**31, 99_999_999_999_999, 10**18 - 1])
async def test_a_huge_last_event_id_still_opens_the_stream(client, live, invoice, agent_id, last_event_id):
    async with live.client(client.cookies) as http, live.stream(http, last_event_id=last_event_id) as stream:
        await change_status(invoice.id, Actor("recipient", agent_id), "PRISE_EN_CHARGE", expected_version=None)
        first, _ = await stream.pair()  # and live events arrive
        assert first.id is not None
