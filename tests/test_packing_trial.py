"""`packing = "auto"`'s trial (bench.cell.jax_packed.measured_packing) on a simulated clock: each
fake program's dispatch advances the clock by its compile (first call) or its steps' cost, so
every figure the trial records can be worked by hand. The trial on real JAX programs, and the
trajectory after it, is tests/test_jax_framework.py's."""

import pytest

from bench.cell.jax_packed import MEASURED_PACKINGS, measured_packing


class Machine:
    """A clock, and programs whose steps cost `step_seconds[packing]` (times `slowdown` while
    it is set) after a first call of `compile_seconds`."""

    def __init__(self, step_seconds, compile_seconds=5.0, steps_a_dispatch=1):
        self.now, self.slowdown = 0.0, 1.0
        self.step_seconds, self.compile_seconds = step_seconds, compile_seconds
        self.steps_a_dispatch = steps_a_dispatch
        self.calls = {packing: 0 for packing in step_seconds}

    def clock(self):
        return self.now

    def build(self, packing):
        return packing

    def dispatch(self, packing):
        self.calls[packing] += 1
        if self.calls[packing] == 1:
            self.now += self.compile_seconds
        else:
            self.now += self.steps_a_dispatch * self.step_seconds[packing] * self.slowdown
        return self.steps_a_dispatch


def _trial(machine, **kw):
    return measured_packing(machine.build, machine.dispatch, clock=machine.clock, **kw)


def test_the_trial_keeps_the_packing_that_steps_fastest_and_records_each_rate():
    # costs that binary floats hold exactly, so that a round's end is not a rounding's
    machine = Machine({"loop": 0.125, "vmap": 0.1875})
    trial = _trial(machine)
    assert set(trial["step_seconds"]) == set(MEASURED_PACKINGS)
    assert trial["chosen"] == "loop"
    assert trial["step_seconds"] == pytest.approx({"loop": 0.125, "vmap": 0.1875})
    # a round lasts at least 0.5 s and two dispatches: 4 steps of loop, 3 of vmap (0.5625 s),
    # two rounds each, after one compile each
    assert machine.calls == {"loop": 1 + 2 * 4, "vmap": 1 + 2 * 3}
    assert trial["seconds"] == pytest.approx(2 * 5.0 + 2 * 0.5 + 2 * 0.5625)
    assert trial["rounds"] == 2


def test_a_study_programs_dispatch_counts_its_window_of_steps():
    machine = Machine({"loop": 0.25, "vmap": 0.0625}, steps_a_dispatch=2)
    trial = _trial(machine)
    assert trial["chosen"] == "vmap"
    assert trial["step_seconds"] == pytest.approx({"loop": 0.25, "vmap": 0.0625})


def test_a_round_slowed_by_other_work_is_outvoted_by_the_clean_round():
    """Rounds interleave: other work that slows vmap's first round (1.5 times: under the
    clearly-slower bar) and not loop's would flip the choice to loop if one round counted."""
    machine = Machine({"loop": 0.125, "vmap": 0.09375})
    dispatch = machine.dispatch

    def busy_during_vmaps_first_round(packing):
        # vmap's calls 2-5: its first round, four steps of 0.140625 s
        machine.slowdown = 1.5 if packing == "vmap" and 2 <= machine.calls["vmap"] + 1 <= 5 \
            else 1.0
        return dispatch(packing)

    trial = measured_packing(machine.build, busy_during_vmaps_first_round,
                             clock=machine.clock)
    assert trial["chosen"] == "vmap"
    assert trial["step_seconds"]["vmap"] == pytest.approx(0.09375)


def test_a_clearly_slower_packing_is_timed_once_not_every_round():
    """vmap's grouped convolutions on a CPU: its first round alone shows it loses."""
    machine = Machine({"loop": 0.125, "vmap": 0.3125})
    trial = _trial(machine, rounds=3)
    assert trial["chosen"] == "loop"
    assert machine.calls["vmap"] == 1 + 2  # the compile, one round of two dispatches (0.625 s)
    assert machine.calls["loop"] == 1 + 3 * 4
