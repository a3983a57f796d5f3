"""A search that a test kills with SIGKILL at many points and restarts until it ends.

Usage: python chaos_script.py DIRECTORY STRATEGY [--slow]
STRATEGY is random, bayesian or hyperband (`tests.e2e.crash_searches.DRILL`).
With --slow, each epoch, each atomic write and each journal append takes a
little longer, and a marker file announces every write and every append, so
that kills land inside training, inside state writes, and inside an append
(between its two halves: a torn line).
"""

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import keras  # noqa: E402

from tests.conftest import make_data  # noqa: E402
from tests.e2e.crash_searches import DRILL, make_tuner  # noqa: E402
from tests.e2e.scripts import freeze_imports  # noqa: E402
from tuneweights import _io  # noqa: E402
from tuneweights.search import journal  # noqa: E402

freeze_imports()

EPOCHS = 5


def slow_down(directory):
    write = _io.replace_atomically

    def announced(path, writer, suffix=""):
        def slow_writer(tmp):
            writer(tmp)
            open(os.path.join(directory, f"writing-{os.getpid()}-{time.time_ns()}"), "w").close()
            time.sleep(0.15)  # the file is written, not yet renamed: a kill now must not hurt

        write(path, slow_writer, suffix)

    _io.replace_atomically = announced

    def torn_append(trial_dir, step, metrics):
        data = journal.line(step, metrics).encode()
        journal.append_bytes(trial_dir, data[: len(data) // 2])  # half a line, not synced
        open(os.path.join(directory, f"appending-{os.getpid()}-{time.time_ns()}"), "w").close()
        time.sleep(0.15)  # a kill now leaves a torn last line
        with open(journal.path(trial_dir), "ab") as f:
            f.write(data[len(data) // 2 :])
            f.flush()
            os.fsync(f.fileno())

    journal.append = torn_append


class SlowEpochs(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        time.sleep(0.2)


def main():
    directory, strategy = sys.argv[1:3]
    slow = "--slow" in sys.argv
    if slow:
        slow_down(directory)
    tuner = make_tuner(strategy, directory, max_restarts=100, **DRILL[strategy])
    x, y = make_data()
    tuner.search(
        x,
        y,
        validation_data=(x, y),
        epochs=EPOCHS,
        batch_size=16,
        shuffle=False,
        verbose=0,
        callbacks=[SlowEpochs()] if slow else [],
    )
    best = tuner.oracle.get_best_trials(1)[0]
    print(f"BEST {best.trial_id} {best.score!r}")


if __name__ == "__main__":
    main()
