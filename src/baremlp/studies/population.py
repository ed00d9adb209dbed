"""Population training: S networks of one shape trained at once, each member exactly the single run
with its own seed (and, if asked, its own lr, λ and noise).

    member k  =  runner.run(settings.replace(seed=k)):  its data set, initial weights and sample order

The members' parameters are stacked on a leading axis, W_i: (S, fan_out, fan_in), b_i: (S, fan_out),
their data as x: (S, N, fan_in), and an epoch is the compiled engine's epoch (baremlp.engines.compiled) mapped
over that axis by torch.func.vmap (baremlp.studies.stacked).  So every member takes the steps of its own run, through the same
ops.objective and sgd.update, while each kernel does the work of all S.  Per-sample SGD on the 2-3-2
network is where this pays: a single run spends nearly all its time on per-step overhead, which the
members share (bench/population.py measures it).

    from baremlp.runs import Settings
    from baremlp.studies import population
    summaries = population.run(Settings(dataset="linear"), seeds=range(1000))  # one summary.json dict each

A member that diverges is recorded as its single run records itself (runs.folder.diverged_summary:
"diverged": true, the step, the error); the others go on.  A member's metrics hold the single run's
records (objective, lr, λ, accuracy and M W per epoch), not the validation loss (its summary has it).
Where torch.compile is unavailable the members are trained one after another by runner.run, with a note.

The members train in chunks of at most CHUNK (256; a larger population is no faster per member),
as many as MEMORY (2 GiB, a module constant) holds beside the summaries run() returns: the memory is
estimated from the first member's data before anything trains, and what cannot fit is refused in
one line.  Into run folders (a sweep) there are at least CHUNKS chunks, each written as it ends, so
an interrupted sweep keeps its finished chunks and a rerun reads them back.
"""
import functools
import math
import multiprocessing
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

from .. import data as datamod, datasets
from ..engines import compiled
from ..errors import UsageError
from ..model import resolve_device
from ..runs.folder import RunFolder, diverged_summary, stored
from ..runs.report import summarize, tracks_map
from ..runs.runner import build_net, run_or_read
from ..bookkeeping import TrainState
from .stacked import one_thread, train

VARIES = ("seed", "lr", "reg", "noise")  # what may differ between members; every other setting is shared
MEMORY = 2 * 2**30  # bytes: the most a population (a chunk in training, the summaries kept) or a sweep may hold
CHUNK = 256  # the most members trained at once: from about 256 on, a population's time grows with its
#              size (docs/performance.md), so a larger chunk gains nothing and holds more memory
CHUNKS, MIN_CHUNK = 4, 16  # into run folders: at least 4 chunks (of ≥ 16 members), each written as it ends
RECORD_BYTES = 1200  # one epoch's record of one member, as Python holds it (measured: about 1.05 kB)
SUMMARY_BYTES = 4000  # one member's summary dict (measured: about 3.6 kB)


def unsupported(s):
    """The settings of s that a population cannot vectorize, in words; empty when it can."""
    found = []
    if s.patience:
        found.append(f"patience {s.patience} (early stopping would end members at different epochs)")
    if s.check_steps:
        found.append("check_steps (it inspects every step of one network)")
    if not s.data and s.dataset not in datasets.BUILTIN:
        found.append(f"dataset {s.dataset} (a population holds S copies of its data)")
    return found


def check(members):
    """Refuses, in one line, members that one population cannot train."""
    if not members:
        raise UsageError("a population of no members: expected at least one seed")
    first = members[0]
    differ = [k for k in first.to_dict() if k not in VARIES and any(getattr(m, k) != getattr(first, k) for m in members)]
    if differ:
        raise UsageError(f"members differ in {', '.join(differ)}: a population may vary only {', '.join(VARIES)}")
    if found := unsupported(first):
        raise UsageError(f"population training cannot vectorize {'; '.join(found)}: "
                         "train these runs one by one (runner.run, or baremlp sweep --no-population)")


