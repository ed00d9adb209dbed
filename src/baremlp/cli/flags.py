"""From the words of a command line to Settings: one flag per Settings field, typed as the field
is, with only what the user typed overriding the recipe; the comma-separated grids of a sweep; and
the argparse details that make negative numbers and % signs behave.
"""
import argparse
import dataclasses
import re
import typing

from ..errors import UsageError
from ..runs.settings import CHOICES, Settings, base_settings, recipe_for
from ..studies.sweeps import repeated, value_text


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def widths(text):
    """'3' or '16,8' -> (3,) or (16, 8)."""
    try:
        return tuple(int(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"hidden {text!r} invalid: expected widths like 3 or 16,8") from None


ALWAYS = "always"


def epochs_or_always(text):
    """--reg-epochs: a whole number, or 'always' (null in a recipe) for λ in every epoch."""
    if text.lower() in (ALWAYS, "null", "none"):
        return ALWAYS
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"reg_epochs {text!r} invalid: expected a whole number or 'always'") from None


def escaped(text):
    """Help text with its % signs doubled: argparse formats help strings with %."""
    return text.replace("%", "%%")


def add_settings_flags(parser, only=None):
    """One flag per Settings field (or per field named in `only`), default None so that only what the
    user typed overrides the recipe."""
    for f in dataclasses.fields(Settings):
        if only and f.name not in only:
            continue
        flag = "--" + f.name.replace("_", "-")
        kind = f.type
        if typing.get_origin(kind) is typing.Union:
            kind = typing.get_args(kind)[0]
        help = f"{escaped(f.metadata['help'])} (default: {f.default if f.name != 'hidden' else ','.join(map(str, f.default))})"
        if kind is bool:
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=help)
        elif f.name == "reg_epochs":
            parser.add_argument(flag, dest=f.name, type=epochs_or_always, default=None, metavar="N|always", help=help)
        elif f.name == "hidden":
            parser.add_argument(flag, dest=f.name, type=widths, default=None, metavar="W[,W...]", help=help)
        else:
            parser.add_argument(flag, dest=f.name, type=kind, default=None, choices=CHOICES.get(f.name), help=help)


def settings_from_args(args):
    """Settings() <- recipe (named, or the data set's own when one ships) <- flags the user typed."""
    flags = {f.name: getattr(args, f.name) for f in dataclasses.fields(Settings) if getattr(args, f.name, None) is not None}
    if flags.get("reg_epochs") == ALWAYS:
        flags["reg_epochs"] = None
    recipe = recipe_for(flags.get("dataset"), args.recipe)
    return Settings.from_dict(flags, base=base_settings(recipe=recipe)), recipe


def grid_values(text, field):
    """'0.1,0.01' -> [0.1, 0.01] of the field's type; hidden takes '3,8,16x8' -> [(3,), (8,), (16, 8)].
    A value given twice (0.1,1e-1 too) is refused: it would train one run folder twice."""
    kind = field.type
    if typing.get_origin(kind) is typing.Union:
        kind = typing.get_args(kind)[0]
    flag = "--" + field.name.replace("_", "-")
    values = []
    for item in text.split(","):
        try:
            if field.name == "hidden":
                values.append(tuple(int(w) for w in item.split("x")))
            elif kind is bool:
                values.append({"true": True, "false": False}[item.lower()])
            else:
                values.append(kind(item))
        except (ValueError, KeyError):
            raise UsageError(f"{flag} value {item!r} invalid: expected a "
                             f"{'width like 8 or 16x8' if field.name == 'hidden' else kind.__name__}") from None
    if (twice := repeated(values)) is not None:
        raise UsageError(f"{flag} lists {value_text(field.name, twice)} twice: give each grid value once")
    return values


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} invalid: expected a whole number ≥ 1")
    return value


NUMBERS = re.compile(r"-[\d.][\d.eE+\-]*(,[+\-]?[\d.][\d.eE+\-]*)*")  # -1,2 or -1e-3: a value, not a flag


def join_negative_values(argv):
    """['--input', '-1,2'] -> ['--input=-1,2']: argparse reads a word starting with '-' as a flag unless
    it is a plain negative number, so negative lists and exponents would be 'expected one argument'."""
    out = []
    for word in argv:
        if out and out[-1].startswith("--") and "=" not in out[-1] and NUMBERS.fullmatch(word):
            out[-1] = f"{out[-1]}={word}"
        else:
            out.append(word)
    return out
