"""Buffer Securities of either direction: what the bearish and the bullish note share.

At maturity a note pays principal plus participation x the underlying's favourable return
(its fall for the bearish note, its rise for the bullish one) up to the maximum return;
principal if the underlying moves against it by no more than the buffer; beyond the buffer,
1:1 loss, floored at the minimum payment. With s = -1 (bearish) or +1 (bullish), the
favourable return is r = s (final - initial) / initial and the payment per security is

    P (1 + min(p r, c))       r > 0
    P                         -b <= r <= 0
    max(P (1 + r + b), m P)   r < -b

Its replication (principal plus options, see legs), every payment discounted at the issuer's
funding rate, values it in closed form (engines/replication.py); a Monte Carlo of the final
value checks it.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import ClassVar

import numpy as np

from ..core.fields import (
    AMOUNT_MIN,
    DEFAULT_AMOUNT,
    INITIAL,
    PAYMENT_MAX,
    PRICE,
    Contract,
    Field,
    TermError,
    amount,
    date,
    fraction,
    in_order,
    require,
    table,
)
from ..core.history import fixing_day
from ..core.market import Market, near_initial
from ..engines import replication
from ..engines.black_scholes import display_greeks
from ..engines.montecarlo import (
    DEFAULT_SEED,
    Estimate,
    MonteCarlo,
    final_value_estimate,
)
from ..engines.solvers import solve_rising
from .layout import (
    GREEK_HEADERS,
    MARKET_NAMES,
    MODEL_INPUTS,
    RATES,
    ArrayRow,
    Fields,
    Layout,
    Notes,
    Page,
    Payout,
    Row,
    Scenarios,
    call,
    excel_text,
    inputs,
    issue_rows,
    market_page,
    quote_closing,
    quote_opening,
    rate_inputs,
    shown,
)
from .product import (
    BEFORE_FIXING,
    FIXED,
    SETTLED,
    Function,
    Life,
    Product,
    Quote,
    Stage,
    change,
    chosen_columns,
    final_values,
)

PAYOFF = ("initial", "participation", "buffer", "max_return", "min_payment", "principal")
VALUATION = ("spot", "as_of", "final_date", "payment_date", "vol", "rate", "div_yield", "funding_spread", *PAYOFF)
MARKET = ("spot", "as_of", "vol", "rate", "div_yield")
PROTECTED = "none (protected)"  # every final value repays the principal
TARGET_VALUE = Field("target_value", "Value per security the maximum return should give, e.g. the estimated value.",
                     "money", AMOUNT_MIN, PAYMENT_MAX, label="Target estimated value")


def note_fields(against: str) -> dict:
    """The note's terms; `against` is the move the buffer absorbs ("rise" or "fall")."""
    return table(
        INITIAL,
        fraction("participation", "Participation rate as a fraction: 300% is 3.", 1e-6, 10, "300% is 3",
                 "Participation rate"),
        fraction("buffer", f"Buffer percentage as a fraction: 10% is 0.1 (a {against} of up to 10% repays the "
                           "principal).", 0, 1, "10% is 0.1", "Buffer percentage", high_open=True),
        fraction("max_return", "Maximum return at maturity as a fraction of principal: 23% is 0.23.", 0, 10,
                 "23% is 0.23", "Maximum return at maturity"),
        fraction("min_payment", "Minimum payment at maturity as a fraction of principal: 10% is 0.1.", 0, 1,
                 "10% is 0.1", "Minimum payment at maturity"),
        amount("principal", "Stated principal amount per security; blank or omitted means 1000.",
               "Stated principal amount", default=DEFAULT_AMOUNT),
        date("final_date", "The note's valuation date, when the final underlying value is fixed.", "Valuation date"),
        date("payment_date", "The note's maturity date, when the payment is made.", "Maturity date"),
        fraction("funding_spread", "Issuer's funding spread over rate: every payment of the note is discounted at "
                                   "rate + spread. 1% is 0.01.",
                 -0.5, 0.5, "1% is 0.01", "Funding spread (issuer's credit)", unit="percent3"),
    )


