"""Lookback warrants: what every put or call spread whose long strike is set by a lookback shares.

The lookback value L is a close of an observation window: the highest, floored at the initial
value, for a put spread (DIRECTION +1); the lowest, capped at the initial value, for a call
spread (DIRECTION -1). With s = -1 for puts and +1 for calls, F the final value, the payment
upon exercise per warrant of notional N is N x (long - short strike differential), each floored
at 0: the long one s (F - k_L L) / L with k_L the lookback strike (a fraction of L), the short
one s (F - k_I initial) / initial with k_I the initial strike. A put spread's lookback strike
is its upper strike, a call spread's its lower strike.

Window logic, observation of closes, payment, breakeven, tables, the engines (exact and Monte
Carlo, engines/lookback.py; finite differences under a smile's local vol, engines/local_vol.py),
the Excel functions and the template are written once here; a
product is its terms' help, its direction and its template's words.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import ClassVar

import numpy as np

from ..core.calendar import trading_days
from ..core.fields import (
    DEFAULT_AMOUNT,
    INITIAL,
    Contract,
    Field,
    TermError,
    amount,
    date,
    finite,
    fraction,
    in_order,
    level,
    require,
    table,
)
from ..core.history import fixing_day
from ..core.market import FIELDS as MARKET_FIELDS
from ..core.market import Market, near_initial
from ..core.surface import Surface
from ..engines import local_vol, lookback
from ..engines.lookback import LookbackSpread
from ..engines.montecarlo import DEFAULT_SEED, Estimate, MonteCarlo
from ..engines.solvers import bumped_greeks, implied_input
from .layout import (
    GREEK_HEADERS,
    MARKET_NAMES,
    MODEL_INPUTS,
    ArrayRow,
    Calendar,
    Fields,
    Layout,
    Notes,
    Page,
    Payout,
    Row,
    Scenarios,
    call,
    inputs,
    issue_rows,
    market_page,
    quote_closing,
    quote_opening,
    shown,
)
from .product import (
    BEFORE_WINDOW,
    FIXED,
    IN_WINDOW,
    SETTLED,
    WINDOW_CLOSED,
    Function,
    Life,
    Product,
    Quote,
    Stage,
    change,
    chosen_columns,
    final_values,
)

MAX_WINDOW_DAYS = 731  # a lookback window of at most two years
ONE_DAY = dt.timedelta(days=1)
MARKET = ("spot", "as_of", "vol", "rate", "div_yield", "closes")


def extreme(direction: int) -> str:
    return "highest" if direction > 0 else "lowest"


def lookback_field(direction: int) -> Field:
    bound = "below" if direction > 0 else "above"
    return level("lookback", f"Lookback underlying value: the {extreme(direction)} window close, never {bound} the "
                             "initial value.", "Lookback underlying value")


def warrant_fields(direction: int, upper_example: str, lower_example: str) -> dict:
    """The terms of a lookback warrant; the strike on the lookback is the upper one for a put
    spread (`direction` +1), the lower one for a call spread. Examples read "95% is 0.95"."""
    upper_of, lower_of = ("lookback", "initial") if direction > 0 else ("initial", "lookback")
    return table(
        INITIAL,
        fraction("upper_strike", f"Upper strike as a fraction of the {upper_of} value: {upper_example}.", 0, 2,
                 upper_example, "Upper strike", low_open=True),
        fraction("lower_strike", f"Lower strike as a fraction of the {lower_of} value: {lower_example}.", 0, 2,
                 lower_example, "Lower strike", high_open=True),
        amount("notional", "Notional amount per warrant; blank or omitted means 1000.", "Notional amount",
               default=DEFAULT_AMOUNT),
        fraction("premium", "Premium as a fraction of notional: 2.728% is 0.02728.", 0, 2, "2.728% is 0.02728",
                 "Premium", low_open=True, unit="percent3"),
        date("window_start", "First day of the lookback observation period.", "Lookback observation period: first day"),
        date("window_end", "Last day of the lookback observation period.", "Lookback observation period: last day"),
        date("expiration", "The warrant's expiration date, when the final underlying value is fixed.",
             "Expiration date"),
        date("settlement", "The warrant's exercise settlement date, when the payment is made.",
             "Exercise settlement date"),
    )


@dataclass(frozen=True)
class LookbackWarrant(Contract):
    """A lookback warrant's terms: one strike is a fraction of the lookback value, the other of
    the initial value, `premium` a fraction of the notional. DIRECTION is +1 (puts below the
    highest close, never below initial) or -1 (calls above the lowest close, never above
    initial), so a lower strike below the upper strike (as fractions) keeps the strike values in
    order whatever the lookback turns out to be."""

    DIRECTION: ClassVar[int]
    LOOKBACK: ClassVar[Field]

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

    # The strikes

    @property
    def sign(self) -> float:
        """-1 for puts, +1 for calls: a strike differential is sign x (final - strike) / reference."""
        return -float(self.DIRECTION)

    @property
    def lookback_strike(self) -> float:
        """The strike as a fraction of the lookback value (the upper one of a put spread)."""
        return self.upper_strike if self.DIRECTION > 0 else self.lower_strike

    @property
    def initial_strike(self) -> float:
        """The strike as a fraction of the initial value (the lower one of a put spread)."""
        return self.lower_strike if self.DIRECTION > 0 else self.upper_strike

    @property
    def initial_strike_value(self) -> float:
        return self.initial_strike * self.initial

    def lookback_strike_value(self, lookback: float) -> float:
        return self.lookback_strike * self.checked_lookback(lookback)

    @property
    def premium_amount(self) -> float:
        """The premium per warrant in money (premium x notional), never rounded away to 0."""
        self.need("premium")
        amount = self.premium * self.notional
        require(amount > 0, "premium", f"x notional ({self.notional:g}) must be greater than 0", self.premium)
        return amount

    def checked_lookback(self, lookback) -> float:
        """`lookback` validated against the rule that it is never below (puts) or above (calls)
        the initial value."""
        lookback = self.LOOKBACK.check(lookback)
        if self.DIRECTION > 0:
            require(lookback >= self.initial, "lookback", f"must be at least the initial value ({self.initial:g})",
                    lookback)
        else:
            require(lookback <= self.initial, "lookback", f"must be at most the initial value ({self.initial:g})",
                    lookback)
        return lookback

    @cached_property
    def spread(self) -> LookbackSpread:
        """What the engines price."""
        return LookbackSpread(self.DIRECTION, self.notional, self.initial, self.lookback_strike, self.initial_strike)

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

    def flat_market(self, market: Market) -> Market:
        """The flat market of expiration and settlement (Market.flattened)."""
        self.need("expiration", "settlement")
        return market.flattened(market.time_to(self.expiration), market.time_to(self.settlement))

    def alive_on(self, as_of: dt.date) -> None:
        """A TermError unless `as_of` is no later than expiration."""
        self.need("expiration", "settlement")
        in_order(("as_of", as_of), ("expiration", self.expiration), ("settlement", self.settlement))

    def lookback_so_far(self, market: Market) -> float:
        """The lookback value so far: the extreme close observed up to `as_of`, bounded by initial.

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
        return self.lookback_of([near_initial("closes", close, self.initial) for close in closes[:elapsed]
                                 if close is not None])

    def lookback_of(self, closes) -> float:
        """The lookback value of the window closes observed (None: disrupted): the initial value
        while none is."""
        observed = [close for close in closes if close is not None]
        return lookback_value(observed, self.initial, self.DIRECTION) if observed else self.initial

    # Payments

    def strike_differentials(self, lookback, final) -> tuple[np.ndarray, np.ndarray]:
        """Long and short strike differential percentages as defined, before any exercise test."""
        lookback = self.checked_lookback(lookback)
        final = final_values(final)
        return (self.sign * (final - self.lookback_strike * lookback) / lookback,
                self.sign * (final - self.initial_strike_value) / self.initial)

    def payment(self, lookback, final) -> np.ndarray:
        """Payment upon exercise per warrant: a long option at the lookback strike, a short one at the initial strike."""
        long, short = self.strike_differentials(lookback, final)
        return self.notional * (np.maximum(long, 0) - np.maximum(short, 0))

    def breakeven(self, lookback) -> float:
        """Final underlying value at which the payment upon exercise equals the premium."""
        lookback = self.checked_lookback(lookback)
        self.need("premium")
        # the payment (of notional) where the short leg starts: the most a put spread pays
        at_short = self.sign * (self.initial_strike_value - self.lookback_strike * lookback) / lookback
        if self.premium <= at_short:
            return (self.lookback_strike + self.sign * self.premium) * lookback
        if self.DIRECTION < 0 and lookback < self.initial:
            # beyond the upper strike a call spread on a lookback below initial still gains
            # 1/lookback - 1/initial of notional per point of the final value
            return self.initial_strike_value + (self.premium - at_short) * lookback * self.initial / (
                self.initial - lookback)  # 1/lookback - 1/initial, without cancelling
        rule = ("upper_strike - lower_strike x initial / lookback" if self.DIRECTION > 0
                else "upper_strike x initial / lookback - lower_strike")
        raise TermError(f"premium must not exceed the largest payment, {rule} = {at_short:g} of notional: no final "
                        f"value pays that much, got {self.premium:g}")

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
            np.where(self.sign * (finals - self.lookback_strike * lookback) > 0, long, np.nan),
            np.where(self.sign * (finals - self.initial_strike_value) >= 0, short, np.nan),
            payment, np.round(payment - premium, 10) + 0.0, total])


