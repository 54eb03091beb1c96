"""Lookback spreads: an exact engine that propagates the lookback's distribution, and a Monte Carlo.

A lookback spread (LookbackSpread) pays, per unit of notional, an option on F/L struck at a
fraction of 1 less the same option on F/initial: puts below the highest close of a window
(direction +1), calls above the lowest (direction -1). By homogeneity the long leg, notional/L
options struck at k x L on the spot S at the window's end, is notional x an option on S/L struck
at k, so only Y = d log(L/S) >= 0 matters (d the direction). Over each remaining window trading
day Y is a random walk reflected at 0 (a Lindley recursion):

    Y_j = max(Y_{j-1} - d X_j, 0),   X_j ~ N((rate - div_yield - vol^2/2) dt_j, vol^2 dt_j)

Its law is a mass `a` at 0 plus a density f on (0, inf). Each day f is carried by a Gaussian
convolution, computed on a uniform grid with the sinc rule for integrals over a half line
(Stenger): the grid goes on below 0 with the density's smooth continuation, so the cut at 0
costs no accuracy and the error falls like exp(-pi^2 R^2 / 2) with R grid points per standard
deviation of a day's move. The long leg is then the closed-form option at the window's end
integrated against Y's law; the short leg does not depend on the lookback and is closed form.
The engines know the schedule (times from as_of), the lookback so far and the spread, never a
product.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft
from scipy.special import log_ndtr, ndtr, sici

from ..core.fields import TermError
from ..core.market import Market
from .black_scholes import normal_pdf, option_value
from .montecarlo import Estimate, MonteCarlo, brownian_bridge, estimate

TAILS = 7.5           # standard deviations kept on each side: the mass beyond is below 1e-13
POINTS_PER_STDEV = 2.5  # grid points per standard deviation of the narrowest move
MAX_GRID_POINTS = 1 << 18
MAX_GRID_WORK = MAX_GRID_POINTS * 8  # grid points x days carried
# A call's payoff grows as e^Y: the grid's rounding (about 1e-16 of the density) weighs e^Y on its
# far end, so a call is valued exactly only where the grid ends below this growth (1e-10 of notional).
MAX_CALL_GROWTH = 1e6
FORWARD_VOL_MIN = 0.005  # each stretch's forward vol on a term structure: the least a flat vol may be


@dataclass(frozen=True)
class LookbackSpread:
    """What the lookback engines price, per warrant: notional/L options struck at
    lookback_strike x L (L the lookback: the highest close for `direction` +1, the lowest for
    -1), less notional/initial options struck at initial_strike x initial. Puts below the
    highest close, calls above the lowest; the long leg never pays less than the short one."""

    direction: int
    notional: float
    initial: float
    lookback_strike: float
    initial_strike: float

    @property
    def is_call(self) -> bool:
        return self.direction < 0

    def long_leg(self, lookback, spot, t_fix: float, t_pay: float, vol: float, rate: float, div_yield: float):
        """notional/L options struck at lookback_strike x L; vectorised over spot and lookback."""
        lookback = np.asarray(lookback, float)
        return self.notional / lookback * option_value(self.is_call, spot, self.lookback_strike * lookback, t_fix,
                                                       t_pay, vol, rate, div_yield)

    def short_leg(self, spot, t_fix: float, t_pay: float, vol: float, rate: float, div_yield: float):
        """notional/initial options struck at initial_strike x initial."""
        return self.notional / self.initial * option_value(self.is_call, spot, self.initial_strike * self.initial,
                                                           t_fix, t_pay, vol, rate, div_yield)

    def value(self, lookback, spot, t_fix: float, t_pay: float, vol: float, rate: float, div_yield: float):
        """The spread with the lookback known: its long leg less its short leg."""
        args = (t_fix, t_pay, vol, rate, div_yield)
        return self.long_leg(lookback, spot, *args) - self.short_leg(spot, *args)


def normal_density(x, stdev):
    return normal_pdf(x / stdev) / stdev


@lru_cache(maxsize=64)
def half_line_weights(first: int, count: int, step: float) -> np.ndarray:
    """Sinc-rule weights for the integral over [0, inf) of a smooth function sampled at k x step,
    k = first .. first + count - 1: step x (1/2 + Si(pi k) / pi)."""
    k = np.arange(first, first + count)
    return step * (0.5 + sici(np.pi * k)[0] / np.pi)


@dataclass(frozen=True)
class Walk:
    """What the reflected walk needs of the market: per remaining window day the fall of Y's mean
    before reflection (d x (log forward growth - variance / 2)) and the deviation of the day's log
    return; for the stretch from the window's end to expiration, the flat vol, rate and dividend
    yield that give Black's formula its forward, variance and discount to settlement."""

    shifts: np.ndarray
    stdevs: np.ndarray
    vol: float
    rate: float
    div_yield: float