@dataclass(frozen=True)
class BufferNote(Contract):
    """A buffer note's terms: percent terms are fractions (300% participation is 3.0);
    `max_return` and `min_payment` are fractions of `principal`. DIRECTION is -1 for the
    bearish note, +1 for the bullish; MOST_FAVOURABLE the largest favourable return a final
    value can give (a fall is at most 100%)."""

    DIRECTION: ClassVar[int]
    MOST_FAVOURABLE: ClassVar[float]
    MAXIMUM_RULE: ClassVar[str]  # how the maximum and the lowest payment are found, for messages
    LOWEST_RULE: ClassVar[str]

    initial: float
    participation: float
    buffer: float
    max_return: float
    min_payment: float
    principal: float = DEFAULT_AMOUNT
    final_date: dt.date | None = None
    payment_date: dt.date | None = None
    funding_spread: float | None = None

    def __post_init__(self):
        super().__post_init__()
        if self.final_date is not None and self.payment_date is not None:
            in_order(("final_date", self.final_date), ("payment_date", self.payment_date))

    def favourable_return(self, final):
        return self.DIRECTION * change(final, self.initial)

    @property
    def final_buffer_value(self) -> float:
        """The final underlying value up to which (bearish) or down to which (bullish) the principal is repaid."""
        return self.initial * (1 - self.DIRECTION * self.buffer)

    @property
    def maximum_payment(self) -> float:
        """The largest payment any final value gives: at the cap, or, for a bearish note whose
        participation is too low to reach the cap, at a final value of 0."""
        return self.principal * (1 + min(self.max_return, self.participation * self.MOST_FAVOURABLE))

    @property
    def minimum_payment(self) -> float:
        """The minimum payment at maturity as the term sheet states it: principal x min_payment."""
        return self.principal * self.min_payment

    @property
    def lowest_payment(self) -> float:
        """The smallest payment any final value gives: the minimum payment, or for a bullish note
        whose buffer exceeds it, principal x buffer at a final value of 0."""
        worst = -1.0 if self.DIRECTION > 0 else -math.inf
        return max(self.minimum_payment, self.principal * (1 + worst + self.buffer))

    def payment(self, final) -> np.ndarray:
        """Payment at maturity per security for each final underlying value (NaN stays NaN)."""
        final = final_values(final)
        principal, favourable = self.principal, self.favourable_return(final)
        upside = principal + np.minimum(principal * favourable * self.participation, principal * self.max_return)
        beyond = np.maximum(principal * (1 + favourable + self.buffer), self.minimum_payment)
        return np.where(favourable > 0, upside, np.where(favourable >= -self.buffer, principal, beyond))

    def flat_market(self, market: Market) -> Market:
        """The flat market of the final date and payment date (Market.flattened)."""
        self.need("final_date", "payment_date")
        return market.flattened(market.time_to(self.final_date), market.time_to(self.payment_date))

    def breakeven(self, price) -> float:
        """The final value beyond which the payment falls below `price`: the highest final value
        still paying it for the bearish note, the lowest for the bullish."""
        price = PRICE.check(price)
        require(price <= self.maximum_payment, "price",
                f"must not exceed the maximum payment, {self.MAXIMUM_RULE} = {self.maximum_payment:g}: no final "
                "value pays that much", price)
        require(price > self.lowest_payment, "price",
                f"must be above {self.LOWEST_RULE} = {self.lowest_payment:g}: every final value pays at least that",
                price)
        gain = price / self.principal - 1
        favourable = gain / self.participation if gain > 0 else gain - self.buffer
        return max(0.0, self.initial * (1 + self.DIRECTION * favourable))  # max() only drops rounding

    @property
    def principal_breakeven(self) -> float | None:
        """The breakeven at the issue price (the principal), or None when every final value repays it."""
        return None if self.lowest_payment >= self.principal else self.breakeven(self.principal)

    def table(self, finals) -> np.ndarray:
        """Rows of final, underlying return, payment and total return (fraction of principal)."""
        finals = final_values(finals).ravel()
        payment = self.payment(finals)
        return np.column_stack([finals, change(finals, self.initial), payment, change(payment, self.principal)])

    def legs(self) -> list[tuple[float, bool, float]]:
        """The replication of the payment beyond the principal: (weight, is_call, strike) per option.

        Favourable side (puts for the bearish note, calls for the bullish): long p P/I at the
        initial value, short p P/I at the cap strike I (1 + s c/p). Adverse side: short P/I at
        the final buffer value, long P/I at the floor strike I (1 - s (1 + b - m)). A strike at
        or below 0 is never reached and has no leg."""
        s, principal, initial = self.DIRECTION, self.principal, self.initial
        favourable_call, units = s > 0, self.participation * principal / initial
        legs = [(units, favourable_call, initial)]
        cap = initial * (1 + s * self.max_return / self.participation)
        if cap > 0:
            legs.append((-units, favourable_call, cap))
        legs.append((-principal / initial, not favourable_call, self.final_buffer_value))
        floor = initial * (1 - s * (1 + self.buffer - self.min_payment))
        if floor > 0:
            legs.append((principal / initial, not favourable_call, floor))
        return legs

    @property
    def cap_out_of_reach(self) -> float:
        """The maximum return from which a higher one changes no payment (bounded by its rule)."""
        return min(self.FIELDS["max_return"].high, self.participation * self.MOST_FAVOURABLE)

