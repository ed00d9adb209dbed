"""A training run as a whole: its settings, its folder on disk, and what it reports.

    settings.py    Settings: every setting of a run in one dataclass; recipes/ holds named ones
    runner.py      run(settings, out): data -> network -> train -> summary, into a run folder
    folder.py      the run folder: config.json, metrics.jsonl, checkpoint, summary.json; resuming
    checkpoint.py  the safetensors checkpoint file
    files.py       atomic writes (temporary file, then rename), JSON and CSV
    report.py      a finished run's summary.json and the lines printed at its end
    plots.py       pictures of a run, a sweep, an experiment
    inference.py   a trained network in use: evaluate a checkpoint, predict for new inputs
"""
from .runner import run
from .settings import Settings

__all__ = ["Settings", "run"]