def run_members(members, outs=None, *, workers=1, log=None, keep=True):
    """Trains the members (Settings differing only in VARIES) as one population and returns one
    summary dict each, as runner.run's (keep=False: none, for a caller that reads the folders back).
    outs: a run folder for each member, written as a finished run folder (config.json,
    metrics.jsonl, checkpoint, summary.json; cleared first if it holds a run; without torch.compile,
    runner.run_or_read resumes an unfinished one and reads a finished one back).  workers > 1 splits
    the members among that many processes.  The members train in chunks (chunk_sizes) and each
    chunk's folders are written as it ends, so an interrupted population keeps its finished chunks."""
    members = list(members)
    check(members)
    outs = list(outs) if outs is not None else [None] * len(members)
    kept = check_summaries(len(members)) if keep else 0
    if workers > 1 and len(members) > 1:
        chunks = [(members[i::workers], outs[i::workers]) for i in range(min(workers, len(members)))]
        with multiprocessing.get_context("spawn").Pool(len(chunks)) as pool:  # torch's threads do not survive fork
            parts = pool.starmap(functools.partial(run_members, keep=keep), chunks)
        if not keep:
            return None
        summaries = [None] * len(members)
        for i, part in enumerate(parts):
            summaries[i::workers] = part
        return summaries
    device = resolve_device(members[0].device)
    first = datamod.load(members[0])
    sizes = chunk_sizes(members, first, kept, folders=outs[0] is not None)  # refuses before anything is trained
    if not compiled.available(build_net(members[0], first, device)):
        warnings.warn("population training needs torch.compile: training the members one after another")
        return [run_or_read(m, out) for m, out in zip(members, outs)]
    summaries, start, t0 = [], 0, time.perf_counter()
    with one_thread(), warnings.catch_warnings():
        # vmap over the scan traces one slice through a per-member fallback once, at compile time
        warnings.filterwarnings("ignore", message="There is a performance drop because we have not yet implemented")
        for size in sizes:
            part = _train_chunk(members[start:start + size], outs[start:start + size], device, {
                (members[0].seed, members[0].noise): first} if start == 0 else {})
            summaries += part if keep else []
            start += size
    if log:
        log(f"population of {len(members)} trained in {time.perf_counter() - t0:.1f} s")
    return summaries if keep else None


def chunk_sizes(members, data, kept, folders):
    """How many members each chunk trains: as many as MEMORY holds beside the kept summaries, at most
    CHUNK; into run folders at most 1/CHUNKS of them (≥ MIN_CHUNK), for checkpoints.  Equal sizes
    (±1), since every population size is its own compile."""
    each = member_bytes(members[0], data)
    check_memory(each, "one member needs about", f"(its data and {members[0].epochs} epochs of records)",
                 "train it as a single run (runner.run, or baremlp sweep --no-population)", kept)
    size = min(CHUNK, (MEMORY - kept) // each)
    if folders:
        size = min(size, max(MIN_CHUNK, math.ceil(len(members) / CHUNKS)))
    count = math.ceil(len(members) / size)
    return [len(members) * (i + 1) // count - len(members) * i // count for i in range(count)]


def member_bytes(s, data):
    """About how many bytes one member holds while its population trains: its data (every split) in
    three copies (the data set, the stacked training split, the loader's temporaries), its parameters
    in eight (the net's, the stacked ones, momentum, the scan's gradients and temporaries), one
    record per epoch and its summary."""
    tensors = [t for t in (data.x, data.y, data.x_val, data.y_val, data.x_test, data.y_test) if t is not None]
    sizes = [data.x.shape[1], *s.hidden, data.outputs]
    parameters = sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes, sizes[1:]))
    return (3 * sum(t.nelement() * t.element_size() for t in tensors) + 8 * parameters * data.x.element_size()
            + s.epochs * RECORD_BYTES + SUMMARY_BYTES)


def check_summaries(count):
    """The bytes of `count` summaries, which run() returns; refused beyond MEMORY."""
    check_memory(count * SUMMARY_BYTES, f"seeds: {count} members would keep about", "of summaries",
                 "pass fewer seeds, or train them into run folders (a sweep), which keeps none")
    return count * SUMMARY_BYTES


