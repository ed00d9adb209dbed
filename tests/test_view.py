"""baremlp view without a browser: the HTTP contract, the refusals, the training thread's controls, and
that a page's run is the CLI's run (the same engine's steps, the same summary)."""
import asyncio
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import torch

from view_helpers import BASE, TestClient, client, free_port, running_server, sse_events, view  # noqa: F401  (client: a fixture; skips without the view extra)

from baremlp import backprop, data as datamod
from baremlp.runs import checkpoint
from baremlp.analysis import effective_map
from baremlp.runs.runner import build_net, run
from baremlp.runs.settings import Settings, base_settings
from baremlp.sgd import epoch_order
from baremlp.view import session
from baremlp.view.folders import tail

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def train(client, settings, query=""):
    r = client.post("/api/train" + query, json=settings)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def events(client, id):
    with client.stream("GET", f"/api/train/{id}/events") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        return sse_events(r.iter_lines())


def test_health(client):
    r = client.get("/api/health")
    assert r.status_code == 200 and r.json()["ok"] is True
    assert r.json()["defaults"] == Settings().to_dict()


@pytest.mark.parametrize("settings", [
    {"epochs": 2, "n": 200},                                                   # the lab's per-sample SGD, eager
    {"epochs": 2, "n": 203, "batch_size": 7, "momentum": 0.5, "engine": "manual"},  # a short last batch, momentum
    {"dataset": "square", "epochs": 3, "n": 300, "hidden": [8, 4], "patience": 1},  # its recipe: validation, momentum
    pytest.param({"engine": "compiled", "epochs": 3, "n": 301, "batch_size": 4, "momentum": 0.5},  # in two halves
                 marks=pytest.mark.slow),  # compiles take seconds to a minute
])
def test_a_page_run_is_the_cli_run(client, settings):
    """The events stream per-epoch records and ends with the summary.json dict; the run ends exactly
    where the CLI's run with the same settings ends, though the page trains it in chunks."""
    evs = events(client, train(client, settings))
    assert all("epoch" in e and "objective" in e for e in evs)
    final = evs[-1]
    assert final["done"] is True and "stopped" not in final
    cli_settings = Settings.from_dict(settings, base=base_settings(settings.get("dataset")))
    _, cli = run(cli_settings, progress=False, log=lambda *a: None)  # as baremlp train takes the same flags
    page = final["summary"]
    for key in ("final_loss", "final_objective", "epochs_run", "effective_map", "effective_map_error",
                "relu_active_fraction", "test_loss", "val_loss"):
        assert page.get(key) == cli.get(key), key
    epochs = [e for e in evs if e["kind"] == "epoch"]
    assert [e["epoch"] for e in epochs] == list(range(1, page["epochs_run"] + 1))


def test_stop_ends_with_stopped(client):
    id = train(client, {"epochs": 500, "n": 2000})
    with client.stream("GET", f"/api/train/{id}/events") as r:
        lines = r.iter_lines()
        first = sse_events(lines, limit=1)
        t0 = time.monotonic()
        assert client.post(f"/api/train/{id}/stop").status_code == 200
        rest = sse_events(lines)
    assert first and rest[-1]["done"] is True and rest[-1]["stopped"] is True
    assert time.monotonic() - t0 < 1.0


def test_pause_step_shows_what_backprop_gradients_gives(client):
    """Started paused, Step takes one SGD step on epoch 1's first sample: the graph's ∂J/∂p are
    backprop.gradients' for that sample, and each parameter moved by −lr·∂J/∂p."""
    s = Settings(n=100)
    id = train(client, {"n": 100}, "?paused=1")
    with client.stream("GET", f"/api/train/{id}/events") as r:
        lines = r.iter_lines()
        paused = next(e for e in iter(lambda: sse_events(lines, limit=1)[0], None) if "graph" in e)
        client.post(f"/api/train/{id}/step")
        stepped = next(e for e in iter(lambda: sse_events(lines, limit=1)[0], None) if "update" in e.get("graph", {}))
        client.post(f"/api/train/{id}/stop")
    data = datamod.load(s)
    net = build_net(s, data)
    i = int(epoch_order(100, 0, 0)[0])
    J, grads = backprop.gradients(net, data.x[i:i + 1], data.y[i:i + 1], loss="mse", reg=s.reg)
    for g in (paused["graph"], stepped["graph"]):
        assert g["rows"] == [i]
        assert g["nodes"]["J"]["value"] == pytest.approx(J.item(), rel=1e-6)
        for name, grad, p in zip(["W", "b", "M", "c"], grads, net.parameters):
            assert torch.tensor(g["nodes"][name]["grad"]).double() == pytest.approx(grad.double(), abs=1e-7)
            assert torch.tensor(g["nodes"][name]["value"]).double() == pytest.approx(p.detach().double(), abs=1e-7)
        assert g["autograd_max_diff"] < 1e-6
    update = stepped["graph"]["update"]
    for name, grad, p in zip(["W", "b", "M", "c"], grads, net.parameters):
        expected = (p.detach() - s.lr * grad).double()
        assert torch.tensor(update["params"][name]["after"]).double() == pytest.approx(expected, abs=1e-6)


