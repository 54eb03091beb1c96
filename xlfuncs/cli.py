"""`xlfuncs` command line."""
from __future__ import annotations

import argparse

from pathlib import Path

from . import supplement


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="xlfuncs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("examples", help="print the supplements' worked examples and tables "
                                         "computed from the bundled example terms")
    templates = commands.add_parser("templates", help="rebuild the template workbooks, with every "
                                                      "formula's value computed and cached")
    templates.add_argument("--out", type=Path, default=Path("workbooks"), help="folder (default: workbooks)")
    args = parser.parse_args(argv)
    if args.command == "examples":
        print(supplement.report())
    elif args.command == "templates":
        from .templates import build_templates
        for path in build_templates(args.out):
            print(f"wrote {path}")
    return 0
