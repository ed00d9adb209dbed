"""The `baremlp` command: a thin layer over the Python API; its train flags are the Settings fields.

Errors a user can cause print one line `error: ...` and exit with status 2 (bad usage or input)
or 1 (a failure while running, or a bug: then the line says so); --debug shows the traceback instead.
"""
import dataclasses
import sys
import warnings

from . import backprop, distributed, inference, launcher, rundir, runner
from .errors import UsageError
from .experiments import noise_vs_reg
from .files import write_csv
from .flags import (Parser, add_settings_flags, base_settings, escaped, grid_values, join_negative_values,
                    positive_int, settings_from_args)
from .settings import CHOICES, Settings, recipe_names
from .sweeps import sweep
from .train import Diverged


def cmd_train(args):
    log = (lambda *a: None) if args.quiet else print
    if args.resume:
        typed = [f.name for f in dataclasses.fields(Settings)
                 if getattr(args, f.name) is not None and f.name != "epochs"]
        if typed or args.recipe or args.out:
            flags = ", ".join("--" + name.replace("_", "-") for name in typed)
            raise UsageError(f"--resume continues a run with its own config.json: drop {flags or '--recipe/--out'} "
                             "(only --epochs may change, to train it further)")
        settings, out, recipe = rundir.settings_of(args.resume), args.resume, None
        if args.epochs is not None:  # more epochs for a run, finished or not
            settings = settings.replace(epochs=args.epochs)
    else:
        (settings, recipe), out = settings_from_args(args), args.out
    if args.nproc and args.nproc > 1 and distributed.world_size() == 1:
        return launch(args, settings, out)
    launcher.check_nproc(args.nproc)
    if recipe and distributed.rank() == 0:  # with several processes, rank 0 alone prints
        log(f"recipe: {recipe}")
    try:
        net, summary = runner.run(settings, out, resume=bool(args.resume), overwrite=args.overwrite,
                                  progress=not args.quiet, log=log, tensorboard=args.tensorboard)
    except KeyboardInterrupt:
        if out:
            raise KeyboardInterrupt(f"interrupted; {out} keeps the checkpoint of the last finished epoch: "
                                    f"continue with 'baremlp train --resume {out}'") from None
        raise
    if args.quiet and summary and summary.get("final_loss") is not None:  # rank 0's (the others return none)
        print(f"final_loss {summary['final_loss']:.6g}")


def launch(args, settings, out):
    """--nproc N: the same command in N processes through torchrun, once what they would refuse is
    checked here (so that a mistake is one line, not N failing processes)."""
    distributed.check(settings.batch_size, settings.device, args.nproc, args.nproc)
    if out and not args.resume:
        rundir.RunFolder(out).check_new(args.overwrite)
    try:
        launcher.launch(args.nproc, args.argv, out)
    except launcher.WorkerFailed as e:
        if str(e) and not args.quiet:
            print(file=sys.stderr)  # ends the progress bar that a killed rank 0 leaves open
        raise


def cmd_evaluate(args):
    report = inference.evaluate_checkpoint(args.checkpoint, dataset=args.dataset, data=args.data, target=args.target,
                                       data_dir=args.data_dir)
    for key, value in report.items():
        if key not in ("confusion_matrix", "per_class_accuracy", "classes"):
            print(f"{key}: {value:.6g}" if isinstance(value, float) else f"{key}: {value}")
    if "per_class_accuracy" in report:
        for name, acc in report["per_class_accuracy"].items():
            print(f"  {name:>12}: {acc:.4f}")


def cmd_predict(args):
    if (args.input is None) == (args.input_file is None):
        raise UsageError("predict needs exactly one of --input VALUES or --input-file FILE")
    header, rows = inference.predict(args.checkpoint, values=args.input, path_in=args.input_file)
    if args.output:
        write_csv(args.output, header, rows)
        print(f"wrote {len(rows)} predictions to {args.output}")
    else:
        print(",".join(header))
        for row in rows:
            print(",".join(str(v) for v in row))


GRADCHECK_FLAGS = ("dataset", "data", "target", "task", "n", "noise", "data_dir", "standardize",  # the data
                   "hidden", "init", "init_scale", "loss", "reg", "seed", "dtype", "device")  # the network and J


def cmd_gradcheck(args):
    settings, _ = settings_from_args(args)
    net, loss, result = runner.gradcheck(settings, samples=args.samples)
    print(f"gradcheck of {net} with {loss}, λ = {settings.reg:g}: the manual backward (baremlp.backprop) "
          "against autograd, and autograd against central finite differences")
    for line in backprop.gradcheck_lines(result):
        print(line)
    return 0 if result["ok"] else 1


def cmd_sweep(args):
    base, _ = base_settings(args.recipe, args.dataset.split(",")[0] if args.dataset else None)
    fixed, swept = {}, {}
    for f in dataclasses.fields(Settings):
        text = getattr(args, f.name)
        if text is not None:
            values = grid_values(text, f)
            (swept if len(values) > 1 else fixed)[f.name] = values if len(values) > 1 else values[0]
    base = base.replace(**fixed)
    for name, values in swept.items():
        for value in values:  # every grid value checked before the first run starts
            base.replace(**{name: value})
    sweep(base, swept, args.seeds, args.out, workers=args.workers, population=args.population, log=print)
    print(f"results: {args.out}/runs.csv, {args.out}/summary.md, {args.out}/heatmap.png")