def test_steps_pause_and_resume_end_where_the_cli_ends(client):
    """Three Steps from the start, Resume, Pause in the middle, Resume: the same steps as one CLI run."""
    settings = {"n": 150, "epochs": 2, "batch_size": 2, "momentum": 0.5}
    id = train(client, settings, "?paused=1")
    with client.stream("GET", f"/api/train/{id}/events") as r:
        lines = r.iter_lines()
        sse_events(lines, limit=1)
        for _ in range(3):
            client.post(f"/api/train/{id}/step")
            next(e for e in iter(lambda: sse_events(lines, limit=1)[0], None) if "update" in e.get("graph", {}))
        client.post(f"/api/train/{id}/resume")
        client.post(f"/api/train/{id}/pause")
        client.post(f"/api/train/{id}/resume")
        final = sse_events(lines)[-1]
    _, cli = run(Settings.from_dict(settings), progress=False, log=lambda *a: None)
    assert final["summary"]["effective_map"] == cli["effective_map"]
    assert final["summary"]["final_loss"] == cli["final_loss"]


def test_reset_brings_back_the_same_initial_weights(client):
    def initial():
        id = train(client, {"seed": 3}, "?paused=1")
        with client.stream("GET", f"/api/train/{id}/events") as r:
            frame = sse_events(r.iter_lines(), limit=1)[0]
        return frame["network"]
    assert initial() == initial()


def test_a_diverged_run_says_so_in_words(client):
    final = events(client, train(client, {"lr": 50.0, "epochs": 3, "n": 200, "reg": 0}))[-1]
    assert final["done"] and final["diverged"] and final["objective"] is None
    assert "diverged" in final["error"] and "smaller learning rate" in final["error"]
    assert final["summary"]["diverged"] is True


def test_downloads_repeat_the_run(client, tmp_path):
    id = train(client, {"epochs": 1, "n": 100})
    final = events(client, id)[-1]
    config = client.get(f"/api/train/{id}/config.json")
    assert "attachment" in config.headers["content-disposition"]
    assert Settings.from_dict(config.json()) == Settings(epochs=1, n=100)
    blob = client.get(f"/api/train/{id}/checkpoint.safetensors").content
    (tmp_path / "checkpoint.safetensors").write_bytes(blob)
    net, meta = checkpoint.load_model(tmp_path / "checkpoint.safetensors")
    assert meta["epoch"] == 1 and meta["settings"] == config.json()
    assert effective_map(net).tolist() == final["summary"]["effective_map"]


@pytest.mark.parametrize("body, says", [
    ({"lr": "fast"}, "lr 'fast' invalid: expected a number"),
    ({"layers": 3}, "setting 'layers' unknown"),
    ({"lr": -1}, "lr -1.0 invalid: expected a finite number > 0"),
    ({"n": 100000}, "n 100000 too large for the live page: expected ≤ 5000"),
    ({"hidden": [8, 8, 8, 8, 8]}, "hidden layers 5 too large for the live page: expected ≤ 4"),
    ({"hidden": [1000]}, "hidden width 1000 too large"),
    ({"epochs": 10**9}, "epochs 1000000000 too large"),
    ({"data": "/etc/passwd"}, "setting 'data' cannot come from the page"),
    ({"data_dir": "/"}, "setting 'data_dir' cannot come from the page"),
    ({"dataset": "fashion-mnist"}, "dataset 'fashion-mnist' is not for the live page"),
    ({"dataset": "table"}, "dataset 'table' unknown: this server was started without a table"),
    ([1, 2], "expected a JSON object of settings"),
])
def test_refused_settings_say_why_in_one_line(client, body, says):
    before = len(client.trainings.by_id)
    r = client.post("/api/train", json=body)
    assert r.status_code == 400 and says in r.json()["error"] and "\n" not in r.json()["error"]
    assert len(client.trainings.by_id) == before  # nothing trained
    assert client.get("/api/health").status_code == 200  # and the server is still up


