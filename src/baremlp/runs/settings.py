"""Every setting of a training run, in one dataclass: the CLI's flags, the recipes and the
run folder's config.json all come from it, so a run can be repeated from its config alone."""
import dataclasses
import json
import os
import types
import typing
from dataclasses import dataclass, field
from importlib import resources

from ..data.tables import TASKS
from ..errors import UsageError, UsageTypeError, check_hyper, number
from ..model import INITS
from ..ops import LOSSES
from ..sgd import SCHEDULES
from ..train import ENGINES
from .files import read_json

PATHS = ("data", "test_data", "data_dir")  # the settings that name files or folders
DATASETS = ("linear", "folded", "square", "fashion-mnist", "cifar10")
CHOICES = {  # each list comes from the module that acts on it
    "dataset": DATASETS,
    "init": INITS,
    "loss": ("auto", *LOSSES),
    "schedule": SCHEDULES,
    "dtype": ("float32", "float64"),
    "engine": tuple(ENGINES),
    "task": ("auto", *TASKS),
}


def option(default, help):
    """A field with its default and the one-line help that --help prints for it."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    # data
    dataset: str = option("linear", "linear | folded | square | fashion-mnist | cifar10 (ignored with --data)")
    data: typing.Optional[str] = option(None, "your own training table: a CSV with a header, or an .npz with arrays x and y")
    target: typing.Optional[str] = option(None, "with --data CSV: the target column(s), comma-separated")
    features: typing.Optional[str] = option(None, "with --data CSV: the input columns, comma-separated; None: every column but the targets")
    drop: typing.Optional[str] = option(None, "with --data CSV: columns to leave out (text such as names or cities), comma-separated")
    test_data: typing.Optional[str] = option(None, "with --data: a test table with the same columns")
    task: str = option("auto", "with --data: auto | regression | classification")
    n: typing.Optional[int] = option(None, "samples drawn for linear/folded/square; None: 1000 (square 2000)")
    noise: float = option(0.0, "std of Gaussian noise added to the linear data's targets")
    data_dir: typing.Optional[str] = option(None, "folder of Fashion-MNIST / CIFAR-10 files; None: the default place")
    val_fraction: float = option(0.0, "share of the training samples held out for validation")
    standardize: bool = option(False, "scale inputs, and regression targets, to mean 0, std 1 with statistics of the training split")
    # network
    hidden: typing.Tuple[int, ...] = option((3,), "hidden layer widths: 3 is the lab's 2-3-2 network")
    init: str = option("normal", "normal | uniform (both × init_scale) | he (× √(2/fan_in))")
    init_scale: float = option(0.1, "the lab's ×0.1 rule for initial weights; biases start at 0")
    # objective and optimisation
    loss: str = option("auto", "mse | cross-entropy | auto (mse for regression data, cross-entropy for labels)")
    lr: float = option(0.04, "SGD step size, measured on seeds 0-49 of the rotation data (docs/defaults.md)")
    reg: float = option(0.01, "λ in J = L + λ Σ‖W_i‖²_F: decays the weights of units that died, so they leave M W")
    reg_epochs: typing.Optional[int] = option(20, "λ applies in this many first epochs, then 0 so M W can reach R exactly; null: always")
    epochs: int = option(60, "passes over the data: 20 with λ, 40 more to converge (docs/defaults.md)")
    batch_size: int = option(1, "1 is the lab's per-sample SGD")
    momentum: float = option(0.0, "μ; 0 is the plain SGD step")
    schedule: str = option("constant", "constant | step | cosine learning rate over the epochs")
    patience: int = option(0, "early stopping after this many epochs without a better validation loss; 0: off")
    # run
    seed: int = option(0, "seeds the data, the initial weights and the sample order")
    device: str = option("auto", "auto (CUDA when present) | cpu | cuda | cuda:N")
    dtype: str = option("float32", "float32 | float64")
    engine: str = option("eager", "eager (the readable loop) | compiled (torch.compile: the same steps, "
                                  "an epoch per call: ~10x faster on the 2-3-2 lab, ~20 % on mid-size batches; compiles in seconds) | "
                                  "manual (the same steps, gradients from each op's hand-written backward, no autograd: "
                                  "~3x faster per sample than eager)")
    check_steps: bool = option(False, "verify that J on each step's batch goes down after its update")


    def __post_init__(self):
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _coerce(f.name, getattr(self, f.name), f.type))
        for name in PATHS:  # absolute, so that a run folder's config resumes and evaluates from any folder
            if getattr(self, name):
                object.__setattr__(self, name, os.path.abspath(os.path.expanduser(getattr(self, name))))
        self.validate()

    @classmethod
    def from_dict(cls, values, *, base=None):
        """Settings from a mapping (a recipe, a config.json); unknown keys and wrong types are refused."""
        if not isinstance(values, dict):
            raise UsageTypeError(f"settings {values!r} invalid: expected a mapping of names to values")
        known = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in known:
                raise UsageError(f"setting {key!r} unknown: expected one of {', '.join(known)}")
        return dataclasses.replace(base or cls(), **values)

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    def replace(self, **changes):
        return Settings.from_dict(changes, base=self)

    def validate(self):
        for key, allowed in CHOICES.items():
            if getattr(self, key) not in allowed:
                raise UsageError(f"{key} {getattr(self, key)!r} unknown: expected one of {', '.join(allowed)}")
        check_hyper(lr=self.lr, epochs=self.epochs, batch_size=self.batch_size, reg=self.reg,
                    reg_epochs=self.reg_epochs, momentum=self.momentum, patience=self.patience)
        number("init_scale", self.init_scale, low=0, low_open=True)
        number("noise", self.noise, low=0)
        number("val_fraction", self.val_fraction, low=0, high=1, high_open=True)
        number("seed", self.seed, low=0, high=2**31 - 1, whole=True)
        if self.n is not None:
            number("n", self.n, low=1, whole=True)
        if self.data is None and (self.target or self.test_data or self.features or self.drop):
            raise UsageError("target, test_data, features and drop go with data: expected data (--data FILE) as well")
        if self.patience and not self.val_fraction:
            raise UsageError(f"patience {self.patience} needs validation data: set val_fraction (--val-fraction) too")
        if not self.hidden or any(w < 1 for w in self.hidden):
            raise UsageError(f"hidden {','.join(map(str, self.hidden))!r} invalid: expected layer widths ≥ 1, e.g. 3 or 16,8")
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            raise UsageError(f"device {self.device!r} unknown: expected auto, cpu, cuda or cuda:N")


MAX_INT = 2**63 - 1  # a whole number past this fits no tensor or C integer: refused as input, not met as an overflow


def _sized(key, value):
    """value, unless it is an int too large for any setting: then a UsageError in one line, with its digits cut."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        digits = str(abs(value)) if value.bit_length() < 13000 else None  # str() refuses past 4300 digits
        text = f"{digits[:4]}…{digits[-4:]} ({len(digits)} digits)" if digits else "(a number too long to print)"
        raise UsageError(f"{key} {'-' * (value < 0)}{text} invalid: too large, expected at most 2^63 − 1")
    return value


