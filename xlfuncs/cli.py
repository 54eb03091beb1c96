"""`xlfuncs` command line."""
from __future__ import annotations

import argparse

from . import supplement


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="xlfuncs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("examples", help="print the supplements' worked examples and tables "
                                         "computed from the bundled example terms")
    args = parser.parse_args(argv)
    if args.command == "examples":
        print(supplement.report())
    return 0