def walk(direction: int, market: Market, times: np.ndarray, t_expiry: float, t_settle: float) -> Walk:
    """The walk's moves in a market whose vol does not depend on the strike: flat, or a surface
    flat in strike (term structure only), with flat rates or curves: each day's variance is the
    increase of total variance over it, each day's drift the curves' forward over it."""
    steps = np.diff(times, prepend=0.0)
    horizon = times[-1] if len(times) else 0.0
    to_expiry = t_expiry - horizon
    if market.flat:
        vol, rate, div_yield = market.vol, market.rate, market.div_yield
        drift = direction * (rate - div_yield - 0.5 * vol * vol)
        return Walk(drift * steps, vol * np.sqrt(steps), vol, rate, div_yield)
    ends = [*times, t_expiry] if to_expiry > 0 else list(times)
    totals = [market.total_variance(market.spot, t) for t in ends]
    require_forward_vols(market, ends, totals, "the exact engine")
    variances = np.diff(totals[:len(times)], prepend=0.0)
    shifts = direction * (np.diff(market.log_growth(np.asarray(times, float)), prepend=0.0) - 0.5 * variances)
    vol = math.sqrt((totals[-1] - (totals[len(times) - 1] if len(times) else 0.0)) / to_expiry) if to_expiry > 0 \
        else 0.0
    return Walk(shifts, np.sqrt(variances), vol, *market.flat_equivalent(t_expiry, t_settle, horizon))


def require_forward_vols(market: Market, ends: list[float], totals: list[float], engine: str) -> None:
    """Each stretch to one of `ends` (years from as_of, increasing) must see the at-the-money
    total variance (`totals`, at `ends`) rise at a forward vol of at least FORWARD_VOL_MIN;
    `engine` names who needs it."""
    start = variance = 0.0
    for end, total in zip(ends, totals):
        rise = total - variance
        if rise < FORWARD_VOL_MIN ** 2 * (end - start):
            day = market.as_of + dt.timedelta(days=round(end * 365))
            raise TermError(f"vol surface gives the stretch to {day.isoformat()} a forward vol of "
                            f"{math.sqrt(max(rise, 0.0) / (end - start)):.2%}: {engine} needs at least "
                            f"{FORWARD_VOL_MIN:.1%} (total variance must rise with time; check the expiries' vols "
                            "there, or the shift applied to them)")
        start, variance = end, variance + rise


