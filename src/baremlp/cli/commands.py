"""One function per command of `baremlp`: each turns its parsed flags into a call of the Python
API that a notebook makes too, and prints the result."""
import dataclasses
import os
import sys
import threading

from ..engines import distributed
from ..errors import UsageError
from ..runs import inference, runner
from ..runs.folder import RunFolder, settings_of
from ..runs.files import write_csv
from ..runs.settings import Settings, base_settings
from ..studies.experiments import noise_vs_reg
from ..studies.sweeps import repeated, sweep
from . import launcher
from .flags import grid_values, settings_from_args


def cmd_train(args):
    log = (lambda *a: None) if args.quiet else print
    if args.resume:
        typed = [f.name for f in dataclasses.fields(Settings)
                 if getattr(args, f.name) is not None and f.name != "epochs"]
        if typed or args.recipe or args.out:
            flags = ", ".join("--" + name.replace("_", "-") for name in typed)
            raise UsageError(f"--resume continues a run with its own config.json: drop {flags or '--recipe/--out'} "
                             "(only --epochs may change, to train it further)")
        settings, out, recipe = settings_of(args.resume), args.resume, None
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
    distributed.check(settings.batch_size, settings.device, args.nproc, args.nproc, settings.check_steps)
    if out:  # the folder's rules, new run or resumed, as the ranks would check them
        RunFolder(out).opening(settings, bool(args.resume), args.overwrite)
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


def cmd_gradcheck(args):
    settings, _ = settings_from_args(args)
    net, loss, result = runner.gradcheck(settings, samples=args.samples)
    print(f"gradcheck of {net} with {loss}, λ = {settings.reg:g}: the manual backward (baremlp.backprop) "
          "against autograd, and autograd against central finite differences")
    for line in gradcheck_lines(result):
        print(line)
    return 0 if result["ok"] else 1


def cmd_check(args):
    from ..check.spawner import warm
    warm()  # the students' process loads torch while this one does
    from ..check.command import command  # the checker loads only for this command
    from ..check.remote import Limits
    if args.memory < 0:
        raise UsageError(f"--memory {args.memory}: expected MiB ≥ 0 (0: no cap)")
    return command(args.file, as_json=args.json, limits=Limits(args.timeout, args.memory, args.total_timeout),
                   rubric=args.rubric, rules_off=args.no_rule, gradescope=args.gradescope, csv=args.csv, jobs=args.jobs)


def cmd_assignment(args):
    from ..handout import write
    files = write(args.dir, overwrite=args.overwrite)
    for what, path in files.items():
        print(f"{what + ':':<20} {path}")
    print(f"next: {os.path.join(args.dir, 'README.md')} says how to release, collect and grade")


def cmd_view(args):
    from ..view import serve  # the page's server loads only for this command (and needs baremlp[view])
    if args.target and not args.data:
        raise UsageError("--target goes with --data FILE: the table the page may train on")
    serve(port=args.port, runs=args.runs, host=args.host, open_browser=not args.no_browser,
          table={"data": args.data, "target": args.target} if args.data else None)
    if any(t.name.startswith("baremlp-view-") and t.is_alive() for t in threading.enumerate()):
        sys.stdout.flush()  # a training still inside a compile (seconds, it cannot be stopped): the process ends
        sys.stderr.flush()  # now, as torch's compile threads cannot be torn down mid-way (an abort, or a segfault)
        os._exit(0)


def cmd_sweep(args):
    base = base_settings(args.dataset.split(",")[0] if args.dataset else None, args.recipe)
    fixed, swept = {}, {}
    for f in dataclasses.fields(Settings):
        text = getattr(args, f.name)
        if text is not None:
            values = grid_values(text, f)
            (swept if len(values) > 1 else fixed)[f.name] = values if len(values) > 1 else values[0]
    if "seed" in swept:
        raise UsageError(f"--seed {args.seed!r} invalid: a sweep's --seed is its first seed, one whole number "
                         "(the runs take seeds S .. S+N-1 with --seeds N)")
    base = base.replace(**fixed)
    for name, values in swept.items():
        for value in values:  # every grid value checked before the first run starts
            base.replace(**{name: value})
    try:
        sweep(base, swept, args.seeds, args.out, workers=args.workers, population=args.population, log=print)
    except KeyboardInterrupt:
        runs = os.path.join(args.out, "runs")
        done = sum(RunFolder(os.path.join(runs, name)).finished() for name in os.listdir(runs)) if os.path.isdir(runs) else 0
        raise KeyboardInterrupt(f"interrupted; {args.out} keeps the {done} run{'s' if done != 1 else ''} that finished: "
                                "run the same command again to continue") from None
    print(f"results: {args.out}/runs.csv, {args.out}/summary.md, {args.out}/heatmap.png")


def cmd_experiment(args):
    def floats(text, flag):
        try:
            values = [float(v) for v in text.split(",")] if text else None
        except ValueError:
            raise UsageError(f"{flag} {text!r} invalid: expected comma-separated numbers") from None
        if values and (twice := repeated(values)) is not None:
            raise UsageError(f"{flag} lists {twice:g} twice: give each value once")
        return values
    kwargs = {k: v for k, v in dict(noises=floats(args.noises, "--noises"), regs=floats(args.regs, "--regs"),
                                    n=args.n, epochs=args.epochs, lr=args.lr).items() if v is not None}
    noise_vs_reg(args.out, seeds=args.seeds, workers=args.workers, population=args.population, **kwargs)
    print(f"results: {args.out}/report.md, {args.out}/noise_vs_reg.png, {args.out}/runs.csv")


def gradcheck_lines(result):
    """gradcheck's result as the table `baremlp gradcheck` prints: one row per parameter, then the verdict."""
    lines = [f"on {result['samples']} samples with every hidden |u| ≥ {result['margin']:g}; agree when the relative "
             f"error (|difference| over the parameter's max |∂J/∂p|) ≤ {result['tolerance']:g}; finite differences "
             f"in float64, ε = {result['eps']:g}, allowed their rounding (L+1)·eps·|J|/ε = {result['fd_error']:.2g}",
             f"{'param':<6}{'shape':<12}{'max|manual−autograd|':>22}{'max|autograd−fd|':>18}{'rel. error':>12}"
             f"{'probed':>10}  verdict"]
    for r in result["rows"]:
        verdict = ("ok,FD-coarse" if r["fd_coarse"] else "ok") if r["ok"] else "DISAGREE"
        lines.append(f"{r['name']:<6}{str(r['shape']):<12}{r['manual_vs_autograd']:>22.2e}{r['autograd_vs_fd']:>18.2e}"
                     f"{r['rel_error']:>12.2e}{r['probed']:>10}  {verdict}")
    coarse = [r["name"] for r in result["rows"] if r["fd_coarse"]]
    lines.append(("all gradients agree" if result["ok"] else "some gradients DISAGREE") + (
        f"; finite differences cannot resolve {', '.join(coarse)} to {result['tolerance']:g} (FD-coarse): |J| = "
        f"{abs(result['J']):.2g} rounds them by up to {result['fd_error']:.2g}, so there the manual backward is "
        "checked against autograd alone" if coarse else ""))
    return lines
