"""One training of the page, in a worker thread: the CLI's data, network, engine and summary (the
loop is baremlp.view.loop), with Stop, Pause, Resume and Step, and frames of what the page draws at
most every FRAME_SECONDS.  A training that no page reads stops: its stream closed (the tab was closed),
or no stream came within ORPHAN_SECONDS of its start.  Trainings: the server's sessions by id, one per page,
at most MAX_RUNNING at once, ended ones kept for late readers and downloads (KEEP_SECONDS, MAX_KEPT).
"""
import secrets
import tempfile
import threading
import time

import torch

from ..bookkeeping import Diverged, TrainState
from ..evaluation import evaluate
from ..ops import make_loss
from ..runs.folder import RunFolder, diverged_summary
from ..runs.report import summarize, tracks_map
from ..runs.runner import prepare
from . import notes, picture
from .loop import Callbacks, Stopped, train_live
from .stream import Outbox

FRAME_SECONDS = 0.04   # 25 frames a second at most on average, never two within 20 ms
GRAPH_SECONDS = 0.25   # the computation graph, while running, at most 4 times a second
ACTIVE_SECONDS = 0.2   # the ReLUs' share of training samples on, while running, at most 5 times a second
ORPHAN_SECONDS = 10.0  # a training whose events nobody has opened by then stops


