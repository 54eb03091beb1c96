"""`xlfuncs book`: every position's value held against its Excel function called with the same
inputs (the snapshot's ranges, the window's closes from the history), fixed payments against
their discounting done by hand, the stress grid against revaluations by the Excel functions,
the risk totals against sums of the positions, and the explain's identity."""
import csv
import datetime as dt
import json
import math

import pytest

import udfs
from xlfuncs.core.market import Market

from example_book import PREVIOUS, TODAY, closes
from helpers import ROOT, arguments, command, serial

EXAMPLE = ROOT / "examples" / "book"
POSITIONS, CLOSES = EXAMPLE / "positions.csv", EXAMPLE / "closes.csv"
MARKET, BEFORE = EXAMPLE / f"market-{TODAY.isoformat()}.json", EXAMPLE / f"market-{PREVIOUS.isoformat()}.json"
FUNCTION = {"warrant": "WARRANT_VALUE", "note": "NOTE_VALUE", "bullish_note": "BULL_NOTE_VALUE"}
PAYMENT = {"warrant": "WARRANT_PAYMENT", "note": "NOTE_PAYMENT", "bullish_note": "BULL_NOTE_PAYMENT"}
DATES = ("final_date", "payment_date", "window_start", "window_end", "expiration", "settlement")


def rows_of(path):
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def excel_range(rows):
    """A snapshot range as Excel hands it over: ISO dates as serials."""
    return [[serial(cell) if isinstance(cell, str) and cell[:2] == "20" else cell for cell in row] for row in rows]


def call(function: str, values: dict):
    cells = arguments(function, values)
    [[result]] = getattr(udfs, function)(*cells.values())
    return result


def terms(position: dict) -> dict:
    """A position's terms as Excel cells (numbers, date serials)."""
    values = {}
    for name, value in position.items():
        if name in ("deal_id", "client", "product", "quantity", "trade_date", "trade_price") or value == "":
            continue
        values[name] = serial(value) if name in DATES else float(value)
    return values


def window_closes(position: dict, as_of: dt.date) -> list:
    """The window's closes up to as_of from the history, blank for a disrupted day: a range of cells."""
    from xlfuncs.core.calendar import trading_days
    history = closes()
    start, end = (dt.date.fromisoformat(position[name]) for name in ("window_start", "window_end"))
    return [[history[day]] for day in trading_days(start, min(end, as_of))]


def excel_value(position: dict, snapshot: dict, market_cells: dict) -> float:
    """The position's value per security from its Excel function, with `market_cells` for vol, rate and div_yield."""
    values = {**terms(position), "spot": snapshot["spot"], "as_of": serial(snapshot["as_of"]), **market_cells}
    if position["product"] == "warrant":
        values["closes"] = window_closes(position, dt.date.fromisoformat(snapshot["as_of"])) or [[None]]
    return call(FUNCTION[position["product"]], values)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book") / "out"
    result = command("book", POSITIONS, "--market", MARKET, "--previous", BEFORE, "--closes", CLOSES, "--out", out,
                 "--flat", "--jobs", 2)
    assert result.returncode == 0, result.stderr
    return out


def flat_cells(position: dict, snapshot: dict) -> dict:
    """The flat inputs --flat values a deal with: Market.flattened of the snapshot to its fixing and payment."""
    from xlfuncs.batch.snapshot import read_snapshot
    values = read_snapshot(MARKET if snapshot["as_of"] == TODAY.isoformat() else BEFORE)
    market = Market(values["spot"], values["as_of"], values["vol"], values["rate"], values["div_yield"])
    fixing, paid = (("final_date", "payment_date") if position["product"] != "warrant"
                    else ("expiration", "settlement"))
    flat = market.flattened(market.time_to(dt.date.fromisoformat(position[fixing])),
                            market.time_to(dt.date.fromisoformat(position[paid])))
    return {"vol": flat.vol, "rate": flat.rate, "div_yield": flat.div_yield}


def test_every_live_position_is_worth_its_excel_function_on_the_same_flat_inputs(book):
    snapshot = json.loads(MARKET.read_text())
    positions = rows_of(POSITIONS)
    checked = 0
    for row, position in zip(rows_of(book / "positions.csv"), positions):
        assert row["deal_id"] == position["deal_id"]
        if row["status"] in ("final fixed", "settled"):
            continue
        expected = excel_value(position, snapshot, flat_cells(position, snapshot))
        assert float(row["value"]) == pytest.approx(expected, rel=1e-12, abs=1e-12), row["deal_id"]
        assert float(row["market_value"]) == pytest.approx(expected * float(position["quantity"]), rel=1e-12)
        checked += 1
    assert checked == 112  # 4 live notes x 16 positions, 4 live warrants x 12


