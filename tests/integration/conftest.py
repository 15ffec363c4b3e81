from __future__ import annotations

import shutil

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from tests.support.accounts import AccountFactory


@pytest.fixture
async def client(clean_db, settings):
    for folder in ("mailbox", "throttle", "sessions"):
        shutil.rmtree(settings.data_dir / folder, ignore_errors=True)
    async with AsyncTestClient(app=create_app(settings, connection_pool=False), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


@pytest.fixture
def accounts(client, settings) -> AccountFactory:
    return AccountFactory(client, settings)
