"""The book's tables from its positions and their deals' marks: positions, risk, the P&L explain
and the stress grid. Every total is an exact sum (math.fsum) over positions in row order, so a
book gives the same digits however its deals were partitioned or where they were valued.
"""
from __future__ import annotations

import datetime as dt
import math

import numpy as np

from ..products import PRODUCTS
from ..products.product import FIXED, SETTLED
from .marks import SPOT_MOVES, VOL_SHIFTS, Context

GREEKS = ("delta", "gamma", "vega", "theta", "rho")
POSITION_COLUMNS = ("row", "deal_id", "product", "quantity", "status", "value", "market_value", *GREEKS,
                    "delta_dollars", "cash_settled", "message")
BUCKETS = (("vega_0_1m", 1 / 12), ("vega_1_3m", 3 / 12), ("vega_3_6m", 6 / 12), ("vega_6_12m", 1.0),
           ("vega_over_12m", math.inf))  # by years from as_of to the deal's fixing
RISK_COLUMNS = ("scope", "positions", "failed", "market_value", *GREEKS, "delta_dollars", *(name for name, _ in BUCKETS),
                "cash_settled")
EXPLAIN = ("delta", "gamma", "vega", "theta", "rho", "fixings", "life_cycle", "new_positions", "residual")
PNL_COLUMNS = ("line", "amount", "positions", "note")
STRESS_COLUMNS = ("spot_move", "vol_shift", "value_change", "positions_not_valued")


def position_rows(positions, failures: list[dict], marks: list[dict], spot: float) -> list[dict]:
    """One row per position of the file, in row order: a failed one with its message."""
    rows = [{"row": failure["row"], "deal_id": failure["deal_id"], "product": failure["product"],
             "status": "failed", "message": failure["message"]} for failure in failures]
    for position in positions:
        marked = marks[position.deal]
        row = {"row": position.row, "deal_id": position.deal_id, "product": position.product,
               "quantity": int(position.quantity)}
        if "message" in marked:
            rows.append({**row, "status": "failed", "message": marked["message"]})
            continue
        today, q = marked["today"], position.quantity
        greeks = [q * g + 0.0 for g in today["greeks"]]  # + 0.0: no -0.0 printed
        rows.append({**row, "status": today["status"], "value": today["value"],
                     "market_value": q * today["value"] + 0.0, **dict(zip(GREEKS, greeks)),
                     "delta_dollars": greeks[0] * spot + 0.0, "cash_settled": q * today["cash"] + 0.0,
                     "message": paid_note(today) if today["status"] == SETTLED else
                     (marked.get("previous") or {}).get("message", "")})
    return sorted(rows, key=lambda row: row["row"])


def paid_note(today: dict) -> str:
    return "paid today: its cash left the book" if today["paid_today"] else "paid before this day: no longer in the book"


def risk_rows(rows: list[dict], marks: list[dict], positions, as_of: dt.date) -> list[dict]:
    """Totals for the book and for each product in it."""
    fixing = {position.row: marks[position.deal].get("today", {}).get("fixing") for position in positions}
    scopes = [("book", rows)] + [(product.key, [row for row in rows if row["product"] == product.key])
                                 for product in PRODUCTS]
    result = []
    for scope, chosen in scopes:
        if scope != "book" and not chosen:
            continue
        valued = [row for row in chosen if row["status"] != "failed"]
        total = {name: math.fsum(row[name] for row in valued)
                 for name in ("market_value", *GREEKS, "delta_dollars", "cash_settled")}
        buckets = {name: [] for name, _ in BUCKETS}
        for row in valued:
            years = (dt.date.fromisoformat(fixing[row["row"]]) - as_of).days / 365
            buckets[next(name for name, end in BUCKETS if years <= end)].append(row["vega"])
        result.append({"scope": scope, "positions": len(chosen), "failed": len(chosen) - len(valued), **total,
                       **{name: math.fsum(values) for name, values in buckets.items()}})
    return result


