"""The daily book: positions marked on a snapshot, their risk, stress and P&L explain."""
