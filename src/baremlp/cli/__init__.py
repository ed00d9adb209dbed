"""The `baremlp` command: a thin layer over the Python API; its train flags are the Settings fields.

    parser.py    the grammar: one parser per command
    commands.py  one function per command, calling the Python API
    flags.py     command-line words to Settings
    launcher.py  --nproc N: the same command in N processes through torchrun

Errors a user can cause print one line `error: ...` and exit with status 2 (bad usage or input)
or 1 (a failure while running, or a bug: then the line says so); --debug shows the traceback instead.
"""
import os
import signal
import sys
import warnings

BUG = "a bug, not your input: --debug shows where; please report it"


def show_note(message, category, filename, lineno, file=None, line=None):
    print(f"note: {message}", file=sys.stderr)


interrupted = False  # a Ctrl-C came (on_interrupt): one that a library caught while loading still counts


def on_interrupt(signum, frame):
    """Python's own answer to SIGINT, KeyboardInterrupt, and a note that it came."""
    global interrupted
    interrupted = True
    raise KeyboardInterrupt


def main(argv=None):
    """The `baremlp` command; returns its exit status.  argv None: the command line of this process,
    which is then the command's own (the console script, `python -m baremlp`, a rank under torchrun).

    A Ctrl-C at any moment, torch's seconds of loading included (hence the imports inside command()),
    ends it with one line and status 130: while C extensions load, a KeyboardInterrupt may come out
    as another error (numpy's "cannot load module more than once") or be dropped, so whether one
    came is noted apart (on_interrupt) and looked at once the imports are done."""
    own = argv is None
    if own and signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not where SIGINT is ignored (&)
        signal.signal(signal.SIGINT, on_interrupt)
    ranks = int(os.environ.get("WORLD_SIZE", 1))  # as distributed.world_size(), which may not be loaded yet
    try:
        if own and ranks > 1:  # a rank that torchrun started: it ends with torchrun (or --nproc's launcher)
            from ..engines import lifeline
            lifeline.hold()
        return command(sys.argv[1:] if own else argv)
    except BaseException as e:
        if not (isinstance(e, KeyboardInterrupt) or interrupted):
            raise  # SystemExit (--help), or what command() lets through
        if own:  # a second Ctrl-C while this one is told: gone at once, without a traceback
            signal.signal(signal.SIGINT, lambda *_: os._exit(130))
        if ranks == 1 or os.environ.get("RANK", "0") == "0":  # Ctrl-C reaches every process: rank 0 tells it
            said = isinstance(e, KeyboardInterrupt) and str(e)  # cmd_train's says where the run stands
            print(f"error: {said or 'interrupted'}", file=sys.stderr)
        return 130


def command(argv):
    from ..engines import distributed
    from ..errors import UsageError
    from ..bookkeeping import Diverged
    from . import launcher
    from .flags import join_negative_values
    from .parser import build_parser

    if interrupted:  # a Ctrl-C while they loaded, which one of them caught
        raise KeyboardInterrupt
    argv = join_negative_values(argv)
    if argv[:1] == ["--"]:  # torchrun -m baremlp -- train ...: the "--" that keeps torchrun off our flags
        argv = argv[1:]
    debug = "--debug" in argv
    warnings.showwarning = show_note  # library warnings (a clamped batch size, ...) as one plain line
    try:
        args = build_parser().parse_args(argv)
        args.argv = argv  # what --nproc passes on to its processes
        status = args.func(args)  # a command may return its exit status (gradcheck: 1 when gradients disagree)
    except SystemExit:
        raise
    except launcher.WorkerFailed as e:  # one line, if the failed process has not printed its own
        if str(e):
            print(f"error: {e}", file=sys.stderr)
        return e.status
    except distributed.PeerLost:  # another process is gone, and torchrun (or --nproc's line) names it
        if debug:
            raise
        return distributed.PEER_LOST
    except UsageError as e:  # the user's mistake, named in the message
        if debug:
            raise
        if distributed.rank() == 0:  # under torchrun every process makes the same mistake: rank 0 tells it
            print(f"error: {e}", file=sys.stderr)
        return 2
    except (RuntimeError, OSError) as e:
        if debug:
            raise
        if distributed.rank() and isinstance(e, Diverged):  # every process diverged alike: rank 0 tells it
            return 1
        if isinstance(e, (NotImplementedError, RecursionError)):  # RuntimeErrors that only a bug raises
            print(f"error: {type(e).__name__}: {e} ({BUG})", file=sys.stderr)
        else:  # a failure while running (a diverged run, a full disk, out of memory): one line
            print(f"error: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # anything else is a bug, ours or a library's, not the user's input
        if debug:
            raise
        print(f"error: {type(e).__name__}: {e} ({BUG})", file=sys.stderr)
        return 1
    return status or 0
