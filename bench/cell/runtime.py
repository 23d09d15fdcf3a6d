"""What the one loop (bench.cell.loop) asks of a framework in a cell process: the runtime
interface, its products declared as protocols, and the one factory (`make_runtime`).

A framework's facts (its name, precisions, what its process keeps out, how the process starts)
are bench.frameworks' table; its runtime, a class in the framework's own module named by the
table's `runtime`, does the work:

- `device(cfg)` -> a `Device`: what the device says (its description, whether steps queue on
  it, where work is placed, its memory counter); a BenchError, before anything is written, when
  the device is not on this machine.
- `describe(device, cfg)`: the framework's part of env.json (bench.cell.envinfo builds the rest);
  `gpus_visible()`: how many GPUs it sees (the grid's placement asks).
- `build(cfg, device)` -> `Built` (generator, discriminator, `Step`): the models of the
  configuration's model seeded by cfg.seed, and one seed's step.
- `program(steps, cfg, device, split)` -> a `Program`: K seeds' steps as one callable (K = 1: a
  cell); a program that runs several steps a dispatch (the study program) says how many.
  The program owns its seeds' trained state: `write_back(k)` puts seed k's into its Keras
  variables, before seed k is evaluated, sampled or saved.
- `batches(split, cfg)`: endless training batches, shuffled by cfg.seed (for the study program,
  the batches' indices into the data set it holds on the device).
- `save_generator`, `generate`, `reset`: shared by the Keras frameworks; override where not.

Everything else a cell does (data, windows, timing phases, memory, evaluations, the record) is
the loop's, the same for every framework. Adding one: docs/how-to/add-a-framework.md.
"""

import importlib
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from typing import Any, NamedTuple, Protocol

from bench import frameworks
from bench.errors import BenchError


class Device(Protocol):
    description: str  # as env.json's `device` names it: "/CPU:0", "jax:gpu:0"
    asynchronous: bool  # steps queue on it (GPUs) rather than run as they are dispatched (CPUs)

    def placement(self) -> AbstractContextManager:
        """A context that places the training's work on the device."""

    def memory(self):
        """A bench.cell.devices.MemoryPeaks reading this device's counter."""


class Step(Protocol):
    """One seed's training step: called with one batch, it returns the four STEP_OUTPUTS as one
    row, unread (the loop reads a window's rows in one host sync)."""

    tracing_count: int | None  # traces of the step so far; None where nothing is traced

    def __call__(self, images): ...

    def loss_scales(self) -> dict:
        """Loss-scale fields for the log and the summary ({} without loss scaling)."""

    def write_back(self) -> None:
        """Put the step's trained state into its Keras variables (nothing to do for a step
        that trains the variables themselves)."""


class Program(Protocol):
    """K seeds' steps as one callable: a list of K batches in, K output rows out. Where
    `steps_per_dispatch` > 1, `run_window(step_batches, scales)` runs up to that many steps in
    one dispatch and gives (K, steps_per_dispatch, 4) rows, the first len(step_batches) real."""

    packing: str | None  # how K > 1 seeds share the program (bench.config.PACKINGS)
    tracing_count: int | None
    steps_per_dispatch: int

    def __call__(self, batches: list) -> list: ...

    def loss_scales(self, k: int) -> dict: ...

    def write_back(self, k: int) -> None:
        """Seed k's trained state into its own Keras variables."""


class Built(NamedTuple):
    """One seed's networks (Keras models) and its step."""

    generator: Any
    discriminator: Any
    step: Step


class OneSeed:
    """One seed's step as the loop's program (K = 1)."""

    packing = None
    steps_per_dispatch = 1

    def __init__(self, step: Step):
        self.step = step

    def __call__(self, batches):
        return [self.step(batches[0])]

    @property
    def tracing_count(self) -> int | None:
        return self.step.tracing_count

    def loss_scales(self, k: int) -> dict:
        return self.step.loss_scales()

    def write_back(self, k: int):
        self.step.write_back()


class Runtime(ABC):
    """A framework's work in a cell process (see the module docstring); `facts` is its row of
    bench.frameworks."""

    tensorboard = False  # whether log windows are also written as TensorBoard events

    def __init__(self, facts: frameworks.Framework):
        self.facts = facts

    @property
    def name(self) -> str:
        return self.facts.name

    @abstractmethod
    def device(self, cfg) -> Device: ...

    @abstractmethod
    def describe(self, device: Device, cfg) -> dict:
        """This framework's part of env.json: `versions` (the package's own and those the
        table lists), `device_model`, `gpus_visible`, `gpu` (None on the CPU), `tf32`, and
        `machine` (fields added to the host's record before it is fingerprinted)."""

    @abstractmethod
    def build(self, cfg, device: Device) -> Built: ...

    @abstractmethod
    def gpus_visible(self) -> int:
        """GPUs the framework sees in this process (the grid asks before placing cells)."""

    def program(self, steps: list, cfg, device: Device, split=None) -> Program:
        if len(steps) != 1:
            raise BenchError(f"framework {self.name} trains one seed a process; found "
                             f"{len(steps)}", field="seeds_per_process")
        return OneSeed(steps[0])

    @abstractmethod
    def batches(self, split, cfg): ...

    def save_generator(self, generator, path):
        from bench.cell.generate import save_generator

        save_generator(generator, path)

    def generate(self, generator, n: int, cfg):
        """n evaluation images from the fixed evaluation noise, sampled as the configuration's
        model is (bench.cell.generate)."""
        from bench.cell.generate import SamplePlan, generator_to_images

        return generator_to_images(generator, n, plan=SamplePlan.from_config(cfg))

    def reset(self):
        """Leave the process as it was for the next cell (the global precision policy)."""
        import keras

        keras.mixed_precision.set_global_policy("float32")


def make_runtime(name: str) -> Runtime:
    """The runtime of framework `name` (a configuration's `framework`), from its row of
    bench.frameworks."""
    if name not in frameworks.FRAMEWORKS:
        raise BenchError(f"expected one of {', '.join(frameworks.names())}, found {name!r}",
                         field="framework")
    facts = frameworks.framework(name)
    module, cls = facts.runtime.split(":")
    return getattr(importlib.import_module(module), cls)(facts)
