"""The HTML + Markdown report: render (the entry point), data (per-cell records as DataFrames),
tables, sections, figures (seaborn) and html. Reads records only: no TensorFlow, nothing from
cell/, evaluate/ or grid/."""
