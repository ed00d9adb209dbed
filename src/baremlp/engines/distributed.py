"""Data-parallel training on torch.distributed: P processes (ranks) train one network as one would.

Every rank holds the whole network and the whole data.  Each step's batch B of n samples (in the
single-process order, sgd.epoch_order) is cut into P shards B_r of n_r samples, one per rank.  The
loss is a mean over samples, so with J_r = L(B_r) + λ s, the objective of rank r's shard,

    J = L(B) + λ s = Σ_r (n_r / n) L(B_r) + λ s = Σ_r (n_r / n) J_r       because Σ_r n_r / n = 1
    ∇J = Σ_r (n_r / n) ∇J_r                                                 one all_reduce (a sum)

Every rank thus ends the step with the whole batch's gradient and applies the same update
(sgd.update) to the same parameters.  λ s sits in every J_r, but its weights sum to one, so it
counts once; a rank whose shard the short last batch leaves empty has n_r = 0 and adds zeros.

torchrun (or `baremlp train --nproc N`, baremlp.cli.launcher) starts the ranks and tells each one
RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT in its environment; join() reads them.
"""
import os
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from .. import backprop, ops
from . import lifeline
from ..errors import UsageError
from ..model import build_layers, resolve_device
from ..sgd import update

# A collective waits at most this long for a peer: past it, a rank whose machine vanished without
# closing its sockets stops the run (a killed process closes them, and its peers fail at once).
TIMEOUT = timedelta(minutes=5)
PEER_LOST = 3  # exit status of a process whose collective failed because another process is gone


class PeerLost(RuntimeError):
    """A collective failed: another process is gone, and torchrun names it (this process exits quietly)."""


@contextmanager
def peers():
    """Around a collective: its failure means that another process is gone."""
    try:
        yield
    except RuntimeError as e:
        raise PeerLost(f"a collective failed, so another process is gone ({str(e).splitlines()[0]})") from e


@dataclass
class Group:
    rank: int            # 0 .. size − 1; rank 0 writes the run folder and prints
    size: int            # P, the number of processes
    device: torch.device  # cuda:LOCAL_RANK with NCCL, the CPU with gloo
    allreduce_seconds: float = 0.0  # time in all_reduce since the runner last read it: the cost of the sum

    def engine(self, name, check_steps=False):
        """The data-parallel epoch function for the engine `name`, adding its all_reduce time to this group."""
        return epoch_function(name, check_steps, self)


def world_size():
    """P as torchrun set it for this process (1 outside torchrun)."""
    return int(os.environ.get("WORLD_SIZE", 1))


def rank():
    """This process's rank as torchrun set it (0 outside torchrun, whatever else set RANK)."""
    return int(os.environ.get("RANK", 0)) if world_size() > 1 else 0


def check(batch_size, device_setting, size, local_size, check_steps=False):
    """Refuses what `size` processes, `local_size` of them on this machine, cannot do; returns the
    device the setting means ("cpu", or "cuda" without an index: each process takes its own GPU).
    The launcher calls it before it starts them, each process as it joins (before any file is written)."""
    refuse_check_steps(check_steps, size)
    if size > 1 and batch_size == 1:
        raise UsageError(f"batch_size 1 with {size} processes: per-sample SGD updates after every sample, so a step "
                         "has one sample to compute and nothing to share; use one process, or a batch of at least "
                         f"{size}")
    if batch_size < size:
        raise UsageError(f"batch_size {batch_size} is smaller than the {size} processes: expected a batch of at "
                         "least one sample per process")
    device = resolve_device(device_setting)
    if device.type == "cuda" and size > 1:
        if device.index is not None:
            raise UsageError(f"device {device_setting!r} with {size} processes: each process takes the GPU of its "
                             "LOCAL_RANK, so expected device 'cuda' (--device cuda)")
        if local_size > torch.cuda.device_count():
            raise UsageError(f"{local_size} processes with device {device_setting!r}, but this machine has "
                             f"{torch.cuda.device_count()} GPU(s), one per process: start fewer, or use device 'cpu' (--device cpu)")
    return device


def refuse_check_steps(check_steps, size):
    if check_steps and size > 1:
        raise UsageError("check_steps re-evaluates every step in one process: run it without --nproc or torchrun")


def join(device_setting, batch_size, check_steps=False):
    """The process group of a run that torchrun started with several processes; None for one process.
    The device setting "cpu" means gloo; "cuda" (or "auto" where CUDA is present) means NCCL with
    each rank on the GPU of its LOCAL_RANK."""
    size = world_size()
    if size == 1:
        return None
    lifeline.hold()  # this rank ends with torchrun's agent (or --nproc's launcher), SIGKILLed or not
    device = check(batch_size, device_setting, size, int(os.environ["LOCAL_WORLD_SIZE"]), check_steps)
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=TIMEOUT,
                                device_id=device if device.type == "cuda" else None)
    if rank():
        warnings.simplefilter("ignore")  # rank 0 alone prints, notes included
    return Group(rank(), size, device)