def test_fixed_payments_are_discounted_by_hand_and_settled_ones_leave_the_book_as_cash(book):
    snapshot, history = json.loads(MARKET.read_text()), closes()
    seen = set()
    for row, position in zip(rows_of(book / "positions.csv"), rows_of(POSITIONS)):
        if row["status"] not in ("final fixed", "settled"):
            continue
        seen.add(position["deal_id"])
        product = position["product"]
        fixing, paid = (("final_date", "payment_date") if product != "warrant" else ("expiration", "settlement"))
        final = history[dt.date.fromisoformat(position[fixing])]
        values = {**terms(position), "final": final}
        if product == "warrant":
            lookback = max([c[0] for c in window_closes(position, TODAY) if c[0] is not None] + [values["initial"]])
            values["lookback"] = lookback
        payment = call(PAYMENT[product], values)
        days = (dt.date.fromisoformat(position[paid]) - TODAY).days
        if row["status"] == "settled":
            assert float(row["value"]) == 0.0
            paid_today = TODAY >= dt.date.fromisoformat(position[paid]) > PREVIOUS
            assert float(row["cash_settled"]) == pytest.approx(payment * float(position["quantity"]) * paid_today,
                                                               rel=1e-12)
            continue
        cells = flat_cells(position, snapshot)
        spread = float(position["funding_spread"]) if product != "warrant" else 0.0
        expected = payment * math.exp(-(cells["rate"] + spread) * days / 365)
        assert float(row["value"]) == pytest.approx(expected, rel=1e-12), row["deal_id"]
    assert {"N-FIX-TODAY", "N-FIXED", "N-PAID-TODAY", "N-PAID", "W-FIXED", "W-PAID-TODAY", "W-PAID"} <= seen


def test_a_final_value_fixed_today_is_the_excel_value_on_the_fixing_day_at_that_close(book):
    """On its final date a note's value from NOTE_VALUE at spot = the final close equals the
    book's fixed payment discounted: the two stages meet."""
    snapshot = json.loads(MARKET.read_text())
    for row, position in zip(rows_of(book / "positions.csv"), rows_of(POSITIONS)):
        if position["deal_id"] == "N-FIX-TODAY":
            expected = excel_value(position, snapshot, flat_cells(position, snapshot))
            assert float(row["value"]) == pytest.approx(expected, rel=1e-13)
            return
    pytest.fail("no N-FIX-TODAY position")


def test_risk_totals_are_the_sums_of_the_positions(book):
    positions = [row for row in rows_of(book / "positions.csv") if row["status"] != "failed"]
    risk = {row["scope"]: row for row in rows_of(book / "risk.csv")}
    spot = json.loads(MARKET.read_text())["spot"]
    for name in ("market_value", "delta", "gamma", "vega", "theta", "rho", "delta_dollars", "cash_settled"):
        assert float(risk["book"][name]) == pytest.approx(math.fsum(float(row[name]) for row in positions),
                                                          rel=1e-12, abs=1e-9)
        by_product = math.fsum(float(risk[key][name]) for key in ("note", "warrant", "bullish_note"))
        assert float(risk["book"][name]) == pytest.approx(by_product, rel=1e-12, abs=1e-9)
    buckets = [name for name in risk["book"] if name.startswith("vega_")]
    assert math.fsum(float(risk["book"][name]) for name in buckets) == pytest.approx(float(risk["book"]["vega"]),
                                                                                    rel=1e-12)
    assert float(risk["book"]["delta_dollars"]) == pytest.approx(float(risk["book"]["delta"]) * spot, rel=1e-12)


def test_the_explain_adds_up_and_names_every_line(book):
    pnl = {row["line"]: row for row in rows_of(book / "pnl.csv")}
    lines = ("delta", "gamma", "vega", "theta", "rho", "fixings", "life_cycle", "new_positions", "residual")
    total = float(pnl["previous_value"]["amount"]) + math.fsum(float(pnl[line]["amount"]) for line in lines)
    assert total == pytest.approx(float(pnl["current_value"]["amount"]), rel=1e-13)
    risk = {row["scope"]: row for row in rows_of(book / "risk.csv")}
    assert float(pnl["current_value"]["amount"]) == pytest.approx(float(risk["book"]["market_value"]), rel=1e-13)
    assert float(pnl["cash_settled"]["amount"]) == pytest.approx(float(risk["book"]["cash_settled"]), rel=1e-13)
    assert int(pnl["new_positions"]["positions"]) == 3  # the three traded today
    # W-STARTS-TODAY's first close and W-IN's new one are today's, at today's spot, as delta has them
    assert float(pnl["fixings"]["amount"]) == 0.0
    explained = math.fsum(abs(float(pnl[line]["amount"])) for line in ("delta", "vega", "theta", "rho"))
    assert abs(float(pnl["residual"]["amount"])) < 0.2 * explained


def test_the_stress_grid_is_the_book_revalued_by_the_excel_functions(book):
    """Three cells of the grid recomputed position by position: each deal's Excel value at the
    moved spot and shifted flat vol, less its value, times quantity."""
    snapshot = json.loads(MARKET.read_text())
    stress = {(float(row["spot_move"]), float(row["vol_shift"])): row for row in rows_of(book / "stress.csv")}
    positions = list(zip(rows_of(book / "positions.csv"), rows_of(POSITIONS)))
    for move, shift in ((-0.3, -0.1), (0.05, 0.0), (0.3, 0.1)):
        total = []
        for row, position in positions:
            if row["status"] in ("final fixed", "settled"):
                continue
            cells = flat_cells(position, snapshot)
            moved = excel_value(position, {**snapshot, "spot": snapshot["spot"] * (1 + move)},
                                {**cells, "vol": cells["vol"] + shift})
            total.append(float(position["quantity"]) * (moved - float(row["value"])))
        cell = stress[(move, shift)]
        assert int(cell["positions_not_valued"]) == 0
        assert float(cell["value_change"]) == pytest.approx(math.fsum(total), rel=1e-10)
    assert float(stress[(0.0, 0.0)]["value_change"]) == 0.0
