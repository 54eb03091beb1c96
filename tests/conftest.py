"""Shared test set-up: xlwings' Office.js runtime (xlwings Server / Lite) as the add-in drives it,
and the fixtures; shared helpers are in helpers.py, independent truth in oracles.py."""
import os

# Before xlwings is first imported: its Office.js machinery under the free noncommercial
# key, for these tests only (commercial Server deployments need their own license).
os.environ["XLWINGS_ON_SERVER"] = "true"
os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

from helpers import officejs  # noqa: E402

settings.register_profile("thorough", max_examples=5000)  # pytest --hypothesis-profile=thorough


@pytest.fixture
def excel():
    return officejs


@pytest.fixture
def finer_grid(monkeypatch):
    """Call it to give the exact lookback engine a grid twice as fine with wider tails (10
    sigmas), its caches cleared; the grid and the caches are restored after the test."""
    from xlfuncs.engines import lookback
    from xlfuncs.products import lookback_warrant

    def clear():
        lookback.half_line_weights.cache_clear()
        lookback_warrant.engine_value.cache_clear()

    def switch():
        monkeypatch.setattr(lookback, "POINTS_PER_STDEV", 2 * lookback.POINTS_PER_STDEV)
        monkeypatch.setattr(lookback, "TAILS", 10.0)
        clear()
    yield switch
    clear()