class Session:
    def __init__(self, s, paused=False):
        self.s, self.id = s, secrets.token_urlsafe(9)
        self.data, self.loss, self.net = prepare(s)  # as a run of baremlp train prepares them
        self.loss_fn = make_loss(self.loss)
        self.state, self.history = TrainState(), []
        self.plane = picture.Plane(self.data, self.net) if self.data.x.shape[1] == 2 else None
        self.track = tracks_map(s)
        self.notes = notes.before(s, self.data)  # the CLI's notes as the run starts, in its words
        self.calls = Callbacks(self.gate, self.after_chunk, self.after_epoch)  # what the loop asks of the page
        self.lock = self.calls.lock        # held while the worker changes the network
        self.cond = threading.Condition()  # the controls
        self.paused, self.stopping, self.steps_asked, self.after_step = paused, False, 0, False
        self.status = "paused" if paused else "starting"
        self.outbox, self.readers, self.created, self.read = Outbox(), 0, time.monotonic(), False
        self.frame_due = self.last_graph = self.last_active = 0.0
        self.active = []
        self.pending, self.paused_seconds, self.seconds = None, 0.0, 0.0
        self.thread = threading.Thread(target=self.main, daemon=True, name=f"baremlp-view-{self.id}")

    def start(self):
        self.thread.start()
        return self

    # controls, from the server's threads
    def control(self, action):
        with self.cond:
            if action == "stop":
                self.stopping = True
            elif action == "pause":
                self.paused = True
            elif action == "resume":
                self.paused, self.after_step = False, False
            elif action == "step":
                self.paused, self.steps_asked = True, self.steps_asked + 1
            self.cond.notify_all()
        return {"status": "done" if self.outbox.done else self.status}

    def attach(self):
        with self.cond:
            self.readers, self.read = self.readers + 1, True

    def detach(self, finished):
        with self.cond:
            self.readers -= 1
        if not finished and not self.readers:
            self.control("stop")  # the page went away: nobody watches this training

    # the worker
    def gate(self, epoch, pos, order, batch, rate, lam):
        """Before each chunk: waits while paused (showing the next step's graph), raises Stopped, or
        returns 0 (train on) or one batch's size (a Step)."""
        shown = self.after_step
        while True:
            with self.cond:
                if self.stopping or (not self.read and time.monotonic() - self.created > ORPHAN_SECONDS):
                    raise Stopped
                if self.steps_asked:
                    self.steps_asked, step = self.steps_asked - 1, True
                    break
                if not self.paused:
                    step, resumed = False, self.status != "running"
                    break
                if shown:
                    t = time.monotonic()
                    self.cond.wait(0.25)
                    self.paused_seconds += time.monotonic() - t
                    continue
            self.status, shown = "paused", True
            self.frame(epoch, pos, order, batch, lam, graph_now=True)
        if not step:
            if resumed:  # said at once: a compile can take seconds before the first chunk's frame
                self.status = "compiling" if self.s.engine == "compiled" and epoch == pos == 0 else "running"
                self.frame(epoch, pos, order, batch, lam)
            self.status = "running"
            return 0
        rows = order[pos:pos + batch]
        self.pending = ([p.detach().clone() for p in self.net.parameters], self.graph_of(rows, lam, epoch), rate)
        self.status = "paused"
        return batch

    def after_chunk(self, epoch, pos, order, batch, lam, J):
        if self.pending:
            before, g, rate = self.pending
            self.pending, self.after_step = None, True
            g["update"] = picture.update(before, self.net.parameters, rate, self.s.momentum)
            self.frame(epoch, pos, order, batch, lam, J=J, g=g)
        elif (now := time.monotonic()) >= self.frame_due:  # FRAME_SECONDS apart on average, never in bursts
            self.frame_due = max(self.frame_due + FRAME_SECONDS, now + FRAME_SECONDS / 2)
            self.frame(epoch, pos, order, batch, lam, J=J)

    def after_epoch(self, record):
        self.history.append(record)
        if self.track:
            A = picture.map_frame(self.net)
            record.update(A)
        if self.data.x_test is not None:  # live, as the summary gives them at the end: one pass over the test data
            test = evaluate(self.net, self.data.x_test, self.data.y_test, self.loss)
            record.update({"test_" + k: test[k] for k in ("loss", "accuracy") if k in test})
        self.outbox.epoch({"kind": "epoch", **record})

    def batch(self, rows, lam):
        """picture.draw's batch: the step's samples, on rows of the data."""
        x, y = self.data.x[rows.cpu()], self.data.y[rows.cpu()]
        return x.to(self.net.device), y.to(self.net.device), self.loss, lam, rows.tolist()

    def graph_of(self, rows, lam, epoch):
        """The graph of the step on rows, in epoch (counted from 0; the page says epoch + 1)."""
        return {**picture.draw(self.net, batch=self.batch(rows, lam))["graph"], "epoch": epoch + 1}

    def frame(self, epoch, pos, order, batch, lam, *, J=None, g=None, graph_now=False, put=True):
        """What the page draws now; the graph of the next step with it when asked or due."""
        now = time.monotonic()
        n = self.data.x.shape[0]
        live = J.float().mean().item() if J is not None else (self.history[-1]["objective"] if self.history else None)
        event = {"kind": "frame", "status": self.status, "epoch": self.state.epoch, "epochs": self.s.epochs,
                 "position": pos, "samples": n, "objective": live, "progress": (epoch + pos / n) / self.s.epochs,
                 "network": picture.weights_frame(self.net), "relu": {"maps": [], "active": self.active},
                 "notes": self.notes}
        active = now - self.last_active >= ACTIVE_SECONDS or g is not None or graph_now or J is None
        due = g is None and order is not None and pos < n and (graph_now or now - self.last_graph >= GRAPH_SECONDS)
        drawn = picture.draw(self.net, self.plane, self.data.x if active else None,  # one forward pass for all
                             self.batch(order[pos:pos + batch], lam) if due else None)
        if self.plane:
            event["function"], event["relu"]["maps"] = drawn["function"], drawn["maps"]
        if active:
            self.active = event["relu"]["active"] = drawn["active"]
            self.last_active = now
        if self.track:
            event.update(picture.map_frame(self.net))
        if due:
            g = {**drawn["graph"], "epoch": epoch + 1}
        if g is not None:
            event["graph"], self.last_graph = g, now
        if put:
            self.outbox.put_frame(event)
        return event

    def main(self):
        torch.set_num_threads(1)  # this thread only (OpenMP's setting is per thread): the live page's small ops and
        t0 = time.perf_counter()  # grids run several times faster so on a busy 2-core machine than split over two
        s, stopped = self.s, False
        try:
            self.frame(0, 0, None, 1, s.reg)
            history = train_live(self.net, self.data, s, loss=self.loss_fn, state=self.state, calls=self.calls)
        except Stopped:
            history, stopped = self.history, True
        except Diverged as e:
            self.status = "diverged"
            self.seconds = time.perf_counter() - t0 - self.paused_seconds
            self.outbox.finish({"kind": "done", "done": True, "diverged": True, "error": str(e), "epoch": e.epoch - 1,
                                "objective": None, "summary": diverged_summary(e, self.seconds)})
            return
        except Exception as e:  # a failure while running: said in one line, the server goes on
            self.status = "failed"
            self.outbox.finish({"kind": "done", "done": True, "error": f"{type(e).__name__}: {e}",
                                "epoch": self.state.epoch, "objective": None})
            return
        self.seconds = time.perf_counter() - t0 - self.paused_seconds
        self.status = "stopped" if stopped else "finished"
        summary, lines = summarize(s, self.net, self.data, history, self.loss, self.seconds)
        final = {"kind": "done", "done": True, "epoch": self.state.epoch, "summary": summary, "lines": lines,
                 "notes": self.notes + notes.after(self.net, lines),
                 "objective": history[-1]["objective"] if history else None,
                 "frame": self.frame(self.state.epoch, 0, None, 1, 0.0, put=False)}
        if stopped:
            final["stopped"] = True
        self.outbox.finish(final)

    # downloads
    def config(self):
        return self.s.to_dict()

    def checkpoint(self):
        """The checkpoint file's bytes, as a run folder's (baremlp evaluate and predict take it)."""
        with tempfile.TemporaryDirectory(prefix="baremlp-view-") as tmp, self.lock:
            folder = RunFolder(tmp)
            folder.save(self.net, self.s, self.data, self.state, self.seconds or None)
            with open(folder.checkpoint, "rb") as f:
                return f.read()


