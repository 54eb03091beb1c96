"""The core: fields and Excel cells, market inputs, the NYSE calendar. Imports nothing of xlfuncs above it."""
