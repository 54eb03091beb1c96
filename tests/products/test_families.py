"""What a family gives its members: a member without a Monte Carlo check has none anywhere (no
function, no paths or seed in its deal lists or template) and is still valued and quoted; the
lookback-warrant family's rules in its other direction (calls above the lowest close)."""
import datetime as dt
from dataclasses import dataclass, replace

import pytest
from scipy.optimize import brentq

from xlfuncs.core.fields import TermError
from xlfuncs.core.market import Market
from xlfuncs.products import bearish_note, put_warrant
from xlfuncs.products.buffer_note import note_product
from xlfuncs.products.lookback_warrant import LookbackWarrant, lookback_field, warrant_fields, warrant_product
from xlfuncs.workbooks.builder import build

CITI = dict(issuer="Citigroup Global Markets Holdings Inc.", guarantor="Citigroup Inc.")
NOTE = dict(title=bearish_note.TITLE, breakeven_help="Breakeven.")
WARRANT = dict(title=put_warrant.TITLE, singular="Bearish Put Warrant", lookback_function="LOOKBACK_VALUE")
MEMBERS = [(note_product, bearish_note, NOTE), (warrant_product, put_warrant, WARRANT)]


def member(family_product, module, words, **check):
    return family_product(module.PRODUCT.key, module.PRODUCT.prefix, module.PRODUCT.contract, layout=module.layout,
                          template="plain.xlsx", **words, **CITI, **check)


@pytest.mark.parametrize("family_product, module, words", MEMBERS, ids=["note", "warrant"])
def test_a_member_without_a_monte_carlo_check_has_none_anywhere(family_product, module, words, monkeypatch):
    plain, checked = member(family_product, module, words, monte_carlo=False), member(family_product, module, words)
    mc_value = f"{module.PRODUCT.prefix}_MC_VALUE"
    assert {f.name for f in checked.functions} - {f.name for f in plain.functions} == {mc_value}
    assert plain.settings is None and {"paths", "seed"}.isdisjoint(plain.deal_fields)
    assert {"paths", "seed"} <= set(checked.deal_fields)
    monkeypatch.setattr(module, "PRODUCT", plain)  # the member's layout, rendered for the product without it
    layout = plain.layout()
    named = {row.name for row in layout.rows()}
    assert {"Paths", "Seed"}.isdisjoint(named) and "EstimatedValue" in named
    wb = build(layout)
    texts = [str(getattr(cell.value, "text", cell.value)) for ws in wb.worksheets for row in ws.iter_rows()
             for cell in row if cell.value is not None]
    assert not any(mc_value in text for text in texts) and "StdError" not in wb.defined_names
    assert any(f"{module.PRODUCT.prefix}_VALUE(" in text for text in texts)


def test_a_warrant_without_the_check_is_quoted_as_with_it():
    plain = member(warrant_product, put_warrant, WARRANT, monte_carlo=False)
    market = Market(5907.55, dt.date(2025, 5, 28), 0.167, 0.043, 0.013, (5907.55,) * 5)
    warrant = put_warrant.PutWarrant(5907.55, 0.95, 0.75, 1000.0, 0.02728, dt.date(2025, 5, 21),
                                     dt.date(2025, 6, 20), dt.date(2025, 10, 10), dt.date(2025, 10, 17))
    quoted, with_check = plain.quote(warrant, market), put_warrant.PRODUCT.quote(warrant, market)
    assert quoted.value == with_check.value and quoted.breakeven == with_check.breakeven
    assert list(quoted.greeks) == list(with_check.greeks)


@dataclass(frozen=True)
class CallSpread(LookbackWarrant):
    """The family's other direction: calls above the lowest close (lower strike on the lookback)."""

    FIELDS = warrant_fields(-1, "125% is 1.25", "105% is 1.05")
    LOOKBACK = lookback_field(-1)
    DIRECTION = -1


CALL = CallSpread(5907.55, 1.25, 1.05, 1000.0, 0.03)


@pytest.mark.parametrize("lookback, premium", [(5800.0, 0.03), (5800.0, 0.2), (5800.0, 0.45), (5000.0, 2.0),
                                               (5907.55, 0.15)])
def test_a_call_spread_s_breakeven_pays_its_premium_also_beyond_the_upper_strike(lookback, premium):
    """Below the initial value the lookback leaves more long calls than short ones, so the payment
    keeps rising beyond the upper strike: a premium above the payment there is still reached."""
    call = replace(CALL, premium=premium)
    breakeven = call.breakeven(lookback)
    assert call.payment(lookback, breakeven) == pytest.approx(premium * 1000.0, rel=1e-12)
    truth = brentq(lambda final: float(call.payment(lookback, final)) - premium * 1000.0,
                   1.05 * lookback, 1e7, xtol=1e-9)  # the payment rises with the final value from the lower strike
    assert breakeven == pytest.approx(truth, rel=1e-11)


def test_a_call_spread_on_a_lookback_at_initial_pays_at_most_the_strikes_difference():
    with pytest.raises(TermError, match=r"^premium must not exceed the largest payment, upper_strike x initial / "
                                        r"lookback - lower_strike = 0.2 of notional"):
        replace(CALL, premium=0.21).breakeven(5907.55)
