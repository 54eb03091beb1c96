"""Bearish Put Warrants: Tables 1 and 2 (every column), worked examples, breakeven and lookback value."""
import subprocess
import sys

import pytest

import udfs
from xlfuncs import supplement
from xlfuncs.products.put_warrant import PutWarrant
from xlfuncs.products.put_warrant import table_finals as supplement_finals

from oracles import SEED_WARRANT, TABLES, assert_printed, printed_rows

PREMIUM = 0.02728
HYPOTHETICAL = [100.0, 0.95, 0.75]  # initial, upper_strike, lower_strike


def table_finals(excel, lookback, rows):
    """Final values of a table: the printed ones, but the breakeven row at the exact breakeven
    (printed rounded to 94.117), found by WARRANT_BREAKEVEN."""
    [[breakeven]] = excel("WARRANT_BREAKEVEN", PREMIUM, HYPOTHETICAL[0], lookback, *HYPOTHETICAL[1:])
    return [[breakeven] if row[6] == "$0.00" else [float(row[0])] for row in rows]


@pytest.mark.parametrize("table", TABLES)
def test_every_cell_of_the_table_from_one_excel_call(excel, table):
    lookback, text = TABLES[table]
    rows = printed_rows(text)
    computed = excel("WARRANT_TABLE", table_finals(excel, lookback, rows), HYPOTHETICAL[0], lookback,
                     *HYPOTHETICAL[1:], PREMIUM)
    assert len(computed) == len(rows) == {"Table 1": 20, "Table 2": 21}[table]
    for got, row in zip(computed, rows):
        assert len(got) == 8
        for value, text_cell in zip(got, row):
            assert_printed(value, text_cell)


@pytest.mark.parametrize("table", TABLES)
def test_supplement_formatting_reproduces_the_printed_rows(table):
    lookback, text = TABLES[table]
    finals = supplement_finals(supplement.WARRANT, lookback)
    assert supplement.WARRANT.premium == PREMIUM
    assert supplement.warrant_rows(supplement.WARRANT, lookback, finals) == printed_rows(text)


def test_table_1_breakeven_row_long_differential_is_positive_by_definition(excel):
    [[*_, long_differential, short_differential, payment, _, _]] = excel(
        "WARRANT_TABLE", 92.272, HYPOTHETICAL[0], 100.0, *HYPOTHETICAL[1:], PREMIUM)
    assert long_differential == pytest.approx(+0.02728)  # printed "-2.728%"
    assert payment == pytest.approx(1000 * long_differential)
    assert short_differential == ""


# Examples 1-5: initial 100, lookback 100, upper strike 95, lower strike 75.
EXAMPLES = [
    ("Example 1: between the strikes", 80.0, "$150.00"),
    ("Example 2: between the strikes, below the premium", 93.0, "$20.00"),
    ("Example 3: at or below the lower strike", 70.0, "$200.00"),
    ("Example 4: above the upper strike, below the lookback", 97.0, "$0.00"),
    ("Example 5: above the upper strike", 105.0, "$0.00"),
]


@pytest.mark.parametrize("name, final, payment", EXAMPLES)
def test_example_pays_as_printed(excel, name, final, payment):
    [[value]] = excel("WARRANT_PAYMENT", final, HYPOTHETICAL[0], 100.0, *HYPOTHETICAL[1:])
    assert_printed(value, payment)


def test_examples_as_one_row_range(excel):
    finals = [[example[1] for example in EXAMPLES]]
    assert excel("WARRANT_PAYMENT", finals, HYPOTHETICAL[0], 100.0, *HYPOTHETICAL[1:]) == \
        [[pytest.approx(150.0), pytest.approx(20.0), pytest.approx(200.0), 0.0, 0.0]]


@pytest.mark.parametrize("lookback", [5907.55, 6000.0, 6144.81])
def test_seed_breakeven_is_92_272_percent_of_the_lookback_value(excel, lookback):
    [[breakeven]] = excel("WARRANT_BREAKEVEN", PREMIUM, SEED_WARRANT[0], lookback, *SEED_WARRANT[1:])
    assert breakeven / lookback == pytest.approx(0.92272, abs=5e-12)
    [[payment]] = excel("WARRANT_PAYMENT", breakeven, SEED_WARRANT[0], lookback, *SEED_WARRANT[1:])
    assert payment == pytest.approx(27.28)  # the premium, 2.728% of $1,000


def test_seed_lower_strike_value_is_4430_6625():
    assert PutWarrant(*SEED_WARRANT).initial_strike_value == pytest.approx(4430.6625, abs=1e-9)


def test_breakeven_refuses_a_premium_no_final_value_pays(excel):
    # Largest payment with lookback 100: (95 - 75) / 100 = 20% of notional.
    with pytest.raises(Exception, match="premium must not exceed the largest payment"):
        excel("WARRANT_BREAKEVEN", 0.2001, HYPOTHETICAL[0], 100.0, *HYPOTHETICAL[1:])


def test_notional_scales_the_payment(excel):
    assert excel("WARRANT_PAYMENT", 80.0, *HYPOTHETICAL[:1], 100.0, *HYPOTHETICAL[1:], 250.0) == \
        [[pytest.approx(37.5)]]


def test_lookback_value_is_the_highest_close_skipping_disrupted_days(excel):
    closes = [[5940.46], [5921.85], [""], [None], [6000.36], [5982.72]]
    assert excel("LOOKBACK_VALUE", closes, SEED_WARRANT[0]) == [[6000.36]]


def test_an_error_cell_among_the_closes_is_refused_not_skipped(excel):
    """A #REF! from a broken link must not pass as a disrupted day: only a blank is one."""
    broken = {"type": "Error", "basicType": "Error", "basicValue": "#REF!", "errorType": "Ref"}
    with pytest.raises(udfs.ExcelInputError, match=r"closes is an error cell \(#REF!\) \(row 2, column 1"):
        excel("LOOKBACK_VALUE", [[5940.46], [broken], [6000.36]], SEED_WARRANT[0])


def test_lookback_value_is_never_below_the_initial_value(excel):
    assert excel("LOOKBACK_VALUE", [[5802.82], [5888.55]], SEED_WARRANT[0]) == [[5907.55]]


def test_command_prints_both_tables_as_in_the_supplement():
    out = subprocess.run([sys.executable, "-m", "xlfuncs", "examples"], capture_output=True,
                         text=True, check=True).stdout
    for _, text in TABLES.values():
        for line in text.splitlines():
            assert line in out
