"""The instrument's forward pass on the CPU, one function a Keras backend (bench.frameworks names
each framework's as its `inference`): x, float32 NumPy, in; the model's outputs with
training=False, as NumPy, out.

Each compiles once, not once a call: TensorFlow's is a tf.function traced once for every batch
size (a None batch dimension); JAX's a jitted stateless call, compiled once a batch shape, its
weights put on the CPU once (a JAX cell on a GPU evaluates itself in process, on the CPU, as a
TensorFlow cell does).
"""

import numpy as np


def tensorflow_forward(model):
    import tensorflow as tf

    spec = tf.TensorSpec([None, 28, 28, 1], tf.float32)
    traced = tf.function(lambda x: model(x, training=False), input_signature=[spec])

    def forward(x):
        with tf.device("/CPU:0"):
            return [t.numpy() for t in traced(tf.constant(x))]

    return forward


def jax_forward(model):
    import jax

    cpu = jax.devices("cpu")[0]
    state = jax.device_put(([v.value for v in model.trainable_variables],
                            [v.value for v in model.non_trainable_variables]), cpu)
    compiled = jax.jit(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=False)[0])

    def forward(x):
        with jax.default_device(cpu):
            return [np.asarray(t) for t in compiled(*state, jax.device_put(x, cpu))]

    return forward
