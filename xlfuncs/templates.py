"""The template workbooks of both products, built from code so they can be rebuilt and diffed.

Each has a Term Sheet (inputs and derived terms), Scenarios (the supplement's examples or
tables, then an editable grid), a Payout diagram, a Valuation block, a one-page client Quote
and the xlwings.conf sheet; the warrant also a Lookback sheet. Every input and key output
has a workbook-level name, so formulas read like the term sheet. Scenario columns are
legacy array formulas (one per column), which every Excel version evaluates.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
from openpyxl import Workbook

from . import xlsx
from .calendar import trading_days
from .engine import Calculation
from .montecarlo import DEFAULT_SEED
from .payments import warrant_breakeven
from .supplement import NOTE_EXAMPLE_FINALS, WARRANT, WARRANT_PREMIUM, WARRANT_TABLE_LOOKBACKS
from .supplement import warrant_table_finals as supplement_table_finals
from .workbook import (DATE, GREEK, HEADER_FILL, HEADER_FONT, LEVEL2, LEVEL3, LEVEL4, MONEY, MONEY_NEGATIVE,
                       NOTE_FONT, PERCENT2, PERCENT3, WHOLE, Sheet, conf_sheet, define, excel_date,
                       scatter_chart)

NOTE_FILE = "bearish_buffer_note.xlsx"
WARRANT_FILE = "bearish_put_warrant.xlsx"
NOTE_TERMS = "Participation,Buffer,MaxReturn,MinPayment,Principal"
NOTE_VALUE_ARGS = ("Spot,AsOf,FinalDate,PaymentDate,Vol,Rate,DivYield,FundingSpread,"
                   "Initial,Participation,Buffer,MaxReturn,MinPayment,Principal")
WARRANT_VALUE_ARGS = ("Spot,AsOf,Initial,UpperStrike,LowerStrike,WindowStart,WindowEnd,Expiration,"
                      "Settlement,Vol,Rate,DivYield,LookbackCloses,Notional")
GREEK_HEADERS = ["Delta (per index point)", "Gamma", "Vega (per vol point)", "Theta (per day)",
                 "Rho (per 1% of rate)"]
DISCLAIMER = ("Indicative only: not an offer, a recommendation or the issuer's estimated value. Values come "
              "from a Black-Scholes model with the inputs shown; all payments are subject to the credit "
              "risk of the issuer and the guarantor. The pricing supplement governs.")
SCENARIO_ROWS = 21


def field_block(sheet: Sheet, fields) -> None:
    for field in fields:
        sheet.field(*field)


def market_inputs(sheet: Sheet, spot: float, as_of: dt.date, vol: float, rate: float, div_yield: float,
                  funding_spread: float | None = None) -> None:
    sheet.section("Market inputs")
    field_block(sheet, [
        ("Spot (underlying close on the valuation date)", spot, LEVEL2, "Spot", True),
        ("Valuation date (after its close)", excel_date(as_of), DATE, "AsOf", True),
        ("Volatility (flat)", vol, PERCENT2, "Vol", True),
        ("Interest rate (continuously compounded)", rate, PERCENT3, "Rate", True),
        ("Dividend yield (continuously compounded)", div_yield, PERCENT3, "DivYield", True)])
    if funding_spread is not None:
        sheet.field("Funding spread (bond component)", funding_spread, PERCENT3, "FundingSpread", True,
                    "the issuer's internal funding rate is rate + spread")
    sheet.field("Monte Carlo paths (the check)", None, WHOLE, "Paths", True,
                "blank: as many as give a standard error of $0.01 per $1,000")
    sheet.field("Random seed", DEFAULT_SEED, "0", "Seed", True, "same inputs and seed, same digits")


def greeks(sheet: Sheet, formula: str, title: str) -> None:
    sheet.section(title)
    sheet.headers(["", *GREEK_HEADERS])
    sheet.cell(sheet.row, 1, "Greeks")
    sheet.array(2, sheet.row, 1, formula, GREEK, columns=5)
    sheet.row += 1


def note_columns(sheet: Sheet, first_row: int, finals: str, initial: str, payments: str) -> None:
    """Underlying return, payment at maturity and total return for the finals in column B."""
    rows = SCENARIO_ROWS if finals == "ScenarioFinals" else len(NOTE_EXAMPLE_FINALS)
    sheet.array(3, first_row, rows, f'=IF({finals}="","",({finals}-{initial})/{initial})', PERCENT2)
    sheet.array(4, first_row, rows, f"=NOTE_PAYMENT({finals},{initial},{NOTE_TERMS})", MONEY, payments)
    sheet.array(5, first_row, rows, f'=IF({finals}="","",{payments}/Principal-1)', PERCENT2)


def warrant_columns(sheet: Sheet, first_row: int, rows: int, finals: str, initial: str, lookback: str,
                    payments: str) -> None:
    """The columns of the supplement's Tables 1 and 2 for the finals in column A (blank for N/A).
    Differences are rounded to 1e-10, far below a cent, so that the breakeven row's floating
    residue (about -1e-13) shows as $0.00 and 0.00%, not as -$0.00."""
    upper, lower, premium = f"UpperStrike*{lookback}", f"LowerStrike*{initial}", "Premium*Notional"
    blank = f'IF({finals}="","",'
    columns = [
        (f"=IF({finals}=\"\",\"\",({finals}-{lookback})/{lookback})", PERCENT3, None),
        (f"=IF({finals}=\"\",\"\",({finals}-{initial})/{initial})", PERCENT3, None),
        (f'={blank}IF({finals}<{upper},({upper}-{finals})/{lookback},""))', PERCENT3, None),
        (f'={blank}IF({finals}<={lower},({lower}-{finals})/{initial},""))', PERCENT3, None),
        (f"=WARRANT_PAYMENT({finals},{initial},{lookback},UpperStrike,LowerStrike,Notional)", MONEY, payments),
        (f"={blank}ROUND({payments}-{premium},10))", MONEY_NEGATIVE, None),
        (f"={blank}ROUND(({payments}-{premium})/({premium}),10))", PERCENT2, None)]
    for offset, (formula, fmt, name) in enumerate(columns):
        sheet.array(2 + offset, first_row, rows, formula, fmt, name)


def payout_block(sheet: Sheet, column: int, first_row: int, product: str, prefix: str) -> tuple[str, str, int]:
    """Chart source cells: the underlying's change, the final value, the payment and the
    product's line; returns the x range (also the underlying's own line), the product's
    line and the block's last row. Its ranges are named `prefix` + Changes, Finals, Payments, Line."""
    if product == "note":
        changes = np.round(np.arange(-1.0, 1.5001, 0.01), 2)
        base, payment, line = "Initial", f"=NOTE_PAYMENT({prefix}Finals,Initial,{NOTE_TERMS})", \
            f"={prefix}Payments/Principal-1"
        headers = ["Underlying return", "Final underlying value", "Payment at maturity", "Return on the securities"]
    else:
        changes = np.round(np.arange(-1.0, 0.5001, 0.01), 2)
        base = "Lookback"
        payment = f"=WARRANT_PAYMENT({prefix}Finals,Initial,Lookback,UpperStrike,LowerStrike,Notional)"
        line = f"={prefix}Payments/Notional"
        headers = ["Change from the lookback value", "Final underlying value", "Payment upon exercise",
                   "Payment, % of notional"]
    for offset, header in enumerate(headers):
        sheet.cell(first_row, column + offset, header, font=HEADER_FONT, fill=HEADER_FILL, align="wrap")
    rows = len(changes)
    x = sheet.column(column, first_row + 1, changes.tolist(), PERCENT2, f"{prefix}Changes")
    sheet.array(column + 1, first_row + 1, rows, f"={base}*(1+{prefix}Changes)", LEVEL2, f"{prefix}Finals")
    sheet.array(column + 2, first_row + 1, rows, payment, MONEY, f"{prefix}Payments")
    y = sheet.array(column + 3, first_row + 1, rows, line, PERCENT2, f"{prefix}Line")
    return x, y, first_row + rows