@pytest.mark.parametrize("raw, says", [
    (b'{"lr": NaN}', "NaN is not a finite number"),
    (b'{"lr": Infinity}', "Infinity is not a finite number"),
    (b'{"lr": 1e999}', "1e999 is not a finite number"),
    (b"lr=0.1", "request body is not JSON"),
    (b"\xff\xfe", "request body is not JSON"),
])
def test_refused_bodies(client, raw, says):
    r = client.post("/api/train", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400 and says in r.json()["error"]


def test_the_same_sentence_as_the_cli(client):
    with pytest.raises(ValueError) as cli:
        Settings.from_dict({"momentum": 1.5})
    assert client.post("/api/train", json={"momentum": 1.5}).json()["error"] == str(cli.value)


def test_large_bodies_are_refused_whatever_the_header_says(client):
    big = b'{"a": "' + b"x" * (70 * 1024) + b'"}'
    assert client.post("/api/train", content=big).status_code == 413
    chunks = (big[i:i + 4096] for i in range(0, len(big), 4096))  # chunked: no Content-Length
    assert client.post("/api/train", content=chunks).status_code == 413


@pytest.mark.parametrize("host, ok", [("127.0.0.1:8000", True), ("localhost:8000", True), ("[::1]:8000", True),
                                      ("evil.example:8000", False), ("127.0.0.1.nip.io:8000", False), ("", False)])
def test_host_header_must_name_this_server(client, host, ok):
    r = client.get("/api/health", headers={"host": host})
    assert (r.status_code == 200) == ok and (ok or r.status_code == 421)


@pytest.mark.parametrize("headers", [{"origin": "http://evil.example"}, {"origin": "null"},
                                     {"origin": "http://127.0.0.1:9999"}, {"sec-fetch-site": "cross-site"}])
def test_foreign_origins_cannot_post(client, headers):
    before = len(client.trainings.by_id)
    r = client.post("/api/train", json={"epochs": 1}, headers=headers)
    assert r.status_code == 403 and len(client.trainings.by_id) == before


def test_own_origin_can_post(client):
    r = client.post("/api/train", json={"epochs": 1, "n": 10}, headers={"origin": BASE})
    assert r.status_code == 201


def test_unknown_training_and_action(client):
    assert client.get("/api/train/nope/events").status_code == 404
    id = train(client, {"epochs": 1, "n": 10})
    assert client.post(f"/api/train/{id}/explode").status_code == 404
    assert client.get(f"/api/train/{id}/passwd").status_code == 404


def test_one_training_per_page(client):
    page = {"x-baremlp-page": "abc"}
    first = client.post("/api/train", json={"epochs": 500, "n": 2000}, headers=page).json()["id"]
    client.post("/api/train", json={"epochs": 1, "n": 10}, headers=page)
    assert client.trainings.get(first).stopping


def test_runs_listed_followed_and_guarded(tmp_path):
    runs = tmp_path / "runs"
    run(Settings(epochs=2, n=50), out=str(runs / "sweep" / "a"), progress=False, log=lambda *a: None, plots=False)
    (runs / "b").mkdir()
    (runs / "b" / "config.json").write_text(json.dumps(Settings(epochs=5).to_dict()))
    (runs / "b" / "metrics.jsonl").write_text('{"epoch": 1, "objective": 0.5}\n{"epoch": 2, "obj')  # a line being written
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "config.json").write_text("{}")
    app = view.app(runs=str(runs))
    with TestClient(app, base_url=BASE) as c:
        listed = {r["name"]: r for r in c.get("/api/runs").json()["runs"]}
        assert set(listed) == {"sweep/a", "b"}
        assert listed["sweep/a"]["status"] == "finished" and listed["b"]["status"] == "running"
        assert listed["sweep/a"]["summary"]["epochs_run"] == 2
        with c.stream("GET", "/api/runs/sweep/a/events") as r:
            evs = sse_events(r.iter_lines())
        assert [e["epoch"] for e in evs[:-1]] == [1, 2] and evs[-1]["done"] and evs[-1]["summary"]["epochs_run"] == 2
        for name in ("../secret", "..%2Fsecret", "%2E%2E/secret", "b/../../secret", "/etc", "nothing"):
            r = c.get(f"/api/runs/{name}/events")
            assert r.status_code in (403, 404), name
        os.symlink(tmp_path / "secret", runs / "link")
        assert c.get("/api/runs/link/events").status_code == 403


def test_bad_runs_folder_or_table_refused_at_start(tmp_path):
    with pytest.raises(ValueError, match="is not a folder"):
        view.app(runs=str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="target \\(--target\\) is missing"):
        view.app(table={"data": str(tmp_path / "x.csv")})


