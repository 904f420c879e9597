"""Training on several devices or machines with TensorFlow's own distribution strategies.

`train(..., strategy="mirrored")` (`python -m ttlib train --strategy mirrored`) runs the
one training loop under a `tf.distribute` strategy, as ddsp's `ddsp_run --strategy` does:

  default      one device (TensorFlow's default strategy): what training always did.
  mirrored     every GPU of this machine (or the CPU's logical devices, `split_cpu`), one
               replica each, variables mirrored (`tf.distribute.MirroredStrategy`).
  multiworker  several machines, each with its devices; the cluster comes from the
               `TF_CONFIG` environment variable (`tf.distribute.MultiWorkerMirroredStrategy`).
  tpu          a Cloud TPU, found by `tf.distribute.cluster_resolver.TPUClusterResolver`.

The global batch (the configuration's `batch_size`) is split into equal parts, one per
replica. Each replica's gradient is of the mean loss over its part; they are averaged
across replicas (an all-reduce), then clipped by their global norm and applied once, so
an update is the single-device update of the same global batch. ddsp's own `Trainer`
instead clips each replica's gradient and lets Keras sum them, so its update grows with
the number of replicas (`SplitBatchTrainer` here, `ddsp.training.trainers.Trainer` there).

What "the same" means under a strategy: the batches are the same (step k's global batch
depends only on the seed and k), the weights start the same, the gradient is averaged as
on one device; the filtered noise differs, as each replica draws its part of it from its
own stream, so the losses agree closely but not to the last digit (tests/test_distribute.py
states the tolerance). Same seed, same strategy and same number of replicas on the same
machine: the same losses. Checkpoints hold the variables once, so a run trained under a
strategy loads, resumes and transfers as any other. Notebook 06 trains on one device;
the README says how to train on GPUs and machines.
"""
from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

from ttlib.core.errors import ConfigError

if TYPE_CHECKING:
    import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multiworker", "tpu")
"""The strategies `make_strategy` knows."""


def split_cpu(count: int) -> None:
    """Make the CPU `count` logical devices, for `mirrored` on a machine without GPUs (tests, trying it out).

    Raises:
      ConfigError: TensorFlow already runs (this must come before anything runs on a device).
    """
    import tensorflow as tf

    if count < 1:
        raise ConfigError(f"split_cpu needs at least one device, not {count}.")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError:
        if len(tf.config.list_logical_devices("CPU")) != count:
            raise ConfigError("The CPU cannot be split once TensorFlow runs: split it first thing (a fresh Python, "
                              "or --split-cpu on the command line).") from None


def make_strategy(name: str = "default") -> tf.distribute.Strategy:
    """The `tf.distribute` strategy called `name` (see the module's list).

    mirrored uses every GPU, else every logical CPU device when the CPU was split
    (`split_cpu`), else the one CPU.

    Raises:
      ConfigError: an unknown name; multiworker without TF_CONFIG; tpu without a TPU.
    """
    import tensorflow as tf

    if name not in STRATEGIES:
        raise ConfigError(f"Unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}.")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multiworker":
        if not os.environ.get("TF_CONFIG"):
            raise ConfigError("--strategy multiworker reads the cluster from the TF_CONFIG environment variable "
                              "(see the README's training section), and it is not set.")
        return tf.distribute.MultiWorkerMirroredStrategy()
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as exc:
        raise ConfigError(f"No TPU found ({str(exc).splitlines()[0][:200]}); --strategy tpu runs on a Cloud TPU "
                          "VM. Use mirrored for GPUs.") from None
    return tf.distribute.TPUStrategy(resolver)


def is_chief(strategy) -> bool:
    """Whether this process writes the model folder: always, except in a multi-worker cluster, where the
    "chief" task does (or worker 0 when the cluster has no chief)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    if resolver.task_type == "chief":
        return True
    jobs = resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and int(resolver.task_id) == 0 and "chief" not in jobs


def distribute_batch(strategy, batch: dict) -> object:
    """A global batch ({name: [batch, ...] array}) as one equal part per replica.

    Raises:
      ConfigError: the batch does not split evenly.
    """
    import tensorflow as tf

    n = strategy.num_replicas_in_sync
    size = len(next(iter(batch.values())))
    if size % n:
        raise ConfigError(f"The batch of {size} examples does not split into {n} equal parts (one per replica); "
                          f"choose a configuration whose batch_size is a multiple of {n}.")
    part = size // n

    def value_fn(context):
        i = context.replica_id_in_sync_group
        return {k: tf.convert_to_tensor(v[i * part:(i + 1) * part]) for k, v in batch.items()}

    return strategy.experimental_distribute_values_from_function(value_fn)


@functools.cache
def split_batch_trainer_class() -> type:
    """`SplitBatchTrainer`: ddsp's `Trainer` with the update of the global batch under any strategy.

    A function, so that ddsp (and TensorFlow) load only when a model is trained.
    """
    import tensorflow as tf
    from ddsp.training import trainers

    class SplitBatchTrainer(trainers.Trainer):
        """Per replica: the gradient of its part's mean loss; then their mean, clipped once, applied once."""

        def train_step(self, inputs):
            """One step on a global batch ({name: array}): the mean of the replicas' losses."""
            losses = self._distributed_step(distribute_batch(self.strategy, inputs))
            return {k: self.strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None) for k, v in losses.items()}

        @tf.function
        def _distributed_step(self, batch):
            return self.strategy.run(self.step_fn, args=(batch,))

        def step_fn(self, batch):
            with tf.GradientTape() as tape:
                _, losses = self.model(batch, return_losses=True, training=True)
            variables = self.model.trainable_variables
            grads = tape.gradient(losses["total_loss"], variables)
            grads = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.MEAN, grads)
            grads, _ = tf.clip_by_global_norm(grads, self.grad_clip_norm)
            self.optimizer.apply_gradients(zip(grads, variables), skip_gradients_aggregation=True)
            return losses

    return SplitBatchTrainer
