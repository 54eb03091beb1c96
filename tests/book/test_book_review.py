"""What the attacking review of the book found, each reproduced: trades' cost in the P&L, a
snapshot dated on no trading day, fixings that theta already assumed, vega under an unchanged
smile, stress markets as the Excel functions take them, inputs inside the output folder, empty
positions files, fixing dates that no close can fix, a tampered manifest, an unreachable
cluster, a zero short strike under a smile."""
import datetime as dt
import json
import math

import pytest
from test_book_runs import book, by_row, example_positions, write_positions

from xlfuncs.batch.snapshot import read_snapshot
from xlfuncs.core.market import Market
from xlfuncs.products import BY_KEY
from xlfuncs.products.lookback_warrant import warrant_value

from helpers import command
from test_book import BEFORE, CLOSES, MARKET, POSITIONS, call, excel_range, rows_of, terms


def flat_snapshot(path, as_of, spot, vol=0.2, rate=0.04):
    path.write_text(json.dumps({"as_of": as_of, "spot": spot, "vol": vol, "rate": rate, "div_yield": 0.01}))
    return path


def closes_file(path, rows):
    with open(path, "w", newline="") as handle:
        handle.write("date,close\n" + "".join(f"{day},{close}\n" for day, close in rows))
    return path


def explain_of(out):
    return {row["line"]: row["amount"] for row in rows_of(out / "pnl.csv")}


def test_a_new_position_s_cost_is_in_the_p_and_l_with_cash(tmp_path):
    rows = example_positions()
    result = book(tmp_path / "out", "--flat", "--previous", BEFORE)
    assert result.returncode == 0, result.stderr
    pnl, positions = explain_of(tmp_path / "out"), by_row(tmp_path / "out")
    traded = [(row, positions[number]) for number, row in enumerate(rows, start=2) if row["trade_date"]]
    cost = math.fsum(-float(row["quantity"]) * float(row["trade_price"]) for row, _ in traded)
    assert float(pnl["trade_cash"]) == pytest.approx(cost, rel=1e-15) and len(traded) == 3
    change = float(pnl["current_value"]) - float(pnl["previous_value"])
    assert float(pnl["pnl_with_cash"]) == pytest.approx(change + float(pnl["cash_settled"]) + cost, rel=1e-12)
    # the trades' own P&L: quantity x (value - price), a few thousand, not their whole value
    own = math.fsum(float(p["quantity"]) * (float(p["value"]) - float(row["trade_price"])) for row, p in traded)
    assert float(pnl["new_positions"]) + cost == pytest.approx(own, rel=1e-12) and abs(own) < 5000
    rows[-1] = {**rows[-1], "trade_date": "2025-06-12", "trade_price": ""}
    result = book(tmp_path / "unpriced", "--flat", "--previous", BEFORE,
                  positions=write_positions(tmp_path / "positions.csv", rows))
    pnl = {row["line"]: row for row in rows_of(tmp_path / "unpriced" / "pnl.csv")}
    assert pnl["pnl_with_cash"]["amount"] == ""
    assert "not known: 1 position(s) traded since the previous snapshot have no trade_price" in \
        pnl["pnl_with_cash"]["note"]


def test_a_snapshot_dated_on_no_trading_day_is_refused(tmp_path):
    saturday = flat_snapshot(tmp_path / "saturday.json", "2025-06-14", 5800.0)
    result = book(tmp_path / "out", "--flat", market=saturday)
    assert result.returncode == 2
    assert "--market snapshot's as_of 2025-06-14 is no scheduled trading day" in result.stderr


