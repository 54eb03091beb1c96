"""The stress grid's cells when an engine refuses some of them: a batch of spots that fails is
valued spot by spot, so only the spots the engine refuses are left out (the second review
found whole columns lost at extreme inputs), and vol shifts out of a vol's range are left out."""
import datetime as dt

import numpy as np

from xlfuncs.book.marks import SPOT_MOVES, VOL_SHIFTS, stress_grid
from xlfuncs.core.fields import TermError
from xlfuncs.core.market import Market
from xlfuncs.products.product import Life

MARKET = Market(100.0, dt.date(2025, 6, 12), 0.08, 0.04, 0.01)


def linear_value(contract, market, spots):
    """A value the test can compute: 2 x spot + 1000 x vol; refuses spots below 80."""
    spots = np.asarray(spots, float)
    if (spots < 80).any():
        raise TermError("spot too far for this engine")
    return 2 * spots + 1000 * market.vol


LIFE = Life(None, None, linear_value, None, None)


def test_a_refused_spot_is_left_out_alone():
    grid = stress_grid(LIFE, None, MARKET, 2 * 100 + 1000 * 0.08)
    for i, move in enumerate(SPOT_MOVES):
        for j, shift in enumerate(VOL_SHIFTS):
            if 0.08 + shift < 0.005:  # -10 points: below the least vol
                assert np.isnan(grid[i, j])
            elif move < -0.2:  # spots of 70 and 75: refused by the engine
                assert np.isnan(grid[i, j])
            else:
                assert abs(grid[i, j] - (200 * move + 1000 * shift)) < 1e-9
    assert grid[SPOT_MOVES.index(0.0), VOL_SHIFTS.index(0.0)] == 0.0
