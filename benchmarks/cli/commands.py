"""The ``ftbench`` command line: run, worker, status, list, show, report, pretrain. Bad input
exits 2 with one line."""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
import time
from pathlib import Path
from typing import NoReturn

from benchmarks.cli.folder_commands import cmd_compare, cmd_report

EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE, as a shell reports a command whose reader closed the pipe."""


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake reported in one line (no usage block) and exit 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``ftbench: error: MESSAGE`` and how to see the options; exit 2."""
        self.exit(EXIT_USAGE, f"ftbench: error: {one_line(message)}. `{self.prog} --help` "
                              "lists the options.\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ftbench", description="Benchmark fine-tuning strategies across data sizes."
    )
    parser.add_argument("--version", action="version", version=f"ftbench {_version()}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    debug = _Parser(add_help=False)  # --debug after the command works too
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True)
    add = functools.partial(sub.add_parser, parents=[debug])

    run = add("run", help="run (or resume) a suite")
    worker = add("worker", help="join a running suite as one more worker (same storage and "
                 "MLflow URI; no report)")
    for command in (run, worker):
        _run_arguments(command)
    run.add_argument("--n-workers", type=int, default=1,
                     help="worker processes on this machine sharing the suite (default: 1)")

    status = add("status", help="cells done, trials per state, time left")
    status.add_argument("folder", type=Path, help="results folder, e.g. results/quickstart")

    listing = add("list", help="list strategies, datasets, suites or backbones")
    listing.add_argument("what", choices=["strategies", "datasets", "suites", "backbones"])
    listing.add_argument("pattern", nargs="?", default="*",
                         help="wildcard, e.g. '*freeze*', '*resnet*' or 'tv:*'")
    listing.add_argument("--cache-dir", type=Path, help="where ftbench's checkpoints are "
                         "(default: $FTBENCH_CACHE or ~/.cache/ftbench)")

    pre = add("pretrain", help="pretrain a backbone on a dataset; write a checkpoint "
              "that suites use as 'weights: PATH'")
    pre.add_argument("--backbone", default="test_resnet",
                     help="timm name or tv:<name> (default: test_resnet)")
    pre.add_argument("--dataset", default="synth_source",
                     help="registered dataset (default: the built-in source task)")
    pre.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                     help="dataset option, value in YAML, e.g. --option 'classes=[0, 1, 2]' "
                     "(repeatable)")
    pre.add_argument("--epochs", type=int, default=6)
    pre.add_argument("--batch-size", type=int, default=128)
    pre.add_argument("--lr", type=float, default=2e-3)
    pre.add_argument("--seed", type=int, default=0)
    pre.add_argument("--out", type=Path, help="write the checkpoint here (.pt, .pth or "
                     ".safetensors) with a .json beside it; default: only the cache")
    pre.add_argument("--cache-dir", type=Path,
                     help="checkpoint cache (default: $FTBENCH_CACHE or ~/.cache/ftbench)")

    show = add("show", help="print a suite as YAML")
    show.add_argument("suite")

    report = add("report", help="(re)build the report of a results folder")
    report.add_argument("folder", type=Path)
    report.add_argument("--format", choices=["latex", "markdown"],
                        help="also write the report's tables for a paper: report/latex/*.tex "
                        "or report/markdown/*.md")

    compare = add("compare", help="two results folders side by side, cell by cell")
    compare.add_argument("a", type=Path, help="the first results folder (A)")
    compare.add_argument("b", type=Path, help="the second results folder (B)")
    compare.add_argument("--margin", type=float, default=0.01,
                         help="practical margin of the verdicts, as accuracy (default 0.01)")
    compare.add_argument("--out", type=Path, help="also write compare.csv and compare.md "
                         "into this folder")
    return parser


def _run_arguments(command: argparse.ArgumentParser) -> None:
    """The options that ``run`` and ``worker`` share."""
    command.add_argument("suite", nargs="?", default="quickstart",
                         help="built-in suite name or path to a suite YAML (default: quickstart)")
    command.add_argument("--results-dir", type=Path, default=Path("results"),
                         help="parent folder of results/<suite>/ (default: results)")
    command.add_argument("--mlflow-uri",
                         help="MLflow tracking URI (default: SQLite under results)")
    command.add_argument("--storage", help="Optuna storage: a database URL (sqlite:///..., "
                         "postgresql://...) or a .journal file (default: "
                         "results/<suite>/optuna.journal)")
    command.add_argument("--cache-dir", type=Path, help="pretrained-checkpoint cache "
                         "(default: $FTBENCH_CACHE or ~/.cache/ftbench)")
    command.add_argument("--threads", type=int,
                         help="torch CPU threads of this process (default: all cores, "
                         "shared out with --n-workers)")
    command.add_argument("--stale-after", type=float, default=1800.0, metavar="SECONDS",
                         help="a trial of another machine with no heartbeat (sent every 60 s "
                         "while it runs) for this long is taken as crashed, failed and "
                         "retried (default: 1800)")
    command.add_argument("--no-report", action="store_true", help="skip the report at the end")
    command.add_argument("--extend", action="store_true",
                         help="accept a suite that adds seeds, strategies or training sizes "
                         "(keeping the old ones) or trials (before any final seed ran) to an "
                         "existing results folder")
    command.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    command.add_argument("--dry-run", action="store_true",
                         help="print the grid, its trainings and a time estimate measured on "
                         "this machine; write nothing")