def payout_chart(sheet: Sheet, anchor: str, product: str, x: str, y: str) -> None:
    """The supplement's payout diagram: the product's line and the underlying's own."""
    name, y_title = (("The Securities", "Return on the securities") if product == "note"
                     else ("The Warrants", "Payment, % of notional"))
    x_title = "Underlying return" if product == "note" else "Change from the lookback value"
    chart = scatter_chart("Payout Diagram", sheet, x, [(name, y), ("The Underlying", x)], x_title, y_title)
    sheet.ws.add_chart(chart, anchor)


def payout_sheet(wb: Workbook, product: str, subtitle: str) -> None:
    sheet = Sheet(wb, "Payout", [16, 16, 16, 16, 16])
    sheet.heading("Payout Diagram", subtitle)
    x, y, last_row = payout_block(sheet, 1, 24, product, "Payout")
    payout_chart(sheet, "A4", product, x, y)
    sheet.row = last_row + 1
    sheet.finish(freeze="A4")


def quote_sheet(wb: Workbook, product: str, title: str, key_terms, scenario_headers, scenario_changes,
                scenario_columns) -> None:
    """The one-page client quote: terms, scenarios, payout chart, breakeven, value, model inputs."""
    sheet = Sheet(wb, "Quote", [34, 19, 17, 17, 17])
    sheet.heading(title, "Indicative terms and scenario analysis")
    sheet.field("Prepared for", "Client", None, "Client", True)
    sheet.field("Valuation date", "=AsOf", DATE)
    sheet.section("Key terms")
    field_block(sheet, key_terms)
    sheet.section("Scenarios at maturity" if product == "note" else "Scenarios at expiration")
    sheet.headers(scenario_headers)
    first = sheet.row
    sheet.column(1, first, scenario_changes, PERCENT2, "QuoteChanges", entry=True)
    for offset, (formula, fmt, name) in enumerate(scenario_columns):
        sheet.array(2 + offset, first, len(scenario_changes), formula, fmt, name)
    sheet.row = first + len(scenario_changes)
    sheet.section("Payout diagram")
    x, y, _ = payout_block(sheet, 8, 1, product, "QuotePayout")  # beside the page, outside the print area
    payout_chart(sheet, f"A{sheet.row}", product, x, y)
    sheet.row += 19
    sheet.section("Breakeven and estimated value")
    sheet.field("Breakeven final value", "=Breakeven", LEVEL2, note="at the issue price" if product == "note"
                else "payment upon exercise equals the premium")
    sheet.field("Estimated value", "=EstimatedValue", MONEY, key=True,
                note="per security" if product == "note" else "per warrant")
    sheet.field("Model inputs", '="spot "&TEXT(Spot,"#,##0.00")&", vol "&TEXT(Vol,"0.0%")&", rate "'
                '&TEXT(Rate,"0.00%")&", dividend yield "&TEXT(DivYield,"0.00%")', None)
    sheet.row += 1
    sheet.cell(sheet.row, 1, DISCLAIMER, font=NOTE_FONT, align="wrap")
    sheet.ws.merge_cells(start_row=sheet.row, start_column=1, end_row=sheet.row, end_column=5)
    sheet.ws.row_dimensions[sheet.row].height = 36
    sheet.row += 1
    sheet.finish(freeze="A4")


