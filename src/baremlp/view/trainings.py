"""The trainings of one server: a Session each, found by id; one per page (a page's new training stops
its last), at most MAX_RUNNING at once, finished ones kept KEEP_SECONDS for late readers and downloads."""
import threading
import time

from .session import Session


class Trainings:
    """The trainings of this server: one per page (a page's new training stops its last), at most MAX_RUNNING."""
    MAX_RUNNING = 4
    KEEP_SECONDS = 300  # a finished training's events and downloads stay this long

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
        with self.lock:
            self.by_id[session.id] = session
            if page:
                self.by_page[page] = session
        return session.start()

    def get(self, id):
        return self.by_id.get(id)

    def prune(self):
        now = time.monotonic()
        for key, t in list(self.by_id.items()):
            if t.outbox.done and now - t.created > self.KEEP_SECONDS:
                del self.by_id[key]

    def stop_all(self, wait=1.0):
        for t in list(self.by_id.values()):
            t.control("stop")
        if wait:
            for t in list(self.by_id.values()):
                t.thread.join(wait)