def lookback_value(closes, initial, direction: int = 1) -> float:
    """The highest close in the lookback window floored at the initial value (`direction` +1),
    or the lowest capped at it (-1); NaN closes are skipped."""
    initial = INITIAL.check(initial)
    closes = np.asarray(closes, dtype=float).ravel()
    closes = closes[~np.isnan(closes)]
    if closes.size == 0:
        raise TermError("closes must hold at least one closing value, got none")
    bad = ~np.isfinite(closes) | (closes <= 0)
    if bad.any():
        raise TermError(f"closes must be finite and greater than 0, got {closes[bad][0]:g}")
    return max(initial, float(closes.max())) if direction > 0 else min(initial, float(closes.min()))


# Valuation: the engines (exact, or local-vol finite differences under a smile), the Monte Carlo check, greeks, solvers

def window_times(warrant: LookbackWarrant, market: Market) -> np.ndarray:
    """The window's trading days after as_of, in years from as_of."""
    return np.array([market.time_to(day) for day in warrant.window_days if day > market.as_of])


def warrant_value(warrant: LookbackWarrant, market: Market) -> float:
    """Value per warrant on any day of its life, without simulation (engine_value)."""
    near_initial("spot", market.spot, warrant.initial)
    return engine_value(warrant, market)


def engine_args(warrant: LookbackWarrant, market: Market) -> tuple:
    """What the engines take: the spread, the lookback so far, the market, the window days left
    and the years to expiration and settlement."""
    return (warrant.spread, warrant.lookback_so_far(market), market, window_times(warrant, market),
            market.time_to(warrant.expiration), market.time_to(warrant.settlement))


