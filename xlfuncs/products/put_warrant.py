"""Bearish Put Warrants (Citigroup, CUSIP 173074TD7): a put spread on the S&P 500 whose upper
strike is set by a lookback value, the highest close of an observation window.

Payment upon exercise per warrant, with N notional, L the lookback value, F the final value:
N x (long strike differential - short strike differential), each floored at 0, where the long
one is (upper_strike x L - F) / L and the short one (lower_strike x initial - F) / initial.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from .. import valuation
from ..calendar import trading_days
from ..fields import (DEFAULT_AMOUNT, INITIAL, Contract, TermError, amount, date, fraction, in_order, level,
                      require, table)
from ..layout import (GREEK_HEADERS, MODEL_INPUTS, ArrayRow, Calendar, Fields, Layout, Notes, Page, Payout, Row,
                      Scenarios, call, inputs, issue_rows, quote_closing, quote_opening, shown)
from ..market import Market
from ..montecarlo import DEFAULT_SEED, MonteCarlo
from ..product import Function, Product, Quote, change, chosen_columns, final_values

TITLE = "Bearish Put Warrants"
MAX_WINDOW_DAYS = 731  # a lookback window of at most two years
LOOKBACK = level("lookback", "Lookback underlying value: the highest window close, never below the initial value.",
                 "Lookback underlying value")
FIELDS = table(
    INITIAL,
    fraction("upper_strike", "Upper strike as a fraction of the lookback value: 95% is 0.95.", 0, 2, "95% is 0.95",
             "Upper strike", low_open=True),
    fraction("lower_strike", "Lower strike as a fraction of the initial value: 75% is 0.75.", 0, 2, "75% is 0.75",
             "Lower strike", high_open=True),
    amount("notional", "Notional amount per warrant; blank or omitted means 1000.", "Notional amount",
           default=DEFAULT_AMOUNT),
    fraction("premium", "Premium as a fraction of notional: 2.728% is 0.02728.", 0, 2, "2.728% is 0.02728",
             "Premium", low_open=True, unit="percent3"),
    date("window_start", "First day of the lookback observation period.", "Lookback observation period: first day"),
    date("window_end", "Last day of the lookback observation period.", "Lookback observation period: last day"),
    date("expiration", "The warrant's expiration date, when the final underlying value is fixed.", "Expiration date"),
    date("settlement", "The warrant's exercise settlement date, when the payment is made.",
         "Exercise settlement date"),
)


@dataclass(frozen=True)
class PutWarrant(Contract):
    """A Bearish Put Warrant's terms: `upper_strike` is a fraction of the lookback value,
    `lower_strike` of the initial value, `premium` of the notional. The lookback value is never
    below the initial value, so a lower strike below the upper strike (as fractions) keeps the
    strike values in order whatever the lookback turns out to be."""

    FIELDS = FIELDS

    initial: float
    upper_strike: float
    lower_strike: float
    notional: float = DEFAULT_AMOUNT
    premium: float | None = None
    window_start: dt.date | None = None
    window_end: dt.date | None = None
    expiration: dt.date | None = None
    settlement: dt.date | None = None

    def __post_init__(self):
        super().__post_init__()
        require(self.lower_strike < self.upper_strike, "lower_strike",
                f"must be below upper_strike ({self.upper_strike:g})", self.lower_strike)
        dates = [(name, getattr(self, name)) for name in ("window_start", "window_end", "expiration", "settlement")
                 if getattr(self, name) is not None]
        if dates:
            in_order(*dates)
        if self.window_start and self.window_end and (self.window_end - self.window_start).days > MAX_WINDOW_DAYS:
            raise TermError(f"window_end must be at most {MAX_WINDOW_DAYS} days after window_start "
                            f"({self.window_start.isoformat()}), got {self.window_end.isoformat()}")

    @property
    def lower_strike_value(self) -> float:
        return self.lower_strike * self.initial

    def upper_strike_value(self, lookback: float) -> float:
        return self.upper_strike * self.checked_lookback(lookback)

    @property
    def premium_amount(self) -> float:
        """The premium per warrant in money (premium x notional), never rounded away to 0."""
        self.need("premium")
        amount = self.premium * self.notional
        require(amount > 0, "premium", f"x notional ({self.notional:g}) must be greater than 0", self.premium)
        return amount

    def checked_lookback(self, lookback) -> float:
        """`lookback` validated against the rule that it is never below the initial value."""
        lookback = LOOKBACK.check(lookback)
        require(lookback >= self.initial, "lookback", f"must be at least the initial value ({self.initial:g})",
                lookback)
        return lookback

    # The lookback window

    @cached_property
    def window_days(self) -> tuple[dt.date, ...]:
        """Scheduled trading days of the lookback window."""
        self.need("window_start", "window_end")
        days = tuple(trading_days(self.window_start, self.window_end))
        if not days:
            raise TermError(f"the lookback window {self.window_start.isoformat()} to "
                            f"{self.window_end.isoformat()} has no scheduled trading day")
        return days

    def closed_by(self, as_of: dt.date) -> int:
        """How many of the window's trading days have closed by `as_of` (after its close)."""
        return sum(day <= as_of for day in self.window_days)

    def alive_on(self, as_of: dt.date) -> None:
        """A TermError unless `as_of` is no later than expiration."""
        self.need("expiration", "settlement")
        in_order(("as_of", as_of), ("expiration", self.expiration), ("settlement", self.settlement))

    def lookback_so_far(self, market: Market) -> float:
        """The lookback value so far: the highest close observed up to `as_of`, floored at initial.

        The market's `closes` hold one entry per window trading day from the start, None for a
        disrupted day. They must reach every day closed by `as_of`; entries for later days must
        be blank, so one fixed range of the whole window can be passed all along (a range longer
        than the window too, as the templates' 21 rows for a shorter window: blanks past it)."""
        as_of, closes = market.as_of, market.closes
        days, elapsed = self.window_days, self.closed_by(as_of)
        if any(close is not None for close in closes[len(days):]):
            raise TermError(f"closes must have at most {len(days)} entries, one per window trading day, "
                            f"got {len(closes)}")
        closes = closes[:len(days)]
        if len(closes) < elapsed:
            raise TermError(f"closes must have an entry for each of the {elapsed} window trading days from "
                            f"window_start ({days[0].isoformat()}) closed by as_of ({as_of.isoformat()}), "
                            f"got {len(closes)}")
        for day, close in zip(days[elapsed:], closes[elapsed:]):
            if close is not None:
                raise TermError(f"closes must stop at as_of ({as_of.isoformat()}): "
                                f"it has a close for {day.isoformat()}")
        observed = [valuation.near_initial("closes", close, self.initial)
                    for close in closes[:elapsed] if close is not None]
        return lookback_value(observed, self.initial) if observed else self.initial

    # Payments

    def strike_differentials(self, lookback, final) -> tuple[np.ndarray, np.ndarray]:
        """Long and short strike differential percentages as defined, before any exercise test."""
        lookback = self.checked_lookback(lookback)
        final = final_values(final)
        return (self.upper_strike * lookback - final) / lookback, (self.lower_strike_value - final) / self.initial

    def payment(self, lookback, final) -> np.ndarray:
        """Payment upon exercise per warrant: a long put at the upper strike, a short put at the lower."""
        long, short = self.strike_differentials(lookback, final)
        return self.notional * (np.maximum(long, 0) - np.maximum(short, 0))

    def breakeven(self, lookback) -> float:
        """Final underlying value at which the payment upon exercise equals the premium."""
        lookback = self.checked_lookback(lookback)
        self.need("premium")
        most = (self.upper_strike * lookback - self.lower_strike_value) / lookback
        require(self.premium <= most, "premium",
                f"must not exceed the largest payment, upper_strike - lower_strike x initial / lookback = "
                f"{most:g} of notional: no final value pays that much", self.premium)
        return (self.upper_strike - self.premium) * lookback

    def table(self, lookback, finals) -> np.ndarray:
        """Rows with the columns of the supplement's Tables 1 and 2; NaN where it prints N/A.

        Columns: final, change from lookback, change from initial, long strike differential,
        short strike differential, payment, payment minus premium, total return. The last two
        are rounded to 1e-10 (far below a cent), so the breakeven row's floating residue shows
        as $0.00 and 0.00%, not -$0.00."""
        lookback, premium = self.checked_lookback(lookback), self.premium_amount
        finals = final_values(finals).ravel()
        long, short = self.strike_differentials(lookback, finals)
        payment = self.payment(lookback, finals)
        with np.errstate(over="ignore"):
            total = np.round((payment - premium) / premium, 10) + 0.0
        if np.isinf(total).any():
            raise TermError(f"premium x notional ({premium:g}) is too small to give a total return")
        return np.column_stack([
            finals, change(finals, lookback), change(finals, self.initial),
            np.where(finals < self.upper_strike * lookback, long, np.nan),
            np.where(finals <= self.lower_strike_value, short, np.nan),
            payment, np.round(payment - premium, 10) + 0.0, total])


