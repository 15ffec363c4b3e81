"""Channel names, the SSE encoding of an event, and the Last-Event-ID the stream accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import RequestFactory

from backend.settings import Settings
from backend.tracking.events import channel_namespace, id_of, sse_bytes
from backend.tracking.stream import _last_event_id, _Recent


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
