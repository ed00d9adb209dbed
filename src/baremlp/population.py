"""Population training: S networks of one shape trained at once, each member exactly the single run
with its own seed (and, if asked, its own lr, λ and noise).

    member k  =  runner.run(settings.replace(seed=k)):  its data set, initial weights and sample order

The members' parameters are stacked on a leading axis, W_i: (S, fan_out, fan_in), b_i: (S, fan_out),
their data as x: (S, N, fan_in), and an epoch is the compiled engine's epoch (baremlp.compiled) mapped
over that axis by torch.func.vmap.  So every member takes the steps of its own run, through the same
ops.objective and sgd.update, while each kernel does the work of all S.  Per-sample SGD on the 2-3-2
network is where this pays: a single run spends nearly all its time on per-step overhead, which the
members share (bench/population.py measures it).

    from baremlp import population
    from baremlp.settings import Settings
    summaries = population.run(Settings(dataset="linear"), seeds=range(1000))  # one summary.json dict each

A member that diverges is recorded as a sweep records a diverged run, {"final_loss": None,
"diverged_at_step": step}; the others go on.  A member's metrics hold loss, lr, λ, accuracy and M W
per epoch, not the validation loss (its summary has it).  Where torch.compile is unavailable the
members are trained one after another by runner.run, with a note.
"""
import contextlib
import multiprocessing
import time
import warnings

import torch

from . import analysis, compiled, data as datamod, datasets
from .errors import UsageError
from .evaluation import make_loss
from .files import write_json
from .model import resolve_device
from .report import summarize, tracks_map
from .rundir import RunFolder
from .runner import build_net, run as run_one
from .sgd import batch_sizes, epoch_order, lr_at
from .train import Diverged, TrainState

VARIES = ("seed", "lr", "reg", "noise")  # what may differ between members; every other setting is shared


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
    if unsupported(members[0]):
        raise UsageError(f"population training cannot vectorize {'; '.join(unsupported(members[0]))}: "
                         "train these runs one by one (runner.run, or baremlp sweep --no-population)")


class Population:
    """The members' networks with their parameters stacked on a leading axis: W_i (S, fan_out, fan_in),
    b_i (S, fan_out).  analysis.effective_map works on it as on one MLP (W @ A multiplies member by
    member) and gives A: (S, fan_out, fan_in)."""

    def __init__(self, nets):
        self.nets = nets
        self.parameters = [torch.stack([net.parameters[i].detach() for net in nets])
                           for i in range(len(nets[0].parameters))]

    @property
    def weights(self):
        return self.parameters[0::2]

    def unstack(self):
        """Copies each member's parameters back into its own MLP."""
        with torch.no_grad():
            for k, net in enumerate(self.nets):
                for p, stacked in zip(net.parameters, self.parameters):
                    p.copy_(stacked[k])


@contextlib.contextmanager
def one_thread():
    """A population step is a dozen small kernels: threads would spend more on meeting than on work
    (20x slower on a busy 2-core machine), so one process uses one thread; `workers` adds processes.
    Every population size is its own compile, and all of them count against one compiled function:
    dynamo's limit of 8 (then it falls back to far slower uncompiled code) is raised to 64 meanwhile."""
    import torch._dynamo  # the compiler's machinery: loaded only where a population trains
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch._dynamo.config.patch(recompile_limit=64):
            yield
    finally:
        torch.set_num_threads(before)


def train(members, nets, data):
    """Trains the members' networks together, in place.  Returns each member's history (one record
    per epoch, as train.train's) and the step at which it diverged (None where it did not)."""
    s, S = members[0], len(members)
    loss_fn = make_loss(datamod.loss_for(s.loss, data[0].classes))
    pop = Population(nets)
    device, dtype = nets[0].device, nets[0].dtype
    x = torch.stack([d.x for d in data]).to(device, dtype)  # (S, N, fan_in)
    y = torch.stack([d.y for d in data]).to(device)  # (S, N, fan_out) targets, or (S, N) class indices
    labels = not y.dtype.is_floating_point
    y = y if labels else y.to(dtype)
    n = x.shape[1]
    batch_size = min(s.batch_size, n)
    if s.batch_size > n:
        warnings.warn(f"batch_size {s.batch_size} is larger than the {n} samples: using {n}")
    sizes = torch.tensor(batch_sizes(n, batch_size), dtype=dtype, device=device)  # (steps,)
    velocity = [torch.zeros_like(p) for p in pop.parameters] if s.momentum else []
    epoch_fn = compiled.get_epoch(loss_fn, s.momentum, labels, population=True)
    histories, diverged = [[] for _ in members], [None] * S
    for epoch in range(s.epochs):
        t0 = time.perf_counter()
        rates = [lr_at(m.lr, epoch, m.epochs, m.schedule) for m in members]
        lams = [m.reg if m.reg_epochs is None or epoch < m.reg_epochs else 0.0 for m in members]
        orders = {seed: epoch_order(n, seed, epoch) for seed in {m.seed for m in members}}  # shared by a seed's members
        order = torch.stack([orders[m.seed] for m in members]).to(device)  # (S, n)
        pop.parameters, velocity, J, correct = compiled.scan_batches(
            epoch_fn, pop.parameters, velocity, x, y, order, batch_size,
            torch.tensor(rates, dtype=dtype, device=device), torch.tensor(lams, dtype=dtype, device=device))
        # bookkeeping, as train.train does it for one network: J (S, steps), correct (S, steps)
        bad = ~torch.isfinite(J)
        for k in bad.any(1).nonzero().flatten().tolist():
            if diverged[k] is None:
                diverged[k] = epoch * J.shape[1] + int(bad[k].nonzero()[0]) + 1
        if all(d is not None for d in diverged):
            break
        losses = ((J * sizes).sum(1) / n).tolist()
        accuracy = (correct.sum(1) / n).tolist() if labels else None
        maps = analysis.effective_map(pop).tolist() if tracks_map(s) else None
        seconds = time.perf_counter() - t0
        for k in range(S):
            if diverged[k] is None:
                record = {"epoch": epoch + 1, "loss": losses[k], "lr": rates[k], "reg": lams[k]}
                if labels:
                    record["accuracy"] = accuracy[k]
                record["time"] = seconds
                if maps:
                    record["effective_map"] = maps[k]
                histories[k].append(record)
    pop.unstack()
    return histories, diverged