def lookback_value(closes, initial) -> float:
    """Highest close in the lookback window, floored at the initial value; NaN closes are skipped."""
    initial = INITIAL.check(initial)
    closes = np.asarray(closes, dtype=float).ravel()
    closes = closes[~np.isnan(closes)]
    if closes.size == 0:
        raise TermError("closes must hold at least one closing value, got none")
    bad = ~np.isfinite(closes) | (closes <= 0)
    if bad.any():
        raise TermError(f"closes must be finite and greater than 0, got {closes[bad][0]:g}")
    return max(initial, float(closes.max()))


def warrant_quote(warrant: PutWarrant, market: Market) -> Quote:
    return Quote(valuation.warrant_value(warrant, market), valuation.warrant_greeks(warrant, market),
                 warrant.breakeven(warrant.lookback_so_far(market)))


PAYOFF = ("initial", "lookback", "upper_strike", "lower_strike")
VALUATION = ("spot", "as_of", "initial", "upper_strike", "lower_strike", "window_start", "window_end", "expiration",
             "settlement", "vol", "rate", "div_yield", "closes", "notional")


def warrant(v: dict) -> PutWarrant:
    return PutWarrant.of(v)


FUNCTIONS = (
    Function("LOOKBACK_VALUE", "Lookback underlying value: the highest close in the window, never below the "
                               "initial value.", ("closes", "initial"),
             lambda v: lookback_value(v["closes"], v["initial"]),
             fields=(level("closes", "Closes of the lookback window: a range; blank cells (disrupted days) are "
                                     "skipped.", shape="grid"),)),
    Function("WARRANT_PAYMENT", "Payment upon exercise per Bearish Put Warrant for a final underlying value.",
             ("final", *PAYOFF, "notional"), lambda v: warrant(v).payment(v["lookback"], v["final"]), True),
    Function("WARRANT_BREAKEVEN", "Final underlying value at which the warrant's payment upon exercise equals its "
                                  "premium.", ("premium", *PAYOFF, "notional"),
             lambda v: warrant(v).breakeven(v["lookback"])),
    Function("WARRANT_TABLE", "Scenario rows of the warrant with the columns of the supplement's Tables 1 and 2 "
                              "(blank for N/A), or the columns chosen.", ("finals", *PAYOFF, "premium", "notional",
                                                                            "columns"),
             lambda v: chosen_columns(np.atleast_2d(warrant(v).table(v["lookback"], v["finals"])), v["columns"]),
             True),
    Function("WARRANT_VALUE", "Exact value per Bearish Put Warrant on any day of its life (no simulation: the "
                              "lookback's distribution).", VALUATION,
             lambda v: valuation.warrant_value(warrant(v), Market.of(v))),
    Function("WARRANT_MC_VALUE", "Monte Carlo value per Bearish Put Warrant and its standard error, as a 1x2 row: "
                                 "WARRANT_VALUE's check.", (*VALUATION, "paths", "seed"),
             lambda v: np.array([valuation.warrant_mc_value(warrant(v), Market.of(v), MonteCarlo.of(v))[:2]])),
    Function("WARRANT_GREEKS", "Warrant delta (per index point), gamma, vega (per vol point), theta (per day), "
                               "rho (per 1%): 1x5 row.", VALUATION,
             lambda v: np.atleast_2d(valuation.warrant_greeks(warrant(v), Market.of(v)))),
    Function("WARRANT_IMPLIED_VOL", "Flat volatility at which the warrant's exact value equals price (per warrant).",
             ("price", *(name for name in VALUATION if name != "vol")),
             lambda v: valuation.warrant_implied_vol(v["price"], warrant(v), Market.of({**v, "vol": 0.2}))),
)


