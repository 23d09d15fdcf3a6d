"""One training cell: the loop (train), the step, log windows (timing), evaluations during
training (periodic), the model, data, devices, environment, generation, FLOPs and test faults.
Everything that imports TensorFlow to train lives here."""
