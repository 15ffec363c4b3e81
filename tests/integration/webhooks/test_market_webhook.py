"""A works market's declaration and confirmation reach the webhooks of its actors, and no one else's."""

from __future__ import annotations

from backend.works import markets
from tests.integration.webhooks.conftest import api_for, drain
from tests.integration.works.conftest import cast  # noqa: F401  (fixture)


async def test_market_created_and_confirmed_reach_every_actor(client, receiver, cast):  # noqa: F811
    for who in (cast.moa, cast.sous_traitant, cast.stranger):
        api = await api_for(client, who.id)
        await api.subscribe(receiver, f"/{who.id}", events=["market.created", "market.confirmed"])
    market_id = await markets.declare(cast.declaration("W-1"), cast.as_titulaire())
    await markets.confirm(market_id, cast.moa.id, None, may_act_as_moa=True)
    await drain()
    for who in (cast.moa, cast.sous_traitant):
        # Deliveries are ordered per invoice only: a market's two events may arrive in either order.
        seen = {delivery.event: delivery for delivery in receiver.seen(f"/{who.id}")}
        assert len(receiver.seen(f"/{who.id}")) == 2
        created, confirmed = seen["market.created"], seen["market.confirmed"]
        assert created.body["invoice"] is None
        assert created.body["data"]["market"] == {"id": market_id, "number": "W-1", "title": "Réfection de la toiture de l'école",
                                                  "status": "pending"}
        assert confirmed.body["data"]["market"]["status"] == "active" and "structures" not in confirmed.body["data"]
    assert receiver.seen(f"/{cast.stranger.id}") == []