# Valuation: the replication in closed form, a Monte Carlo of the final value, the cap solver

FORWARD_RANGE = 1e6  # a note's forward within this factor of its initial value


def note_times(note: BufferNote, market: Market) -> tuple[float, float]:
    """Years to the note's fixing and payment, with the dates checked to be in order."""
    note.need("final_date", "payment_date", "funding_spread")
    in_order(("as_of", market.as_of), ("final_date", note.final_date), ("payment_date", note.payment_date))
    return market.time_to(note.final_date), market.time_to(note.payment_date)


def valued_note(note: BufferNote, market: Market) -> None:
    """A TermError unless the note can be valued accurately in `market`: spot near the initial
    value, and the forward too (options far in the money are worth about the forward each, and
    their differences would lose the value to rounding)."""
    near_initial("spot", market.spot, note.initial)
    t_fix = note_times(note, market)[0]
    forward = market.spot * np.exp(min(float(market.log_growth(t_fix)), 700.0))
    if not note.initial / FORWARD_RANGE <= forward <= note.initial * FORWARD_RANGE:
        raise TermError(f"div_yield must keep the forward to final_date within a factor of {FORWARD_RANGE:g} of "
                        f"initial ({note.initial:g}): with these rate and div_yield it is {forward:.4g}")


def note_value(note: BufferNote, market: Market) -> float:
    """Closed-form value per security: the principal plus the option legs of the replication,
    all discounted at rate + funding_spread, held between the present values of the lowest and
    the largest payment."""
    valued_note(note, market)
    return replication.value(note.principal, note.legs(), note.final_date, note.payment_date, market,
                             note.funding_spread, note.lowest_payment, note.maximum_payment)


def note_values_at(note: BufferNote, market: Market, spots) -> np.ndarray:
    """note_value in the market moved to each of `spots` (Market.moved: a stress grid's moves);
    without a smile, the replication valued once for all."""
    if market.smile:
        return np.array([note_value(note, market.moved(float(spot))) for spot in spots])
    valued_note(note, market)
    for spot in spots:
        near_initial("spot", spot, note.initial)
    return replication.value(note.principal, note.legs(), note.final_date, note.payment_date, market,
                             note.funding_spread, note.lowest_payment, note.maximum_payment, spots)


def note_greeks(note: BufferNote, market: Market) -> np.ndarray:
    """Delta, gamma, vega, theta, rho of the note per security (display units, see display_greeks)."""
    valued_note(note, market)
    return display_greeks(replication.greeks_per_unit(note.principal, note.legs(), note.final_date,
                                                      note.payment_date, market, note.funding_spread))


@lru_cache(maxsize=1024)
def note_mc_value(note: BufferNote, market: Market, settings: MonteCarlo | None = None) -> Estimate:
    """Monte Carlo value of the note: the principal plus the simulated payment beyond it, all
    discounted at rate + funding_spread, with the discounted final underlying value as control
    variate. Once the final value is fixed (as_of on or after final_date) the payment is known:
    the closed form, no error."""
    valued_note(note, market)
    t_fix, t_pay = note_times(note, market)
    if t_fix <= 0:
        return Estimate(note_value(note, market), 0.0, 0)
    largest = max(note.maximum_payment - note.principal, note.principal - note.lowest_payment)
    return final_value_estimate(note.payment, note.principal, market, t_fix,
                                replication.discount(market, note.funding_spread, t_pay), settings or MonteCarlo(),
                                largest)


def solve_max_return(target_value, note: BufferNote, market: Market) -> float:
    """The maximum return at which the note's closed-form value equals `target_value`."""
    out_of_reach = note.cap_out_of_reach
    reach = "cap out of reach" if out_of_reach < note.FIELDS["max_return"].high else f"max_return {out_of_reach:g}"
    return solve_rising(target_value, lambda cap: note_value(replace(note, max_return=cap), market), "max_return",
                        "maximum return", out_of_reach,
                        ("no upside", reach, "the final values the model gives do not reach a cap there"),
                        1e-9 * note.principal)