def expected_long_leg(spread: LookbackSpread, y0, times: np.ndarray, to_expiry: float, t_settle: float,
                      moves: Walk):
    """E[notional x discounted option on S/L at the window's end] with Y = d log(L/S) starting
    at y0 and moving on the window days at `times` (years from as_of, increasing). An array of
    starts gives an array of values, their densities carried together on one grid."""
    batch = np.ndim(y0) > 0
    d = spread.direction
    shifts, stdevs = moves.shifts, moves.stdevs
    sign, k = (1.0 if spread.is_call else -1.0), spread.lookback_strike
    args = (moves.vol, moves.rate, moves.div_yield)

    def final_value(y):  # the long leg's value at the window's end, as a function of Y there (S/L = e^{-d Y})
        return spread.notional * option_value(spread.is_call, np.exp(-d * y), k, to_expiry, t_settle, *args)

    def last_day_value(y):
        """Expiration on the last window day: the payment's expectation over that day's move
        from Y = y, exact (the payoff's kink makes a grid integral converge slowly). Y's new
        value is max(Z, 0), Z normal; the option on e^{-d Y} pays where Z > kink."""
        mean, stdev = y - shifts[-1], stdevs[-1]
        kink = max(0.0, sign * math.log(k)) if k > 0 else 0.0  # a call struck at 0 pays from Z = 0
        with np.errstate(over="ignore"):
            value = (max(-sign * (k - 1), 0.0) * ndtr(-mean / stdev) - sign * k * ndtr((mean - kink) / stdev)
                     + sign * np.exp(-d * mean + stdev ** 2 / 2 + log_ndtr((mean - d * stdev ** 2 - kink) / stdev)))
        return spread.notional * math.exp(-moves.rate * t_settle) * value

    payoff = final_value if to_expiry > 0 else last_day_value
    carried = len(times) if to_expiry > 0 else len(times) - 1  # days carried on the grid
    if carried == 0:
        value = payoff(np.asarray(y0, float))
        return value if batch else float(value)

    # Moves of the days after the first (carried on the grid), and the final payoff's scale.
    final_shift = ((d * (moves.rate - moves.div_yield - 0.5 * moves.vol ** 2) * to_expiry,
                    moves.vol * math.sqrt(to_expiry)) if to_expiry > 0 else (shifts[-1], stdevs[-1]))
    later = [*zip(shifts[1:carried], stdevs[1:carried]), final_shift]
    narrowest = min([stdevs[0], *(stdev for _, stdev in later)])
    step = narrowest / POINTS_PER_STDEV
    reach = max(TAILS * stdev + abs(shift) for shift, stdev in later)
    below = 2 * reach                   # the grid goes on below 0 for the sinc rule
    # A call's payoff grows as e^Y, which tilts the weight of Y's law up by its variance: the grid reaches
    # that much further.
    variance = float(np.sum(stdevs[:len(times)] ** 2))
    tilt = variance if spread.is_call else 0.0
    rise = float(np.max(np.cumsum(-shifts[:len(times)]), initial=0.0))  # the most Y's mean can climb
    above = max(float(np.max(y0)), 0.0) + rise + tilt + TAILS * math.sqrt(variance)
    if spread.is_call and above > math.log(MAX_CALL_GROWTH):
        raise TermError(f"vol is too high over the window for an exact value of calls on the lowest close: the "
                        f"spot over the lookback could grow {math.exp(above):.3g}-fold by the window's end (at most "
                        f"{MAX_CALL_GROWTH:g}); lower vol or as_of nearer the window's end, or use the Monte Carlo")
    first, last = -math.ceil(below / step), math.ceil(above / step)
    count = last - first + 1
    if count > MAX_GRID_POINTS or count * carried > MAX_GRID_WORK:
        raise TermError(f"these inputs need a grid of {count} points over {carried} days: "
                        "vol is too low against the drift (rate - div_yield) over the time to the "
                        "window's end (raise vol, or bring as_of nearer the window)")
    y = step * np.arange(first, last + 1)
    weights = half_line_weights(first, count, step)
    # Below 0 the density's continuation is faded out smoothly, so the grid can end at -below;
    # at 0 the fade is 1 to within 1e-13.
    fade = ndtr((y + below / 2) / (below / (2 * TAILS)))

    length = next_fast_len(2 * count - 1)  # circular convolution that is linear where it is read
    moves_by_day = {}

    def move(mean, stdev):
        """One day's move on the grid: kernel spectrum, entry density from the mass at 0, odds
        of staying at 0 from there and from each grid point."""
        key = (round(mean, 15), round(stdev, 15))
        if key not in moves_by_day:
            kernel = normal_density(step * np.arange(-(count - 1), count) + mean, stdev)
            moves_by_day[key] = (rfft(kernel, length), normal_density(y + mean, stdev),
                                 float(ndtr(mean / stdev)), ndtr((mean - y) / stdev))
        return moves_by_day[key]

    # A batch's starts are rows: its densities (starts x grid) move together, its masses at 0 a column.
    mean, stdev = (np.asarray(y0, float)[:, None] if batch else y0) - shifts[0], stdevs[0]
    at_zero = ndtr(-mean / stdev) if batch else float(ndtr(-mean / stdev))
    density = normal_density(y - mean, stdev)
    for shift, stdev in zip(shifts[1:carried], stdevs[1:carried]):
        spectrum, from_zero, stay_from_zero, stay = move(shift, stdev)
        weighted = weights * fade * density
        density = at_zero * from_zero + irfft(rfft(weighted, length) * spectrum, length)[..., count - 1:2 * count - 1]
        at_zero = at_zero * stay_from_zero + ((weighted @ stay)[:, None] if batch else float(weighted @ stay))
    if batch:
        return at_zero[:, 0] * payoff(np.array(0.0)) + np.sum(weights * fade * density * payoff(y), axis=-1)
    return float(at_zero * payoff(np.array(0.0)) + np.sum(weights * fade * density * payoff(y)))


