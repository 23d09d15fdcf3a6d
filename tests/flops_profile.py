"""TensorFlow's own FLOP count of the traced training step, to check bench.cell.flops against.

TensorFlow's profiler (`tf.compat.v1.profiler` with `float_operation()`) sums the registered FLOP
statistics of every op in the traced graph, and reports about 1.5x the analytic count. The
difference is dead code: a tape's gradient function for a convolution emits both the input
gradient and the filter gradient, needed or not (the generator's tape emits the discriminator's
filter gradients, each tape re-emits the shared backward ops, nothing uses the gradient into the
noise). Grappler prunes those ops before the step runs. Counting only the ops that the step's
outputs and variable updates depend on gives exactly the analytic count, which is what the
record holds.
"""

from collections import defaultdict


def _op_flops(graph, op) -> int:
    from tensorflow.python.framework import ops as tf_ops

    try:
        return tf_ops.get_stats_for_node_def(graph, op.node_def, "flops").value or 0
    except (ValueError, TypeError):
        return 0  # ops without a registered FLOP statistic, or with unknown shapes


def live_ops(concrete_function) -> set:
    """Ops that an output or a stateful op (a variable update) depends on."""
    graph = concrete_function.graph
    sinks = [op for op in graph.get_operations()
             if op._is_stateful and op.type not in ("VarHandleOp", "Placeholder")]
    stack = sinks + [t.op for t in concrete_function.outputs]
    live = set()
    while stack:
        op = stack.pop()
        if op not in live:
            live.add(op)
            stack += [t.op for t in op.inputs] + list(op.control_inputs)
    return live


def traced_step_flops(step_fn, batch_size: int) -> dict:
    """Per-image FLOPs of the traced step: every op (the profiler's count) and live ops only."""
    cf = step_fn.concrete_function(batch_size)
    graph = cf.graph
    live = live_ops(cf)
    static, alive, dead_by_type = 0, 0, defaultdict(int)
    for op in graph.get_operations():
        f = _op_flops(graph, op)
        static += f
        if op in live:
            alive += f if op.type.startswith(("Conv2D", "MatMul")) else 0
        else:
            dead_by_type[op.type] += f
    return {"profiler_all_ops": static / batch_size, "live_dense_and_conv": alive / batch_size,
            "dead_by_type": {k: v / batch_size for k, v in dead_by_type.items() if v}}
