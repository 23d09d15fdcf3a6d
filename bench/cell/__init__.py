"""One training cell: its record (train), the one loop (loop) and the runtime interface each
framework implements (runtime; tf_framework, jax_framework), the steps, log windows (timing),
evaluations during training (periodic), the model, devices, environment, generation, FLOPs and
test faults. Everything that imports a framework to train lives here."""