def exact_value(spread: LookbackSpread, lookback_so_far: float, market: Market, window_times: np.ndarray,
                t_expiry: float, t_settle: float, spots=None):
    """Value per warrant: the long leg by the reflected walk, less the closed-form short leg, in a
    market whose vol does not depend on the strike (flat, or a term structure; rates flat or curves).

    `window_times` are the remaining window trading days in years from as_of. With `spots`, an
    array: the values at each of those spots instead of the market's (a stress grid's moves),
    every start carried on one grid."""
    values = exact_values(spread, lookback_so_far, market, window_times, t_expiry, t_settle,
                          [market.spot] if spots is None else spots)
    return float(values[0]) if spots is None else values


def exact_values(spread: LookbackSpread, lookback_so_far: float, market: Market, window_times, t_expiry: float,
                 t_settle: float, spots) -> np.ndarray:
    """exact_value at each of `spots`: the legs in closed form where no window day is left or the
    spot cannot reach the lookback so far (odds below 1e-13: the strikes are known), else the long
    leg by the reflected walk, every start carried together. The payment is never negative (the
    long leg dominates); only rounding could say so."""
    window_times, spots = np.asarray(window_times, float), np.asarray(spots, float)
    moves = walk(spread.direction, market, window_times, t_expiry, t_settle)
    horizon = window_times[-1] if len(window_times) else 0.0
    known = walk(spread.direction, market, np.array([]), t_expiry, t_settle)
    args = (t_expiry, t_settle, known.vol, known.rate, known.div_yield)
    short = spread.short_leg(spots, *args)
    values = spread.long_leg(lookback_so_far, spots, *args) - short
    if len(window_times):
        y0 = spread.direction * np.log(lookback_so_far / spots)
        fall = float(np.max(np.cumsum(moves.shifts), initial=0.0))
        reach = y0 - fall - TAILS * math.sqrt(float(np.sum(moves.stdevs ** 2))) <= 0
        if reach.any():
            long = expected_long_leg(spread, y0[reach], window_times, t_expiry - horizon, t_settle, moves)
            values[reach] = np.maximum(long - short[reach], 0.0)
    return values


def mc_value(spread: LookbackSpread, lookback_so_far: float, market: Market, window_times: np.ndarray,
             t_expiry: float, t_settle: float, settings: MonteCarlo) -> Estimate:
    """Value per warrant with its standard error.

    Where the vol does not depend on the strike (flat or a term structure), paths are simulated
    exactly on the window's remaining trading days and at the window's end the payment's
    conditional expectation is a closed-form spread. Under a smile the paths follow the local
    vol (local_vol_paths) to expiration. Control variate: the spread with the strikes known
    today (lookback so far), whose value today is closed form. After the window the value is
    that closed form, with no error."""
    window_times = np.asarray(window_times, float)
    smile = market.smile
    if smile:
        known_strikes = (european(spread, lookback_so_far, market, t_expiry, t_settle)
                         - european(spread, None, market, t_expiry, t_settle))
    else:
        known = walk(spread.direction, market, np.array([]), t_expiry, t_settle)
        known_strikes = float(spread.value(lookback_so_far, market.spot, t_expiry, t_settle, known.vol, known.rate,
                                           known.div_yield))
    if window_times.size == 0:
        return Estimate(known_strikes, 0.0, 0)
    extreme = np.max if spread.direction > 0 else np.min
    reached = np.maximum if spread.direction > 0 else np.minimum
    discount = float(market.discount(t_settle))
    if smile:
        times, observed = local_vol_times(window_times, t_expiry, market.vol_changes(t_expiry))

        def sample(z):
            path = local_vol_paths(market, times, z)
            lookback = reached(lookback_so_far, extreme(path[:, observed], axis=1))
            final = path[:, -1]
            short = spread.notional / spread.initial * payoff(spread, spread.initial_strike * spread.initial, final)
            return (discount * (spread.notional / lookback * payoff(spread, spread.lookback_strike * lookback, final)
                                - short),
                    discount * (spread.notional / lookback_so_far
                                * payoff(spread, spread.lookback_strike * lookback_so_far, final) - short))
        dims = len(times)
    else:
        moves = walk(spread.direction, market, window_times, t_expiry, t_settle)
        to_expiry = t_expiry - window_times[-1]
        args = (moves.vol, moves.rate, moves.div_yield)
        variances = np.cumsum(moves.stdevs ** 2)
        log_forwards = np.log(market.growth(window_times)) - 0.5 * variances

        def sample(z):
            path = market.spot * np.exp(log_forwards + brownian_bridge(variances, z))
            lookback = reached(lookback_so_far, extreme(path, axis=1))
            window_end = path[:, -1]
            short = spread.short_leg(window_end, to_expiry, t_settle, *args)
            return (spread.long_leg(lookback, window_end, to_expiry, t_settle, *args) - short,
                    spread.long_leg(lookback_so_far, window_end, to_expiry, t_settle, *args) - short)
        dims = window_times.size

    largest = largest_payment(spread, lookback_so_far, market, window_times) * discount
    return estimate(sample, dims, known_strikes, settings, spread.notional, largest)


