"""Run records as one pandas DataFrame: a row per cell, columns named by bench.schema.

Accepts run directories (with a manifest), cell directories (with a config.json), or folders that
hold either; a cell reached twice (runs/<grid>/ holds <run-id>/ and the `latest` link to it) is
one row. The rows come from the one reader of run directories (bench.rundirs), which migrates
older records. Nothing here imports TensorFlow.
"""

import pandas as pd

from bench import rundirs, schema


def load_results(paths) -> pd.DataFrame:
    """One row per cell (each cell once) from run or cell directories; BenchError if none."""
    return pd.DataFrame(rundirs.cell_rows(paths))


MEMORY_KIND_NAMES = {"gpu_allocator": "GPU allocator", "process_rss": "process RSS"}


def peak_memory_mib(results: pd.DataFrame) -> pd.DataFrame:
    """Peak memory in MiB for tables people read: one column per scope (training, process) and
    kind (GPU allocator, process RSS) present, so two kinds never share a column."""
    out = pd.DataFrame(index=results.index)
    for scope, size_col, kind_col in (("train", schema.PEAK_MEMORY_TRAIN_BYTES,
                                       schema.PEAK_MEMORY_TRAIN_KIND),
                                      ("process", schema.PEAK_MEMORY_PROCESS_BYTES,
                                       schema.PEAK_MEMORY_PROCESS_KIND)):
        if size_col not in results:
            continue
        mib = pd.to_numeric(results[size_col], errors="coerce") / schema.BYTES_PER_MIB
        for kind in sorted(results[kind_col].dropna().unique()):
            name = f"{scope} peak MiB ({MEMORY_KIND_NAMES.get(kind, kind)})"
            out[name] = mib.where(results[kind_col] == kind)
    return out
