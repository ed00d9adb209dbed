"""The command line's grammar: one argparse parser per command, its settings flags from the
Settings fields (baremlp.cli.flags)."""
import argparse
import dataclasses

from ..runs.settings import CHOICES, Settings, recipe_names
from . import commands
from .flags import Parser, add_settings_flags, escaped, positive_int

# gradcheck's settings: train's data flags (but --test-data and --val-fraction: J is on the training
# set), then the network and J
GRADCHECK_FLAGS = ("dataset", "data", "target", "features", "drop", "task", "n", "noise", "data_dir", "standardize",
                   "hidden", "init", "init_scale", "loss", "reg", "seed", "dtype", "device")


def add_population_flag(parser):
    parser.add_argument("--no-population", dest="population", action="store_false",
                        help="one run per process, even where the grid varies only seeds, lr, reg and noise "
                        "(by default those runs train together as one population: the same results, sooner)")


def build_parser():
    """The `baremlp` parser: a subcommand per command, each calling its function in commands.py."""
    parser = Parser(prog="baremlp", description="A multi-layer perceptron from bare PyTorch tensor ops, "
                    "trained by hand-written SGD.")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks instead of one-line errors")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for add in (add_train, add_evaluate, add_predict, add_gradcheck, add_sweep, add_experiment, add_check, add_view):
        add(subparsers)
    add_assignment(subparsers)  # on a line of its own: the tuple above is other commands' to edit
    return parser


def add_train(subparsers):
    train = subparsers.add_parser("train", help="train a network and report what it learned",
                                  description="Train a network. Settings come from the defaults, then a recipe "
                                  "(--recipe, or the data set's own), then the flags you give.")
    train.add_argument("--recipe", help=f"a shipped recipe ({', '.join(recipe_names())}) or a JSON file of settings")
    train.add_argument("--out", metavar="DIR", help="run folder for config.json, metrics.jsonl, summary.json, checkpoint")
    train.add_argument("--quiet", action="store_true", help="no progress or report; print only the final loss")
    train.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its last checkpoint "
                       "(with --epochs N: train it further, to N epochs in all)")
    train.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    train.add_argument("--nproc", type=positive_int, metavar="N",
                       help="train in N processes on this machine (data parallel, through torchrun); the result "
                       "equals one process's, so it is not a setting of the run (default: 1)")
    train.add_argument("--tensorboard", action="store_true",
                       help="also write TensorBoard event logs to --out/tensorboard (needs: pip install tensorboard)")
    add_settings_flags(train)
    train.set_defaults(func=commands.cmd_train)


def add_evaluate(subparsers):
    evaluate = subparsers.add_parser("evaluate", help="loss and accuracy of a trained network on a data set",
                                     description="Evaluate a checkpoint on the test split of a data set (or a table).")
    evaluate.add_argument("--checkpoint", required=True, help="a checkpoint.safetensors from a run folder")
    evaluate.add_argument("--dataset", choices=CHOICES["dataset"], help="default: the one it was trained on")
    evaluate.add_argument("--data", help="a CSV/NPZ table with the training columns, instead of --dataset")
    evaluate.add_argument("--target", help="with --data: the target column(s), if not those it was trained on")
    evaluate.add_argument("--data-dir", help="folder of the Fashion-MNIST / CIFAR-10 files")
    evaluate.set_defaults(func=commands.cmd_evaluate)


def add_predict(subparsers):
    predict = subparsers.add_parser("predict", help="outputs of a trained network for new inputs",
                                    description="Predict with a checkpoint: regression outputs, or class and probabilities.")
    predict.add_argument("--checkpoint", required=True, help="a checkpoint.safetensors from a run folder")
    predict.add_argument("--input", help="one sample as comma-separated numbers, e.g. 0.5,-1.2")
    predict.add_argument("--input-file", help="a CSV with the training input columns, or .npy/.npz")
    predict.add_argument("--output", help="write the predictions to this CSV file (default: print them)")
    predict.set_defaults(func=commands.cmd_predict)