def note_stage(note: BufferNote, as_of: dt.date, history, since: dt.date) -> Stage:
    """The note's stage on `as_of`: before its final date, its final value fixed by the
    history's close of the final date (payment known), or settled on the payment date."""
    note.need("final_date", "payment_date", "funding_spread")
    fixing_day(note.final_date, "final_date")
    dates = dict(fixing=note.final_date, paid=note.payment_date)
    if as_of < note.final_date:
        return Stage(BEFORE_FIXING, (), None, **dates)
    status = SETTLED if as_of >= note.payment_date else FIXED
    earlier = status == SETTLED and note.payment_date <= since  # paid before this day: no cash now
    if earlier and not history.covers(note.final_date):
        return Stage(status, (), None, **dates)
    payment = float(note.payment(history.fixing(note.final_date, "final date")))
    return Stage(status, (), None if earlier else payment, **dates)


def note_paid_value(note: BufferNote, payment: float, market: Market) -> float:
    """A fixed payment's value: discounted to the payment date at rate + funding_spread."""
    return payment * float(replication.discount(market, note.funding_spread, market.time_to(note.payment_date)))


NOTE_LIFE = Life(note_stage, note_value, note_values_at, note_greeks, note_paid_value)


def note_quote(note: BufferNote, market: Market) -> Quote:
    return Quote(note_value(note, market), note_greeks(note, market), note.principal_breakeven)


def note_functions(prefix: str, cls: type, title: str, breakeven_help: str,
                   monte_carlo: bool = True) -> tuple[Function, ...]:
    """The Excel functions of a buffer note: payment, breakeven, table, value, Monte Carlo value
    (with `monte_carlo`), greeks and the cap solver."""
    def note(v):
        return cls.of(v)

    def mc_row(estimate):
        return np.array([[estimate.value, estimate.stderr]])

    functions = (
        Function(f"{prefix}_PAYMENT", f"Payment at maturity per security of the {title} for a final underlying "
                                      "value.", ("final", *PAYOFF), lambda v: note(v).payment(v["final"]), True),
        Function(f"{prefix}_BREAKEVEN", breakeven_help, ("price", *PAYOFF),
                 lambda v: note(v).breakeven(v["price"])),
        Function(f"{prefix}_TABLE", f"Scenario rows of the {title}: final value, underlying return, payment, "
                                    "total return (or the columns chosen).", ("finals", *PAYOFF, "columns"),
                 lambda v: chosen_columns(np.atleast_2d(note(v).table(v["finals"])), v["columns"]), True),
        Function(f"{prefix}_VALUE", f"Closed-form value per security of the {title} (principal plus puts and calls, "
                                    "discounted at rate + funding_spread).",
                 VALUATION, lambda v: note_value(note(v), Market.of(v))),
        Function(f"{prefix}_MC_VALUE", f"Monte Carlo value per security of the {title} and its standard error, "
                                       "as a 1x2 row.", (*VALUATION, "paths", "seed"),
                 lambda v: mc_row(note_mc_value(note(v), Market.of(v), MonteCarlo.of(v)))),
        Function(f"{prefix}_GREEKS", "Note delta (per index point), gamma, vega (per vol point), theta (per day), "
                                     "rho (per 1%): 1x5 row.", VALUATION,
                 lambda v: np.atleast_2d(note_greeks(note(v), Market.of(v)))),
        Function(f"{prefix}_SOLVE_MAX_RETURN", "Maximum return (fraction of principal) at which the note's value "
                                               "equals target_value.",
                 ("target_value", *(name for name in VALUATION if name != "max_return")),
                 lambda v: solve_max_return(v["target_value"], note({**v, "max_return": 0.0}),
                                                      Market.of(v))),
    )
    return tuple(function for function in functions if monte_carlo or function.name != f"{prefix}_MC_VALUE")


# The template

NOTE_MODEL_INPUTS = (MODEL_INPUTS[0],
                     Row("Rates", RATES + '&", funding spread "&TEXT(FundingSpread,"0.00%")',
                         twin=lambda note, market: f"{rate_inputs(note, market)}, funding spread "
                                                   f"{excel_text(note.funding_spread, 2, True)}"))  # a note's rates show its funding spread too

