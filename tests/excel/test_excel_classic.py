"""The classic (Windows, COM) add-in: what xlwings' "Import Functions" hands to Excel.

xlwings.udfs needs pywin32, so its Windows-only modules are stubbed; the wrapper
generation and the MacroOptions calls that carry the help texts are xlwings' own code.
"""
import ctypes
import datetime as dt
import importlib
import importlib.util
import inspect
import re
import sys
import types
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
import xlwings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import udfs
from xlfuncs.excel import functions as excel

from helpers import SIGNATURES, check_outcome, good_args

FUNCTIONS = {name: func for name, func in vars(udfs).items() if hasattr(func, "__xlfunc__")}
NOTE_VALUE_ARGS = ("spot, as_of, final_date, payment_date, vol, rate, div_yield, funding_spread, "
                   "initial, participation, buffer, max_return, min_payment")
WARRANT_VALUE_ARGS = ("spot, as_of, initial, upper_strike, lower_strike, window_start, window_end, "
                      "expiration, settlement, vol, rate, div_yield, Optional closes, Optional notional")
PUBLISHED = {  # the signatures sales and traders' workbooks already call: they never change
    "NOTE_PAYMENT": "final, initial, participation, buffer, max_return, min_payment, Optional principal",
    "NOTE_BREAKEVEN": "price, initial, participation, buffer, max_return, min_payment, Optional principal",
    "NOTE_TABLE": "finals, initial, participation, buffer, max_return, min_payment, Optional principal, Optional columns",
    "LOOKBACK_VALUE": "closes, initial",
    "WARRANT_PAYMENT": "final, initial, lookback, upper_strike, lower_strike, Optional notional",
    "WARRANT_BREAKEVEN": "premium, initial, lookback, upper_strike, lower_strike, Optional notional",
    "WARRANT_TABLE": "finals, initial, lookback, upper_strike, lower_strike, premium, Optional notional, Optional columns",
    "NOTE_VALUE": NOTE_VALUE_ARGS + ", Optional principal",
    "NOTE_MC_VALUE": NOTE_VALUE_ARGS + ", Optional principal, Optional paths, Optional seed",
    "NOTE_GREEKS": NOTE_VALUE_ARGS + ", Optional principal",
    "NOTE_SOLVE_MAX_RETURN": "target_value, " + NOTE_VALUE_ARGS.replace("max_return, ", "")
                             + ", Optional principal",
    "WARRANT_VALUE": WARRANT_VALUE_ARGS,
    "WARRANT_MC_VALUE": WARRANT_VALUE_ARGS + ", Optional paths, Optional seed",
    "WARRANT_GREEKS": WARRANT_VALUE_ARGS,
    "WARRANT_IMPLIED_VOL": "price, " + WARRANT_VALUE_ARGS.replace("vol, ", ""),
    "TRADING_DAYS": "first_day, last_day, Optional holidays",
}
PUBLISHED.update({"BULL_" + name: signature for name, signature in PUBLISHED.items() if name.startswith("NOTE_")})


class FakeWorkbook:
    """Records what xlwings' import_udfs does to a workbook: the VBA module it imports and the help."""

    Name = "bearish_buffer_note.xlsm"

    def __init__(self):
        self.vba = None
        self.help = {}
        workbook = self

        class Components:
            def __call__(self, name):
                return name

            def Remove(self, component):
                pass

            def Import(self, path):
                workbook.vba = Path(path).read_text()

        class Application:
            Version = "16.0"

            def MacroOptions(self, macro, **options):
                workbook.help[macro] = options

        self.VBProject = types.SimpleNamespace(VBComponents=Components())
        self.Application = Application()


class COMException(Exception):
    """As pywin32's win32com.server.exception.COMException: a com_error with a description."""

    def __init__(self, description=None, scode=None, source=None, helpfile=None, helpContext=None,
                 desc=None, hresult=None):
        super().__init__(scode, description or desc, None, -1)
        self.description, self.scode = description or desc, scode


class ComRange:
    """A worksheet range as pywin32 hands it to xlwings' call_udf: a COM Range whose Value is
    what Excel's Range.Value gives (a scalar for one cell, rows of cells as tuples; Decimal for
    a currency-formatted cell, an integer code for an error, a pywintypes time for a date)."""

    IID = "{00020846-0000-0000-C000-000000000046}"  # Excel's Range interface, as is_range_instance checks

    def __init__(self, value):
        self.Value = value
        rows = value if isinstance(value, tuple) else ((value,),)
        self._oleobj_ = types.SimpleNamespace(GetTypeInfo=lambda: types.SimpleNamespace(
            GetTypeAttr=lambda: types.SimpleNamespace(iid=self.IID)))
        application = types.SimpleNamespace(Hwnd=1)
        self.Worksheet = types.SimpleNamespace(Parent=types.SimpleNamespace(Application=application))
        self.Row = self.Column = 1
        self.Rows, self.Columns = types.SimpleNamespace(Count=len(rows)), types.SimpleNamespace(Count=len(rows[0]))


