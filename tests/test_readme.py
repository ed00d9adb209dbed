"""Every ```python block of README.md runs as pasted (issue 22, item 21): each in a namespace of its
own and an empty folder of its own, so that a block may use only what it imports or defines.

The default run makes explicit substitutions (FAST: each text must be in README.md once, so that
they follow its edits) that shorten the training, 60 epochs to 3, and runs the blocks in one
interpreter (torch imported once) on one thread (on a busy machine, small tables run fastest so,
as in test_sklearn.py), in a subprocess with a timeout: a few seconds in all.  The population
block is left to the slow run: its torch.compile alone takes 15-20 s on 2 cores, whatever the
seed count (test_population.py covers population.run in the default run).  The slow tests run
every block the default run shortens or leaves out, unchanged, each in an interpreter of its own."""
import importlib.util
import json
import pathlib
import re
import subprocess
import sys

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)
FAST = {"epochs=60,": "epochs=3,",  # text in README -> what the default run uses instead
        'Settings(dataset="linear", seed=3)': 'Settings(dataset="linear", seed=3, epochs=3)'}
SLOW = "seeds=range(1000)"  # the population block: the slow run's only
# Runs each block of a JSON list read from stdin in a fresh namespace and a fresh folder; the first
# that fails prints its number and traceback and the driver exits 1.
DRIVER = """
import json, os, sys, tempfile, traceback
import torch
torch.set_num_threads(1)
for i, code in enumerate(json.load(sys.stdin)):
    os.chdir(tempfile.mkdtemp(dir=sys.argv[1]))
    try:
        exec(compile(code, f"README.md python block {i}", "exec"), {"__name__": "__main__"})
    except BaseException:
        print(f"README block {i} failed:\\n{code}", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
"""


def run_blocks(blocks, folder, timeout):
    done = subprocess.run([sys.executable, "-c", DRIVER, str(folder)], input=json.dumps(blocks), cwd=folder,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-4000:]


def runnable(blocks):
    """The blocks this environment can run: those using scikit-learn only where it is installed."""
    return [b for b in blocks if "sklearn" not in b or importlib.util.find_spec("sklearn") is not None]


def test_the_readme_has_its_python_blocks_and_the_texts_the_fast_run_replaces():
    assert len(BLOCKS) >= 5
    for text in [*FAST, SLOW]:
        assert sum(text in b for b in BLOCKS) == 1, text


def test_every_python_block_runs_as_pasted(tmp_path):
    shortened = []
    for code in runnable(b for b in BLOCKS if SLOW not in b):
        for text, fast in FAST.items():
            code = code.replace(text, fast)
        shortened.append(code)
    run_blocks(shortened, tmp_path, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("code", [b for b in BLOCKS if any(text in b for text in [*FAST, SLOW])])
def test_the_shortened_and_slow_blocks_run_unchanged(code, tmp_path):
    run_blocks([code], tmp_path, timeout=600)
