"""baremlp view: a live training page in the browser, driven by the real engine (the optional extra
`pip install 'baremlp[view]'`: Starlette and uvicorn).

    from baremlp import view
    view.serve(port=8000, runs="runs")      # blocks; Ctrl-C stops it
    client = TestClient(view.app())         # the app alone, for tests

docs/view.md describes the page, its HTTP contract, its limits and what it refuses.
"""
import errno
import gc
import ipaddress
import socket
import sys
import threading
import webbrowser

from ..errors import UsageError
from .guard import is_loopback

__all__ = ["app", "serve"]


def app(runs=None, table=None, host="127.0.0.1"):
    """The ASGI app (Starlette behind the request guard): see baremlp.view.server.app."""
    try:
        from .server import app as make  # Starlette: the optional extra
    except ImportError:
        raise UsageError("baremlp view needs Starlette and uvicorn: pip install 'baremlp[view]'") from None
    return make(runs=runs, table=table, host=host)


def page_url(host, port):
    wildcard = host in ("0.0.0.0", "::", "")
    name = "127.0.0.1" if wildcard else host
    try:
        name = f"[{name}]" if ipaddress.ip_address(name).version == 6 else name
    except ValueError:
        pass
    return f"http://{name}:{port}/"


def listening(host, port):
    """A socket bound to host:port, or a UsageError in one line: a port out of range or taken, a host that
    does not resolve or is not this machine's (said here, before uvicorn would log a traceback)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise UsageError(f"port {port!r} invalid: expected a whole number from 1 to 65535")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as e:
        raise UsageError(f"host {host!r} unknown: {getattr(e, 'strerror', None) or e}; expected a name or "
                         "address of this machine, such as 127.0.0.1") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a port just freed binds again
    try:
        sock.bind(address)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise UsageError(f"--port {port} is in use by another program: choose another with --port N") from None
        raise UsageError(f"host {host!r} cannot be served on port {port}: {e.strerror}") from None
    return sock


def serve(port=8000, runs=None, host="127.0.0.1", open_browser=True, table=None, log=print):
    """Serves the page on host:port until Ctrl-C (which stops it within 2 s, trainings and streams
    included).  A host other than loopback is reachable from other machines: a warning says so.
    runs: a folder of run folders to list and follow; table: Settings fields of a table the page may
    train on, e.g. {"data": "iris.csv", "target": "species"}; open_browser: open the page when ready."""
    try:
        import uvicorn
    except ImportError:
        raise UsageError("baremlp view needs Starlette and uvicorn: pip install 'baremlp[view]'") from None
    sock = listening(host, port)
    try:
        application = app(runs=runs, table=table, host=host)
    except BaseException:  # a bad runs folder or table: said by the caller, the port given back
        sock.close()
        raise
    if not is_loopback(host.lower()):
        print(f"warning: serving on {host}, not on loopback: anyone who can reach this machine can open the page and "
              "train on it (there is no login); use the default 127.0.0.1 unless you mean it", file=sys.stderr)
    config = uvicorn.Config(application, host=host, port=port, log_level="warning", timeout_graceful_shutdown=0.5,
                            lifespan="on")

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):  # Ctrl-C: the trainings stop first, so their streams end at once
            application.close()
            super().handle_exit(sig, frame)

    server = Server(config)
    url = page_url(host, port)

    def ready():
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            log(f"baremlp view: {url}  (Ctrl-C stops it)")
            if open_browser:
                webbrowser.open(url)

    threading.Thread(target=ready, daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn hands Ctrl-C back once it has shut down: the way to stop, not an error
        pass
    finally:
        application.trainings.stop_all(wait=0.3)
        gc.freeze()  # serving was the program's work: its exit need not collect torch's objects (~1 s on 2 busy cores)