def leave():
    if dist.is_initialized():
        dist.destroy_process_group()


def active():
    """True inside a process group of several ranks: train() then runs the data-parallel engine."""
    return dist.is_initialized() and dist.get_world_size() > 1


def share(value):
    """Rank 0's value (anything picklable, tensors on the CPU) on every rank."""
    box = [value]
    with peers():
        dist.broadcast_object_list(box, src=0)
    return box[0]


def any_rank(flag):
    """True on every rank if it is True on any: all ranks stop training in the same epoch."""
    if not active():
        return flag
    nccl = dist.get_backend() == "nccl"  # whose collectives take tensors on this rank's GPU only
    t = torch.tensor([float(bool(flag))], device=torch.cuda.current_device() if nccl else "cpu")
    with peers():
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def broadcast_(tensors):
    """Overwrites tensors, in place on every rank, with rank 0's: one flat buffer, one broadcast."""
    flat = torch.cat([t.detach().reshape(-1) for t in tensors])
    with peers():
        dist.broadcast(flat, src=0)
    with torch.no_grad():
        for t, part in zip(tensors, flat.split([t.numel() for t in tensors])):
            t.copy_(part.view_as(t))


def epoch_function(engine, check_steps=False, group=None):
    """The data-parallel engine, its shards' gradients from autograd (eager) or from the ops' own
    backwards (manual); with a group, its all_reduce time is added to group.allreduce_seconds."""
    refuse_check_steps(check_steps, dist.get_world_size() if dist.is_initialized() else 1)  # train() in a group
    if engine == "compiled":
        warnings.warn("the compiled engine runs an epoch per call, with no place for the all_reduce of every "
                      "step: the processes use the eager data-parallel loop (the same steps)")
    gradients = manual_gradients if engine == "manual" else autograd_gradients

    def epoch(net, x, y, order, step):
        return data_parallel_epoch(net, x, y, order, step, gradients, group)
    epoch.data_parallel = True  # train.engine_for lets it run under torchrun: it sums the processes' gradients
    return epoch


def autograd_gradients(net, xb, yb, loss_fn, lam):
    """(J, v, ∂J/∂p for every parameter) of one shard, by autograd."""
    v = net(xb)
    J = ops.objective(loss_fn, v, yb, net.weights, lam)
    return J.detach(), v.detach(), torch.autograd.grad(J, net.parameters)


def manual_gradients(net, xb, yb, loss_fn, lam):
    """(J, v, ∂J/∂p for every parameter) of one shard, by the ops' own backwards (baremlp.backprop)."""
    with torch.no_grad():
        return backprop.step(build_layers(net.parameters), xb, yb, ops.Objective(loss_fn), lam)


def data_parallel_epoch(net, x, y, order, step, gradients=autograd_gradients, group=None):
    """One epoch of data-parallel SGD, with every engine's arguments (step: sgd.Step) and return value
    (J of every step, correct predictions, 0).  Every rank calls it with the same arguments; rank 0's
    parameters, momentum and sample order are broadcast first, so all ranks start the epoch alike."""
    r, size = dist.get_rank(), dist.get_world_size()
    params, loss_fn, lam = net.parameters, step.loss, step.lam
    broadcast_(params + (step.velocity if step.momentum else []))
    with peers():
        dist.broadcast(order, src=0)
    sizes = [p.numel() for p in params]
    buf = torch.empty(sum(sizes) + 2, dtype=net.dtype, device=net.device)  # [(n_r/n) ∇J_r, (n_r/n) J_r, correct_r]
    grads = [g.view_as(p) for g, p in zip(buf[:-2].split(sizes), params)]  # views: the sum lands in them
    losses = []  # J of every step, kept on the device and read once an epoch
    correct = torch.zeros((), dtype=torch.long, device=net.device)
    for batch in order.split(step.batch_size):
        shard = batch.tensor_split(size)[r]  # this rank's n_r of the batch's n samples
        if shard.numel():
            xb, yb = x.index_select(0, shard), y.index_select(0, shard)
            # forward and backward on the shard
            J_r, v, g = gradients(net, xb, yb, loss_fn, lam)
            torch.cat([t.reshape(-1) for t in g] + [J_r.reshape(1)], out=buf[:-1])
            buf[:-1].mul_(shard.numel() / batch.numel())  # × n_r / n
            buf[-1] = (v.argmax(1) == yb).sum() if step.labels else 0
        else:
            buf.zero_()
        # the sum over ranks: ∇J and J of the whole batch, its correct predictions
        t0 = time.perf_counter()
        with peers():
            dist.all_reduce(buf)
        if group is not None:
            group.allreduce_seconds += time.perf_counter() - t0
        # update (sgd), the same on every rank
        with torch.no_grad():
            update(params, grads, step.lr, step.momentum, step.velocity)
        losses.append(buf[-2].clone())
        correct += buf[-1].long()
    return torch.stack(losses), correct, 0
