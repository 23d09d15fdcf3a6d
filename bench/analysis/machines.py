"""Which machines two runs came from, and whether their throughput may be compared.

Throughput depends on the machine (an AVX-512 host trains 6-8 times faster than an AVX2 one of
the same kind, and both say "AMD EPYC"), so a comparison of throughput holds only between cells
with the same machine fingerprint (bench.machine). Quality (FID, classifier score, collapse
across seeds) does not depend on the machine and may still be compared, with the difference
named. Records from before fingerprints say nothing about their machine: two such runs are
compared as before; such a run against a fingerprinted one counts as a different machine.
Nothing here imports TensorFlow.
"""

import pandas as pd

from bench import schema
from bench.analysis.runs import Run, run_machines
from bench.errors import BenchError
from bench.machine import fingerprint_difference

# How a comparison treats two runs from different machines.
SAME_MACHINE = "same machine"
ACROSS_MACHINES = "across machines"  # throughput compared anyway, every output says so
QUALITY_ONLY = "quality only"  # throughput left out


def _fingerprints(pairs: pd.DataFrame, side: str) -> list[str | None]:
    column = f"{schema.MACHINE_FINGERPRINT}_{side}"
    values = pairs[column] if column in pairs else [None] * len(pairs)
    return [v if isinstance(v, str) else None for v in values]


def machine_check(baseline: Run, candidate: Run, pairs: pd.DataFrame) -> dict:
    """Whether every matched pair of cells ran on one machine: `same`, each side's
    fingerprints, the cells that differ and, field by field, how their machines differ.
    A cell that never ran (skipped, no env.json) has no machine and is not counted."""
    matched = pairs[pairs["matched"]]
    b, c = _fingerprints(matched, "b"), _fingerprints(matched, "c")
    has_env = [_ran(row, "b") and _ran(row, "c") for _, row in matched.iterrows()]
    differ = [(x, y) for x, y, ran in zip(b, c, has_env) if ran and x != y]
    machines = {"baseline": run_machines(baseline.info), "candidate": run_machines(candidate.info)}
    differences = []
    for fb, fc in sorted(set(differ), key=str):
        fields = fingerprint_difference(machines["baseline"].get(fb), machines["candidate"].get(fc))
        differences.append({"baseline": fb or "unknown", "candidate": fc or "unknown",
                            "differs_in": fields})
    return {"same": not differ,
            "baseline": sorted({f or "unknown" for f in b}),
            "candidate": sorted({f or "unknown" for f in c}),
            "cells_differing": len(differ), "differences": differences}


def _ran(row, side: str) -> bool:
    """The cell started and its record says where (not skipped, missing or unreadable)."""
    return row.get(f"status_{side}") not in (schema.STATUS_SKIPPED, schema.STATUS_MISSING,
                                             schema.STATUS_UNREADABLE, None)


def machines_sentence(check: dict) -> str:
    """One line naming both sides' fingerprints and what differs."""
    parts = [f"baseline {d['baseline']} vs candidate {d['candidate']}"
             + (f" ({'; '.join(d['differs_in'])})" if d["differs_in"] else "")
             for d in check["differences"]]
    return f"{check['cells_differing']} matched cell(s) ran on different machines: " + \
        " | ".join(parts)


def refuse_across_machines(baseline: Run, candidate: Run, check: dict):
    raise BenchError(
        f"runs {baseline.id} and {candidate.id} do not compare: {machines_sentence(check)}. "
        "Throughput depends on the machine; --across-machines compares it anyway (every output "
        "says so), --quality-only compares quality alone")
