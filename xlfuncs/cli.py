"""`xlfuncs` command line."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import supplement
from .products import PRODUCTS


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="xlfuncs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("examples", help="print the supplements' worked examples and tables "
                                         "computed from the bundled example terms")
    templates = commands.add_parser("templates", help="rebuild the template workbooks, with every "
                                                      "formula's value computed and cached")
    templates.add_argument("--out", type=Path, default=Path("workbooks"), help="folder (default: workbooks)")
    quote = commands.add_parser("quote", help="turn a deal list into client quote workbooks, frozen to values")
    quote.add_argument("deals", type=Path, help="deal list: .csv, .yaml or .json, one deal per row")
    quote.add_argument("--out", type=Path, required=True, help="folder for the quotes and summary.csv")
    quote.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    quote.add_argument("--force", action="store_true", help="rebuild quotes that are up to date")
    quote.add_argument("--template", action="append", default=[], metavar="PRODUCT=PATH",
                       help=f"use another template for a product ({', '.join(p.key for p in PRODUCTS)}; "
                            "repeatable)")
    args = parser.parse_args(argv)
    if args.command == "examples":
        print(supplement.report())
        return 0
    extra = "batch" if args.command == "quote" else "workbooks"
    try:  # the workbook and batch libraries come with the extras, not with the Excel functions
        from .templates import build_templates
        if args.command == "quote":
            from .quotes import main as quote_main
    except ImportError as error:
        print(f"xlfuncs {args.command} needs the {extra} extra ({error.name} is missing): "
              f"python3 -m pip install 'xlfuncs[{extra}]'", file=sys.stderr)
        return 2
    if args.command == "quote":
        return quote_main(args.deals, args.out, args.jobs, args.force, args.template)
    for path in build_templates(args.out):
        print(f"wrote {path}")
    return 0
