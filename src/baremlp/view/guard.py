"""What every request passes before a route sees it (an ASGI middleware, so that streams are not held):

- a Host header that names this server: a loopback name, an address, or the host it was started
  with; any other name is a DNS-rebinding page reaching a local server, refused with 421;
- a POST whose Origin (or Sec-Fetch-Site) says it comes from another site: 403;
- a body over MAX_BODY bytes: 413 (read at most that far, whatever Content-Length says).

Refusals are JSON {"error": one line}, as the routes' are.
"""
import ipaddress
import json
from urllib.parse import urlsplit

from .limits import MAX_BODY

LOOPBACK_NAMES = ("localhost", "localhost.")


def host_name(value):
    """The name or address of a Host header value ('127.0.0.1:8000' -> '127.0.0.1', '[::1]:80' -> '::1')."""
    try:
        return (urlsplit("//" + value).hostname or "").lower()
    except ValueError:
        return ""


def is_address(name):
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def is_loopback(host):
    return host in LOOPBACK_NAMES or (is_address(host) and ipaddress.ip_address(host).is_loopback)


async def refuse(send, status, message):
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    def __init__(self, app, names=("127.0.0.1",)):
        self.app = app
        self.names = {n.lower() for n in names} | set(LOOPBACK_NAMES)  # an address needs no DNS: never rebound

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        name = host_name(host)
        if not name or not (name in self.names or is_address(name)):
            return await refuse(send, 421, f"Host {host!r} is not this server: open the page by its address "
                                           "(http://127.0.0.1:PORT/) or start it with --host NAME")
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        origin = headers.get("origin")
        if origin is not None and urlsplit(origin).netloc.lower() != host.lower() \
                or headers.get("sec-fetch-site") in ("cross-site", "same-site"):
            return await refuse(send, 403, f"a request from {origin or 'another site'} cannot control this server: "
                                           "only its own page can")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return await refuse(send, 413, f"request body too large: expected at most {MAX_BODY // 1024} KiB")
        body, more = b"", True
        while more:  # read it all here, however it is sent, and stop at the limit
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY:
                return await refuse(send, 413, f"request body too large: expected at most {MAX_BODY // 1024} KiB")
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)