def cmd_experiment(args):
    def floats(text, flag):
        try:
            return [float(v) for v in text.split(",")] if text else None
        except ValueError:
            raise UsageError(f"{flag} {text!r} invalid: expected comma-separated numbers") from None
    kwargs = {k: v for k, v in dict(noises=floats(args.noises, "--noises"), regs=floats(args.regs, "--regs"),
                                    n=args.n, epochs=args.epochs, lr=args.lr).items() if v is not None}
    noise_vs_reg(args.out, seeds=args.seeds, workers=args.workers, population=args.population, **kwargs)
    print(f"results: {args.out}/report.md, {args.out}/noise_vs_reg.png, {args.out}/runs.csv")


def add_population_flag(parser):
    parser.add_argument("--no-population", dest="population", action="store_false",
                        help="one run per process, even where the grid varies only seeds, lr, reg and noise "
                        "(by default those runs train together as one population: the same results, sooner)")


def build_parser():
    parser = Parser(prog="baremlp", description="A multi-layer perceptron from bare PyTorch tensor ops, "
                    "trained by hand-written SGD.")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks instead of one-line errors")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    train = commands.add_parser("train", help="train a network and report what it learned",
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
    train.set_defaults(func=cmd_train)

    evaluate = commands.add_parser("evaluate", help="loss and accuracy of a trained network on a data set",
                                   description="Evaluate a checkpoint on the test split of a data set (or a table).")
    evaluate.add_argument("--checkpoint", required=True, help="a checkpoint.safetensors from a run folder")
    evaluate.add_argument("--dataset", choices=CHOICES["dataset"], help="default: the one it was trained on")
    evaluate.add_argument("--data", help="a CSV/NPZ table with the training columns, instead of --dataset")
    evaluate.add_argument("--target", help="with --data: the target column(s), if not those it was trained on")
    evaluate.add_argument("--data-dir", help="folder of the Fashion-MNIST / CIFAR-10 files")
    evaluate.set_defaults(func=cmd_evaluate)

    predict = commands.add_parser("predict", help="outputs of a trained network for new inputs",
                                  description="Predict with a checkpoint: regression outputs, or class and probabilities.")
    predict.add_argument("--checkpoint", required=True, help="a checkpoint.safetensors from a run folder")
    predict.add_argument("--input", help="one sample as comma-separated numbers, e.g. 0.5,-1.2")
    predict.add_argument("--input-file", help="a CSV with the training input columns, or .npy/.npz")
    predict.add_argument("--output", help="write the predictions to this CSV file (default: print them)")
    predict.set_defaults(func=cmd_predict)

    gc = commands.add_parser("gradcheck", help="check the hand-written backward against autograd and finite differences",
                             description="The network and data that train's flags describe, at the initial weights: "
                             "one row per parameter, max |manual − autograd|, max |autograd − central finite "
                             "differences| (float64, samples off the ReLU kink), relative error, verdict. "
                             "Exit status 0 when all agree, 1 otherwise.")
    gc.add_argument("--recipe", help="settings to start from, as for train")
    gc.add_argument("--samples", type=positive_int, default=32, help="samples J is computed on (default: 32)")
    add_settings_flags(gc, only=GRADCHECK_FLAGS)
    gc.set_defaults(func=cmd_gradcheck)

    sw = commands.add_parser("sweep", help="train over a grid of settings and seeds; CSV, table and heat map",
                             description="Every setting flag takes comma-separated values; the full grid runs for "
                             "seeds 0..N-1. Hidden sizes: 3,8,16x8 (x between the layers of one network). "
                             "An interrupted sweep continues where it stopped.")
    sw.add_argument("--out", required=True, metavar="DIR", help="folder for runs/, runs.csv, summary.md, heatmap.png")
    sw.add_argument("--seeds", type=positive_int, default=3, help="seeds per configuration (default: 3)")
    sw.add_argument("--workers", type=positive_int, default=1, help="parallel processes (default: 1)")
    sw.add_argument("--recipe", help="settings to start from")
    add_population_flag(sw)
    for f in dataclasses.fields(Settings):
        sw.add_argument("--" + f.name.replace("_", "-"), dest=f.name, metavar="V[,V...]", help=escaped(f.metadata["help"]))
    sw.set_defaults(func=cmd_sweep)

    ex = commands.add_parser("experiment", help="experiments that answer a question: noise-vs-reg")
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
    ex.set_defaults(func=cmd_experiment)
    return parser


BUG = "a bug, not your input: --debug shows where; please report it"


def show_note(message, category, filename, lineno, file=None, line=None):
    print(f"note: {message}", file=sys.stderr)


def main(argv=None):
    argv = join_negative_values(sys.argv[1:] if argv is None else argv)
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
    except KeyboardInterrupt as e:
        if distributed.rank() == 0:  # Ctrl-C reaches every process: rank 0 tells it
            print(f"error: {e or 'interrupted'}", file=sys.stderr)
        return 130
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


if __name__ == "__main__":
    sys.exit(main())
