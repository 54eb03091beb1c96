"""The wheel holds every package of xlfuncs (a plain install has no checkout to fall back on)."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("core", "engines", "products", "excel", "workbooks", "batch", "book")


def test_every_xlfuncs_package_is_in_the_wheel():
    pyproject = (ROOT / "pyproject.toml").read_text()
    listed = ast.literal_eval(re.search(r"^packages = (\[.*?\])$", pyproject, re.M | re.S)[1])
    packages = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "xlfuncs").rglob("__init__.py")}
    assert packages == {"xlfuncs", *(f"xlfuncs.{layer}" for layer in LAYERS)}
    assert sorted(listed) == sorted(packages | {"xlfuncs.templates"})  # the templates, from workbooks/
    assert 'package-dir = {"xlfuncs.templates" = "workbooks"}' in pyproject


def test_an_installed_package_uses_its_own_templates(tmp_path, monkeypatch):
    """A user's workbooks/ folder beside an installed xlfuncs (pip --target, vendored code) is not
    taken for the package's templates."""
    from xlfuncs.products import layout
    (tmp_path / "xlfuncs" / "templates").mkdir(parents=True)
    (tmp_path / "workbooks").mkdir()
    monkeypatch.setattr(layout, "__file__", str(tmp_path / "xlfuncs" / "products" / "layout.py"))
    assert layout.template_folder() == tmp_path / "xlfuncs" / "templates"
    (tmp_path / "xlfuncs" / "templates").rmdir()  # a checkout: the templates beside the package
    assert layout.template_folder() == tmp_path / "workbooks"