@lru_cache(maxsize=1024)
def engine_value(warrant: LookbackWarrant, market: Market, grid: local_vol.Grid | None = None) -> float:
    """warrant_value for a market the caller has checked, or moved by a greek's bump: exact where
    the vol has no smile (engines/lookback.py), finite differences under a smile's local vol
    (engines/local_vol.py) on `grid`, or the grid this market sets."""
    warrant.alive_on(market.as_of)
    if market.smile:
        return local_vol.value(*engine_args(warrant, market), grid)
    return lookback.exact_value(*engine_args(warrant, market))


def warrant_values_at(warrant: LookbackWarrant, market: Market, spots) -> np.ndarray:
    """warrant_value in the market moved to each of `spots` (Market.moved: a stress grid's
    moves): the exact engine carries them together; under a smile each is valued on its own."""
    for spot in spots:
        near_initial("spot", spot, warrant.initial)
    warrant.alive_on(market.as_of)
    if market.smile:
        return np.array([engine_value(warrant, market.moved(float(spot))) for spot in spots])
    return lookback.exact_value(*engine_args(warrant, market), spots=spots)


def grid_of(warrant: LookbackWarrant, market: Market) -> local_vol.Grid | None:
    """The local-vol engine's grid for this market, kept for values of markets moved from it
    (greeks, solvers) so their differences are smooth; None without a smile or a window day left."""
    args = engine_args(warrant, market)
    if not market.smile or not len(args[3]):
        return None
    return local_vol.grid_for(*args[:-1])