def check_memory(need, what, of, advice, kept=0):
    """Refuses in one line what would hold more than MEMORY bytes (beside `kept` already counted)."""
    if need + kept > MEMORY:
        beside = f" beside {size_text(kept)} of summaries" if kept else ""
        raise UsageError(f"{what} {size_text(need)} {of}{beside}, over the cap of {size_text(MEMORY)} "
                         f"(population.MEMORY): {advice}")


def size_text(n):
    return f"{n / 1e9:.3g} GB" if n >= 1e9 else f"{n / 1e6:.3g} MB" if n >= 1e6 else f"{n / 1e3:.3g} kB"


def _train_chunk(members, outs, device, loaded):
    """Trains one chunk of members as one population (loaded: data sets already read, by (seed,
    noise)) and writes their folders; returns their summaries."""
    for m in members:  # one data set per (seed, noise): lr and λ leave data alone
        if (m.seed, m.noise) not in loaded:
            loaded[m.seed, m.noise] = datamod.load(m)
    data = [loaded[m.seed, m.noise] for m in members]
    nets = [build_net(m, d, device) for m, d in zip(members, data)]
    t0 = time.perf_counter()
    loss = datamod.loss_for(members[0].loss, data[0].classes)
    histories, velocities, errors = train(members, nets, data, loss, tracks_map(members[0]))
    seconds = time.perf_counter() - t0
    share = seconds / len(members)  # a member's share of the time
    summaries = []
    for m, net, d, history, error in zip(members, nets, data, histories, errors):
        if error is None:
            summary = summarize(m, net, d, history, loss, share)[0]
            summary["population"] = {"size": len(members), "train_seconds": seconds}
        else:
            summary = diverged_summary(error, share)
        summaries.append(summary)
    jobs = [job for job in zip(outs, members, nets, data, histories, velocities, summaries) if job[0]]
    with ThreadPoolExecutor(16) as pool:  # each file is fsynced: waits on the disk, which threads share
        list(pool.map(lambda job: _write_folder(*job), jobs))
    return summaries


def _write_folder(out, s, net, data, history, velocity, summary):
    """A member's run folder as its single run leaves it: records, checkpoint (momentum buffers and
    seconds trained too, so that it resumes as that run does) and summary; a diverged one: no checkpoint."""
    folder = RunFolder(out)
    folder.check_new(overwrite=True)  # a file or an unwritable place in its way is said in one line
    folder.start(s)  # clears what an interrupted run of it left
    folder.write_metrics([stored(r) for r in history])
    if summary["final_loss"] is not None:
        folder.save(net, s, data, TrainState(len(history), velocity), summary["train_seconds"])
    folder.write_summary(summary)  # last: its presence means "finished" (a diverged one's: diverged_summary's)


def run(settings, seeds, *, lr=None, reg=None, noise=None, workers=1, log=None):
    """One summary dict per seed (as runner.run's summary.json) for the runs settings.replace(seed=k),
    trained as one population.  lr, reg, noise: optional sequences, one value per seed, for members
    that differ in them too."""
    seeds = list(seeds)
    check_summaries(len(seeds))  # before a Settings is made for each
    varied = {name: list(values) for name, values in (("lr", lr), ("reg", reg), ("noise", noise)) if values is not None}
    for name, values in varied.items():
        if len(values) != len(seeds):
            raise UsageError(f"{name} has {len(values)} values for {len(seeds)} seeds: expected one per seed")
    members = [settings.replace(seed=seed, **{name: values[i] for name, values in varied.items()})
               for i, seed in enumerate(seeds)]
    return run_members(members, workers=workers, log=log)


def can_train(base, names):
    """Whether a sweep of base over the settings `names` (seeds always vary) can run as one population."""
    return set(names) <= set(VARIES) and not unsupported(base)


def run_folders(jobs, *, workers=1, log=None):
    """For a sweep: the summaries of (settings, run folder) pairs, in order, as they are read (a
    generator).  Finished folders (with a summary.json) are read back; the others are trained
    together as one population into them, chunk by chunk, before the first is read."""
    todo = [(s, out) for s, out in jobs if not RunFolder(out).finished()]
    if todo:
        run_members([s for s, _ in todo], [out for _, out in todo], workers=workers, log=log, keep=False)
    return (run_or_read(s, out) for s, out in jobs)  # all finished now: read back, one at a time