MISSING = -2147352572  # what the VBA wrapper passes for an omitted Optional argument


def stub_pywin32(monkeypatch):
    """pywin32's modules as far as xlwings' classic code uses them on import and in call_udf."""
    names = ("pythoncom", "pywintypes", "win32api", "win32con", "win32gui", "win32process", "win32timezone",
             "win32com", "win32com.client", "win32com.server", "win32com.server.exception")
    stubs = {name: types.ModuleType(name) for name in names}
    for name, module in stubs.items():
        monkeypatch.setitem(sys.modules, name, module)
    stubs["pythoncom"].CoInitialize = lambda: None
    stubs["pythoncom"].__file__ = "pythoncom311.dll"
    stubs["pywintypes"].com_error = type("com_error", (Exception,), {})
    stubs["pywintypes"].error = type("error", (Exception,), {})
    stubs["pywintypes"].TimeType = PyTime
    stubs["pywintypes"].IID = str
    stubs["win32process"].GetWindowThreadProcessId = lambda hwnd: (1, 4242)
    stubs["win32timezone"].TimeZoneInfo = types.SimpleNamespace(utc=lambda: dt.timezone.utc)
    for name in ("Dispatch", "CDispatch", "CoClassBaseClass", "DispatchBaseClass", "DispatchEx"):
        setattr(stubs["win32com.client"], name, type(name, (), {}))
    stubs["win32com.server.exception"].COMException = COMException
    stubs["win32com"].client, stubs["win32com"].server = stubs["win32com.client"], stubs["win32com.server"]
    stubs["win32com.server"].exception = stubs["win32com.server.exception"]
    # Windows' DLLs, which xlwings' Windows engine touches on import
    monkeypatch.setattr(ctypes, "oledll", mock.MagicMock(), raising=False)
    monkeypatch.setattr(ctypes, "windll", mock.MagicMock(), raising=False)


class PyTime(dt.datetime):
    """pywintypes' time type: a datetime, as COM hands over date cells."""


def fresh(monkeypatch, name):
    """Import module `name` anew, removed again after the test."""
    spec = importlib.util.find_spec(name)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def classic(monkeypatch):
    """xlwings' classic add-in machinery on a fresh load of udfs.py: import_udfs (the VBA
    wrappers and the help Excel gets) run on a recording workbook, and call_udf, which converts
    COM ranges with xlwings' Windows engine exactly as Excel's calls do."""
    stub_pywin32(monkeypatch)
    with mock.patch.object(ctypes, "PyDLL", mock.MagicMock()):
        windows = fresh(monkeypatch, "xlwings._xlwindows")
    monkeypatch.setattr(xlwings, "_xlwindows", windows, raising=False)
    monkeypatch.setitem(xlwings.engines.engines_by_name, "excel", xlwings.main.Engine(impl=windows.engine))
    monkeypatch.setitem(sys.modules, "xlwings.com_server", types.SimpleNamespace(loop=None))  # the COM server
    classic_udfs = fresh(monkeypatch, "xlwings.udfs")
    # What xlwings/__init__.py binds on Windows with pywin32:
    monkeypatch.setattr(xlwings, "func", classic_udfs.xlfunc)
    monkeypatch.setattr(xlwings, "arg", classic_udfs.xlarg)
    monkeypatch.setattr(xlwings, "ret", classic_udfs.xlret)
    monkeypatch.setattr(classic_udfs, "__pro__", False)  # no embedded-code lookup in the workbook
    module = fresh(monkeypatch, "udfs")
    monkeypatch.setitem(classic_udfs.udf_modules, "udfs", {"filename": udfs.__file__, "filetime": None,
                                                           "module": module})
    workbook = FakeWorkbook()
    classic_udfs.import_udfs("udfs", workbook)

    def call(name, *cells):
        """Call function `name` as Excel does through the VBA wrapper: each argument a range's
        COM value (MISSING for an omitted one)."""
        return classic_udfs.call_udf("udfs", name, [cell if cell == MISSING else ComRange(cell) for cell in cells])

    return types.SimpleNamespace(workbook=workbook, module=module, call=call)