def term_sheet(title: str, supplement: str, cusip: str, isin: str) -> tuple[Workbook, Sheet]:
    """A new workbook whose Term Sheet opens with what both supplements share: issuer,
    guarantor and underlying, then the product's CUSIP and ISIN."""
    wb = Workbook()
    wb.remove(wb.active)
    terms = Sheet(wb, "Term Sheet", [38, 38, 62])
    terms.heading(title, f"Citigroup Global Markets Holdings Inc. · {supplement} · CUSIP {cusip} · "
                         "blue cells are inputs")
    terms.section("Key terms")
    field_block(terms, [
        ("Issuer", "Citigroup Global Markets Holdings Inc.", None, "Issuer", True),
        ("Guarantor", "Citigroup Inc.", None, None, True),
        ("Underlying", "S&P 500® Index", None, "Underlying", True),
        ("CUSIP / ISIN", f"{cusip} / {isin}", None, None, True)])
    return wb, terms


def build_note() -> Workbook:
    """The Bearish Buffer Securities template."""
    wb, terms = term_sheet("Bearish Buffer Securities Linked to the S&P 500® Index Due December 5, 2024",
                           "preliminary pricing supplement of November 8, 2023", "17291TGZ5", "US17291TGZ57")
    field_block(terms, [
        ("Stated principal amount", 1000.0, MONEY, "Principal", True, "per security"),
        ("Pricing date", excel_date(dt.date(2023, 11, 29)), DATE, "PricingDate", True),
        ("Issue date", excel_date(dt.date(2023, 12, 4)), DATE, "IssueDate", True),
        ("Valuation date", excel_date(dt.date(2024, 12, 2)), DATE, "FinalDate", True,
         "its closing value is the final underlying value"),
        ("Maturity date", excel_date(dt.date(2024, 12, 5)), DATE, "PaymentDate", True),
        ("Initial underlying value", 100.0, LEVEL2, "Initial", True,
         "closing value on the pricing date (hypothetical 100.00 until then)"),
        ("Participation rate", 3.0, PERCENT2, "Participation", True),
        ("Buffer percentage", 0.10, PERCENT2, "Buffer", True),
        ("Maximum return at maturity", 0.23, PERCENT2, "MaxReturn", True,
         "of the principal; set on the pricing date, at least 23.00% ($230.00)"),
        ("Minimum payment at maturity", 0.10, PERCENT2, "MinPayment", True, "of the principal")])
    terms.section("Derived terms")
    field_block(terms, [
        ("Final buffer value", "=Initial*(1+Buffer)", LEVEL2, "FinalBufferValue"),
        ("Maximum payment at maturity", "=Principal*(1+MaxReturn)", MONEY, "MaximumPayment"),
        ("Minimum payment at maturity", "=Principal*MinPayment", MONEY, "MinimumPayment"),
        ("Breakeven final value", f"=NOTE_BREAKEVEN(Principal,Initial,{NOTE_TERMS})", LEVEL2, "Breakeven",
         False, "highest final value that still repays the stated principal amount")])
    terms.section("Payment at maturity")
    for line in ("Final below the initial value: $1,000 + $1,000 x |underlying return| x participation rate, "
                 "up to the maximum return.",
                 "Final from the initial value up to the final buffer value: $1,000.",
                 "Final above the final buffer value: $1,000 - $1,000 x (underlying return - buffer "
                 "percentage), at least the minimum payment."):
        terms.note(line)
    terms.finish(freeze="A4")

    scenarios = Sheet(wb, "Scenarios", [34, 16, 16, 18, 16])
    scenarios.heading("Scenarios", "Payment at maturity for hypothetical final underlying values")
    scenarios.section("Hypothetical examples (as in the supplement)")
    scenarios.field("Hypothetical initial underlying value", 100.0, LEVEL2, "ExampleInitial", True)
    scenarios.field("Hypothetical final buffer value", "=ExampleInitial*(1+Buffer)", LEVEL2)
    headers = ["", "Final underlying value", "Underlying return", "Payment at maturity", "Total return"]
    scenarios.headers(["Example", *headers[1:]])
    first = scenarios.row
    for offset, name in enumerate(["Example 1: upside scenario A", "Example 2: upside scenario B",
                                   "Example 3: par scenario", "Example 4: downside scenario A",
                                   "Example 5: downside scenario B"]):
        scenarios.cell(first + offset, 1, name)
    scenarios.column(2, first, list(NOTE_EXAMPLE_FINALS), LEVEL2, "ExampleFinals", entry=True)
    note_columns(scenarios, first, "ExampleFinals", "ExampleInitial", "ExamplePayments")
    scenarios.row = first + len(NOTE_EXAMPLE_FINALS) + 1
    scenarios.section("Scenario grid (edit the final values)")
    scenarios.headers(headers)
    first = scenarios.row
    scenarios.column(2, first, [50.0 + 5 * i for i in range(SCENARIO_ROWS)], LEVEL2, "ScenarioFinals", entry=True)
    note_columns(scenarios, first, "ScenarioFinals", "Initial", "ScenarioPayments")
    scenarios.row = first + SCENARIO_ROWS
    scenarios.finish(freeze="A4")

    payout_sheet(wb, "note", "Return at maturity against the underlying return; the maximum return at its "
                             "Term Sheet value")

    valuation = Sheet(wb, "Valuation", [40, 17, 17, 17, 17, 17], landscape=True)
    valuation.heading("Valuation", "Black-Scholes, flat vol, rate and dividend yield; ACT/365F; bond at "
                                   "rate + funding spread, options at rate")
    market_inputs(valuation, 100.0, dt.date(2023, 11, 29), 0.15, 0.053, 0.015, 0.01)
    valuation.section("Value per security")
    valuation.field("Estimated value (closed form)", f"=NOTE_VALUE({NOTE_VALUE_ARGS})", MONEY, "EstimatedValue",
                    key=True)
    valuation.field("Estimated value, % of principal", "=EstimatedValue/Principal", PERCENT2)
    valuation.cell(valuation.row, 1, "Monte Carlo check: value, standard error")
    valuation.array(2, valuation.row, 1, f"=NOTE_MC_VALUE({NOTE_VALUE_ARGS},Paths,Seed)", MONEY, columns=2)
    define(wb, "StdError", valuation.title, f"C{valuation.row}")
    valuation.ws.cell(valuation.row, 3).number_format = LEVEL4
    valuation.row += 1
    valuation.field("Breakeven final value", "=Breakeven", LEVEL2)
    greeks(valuation, f"=NOTE_GREEKS({NOTE_VALUE_ARGS})", "Risk per security (closed form)")
    valuation.section("Setting the cap on the pricing date")
    valuation.field("Target estimated value", 965.0, MONEY, "TargetValue", True)
    valuation.field("Maximum return giving the target", "=NOTE_SOLVE_MAX_RETURN(TargetValue,"
                    + NOTE_VALUE_ARGS.replace("MaxReturn,", "") + ")", PERCENT3)
    valuation.finish(freeze="A4")

    quote_sheet(wb, "note", "Bearish Buffer Securities Linked to the S&P 500® Index", [
        ("Issuer", "=Issuer", None), ("Underlying", "=Underlying", None),
        ("Stated principal amount", "=Principal", MONEY), ("Maturity date", "=PaymentDate", DATE),
        ("Initial underlying value", "=Initial", LEVEL2), ("Participation rate", "=Participation", PERCENT2),
        ("Buffer percentage", "=Buffer", PERCENT2), ("Maximum return at maturity", "=MaxReturn", PERCENT2),
        ("Minimum payment at maturity", "=MinPayment", PERCENT2)],
        ["Underlying return", "Final underlying value", "Payment at maturity", "Total return"],
        [-0.5, -0.3, -0.2, -0.1, -0.05, 0.0, 0.05, 0.1, 0.2, 0.5, 1.0],
        [("=Initial*(1+QuoteChanges)", LEVEL2, "QuoteFinals"),
         (f"=NOTE_PAYMENT(QuoteFinals,Initial,{NOTE_TERMS})", MONEY, "QuotePayments"),
         ("=QuotePayments/Principal-1", PERCENT2, None)])
    conf_sheet(wb)
    return wb


