"""The trainings of one server: a Session each, found by id; one per page (a page's new training stops
its last), at most MAX_RUNNING at once; ended ones kept for late readers and downloads, for KEEP_SECONDS
and MAX_KEPT of them at most (the newest), so that trainings started and dropped cannot grow the server."""
import threading
import time

from .session import Session


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