def payoff(spread: LookbackSpread, strike, final):
    """One option's payment per unit at expiration: a put (puts on the highest close) or a call."""
    return np.maximum(final - strike, 0.0) if spread.is_call else np.maximum(strike - final, 0.0)


def european(spread: LookbackSpread, lookback: float | None, market: Market, t_expiry: float,
             t_settle: float) -> float:
    """The long leg with the lookback known (or the short leg, `lookback` None) at the surface's
    implied vol at its strike: exact under the local vol of that surface."""
    strike = spread.initial_strike * spread.initial if lookback is None else spread.lookback_strike * lookback
    args = (t_expiry, t_settle, market.implied_vols([strike], t_expiry)[0] if t_expiry > 0 and strike > 0 else 0.0,
            *market.flat_equivalent(t_expiry, t_settle))
    leg = spread.short_leg(market.spot, *args) if lookback is None else spread.long_leg(lookback, market.spot, *args)
    return float(leg)


STEPS_PER_DAY = 4  # local-vol Monte Carlo: Euler steps in log spot per calendar day


def local_vol_times(window_times: np.ndarray, t_expiry: float, changes: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """The local-vol paths' step times to expiration (every window day and every jump of the local
    vol in time, `changes`, one of them; each stretch between cut into steps of at most a quarter
    of a calendar day) and the window days' positions."""
    ends = sorted({*window_times.tolist(), t_expiry, *changes})
    times, observed, start = [], [], 0.0
    for end in ends:
        count = max(1, math.ceil((end - start) * 365 * STEPS_PER_DAY - 1e-9))
        times.extend(np.linspace(start, end, count + 1)[1:].tolist())
        if end in window_times:
            observed.append(len(times) - 1)
        start = end
    return np.array(times), np.array(observed)


def local_vol_paths(market: Market, times: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Index levels at `times` along paths of the local vol (Euler steps in log spot, the vol at
    each step's start and middle time, the curves' forward over it) from normals z (paths, steps)."""
    steps = np.diff(times, prepend=0.0)
    drifts = np.diff(market.log_growth(times), prepend=0.0)
    log_spot = np.full(len(z), math.log(market.spot))
    path = np.empty(z.shape)
    start = 0.0
    for i, (step, end) in enumerate(zip(steps, times)):
        vol = market.local_vol(np.exp(log_spot), (start + end) / 2, start, end)
        log_spot = log_spot + drifts[i] - 0.5 * vol * vol * step + vol * math.sqrt(step) * z[:, i]
        path[:, i] = np.exp(log_spot)
        start = end
    return path


def largest_payment(spread: LookbackSpread, lookback_so_far: float, market: Market, window_times) -> float:
    """The most the spread pays on any path the Monte Carlo can draw (its error floors' scale):
    notional x lookback_strike for puts below the highest close; for calls above the lowest,
    the payment at the short strike with the lowest close TAILS deviations down."""
    if spread.direction > 0:
        return spread.notional * spread.lookback_strike
    horizon = window_times[-1]
    variance = market.total_variance(market.spot, horizon)
    drift = float(market.log_growth(horizon)) - 0.5 * variance
    lowest = min(lookback_so_far, market.spot * math.exp(min(drift, 0.0) - TAILS * math.sqrt(variance)))
    return spread.notional * (spread.initial_strike * spread.initial / lowest - spread.lookback_strike)
