"""Every live block (an element redrawn on a server-sent event) asks again when an event
comes while its redraw is on its way.

Without `hx-sync="this:replace"`, htmx queues that second redraw on the element being
redrawn; the answer to the first replaces the element (outerHTML) and the queued redraw
goes with it: the block stays one step behind until the next event (tests/e2e/
test_realtime.py shows it on a slow network)."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[3] / "frontend" / "templates"
LIVE_TAG = re.compile(r"<[a-z]+\b[^>]*hx-trigger=\"[^\"]*\bsse:[^>]*>", re.S)


def _live_tags() -> list[tuple[str, str]]:
    return [(path.relative_to(TEMPLATES).as_posix(), tag) for path in sorted(TEMPLATES.rglob("*.html"))
            for tag in LIVE_TAG.findall(path.read_text(encoding="utf-8"))]


def test_the_templates_have_live_blocks():
    assert len(_live_tags()) >= 10


def test_every_live_block_replaces_a_redraw_under_way():
    late = [f"{name}: {tag[:80]}" for name, tag in _live_tags() if 'hx-sync="this:replace"' not in tag]
    assert late == []