@pytest.fixture
def classic_import(classic):
    return classic.workbook, classic.module


def test_every_function_gets_a_vba_wrapper_with_its_arguments(classic_import):
    workbook, _ = classic_import
    declared = dict(re.findall(r"^Function (\w+)\((.*)\)$", workbook.vba, flags=re.M))
    assert declared == SIGNATURES  # every registered function, with its fields in order
    assert {name: declared[name] for name in PUBLISHED} == PUBLISHED
    for name, signature in SIGNATURES.items():
        args = ", ".join(arg.replace("Optional ", "") for arg in signature.split(", "))
        assert f'{name} = XLPy.CallUDF("udfs", "{name}", Array({args}), ThisWorkbook, ' \
               f'Application.Caller)' in workbook.vba


def test_function_wizard_shows_the_description_and_every_argument_help(classic_import):
    workbook, module = classic_import
    assert set(workbook.help) == {f"'{FakeWorkbook.Name}'!{name}" for name in SIGNATURES}
    for name in SIGNATURES:
        options = workbook.help[f"'{FakeWorkbook.Name}'!{name}"]
        func = getattr(module, name)
        assert options["Description"] == func.__doc__ and len(func.__doc__) <= 255
        params = list(inspect.signature(func).parameters)
        helps = [getattr(excel, name).fields[p].help for p in params]  # from the product's field table
        assert options["ArgumentDescriptions"] == helps
        assert all(len(text) <= 255 for text in helps)  # Excel's limit: nothing cut off


def test_classic_registered_functions_take_raw_cells_and_default_omitted_optionals(classic_import):
    """Every argument is read raw (xlwings does no work per cell); udfs.py makes plain cells of
    it (COM's tuples, empty cells), an omitted Optional is the Python default, and an error
    cell is refused by name, never read as blank."""
    _, module = classic_import
    info = module.NOTE_PAYMENT.__xlfunc__
    assert all(arg["options"] == {"convert": "raw"} for arg in info["args"])
    assert info["ret"]["options"] == {"convert": "raw"}
    assert info["args"][-1]["optional"] == 1000.0
    assert module.NOTE_PAYMENT(((95.0,), (40.0,), (None,), ("",)), 100.0, 3.0, 0.1, 0.23, 0.1, 1000.0) == [
        [1150.0], [1230.0], [""], [""]]
    with pytest.raises(xlwings.XlwingsError, match=r"buffer must be a fraction: 1.5% is 0.015, got 1.5"):
        module.NOTE_PAYMENT(95.0, 100.0, 3.0, 1.5, 0.23, 0.1, 1000.0)
    with pytest.raises(xlwings.XlwingsError, match=r"principal is an error cell \(#REF!\)"):
        module.NOTE_PAYMENT(95.0, 100.0, 3.0, 0.1, 0.23, 0.1, -2146826265)


def test_both_runtimes_register_the_same_functions():
    assert set(FUNCTIONS) == set(SIGNATURES) == {func.__name__ for func in excel.FUNCTIONS}


def test_dates_as_the_classic_runtime_delivers_them_give_the_same_values(classic_import, excel):
    """pywin32 hands date cells over as datetimes; Office.js as serial numbers."""
    import datetime as dt
    _, module = classic_import
    on = {"2023-11-29": 45259, "2024-12-02": 45628, "2024-12-05": 45631}
    terms = [[[4550.58]], None, None, None, [[0.15]], [[0.053]], [[0.015]], [[0.01]], [[4550.58]],
             [[3.0]], [[0.1]], [[0.23]], [[0.1]]]
    for position, day in zip((1, 2, 3), on):
        terms[position] = [[dt.datetime.fromisoformat(day)]]
    classic = module.NOTE_VALUE(*terms, 1000.0)
    officejs = excel("NOTE_VALUE", 4550.58, *on.values(), 0.15, 0.053, 0.015, 0.01, 4550.58, 3.0, 0.1, 0.23, 0.1)
    assert classic == officejs
    days = module.TRADING_DAYS([[dt.datetime(2025, 5, 21)]], [[dt.datetime(2025, 5, 28)]], None)
    assert days == [[dt.datetime(2025, 5, d)] for d in (21, 22, 23, 27, 28)]


