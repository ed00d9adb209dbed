"""What the live page may ask for: Settings from a JSON object, refused in one line (the sentence the
CLI prints for the same mistake) where it is not a run a live page should start.

The limits keep one training's epoch short on a 2-core machine, so that Stop, Pause and the page's
frames stay quick, and keep what a URL or a script can ask for within them: the page's own form
holds the same bounds, but the server is where they hold.
"""
import dataclasses
import json
import math

import torch

from ..errors import UsageError
from ..runs.settings import Settings, base_settings

LIMITS = {  # the live page's bounds; baremlp train has none of these
    "n": 5000,            # samples drawn for linear, folded, square
    "layers": 4,          # hidden layers
    "width": 64,          # units in a hidden layer
    "epochs": 1000,
    "batch_size": 5000,
    "reg_epochs": 1000,
    "patience": 1000,
}
PAGE_DATASETS = ("linear", "folded", "square")  # plus "table" when the server was started with one
SERVER_ONLY = ("data", "target", "features", "drop", "test_data", "task", "data_dir")  # files: the server's to name
MAX_BODY = 64 * 1024  # bytes of a POST body


def parse_json(body):
    """The JSON value of a request body; a body that is not JSON, or holds NaN or Infinity (or a number
    too large for a float), is refused in one line."""
    def finite(text):
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"{text} is not a finite number")
        return value

    def constant(name):
        raise ValueError(f"{name} is not a finite number")

    try:
        return json.loads(body or b"{}", parse_float=finite, parse_constant=constant)
    except (UnicodeDecodeError, ValueError) as e:  # json.JSONDecodeError is a ValueError
        raise UsageError(f"request body is not JSON of finite numbers: {str(e).splitlines()[0]}") from None
    except RecursionError:  # [[[[...: the parser's depth, not the server's trouble
        raise UsageError("request body is nested too deeply: expected a JSON object of settings") from None


def settings_from_page(values, table=None):
    """Settings for a training of the page from values, a dict of Settings fields (config.json's names)
    over the data set's recipe, as the CLI takes its flags.
    dataset "table" means the table the server was started with (table: its Settings fields,
    such as {"data": "iris.csv", "target": "species"}).  Refuses what Settings refuses, in its words,
    and what the live page does not do: files named by the page, the image data sets, sizes past LIMITS."""
    if not isinstance(values, dict):
        raise UsageError(f"settings {json.dumps(values)[:60]} invalid: expected a JSON object of settings")
    values = dict(values)
    Settings.from_dict({k: v for k, v in values.items() if k not in SERVER_ONLY and k != "dataset"},
                       base=base_settings(values.get("dataset")))  # unknown keys, types: Settings' sentences
    for key in SERVER_ONLY:
        if key in values:
            raise UsageError(f"setting {key!r} cannot come from the page: the server names files "
                             "(baremlp view --data FILE --target COL)")
    if values.get("dataset") == "table":
        if not table:
            raise UsageError("dataset 'table' unknown: this server was started without a table "
                             "(baremlp view --data FILE --target COL)")
        values.pop("dataset")
        values.update(table)
    elif values.get("dataset", "linear") not in PAGE_DATASETS:
        raise UsageError(f"dataset {values['dataset']!r} is not for the live page: expected one of "
                         f"{', '.join(PAGE_DATASETS + (('table',) if table else ()))} "
                         "(train it with baremlp train --out DIR and watch it with baremlp view --runs)")
    s = Settings.from_dict(values, base=base_settings(values.get("dataset")))
    check_limits(s)
    check_floats(s)
    return s


def check_floats(s):
    """Refuses a number that the run's dtype cannot hold (lr 1e308 in float32 is inf at the first step)."""
    largest = torch.finfo(getattr(torch, s.dtype)).max
    for f in dataclasses.fields(s):
        value = getattr(s, f.name)
        if isinstance(value, float) and abs(value) > largest:
            raise UsageError(f"{f.name} {value:g} too large for {s.dtype}: expected at most {largest:.3g}")


def check_limits(s):
    """Refuses settings past the live page's LIMITS, naming the setting and the bound."""
    def over(name, value, bound, what=None):
        if value is not None and value > bound:
            raise UsageError(f"{what or name} {value} too large for the live page: expected ≤ {bound} "
                             "(baremlp train has no such bound; watch its run folder with --runs)")
    over("n", s.n, LIMITS["n"])
    over("hidden", len(s.hidden), LIMITS["layers"], "hidden layers")
    over("hidden", max(s.hidden), LIMITS["width"], "hidden width")
    for key in ("epochs", "batch_size", "reg_epochs", "patience"):
        over(key, getattr(s, key), LIMITS[key])
