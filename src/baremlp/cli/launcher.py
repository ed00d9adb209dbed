"""`baremlp train --nproc N ...`: N processes on this machine, started by torch's own launcher.

It is torchrun itself (torch.distributed.run) called as a function, so these two are one run:

    baremlp train --nproc 2 ARGS
    torchrun --standalone --nproc-per-node 2 -m baremlp -- train ARGS

torchrun starts the processes, watches them, and stops all of them when one fails; here that
failure becomes one line naming the rank.  Several machines: torchrun's own flags (docs/distributed.md).
"""
import logging
import os
import signal

from torch.distributed import run as torchrun
from torch.distributed.elastic.multiprocessing.api import SignalException
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

from ..engines.distributed import PEER_LOST
from ..engines.lifeline import LAUNCHER
from ..errors import UsageError


class WorkerFailed(RuntimeError):
    """One of the processes failed, and torchrun stopped the others; `status` is the exit status to pass on."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


def check_nproc(nproc):
    """Under torchrun, --nproc (if given) must be the number of processes torchrun started on this machine."""
    local = int(os.environ.get("LOCAL_WORLD_SIZE", 1))
    if nproc is not None and nproc != local:
        raise UsageError(f"--nproc {nproc}, but torchrun started {local} processes on this machine: "
                         "drop --nproc under torchrun (its --nproc-per-node says how many)")


def launch(nproc, argv, out=None):
    """Runs `python -m baremlp *argv` in nproc processes on a free local port; returns when all are
    done.  Raises WorkerFailed when one fails."""
    args = torchrun.parse_args(["--standalone", f"--nproc-per-node={nproc}", "--module", "baremlp"])
    args.training_script_args = list(argv)  # set, not parsed: torchrun's parser would read their --n as --nnodes
    for name in list(logging.root.manager.loggerDict):  # torchrun's banners and reports: a failure is told below
        if name.startswith("torch.distributed"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    os.environ[LAUNCHER] = str(os.getpid())  # the ranks die with this process, the agent (engines.lifeline)
    try:
        torchrun.run(args)
    except ChildFailedError as e:
        raise failed(e.failures, nproc, out) from None
    except SignalException as e:  # this process was signalled, and torchrun stopped the ranks
        if e.sigval == signal.SIGINT:  # Ctrl-C reached the ranks too, and rank 0 has told it
            raise WorkerFailed("", 130) from None
        raise WorkerFailed(f"stopped by {signal.Signals(e.sigval).name}" + resume_hint(out), 128 + e.sigval) from None
    finally:
        os.environ.pop(LAUNCHER, None)


def failed(failures, nproc, out):
    """WorkerFailed for torchrun's failures {rank: ProcessFailure}: the first one, not counting the
    processes that failed only because they lost it or that torchrun stopped (SIGTERM) after it."""
    def after_the_cause(r):
        return failures[r].exitcode in (PEER_LOST, -signal.SIGTERM), failures[r].timestamp, r  # ties: rank 0

    rank = min(failures, key=after_the_cause)
    failure = failures[rank]
    if failure.exitcode == 1 or (failure.exitcode == 2 and rank == 0):
        return WorkerFailed("", failure.exitcode)  # baremlp's own error, which that process has printed
    if failure.exitcode < 0:
        how = f"was killed by signal {failure.signal_name()}"
    elif failure.exitcode == PEER_LOST:
        how = "lost contact with the others"
    else:
        how = f"exited with status {failure.exitcode}"
    return WorkerFailed(f"rank {rank} of {nproc} (pid {failure.pid}) {how}, so torchrun stopped the others"
                        + resume_hint(out), 1)


def resume_hint(out):
    return (f"; {out} keeps the checkpoint of its last finished epoch: continue with 'baremlp train --resume {out}'"
            if out else "")