def run_members(members, outs=None, *, workers=1, log=None):
    """Trains the members (Settings differing only in VARIES) as one population and returns one
    summary dict each, as runner.run's.  outs: a run folder for each member, written as a finished
    run folder (config.json, metrics.jsonl, checkpoint, summary.json; cleared first if it holds an
    unfinished run).  workers > 1 splits the members among that many processes."""
    members = list(members)
    check(members)
    outs = list(outs) if outs is not None else [None] * len(members)
    if workers > 1 and len(members) > 1:
        chunks = [(members[i::workers], outs[i::workers]) for i in range(min(workers, len(members)))]
        with multiprocessing.get_context("spawn").Pool(len(chunks)) as pool:  # torch's threads do not survive fork
            parts = pool.starmap(run_members, chunks)
        summaries = [None] * len(members)
        for i, part in enumerate(parts):
            summaries[i::workers] = part
        return summaries
    device = resolve_device(members[0].device)
    loaded = {}
    data = [loaded.setdefault((m.seed, m.noise), datamod.load(m)) for m in members]  # lr and λ leave data alone
    nets = [build_net(m, d, device) for m, d in zip(members, data)]
    if not compiled.available(nets[0]):
        warnings.warn("population training needs torch.compile: training the members one after another")
        return [_one_by_one(m, out) for m, out in zip(members, outs)]
    with one_thread(), warnings.catch_warnings():
        # vmap over the scan traces one slice through a per-member fallback once, at compile time
        warnings.filterwarnings("ignore", message="There is a performance drop because we have not yet implemented")
        folders = [RunFolder(out) if out else None for out in outs]
        for m, folder in zip(members, folders):
            if folder:
                folder.start(m, overwrite=True)
        t0 = time.perf_counter()
        histories, diverged = train(members, nets, data)
        seconds = time.perf_counter() - t0
        loss = datamod.loss_for(members[0].loss, data[0].classes)
        summaries = []
        for m, net, d, history, step, folder in zip(members, nets, data, histories, diverged, folders):
            if step is None:
                summary = summarize(m, net, d, history, loss, seconds / len(members))[0]
                summary["population"] = {"size": len(members), "train_seconds": seconds}
            else:
                summary = {"final_loss": None, "diverged_at_step": step}
            if folder:
                folder.write_metrics(history)
                if step is None:
                    folder.save(net, m, d, TrainState(len(history)))
                folder.write_summary(summary)
            summaries.append(summary)
    if log:
        log(f"population of {len(members)} trained in {seconds:.1f} s")
    return summaries


def _one_by_one(s, out):
    """One member as its own run (where a population cannot compile), recorded as a sweep records it."""
    try:
        return run_one(s, out, overwrite=True, progress=False, log=lambda *a: None, plots=False)[1]
    except Diverged as e:
        summary = {"final_loss": None, "diverged_at_step": e.step}
        if out:
            write_json(RunFolder(out).file("summary.json"), summary)
        return summary


def run(settings, seeds, *, lr=None, reg=None, noise=None, workers=1, log=None):
    """One summary dict per seed (as runner.run's summary.json) for the runs settings.replace(seed=k),
    trained as one population.  lr, reg, noise: optional sequences, one value per seed, for members
    that differ in them too."""
    seeds = list(seeds)
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
    """For a sweep: the summaries of (settings, run folder) pairs, in order.  Finished folders (with
    a summary.json) are read back; the others are trained together as one population into them."""
    todo = [(s, out) for s, out in jobs if not RunFolder(out).finished()]
    if todo:
        run_members([s for s, _ in todo], [out for _, out in todo], workers=workers, log=log)
    return [RunFolder(out).summary() for _, out in jobs]
