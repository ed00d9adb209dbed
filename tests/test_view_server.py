"""baremlp view's server holding up (issue 28, items 10-14): run folders that cannot stall it, absurd
numbers refused at the door, trainings kept within bounds, a clean Ctrl-C, bad server options in one line."""
import asyncio
import http.client
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from view_helpers import BASE, TestClient, client, free_port, running_server, sse_events, view  # noqa: F401  (client: a fixture; skips without the view extra)

from baremlp.cli import main
from baremlp.runs.settings import Settings
from baremlp.view.folders import tail

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
CONFIG = json.dumps(Settings(epochs=5).to_dict())


def get(url, path, timeout=5.0):
    """(status, body) of a GET with a timeout, so that a server that hangs fails the test instead."""
    host, port = url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    conn.request("GET", path)
    r = conn.getresponse()
    return r.status, r.read()


def folder(root, name, config=CONFIG, metrics=None):
    path = root / name
    path.mkdir(parents=True)
    (path / "config.json").write_text(config)
    if metrics is not None:
        (path / "metrics.jsonl").write_text(metrics)
    return path


@pytest.mark.parametrize("mb", [48, pytest.param(200, marks=pytest.mark.slow)])
def test_a_huge_metrics_file_stalls_nothing(tmp_path, mb):
    """A 200 MB metrics.jsonl (48 MB in the default run) streamed to a client that leaves: /api/health
    answers within 1 s all along."""
    path = folder(tmp_path, "big")
    line = json.dumps({"epoch": 1, "objective": 0.5, "loss": 0.5, "lr": 0.04, "pad": "x" * 120}).encode() + b"\n"
    block = line * (1 << 20 // len(line) + 1)
    with open(path / "metrics.jsonl", "wb") as f:
        for _ in range(mb * (1 << 20) // len(block)):
            f.write(block)
    with running_server(runs=str(tmp_path)) as (url, app):
        before = rss_mb()  # the server runs in this process
        host, port = url.split("//")[1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", "/api/runs/big/events")
        r = conn.getresponse()
        assert r.status == 200
        for _ in range(50):
            r.fp.readline()
        slowest, t_end = 0.0, time.monotonic() + 2
        while time.monotonic() < t_end:
            t = time.monotonic()
            assert get(url, "/api/health", timeout=5)[0] == 200
            slowest = max(slowest, time.monotonic() - t)
            if time.monotonic() > t_end - 1.5 and conn.sock:  # the client leaves half a second in
                conn.sock.shutdown(socket.SHUT_RDWR)
                conn.close()
            time.sleep(0.05)
        status, body = get(url, "/api/runs", timeout=5)
        assert status == 200 and json.loads(body)["runs"][0]["epochs_done"] == 1  # the last line's: not read through
        assert rss_mb() - before < 100  # 900 MB before: the whole file read and split at once
    assert slowest < 1.0


def test_special_files_are_skipped(tmp_path):
    """A FIFO as metrics.jsonl, config.json or summary.json hangs nothing: the list and the streams answer."""
    fifo_metrics = folder(tmp_path, "fifo_metrics")
    os.mkfifo(fifo_metrics / "metrics.jsonl")
    fifo_summary = folder(tmp_path, "fifo_summary", metrics='{"epoch": 1, "objective": 0.5}\n')
    os.mkfifo(fifo_summary / "summary.json")
    (tmp_path / "fifo_config").mkdir()
    os.mkfifo(tmp_path / "fifo_config" / "config.json")
    folder(tmp_path, "fine", metrics='{"epoch": 1, "objective": 0.5}\n')
    with running_server(runs=str(tmp_path)) as (url, app):
        status, body = get(url, "/api/runs")
        assert status == 200
        names = {r["name"] for r in json.loads(body)["runs"]}
        assert names == {"fifo_metrics", "fifo_summary", "fine"}
        host, port = url.split("//")[1].split(":")
        for name in ("fifo_metrics", "fifo_summary"):
            conn = http.client.HTTPConnection(host, int(port), timeout=5)
            conn.request("GET", f"/api/runs/{name}/events")
            r = conn.getresponse()
            assert r.status == 200 and r.readline().startswith(b"retry")
            conn.close()
        assert get(url, "/api/runs/fifo_config/events")[0] == 404
        assert get(url, "/api/health")[0] == 200


def test_json_that_is_not_an_object_is_skipped_and_logged_once(tmp_path, caplog):
    folder(tmp_path, "list_config", config="[1, 2]", metrics='{"epoch": 1, "objective": 0.5}\n')
    odd = folder(tmp_path, "odd_lines", metrics='[1]\n3\n"text"\n{"epoch": 1, "objective": 0.5}\nnull\n'
                                               '{"epoch": 2, "objective": 0.25}\n')
    (odd / "summary.json").write_text("[]")
    with caplog.at_level(logging.WARNING, logger="baremlp.view"), TestClient(view.app(runs=str(tmp_path)),
                                                                                base_url=BASE) as c:
        for _ in range(2):
            r = c.get("/api/runs")
            assert r.status_code == 200
            listed = {x["name"]: x for x in r.json()["runs"]}
            assert set(listed) == {"list_config", "odd_lines"} and listed["list_config"]["settings"] == {}
        for _ in range(2):
            with c.stream("GET", "/api/runs/odd_lines/events") as r:
                evs = sse_events(r.iter_lines())
            assert [e["epoch"] for e in evs if e["kind"] == "epoch"] == [1, 2]
            assert evs[-1]["done"] and "not a JSON object" in evs[-1]["summary"]["error"]
    said = [m.getMessage() for m in caplog.records]
    assert sum("list_config" in m and "config.json" in m for m in said) == 1
    assert sum("odd_lines" in m and "metrics.jsonl" in m for m in said) == 1
    assert sum("odd_lines" in m and "summary.json" in m for m in said) == 1


def test_a_deleted_run_folder_ends_its_stream(tmp_path):
    path = folder(tmp_path, "gone", metrics='{"epoch": 1, "objective": 0.5}\n')
    threading.Timer(0.6, shutil.rmtree, [path]).start()

    async def read():
        return [json.loads(x[5:]) async for x in tail(str(path), stop_after=10) if x.startswith("data:")]
    t0 = time.monotonic()
    evs = asyncio.run(read())
    assert time.monotonic() - t0 < 3
    assert evs[0]["epoch"] == 1 and evs[-1]["done"] and "deleted" in evs[-1]["error"]


@pytest.mark.parametrize("raw, says", [
    (b"[" * 30000 + b"]" * 30000, "nested too deeply"),
    (b'{"hidden": ' + b"[" * 20000 + b"3" + b"]" * 20000 + b"}", "nested too deeply"),
    (b'{"epochs": 1' + b"0" * 400 + b"}", "epochs 1000…0000 (401 digits) invalid: too large"),
    (b'{"hidden": [1' + b"0" * 30 + b"]}", "hidden 1000…0000 (31 digits) invalid: too large"),
    (b'{"seed": -1' + b"0" * 30 + b"}", "seed -1000…0000 (31 digits) invalid"),
    (b'{"n": 1' + b"0" * 400 + b"}", "n 1000…0000 (401 digits) invalid"),
    (b'{"lr": 1e308}', "lr 1e+308 too large for float32"),
    (b'{"noise": 1e300}', "noise 1e+300 too large for float32"),
    (b'{"init_scale": 1e39}', "init_scale 1e+39 too large for float32"),
])
def test_absurd_numbers_are_refused_at_the_door(client, raw, says):
    r = client.post("/api/train", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400 and says in r.json()["error"], r.text
    assert "\n" not in r.json()["error"] and len(r.json()["error"]) < 400
    assert not client.trainings.by_id


def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


@pytest.mark.parametrize("count", [25, pytest.param(200, marks=pytest.mark.slow)])
def test_dropped_trainings_are_kept_within_bounds(client, count):
    """Trainings started and dropped: the server keeps at most Trainings.MAX_KEPT of those ended, and
    grows by at most about 100 MB for 200 (206 MB before the bound)."""
    def once():
        id = client.post("/api/train?paused=1", json={"n": 2000, "hidden": [64, 64, 64, 64]}).json()["id"]
        client.post(f"/api/train/{id}/stop")
        while not client.trainings.get(id).outbox.done:
            time.sleep(0.005)
    for _ in range(10):
        once()
    before = rss_mb()
    for _ in range(count):
        once()
    assert len(client.trainings.by_id) <= client.trainings.MAX_KEPT + client.trainings.MAX_RUNNING
    assert rss_mb() - before < 100


def test_ctrl_c_with_a_run_folder_stream_open_is_clean(tmp_path):
    folder(tmp_path, "r", metrics='{"epoch": 1, "objective": 0.5}\n')
    port = free_port()
    code = f"from baremlp import view; view.serve(port={port}, runs={str(tmp_path)!r}, open_browser=False)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/runs/r/events")
                r = conn.getresponse()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
                time.sleep(0.1)
        r.fp.readline()
        r.fp.readline()
        time.sleep(0.5)  # the stream waits for more lines
        proc.send_signal(signal.SIGINT)
        proc.wait(5)
        err = proc.stderr.read()
        assert "Traceback" not in err and "CancelledError" not in err, err
        assert proc.returncode in (0, 130)
    finally:
        proc.kill()


@pytest.mark.slow
def test_ctrl_c_while_two_compiled_trainings_compile_exits_cleanly():
    port = free_port()
    code = f"from baremlp.cli import main; raise SystemExit(main(['view', '--port', '{port}', '--no-browser']))"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        for page in ("a", "b"):
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    conn.request("POST", "/api/train", json.dumps({"engine": "compiled", "n": 300}),
                                 {"Content-Type": "application/json", "X-Baremlp-Page": page})
                    assert conn.getresponse().status == 201
                    break
                except ConnectionRefusedError:
                    assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
                    time.sleep(0.1)
        time.sleep(3)  # compiling
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
        assert time.monotonic() - t0 < 2.0
        assert proc.returncode in (0, 130), proc.stderr.read()
    finally:
        proc.kill()


@pytest.mark.parametrize("argv, says", [
    (["--port", "70000"], "port '70000' invalid: expected a whole number from 1 to 65535"),
    (["--port", "0"], "port '0' invalid: expected a whole number from 1 to 65535"),
    (["--host", "nosuch.invalid"], "host 'nosuch.invalid' unknown"),
    (["--host", "192.0.2.1"], "host '192.0.2.1' cannot be served on"),  # TEST-NET: an address of no machine here
])
def test_bad_server_options_get_one_line(capsys, argv, says):
    assert main(["view", "--no-browser", *argv]) == 2
    out, err = capsys.readouterr()
    assert says in err and err.count("\n") == 1 and "Traceback" not in err, err


def test_a_taken_port_gets_one_line(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["view", "--no-browser", "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert f"--port {port}" in err and "in use" in err and err.count("\n") == 1, err


def test_one_json_safe_helper_for_the_page_and_the_checker():
    """The page's events and the checker's --json report replace non-finite numbers with one helper."""
    from baremlp.jsonsafe import dumps, json_safe
    from baremlp.view import stream
    value = {"a": float("nan"), "b": [1.5, float("-inf"), (float("inf"), 2)], "c": "x", "d": 3}
    assert json_safe(value) == {"a": None, "b": [1.5, None, [None, 2]], "c": "x", "d": 3}
    assert json_safe(value, instead=str) == {"a": "nan", "b": [1.5, "-inf", ["inf", 2]], "c": "x", "d": 3}
    assert stream.encode(value) == dumps(value, separators=(",", ":"))
    assert json.loads(stream.encode(value))["a"] is None
    with pytest.raises(ValueError):
        dumps({"b": float("nan")}, instead=float("nan"))  # a stand-in that is not finite itself: refused
