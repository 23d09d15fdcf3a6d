"""The framework a cell trains under, declared once: what the one loop (bench.cell.loop) asks of
TensorFlow and of JAX, and the one function that picks between them.

A framework builds the models and the step, steps K seeds' states as one program (K = 1 for a
cell), writes a trained state back into the Keras variables, saves and samples the generator,
says whether the instrument can run in its process, and describes its part of the environment
(bench.cell.envinfo builds env.json around it). Everything else a cell does (data, windows,
timing phases, memory, evaluations, the record) is the loop's, the same for every framework.

The frameworks are chosen in one function, bench.cell.frameworks.make_framework.

Adding a framework: docs/how-to/add-a-framework.md.
"""

from abc import ABC, abstractmethod

from bench.config import FRAMEWORKS
from bench.errors import BenchError

TENSORFLOW, JAX = FRAMEWORKS


class OneSeed:
    """One seed's step as the loop's program: K = 1 batches in, K = 1 outputs out."""

    def __init__(self, step):
        self.step = step

    def __call__(self, batches):
        return [self.step(batches[0])]

    @property
    def tracing_count(self) -> int:
        return self.step.tracing_count

    def hand_back(self):
        """The step holds its own state already (a packed program hands each seed's back)."""


class Framework(ABC):
    """What a framework provides to the loop. `device` is the framework's own device object."""

    name: str
    tensorboard = False  # whether log windows are also written as TensorBoard events

    @abstractmethod
    def resolve_device(self, cfg):
        """The cell's device; BenchError (before anything is written) when it is not here."""

    @abstractmethod
    def device_record(self, device) -> dict:
        """The device as config.json names it."""

    @abstractmethod
    def describe(self, device, cfg) -> dict:
        """This framework's part of env.json: `versions`, `device`, `device_model`,
        `gpus_visible`, `gpu` (None on the CPU), `tf32`, and `machine` (fields added to the
        host's record before it is fingerprinted)."""

    @abstractmethod
    def memory(self, device):
        """A bench.cell.devices.MemoryPeaks for the device."""

    @abstractmethod
    def build(self, cfg, device) -> tuple:
        """(generator, step): the models and optimizers seeded by cfg.seed under cfg.precision,
        and one seed's training step (call it with a batch; it returns the four STEP_OUTPUTS)."""

    def packing(self, cfg, device) -> str | None:
        """How K > 1 seeds are put in one program on this device (bench.cell.jax_packed), or
        None where the framework trains one seed a process."""
        return None

    def program(self, steps: list, cfg, device):
        """K seeds' steps as one callable (a list of K batches -> K output rows)."""
        if len(steps) != 1:
            raise BenchError(f"framework {self.name} trains one seed a process; "
                             f"found {len(steps)}", field="seeds_per_process")
        return OneSeed(steps[0])

    @abstractmethod
    def batches(self, split, cfg):
        """Endless training batches of the split, shuffled by cfg.seed."""

    @abstractmethod
    def placement(self, device):
        """A context manager that places the training's work on the device."""

    @abstractmethod
    def asynchronous(self, device) -> bool:
        """Whether steps queue on the device (GPUs) rather than run as dispatched (CPUs)."""

    def write_back(self, step):
        """Put the step's trained state into the Keras variables (before saving or sampling);
        a step that trains the Keras variables themselves (TensorFlow's) has nothing to do."""
        return None

    def save_generator(self, generator, path):
        from bench.cell.generate import save_generator

        save_generator(generator, path)

    def generate(self, generator, n: int):
        """n evaluation images from the fixed evaluation noise (bench.cell.generate)."""
        from bench.cell.generate import generator_to_images

        return generator_to_images(generator, n)

    def reset(self):
        """Leave the process as it was for the next cell (the global precision policy)."""
        import keras

        keras.mixed_precision.set_global_policy("float32")