@lru_cache(maxsize=1024)
def warrant_mc_value(warrant: LookbackWarrant, market: Market, settings: MonteCarlo | None = None) -> Estimate:
    """Monte Carlo value per warrant with its standard error (engines/lookback.py, mc_value)."""
    warrant.alive_on(market.as_of)
    near_initial("spot", market.spot, warrant.initial)
    return lookback.mc_value(*engine_args(warrant, market), settings or MonteCarlo())


def roll_forward(warrant: LookbackWarrant, market: Market) -> Market:
    """The market one calendar day later with the spot unchanged (for theta); a window trading
    day passed on the way closes at the spot. Never past expiration."""
    as_of = min(market.as_of + ONE_DAY, warrant.expiration)
    elapsed = warrant.closed_by(market.as_of)
    newly = warrant.closed_by(as_of) - elapsed
    return market.bumped(as_of=as_of, closes=tuple(market.closes[:elapsed]) + (market.spot,) * newly)


def warrant_greeks(warrant: LookbackWarrant, market: Market) -> np.ndarray:
    """Delta (per index point), gamma, vega (per vol point), theta (per calendar day: the change
    to the next day, spot unchanged), rho (per 1% of rate): central differences of the engine's
    value (exact, or under a smile on one grid for every bump)."""
    base = warrant_value(warrant, market)
    grid = grid_of(warrant, market)
    if market.as_of < warrant.expiration:
        theta = engine_value(warrant, roll_forward(warrant, market), grid) - base
    else:  # the payment is fixed: only its discounting to settlement is left
        theta = base * np.expm1(market.short_rate(market.rate) * min(1, (warrant.settlement - market.as_of).days) / 365)
    return bumped_greeks(lambda moved: engine_value(warrant, moved, grid), market, base, theta)


def warrant_implied_vol(price: float, warrant: LookbackWarrant, market: Market) -> float:
    """The flat vol at which the warrant's exact value equals `price` (engines/solvers.py,
    implied_input: a spread's value need not be monotone in vol)."""
    price = finite("price", price)
    warrant_value(warrant, market)  # the user's inputs are checked once

    @lru_cache(maxsize=None)
    def value(vol):
        return engine_value(warrant, market.bumped(vol=vol))

    return implied_input(price, value, MARKET_FIELDS["vol"].low, MARKET_FIELDS["vol"].high, 1e-9 * warrant.notional)


def warrant_surface_shift(price: float, warrant: LookbackWarrant, market: Market) -> float:
    """The parallel shift of every vol of the market (a surface's, or a flat vol) at which the
    warrant's value equals `price`: how a disclosed value reads against a desk's surface."""
    price = finite("price", price)
    warrant_value(warrant, market)  # the user's inputs are checked once
    lowest, highest = market.vol.vol_range if isinstance(market.vol, Surface) else (market.vol, market.vol)
    field = MARKET_FIELDS["vol"]

    @lru_cache(maxsize=None)
    def value(level):  # the shifted surface's lowest vol
        return engine_value(warrant, market.shifted(vol=level - lowest))

    low = field.low
    if not valued(value, low):  # shifted that far down, total variance would fall with time somewhere
        good, bad = lowest, low
        for _ in range(50):
            middle = (good + bad) / 2
            good, bad = (middle, bad) if valued(value, middle) else (good, middle)
        low = good
    level = implied_input(price, value, low, field.high - (highest - lowest), 1e-9 * warrant.notional,
                          name="lowest vol of the shifted surface")
    return level - lowest