def _check_stale_after(seconds: float) -> None:
    """``--stale-after`` must leave room for a few missed heartbeats."""
    from benchmarks.driver.liveness import HEARTBEAT_S

    if not seconds >= 3 * HEARTBEAT_S:
        raise ValueError(f"--stale-after must be at least {3 * HEARTBEAT_S:.0f} seconds (three "
                         f"heartbeats of a running trial), but got {seconds:g}. Use the "
                         "default 1800, or a value such as 600 for short epochs.")


def _stop_as_interrupt(signum: int, frame: object) -> None:
    """SIGTERM (a batch system or session ending the run) stops it as Ctrl-C does: the
    trial in flight is recorded as interrupted and retried when the suite runs again."""
    raise KeyboardInterrupt(f"signal {signum}")


def _catch_stops() -> None:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt, even where the shell that started the run
    in the background set SIGINT to be ignored (Python then installs no handler)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_as_interrupt)


def _cmd_run(args: argparse.Namespace) -> None:
    from benchmarks.driver.machine import check_workers
    from benchmarks.driver.runner import RunOptions, run_suite
    from benchmarks.driver.workers import set_threads
    from benchmarks.suite.model import load_suite

    start = time.perf_counter()
    suite = load_suite(args.suite)
    worker = args.command == "worker"
    n_workers = 1 if worker else args.n_workers
    if n_workers < 1 or (args.threads is not None and args.threads < 1):
        raise ValueError(f"--n-workers and --threads must be >= 1, but got {n_workers} and "
                         f"{args.threads}.")
    if args.dry_run:
        from benchmarks.driver.dry_run import dry_run
        from benchmarks.models.pretrain import default_cache_dir

        print(dry_run(suite, args.cache_dir or default_cache_dir()))
        return
    check_workers(n_workers)
    _check_stale_after(args.stale_after)
    options = RunOptions(results_root=args.results_dir, mlflow_uri=args.mlflow_uri,
                         storage=args.storage, cache_dir=args.cache_dir,
                         progress=False if args.no_progress else None,
                         report=not (args.no_report or worker), stale_after_s=args.stale_after,
                         n_workers=n_workers, threads=args.threads, worker=worker,
                         extend=args.extend, started=start)
    set_threads(options)
    _catch_stops()
    out = run_suite(suite, options)
    ran = time.perf_counter() - start
    print(f"results: {out}/ (trials.csv, final.csv, epochs.csv)")
    if options.report:
        from report import build_report

        print(f"report:  {build_report(out)}")
    report = f" + {time.perf_counter() - start - ran:.1f} s report" if options.report else ""
    print(f"time: {ran:.1f} s run (run.json's total_time_s){report}")


def _cmd_list(args: argparse.Namespace) -> None:
    import fnmatch

    if args.what == "strategies":
        from strategies import get_strategy, list_strategies

        for name in list_strategies(args.pattern):
            print(f"{name:20s} {get_strategy(name).summary}")
    elif args.what == "datasets":
        from benchmarks.data import list_datasets

        print("\n".join(list_datasets(args.pattern)))
    elif args.what == "backbones":
        from benchmarks.models.listing import backbone_lines
        from benchmarks.models.pretrain import default_cache_dir

        for line in backbone_lines(args.pattern, args.cache_dir or default_cache_dir()):
            print(line)
    else:
        from benchmarks.suite.model import builtin_suites

        print("\n".join(n for n in builtin_suites() if fnmatch.fnmatchcase(n, args.pattern)))


def _cmd_pretrain(args: argparse.Namespace) -> None:
    from benchmarks.cli.pretrain_cmd import pretrain_command

    pretrain_command(args)


def _cmd_show(args: argparse.Namespace) -> None:
    import yaml

    from benchmarks.suite.model import load_suite

    print(yaml.safe_dump(load_suite(args.suite).to_dict(), sort_keys=False), end="")


def _cmd_status(args: argparse.Namespace) -> None:
    from benchmarks.cli.status_text import format_status
    from benchmarks.results.status import suite_status

    print(format_status(suite_status(args.folder)))



COMMANDS = {"run": _cmd_run, "worker": _cmd_run, "list": _cmd_list, "show": _cmd_show,
            "report": cmd_report, "pretrain": _cmd_pretrain, "status": _cmd_status,
            "compare": cmd_compare}


def one_line(message: str) -> str:
    """``message`` on one line: line breaks that came in with a user's value (a YAML block
    scalar, a path) are shown escaped, as ``\\n``."""
    return message.replace("\r", "\\r").replace("\n", "\\n")


def _version() -> str:
    """The installed ftbench version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ftbench")
    except PackageNotFoundError:
        return "(not installed)"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ftbench`` console script."""
    args = _parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
        sys.stdout.flush()
    except (ValueError, TypeError, FileNotFoundError, PermissionError) as exc:
        if args.debug:
            raise
        print(f"ftbench: error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `ftbench list backbones | head`: the reader has all it wants
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("ftbench: interrupted; run the same command again to resume.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
