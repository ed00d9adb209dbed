"""The HTTP side of baremlp view: a Starlette app of JSON controls and Server-Sent Events.

    GET  /api/health                       200 {"ok": true, ...what the page needs to draw its form}
    POST /api/train[?paused=1]             Settings fields -> 201 {"id"}; 400 {"error": one line}
    GET  /api/train/{id}/events            SSE: {"kind": "frame"|"epoch", "epoch", "objective", ...}, last
                                           {"done": true, "summary"} ("stopped": true after a stop)
    POST /api/train/{id}/stop|pause|resume|step
    GET  /api/train/{id}/config.json       the settings: baremlp train --recipe config.json repeats the run
    GET  /api/train/{id}/checkpoint.safetensors
    GET  /api/runs                         the run folders under --runs
    GET  /api/runs/{name}/events           SSE of that folder's epochs as they are written
"""
import contextlib
import os
import socket
import threading
from importlib import resources

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import data as datamod
from ..errors import UsageError
from ..runs.settings import Settings, base_settings
from . import folders
from .guard import Guard, is_loopback
from .limits import LIMITS, PAGE_DATASETS, parse_json, settings_from_page
from .session import Trainings
from ..jsonsafe import json_safe
from .stream import sse

STATIC = str(resources.files("baremlp.view").joinpath("static"))
SECURITY = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
                                       "frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
ACTIONS = ("stop", "pause", "resume", "step")
SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def error(message, status=400):
    return JSONResponse({"error": str(message).splitlines()[0] if str(message) else "error"}, status)


def app(runs=None, table=None, host="127.0.0.1"):
    """The Starlette app of baremlp view.  runs: a folder of run folders to list and follow; table: the
    Settings fields of the table the page may train on (dataset "table"), e.g. {"data": "iris.csv",
    "target": "species"}; host: the name the server is reached by, besides loopback names and addresses."""
    if runs is not None and not os.path.isdir(runs):
        raise UsageError(f"runs folder {runs!r} is not a folder: expected the folder of run folders (--out's parent)")
    trainings, closing = Trainings(), threading.Event()
    if table:  # a table that cannot be trained on is the caller's mistake, said at start
        data = datamod.load(settings_from_page({"dataset": "table"}, table))
        about = {**table, "inputs": data.x.shape[1], "rows": data.x.shape[0], "classes": data.classes}

    async def index(request):
        return FileResponse(f"{STATIC}/index.html", headers=SECURITY)

    async def health(request):
        return JSONResponse({"ok": True, "defaults": Settings().to_dict(), "limits": LIMITS,
                             "recipes": {d: base_settings(d).to_dict() for d in PAGE_DATASETS},
                             "datasets": list(PAGE_DATASETS) + (["table"] if table else []),
                             "table": about if table else None,
                             "runs": bool(runs)})

    def start(request, body):
        try:
            s = settings_from_page(parse_json(body), table)
            t = trainings.start(s, page=request.headers.get("x-baremlp-page"),
                                paused=request.query_params.get("paused") in ("1", "true"))
        except UsageError as e:
            return error(e)
        except RuntimeError as e:
            return error(e, 429)
        return JSONResponse(json_safe({"id": t.id, "settings": s.to_dict(), "plane": t.plane.describe() if t.plane else None}), 201)

    async def train(request):
        return await run_in_threadpool(start, request, await request.body())  # data loading: off the event loop

    def session_of(request):
        return trainings.get(request.path_params["id"])

    async def events(request):
        t = session_of(request)
        if t is None:
            return error("training not found: start one with POST /api/train", 404)
        t.attach()
        return StreamingResponse(sse(t.outbox, t.detach), media_type="text/event-stream", headers=SSE_HEADERS)

    async def control(request):
        t = session_of(request)
        if t is None or request.path_params["action"] not in ACTIONS:
            return error("training or action not found: expected POST /api/train/ID/stop|pause|resume|step", 404)
        await request.body()
        return JSONResponse(t.control(request.path_params["action"]))

    async def download(request):
        t = session_of(request)
        if t is None:
            return error("training not found", 404)
        what = request.path_params["file"]
        if what not in ("config.json", "checkpoint.safetensors"):
            return error("not found: expected config.json or checkpoint.safetensors", 404)
        if what == "config.json":
            return JSONResponse(t.config(), headers={"Content-Disposition": 'attachment; filename="config.json"'})
        data = await run_in_threadpool(t.checkpoint)
        return Response(data, media_type="application/octet-stream",
                        headers={"Content-Disposition": 'attachment; filename="checkpoint.safetensors"'})

    async def run_list(request):
        listed = await run_in_threadpool(folders.listing, runs)  # file work: off the event loop
        return JSONResponse({"folder": runs, "runs": listed})

    async def run_events(request):
        if not runs:
            return error("no runs folder: start baremlp view --runs DIR", 404)
        try:
            path = folders.resolve(runs, request.path_params["name"])
        except UsageError as e:
            return error(e, 403)
        except FileNotFoundError as e:
            return error(e, 404)
        return StreamingResponse(folders.tail(path, closing=closing), media_type="text/event-stream", headers=SSE_HEADERS)

    routes = [
        Route("/", index),
        Route("/api/health", health),
        Route("/api/train", train, methods=["POST"]),
        Route("/api/train/{id}/events", events),
        Route("/api/train/{id}/{action:str}", control, methods=["POST"]),
        Route("/api/train/{id}/{file:str}", download),
        Route("/api/runs", run_list),
        Route("/api/runs/{name:path}/events", run_events),
        Mount("/static", StaticFiles(directory=STATIC)),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        trainings.stop_all(wait=0.3)

    names = [host] if is_loopback(host) else [host, socket.gethostname(), socket.getfqdn()]
    guarded = Guard(Starlette(routes=routes, lifespan=lifespan), names)
    guarded.trainings = trainings  # for tests and serve()

    def close():  # before the server stops: every stream ends by itself, none is left to cancel
        closing.set()
        trainings.stop_all(wait=0)
    guarded.close = close
    return guarded