# The template

SUPPLEMENT = PutWarrant(initial=100.0, upper_strike=0.95, lower_strike=0.75, premium=0.02728)
SUPPLEMENT_TABLES = {"Table 1": 100.0, "Table 2": 102.0}  # hypothetical lookback values
TABLE_GRID = (150, 125, 110, 105, 102, 100, 95, 90, 85, 80, 75, 70, 60, 50, 40, 30, 20, 10, 0)
TABLE_HEADERS = ("Final underlying value", "Change from lookback value", "Change from initial value",
                 "Long strike differential", "Short strike differential", "Payment upon exercise",
                 "Payment minus premium", "Total return on the warrants")
TABLE_COLUMNS = "{2,3,4,5,6,7,8}"  # every column but the final value, which the inputs show
TABLE_UNITS = ("percent3", "percent3", "percent3", "percent3", "money", "money_signed", "percent")


LOOKBACK_WINDOW = Row("Lookback window", '=IF(AsOf<WindowEnd,"open: the highest close so far","closed: final")',
                      twin=lambda w, market: "open: the highest close so far" if market.as_of < w.window_end
                      else "closed: final")


def table_finals(warrant: PutWarrant, lookback: float, cells: dict | None = None) -> list:
    """A supplement table's final values, highest first: its grid plus the upper strike and
    breakeven rows; with `cells`, those two rows are the given formulas, so they follow the terms."""
    cells = cells or {}
    rows = {warrant.upper_strike_value(lookback): cells.get("upper"),
            warrant.breakeven(lookback): cells.get("breakeven")}
    rows.update({float(final): None for final in TABLE_GRID if final not in rows})
    return [formula or final for final, formula in sorted(rows.items(), reverse=True)]