def test_a_run_being_written_is_tailed_as_it_grows(tmp_path):
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    metrics = folder / "metrics.jsonl"
    metrics.write_text("")

    def writer():
        for e in range(1, 4):
            time.sleep(0.3)
            with open(metrics, "a") as f:
                f.write(json.dumps({"epoch": e, "objective": 1 / e}) + "\n")
        (folder / "summary.json").write_text('{"epochs_run": 3, "final_objective": 0.3}')

    async def read():
        return [json.loads(x[5:]) async for x in tail(str(folder), stop_after=10) if x.startswith("data:")]
    threading.Thread(target=writer).start()
    evs = asyncio.run(read())
    assert [e["epoch"] for e in evs] == [1, 2, 3, 3] and evs[-1]["done"]


def test_a_dropped_client_stops_its_training_and_harms_no_one():
    with running_server() as (url, app):
        host = url.split("//")[1]
        conn = http.client.HTTPConnection(host)
        conn.request("POST", "/api/train", json.dumps({"epochs": 500, "n": 2000}), {"Content-Type": "application/json"})
        id = json.loads(conn.getresponse().read())["id"]
        conn.request("GET", f"/api/train/{id}/events")
        r = conn.getresponse()
        r.fp.readline()
        conn.sock.shutdown(2)  # the tab closes
        conn.close()
        t0 = time.monotonic()
        while not app.trainings.get(id).outbox.done:
            assert time.monotonic() - t0 < 1.5, "the training went on after its page went away"
            time.sleep(0.05)
        other = http.client.HTTPConnection(host)
        other.request("GET", "/api/health")
        assert other.getresponse().status == 200


def test_a_training_nobody_reads_stops(client, monkeypatch):
    monkeypatch.setattr(session, "ORPHAN_SECONDS", 0.3)
    id = train(client, {"epochs": 500, "n": 2000})
    time.sleep(1.2)
    assert client.trainings.get(id).outbox.done


def test_serve_warns_off_loopback_and_stops_on_ctrl_c():
    """A non-loopback host warns; Ctrl-C (SIGINT) ends the server within 2 s, with a training streaming."""
    port = free_port()
    code = (f"from baremlp import view; view.serve(port={port}, host='0.0.0.0', open_browser=False)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("POST", "/api/train", json.dumps({"epochs": 500, "n": 2000}),
                             {"Content-Type": "application/json"})
                id = json.loads(conn.getresponse().read())["id"]
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
                time.sleep(0.1)
        conn.request("GET", f"/api/train/{id}/events")
        conn.getresponse().fp.readline()
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(5)
        assert time.monotonic() - t0 < 2.0
        err = proc.stderr.read()
        assert "warning: serving on 0.0.0.0, not on loopback" in err and "Traceback" not in err
        assert proc.returncode == 0
    finally:
        proc.kill()


def test_a_frame_is_one_forward_pass():
    """The plane, the ReLUs' share on the training data and the computation graph of a frame come from one
    forward pass of the network's own ops (the autograd check included), not one pass each."""
    from baremlp import ops
    t = session.Session(Settings(n=100))
    calls = []
    real = ops.Linear.__call__

    def counted(self, x):
        calls.append(x.shape)
        return real(self, x)
    order = epoch_order(100, 0, 0)
    try:
        ops.Linear.__call__ = counted
        event = t.frame(0, 0, order, 1, 0.01, graph_now=True, put=False)
    finally:
        ops.Linear.__call__ = real
    assert "graph" in event and event["relu"]["active"] and event["function"]
    first_layer = [s for s in calls if s[-1] == 2]  # the 2-3-2 network's first layer takes the 2 inputs
    assert len(first_layer) == 1, calls


def test_the_notes_of_a_run_in_the_clis_words():
    """Unscaled inputs and the batch clamp before a run, weights past about 1e6 and dead units after it."""
    from baremlp.model import MLP
    from baremlp.view import notes
    x = torch.randn(50, 2) * 1000
    data = datamod.Data(x, x.flip(1))
    before = notes.before(Settings(batch_size=80), data)
    assert before[0].startswith("unscaled inputs up to") and "--standardize" in before[0]
    assert before[1] == "batch_size 80 is larger than the 50 samples: using 50"
    net = MLP([2, 3, 2])
    with torch.no_grad():
        net.weights[0][0, 0] = 3e7
    after = notes.after(net, ["final loss 1", "effective map ...\nnote: 2 dead units, off on all 50 samples"])
    assert after[0] == "2 dead units, off on all 50 samples"
    assert after[1].startswith("weights up to 3e+07, beyond about 1e6")
    assert notes.after(MLP([2, 3, 2]), []) == []