# MS-VBAL 3.3.5.2, reserved identifiers: statement and marker keywords, operators, special forms,
# type names, literals, names reserved for the implementation and for the future. A parameter
# named with one of them makes xlwings' Import Functions fail for the whole module.
VBA_RESERVED = """
Call Case Close Const Declare Rem Array Circle InputB LBound UBound DefBool DefByte DefCur DefDate DefDbl DefInt DefLng DefLngLng DefLngPtr
DefObj DefSng DefStr DefVar Dim Do Else ElseIf End EndIf Enum Erase Event Exit For Friend Function Get
Global GoSub GoTo If Implements Input Let Lock Loop LSet Next On Open Option Print Private Public Put
RaiseEvent ReDim Resume Return RSet Seek Select Set Static Stop Sub Type Unlock Wend While With Write
Any As ByRef ByVal Each In New Shared Until WithEvents Optional ParamArray Preserve Spc Tab Then To
AddressOf And Eqv Imp Is Like Mod Not Or TypeOf Xor
Abs CBool CByte CCur CDate CDbl CDec CInt CLng CLngLng CLngPtr CSng CStr CVar CVErr Date Debug DoEvents
Fix Int Len LenB Me PSet Scale Sgn String
Boolean Byte Currency Double Integer Long LongLong LongPtr Single Variant
True False Nothing Empty Null
Attribute LineInput VB_Base VB_Control VB_Creatable VB_Customizable VB_Description VB_Exposed VB_Ext_KEY
VB_GlobalNameSpace VB_HelpID VB_Invoke_Func VB_Invoke_Property VB_Invoke_PropertyPut
VB_Invoke_PropertyPutRef VB_MemberFlags VB_Name VB_PredeclaredId VB_ProcData VB_TemplateDerived
VB_UserMemId VB_VarDescription VB_VarHelpID VB_VarMemberFlags VB_VarProcData VB_VarUserMemId
CDecl Decimal DefDec
Binary Error Mid Property Step Time Base Compare Explicit Text
""".split()  # the last line: further keywords of Microsoft's "Keywords (VBA)" page


def test_no_parameter_is_a_vba_reserved_word():
    """VBA is case-insensitive, and every runtime gets the same names."""
    reserved = {word.lower() for word in VBA_RESERVED}
    named = {(func.__name__, name) for func in excel.FUNCTIONS for name in inspect.signature(func).parameters}
    assert named and not {(function, name) for function, name in named if name.lower() in reserved}
    assert all(name.isidentifier() and name.isascii() and len(name) <= 255 for _, name in named)


def test_classic_errors_show_only_our_message(classic_import):
    """On Windows a bad input raises an error that is both pywin32's COMException, with our message
    as its description, and an XlwingsError: the classic VBA wrapper's `Err.Description` is then
    the message itself, not "Unexpected Python Error: Traceback ..." (xlwings issue #1108), and
    xlwings Server still answers 400."""
    _, module = classic_import
    with pytest.raises(COMException) as error:
        module.NOTE_PAYMENT([[95.0]], [[100.0]], [[3.0]], [[1.5]], [[0.23]], [[0.1]], 1000.0)
    cell = error.value.description  # what `NOTE_PAYMENT = Err.Description` puts in the cell
    assert cell == str(error.value) == "buffer must be a fraction: 1.5% is 0.015, got 1.5"
    assert error.value.scode == module.E_FAIL and isinstance(error.value, xlwings.XlwingsError)
    assert not cell.startswith("Unexpected Python Error")  # xlwings' DLL leaves other descriptions alone


def com_value(value, as_decimal=False):
    """A good argument (test_hostile_input.good_args) as Range.Value hands it over: rows of
    cells as tuples, numbers as Decimals where the cell is currency-formatted (Excel's Currency
    keeps four decimals)."""
    if isinstance(value, list):
        return tuple(tuple(com_value(cell, as_decimal) for cell in row) for row in value)
    if isinstance(value, float) and as_decimal:
        return Decimal(value).quantize(Decimal("0.0001"))
    return value


def same_values_as_floats(value):
    """The float a Decimal cell stands for, so both calls see the same numbers."""
    if isinstance(value, list):
        return [[same_values_as_floats(cell) for cell in row] for row in value]
    return float(com_value(value, True)) if isinstance(value, float) else value


AMOUNTS = {"principal", "notional", "target_value", "price"}  # the templates' "$" cells


@pytest.mark.parametrize("everything", [False, True], ids=["amounts", "every number"])
@pytest.mark.parametrize("name", sorted(set(SIGNATURES) - {"TRADING_DAYS"}))
def test_currency_cells_arrive_as_decimals_and_give_the_same_answer(classic, excel, name, everything):
    """Was: a "$"-formatted Principal reached the functions as Decimal('1000') and every template
    formula using it showed "principal must be a number, got Decimal('1000')"."""
    args = {arg: same_values_as_floats(value) for arg, value in good_args(name).items()}
    cells = [MISSING if value is None else com_value(value, everything or arg in AMOUNTS)
             for arg, value in args.items()]
    assert any(isinstance(cell, Decimal) for row in map(com_rows, cells) for cell in row) == bool(
        everything or AMOUNTS & set(args))
    expected = excel(name, *args.values())
    got = classic.call(name, *cells)
    assert (got if isinstance(got, list) else [[got]]) == expected


