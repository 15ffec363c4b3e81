"""One application per settings for the whole run, handed to each test as if new.

Building the app (`create_app`) costs 0.4–3 s: Litestar reads the signature of every
route handler. Integration tests that only need "the app for these settings" share one
instance; what a test could have changed in it is put back before the next test:

- `app.state` gets back exactly the entries it had when built (a test may set
  `app.state.api_rate_limit` or replace `app.state.settings`);
- the live-events plugin gets the state of a freshly built one (its own new backend:
  a Redis client binds its connections to the event loop of the test client that first
  used it, and each test client runs its own loop), so no subscriber, stream, task or
  connection of one test survives into the next.

Startup and shutdown still run for every test (each test client enters the lifespan).
The rest of the app is configuration that tests do not change: routes (a test that registers one of its own makes the next test get a newly built app), middleware,
templates, stores (their rows live in the database, emptied for every test).
Tests that build an app themselves (other settings for one test, a served uvicorn) still
call `create_app`.
"""

from __future__ import annotations

from litestar import Litestar

from backend.app import create_app
from backend.settings import Settings
from backend.tracking.stream import LiveChannels, make_channels

_built: dict[str, tuple[Litestar, dict, int]] = {}  # oldest first: app, its state as built, its route count
KEEP = 8  # apps kept at once: settings that change with every test would otherwise pile up


def app_for(settings: Settings) -> Litestar:
    """The app for these settings, as it was when built (see the module's docstring)."""
    key = repr(settings)
    if key not in _built:
        return _build(key, settings)
    app, state, routes = _built.pop(key)
    if len(app.routes) != routes:  # a test registered a route of its own: that app is not "as new" any more
        return _build(key, settings)
    _built[key] = (app, state, routes)  # the most recently used last
    for name in list(app.state):
        del app.state[name]
    app.state.update(state)
    _fresh_channels(app, state["settings"])
    return app


def _build(key: str, settings: Settings) -> Litestar:
    app = create_app(settings, connection_pool=False)
    _built[key] = (app, dict(app.state), len(app.routes))
    while len(_built) > KEEP:
        del _built[next(iter(_built))]
    return app


def _fresh_channels(app: Litestar, settings: Settings) -> None:
    """The plugin object stays (the app's hooks and dependencies point at it); its state is a new one's."""
    plugin = app.plugins.get(LiveChannels)
    for task in (plugin._ticker, plugin._catch_up):  # they loop on `self`: they would read the next test's state
        if task is not None and not task.done():
            task.cancel()
    fresh = make_channels(settings)
    plugin.__dict__.clear()
    plugin.__dict__.update(fresh.__dict__)
