"""Cells whose precision this machine can only emulate: named before anything runs, or skipped.

`mixed_bfloat16` on a CPU without bfloat16 instructions and `mixed_float16` on any CPU run about
9 times slower than float32 (bench.machine.precision_support). A spec chosen because bfloat16
was faster on one machine would otherwise take hours on another without a word. Before a grid
runs, every part with such cells and more than EMULATED_STEPS_WARN steps a cell is named with
the slowdown; a part that says `emulated = "skip"` records those cells as skipped instead.
"""

from bench.grid.estimate import total_steps
from bench.machine import EMULATED, precision_support

EMULATED_STEPS_WARN = 300  # a few hundred emulated steps cost minutes; more than that, say so


def _support(cell, machine) -> dict:
    device = "cpu" if cell.config.device == "cpu" else "gpu"
    return precision_support(cell.config.precision, device, machine)


def emulation_skip_reason(cell, machine) -> str | None:
    """Why a cell is skipped for emulated precision (its part says emulated = "skip"), or None."""
    support = _support(cell, machine)
    if cell.emulated != "skip" or support["support"] != EMULATED:
        return None
    return (f"{cell.config.precision} is emulated on this machine ({support['why']}), about "
            f"{support['slowdown']:g} times slower than float32; the spec says emulated = "
            "\"skip\"")


def emulation_warnings(cells, machine) -> list[str]:
    """One line per part whose cells would run emulated precision for long."""
    by_part = {}
    for cell in cells:
        support = _support(cell, machine)
        if support["support"] == EMULATED and total_steps(cell.config) > EMULATED_STEPS_WARN:
            by_part.setdefault(cell.part, []).append((cell, support))
    lines = []
    for part, found in by_part.items():
        cell, support = found[0]
        steps = sorted({total_steps(c.config) for c, _ in found})
        lines.append(
            f"warning: {'part ' + part if part else 'this grid'}: {len(found)} cell(s) run "
            f"{cell.config.precision} emulated on this machine ({support['why']}): about "
            f"{support['slowdown']:g} times slower than float32, {', '.join(f'{s:,}' for s in steps)}"
            " steps a cell. Use float32, or emulated = \"skip\" in the spec to skip them.")
    return lines
