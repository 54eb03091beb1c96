"""Batch runs: deal lists, template checks, the quote sheet, quote files, PDFs and the run itself."""
