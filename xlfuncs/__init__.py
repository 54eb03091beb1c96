"""Pricing and quoting of S&P 500-linked Bearish Buffer Securities and Bearish Put Warrants."""