# What both notes' templates start from: the bearish supplement's dates, a hypothetical initial
# value of 100 with its scenario grid, the market on the pricing date and a target value.
DATES = {"Pricing date": ("PricingDate", dt.date(2023, 11, 29)), "Issue date": ("IssueDate", dt.date(2023, 12, 4))}
EXAMPLE_INITIAL = 100.0
GRID = tuple(50.0 + 5 * i for i in range(21))
EXAMPLE_MARKET = dict(spot=100.0, as_of=dt.date(2023, 11, 29), vol=0.15, rate=0.053, div_yield=0.015, paths=None,
                      seed=DEFAULT_SEED)
TARGET = 965.0


def note_layout(product, *, heading: str, subtitle: str, cusip_isin: str, example: BufferNote, notes: dict,
                examples: dict, payment_lines: tuple) -> Layout:
    """A buffer note's template: Term Sheet, Scenarios, Payout, Valuation and Quote."""
    fields, terms = product.fields, vars(example)
    value = call(product, "VALUE")
    simulated = product.settings is not None  # a Monte Carlo check, with its paths and seed
    market_names = (*MARKET, "funding_spread", *(("paths", "seed") if simulated else ()))
    derived = (
        Row("Final buffer value", f"=Initial*(1{'-' if example.DIRECTION > 0 else '+'}Buffer)", "level",
            "FinalBufferValue", twin=lambda note, _: note.final_buffer_value),
        Row("Maximum payment at maturity", "=Principal*(1+MaxReturn)" if example.MOST_FAVOURABLE == math.inf
            else "=Principal*(1+MIN(MaxReturn,Participation))", "money", "MaximumPayment",
            twin=lambda note, _: note.maximum_payment),
        Row("Minimum payment at maturity", "=Principal*MinPayment", "money", "MinimumPayment",
            twin=lambda note, _: note.minimum_payment),
        Row("Breakeven final value", f'=IF(AND(ISNUMBER(MinPayment),MinPayment=1),"{PROTECTED}",'
            + call(product, "BREAKEVEN", price="Principal") + ")", "level", "Breakeven",
            note=("lowest" if example.DIRECTION > 0 else "highest") + " final value that still repays the stated "
                 "principal amount", twin=lambda note, _: note.principal_breakeven or PROTECTED),
    )
    example_table = call(product, "TABLE", finals="ExampleFinals", initial="ExampleInitial", columns="{2,3,4}")
    scenario_headers = ("Final underlying value", "Underlying return", "Payment at maturity", "Total return")
    term_sheet = Page("Term Sheet", (38, 38, 62), heading, subtitle, (
        Fields("Key terms", (*issue_rows(product, cusip_isin), *inputs(fields, ("principal",), terms, notes),
                             *(Row(label, day, "date", name, True) for label, (name, day) in DATES.items()),
                             *inputs(fields, ("final_date", "payment_date", "initial", "participation", "buffer",
                                              "max_return", "min_payment"), terms, notes))),
        Fields("Derived terms", derived),
        Notes("Payment at maturity", payment_lines)))
    scenario_page = Page("Scenarios", (34, 16, 16, 18, 16), "Scenarios",
                         "Payment at maturity for hypothetical final underlying values", (
        Scenarios("Hypothetical examples (as in the supplement)", ("Example", *scenario_headers),
                  tuple(examples.values()), "ExampleFinals", "level", example_table, ("percent", "money", "percent"),
                  (None, "ExamplePayments", None), tuple(examples),
                  first_column=2, rows_above=(
                      Row("Hypothetical initial underlying value", EXAMPLE_INITIAL, "level", "ExampleInitial", True),
                      Row("Hypothetical final buffer value",
                          f"=ExampleInitial*(1{'-' if example.DIRECTION > 0 else '+'}Buffer)", "level"))),
        Scenarios("Scenario grid (edit the final values)", ("", *scenario_headers), GRID, "ScenarioFinals", "level",
                  call(product, "TABLE", finals="ScenarioFinals", columns="{2,3,4}"), ("percent", "money", "percent"),
                  (None, "ScenarioPayments", None), first_column=2)))
    chart = Payout(tuple(np.round(np.arange(-1.0, 1.5001, 0.01), 2)), "Initial",
                   "=" + call(product, "PAYMENT", final="{prefix}Finals"), "Principal", True,
                   ("Underlying return", "Final underlying value", "Payment at maturity", "Return on the securities"),
                   "The Securities", "Return on the securities", "")
    payout_page = Page("Payout", (16, 16, 16, 16, 16), "Payout Diagram",
                       "Return at maturity against the underlying return; the maximum return at its Term Sheet "
                       "value", (replace(chart, prefix="Payout"),))
    on_market = dict(vol=MARKET_NAMES["vol"], rate=MARKET_NAMES["rate"], div_yield=MARKET_NAMES["div_yield"])
    valuation_page = Page("Valuation", (40, 17, 17, 17, 17, 17), "Valuation",
                          "Black-Scholes off the Market sheet (each option at its strike's vol) and at the flat "
                          "inputs below; ACT/365F; payments discounted at rate + funding spread", (
        Fields("Market inputs", inputs(fields, market_names, {**EXAMPLE_MARKET, **terms}, {
            "funding_spread": "the issuer's funding rate is rate + spread",
            "paths": "blank: as many as give a standard error of $0.01 per $1,000",
            "seed": "same inputs and seed, same digits"})),
        Fields("Value per security", (
            Row("Estimated value (Market sheet)", "=" + call(product, "VALUE", **on_market), "money",
                "EstimatedValue", key=True, twin=lambda note, market: note_value(note, market)),
            Row("Estimated value, % of principal", "=EstimatedValue/Principal", "percent", "EstimatedValuePercent",
                twin=lambda note, market: note_value(note, market) / note.principal),
            Row("Flat value (the inputs above)", "=" + value, "money", "FlatValue",
                twin=lambda note, market: note_value(note, note.flat_market(market))))),
        *([ArrayRow("Monte Carlo check of the flat value: value, error", "=" + call(product, "MC_VALUE"),
                    ("money", "level4"), (None, "StdError"))] if simulated else []),
        Fields(None, (Row("Breakeven final value", "=Breakeven", "level"),)),
        ArrayRow("Greeks", "=" + call(product, "GREEKS", **on_market), ("greek",) * 5, headers=GREEK_HEADERS,
                 section="Risk per security off the Market sheet (closed form; sticky strike)"),
        Fields("Setting the cap on the pricing date", (
            Row("Target estimated value", TARGET, "money", "TargetValue", True),
            Row("Maximum return giving the target (Market sheet)", "=" + call(product, "SOLVE_MAX_RETURN", **on_market),
                "percent3")))))
    quote_changes = (-0.5, -0.3, -0.2, -0.1, -0.05, 0.0, 0.05, 0.1, 0.2, 0.5, 1.0)
    quote_page = Page("Quote", (34, 19, 17, 17, 17), product.title + " Linked to the S&P 500® Index",
                      "Indicative terms and scenario analysis", (
        quote_opening(),
        Fields("Key terms", (Row("Issuer", "=Issuer"), Row("Underlying", "=Underlying"),
                             *shown(fields, ("principal", "payment_date", "initial", "participation", "buffer",
                                             "max_return", "min_payment")))),
        Scenarios("Scenarios at maturity", ("Underlying return", "Final underlying value", "Payment at maturity",
                                            "Total return"), quote_changes, "QuoteChanges", "percent",
                  call(product, "TABLE", finals="QuoteFinals", columns="{3,4}"), ("money", "percent"),
                  ("QuotePayments", None), base="Initial", finals_name="QuoteFinals"),
        Notes("Payout diagram", ()),
        replace(chart, prefix="QuotePayout"),
        *quote_closing("at the issue price", "per security", NOTE_MODEL_INPUTS)))
    return Layout(product.key, (term_sheet, scenario_page, payout_page, valuation_page, quote_page,
                                market_page(EXAMPLE_MARKET["as_of"].isoformat(), EXAMPLE_MARKET["spot"])))


def note_product(key: str, prefix: str, cls: type, *, title: str, breakeven_help: str, layout, template: str,
                 issuer: str, guarantor: str, monte_carlo: bool = True) -> Product:
    """A buffer note's Product: the family's functions, quote and fields; `monte_carlo` gives it
    the Monte Carlo check (PREFIX_MC_VALUE, and paths and seed in its deal lists and template)."""
    return Product(key=key, prefix=prefix, title=title, contract=cls, market_fields=MARKET,
                   functions=note_functions(prefix, cls, title, breakeven_help, monte_carlo),
                   extra_fields=(TARGET_VALUE,), quote=note_quote, layout=layout, issuer=issuer, guarantor=guarantor,
                   template=template, life=NOTE_LIFE, settings=MonteCarlo if monte_carlo else None)