def valued(value, level: float) -> bool:
    """Whether the shifted surface gives a value (forward vols stay above the least the engine takes)."""
    try:
        value(level)
    except TermError:
        return False
    return True


def warrant_stage(warrant: LookbackWarrant, as_of: dt.date, history, since: dt.date) -> Stage:
    """The warrant's stage on `as_of`: before, in or after its lookback window (the closes so far
    from the history), its final value fixed by the history's close of expiration (payment
    known), or settled on the settlement date."""
    warrant.need("expiration", "settlement")
    fixing_day(warrant.expiration, "expiration")
    elapsed = warrant.closed_by(as_of)
    dates = dict(fixing=warrant.expiration, paid=warrant.settlement, days=warrant.window_days[:elapsed])
    earlier = as_of >= warrant.settlement and warrant.settlement <= since  # paid before this day: no cash now
    if earlier and not (history.covers(warrant.window_start) and history.covers(warrant.expiration)):
        return Stage(SETTLED, (), None, **{**dates, "days": ()})
    closes = history.window(warrant.window_days[:elapsed], "the lookback window's") if elapsed else ()
    if as_of >= warrant.expiration:
        payment = float(warrant.payment(warrant.lookback_of(closes), history.fixing(warrant.expiration,
                                                                                   "expiration date")))
        return Stage(SETTLED if as_of >= warrant.settlement else FIXED, closes, None if earlier else payment,
                     **dates)
    status = BEFORE_WINDOW if not elapsed else IN_WINDOW if elapsed < len(warrant.window_days) else WINDOW_CLOSED
    return Stage(status, closes, None, **dates)


def warrant_paid_value(warrant: LookbackWarrant, payment: float, market: Market) -> float:
    """A fixed payment's value: discounted to settlement at the rate."""
    return payment * float(market.discount(market.time_to(warrant.settlement)))


WARRANT_LIFE = Life(warrant_stage, warrant_value, warrant_values_at, warrant_greeks, warrant_paid_value)


def warrant_quote(warrant: LookbackWarrant, market: Market) -> Quote:
    return Quote(warrant_value(warrant, market), warrant_greeks(warrant, market),
                 warrant.breakeven(warrant.lookback_so_far(market)))


# The Excel functions

PAYOFF = ("initial", "lookback", "upper_strike", "lower_strike")
VALUATION = ("spot", "as_of", "initial", "upper_strike", "lower_strike", "window_start", "window_end", "expiration",
             "settlement", "vol", "rate", "div_yield", "closes", "notional")