def warrant_table_finals(name: str, lookback: float) -> list:
    """Final values of a supplement table in its printed order, with the upper strike and
    breakeven rows as formulas of the table's cells, so they follow the terms."""
    upper = WARRANT.upper_strike_value(lookback)
    breakeven = warrant_breakeven(WARRANT, lookback, WARRANT_PREMIUM)
    formulas = {upper: f"=UpperStrike*{name}Lookback",
                breakeven: f"=WARRANT_BREAKEVEN(Premium,TablesInitial,{name}Lookback,UpperStrike,LowerStrike,Notional)"}
    return [next((formula for value, formula in formulas.items() if np.isclose(final, value)), float(final))
            for final in supplement_table_finals(WARRANT, lookback, WARRANT_PREMIUM)]


def build_warrant() -> Workbook:
    """The Bearish Put Warrants template."""
    window = (dt.date(2025, 5, 21), dt.date(2025, 6, 20))
    wb, terms = term_sheet("Bearish Put Warrants Linked to the S&P 500® Index Expiring October 10, 2025",
                           "amended and restated pricing supplement No. 2025-USWR0006 of May 28, 2025",
                           "173074TD7", "US173074TD75")
    field_block(terms, [
        ("Notional amount", 1000.0, MONEY, "Notional", True, "per warrant"),
        ("Premium", WARRANT_PREMIUM, PERCENT3, "Premium", True, "per warrant, of the notional amount"),
        ("Pricing date", excel_date(dt.date(2025, 5, 28)), DATE, "PricingDate", True),
        ("Issue date", excel_date(dt.date(2025, 6, 2)), DATE, "IssueDate", True),
        ("Lookback observation period: first day", excel_date(window[0]), DATE, "WindowStart", True),
        ("Lookback observation period: last day", excel_date(window[1]), DATE, "WindowEnd", True),
        ("Expiration date", excel_date(dt.date(2025, 10, 10)), DATE, "Expiration", True,
         "its closing value is the final underlying value"),
        ("Exercise settlement date", excel_date(dt.date(2025, 10, 17)), DATE, "Settlement", True),
        ("Initial underlying value", 5907.55, LEVEL2, "Initial", True),
        ("Upper strike", WARRANT.upper_strike, PERCENT2, "UpperStrike", True, "of the lookback underlying value"),
        ("Lower strike", WARRANT.lower_strike, PERCENT2, "LowerStrike", True, "of the initial underlying value")])
    terms.section("Derived terms")
    field_block(terms, [
        ("Premium per warrant", "=Premium*Notional", MONEY, "PremiumAmount"),
        ("Lookback underlying value", "=IF(COUNT(LookbackCloses)=0,Initial,LOOKBACK_VALUE(LookbackCloses,Initial))",
         LEVEL2, "Lookback", False, "highest close so far (Lookback sheet), never below the initial value"),
        ("Upper strike value", "=UpperStrike*Lookback", LEVEL4, "UpperStrikeValue"),
        ("Lower strike value", "=LowerStrike*Initial", LEVEL4, "LowerStrikeValue"),
        ("Breakeven value", "=WARRANT_BREAKEVEN(Premium,Initial,Lookback,UpperStrike,LowerStrike,Notional)",
         LEVEL4, "Breakeven", False, "the payment upon exercise equals the premium below it"),
        ("Breakeven, % of the lookback value", "=Breakeven/Lookback", PERCENT3)])
    terms.section("Payment upon exercise")
    for line in ("Final below the upper strike value and above the lower strike value: notional x long strike "
                 "differential, (upper strike value - final) / lookback value.",
                 "Final at or below the lower strike value: notional x (long - short strike differential), "
                 "short = (lower strike value - final) / initial value.",
                 "Final at or above the upper strike value: the warrants expire worthless."):
        terms.note(line)
    terms.finish(freeze="A4")

    lookback = Sheet(wb, "Lookback", [30, 18, 50])
    lookback.heading("Lookback Observation Period", "Scheduled NYSE trading days of the window; enter each "
                                                    "close as published and leave a disrupted day blank")
    lookback.field("First day", "=WindowStart", DATE)
    lookback.field("Last day", "=WindowEnd", DATE)
    lookback.headers(["Trading day", "Closing value"])
    days = len(trading_days(*window))
    first = lookback.row
    lookback.array(1, first, days, "=TRADING_DAYS(WindowStart,WindowEnd)", DATE, "LookbackDays")
    lookback.column(2, first, [None] * days, LEVEL2, "LookbackCloses", entry=True)
    lookback.row = first + days + 1
    lookback.field("Closes entered", "=COUNT(LookbackCloses)", WHOLE)
    lookback.field("Lookback underlying value", "=Lookback", LEVEL2, key=True)
    lookback.finish(freeze="A4")

    scenarios = Sheet(wb, "Scenarios", [16, 15, 15, 15, 15, 15, 15, 15], landscape=True)
    scenarios.heading("Scenarios", "Payment upon exercise for hypothetical lookback and final underlying values")
    headers = ["Final underlying value", "Change from lookback value", "Change from initial value",
               "Long strike differential", "Short strike differential", "Payment upon exercise",
               "Payment minus premium", "Total return on the warrants"]
    scenarios.section("Hypothetical tables (as in the supplement; blank where it prints N/A)")
    scenarios.field("Hypothetical initial underlying value", 100.0, LEVEL2, "TablesInitial", True, column=3)
    for number, (table, table_lookback) in enumerate(WARRANT_TABLE_LOOKBACKS.items(), start=1):
        name = f"Table{number}"
        scenarios.field(f"{table}: hypothetical lookback underlying value", table_lookback, LEVEL2,
                        f"{name}Lookback", True, column=3)
        scenarios.headers(headers)
        finals = warrant_table_finals(name, table_lookback)
        first = scenarios.row
        for offset, final in enumerate(finals):
            scenarios.column(1, first + offset, [final], LEVEL3, entry=not isinstance(final, str))
        scenarios.named_range(1, first, len(finals), f"{name}Finals")
        warrant_columns(scenarios, first, len(finals), f"{name}Finals", "TablesInitial", f"{name}Lookback",
                        f"{name}Payments")
        scenarios.row = first + len(finals) + 1
    scenarios.section("Scenario grid (edit the final values; Term Sheet initial and lookback values)")
    scenarios.headers(headers)
    first = scenarios.row
    scenarios.column(1, first, [6500.0 - 125 * i for i in range(SCENARIO_ROWS)], LEVEL2, "ScenarioFinals",
                     entry=True)
    warrant_columns(scenarios, first, SCENARIO_ROWS, "ScenarioFinals", "Initial", "Lookback", "ScenarioPayments")
    scenarios.row = first + SCENARIO_ROWS
    scenarios.finish(freeze="A4")

    payout_sheet(wb, "warrant", "Payment upon exercise against the change from the lookback value")

    valuation = Sheet(wb, "Valuation", [40, 17, 17, 17, 17, 17], landscape=True)
    valuation.heading("Valuation", "Black-Scholes, flat vol, rate and dividend yield; ACT/365F; the lookback's "
                                   "exact distribution while the window is open, closed form after it")
    market_inputs(valuation, 5907.55, dt.date(2025, 5, 28), 0.167, 0.043, 0.013)
    valuation.section("Value per warrant")
    valuation.field("Estimated value (exact)", f"=WARRANT_VALUE({WARRANT_VALUE_ARGS})", MONEY, "EstimatedValue",
                    key=True)
    valuation.cell(valuation.row, 1, "Monte Carlo check: value, standard error")
    valuation.array(2, valuation.row, 1, f"=WARRANT_MC_VALUE({WARRANT_VALUE_ARGS},Paths,Seed)", MONEY, columns=2)
    define(wb, "StdError", valuation.title, f"C{valuation.row}")
    valuation.ws.cell(valuation.row, 3).number_format = LEVEL4
    valuation.row += 1
    valuation.field("Estimated value, % of notional", "=EstimatedValue/Notional", PERCENT3)
    valuation.field("Lookback underlying value so far", "=Lookback", LEVEL2)
    valuation.field("Breakeven value", "=Breakeven", LEVEL2)
    valuation.field("Price to imply a volatility from", 22.80, MONEY, "MarketPrice", True,
                    "the supplement's estimated value on the pricing date")
    valuation.field("Implied volatility", "=WARRANT_IMPLIED_VOL(MarketPrice,"
                    + WARRANT_VALUE_ARGS.replace("Vol,", "") + ")", PERCENT3)
    greeks(valuation, f"=WARRANT_GREEKS({WARRANT_VALUE_ARGS})",
           "Risk per warrant (central differences of the exact value)")
    valuation.finish(freeze="A4")

    quote_sheet(wb, "warrant", "Bearish Put Warrants Linked to the S&P 500® Index", [
        ("Issuer", "=Issuer", None), ("Underlying", "=Underlying", None),
        ("Notional amount", "=Notional", MONEY), ("Premium", "=PremiumAmount", MONEY),
        ("Expiration date", "=Expiration", DATE), ("Initial underlying value", "=Initial", LEVEL2),
        ("Lookback underlying value (so far)", "=Lookback", LEVEL2),
        ("Upper strike value", "=UpperStrikeValue", LEVEL2), ("Lower strike value", "=LowerStrikeValue", LEVEL2)],
        ["Change from the lookback value", "Final underlying value", "Payment upon exercise",
         "Payment minus premium", "Total return"],
        [0.1, 0.0, -0.05, -0.1, -0.15, -0.2, -0.25, -0.3, -0.4, -0.5],
        [("=Lookback*(1+QuoteChanges)", LEVEL2, "QuoteFinals"),
         ("=WARRANT_PAYMENT(QuoteFinals,Initial,Lookback,UpperStrike,LowerStrike,Notional)", MONEY, "QuotePayments"),
         ("=ROUND(QuotePayments-PremiumAmount,10)", MONEY_NEGATIVE, None),
         ("=ROUND((QuotePayments-PremiumAmount)/PremiumAmount,10)", PERCENT2, None)])
    conf_sheet(wb)
    return wb


BUILDERS = {NOTE_FILE: build_note, WARRANT_FILE: build_warrant}


def cached_values(path: Path, titles: list[str]) -> dict[str, dict[str, object]]:
    """Every computed cell of the workbook at `path`, by sheet title and cell."""
    by_upper = {title.upper(): title for title in titles}
    values: dict[str, dict[str, object]] = {}
    for (sheet, ref), value in Calculation(path).calculate().items():
        values.setdefault(by_upper[sheet], {})[ref] = value
    return values


def write_template(wb: Workbook, path: Path) -> Path:
    """Save `wb` at `path` with every formula's value computed and cached, atomically."""
    path = Path(path)
    staging = path.with_name(f".{path.stem}.staging{path.suffix}")
    try:
        wb.calculation.fullCalcOnLoad = False
        wb.save(staging)
        xlsx.rewrite(staging, cached_values(staging, wb.sheetnames))
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
    return path


def build_templates(folder: Path) -> list[Path]:
    """Rebuild every template workbook in `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [write_template(build(), folder / name) for name, build in BUILDERS.items()]
