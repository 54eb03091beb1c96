"""The Excel functions, generated from the products' descriptions (udfs.py registers them with xlwings)."""