def add_gradcheck(subparsers):
    gc = subparsers.add_parser("gradcheck", help="check the hand-written backward against autograd and finite differences",
                               description="The network and data that train's flags describe, at the initial weights: "
                               "one row per parameter, max |manual − autograd|, max |autograd − central finite "
                               "differences| (float64, samples off the ReLU kink), relative error, verdict. "
                               "Exit status 0 when all agree, 1 otherwise.")
    gc.add_argument("--recipe", help="settings to start from, as for train")
    gc.add_argument("--samples", type=positive_int, default=32, help="samples J is computed on (default: 32)")
    add_settings_flags(gc, only=GRADCHECK_FLAGS)
    gc.set_defaults(func=commands.cmd_gradcheck)


def add_sweep(subparsers):
    sw = subparsers.add_parser("sweep", help="train over a grid of settings and seeds; CSV, table and heat map",
                               description="Every setting flag takes comma-separated values, each value once; "
                               "the full grid runs for seeds S..S+N-1 (--seed S, default 0; --seeds N). Hidden "
                               "sizes: 3,8,16x8 (x between the layers of one network). A switch such as "
                               "--standardize alone means true (--no-standardize: false; --standardize true,false "
                               "sweeps both). An interrupted sweep continues where it stopped.")
    sw.add_argument("--out", required=True, metavar="DIR", help="folder for runs/, runs.csv, summary.md, heatmap.png")
    sw.add_argument("--seeds", type=positive_int, default=3, help="seeds per configuration (default: 3)")
    sw.add_argument("--workers", type=positive_int, default=1, help="parallel processes (default: 1)")
    sw.add_argument("--recipe", help="settings to start from")
    add_population_flag(sw)
    for f in dataclasses.fields(Settings):
        flag, help = "--" + f.name.replace("_", "-"), escaped(f.metadata["help"])
        if f.name == "seed":
            sw.add_argument(flag, dest=f.name, metavar="S", help="the first seed: the runs take seeds S .. S+N-1 "
                            "with --seeds N, each seeding the data, the initial weights and the sample order (default: 0)")
        elif f.type is bool:  # a switch, as in train; a list of true/false still sweeps
            sw.add_argument(flag, dest=f.name, metavar="true,false", nargs="?", const="true",
                            help=f"{help} (alone: true; --no-{flag[2:]}: false; true,false: both)")
            sw.add_argument("--no-" + flag[2:], dest=f.name, action="store_const", const="false", help=argparse.SUPPRESS)
        else:
            sw.add_argument(flag, dest=f.name, metavar="V[,V...]", help=help)
    sw.set_defaults(func=commands.cmd_sweep)


def add_experiment(subparsers):
    ex = subparsers.add_parser("experiment", help="experiments that answer a question: noise-vs-reg")
    ex.add_argument("name", choices=["noise-vs-reg"], help="noise-vs-reg: does regularization improve training?")
    ex.add_argument("--out", required=True, metavar="DIR", help="folder for the runs, report.md and the plot")
    ex.add_argument("--seeds", type=positive_int, default=100, help="seeds per cell (default: 100)")
    ex.add_argument("--workers", type=positive_int, default=1, help="parallel processes (default: 1)")
    ex.add_argument("--noises", help="noise standard deviations (default: 0,0.5,1,2)")
    ex.add_argument("--regs", help="λ values (default: 0,0.001,0.01,0.03,0.1)")
    ex.add_argument("--n", type=positive_int, help="training samples (default: 100)")
    ex.add_argument("--epochs", type=positive_int, help="epochs (default: 100)")
    ex.add_argument("--lr", type=float, help="learning rate (default: 0.02)")
    add_population_flag(ex)
    ex.set_defaults(func=commands.cmd_experiment)


