"""Starting the zygote (zygote.py), the process that forks a child per .py submission: here, apart from the
checker's torch-loading modules, so that `baremlp check` can start it first and both load torch at once.

    warm()            starts the zygote now, if none runs
    fork_child(job)   asks it for a child (job: {"socket", "path", "timeout", "memory", "skip"})

One zygote serves a checker process and the -j workers forked from it: a job is one line, written at once,
so lines from several workers never mix.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ZYGOTE = str(Path(__file__).with_name("zygote.py"))
_zygote = None


def warm():
    global _zygote
    if _zygote is None:
        _zygote = subprocess.Popen([sys.executable, "-I", ZYGOTE], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True,
                                   env={**os.environ, "MPLBACKEND": "Agg"})


def fork_child(job):
    """Asks the zygote (zygote.py, started once per checker process and shared with its -j workers) for a
    child; a zygote that has gone is started again."""
    global _zygote
    line = (json.dumps(job) + "\n").encode()
    for _ in range(2):
        warm()
        try:
            _zygote.stdin.write(line)
            _zygote.stdin.flush()
            return
        except (BrokenPipeError, ValueError, OSError):
            _zygote = None
    raise OSError("the checker could not start a process for the submission")