def warrant_functions(prefix: str, cls: type, singular: str, lookback_function: str,
                      monte_carlo: bool = True) -> tuple[Function, ...]:
    """The Excel functions of a lookback warrant: the lookback value, payment, breakeven, table,
    exact value, Monte Carlo value (with `monte_carlo`), greeks and implied vol."""
    def warrant(v):
        return cls.of(v)

    closes = level("closes", "Closes of the lookback window: a range; blank cells (disrupted days) are skipped.",
                   shape="grid")
    bound = "below" if cls.DIRECTION > 0 else "above"
    functions = (
        Function(lookback_function, f"Lookback underlying value: the {extreme(cls.DIRECTION)} close in the window, "
                                    f"never {bound} the initial value.", ("closes", "initial"),
                 lambda v: lookback_value(v["closes"], v["initial"], cls.DIRECTION), fields=(closes,)),
        Function(f"{prefix}_PAYMENT", f"Payment upon exercise per {singular} for a final underlying value.",
                 ("final", *PAYOFF, "notional"), lambda v: warrant(v).payment(v["lookback"], v["final"]), True),
        Function(f"{prefix}_BREAKEVEN", "Final underlying value at which the warrant's payment upon exercise equals "
                                        "its premium.", ("premium", *PAYOFF, "notional"),
                 lambda v: warrant(v).breakeven(v["lookback"])),
        Function(f"{prefix}_TABLE", "Scenario rows of the warrant with the columns of the supplement's Tables 1 and 2 "
                                    "(blank for N/A), or the columns chosen.",
                 ("finals", *PAYOFF, "premium", "notional", "columns"),
                 lambda v: chosen_columns(np.atleast_2d(warrant(v).table(v["lookback"], v["finals"])), v["columns"]),
                 True),
        Function(f"{prefix}_VALUE", f"Value per {singular} on any day of its life, no simulation: exact for a flat "
                                    "vol or a term structure (the lookback's distribution), finite differences in "
                                    "the local vol under a smile.", VALUATION,
                 lambda v: warrant_value(warrant(v), Market.of(v))),
        Function(f"{prefix}_MC_VALUE", f"Monte Carlo value per {singular} and its standard error, as a 1x2 row: "
                                       f"{prefix}_VALUE's check.", (*VALUATION, "paths", "seed"),
                 lambda v: np.array([warrant_mc_value(warrant(v), Market.of(v), MonteCarlo.of(v))[:2]])),
        Function(f"{prefix}_GREEKS", "Warrant delta (per index point), gamma, vega (per vol point), theta (per day), "
                                     "rho (per 1%): 1x5 row; sticky strike under a surface.", VALUATION,
                 lambda v: np.atleast_2d(warrant_greeks(warrant(v), Market.of(v)))),
        Function(f"{prefix}_SURFACE_SHIFT", "Parallel shift of every vol of the surface (or of a flat vol) at which "
                                            "the warrant's value equals price: 0.01 is one vol point up.",
                 ("price", *VALUATION), lambda v: warrant_surface_shift(v["price"], warrant(v), Market.of(v))),
        Function(f"{prefix}_IMPLIED_VOL", "Flat volatility at which the warrant's exact value equals price (per "
                                          "warrant).", ("price", *(name for name in VALUATION if name != "vol")),
                 lambda v: warrant_implied_vol(v["price"], warrant(v), Market.of({**v, "vol": 0.2}))),
    )
    return tuple(function for function in functions if monte_carlo or function.name != f"{prefix}_MC_VALUE")


# The template

TABLE_HEADERS = ("Final underlying value", "Change from lookback value", "Change from initial value",
                 "Long strike differential", "Short strike differential", "Payment upon exercise",
                 "Payment minus premium", "Total return on the warrants")
TABLE_COLUMNS = "{2,3,4,5,6,7,8}"  # every column but the final value, which the inputs show
TABLE_UNITS = ("percent3", "percent3", "percent3", "percent3", "money", "money_signed", "percent")


