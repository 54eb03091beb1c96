"""Volatility surfaces: Black implied vols by strike and expiry, their arbitrage checks and local vols.

A surface is quoted on its `anchor` date (the snapshot's as_of), either as a grid (strikes by
expiry dates, Black implied vols) or as raw SVI rows, and is held as total implied variance
w(k, t) = vol^2 t in log forward moneyness k = log(K / F(t)), F the forward of the snapshot:

- at a grid's expiry, w is a natural cubic spline in k through every quote (smooth density);
  beyond the lowest and highest strike w goes on linearly with the spline's end slope where
  it rises outwards (Lee's bound: a slope of at most 2), and where it falls outwards it
  flattens exponentially, w_end + s L (1 - e^{-|k - k_end| / L}) with L = w_end / (2 |s|),
  to half its end value (the density stays positive, the wing never reaches 0); and it is
  never below the earlier expiry's w there (the larger of the two: no calendar arbitrage
  in the wings, and the kink where they cross only adds density);
- an SVI row is w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2));
- between expiries w is linear in time at fixed k; before the first expiry the implied vol at
  fixed k is its (w proportional to t); after the last, w grows at every k by the last
  expiry's at-the-money variance per year (the smile's shape in variance kept: holding the
  vol at each k instead would steepen it in variance until it allows a butterfly).

Quotes are refused where they allow an arbitrage: butterfly (call prices increasing or not
convex in strike at the quotes, or a negative density, Durrleman's g(k) < 0, on the smiles or
halfway between expiries, within CHECK_STDEVS deviations of the longest expiry beyond the
quotes) or calendar (w falling with t at some k over the quoted strikes and within
CALENDAR_STDEVS deviations of the later expiry from the forward; further out, where two extrapolated wings may
cross, a falling w gives a local vol of 0). The surface is
held in strike when spot moves (sticky strike); `shifted` moves every implied vol by a number.
Local vols come from Dupire's formula in total variance (Gatheral).
"""
from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.special import ndtr

from .cells import cells, date_cell, error_cell, not_an_error, shape
from .fields import Field, TermError, finite

SVI_HEADER = ("expiry", "a", "b", "rho", "m", "sigma")
LEE_SLOPE = 2.0        # the largest slope of total variance in k a wing may have (Roger Lee)
MAX_LOCAL_VOL = 5.0    # local vols are capped here, where the density is almost nil
CHECK_POINTS = 2001    # log-moneyness points where each smile's density is checked
CHECK_STDEVS = 8.0     # ... from this many of the longest expiry's deviations either side
CALENDAR_STDEVS = 4.0  # total variance must rise with time this many deviations either side
DENSITY_FLOOR = -1e-9  # Durrleman's g below this is a negative density
FORWARDS = ("; moneyness is measured against the forward from spot, rate and div_yield: a grid quoted at another "
            "spot keeps each strike's vol, which a large move can make inconsistent")
LATER = (1.5, 3.0, 10.0, 100.0)  # after the last expiry, the smile is checked this many times as far


@dataclass(frozen=True)
class SurfaceQuotes:
    """A surface as typed: expiry dates and, per expiry, Black vols at `strikes` (a grid) or
    the five raw SVI parameters (`strikes` empty)."""

    expiries: tuple[dt.date, ...]
    strikes: tuple[float, ...]
    rows: tuple[tuple[float, ...], ...]

    def __hash__(self) -> int:  # every call with the same range hashes it: once is enough
        if "_hash" not in self.__dict__:
            object.__setattr__(self, "_hash", hash((self.expiries, self.strikes, self.rows)))
        return self.__dict__["_hash"]

    @property
    def is_svi(self) -> bool:
        return not self.strikes

    def cells(self) -> list[list]:
        """The range as typed: the grid (top-left blank, strikes across, expiries down) or SVI rows."""
        header = list(SVI_HEADER) if self.is_svi else [None, *self.strikes]
        return [header, *([expiry, *row] for expiry, row in zip(self.expiries, self.rows))]


