"""The ``ftbench`` command line: run, worker, status, list, show, report, compare, pack, unpack,
pretrain. Bad input exits 2 with one line."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from pathlib import Path
from typing import NoReturn

from benchmarks.cli.folder_commands import cmd_compare, cmd_pack, cmd_report, cmd_unpack
from benchmarks.cli.run_cmd import cmd_run, run_arguments
from benchmarks.messages import disk_full, first_line

EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE, as a shell reports a command whose reader closed the pipe."""
EXIT_INTERRUPTED = 130
"""128 + SIGINT: Ctrl-C or SIGTERM stopped the run (the trial in flight recorded as such)."""


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
        run_arguments(command)
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

    compare = add("compare", help="two results folders side by side, cell by cell, and "
                  "which guideline findings hold in both")
    compare.add_argument("a", type=Path, help="the first results folder (A)")
    compare.add_argument("b", type=Path, help="the second results folder (B)")
    compare.add_argument("--margin", type=float, default=0.01,
                         help="practical margin of the verdicts, as accuracy (default 0.01)")
    compare.add_argument("--out", type=Path, help="also write compare.csv, compare.md and "
                         "the guideline findings (findings.csv/.md, differences.csv/.md) "
                         "into this folder")

    pack = add("pack", help="one archive (.tar.xz or .tar.gz, at most 16 MiB) of what a "
               "results folder needs to resume on another machine")
    pack.add_argument("folder", type=Path, help="results folder, e.g. results/quickstart")
    pack.add_argument("--out", type=Path, help="the archive to write (default: "
                      "FOLDER's name + .tar.xz, in the current folder)")
    unpack = add("unpack", help="restore a results folder from an archive of `ftbench pack`")
    unpack.add_argument("archive", type=Path)
    unpack.add_argument("--results-dir", type=Path, default=Path("results"),
                        help="parent folder to restore <suite>/ into (default: results)")
    return parser


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



COMMANDS = {"run": cmd_run, "worker": cmd_run, "list": _cmd_list, "show": _cmd_show,
            "report": cmd_report, "pretrain": _cmd_pretrain, "status": _cmd_status,
            "compare": cmd_compare, "pack": cmd_pack, "unpack": cmd_unpack}


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
    args.argv = list(sys.argv[1:] if argv is None else argv)  # to print the resume command
    try:
        code = COMMANDS[args.command](args) or 0
        sys.stdout.flush()
    except (ValueError, TypeError, FileNotFoundError, PermissionError) as exc:
        if args.debug:
            raise
        print(f"ftbench: error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `ftbench list backbones | head`: the reader has all it wants
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as exc:
        if args.debug or not disk_full(exc):  # anything else is a bug: its traceback helps
            raise
        print(f"ftbench: error: the disk must have room for the results, but it is full "
              f"({one_line(first_line(exc, 200))}). Free space, then run the same command "
              "again: the rows written are kept, and a training cut short runs again.",
              file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("ftbench: interrupted; run the same command again to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code


if __name__ == "__main__":
    sys.exit(main())
