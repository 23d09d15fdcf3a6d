"""A grid of cells: the spec (spec), the run directory's bookkeeping (run), the launchers
that run cells (local: one process per cell), the cell process itself (worker), and progress."""