def explain(positions, marks: list[dict], context: Context) -> list[dict]:
    """The change of the book's value from the previous snapshot to today's, line by line: the
    previous day's greeks times the market's moves (spot, each deal's at-the-money vol to its
    fixing and flat rate to its payment, days), the new window closes (fixings), stages ending
    in a fixed final value or a payment (life cycle, revalued in full), positions traded since
    the previous snapshot, and the residual that closes the sum."""
    previous, today = context.previous.market, context.today.market
    d_spot, days = today["spot"] - previous["spot"], (today["as_of"] - previous["as_of"]).days
    lines = {name: [] for name in EXPLAIN}
    before, after, cash, traded, unpriced, excluded = [], [], [], [], 0, 0
    for position in positions:
        marked, q = marks[position.deal], position.quantity
        if "message" in marked:
            excluded += 1
            continue
        now = marked["today"]
        if position.trade_date is not None and position.trade_date > context.previous.as_of:
            lines["new_positions"].append(q * now["value"])
            after.append(q * now["value"])
            cash.append(q * now["cash"])
            if position.trade_price is None:
                unpriced += 1
            else:
                traded.append(-q * position.trade_price)
            continue
        then = marked["previous"]
        if "message" in then:
            excluded += 1
            continue
        before.append(q * then["value"])
        after.append(q * now["value"])
        cash.append(q * now["cash"])
        change = q * (now["value"] - then["value"])
        if now["status"] != then["status"] and now["status"] in (FIXED, SETTLED):
            lines["life_cycle"].append(change)
            continue
        delta, gamma, vega, theta, rho = (q * g for g in then["greeks"])
        moves = {"delta": delta * d_spot, "gamma": 0.5 * gamma * d_spot ** 2, "vega": vega * 100 * marked["vol_move"],
                 "theta": theta * days, "rho": rho * 100 * marked["rate_move"],
                 "fixings": q * (now["value"] - marked["unfixed"]) if marked["unfixed"] is not None else 0.0}
        for name, amount in moves.items():
            lines[name].append(amount)
    start, end = math.fsum(before), math.fsum(after)
    amounts = {name: math.fsum(values) for name, values in lines.items() if name != "residual"}
    amounts["residual"] = end - start - math.fsum(amounts.values())
    notes = {"delta": "previous delta x spot move", "gamma": "previous gamma x spot move squared / 2",
             "vega": "previous vega x move of each deal's implied vol at its previous at-the-money strike and fixing",
             "theta": f"previous theta x {days} calendar day(s)",
             "rho": "previous rho x move of each deal's flat rate to its payment from the previous curve's forward",
             "fixings": "window closes since the previous snapshot against the previous spot theta assumed",
             "life_cycle": "final values fixed and payments made since the previous snapshot (full revaluation)",
             "new_positions": "value of positions traded after the previous snapshot",
             "residual": "the change the lines above do not explain"}
    rows = [{"line": "previous_value", "amount": start, "positions": len(before),
             "note": f"book on {previous['as_of'].isoformat()}, positions valued on both snapshots"}]
    rows += [{"line": name, "amount": amounts[name], "positions": len(lines[name]) if name != "residual" else "",
              "note": notes[name]} for name in EXPLAIN]
    rows += [{"line": "current_value", "amount": end, "positions": len(after),
              "note": f"book on {today['as_of'].isoformat()}"},
             {"line": "cash_settled", "amount": math.fsum(cash), "positions": sum(1 for c in cash if c),
              "note": "payments made since the previous snapshot (received: +, paid: -)"},
             {"line": "trade_cash", "amount": math.fsum(traded), "positions": len(traded),
              "note": "minus quantity x trade_price of the positions traded since the previous snapshot"},
             {"line": "pnl_with_cash", "amount": end - start + math.fsum(cash) + math.fsum(traded) if not unpriced
              else "", "positions": "", "note": "change of value plus cash settled and trade cash" if not unpriced
              else f"not known: {unpriced} position(s) traded since the previous snapshot have no trade_price"},
             {"line": "positions_excluded", "amount": excluded, "positions": excluded,
              "note": "positions not valued on today's or the previous snapshot (see positions.csv)"}]
    return rows


def stress_rows(positions, marks: list[dict]) -> list[dict]:
    """The book's value change for each spot move and vol shift, with the positions that could
    not be valued there (their change is left out of that cell)."""
    grids, quantities = [], []
    for position in positions:
        marked = marks[position.deal]
        if "message" not in marked:
            grids.append(marked["today"]["stress"])
            quantities.append(position.quantity)
    grids = np.asarray(grids, float).reshape(len(grids), len(SPOT_MOVES), len(VOL_SHIFTS))
    rows = []
    for i, move in enumerate(SPOT_MOVES):
        for j, shift in enumerate(VOL_SHIFTS):
            cells = grids[:, i, j]
            rows.append({"spot_move": move, "vol_shift": shift,
                         "value_change": math.fsum(q * c for q, c in zip(quantities, cells) if not np.isnan(c)),
                         "positions_not_valued": int(np.isnan(cells).sum())})
    return rows