def test_a_close_where_theta_assumed_it_is_no_fixing(tmp_path):
    """Spot 5100 on both days and every close 5100: the window close of the day is what theta
    assumed, so the fixings line is 0 and theta explains the change."""
    days = [(dt.date(2025, 5, 1) + dt.timedelta(days=n)) for n in range(45)]
    from xlfuncs.core.calendar import trading_days
    history = closes_file(tmp_path / "closes.csv", [(day.isoformat(), 5100) for day in
                                                     trading_days(days[0], dt.date(2025, 6, 13))])
    rows = [row for row in example_positions() if row["deal_id"] in ("W-IN", "W-STARTS-TODAY")]
    rows = [{**row, "initial": "5100", "trade_date": "", "trade_price": ""} for row in rows]
    for row in rows:
        row.update(window_start={"W-IN": "2025-05-30", "W-STARTS-TODAY": "2025-06-13"}[row["deal_id"]])
    result = command("book", write_positions(tmp_path / "positions.csv", rows), "--market",
                     flat_snapshot(tmp_path / "today.json", "2025-06-13", 5100.0), "--previous",
                     flat_snapshot(tmp_path / "before.json", "2025-06-12", 5100.0), "--closes", history, "--out",
                     tmp_path / "out")
    assert result.returncode == 0, result.stderr
    pnl = explain_of(tmp_path / "out")
    assert float(pnl["fixings"]) == 0.0
    change = float(pnl["current_value"]) - float(pnl["previous_value"])
    assert abs(float(pnl["residual"])) < 0.02 * abs(change) and abs(float(pnl["theta"]) - change) < 0.02 * abs(change)


def test_a_smile_left_where_it_was_moves_no_vega(tmp_path):
    """The same surface and curves on both days (quotes by strike and date), the spot 3% lower:
    sticky strike, so the notes' vega line is a sliver of their delta line."""
    snapshot = json.loads(MARKET.read_text())
    (tmp_path / "today.json").write_text(json.dumps({**snapshot, "spot": round(snapshot["spot"] * 0.97, 2)}))
    (tmp_path / "before.json").write_text(json.dumps({**snapshot, "as_of": "2025-06-11"}))
    rows = [row for row in example_positions() if row["deal_id"] in ("N-LIVE-1", "N-LIVE-2")]
    result = book(tmp_path / "out", "--previous", tmp_path / "before.json", market=tmp_path / "today.json",
                  positions=write_positions(tmp_path / "positions.csv", rows))
    assert result.returncode == 0, result.stderr
    pnl = explain_of(tmp_path / "out")
    assert abs(float(pnl["vega"])) < 0.05 * abs(float(pnl["delta"]))


def test_the_stress_moves_the_smile_with_the_spot_as_excel_does_with_the_strikes_scaled(tmp_path):
    """On the surface, the stress cell for a spot move m is NOTE_VALUE at spot x (1 + m) with the
    surface range's strikes scaled by (1 + m): the same smile in moneyness, the same market."""
    rows = [row for row in example_positions() if row["product"] != "warrant" and row["deal_id"].startswith("N-LIVE")]
    result = book(tmp_path / "out", positions=write_positions(tmp_path / "positions.csv", rows))
    assert result.returncode == 0, result.stderr
    snapshot = json.loads(MARKET.read_text())
    stress = {(float(r["spot_move"]), float(r["vol_shift"])): r for r in rows_of(tmp_path / "out" / "stress.csv")}
    values = {row["deal_id"]: float(row["value"]) for row in rows_of(tmp_path / "out" / "positions.csv")}
    for move in (-0.3, 0.1):
        vol = excel_range(snapshot["vol"])
        vol[0] = [None, *(strike * (1 + move) for strike in vol[0][1:])]
        total = []
        for row in rows:
            function = {"note": "NOTE_VALUE", "bullish_note": "BULL_NOTE_VALUE"}[row["product"]]
            moved = call(function, {**terms(row), "spot": snapshot["spot"] * (1 + move), "as_of": 45820, "vol": vol,
                                    "rate": excel_range(snapshot["rate"]), "div_yield": excel_range(snapshot["div_yield"])})
            total.append(float(row["quantity"]) * (moved - values[row["deal_id"]]))
        assert int(stress[(move, 0.0)]["positions_not_valued"]) == 0
        assert float(stress[(move, 0.0)]["value_change"]) == pytest.approx(math.fsum(total), rel=1e-9)


def test_an_input_inside_the_output_folder_is_never_replaced(tmp_path):
    folder = tmp_path / "desk"
    folder.mkdir()
    inside = folder / "positions.csv"
    inside.write_bytes(POSITIONS.read_bytes())
    result = book(folder, "--flat", positions=inside)
    assert result.returncode == 2 and "would be replaced by the book's own positions.csv" in result.stderr
    assert inside.read_bytes() == POSITIONS.read_bytes()