class Trainings:
    """The trainings of this server: one per page (a page's new training stops its last), at most MAX_RUNNING."""
    MAX_RUNNING = 4
    KEEP_SECONDS = 300  # a finished training's events and downloads stay this long
    MAX_KEPT = 16       # ... and this many of them at most, the newest

    def __init__(self):
        self.lock, self.by_id, self.by_page = threading.Lock(), {}, {}

    def start(self, s, page=None, paused=False):
        with self.lock:
            self.prune()
            if page in self.by_page:
                self.by_page.pop(page).control("stop")
            running = [t for t in self.by_id.values() if not t.outbox.done and not t.stopping]
            if len(running) >= self.MAX_RUNNING:
                raise RuntimeError(f"{len(running)} trainings are running already, the most this server runs at "
                                   "once: stop one (or close its page) first")
        session = Session(s, paused)
        session.page = page
        with self.lock:
            self.by_id[session.id] = session
            if page:
                self.by_page[page] = session
        return session.start()

    def get(self, id):
        return self.by_id.get(id)

    def prune(self):
        now = time.monotonic()
        ended = sorted((t for t in self.by_id.values() if t.outbox.done), key=lambda t: t.created)
        for i, t in enumerate(ended):
            if len(ended) - i > self.MAX_KEPT or now - t.created > self.KEEP_SECONDS:
                del self.by_id[t.id]
                if self.by_page.get(t.page) is t:
                    del self.by_page[t.page]

    def stop_all(self, wait=1.0):
        for t in list(self.by_id.values()):
            t.control("stop")
        deadline = time.monotonic() + wait  # wait: seconds for them all, not for each
        for t in list(self.by_id.values()):
            t.thread.join(max(0.0, deadline - time.monotonic()))