def supplement_table(number: int, lookback: float) -> Scenarios:
    name = f"Table{number}"
    table_call = call(PRODUCT, "TABLE", finals=f"{name}Finals", initial="TablesInitial", lookback=f"{name}Lookback",
                      columns=TABLE_COLUMNS)
    finals = table_finals(SUPPLEMENT, lookback, {
        "upper": f"=UpperStrike*{name}Lookback",
        "breakeven": "=" + call(PRODUCT, "BREAKEVEN", initial="TablesInitial", lookback=f"{name}Lookback")})
    above = (Row(f"Table {number}: lookback value", lookback, "level", f"{name}Lookback",
                 True),)
    if number == 1:
        above = (Row("Hypothetical initial value", SUPPLEMENT.initial, "level", "TablesInitial", True),
                 *above)
    return Scenarios("Hypothetical tables (as in the supplement; blank where it prints N/A)" if number == 1 else None,
                     TABLE_HEADERS, tuple(finals), f"{name}Finals", "level3", table_call, TABLE_UNITS,
                     (None, None, None, None, f"{name}Payments", None, None), rows_above=above)


def layout() -> Layout:
    fields = PRODUCT.fields
    example = PutWarrant(5907.55, 0.95, 0.75, 1000.0, 0.02728, dt.date(2025, 5, 21), dt.date(2025, 6, 20),
                         dt.date(2025, 10, 10), dt.date(2025, 10, 17))
    terms = vars(example)
    lookback = "=IF(COUNT(Closes)=0,Initial,LOOKBACK_VALUE(Closes,Initial))"
    term_sheet = Page("Term Sheet", (38, 38, 62),
                      f"{TITLE} Linked to the S&P 500® Index Expiring October 10, 2025",
                      "Citigroup Global Markets Holdings Inc. · amended and restated pricing supplement No. "
                      "2025-USWR0006 of May 28, 2025 · CUSIP 173074TD7 · blue cells are inputs", (
        Fields("Key terms", (
            *issue_rows("173074TD7 / US173074TD75"),
            *inputs(fields, ("notional", "premium"), terms,
                    {"notional": "per warrant", "premium": "per warrant, of the notional amount"}),
            Row("Pricing date", dt.date(2025, 5, 28), "date", "PricingDate", True),
            Row("Issue date", dt.date(2025, 6, 2), "date", "IssueDate", True),
            *inputs(fields, ("window_start", "window_end", "expiration", "settlement", "initial", "upper_strike",
                             "lower_strike"), terms,
                    {"expiration": "its closing value is the final underlying value",
                     "upper_strike": "of the lookback underlying value",
                     "lower_strike": "of the initial underlying value"}))),
        Fields("Derived terms", (
            Row("Premium per warrant", "=Premium*Notional", "money", "PremiumAmount",
                twin=lambda w, _: w.premium_amount),
            Row("Lookback underlying value", lookback, "level", "Lookback",
                note="highest close so far (Lookback sheet), never below the initial value",
                twin=lambda w, market: w.lookback_so_far(market)),
            Row("Upper strike value", "=UpperStrike*Lookback", "level4", "UpperStrikeValue",
                twin=lambda w, market: w.upper_strike_value(w.lookback_so_far(market))),
            Row("Lower strike value", "=LowerStrike*Initial", "level4", "LowerStrikeValue",
                twin=lambda w, _: w.lower_strike_value),
            Row("Breakeven value", "=" + call(PRODUCT, "BREAKEVEN"), "level4", "Breakeven",
                note="the payment upon exercise equals the premium below it",
                twin=lambda w, market: w.breakeven(w.lookback_so_far(market))),
            Row("Breakeven, % of the lookback value", "=Breakeven/Lookback", "percent3", "BreakevenPercent",
                twin=lambda w, market: w.breakeven(w.lookback_so_far(market)) / w.lookback_so_far(market)))),
        Notes("Payment upon exercise", (
            "Final below the upper strike value and above the lower strike value: notional x long strike "
            "differential, (upper strike value - final) / lookback value.",
            "Final at or below the lower strike value: notional x (long - short strike differential), "
            "short = (lower strike value - final) / initial value.",
            "Final at or above the upper strike value: the warrants expire worthless."))))
    calendar_page = Page("Lookback", (30, 18, 50), "Lookback Observation Period",
                         "Scheduled NYSE trading days of the window; enter each close as published and leave a "
                         "disrupted day blank", (
        Fields(None, (Row("First day", "=WindowStart", "date"), Row("Last day", "=WindowEnd", "date"))),
        Calendar(("Trading day", "Closing value"), "=TRADING_DAYS(WindowStart,WindowEnd)", len(example.window_days),
                 "LookbackDays", "Closes", "level"),
        Fields(None, (Row("Closes entered", "=COUNT(Closes)", "count"),
                      Row("Lookback underlying value", "=Lookback", "level", key=True)))))
    scenario_page = Page("Scenarios", (16, 15, 15, 15, 15, 15, 15, 15), "Scenarios",
                         "Payment upon exercise for hypothetical lookback and final underlying values", (
        *(supplement_table(number, lookback) for number, lookback in enumerate(SUPPLEMENT_TABLES.values(), 1)),
        Scenarios("Scenario grid (edit the final values; Term Sheet initial and lookback values)", TABLE_HEADERS,
                  tuple(6500.0 - 125 * i for i in range(21)), "ScenarioFinals", "level",
                  call(PRODUCT, "TABLE", finals="ScenarioFinals", columns=TABLE_COLUMNS), TABLE_UNITS,
                  (None, None, None, None, "ScenarioPayments", None, None))), landscape=True)
    chart = Payout(tuple(np.round(np.arange(-1.0, 0.5001, 0.01), 2)), "Lookback",
                   "=" + call(PRODUCT, "PAYMENT", final="{prefix}Finals"), "Notional", False,
                   ("Change from the lookback value", "Final underlying value", "Payment upon exercise",
                    "Payment, % of notional"), "The Warrants", "Payment, % of notional", "")
    payout_page = Page("Payout", (16, 16, 16, 16, 16), "Payout Diagram",
                       "Payment upon exercise against the change from the lookback value",
                       (replace(chart, prefix="Payout"),))
    market = dict(spot=5907.55, as_of=dt.date(2025, 5, 28), vol=0.167, rate=0.043, div_yield=0.013, paths=None,
                  seed=DEFAULT_SEED)
    valuation_page = Page("Valuation", (40, 17, 17, 17, 17, 17), "Valuation",
                          "Black-Scholes, flat vol, rate and dividend yield; ACT/365F; the lookback's exact "
                          "distribution while the window is open, closed form after it", (
        Fields("Market inputs", inputs(fields, ("spot", "as_of", "vol", "rate", "div_yield", "paths", "seed"),
                                       market, {"paths": "blank: as many as give a standard error of $0.01 per "
                                                         "$1,000", "seed": "same inputs and seed, same digits"})),
        Fields("Value per warrant", (
            Row("Estimated value (exact)", "=" + call(PRODUCT, "VALUE"), "money", "EstimatedValue", key=True,
                twin=lambda w, market: valuation.warrant_value(w, market)),)),
        ArrayRow("Monte Carlo check: value, standard error", "=" + call(PRODUCT, "MC_VALUE"), ("money", "level4"),
                 (None, "StdError")),
        Fields(None, (
            Row("Estimated value, % of notional", "=EstimatedValue/Notional", "percent3", "EstimatedValuePercent",
                twin=lambda w, market: valuation.warrant_value(w, market) / w.notional),
            Row("Lookback underlying value", "=Lookback", "level"),
            LOOKBACK_WINDOW,
            Row("Breakeven value", "=Breakeven", "level"),
            Row("Price to imply a volatility from", 22.80, "money", "MarketPrice", True,
                "the supplement's estimated value on the pricing date"),
            Row("Implied volatility", "=" + call(PRODUCT, "IMPLIED_VOL", price="MarketPrice"), "percent3"))),
        ArrayRow("Greeks", "=" + call(PRODUCT, "GREEKS"), ("greek",) * 5, headers=GREEK_HEADERS,
                 section="Risk per warrant (central differences of the exact value)")), landscape=True)
    quote_page = Page("Quote", (34, 19, 17, 17, 17), f"{TITLE} Linked to the S&P 500® Index",
                      "Indicative terms and scenario analysis", (
        quote_opening(),
        Fields("Key terms", (
            Row("Issuer", "=Issuer"), Row("Underlying", "=Underlying"), *shown(fields, ("notional",)),
            Row("Premium", "=PremiumAmount", "money"), *shown(fields, ("expiration", "initial")),
            Row("Lookback underlying value", "=Lookback", "level"), LOOKBACK_WINDOW,
            Row("Upper strike value", "=UpperStrikeValue", "level"),
            Row("Lower strike value", "=LowerStrikeValue", "level"))),
        Scenarios("Scenarios at expiration", ("Change from the lookback value", "Final underlying value",
                                              "Payment upon exercise", "Payment minus premium", "Total return"),
                  (0.1, 0.0, -0.05, -0.1, -0.15, -0.2, -0.25, -0.3, -0.4, -0.5), "QuoteChanges", "percent",
                  call(PRODUCT, "TABLE", finals="QuoteFinals", columns="{6,7,8}"), ("money", "money_signed", "percent"),
                  ("QuotePayments", None, None), base="Lookback", finals_name="QuoteFinals"),
        Notes("Payout diagram", ()),
        replace(chart, prefix="QuotePayout"),
        *quote_closing("payment upon exercise equals the premium", "per warrant", MODEL_INPUTS)))
    return Layout(PRODUCT.key, (term_sheet, calendar_page, scenario_page, payout_page, valuation_page,
                                     quote_page))


PRODUCT = Product(
    key="warrant", prefix="WARRANT", title=TITLE, contract=PutWarrant,
    market_fields=("spot", "as_of", "vol", "rate", "div_yield", "closes"), functions=FUNCTIONS,
    extra_fields=(LOOKBACK,), quote=warrant_quote, layout=layout, template="bearish_put_warrant.xlsx")