@pytest.mark.parametrize("text, message", [
    ("deal_id,client,product,quantity\n", "holds no position"),
    (None, "has no quantity column"),
])
def test_a_positions_file_with_no_position_stops_the_run(tmp_path, text, message):
    path = tmp_path / "positions.csv"
    if text is None:  # a quote deal list given as positions
        rows = [{k: v for k, v in row.items() if k not in ("quantity", "trade_date", "trade_price")}
                for row in example_positions()]
        write_positions(path, rows)
    else:
        path.write_text(text)
    out = tmp_path / "out"
    assert book(out, "--flat").returncode == 0
    before = (out / "risk.csv").read_bytes()
    result = book(out, "--flat", "--force", positions=path)
    assert result.returncode == 2 and message in result.stderr
    assert (out / "risk.csv").read_bytes() == before


def test_a_final_date_no_close_can_fix_fails_from_the_first_day(tmp_path):
    rows = [row for row in example_positions() if row["deal_id"] == "N-LIVE-1"][:1]
    rows = [{**rows[0], "final_date": "2026-02-28", "payment_date": "2026-03-05"}]  # a Saturday
    result = book(tmp_path / "out", "--flat", positions=write_positions(tmp_path / "positions.csv", rows))
    assert result.returncode == 1
    assert by_row(tmp_path / "out")[2]["message"] == ("final_date 2026-02-28 is no scheduled trading day: no close "
                                                     "can fix the final value on it")


def test_a_manifest_listing_fewer_files_is_not_up_to_date(tmp_path):
    out = tmp_path / "out"
    assert book(out, "--flat").returncode == 0
    manifest = json.loads((out / "book.json").read_text())
    (out / "book.json").write_text(json.dumps({**manifest, "files": {}}))
    for name in ("positions.csv", "risk.csv", "stress.csv", "report.xlsx"):
        (out / name).unlink()
    result = book(out, "--flat")
    assert result.returncode == 0 and "book written" in result.stdout
    assert (out / "positions.csv").is_file()


def test_an_unreachable_cluster_leaves_the_previous_book_alone(tmp_path):
    pytest.importorskip("dask.distributed")
    out = tmp_path / "out"
    assert book(out, "--flat").returncode == 0
    before = (out / "positions.csv").read_bytes()
    result = book(out, "--flat", "--force", "--dask", "tcp://127.0.0.1:9")
    assert result.returncode == 2 and (out / "positions.csv").read_bytes() == before


def test_a_warrant_paying_nothing_on_its_settlement_day_is_paid_today(tmp_path):
    rows = [row for row in example_positions() if row["deal_id"] == "W-PAID-TODAY"][:1]
    rows = [{**rows[0], "upper_strike": "0.5", "lower_strike": "0.4"}]  # far out of the money: pays 0
    result = book(tmp_path / "out", "--flat", positions=write_positions(tmp_path / "positions.csv", rows))
    assert result.returncode == 0, result.stderr
    row = by_row(tmp_path / "out")[2]
    assert (row["status"], float(row["cash_settled"]), row["message"]) == (
        "settled", 0.0, "paid today: its cash left the book")


def test_a_zero_short_strike_under_a_smile_is_valued():
    values = read_snapshot(MARKET)
    market = Market(values["spot"], values["as_of"], values["vol"], values["rate"], values["div_yield"])
    terms = dict(initial=5600.0, upper_strike=0.95, notional=1000.0, premium=0.02728, window_start=dt.date(2025, 7, 1),
                 window_end=dt.date(2025, 7, 3), expiration=dt.date(2025, 9, 26), settlement=dt.date(2025, 10, 3))
    spread = warrant_value(BY_KEY["warrant"].contract.of({**terms, "lower_strike": 0.75}), market)
    long_only = warrant_value(BY_KEY["warrant"].contract.of({**terms, "lower_strike": 0.0}), market)
    assert math.isfinite(long_only) and long_only > spread > 0


def test_the_history_s_own_format_is_named():
    from xlfuncs.batch.deals import DealListError
    from xlfuncs.book.positions import read_history
    with pytest.raises(DealListError, match="the closes history must be a .csv, .xlsx, .yaml, .yml or .json file"):
        read_history(CLOSES.with_suffix(".txt"), [])
