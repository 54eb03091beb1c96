"""Bearish Buffer Securities: the supplement's worked examples, breakeven and scenario table."""
import subprocess
import sys

import pytest

import udfs
from xlfuncs.products.bearish_note import BearishBufferNote as BufferNote
from xlfuncs.supplement import NOTE

from oracles import NOTE_EXAMPLES, NOTE_TERMS, assert_printed


@pytest.mark.parametrize("name, final, underlying_return, payment", NOTE_EXAMPLES)
def test_example_pays_as_printed_in_excel(excel, name, final, underlying_return, payment):
    [[value]] = excel("NOTE_PAYMENT", float(final), *NOTE_TERMS)
    assert_printed(value, payment)


def test_examples_as_one_range_fill_a_column_of_the_same_shape(excel):
    finals = [[float(example[1])] for example in NOTE_EXAMPLES]
    column = excel("NOTE_PAYMENT", finals, *NOTE_TERMS)
    assert len(column) == 5 and all(len(row) == 1 for row in column)
    for [value], example in zip(column, NOTE_EXAMPLES):
        assert_printed(value, example[3])
    row = excel("NOTE_PAYMENT", [[95.0, 40.0, 105.0]], *NOTE_TERMS)
    assert row == [[1150.0, 1230.0, 1000.0]]


def test_blank_cells_in_a_range_give_blank_cells_and_an_error_cell_is_refused(excel):
    assert excel("NOTE_PAYMENT", [[95.0], [""], [None], [220.0]], *NOTE_TERMS) == [[1150.0], [""], [""], [100.0]]
    error_cell = {"type": "Error", "basicType": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}
    with pytest.raises(udfs.ExcelInputError, match=r"final is an error cell \(#N/A\) \(row 2, column 1"):
        excel("NOTE_PAYMENT", [[95.0], [error_cell], [220.0]], *NOTE_TERMS)


def test_note_table_rows_give_return_payment_and_total_return(excel):
    rows = excel("NOTE_TABLE", [[float(example[1])] for example in NOTE_EXAMPLES], *NOTE_TERMS)
    for (final, underlying_return, payment, total_return), example in zip(rows, NOTE_EXAMPLES):
        assert_printed(final, example[1])
        assert_printed(underlying_return, example[2])
        assert_printed(payment, example[3])
        assert total_return == pytest.approx(payment / 1000 - 1)
    # Example 1: "total return ... the absolute value of the underlying return multiplied by
    # the participation rate" = 5% x 300%; Example 2 is capped at the 23% maximum return.
    assert_printed(rows[0][3], "15.00%")
    assert_printed(rows[1][3], "23.00%")


def test_principal_scales_the_payment_and_blank_means_1000(excel):
    assert excel("NOTE_PAYMENT", 95.0, *NOTE_TERMS, 5000.0) == [[5750.0]]
    assert excel("NOTE_PAYMENT", 95.0, *NOTE_TERMS, "") == [[1150.0]]
    assert excel("NOTE_PAYMENT", 95.0, *NOTE_TERMS, None) == [[1150.0]]


def test_breakeven_at_par_is_the_final_buffer_value_110_percent(excel):
    assert excel("NOTE_BREAKEVEN", 1000.0, *NOTE_TERMS) == [[pytest.approx(110.0)]]
    seed_initial = 4365.98  # the underlying's close on Nov 6, 2023 quoted in the supplement
    [[breakeven]] = excel("NOTE_BREAKEVEN", 1000.0, seed_initial, *NOTE_TERMS[1:])
    assert breakeven == pytest.approx(1.10 * seed_initial)


@pytest.mark.parametrize("name, final, underlying_return, payment", [NOTE_EXAMPLES[0], NOTE_EXAMPLES[3]])
def test_breakeven_inverts_examples_off_the_cap_and_floor(name, final, underlying_return, payment):
    price = float(payment.replace("$", "").replace(",", ""))
    assert NOTE.breakeven(price) == pytest.approx(float(final))


def test_breakeven_at_the_maximum_payment_is_where_the_cap_starts():
    # 3 x |return| = 23%  ->  final = 100 x (1 - 0.23 / 3)
    assert NOTE.breakeven(1230.0) == pytest.approx(100 * (1 - 0.23 / 3))


@pytest.mark.parametrize("price, message", [
    (1230.01, "price must not exceed the maximum payment, principal x (1 + min(max_return, participation)) = 1230: no final value pays that much, got 1230.01"),
    (100.0, "price must be above the minimum payment, principal x min_payment = 100: every final value pays at least that, got 100"),
])
def test_breakeven_refuses_prices_no_final_value_defines(excel, price, message):
    with pytest.raises(Exception) as error:
        excel("NOTE_BREAKEVEN", price, *NOTE_TERMS)
    assert str(error.value) == message


def test_command_prints_the_examples_as_in_the_supplement():
    out = subprocess.run([sys.executable, "-m", "xlfuncs", "examples"], capture_output=True,
                         text=True, check=True).stdout
    for _, final, underlying_return, payment in NOTE_EXAMPLES:
        assert f"{final} | {underlying_return} | {payment} |" in out
    assert "breakeven at $1,000.00: final value 110.00" in out


def test_breakeven_uses_the_largest_reachable_payment_when_the_cap_is_out_of_reach():
    # 100% participation can add at most 100% (the underlying falls to 0), below a 200% cap.
    note = BufferNote(initial=100.0, participation=1.0, buffer=0.1, max_return=2.0, min_payment=0.1)
    assert note.maximum_payment == 2000.0
    assert note.breakeven(2000.0) == 0.0
    with pytest.raises(ValueError, match=r"must not exceed the maximum payment, .* = 2000:"):
        note.breakeven(2000.01)
