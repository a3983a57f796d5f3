"""A user's search script, run unchanged by a chief and by workers (keras-tuner's distributed mode).

Usage: python distributed_script.py DIRECTORY [--slow] [--heartbeat SECONDS] [--chief-timeout SECONDS]
The role comes from KERASTUNER_TUNER_ID ("chief" or a worker id),
KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT.
"""

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import keras  # noqa: E402

import tuneweights as tw  # noqa: E402
from tests.conftest import TwoSources, make_data  # noqa: E402
from tests.e2e.scripts import freeze_imports  # noqa: E402

freeze_imports()

TRIALS = 6
EPOCHS = 4


class Scheduled(TwoSources):
    terms = [
        TwoSources.terms[0],
        tw.Term(
            "b",
            "mse",
            output="pred",
            target="yb",
            weight=tw.ScheduleSearch(families=("constant", "step", "cosine")),
        ),
    ]


class Heartbeat(keras.callbacks.Callback):
    """Leaves a file per epoch begun (``beat-<worker>-<pid>-<epoch>-<ns>``), so that a test can kill a
    worker in mid-trial and see where each run of a trial started."""

    def __init__(self, directory, slow):
        super().__init__()
        self.directory = directory
        self.slow = slow

    def on_epoch_begin(self, epoch, logs=None):
        name = f"beat-{os.environ.get('KERASTUNER_TUNER_ID')}-{os.getpid()}-{epoch}-{time.time_ns()}"
        open(os.path.join(self.directory, name), "w").close()
        if self.slow:
            time.sleep(0.5)


def option(name, default):
    return float(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def main():
    directory = sys.argv[1]
    slow = "--slow" in sys.argv
    tuner = tw.RandomSearch(
        Scheduled(),
        objective="val_a_loss",
        max_trials=TRIALS,
        seed=3,
        directory=directory,
        project_name="dist",
        checkpoint_every=1,  # a taken-over trial goes on from its last epoch
        pruner=tw.MedianStopping(warmup=1, min_trials=2),
        heartbeat_timeout=option("--heartbeat", 600.0),
        chief_timeout=option("--chief-timeout", 600.0),
    )
    x, y = make_data()
    tuner.search(
        x, y, validation_data=(x, y), epochs=EPOCHS, verbose=0, callbacks=[Heartbeat(directory, slow)]
    )


if __name__ == "__main__":
    main()
