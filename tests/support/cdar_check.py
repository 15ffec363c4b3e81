"""Every CDAR lifecycle message the product makes during the suite is checked against the D22B
XSD and the BR-FR-CDV schematron (issue 14: "every CDAR message the suite produces valid").

The product makes a message from an invoice's history in `lifecycle_messages.message` (what
each `cdar_url` answers); it is wrapped for the whole run (plugin of tests/conftest.py). A
message with a fatal finding fails the test that asked for it (through the API, a 500 the test
sees) and is listed at the end of the run. Messages that tests build by hand to post (some
invalid on purpose) do not go through it. The browser tests' server runs in its own process;
those tests fetch no message.
"""

from __future__ import annotations

import pytest

from backend.processing import cdar, lifecycle_messages

checked: list[bytes] = []  # every message checked (a test proves the check runs)
invalid: list[str] = []


class InvalidCdar(AssertionError):
    pass


def checking(make):
    async def message(invoice, event_id: int) -> bytes | None:
        data = await make(invoice, event_id)
        if data is None:
            return None
        fatal = cdar.fatal(cdar.validate(data)[1])
        checked.append(data)
        if fatal:
            invalid.append(f"invoice {invoice.id}, event {event_id}: " + "; ".join(f"{p.rule} {p.message}" for p in fatal))
            raise InvalidCdar(invalid[-1])
        return data
    return message


@pytest.fixture(scope="session", autouse=True)
def every_cdar_is_valid():
    original = lifecycle_messages.message
    lifecycle_messages.message = checking(original)
    try:
        yield
    finally:
        lifecycle_messages.message = original
    assert not invalid, "CDAR messages made during the suite with fatal findings:\n" + "\n".join(invalid)