def com_rows(cell):
    return [c for row in cell for c in row] if isinstance(cell, tuple) else [cell]


# Microsoft's XlCVError enumeration; COM hands an error cell over as 0x800A0000 + its number
XL_CV_ERRORS = {2000: "#NULL!", 2007: "#DIV/0!", 2015: "#VALUE!", 2023: "#REF!", 2029: "#NAME?", 2036: "#NUM!",
                2042: "#N/A", 2043: "#GETTING_DATA", 2045: "#SPILL!", 2046: "#CONNECT!", 2047: "#BLOCKED!",
                2048: "#UNKNOWN!", 2049: "#FIELD!", 2050: "#CALC!"}


@pytest.mark.parametrize("number, text", [*XL_CV_ERRORS.items(), (2222, "Excel error 2222")])
def test_error_cells_the_classic_runtime_hands_over_as_codes_are_named(classic, number, text):
    """Was: #SPILL!, #CALC!, ... arrived as their COM codes and read "principal must be from
    1e-06 to 1e+12, got -2.14683e+09"."""
    args = good_args("NOTE_VALUE")
    cells = [com_value(value) for value in args.values()]
    cells[list(args).index("principal")] = -2146828288 + number
    with pytest.raises(COMException, match=re.escape(f"principal is an error cell ({text}): fix or clear it")):
        classic.call("NOTE_VALUE", *cells)
    warrant = good_args("WARRANT_VALUE")
    closes = [[cell] for cell in (5907.55, -2146828288 + number, 5907.55)]
    warrant["closes"] = closes
    with pytest.raises(COMException, match=re.escape(f"closes is an error cell ({text}) (row 2, column 1 of the "
                                                     "range)")):
        classic.call("WARRANT_VALUE", *(com_value(value) for value in warrant.values()))


def test_dates_and_blanks_as_com_hands_them_over(classic, excel):
    args = good_args("WARRANT_VALUE")
    cells = [PyTime(1899, 12, 30) + dt.timedelta(days=value) if arg in ("as_of", "window_start", "window_end",
                                                                         "expiration", "settlement")
             else com_value(value) for arg, value in args.items()]
    cells[list(args).index("closes")] = ((5907.55,), (None,), (5907.55,), (None,), (None,))
    args["closes"] = [[5907.55], [None], [5907.55], [None], [None]]
    assert classic.call("WARRANT_VALUE", *cells) == excel("WARRANT_VALUE", *args.values())
    days = classic.call("TRADING_DAYS", PyTime(2025, 5, 21), PyTime(2025, 5, 28), MISSING)
    assert days == [[dt.datetime(2025, 5, d, tzinfo=dt.timezone.utc)] for d in (21, 22, 23, 27, 28)]  # COM times


COM_HOSTILE = st.one_of(
    st.sampled_from([Decimal("-0"), Decimal("922337203685477.5807"), Decimal("-922337203685477.5808"),
                     Decimal("0.0001"), True, False, None, "", "#N/A", "abc",
                     PyTime(1899, 12, 30), PyTime(9999, 12, 31), -2147352572, 2 ** 63, -(2 ** 63)]),
    st.integers(-2146828298, -2146828288 + 0x10010),
    st.decimals(Decimal("-922337203685477.5808"), Decimal("922337203685477.5807"), places=4),  # Currency's range
    st.lists(st.lists(st.sampled_from([Decimal("1.5"), None, -2146826246, "x", 4000.0]), min_size=1, max_size=2)
             .map(tuple), min_size=1, max_size=3).map(tuple))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted(SIGNATURES)), st.data(), COM_HOSTILE)
def test_one_hostile_com_value_through_call_udf(classic, name, data, hostile):
    """What COM can hand over, one argument at a time, through xlwings' classic call path: a
    clear message naming the argument, or finite numbers."""
    args = good_args(name)
    argument = data.draw(st.sampled_from(sorted(args)))
    cells = [MISSING if value is None else com_value(value) for value in args.values()]
    cells[list(args).index(argument)] = hostile
    check_outcome(name, argument, lambda: classic.call(name, *cells), errors=(COMException,))