def warrant_layout(product, *, heading: str, subtitle: str, cusip_isin: str, example: LookbackWarrant,
                   dates: dict, notes: dict, payment_lines: tuple, tables: tuple = (), grid: tuple,
                   market: dict, implied_from: tuple[float, str], quote_changes: tuple,
                   chart_changes: tuple) -> Layout:
    """A lookback warrant's template: Term Sheet, Lookback, Scenarios, Payout, Valuation and Quote.
    `dates`: label -> (defined name, date) after the key terms; `tables`: scenario blocks shown
    before the grid of final values `grid`; `implied_from`: the price to imply a vol from, and
    its note; `quote_changes`, `chart_changes`: changes from the lookback value."""
    d, fields, terms = example.DIRECTION, product.fields, vars(example)
    simulated = product.settings is not None  # a Monte Carlo check, with its paths and seed
    lookback = f"=IF(COUNT(Closes)=0,Initial,{product.functions[0].name}(Closes,Initial))"
    so_far = f"{extreme(d)} close so far"
    window = Row("Lookback window", f'=IF(AsOf<WindowEnd,"open: the {so_far}","closed: final")',
                 twin=lambda w, market: f"open: the {so_far}" if market.as_of < w.window_end else "closed: final")
    strike_rows = {
        "UpperStrike": Row("Upper strike value", f"=UpperStrike*{'Lookback' if d > 0 else 'Initial'}", "level4",
                           "UpperStrikeValue", twin=lambda w, market: (
                               w.lookback_strike_value(w.lookback_so_far(market)) if d > 0
                               else w.initial_strike_value)),
        "LowerStrike": Row("Lower strike value", f"=LowerStrike*{'Initial' if d > 0 else 'Lookback'}", "level4",
                           "LowerStrikeValue", twin=lambda w, market: (
                               w.initial_strike_value if d > 0
                               else w.lookback_strike_value(w.lookback_so_far(market))))}
    term_sheet = Page("Term Sheet", (38, 38, 62), heading, subtitle, (
        Fields("Key terms", (
            *issue_rows(product, cusip_isin),
            *inputs(fields, ("notional", "premium"), terms,
                    {"notional": "per warrant", "premium": "per warrant, of the notional amount"}),
            *(Row(label, day, "date", name, True) for label, (name, day) in dates.items()),
            *inputs(fields, ("window_start", "window_end", "expiration", "settlement", "initial", "upper_strike",
                             "lower_strike"), terms, notes))),
        Fields("Derived terms", (
            Row("Premium per warrant", "=Premium*Notional", "money", "PremiumAmount",
                twin=lambda w, _: w.premium_amount),
            Row("Lookback underlying value", lookback, "level", "Lookback",
                note=f"{so_far} (Lookback sheet), never {'below' if d > 0 else 'above'} the initial value",
                twin=lambda w, market: w.lookback_so_far(market)),
            strike_rows["UpperStrike"], strike_rows["LowerStrike"],
            Row("Breakeven value", "=" + call(product, "BREAKEVEN"), "level4", "Breakeven",
                note=f"the payment upon exercise equals the premium {'below' if d > 0 else 'above'} it",
                twin=lambda w, market: w.breakeven(w.lookback_so_far(market))),
            Row("Breakeven, % of the lookback value", "=Breakeven/Lookback", "percent3", "BreakevenPercent",
                twin=lambda w, market: w.breakeven(w.lookback_so_far(market)) / w.lookback_so_far(market)))),
        Notes("Payment upon exercise", payment_lines)))
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
        *tables,
        Scenarios("Scenario grid (edit the final values; Term Sheet initial and lookback values)", TABLE_HEADERS,
                  grid, "ScenarioFinals", "level", call(product, "TABLE", finals="ScenarioFinals", columns=TABLE_COLUMNS),
                  TABLE_UNITS, (None, None, None, None, "ScenarioPayments", None, None))), landscape=True)
    chart = Payout(chart_changes, "Lookback", "=" + call(product, "PAYMENT", final="{prefix}Finals"), "Notional", False,
                   ("Change from the lookback value", "Final underlying value", "Payment upon exercise",
                    "Payment, % of notional"), "The Warrants", "Payment, % of notional", "")
    payout_page = Page("Payout", (16, 16, 16, 16, 16), "Payout Diagram",
                       "Payment upon exercise against the change from the lookback value",
                       (replace(chart, prefix="Payout"),))
    price, price_note = implied_from
    on_market = dict(vol=MARKET_NAMES["vol"], rate=MARKET_NAMES["rate"], div_yield=MARKET_NAMES["div_yield"])
    valuation_page = Page("Valuation", (40, 17, 17, 17, 17, 17), "Valuation",
                          "Off the Market sheet (local-vol finite differences under a smile, else the lookback's "
                          "exact distribution) and at the flat inputs below; ACT/365F", (
        Fields("Market inputs", inputs(fields, ("spot", "as_of", "vol", "rate", "div_yield",
                                                *(("paths", "seed") if simulated else ())),
                                       {**market, "paths": None, "seed": DEFAULT_SEED},
                                       {"paths": "blank: as many as give a standard error of $0.01 per $1,000",
                                        "seed": "same inputs and seed, same digits"})),
        Fields("Value per warrant", (
            Row("Estimated value (Market sheet)", "=" + call(product, "VALUE", **on_market), "money", "EstimatedValue",
                key=True, twin=lambda w, market: warrant_value(w, market)),
            Row("Flat value (the inputs above)", "=" + call(product, "VALUE"), "money", "FlatValue",
                twin=lambda w, market: warrant_value(w, w.flat_market(market))))),
        *([ArrayRow("Monte Carlo check of the flat value: value, error", "=" + call(product, "MC_VALUE"),
                    ("money", "level4"), (None, "StdError"))] if simulated else []),
        Fields(None, (
            Row("Estimated value, % of notional", "=EstimatedValue/Notional", "percent3", "EstimatedValuePercent",
                twin=lambda w, market: warrant_value(w, market) / w.notional),
            Row("Lookback underlying value", "=Lookback", "level"),
            window,
            Row("Breakeven value", "=Breakeven", "level"),
            Row("Price to imply a volatility from", price, "money", "MarketPrice", True, price_note),
            Row("Implied volatility", "=" + call(product, "IMPLIED_VOL", price="MarketPrice"), "percent3"))),
        ArrayRow("Greeks", "=" + call(product, "GREEKS", **on_market), ("greek",) * 5, headers=GREEK_HEADERS,
                 section="Risk per warrant off the Market sheet (central differences; sticky strike)")),
        landscape=True)
    quote_page = Page("Quote", (34, 19, 17, 17, 17), f"{product.title} Linked to the S&P 500® Index",
                      "Indicative terms and scenario analysis", (
        quote_opening(),
        Fields("Key terms", (
            Row("Issuer", "=Issuer"), Row("Underlying", "=Underlying"), *shown(fields, ("notional",)),
            Row("Premium", "=PremiumAmount", "money"), *shown(fields, ("expiration", "initial")),
            Row("Lookback underlying value", "=Lookback", "level"), window,
            Row("Upper strike value", "=UpperStrikeValue", "level"),
            Row("Lower strike value", "=LowerStrikeValue", "level"))),
        Scenarios("Scenarios at expiration", ("Change from the lookback value", "Final underlying value",
                                              "Payment upon exercise", "Payment minus premium", "Total return"),
                  quote_changes, "QuoteChanges", "percent",
                  call(product, "TABLE", finals="QuoteFinals", columns="{6,7,8}"), ("money", "money_signed", "percent"),
                  ("QuotePayments", None, None), base="Lookback", finals_name="QuoteFinals"),
        Notes("Payout diagram", ()),
        replace(chart, prefix="QuotePayout"),
        *quote_closing("payment upon exercise equals the premium", "per warrant", MODEL_INPUTS)))
    return Layout(product.key, (term_sheet, calendar_page, scenario_page, payout_page, valuation_page, quote_page,
                                market_page(market["as_of"].isoformat(), market["spot"])))


def warrant_product(key: str, prefix: str, cls: type, *, title: str, singular: str, lookback_function: str, layout,
                    template: str, issuer: str, guarantor: str, monte_carlo: bool = True) -> Product:
    """A lookback warrant's Product: the family's functions, quote and fields; `monte_carlo` gives
    it the Monte Carlo check (PREFIX_MC_VALUE, and paths and seed in its deal lists and template)."""
    return Product(key=key, prefix=prefix, title=title, contract=cls, market_fields=MARKET,
                   functions=warrant_functions(prefix, cls, singular, lookback_function, monte_carlo),
                   extra_fields=(cls.LOOKBACK,), quote=warrant_quote, layout=layout, issuer=issuer,
                   guarantor=guarantor, template=template, life=WARRANT_LIFE,
                   settings=MonteCarlo if monte_carlo else None)
