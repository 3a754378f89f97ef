"""``ftbench run`` and ``ftbench worker``: their options, the stops they catch (Ctrl-C, SIGTERM,
``--stop-after``) and what a run prints when it ends or is stopped."""

from __future__ import annotations

import argparse
import shlex
import signal
import time
from pathlib import Path

from benchmarks.driver.time_box import EXIT_STOPPED, TimeUp, parse_duration


def run_arguments(command: argparse.ArgumentParser) -> None:
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
    command.add_argument("--stop-after", metavar="DURATION",
                         help="time box, e.g. 90s, 45m, 2h or 1h30m from the command's start: "
                         "start no training that the measured speed says cannot end by then; "
                         f"stop between trainings, print what is left, exit {EXIT_STOPPED}")
    command.add_argument("--deadline", type=float, help=argparse.SUPPRESS)  # helper workers
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


def _deadline(args: argparse.Namespace) -> float | None:
    """``time.time()`` by which every training must end: the command's start plus
    ``--stop-after`` (checked here, before any work), or a helper worker's ``--deadline``."""
    if args.deadline is not None:
        return args.deadline
    return None if args.stop_after is None else time.time() + parse_duration(args.stop_after)


def cmd_run(args: argparse.Namespace) -> int:
    """Run (or join, as a worker) a suite; the exit code: 0, or :data:`EXIT_STOPPED`."""
    from benchmarks.driver.machine import check_workers
    from benchmarks.driver.runner import RunOptions, run_suite
    from benchmarks.driver.workers import set_threads
    from benchmarks.suite.model import load_suite

    start = time.perf_counter()
    deadline = _deadline(args)
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
        return 0
    check_workers(n_workers)
    _check_stale_after(args.stale_after)
    options = RunOptions(results_root=args.results_dir, mlflow_uri=args.mlflow_uri,
                         storage=args.storage, cache_dir=args.cache_dir,
                         progress=False if args.no_progress else None,
                         report=not (args.no_report or worker), stale_after_s=args.stale_after,
                         n_workers=n_workers, threads=args.threads, worker=worker,
                         extend=args.extend, started=start, deadline=deadline)
    set_threads(options)
    _catch_stops()
    try:
        out = run_suite(suite, options)
    except TimeUp as stop:
        if args.deadline is None:  # a helper worker leaves the telling to its run
            print(stopped_text(stop, args, options.report))
        return EXIT_STOPPED
    _finish(out, options.report, start)
    return 0


def _finish(out: Path, report: bool, start: float) -> None:
    """Print where the results are, build the report, and the times of both."""
    ran = time.perf_counter() - start
    print(f"results: {out}/ (trials.csv, final.csv, epochs.csv)")
    if report:
        from report import build_report

        print(f"report:  {build_report(out)}")
    built = f" + {time.perf_counter() - start - ran:.1f} s report" if report else ""
    print(f"time: {ran:.1f} s run (run.json's total_time_s){built}")


def stopped_text(stop: TimeUp, args: argparse.Namespace, report: bool) -> str:
    """What a run that ``--stop-after`` stopped prints: why, what is left (as ``ftbench
    status`` says it), that no report was built, and the command that resumes."""
    from benchmarks.cli.status_text import _duration, format_status
    from benchmarks.results.status import suite_status

    left = _duration(max(0.0, stop.left_s))
    why = (f"stopped by --stop-after {args.stop_after}: the next training ({stop.label}, at "
           f"most {_duration(stop.estimate_s)}) cannot end in the {left} left; nothing is "
           "running, nothing was lost")
    if stop.kind == "wait":
        why = (f"stopped by --stop-after {args.stop_after}: cell {stop.label}, with {left} "
               "left; nothing of this process is running, nothing was lost")
    lines = [why, format_status(suite_status(stop.folder))]
    if report:
        lines.append(f"report: not built, the suite is not done (`ftbench report "
                     f"{shlex.quote(str(stop.folder))}` builds one marked INCOMPLETE)")
    lines.append(f"resume: {shlex.join(['ftbench', *args.argv])}")
    return "\n".join(lines)
