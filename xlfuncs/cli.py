"""`xlfuncs` command line."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import supplement
from .products import PRODUCTS


def jobs(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return number


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="xlfuncs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("examples", help="print the supplements' worked examples and tables "
                                         "computed from the bundled example terms")
    templates = commands.add_parser("templates", help="rebuild the template workbooks, with every "
                                                      "formula's value computed and cached")
    templates.add_argument("--out", type=Path, default=Path("workbooks"), help="folder (default: workbooks)")
    quote = commands.add_parser(
        "quote", help="turn a deal list into client quote workbooks (and PDFs), frozen to values",
        description="Turn a deal list into one client quote workbook per deal, DEAL_ID.xlsx (and DEAL_ID.pdf "
                    "with --pdf), and summary.csv with every deal's status, value, greeks and breakeven. A bad "
                    "deal is reported with its row and reason, its previous quote removed, and every good deal "
                    "is still quoted. Up-to-date quotes are skipped. Exit status: 0 all quoted, 1 some deals "
                    "failed or not done, 2 nothing could be done (bad list, template, folder or option), "
                    "130/143/129 interrupted by Ctrl-C/SIGTERM/SIGHUP (summary written).")
    quote.add_argument("deals", type=Path, help="deal list: .csv (comma, semicolon or tab separated; UTF-8 or "
                                                "Windows-1252), .yaml or .json; one deal per row")
    quote.add_argument("--out", type=Path, required=True, help="folder for the quotes and summary.csv; one run "
                                                               "at a time writes into it")
    quote.add_argument("--jobs", type=jobs, default=1, help="worker processes, at least 1 (default 1; at most one per CPU is used)")
    quote.add_argument("--force", action="store_true", help="rebuild quotes that are up to date")
    quote.add_argument("--pdf", action="store_true", help="also write each quote as a one-page PDF "
                                                          "(needs LibreOffice's soffice)")
    quote.add_argument("--market", type=Path, help="market snapshot (.json, .yaml or .xlsx: as_of, spot, rate and "
                                                   "dividend curves, vol surface) for every deal; a deal's own "
                                                   "market columns, where given, override it")
    quote.add_argument("--dask", metavar="ADDRESS", help="quote on a Dask cluster (its scheduler's address, e.g. "
                                                         "tcp://10.0.0.5:8786; the folder must be on storage every "
                                                         "worker sees), or `local` for a LocalCluster of --jobs "
                                                         "workers here; needs the dask extra")
    quote.add_argument("--author", default="", help="author written in each quote's document properties "
                                                    "(default: none)")
    quote.add_argument("--company", default="", help="company written in each quote's document properties "
                                                     "(default: none)")
    quote.add_argument("--template", action="append", default=[], metavar="PRODUCT=PATH",
                       help=f"use another template for a product ({', '.join(p.key for p in PRODUCTS)}; "
                            "repeatable); it is checked and refused if unsafe or not the product's")
    book = commands.add_parser(
        "book", help="mark a book of positions on a market snapshot: values, greeks, stress, P&L explain, report",
        description="Mark every position of POSITIONS on the market snapshot, with every fixing from the closes "
                    "history, into DIR: positions.csv, risk.csv, stress.csv, report.xlsx (report.pdf with --pdf), "
                    "with --previous pnl.csv, and book.json (the run's manifest). A bad position fails only "
                    "itself. Exit status: 0 all marked (or up to date), 1 some positions failed, 2 nothing could "
                    "be done (bad snapshot, closes history, positions file, folder or option).")
    book.add_argument("positions", type=Path, help="positions: a deal list (.csv, .xlsx, .yaml, .json) with "
                                                   "quantity, and optional trade_date and trade_price")
    book.add_argument("--market", type=Path, required=True, help="the day's market snapshot (.json, .yaml, .xlsx)")
    book.add_argument("--closes", type=Path, required=True, help="the index's closes history: date, close rows "
                                                                  "(a blank close: a disrupted day)")
    book.add_argument("--out", type=Path, required=True, help="folder for the book's files; one run at a time")
    book.add_argument("--previous", type=Path, help="the previous day's snapshot: explain the change of value")
    book.add_argument("--jobs", type=jobs, default=1, help="worker processes, at least 1 (default 1)")
    book.add_argument("--dask", metavar="ADDRESS", help="value the partitions on a Dask cluster (its scheduler's "
                                                        "address, e.g. tcp://10.0.0.5:8786), or `local` for a "
                                                        "LocalCluster of --jobs workers here")
    book.add_argument("--flat", action="store_true", help="value each deal on its flat market (at-the-money vol "
                                                          "to its fixing, flat rate and yield keeping its forward "
                                                          "and discount) instead of the surface and curves")
    book.add_argument("--pdf", action="store_true", help="also print report.pdf (needs LibreOffice's soffice)")
    book.add_argument("--force", action="store_true", help="mark the book again even if it is up to date")
    args = parser.parse_args(argv)
    if args.command == "examples":
        print(supplement.report())
        return 0
    extra = "batch" if args.command in ("quote", "book") else "workbooks"
    try:  # the workbook and batch libraries come with the extras, not with the Excel functions
        from .workbooks.builder import build_templates
        if args.command == "quote":
            from .batch.quotes import main as quote_main
        if args.command == "book":
            from .book.run import main as book_main
    except ImportError as error:
        print(f"xlfuncs {args.command} needs the {extra} extra ({error.name} is missing): "
              f"python3 -m pip install 'xlfuncs[{extra}]'", file=sys.stderr)
        return 2
    if args.command == "book":
        return book_main(args.positions, args.market, args.closes, args.out, args.previous, args.jobs, args.dask,
                         args.flat, args.pdf, args.force)
    if args.command == "quote":
        return quote_main(args.deals, args.out, args.jobs, args.force, args.template, args.author, args.company,
                          args.pdf, args.market, args.dask)
    for path in build_templates(args.out):
        print(f"wrote {path}")
    return 0