class Smile:
    """Total variance at one expiry as a function of log forward moneyness, with two derivatives."""

    def parts(self, k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError

    def variance(self, k: np.ndarray) -> np.ndarray:
        return self.parts(k)[0]

    def w_at(self, k: float) -> float:
        """w at one moneyness, without arrays (a note's few strikes)."""
        return float(self.variance(np.array([k]))[0])

    flat: bool = False


@dataclass(eq=False)
class SviSmile(Smile):
    a: float
    b: float
    rho: float
    m: float
    sigma: float

    def __post_init__(self):
        self.flat = self.b == 0

    def w_at(self, k: float) -> float:
        return self.a + self.b * (self.rho * (k - self.m) + math.sqrt((k - self.m) ** 2 + self.sigma ** 2))

    def parts(self, k):
        x = k - self.m
        root = np.sqrt(x * x + self.sigma ** 2)
        return (self.a + self.b * (self.rho * x + root), self.b * (self.rho + x / root),
                self.b * self.sigma ** 2 / root ** 3)


@dataclass(eq=False)
class GridSmile(Smile):
    """A natural cubic spline through the quotes (a line through two, flat at one), with the
    wings the module states; held as its cubic pieces' coefficients for quick evaluation."""

    k: np.ndarray
    w: np.ndarray
    floor: Smile | None = None  # the earlier expiry's smile: the wings never fall below it
    breaks: np.ndarray = field(init=False)
    coefficients: np.ndarray = field(init=False)
    end_slopes: tuple[float, float] = field(init=False)
    pieces: tuple = field(init=False)  # the same as lists, for w_at
    ends: tuple = field(init=False)

    def __post_init__(self):
        self.flat = bool(np.all(self.w == self.w[0]))
        if len(self.k) >= 3:
            spline = CubicSpline(self.k, self.w, bc_type="natural")
            self.breaks, self.coefficients = spline.x, spline.c
        else:
            slope = (self.w[-1] - self.w[0]) / (self.k[-1] - self.k[0]) if len(self.k) == 2 else 0.0
            self.breaks = np.array([self.k[0], self.k[0] + 1.0])
            self.coefficients = np.array([[0.0], [0.0], [slope], [self.w[0]]])
        self.end_slopes = (float(self.coefficients[2, 0]), float(self.evaluate(self.k[-1:], True)[1][0]))
        self.pieces = (self.breaks.tolist(), self.coefficients.T.tolist(), float(self.k[0]), float(self.k[-1]))
        self.ends = (float(self.k[0]), float(self.k[-1]), float(self.w[0]), float(self.w[-1]))  # k, then w, at both

    def end_slope(self, end: int) -> float:
        return self.end_slopes[end]

    def w_at(self, k: float) -> float:
        breaks, coefficients, first, last = self.pieces
        if k < first or k > last:
            side = 0 if k < first else 1
            outward = -1.0 if side == 0 else 1.0
            w = wing_variance(outward * (k - self.ends[side]), self.ends[side + 2], outward * self.end_slopes[side])
            return w if self.floor is None else max(w, self.floor.w_at(k))
        piece = min(max(bisect_right(breaks, k) - 1, 0), len(coefficients) - 1)
        c3, c2, c1, c0 = coefficients[piece]
        x = k - breaks[piece]
        return ((c3 * x + c2) * x + c1) * x + c0

    def variance(self, k):
        return self.evaluate(np.asarray(k, float), False)[0]

    def parts(self, k):
        return self.evaluate(np.asarray(k, float), True)

    def evaluate(self, k: np.ndarray, derivatives: bool):
        """w at k, with dw/dk and d2w/dk2 when asked for."""
        inside = np.clip(k, self.k[0], self.k[-1])
        piece = np.clip(np.searchsorted(self.breaks, inside) - 1, 0, self.coefficients.shape[1] - 1)
        c3, c2, c1, c0 = self.coefficients[:, piece]
        x = inside - self.breaks[piece]
        w = ((c3 * x + c2) * x + c1) * x + c0
        dw, d2w = ((3 * c3 * x + 2 * c2) * x + c1, 6 * c3 * x + 2 * c2) if derivatives else (None, None)
        if k.size and (k.min() < self.k[0] or k.max() > self.k[-1]):
            for end, outward in ((0, -1.0), (-1, 1.0)):
                beyond = outward * (k - self.k[end]) > 0
                if not beyond.any():
                    continue
                x, w_end, slope = outward * (k[beyond] - self.k[end]), self.w[end], outward * self.end_slope(end)
                w[beyond] = wing_variance(x, w_end, slope)
                if derivatives and slope >= 0:
                    dw[beyond], d2w[beyond] = outward * slope, 0.0
                elif derivatives:
                    scale = w_end / (2 * -slope)
                    fade = np.exp(-x / scale)
                    dw[beyond], d2w[beyond] = outward * slope * fade, -slope / scale * fade
            beyond = (k < self.k[0]) | (k > self.k[-1])
            if self.floor is not None and beyond.any():
                floor_w, floor_dw, floor_d2w = self.floor.evaluate(k[beyond], derivatives)
                above = floor_w > w[beyond]
                if above.any():
                    chosen = np.flatnonzero(beyond)[above]
                    w[chosen] = floor_w[above]
                    if derivatives:
                        dw[chosen], d2w[chosen] = floor_dw[above], floor_d2w[above]
        return w, dw, d2w


def wing_variance(x, w_end: float, slope: float):
    """w at x beyond a quoted end (outwards), from the end's w and outward slope: a straight
    line where it rises (Lee's bound checked apart), flattening to half of w_end where it falls."""
    if slope >= 0:
        return w_end + slope * x
    scale = w_end / (2 * -slope)
    return w_end + slope * scale * (1 - (math.exp if isinstance(x, float) else np.exp)(-x / scale))


def durrleman(k, w, dw, d2w):
    """Durrleman's g: the density of the final value is proportional to it (negative: arbitrage)."""
    return (1 - k * dw / (2 * w)) ** 2 - dw * dw / 4 * (1 / w + 0.25) + d2w / 2


def normalised_calls(k, w):
    """Undiscounted call prices over the forward, Black's formula in k and w."""
    root = np.sqrt(w)
    d1 = -k / root + root / 2
    return ndtr(d1) - np.exp(k) * ndtr(d1 - root)


@dataclass(eq=False)
class Surface:
    """Total implied variance in moneyness and time from `anchor`, held in strike; `forward(t)`
    is the snapshot's forward t years after the anchor; `shift` is added to every implied vol."""

    anchor: dt.date
    times: np.ndarray
    smiles: tuple[Smile, ...]
    forward: Callable
    shift: float = 0.0
    forwards: dict = field(default_factory=dict)  # forward(t) by t, as notes ask again and again

    @property
    def late_rate(self) -> float:
        """Total variance per year at the money of the last expiry: how w grows after it."""
        return self.smiles[-1].w_at(0.0) / self.times[-1]

    @property
    def flat_in_strike(self) -> bool:
        return all(smile.flat for smile in self.smiles)

    @property
    def vol_range(self) -> tuple[float, float]:
        """The lowest and highest implied vol at its expiries, within two units of log moneyness."""
        k = np.linspace(-2.0, 2.0, 401)
        vols = [np.sqrt(smile.variance(k) / t) + self.shift for smile, t in zip(self.smiles, self.times)]
        return float(np.min(vols)), float(np.max(vols))

    def shifted(self, change: float) -> "Surface":
        return Surface(self.anchor, self.times, self.smiles, self.forward, self.shift + change)

    def moved(self, factor: float) -> "Surface":
        """The surface of a spot moved by `factor` with its smile moved too: every forward, so
        every strike of a given moneyness, scaled by it."""
        forward = self.forward
        return Surface(self.anchor, self.times, self.smiles, lambda t: factor * forward(t), self.shift)

    def moneyness(self, strike, t: float) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(np.asarray(strike, float) / self.forward(t))

    def blend(self, t: float) -> tuple[tuple, float, float]:
        """How w at t years after the anchor is made of the expiries' smiles: terms (smile, its
        weight, the weight's change per year), and a variance added at every moneyness with its
        change per year. Before the first expiry the vol at each moneyness is held (w in
        proportion to t), between expiries w is linear in time, after the last the at-the-money
        variance rate is added."""
        i = int(np.searchsorted(self.times, t))
        if i == 0:
            return ((self.smiles[0], t / self.times[0], 1 / self.times[0]),), 0.0, 0.0
        if i == len(self.times):
            rate = self.late_rate
            return ((self.smiles[-1], 1.0, 0.0),), (t - self.times[-1]) * rate, rate
        t0, t1 = self.times[i - 1], self.times[i]
        weight, per_year = (t - t0) / (t1 - t0), 1 / (t1 - t0)
        return ((self.smiles[i - 1], 1 - weight, -per_year), (self.smiles[i], weight, per_year)), 0.0, 0.0

    def parts(self, k, t: float):
        """w, dw/dt at fixed k, dw/dk and d2w/dk2 at t years after the anchor (t > 0)."""
        k = np.asarray(k, float)
        terms, added, added_per_year = self.blend(t)
        w = dw_dt = dw = d2w = 0.0
        for smile, weight, per_year in terms:
            smile_w, smile_dw, smile_d2w = smile.parts(k)
            w, dw_dt = w + weight * smile_w, dw_dt + per_year * smile_w
            dw, d2w = dw + weight * smile_dw, d2w + weight * smile_d2w
        parts = w + added, dw_dt + added_per_year, dw, d2w
        return parts if self.shift == 0 else shifted_parts(parts, t, self.shift)

    def variance(self, k, t: float) -> np.ndarray:
        """Total implied variance w at moneyness k, t years after the anchor (t > 0)."""
        if self.shift:
            return self.parts(k, t)[0]
        terms, added, _ = self.blend(t)
        return sum(weight * smile.variance(k) for smile, weight, _ in terms) + added

    def implied_vol(self, strike, t: float) -> np.ndarray:
        """Black implied vol at a strike for t years after the anchor (t > 0)."""
        return np.sqrt(self.variance(self.moneyness(strike, t), t) / t)

    def implied_vols(self, strikes: list[float], t: float) -> list[float]:
        """implied_vol at a few strikes, without arrays: a note's legs on every Excel call."""
        if self.shift:
            return self.implied_vol(np.array(strikes), t).tolist()
        forward = self.forwards.get(t)
        if forward is None:
            forward = self.forwards[t] = float(self.forward(t))
        terms, added, _ = self.blend(t)
        vols = []
        for strike in strikes:
            k, w = math.log(strike / forward), added
            for smile, weight, _ in terms:
                w += weight * smile.w_at(k)
            vols.append(math.sqrt(w / t))
        return vols

    def local_vol(self, spot, t: float, later: float = 0.0, forward_now: float | None = None,
                  carry_change: float = 0.0) -> np.ndarray:
        """Dupire's local vol at index levels `spot`, t years after a valuation date `later` years
        after the anchor, with each strike's implied vol at each date held (total variance from
        the valuation date w(k, t + later) t / (t + later)); `forward_now` is the forward of the
        valuation's own market at t (the surface stays in strike when spot or rates move) and
        `carry_change` how much faster its log grows than the snapshot's. Capped at MAX_LOCAL_VOL."""
        spot = np.asarray(spot, float)
        held = t + later
        w, dw_dt, dw, d2w = self.parts(self.moneyness(spot, held), held)
        if later:  # w t / held and its derivatives (d/dt of t / held is later / held^2)
            scale = t / held
            w, dw_dt, dw, d2w = w * scale, dw_dt * scale + w * later / held ** 2, dw * scale, d2w * scale
        k = np.log(spot / (forward_now if forward_now is not None else self.forward(held)))
        g = durrleman(k, w, dw, d2w)
        with np.errstate(divide="ignore", invalid="ignore"):
            variance = np.where(g > 0, np.maximum(dw_dt + dw * carry_change, 0.0) / g, MAX_LOCAL_VOL ** 2)
        return np.sqrt(np.minimum(variance, MAX_LOCAL_VOL ** 2))


def shifted_parts(parts, t: float, shift: float):
    """The parts of w' = (vol + shift)^2 t from those of w = vol^2 t (chain rule)."""
    w, dw_dt, dw, d2w = parts
    vol = np.sqrt(w / t)
    ratio = (vol + shift) / vol
    return ((vol + shift) ** 2 * t, ratio * (dw_dt - w / t) + (vol + shift) ** 2, ratio * dw,
            ratio * d2w + dw * dw / (2 * t * vol * vol) * (1 - ratio))


# Reading the quotes from cells

def surface_quotes(value, field: Field) -> SurfaceQuotes:
    """A vol range as quotes: SVI rows under a header `expiry, a, b, rho, m, sigma`, or a grid
    with its top-left cell blank, strikes across and expiry dates down. Rows and columns wholly
    blank at the end are skipped (a range drawn larger than its quotes)."""
    rows = [list(row) for row in cells(value)]
    if any(len(row) != len(rows[0]) for row in rows):
        raise TermError("vol surface must be a rectangular range (every row as long as the first)")
    while rows and all(cell is None for cell in rows[-1]):
        rows.pop()
    while rows and rows[0] and all(row[-1] is None for row in rows):
        rows = [row[:-1] for row in rows]
    if len(rows) < 2 or len(rows[0]) < 2:
        for i, row in enumerate(rows):  # an error cell is named, not taken for the range's shape
            for j, cell in enumerate(row):
                not_an_error(cell, "vol", f" (row {i + 1}, column {j + 1} of the range)")
        got = ("a range holding one value (select its cell alone)" if len(rows) == 1 and len(rows[0]) == 1
               else f"a {shape(rows)} range")
        raise TermError(f"vol must be one number or a surface range (a grid of strikes by expiry dates, or SVI rows "
                        f"under the header {', '.join(SVI_HEADER)}), got {got}")
    if all(isinstance(cell, str) and error_cell(cell) is None for cell in rows[0][1:]):  # a header: SVI rows
        return svi_quotes(rows)
    return grid_quotes(rows, field)


def expiry_column(rows, what: str) -> tuple[dt.date, ...]:
    expiries = []
    for i, row in enumerate(rows):
        where = f" (row {i + 2} of the {what})"
        cell = not_an_error(row[0], "vol", where)
        if cell is None:
            raise TermError(f"vol surface needs an expiry date in every row, got a blank cell{where}")
        expiries.append(date_cell(cell, f"vol surface expiry{where}"))
    for before, after in zip(expiries, expiries[1:]):
        if after <= before:
            raise TermError(f"vol surface expiries must increase, got {after.isoformat()} after {before.isoformat()}")
    return tuple(expiries)


def grid_quotes(rows, field: Field) -> SurfaceQuotes:
    corner = not_an_error(rows[0][0], "vol", " (top-left cell of the surface)")
    if corner is not None and not isinstance(corner, str):  # blank, or a label such as "Expiry \\ Strike"
        raise TermError(f"vol surface grid must have its top-left cell blank or a label (strikes across, expiry "
                        f"dates down), got {corner!r}; SVI rows need the header {', '.join(SVI_HEADER)}")
    strikes = []
    for j, cell in enumerate(rows[0][1:]):
        where = f" (column {j + 2} of the surface's first row)"
        cell = not_an_error(cell, "vol", where)
        if cell is None:
            raise TermError(f"vol surface needs a strike in every column of its first row, got a blank cell{where}")
        strike = finite(f"vol surface strike{where}", cell)
        if not strike > 0:
            raise TermError(f"vol surface strikes must be index levels above 0, got {cell!r}{where}")
        strikes.append(strike)
    for before, after in zip(strikes, strikes[1:]):
        if after <= before:
            raise TermError(f"vol surface strikes must increase, got {after:g} after {before:g}")
    body = []
    for i, row in enumerate(rows[1:]):
        quotes = []
        for j, cell in enumerate(row[1:]):
            where = f" (row {i + 2}, column {j + 2} of the surface)"
            if not_an_error(cell, "vol", where) is None:
                raise TermError(f"vol surface needs a vol at every strike and expiry, got a blank cell{where}")
            try:
                quotes.append(field.check(cell))
            except TermError as error:
                raise TermError(f"{error}{where}") from None
        body.append(tuple(quotes))
    return SurfaceQuotes(expiry_column(rows[1:], "surface"), tuple(strikes), tuple(body))


def svi_quotes(rows) -> SurfaceQuotes:
    header = tuple(str(cell).strip().lower() if cell is not None else "" for cell in rows[0])
    if header != SVI_HEADER:
        raise TermError(f"vol SVI rows need the header {', '.join(SVI_HEADER)}, got {', '.join(header)}")
    body = []
    for i, row in enumerate(rows[1:]):
        params = []
        for name, cell in zip(SVI_HEADER[1:], row[1:]):
            where = f" (row {i + 2} of the SVI rows)"
            if not_an_error(cell, "vol", where) is None:
                raise TermError(f"vol SVI {name} is blank{where}")
            params.append(finite(f"vol SVI {name}{where}", cell))
        body.append(tuple(params))
    return SurfaceQuotes(expiry_column(rows[1:], "SVI rows"), (), tuple(body))


# Building a surface and checking it

def surface_of(quotes: SurfaceQuotes, anchor: dt.date, forward: Callable, vol_field: Field) -> Surface:
    """The surface of `quotes` as of `anchor`, with `forward(t)` the forward t years on; a
    TermError naming the expiry and strikes where the quotes allow an arbitrage."""
    late = [day for day in quotes.expiries if day <= anchor]
    if late:
        raise TermError(f"vol surface expiries must be after as_of ({anchor.isoformat()}), got {late[0].isoformat()}")
    times = np.array([(day - anchor).days / 365.0 for day in quotes.expiries])
    if quotes.is_svi:
        smiles = tuple(svi_smile(params, day, t, vol_field) for params, day, t in zip(quotes.rows, quotes.expiries,
                                                                                        times))
    else:
        strikes = np.array(quotes.strikes)
        smiles = []
        for vols, day, t in zip(quotes.rows, quotes.expiries, times):
            k = np.log(strikes / forward(t))
            smiles.append(GridSmile(k, np.array(vols) ** 2 * t, smiles[-1] if smiles else None))
            check_quoted_calls(smiles[-1], day, strikes)
        smiles = tuple(smiles)
    surface = Surface(anchor, times, smiles, forward)
    check_arbitrage(surface, quotes.expiries)
    return surface


def svi_smile(params, day: dt.date, t: float, vol_field: Field) -> SviSmile:
    a, b, rho, m, sigma = params
    expiry = day.isoformat()
    rules = ((b >= 0, "b must be at least 0", b), (abs(rho) < 1, "rho must be between -1 and 1", rho),
             (sigma > 0, "sigma must be above 0", sigma),
             (a + b * sigma * math.sqrt(max(1 - rho * rho, 0.0)) > 0,
              "a + b sigma sqrt(1 - rho^2), the least total variance, must be above 0", a),
             (b * (1 + abs(rho)) <= LEE_SLOPE,
              f"b (1 + |rho|), the steeper wing's slope, must be at most {LEE_SLOPE:g} (Lee's bound)", b * (1 + abs(rho))))
    for ok, rule, got in rules:
        if not ok:
            raise TermError(f"vol SVI row for {expiry}: {rule}, got {got:g}")
    smile = SviSmile(a, b, rho, m, sigma)
    atm_vol = math.sqrt(smile.w_at(0.0) / t)
    if not vol_field.allows(atm_vol):
        raise TermError(f"vol SVI row for {expiry} gives an at-the-money vol of {atm_vol:g}: it {vol_field.rule()} "
                        "(a, b and sigma are in total variance, vol^2 x years)")
    return smile


def check_quoted_calls(smile: GridSmile, day: dt.date, strikes: np.ndarray) -> None:
    """Call prices at the quoted strikes must fall with the strike, never faster than it rises, and be convex."""
    slopes = np.diff(normalised_calls(smile.k, smile.w)) / np.diff(np.exp(smile.k))  # of C/F against K/F
    steep = np.flatnonzero(slopes < -1 - 1e-12)
    if steep.size:
        i = int(steep[0])
        raise TermError(f"vol surface has arbitrage at expiry {day.isoformat()}: the call price falls by more than the "
                        f"strike rises from strike {strikes[i]:g} to {strikes[i + 1]:g}{FORWARDS}")
    rising = np.flatnonzero(slopes > 1e-12)
    if rising.size:
        i = int(rising[0])
        raise TermError(f"vol surface has butterfly arbitrage at expiry {day.isoformat()}: the call price rises from "
                        f"strike {strikes[i]:g} to {strikes[i + 1]:g}{FORWARDS}")
    bent = np.flatnonzero(np.diff(slopes) < -1e-12)
    if bent.size:
        i = int(bent[0])
        raise TermError(f"vol surface has butterfly arbitrage at expiry {day.isoformat()}: call prices at strikes "
                        f"{strikes[i]:g}, {strikes[i + 1]:g}, {strikes[i + 2]:g} are not convex (a butterfly there "
                        f"costs less than nothing){FORWARDS}")


def check_arbitrage(surface: Surface, expiries: tuple[dt.date, ...]) -> None:
    """Wings within Lee's bound, no negative density on any smile or halfway between expiries,
    and total variance rising with time at every moneyness."""
    longest = float(surface.smiles[-1].variance(np.zeros(1))[0])
    reach = CHECK_STDEVS * math.sqrt(longest)
    quoted = [smile.k for smile in surface.smiles if isinstance(smile, GridSmile)]
    low = min([-reach, *(k[0] - reach for k in quoted)])
    high = max([reach, *(k[-1] + reach for k in quoted)])
    k = np.linspace(low, high, CHECK_POINTS)
    for smile, day in zip(surface.smiles, expiries):
        if isinstance(smile, GridSmile):
            for end, outward in ((0, -1.0), (-1, 1.0)):
                slope = outward * smile.end_slope(end)
                if slope > LEE_SLOPE:
                    raise TermError(f"vol surface's total variance at expiry {day.isoformat()} rises beyond the "
                                    f"{'lowest' if end == 0 else 'highest'} strike with slope {slope:.3g} in log "
                                    f"moneyness, more than Lee's bound of {LEE_SLOPE:g}: the wing allows arbitrage")
    middles = [(surface.times[i] + surface.times[i + 1]) / 2 for i in range(len(surface.times) - 1)]
    beyond = [surface.times[-1] * factor for factor in LATER]
    for t, where in [*zip(surface.times, (f"at expiry {day.isoformat()}" for day in expiries)),
                     *zip(middles, (f"between expiries {a.isoformat()} and {b.isoformat()}"
                                    for a, b in zip(expiries, expiries[1:]))),
                     *((t, f"{t / surface.times[-1]:g} times as far as the last expiry ({expiries[-1].isoformat()})")
                       for t in beyond)]:
        w, _, dw, d2w = surface.parts(k, t)
        negative = np.flatnonzero((w <= 0) | (durrleman(k, w, dw, d2w) < DENSITY_FLOOR))
        if negative.size:
            strikes = surface.forward(t) * np.exp(k[[negative[0], negative[-1]]])
            raise TermError(f"vol surface has butterfly arbitrage {where}: the density of the final value is negative "
                            f"between strikes {strikes[0]:.6g} and {strikes[1]:.6g}{FORWARDS}")
    for i in range(len(surface.smiles) - 1):
        near = CALENDAR_STDEVS * math.sqrt(float(surface.smiles[i + 1].variance(np.zeros(1))[0]))
        ends = [k[[0, -1]] for k in quoted]
        inner = k[(k >= min([-near, *(end[0] for end in ends)])) & (k <= max([near, *(end[1] for end in ends)]))]
        earlier, later = surface.smiles[i].parts(inner)[0], surface.smiles[i + 1].parts(inner)[0]
        falling = np.flatnonzero(later < earlier * (1 - 1e-12))
        if falling.size:
            j = int(falling[0])
            strike = surface.forward(surface.times[i]) * math.exp(inner[j])
            raise TermError(f"vol surface has calendar arbitrage: total variance falls from expiry "
                            f"{expiries[i].isoformat()} to {expiries[i + 1].isoformat()} at strike {strike:.6g} "
                            f"({math.exp(inner[j]):.2%} of the forward){FORWARDS}")
