"""Server-Sent Events: what a training (or a run folder being written) has to say, and the stream
that carries it to one reader.

A producer thread puts events into an Outbox: every epoch's record is kept (the curve needs them all),
of the frames (what the page draws) only the newest, so a slow reader skips frames, never epochs,
and nothing grows without bound but the epochs.  A put wakes the streams (no polling): on a busy machine
every wake of the server's thread costs the training a hand-over of the interpreter lock.
"""
import asyncio
import threading

from ..jsonsafe import dumps

KEEPALIVE = 10.0   # seconds of silence after which a comment line is sent


def encode(event):
    return dumps(event, separators=(",", ":"))  # non-finite numbers as null: the page reads null as 'none'


class Outbox:
    def __init__(self):
        self.lock = threading.Lock()
        self.epochs = []   # encoded epoch events, all of them
        self.frame = None  # the newest encoded frame
        self.frames = 0    # frames put so far
        self.final = None  # the encoded last event
        self.waiters = set()  # (event loop, asyncio.Event) of each stream: woken by a put, not by polling

    def wake(self):
        for loop, event in list(self.waiters):
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # its loop has closed
                self.waiters.discard((loop, event))

    def epoch(self, event):
        text = encode(event)
        with self.lock:
            self.epochs.append(text)
        self.wake()

    def put_frame(self, event):
        text = encode(event)
        with self.lock:
            self.frame, self.frames = text, self.frames + 1
        self.wake()

    def finish(self, event):
        text = encode(event)
        with self.lock:
            self.final = text
        self.wake()

    @property
    def done(self):
        return self.final is not None

    def since(self, epochs, frames):
        """(new epoch events, the newest frame if newer than `frames`, the final event or None, counts)."""
        with self.lock:
            new = self.epochs[epochs:]
            frame = self.frame if self.frames > frames else None
            return new, frame, self.final, len(self.epochs), self.frames


async def sse(outbox, on_close=None):
    """The outbox as an SSE body: each event a `data:` line of JSON, the final one last.  on_close(finished)
    runs when the stream ends, finished=False when the reader went away first."""
    epochs = frames = 0
    finished, woken = False, asyncio.Event()
    waiter = (asyncio.get_running_loop(), woken)
    outbox.waiters.add(waiter)
    try:
        yield "retry: 1000\n\n"
        while True:
            woken.clear()  # before looking: a put from now on wakes the wait below
            new, frame, final, epochs, frames = outbox.since(epochs, frames)
            for text in new:
                yield f"data: {text}\n\n"
            if frame is not None and final is None:
                yield f"data: {frame}\n\n"
            if final is not None:
                finished = True
                yield f"data: {final}\n\n"
                return
            try:
                await asyncio.wait_for(woken.wait(), KEEPALIVE)
            except asyncio.TimeoutError:
                yield ": keepalive\n\n"
    finally:
        outbox.waiters.discard(waiter)
        if on_close:
            on_close(finished)
