"""Channel names, the SSE encoding of an event, and the Last-Event-ID the stream accepts."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from litestar.testing import RequestFactory

from backend.settings import Settings
from backend.tracking.events import channel_namespace, id_of, sse_bytes
from backend.tracking.stream import RECENT_IDS, _last_event_id, _Recent


def _settings(database_url: str, redis_url: str | None) -> Settings:
    return Settings(data_dir=Path("/tmp"), database_url=database_url, secret_key="k" * 32, redis_url=redis_url)


def test_channels_never_cross_between_redis_dbs_or_databases():
    pg = "postgresql://postgres@127.0.0.1:5432/rt_test"
    names = {
        channel_namespace(_settings(pg, "redis://127.0.0.1:6379/1")),
        channel_namespace(_settings(pg, "redis://127.0.0.1:6379/0")),
        channel_namespace(_settings(pg, "redis://127.0.0.1:6379?db=2")),
        channel_namespace(_settings("postgresql://postgres@127.0.0.1:5432/test", "redis://127.0.0.1:6379/1")),
    }
    assert len(names) == 4
    assert channel_namespace(_settings(pg, "redis://127.0.0.1:6379/1")).startswith("facteur:r1:")
    # Two processes of one deployment (same settings) share the name.
    assert channel_namespace(_settings(pg, "redis://h:6379/3")) == channel_namespace(_settings(pg, "redis://h:6379/3"))
    assert channel_namespace(_settings("sqlite:///x", None)) == "facteur"


def test_an_event_is_sent_with_its_id_then_as_changed():
    message = {"id": 42, "kind": "invoice.status_changed", "invoice": 7, "supplier": 1, "recipient": 2,
               "payload": {"status": "REJETEE", "label": "Rejetée"}, "created_at": "2026-11-24T08:00:00+00:00"}
    encoded = sse_bytes(message)
    first, second, rest = encoded.split(b"\r\n\r\n")
    assert first.startswith(b"id: 42\r\nevent: invoice-7\r\ndata: {")
    assert "Rejetée".encode() in first
    assert second.startswith(b"event: changed\r\ndata: {") and b"id:" not in second
    assert rest == b""
    assert id_of(encoded) == 42


@pytest.mark.parametrize(("headers", "query", "expected"), [
    ({"Last-Event-ID": "17"}, "", 17),
    ({}, "last_event_id=9", 9),
    ({"Last-Event-ID": "17"}, "last_event_id=9", 17),
    ({"Last-Event-ID": "abc"}, "", None),
    ({"Last-Event-ID": "-3"}, "", None),
    ({"Last-Event-ID": "9" * 40}, "", None),
    ({}, "", None),
])
def test_last_event_id_is_a_small_positive_integer_or_ignored(headers, query, expected):
    params = dict([query.split("=", 1)]) if query else {}
    request = RequestFactory().get("/events", headers=headers, query_params=params)
    assert _last_event_id(request) == expected


def test_recent_ids_skip_duplicates_within_a_bounded_memory():
    recent = _Recent(size=3)
    assert [recent.add(i) for i in (1, 2, 1, 3, 4)] == [True, True, False, True, True]
    assert recent.add(1) is True  # forgotten after 3 newer ids: memory stays bounded


def test_recent_ids_arriving_out_of_order_are_each_sent_once():
    recent = _Recent(size=4)
    # Two processes publish in either order: 105 may come before 104, and both again from the catch-up.
    assert [recent.add(i) for i in (105, 104, 106, 104, 105, 103, 106)] == [True, True, True, False, False, True, False]


def test_a_stream_remembers_the_ids_it_sent_in_little_memory():
    """Every event of its structures reaches a stream: after a few thousand, each of 1,000 open
    streams holds RECENT_IDS ids (bench/load saw the server grow by 120 MiB in ten minutes)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        recent = _Recent()
        for event_id in range(1_000_000, 1_000_000 + 2 * RECENT_IDS):
            recent.add(event_id)
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert used < 48 * 1024  # 8 bytes an id, and some slack
    assert recent.add(1_000_000 + 2 * RECENT_IDS - 1) is False
