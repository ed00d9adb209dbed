"""Shared by the view tests: a real uvicorn server on a free loopback port, and reading an SSE stream."""
import contextlib
import json
import threading
import time
import warnings

import pytest

from conftest import free_port

pytest.importorskip("starlette", reason="baremlp view needs its extra: pip install -e '.[view]'")
uvicorn = pytest.importorskip("uvicorn", reason="baremlp view needs its extra: pip install -e '.[view]'")

from baremlp import view  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

BASE = "http://127.0.0.1:8000"  # the test client's own origin


@pytest.fixture
def client():
    """Starlette's test client of a fresh app, with its trainings at hand; they stop after the test."""
    app = view.app()
    with TestClient(app, base_url=BASE) as c:
        c.trainings = app.trainings
        yield c
    app.trainings.stop_all()


@contextlib.contextmanager
def running_server(**kwargs):
    """(base url, the app) of baremlp view served by uvicorn in a thread; stopped on exit."""
    app = view.app(**kwargs)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        app.close()
        server.should_exit = True
        thread.join(5)
        app.trainings.stop_all()


def sse_events(lines, until_done=True, limit=100000):
    """The JSON events of an SSE body's lines, to the one with done (or the end)."""
    out = []
    for line in lines:
        if isinstance(line, bytes):
            line = line.decode()
        line = line.strip()
        if line.startswith("data:"):
            event = json.loads(line[5:])
            out.append(event)
            if (until_done and event.get("done")) or len(out) >= limit:
                break
    return out
