"""Workbooks: sheet styles and helpers, xlsx editing, the template builder and the formulas calculation."""