def _coerce(key, value, kind):
    """Checks one value against its field's type; accepts an int for a float and one int or a list for hidden."""
    _sized(key, value)
    if key == "hidden":
        for w in value if isinstance(value, (list, tuple)) else ():
            _sized(key, w)
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        if isinstance(value, (list, tuple)) and all(isinstance(w, int) and not isinstance(w, bool) for w in value):
            return tuple(value)
        raise UsageTypeError(f"hidden {value!r} invalid: expected a width or a list of widths, e.g. 3 or [16, 8]")
    optional = typing.get_origin(kind) in (typing.Union, types.UnionType)
    base = [a for a in typing.get_args(kind) if a is not type(None)][0] if optional else kind
    if value is None and optional:
        return None
    ok = isinstance(value, base) and not (isinstance(value, bool) and base is not bool)
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        kind = {int: "a whole number", float: "a number", str: "a string", bool: "true or false"}[base]
        raise UsageTypeError(f"{key} {value!r} invalid: expected {kind}{' or null' if optional else ''}")
    return value


def recipe_names():
    return sorted(p.name[:-5] for p in resources.files("baremlp.runs.recipes").iterdir() if p.name.endswith(".json"))


def load_recipe(name_or_path):
    """A shipped recipe by name (see recipe_names()) or a JSON file by path, as a dict of settings."""
    if name_or_path in recipe_names():
        values = json.loads(resources.files("baremlp.runs.recipes").joinpath(name_or_path + ".json").read_text())
        where = f"recipe {name_or_path!r}"
    elif os.path.isfile(name_or_path):
        values, where = read_json(name_or_path), f"recipe file {name_or_path!r}"
    else:
        raise UsageError(f"recipe {name_or_path!r} unknown: expected one of {', '.join(recipe_names())} or a JSON file")
    if not isinstance(values, dict):
        raise UsageError(f"{where} holds a {type(values).__name__}: expected a JSON object of settings")
    values.pop("description", None)
    return values


def recipe_for(dataset=None, recipe=None):
    """The recipe a run starts from: the one named, else the data set's own where one ships (baremlp
    train --dataset square is the square recipe), else None (the defaults)."""
    return recipe or (dataset if dataset in recipe_names() else None)


def base_settings(dataset=None, recipe=None):
    """What the values a user gives go over, as the CLI's flags and the live page's fields both do:
    the settings of recipe_for(dataset, recipe), or the defaults."""
    name = recipe_for(dataset, recipe)
    return Settings.from_dict(load_recipe(name)) if name else Settings()
