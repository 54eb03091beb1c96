"""The classic (Windows, COM) add-in: what xlwings' "Import Functions" hands to Excel.

xlwings.udfs needs pywin32, so its Windows-only modules are stubbed; the wrapper
generation and the MacroOptions calls that carry the help texts are xlwings' own code.
"""
import importlib
import importlib.util
import inspect
import re
import sys
import types
from pathlib import Path

import pytest
import xlwings

import udfs
from xlfuncs import excel

NOTE_VALUE_ARGS = ("spot, as_of, final_date, payment_date, vol, rate, div_yield, funding_spread, "
                   "initial, participation, buffer, max_return, min_payment")
WARRANT_VALUE_ARGS = ("spot, as_of, initial, upper_strike, lower_strike, window_start, window_end, "
                      "expiration, settlement, vol, rate, div_yield, Optional closes, Optional notional")
FUNCTIONS = {name: func for name, func in vars(udfs).items() if hasattr(func, "__xlfunc__")}
SIGNATURES = {
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
SIGNATURES.update({"BULL_" + name: signature for name, signature in SIGNATURES.items() if name.startswith("NOTE_")})


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


@pytest.fixture
def classic_import(monkeypatch):
    """Run xlwings' classic import_udfs on a fresh load of udfs.py with the classic decorators."""
    for name in ("pythoncom", "pywintypes", "win32com", "win32com.client", "win32com.server",
                 "win32com.server.exception"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    sys.modules["pythoncom"].CoInitialize = lambda: None
    sys.modules["pywintypes"].com_error = type("com_error", (Exception,), {})
    sys.modules["win32com.client"].Dispatch = lambda *args, **kwargs: None
    sys.modules["win32com.server.exception"].COMException = COMException
    monkeypatch.delitem(sys.modules, "xlwings.udfs", raising=False)
    classic = importlib.import_module("xlwings.udfs")
    # What xlwings/__init__.py binds on Windows with pywin32:
    monkeypatch.setattr(xlwings, "func", classic.xlfunc)
    monkeypatch.setattr(xlwings, "arg", classic.xlarg)
    monkeypatch.setattr(xlwings, "ret", classic.xlret)
    monkeypatch.setattr(classic, "__pro__", False)  # no embedded-code lookup in the workbook

    spec = importlib.util.spec_from_file_location("udfs", udfs.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(classic.udf_modules, "udfs",
                        {"filename": udfs.__file__, "filetime": None, "module": module})
    workbook = FakeWorkbook()
    classic.import_udfs("udfs", workbook)
    return workbook, module


def test_every_function_gets_a_vba_wrapper_with_its_arguments(classic_import):
    workbook, _ = classic_import
    declared = dict(re.findall(r"^Function (\w+)\((.*)\)$", workbook.vba, flags=re.M))
    assert declared == SIGNATURES
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


def test_classic_registered_functions_take_ndim2_ranges_and_default_omitted_optionals(classic_import):
    """call_udf passes an omitted Optional as the Python default and cells as 2-D lists (ndim=2),
    error cells as their text (err_to_str), so an error cell is refused, never read as blank.
    (Its conversion step itself needs the Windows "excel" engine, which cannot load here.)"""
    _, module = classic_import
    info = module.NOTE_PAYMENT.__xlfunc__
    assert all(arg["options"] == {"ndim": 2, "err_to_str": True} for arg in info["args"])
    assert info["args"][-1]["optional"] == 1000.0
    assert module.NOTE_PAYMENT([[95.0], [40.0], [None]], [[100.0]], [[3.0]], [[0.1]], [[0.23]],
                               [[0.1]], 1000.0) == [[1150.0], [1230.0], [None]]
    with pytest.raises(xlwings.XlwingsError, match=r"buffer must be a fraction: 1.5% is 0.015, got 1.5"):
        module.NOTE_PAYMENT([[95.0]], [[100.0]], [[3.0]], [[1.5]], [[0.23]], [[0.1]], 1000.0)
    with pytest.raises(xlwings.XlwingsError, match=r"principal is an error cell \(#REF!\)"):
        module.NOTE_PAYMENT([[95.0]], [[100.0]], [[3.0]], [[0.1]], [[0.23]], [[0.1]], [["#REF!"]])


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
    assert classic == officejs[0][0]
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