def seconds(text):
    """check's time limits: a number of seconds > 0 (and finite)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} invalid: expected seconds > 0")
    return value


def add_check(subparsers):
    ck = subparsers.add_parser("check", help="judge students' forward, loss, regularization, gradients and step",
                               description="Runs each FILE (.py, or .ipynb in a Jupyter kernel) in its own process and "
                               "judges the functions it defines against the lab's, on the hand-worked cases and random "
                               "ones, naming the mistake where one differs; the lab's rules (no torch.nn, no torch.optim) "
                               "are read from the source.  Exit status 0 when all pass, 1 when some fail, 2 on a usage "
                               "error.  docs/check.md has the rubric, the statuses and the threat model.")
    ck.add_argument("file", nargs="+", help="a student's .py file or .ipynb notebook (several: one report each)")
    ck.add_argument("--json", action="store_true", help="print one JSON object: the result, with score and max_score "
                    "per check")
    ck.add_argument("--timeout", type=seconds, default=10.0, metavar="SECONDS",
                    help="time limit for each call and each notebook cell or top-level statement (default: 10)")
    ck.add_argument("--total-timeout", type=seconds, default=300.0, metavar="SECONDS",
                    help="time limit for one whole submission (default: 300)")
    ck.add_argument("--memory", type=int, default=4096, metavar="MIB",
                    help="memory the student's process may take beyond torch's own, in MiB; 0: no cap (default: 4096)")
    ck.add_argument("--rubric", metavar="TOML", help="points per check ([checks]) and per rule ([rules]); default: "
                    "the lab's (docs/check.md)")
    ck.add_argument("--no-rule", action="append", default=[], metavar="RULE", choices=["no-torch-nn", "no-torch-optim"],
                    help="turn a rule off (no-torch-nn, no-torch-optim); may repeat")
    ck.add_argument("--gradescope", metavar="FILE", help="write Gradescope's results.json for the one FILE")
    ck.add_argument("--csv", metavar="FILE", help="write a row per submission: file, each check's points, total, status")
    ck.add_argument("-j", "--jobs", type=positive_int, default=1, metavar="N", help="submissions judged at once")
    ck.set_defaults(func=commands.cmd_check)


def port_number(text):
    """--port: a TCP port, 1 to 65535."""
    if not (text.isdigit() and 1 <= int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"port {text!r} invalid: expected a whole number from 1 to 65535")
    return int(text)


def add_view(subparsers):
    view = subparsers.add_parser("view", help="a live training page in the browser, driven by the real engine",
                                 description="Serve the live training page (docs/view.md) on 127.0.0.1 and open it; "
                                 "Ctrl-C stops it.")
    view.add_argument("--port", type=port_number, default=8000, help="port to serve on (default: 8000)")
    view.add_argument("--runs", metavar="DIR", help="list and follow the run folders under DIR")
    view.add_argument("--host", default="127.0.0.1", help="address to serve on (default: 127.0.0.1); anything but "
                      "loopback is reachable from other machines (a warning says so)")
    view.add_argument("--no-browser", action="store_true", help="do not open the page")
    view.add_argument("--data", metavar="FILE", help="a CSV/NPZ table the page may train on (data set 'table')")
    view.add_argument("--target", metavar="COL", help="with --data CSV: the target column(s)")
    view.set_defaults(func=commands.cmd_view)


def add_assignment(subparsers):
    assignment = subparsers.add_parser(
        "assignment", help="write the lab as an assignment: a starter notebook, otter-grader's and nbgrader's",
        description="Writes DIR/student/lab3.ipynb (the starter), DIR/otter/lab3.ipynb (otter-grader's master), "
        "DIR/nbgrader/source/lab3/lab3.ipynb (nbgrader's source) and DIR/README.md (how to release, collect "
        "and grade with each).")
    assignment.add_argument("dir", metavar="DIR", help="a new or empty folder")
    assignment.add_argument("--overwrite", action="store_true", help="write into DIR even when it is not empty")
    assignment.set_defaults(func=commands.cmd_assignment)
