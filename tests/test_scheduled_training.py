"""Schedules and loss switches inside `model.fit`: closed forms, no retracing, saved state."""

import copy
import dataclasses
import json

import keras
import numpy as np
import pytest

import tuneweights as tw
from tests.conftest import linear_base, linear_data
from tuneweights import schedules as S
from tuneweights import switches as W


def data(n=32, seed=0):
    return linear_data(n, seed)


def frozen(terms):
    """A WeightedModel whose parameters never move (learning rate 0): losses are closed forms."""
    model = tw.WeightedModel(linear_base(), terms)
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    return model


class TraceCounter(keras.callbacks.Callback):
    """Counts traces of the loss (it runs in Python only while a step is traced)."""

    def __init__(self, model):
        super().__init__()
        self.traces = 0
        self.after_each_epoch = []
        original = model.compute_loss

        def counting(*args, **kwargs):
            self.traces += 1
            return original(*args, **kwargs)

        model.compute_loss = counting

    def on_epoch_end(self, epoch, logs=None):
        self.after_each_epoch.append(self.traces)


def closed_forms(x, y):
    pred = x @ np.array([[1.0], [-2.0], [0.5]])
    return {
        "mse_a": float(np.mean((pred - y["ya"]) ** 2)),
        "mae_a": float(np.mean(np.abs(pred - y["ya"]))),
        "mse_b": float(np.mean((pred - y["yb"]) ** 2)),
    }


def test_epoch_schedule_sets_each_epochs_weight_and_loss():
    x, y = data()
    schedule = S.Step(start=2.0, end=0.0, at=0.5)
    model = frozen(
        [
            tw.Term("a", "mse", output="pred", target="ya"),
            tw.Term("b", "mse", output="pred", target="yb", weight=schedule),
        ]
    )
    h = model.fit(x, y, epochs=4, batch_size=8, verbose=0).history
    assert h["b_weight"] == [2.0, 2.0, 0.0, 0.0]
    forms = closed_forms(x, y)
    for epoch, weight in enumerate([2.0, 2.0, 0.0, 0.0]):
        np.testing.assert_allclose(h["loss"][epoch], forms["mse_a"] + weight * forms["mse_b"], rtol=1e-5)


def test_step_schedule_is_recomputed_inside_the_train_step():
    x, y = data(32)
    schedule = S.Linear(start=1.0, end=0.0)
    model = frozen(
        [
            tw.Term("a", "mse", output="pred", target="ya"),
            tw.Term("b", "mse", output="pred", target="yb", weight=schedule, update="step"),
        ]
    )
    counter = TraceCounter(model)
    h = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0, callbacks=[counter]).history
    expected = [schedule.value(epoch + 3 / 4, 3) for epoch in range(3)]  # the epoch's last of 4 steps
    np.testing.assert_allclose(h["b_weight"], expected, rtol=1e-6)
    batches = [
        closed_forms(x[i : i + 8], {k: val[i : i + 8] for k, val in y.items()}) for i in range(0, 32, 8)
    ]
    for epoch in range(3):
        losses = [
            f["mse_a"] + schedule.value(epoch + step / 4, 3) * f["mse_b"] for step, f in enumerate(batches)
        ]
        np.testing.assert_allclose(h["loss"][epoch], np.mean(losses), rtol=1e-5)
    assert len(set(counter.after_each_epoch)) == 1


def test_epoch_switch_uses_loss_a_then_b():
    x, y = data()
    model = frozen(
        [
            tw.Term("a", W.SwitchAt("mse", "mae", at=2, unit="epoch"), output="pred", target="ya"),
            tw.Term("b", "mse", output="pred", target="yb", weight=0.0),
        ]
    )
    h = model.fit(x, y, epochs=4, batch_size=8, verbose=0).history
    forms = closed_forms(x, y)
    np.testing.assert_allclose(h["a_loss"], [forms["mse_a"]] * 2 + [forms["mae_a"]] * 2, rtol=1e-5)
    assert h["a_switch_epoch"] == [-1.0, -1.0, 2.0, 2.0]


@pytest.mark.parametrize("patience, expected", [(1, 1.0), (2, 2.0)])
def test_metric_switch_waits_for_patience(patience, expected):
    x, y = data()
    switch = W.SwitchOnMetric("mse", "mae", monitor="val_a_loss", threshold=1e9, patience=patience)
    model = frozen(
        [tw.Term("a", switch, output="pred", target="ya"), tw.Term("b", "mse", output="pred", target="yb")]
    )
    h = model.fit(x, y, validation_data=(x, y), epochs=4, batch_size=8, verbose=0).history
    # the condition holds from epoch 0; the new loss is used from the epoch after `patience` epochs
    assert h["a_switch_epoch"] == [-1.0] * int(expected) + [expected] * (4 - int(expected))
    forms = closed_forms(x, y)
    np.testing.assert_allclose(h["a_loss"][-1], forms["mae_a"], rtol=1e-5)


def test_metric_switch_with_a_missing_monitor_names_the_logged_quantities():
    x, y = data()
    switch = W.SwitchOnMetric("mse", "mae", monitor="val_nope", threshold=1.0)
    model = frozen(
        [tw.Term("a", switch, output="pred", target="ya"), tw.Term("b", "mse", output="pred", target="yb")]
    )
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `terms\['a'\].loss.monitor` must be one of the logged names \[.*'a_loss'.*\]. Received: terms\['a'\].loss.monitor='val_nope'",
    ):
        model.fit(x, y, epochs=1, verbose=0)


@pytest.mark.parametrize("threshold, switched", [(1e9, 0.0), (1e-9, -1.0)])
def test_state_switch_on_the_running_error(threshold, switched):
    x, y = data()
    switch = W.SwitchOnState("mse", "mae", threshold=threshold, quantity="mae")
    model = frozen(
        [tw.Term("a", switch, output="pred", target="ya"), tw.Term("b", "mse", output="pred", target="yb")]
    )
    h = model.fit(x, y, epochs=2, batch_size=8, verbose=0).history
    assert h["a_switch_epoch"] == [switched, switched]


@pytest.mark.parametrize(
    "once, loss, switch_epoch",
    # batch 1: |error| 0, under the threshold; batch 2: |error| 2, over it
    [(True, (0.0 + 2.0) / 2, 0.0), (False, (0.0 + 4.0) / 2, -1.0)],
)
def test_a_state_switch_that_is_not_final_switches_back_when_the_state_says_so(once, loss, switch_epoch):
    x, _ = data(16)
    pred = x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")
    ya = np.concatenate([pred[:8], pred[8:] + 2.0]).astype("float32")
    switch = W.SwitchOnState("mse", "mae", threshold=1.0, quantity="mae", momentum=0.0, once=once)
    model = frozen([tw.Term("a", switch, output="pred", target="ya")])
    h = model.fit(x, {"ya": ya}, epochs=2, batch_size=8, shuffle=False, verbose=0).history
    # once: mae on batch 2 as well (|2|); not once: back to mse on batch 2 (2 ** 2)
    np.testing.assert_allclose(h["a_loss"], [loss, loss], rtol=1e-6)
    assert h["a_switch_epoch"] == [switch_epoch, switch_epoch if once else -1.0]


def test_no_retrace_across_weight_changes_and_all_switches():
    x, y = data()
    terms = [
        tw.Term("a", W.SwitchAt("mse", "mae", at=0.3), output="pred", target="ya", weight=S.Cosine(2.0, 0.1)),
        tw.Term(
            "b",
            W.SwitchOnMetric("mse", "huber", monitor="val_b_loss", threshold=1e9),
            output="pred",
            target="yb",
            weight=S.Linear(1.0, 0.0),
            update="step",
        ),
        tw.Term(
            "c",
            W.SwitchOnState("mse", "mae", threshold=0.5),
            output="pred",
            target="ya",
            weight=S.Step(1.0, 0.0, at=0.5),
        ),
    ]
    model = tw.WeightedModel(linear_base(), terms)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    counter = TraceCounter(model)

    class Reweight(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.model.assign_term_weights({"c": float(epoch)})

    h = model.fit(
        x, y, validation_data=(x, y), epochs=6, batch_size=8, verbose=0, callbacks=[Reweight(), counter]
    ).history
    assert h["a_switch_epoch"][-1] == 2.0 and h["b_switch_epoch"][-1] == 1.0
    assert len(set(h["a_weight"])) > 1 and len(set(h["b_weight"])) > 1
    assert counter.after_each_epoch == [counter.after_each_epoch[0]] * 6  # nothing traced after epoch 0


def test_promoted_run_sees_the_same_weights_as_a_run_from_zero():
    x, y = data()

    def run(initial_epoch):
        model = frozen(
            [
                tw.Term("a", "mse", output="pred", target="ya"),
                tw.Term("b", "mse", output="pred", target="yb", weight=S.Cosine(3.0, 0.0)),
            ]
        )
        model.horizon = 6
        return model.fit(x, y, initial_epoch=initial_epoch, epochs=4, verbose=0).history["b_weight"]

    assert run(0)[2:] == run(2)


def test_switch_and_schedule_state_is_saved_with_the_weights(tmp_path):
    x, y = data()

    def make():
        return frozen(
            [
                tw.Term("a", W.SwitchAt("mse", "mae", at=0), output="pred", target="ya"),
                tw.Term("b", "mse", output="pred", target="yb", weight=S.Step(1.0, 0.0, at=0.5)),
            ]
        )

    model = make()
    model.fit(x, y, epochs=4, verbose=0)
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    other = make()
    other.optimizer.build(other.trainable_variables)
    other.load_weights(path)
    assert other.term_weights()["b"] == 0.0
    assert (
        float(other._switch_states[0].switched) == 1.0 and float(other._switch_states[0].switch_epoch) == 0.0
    )


def test_unresolved_searches_are_refused_in_a_plain_weighted_model():
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `terms\['b'\].weight` must be a number or a Schedule in a WeightedModel",
    ):
        tw.WeightedModel(
            linear_base(),
            [
                tw.Term("a", "mse", output="pred"),
                tw.Term("b", "mse", output="pred", weight=tw.ScheduleSearch()),
            ],
        )
    switch = W.SwitchAt("mse", "mae", at=tw.Range(0.1, 0.9, sampling="linear"))
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `terms\['a'\].loss` must have values for its searched fields"
    ):
        tw.WeightedModel(linear_base(), [tw.Term("a", switch, output="pred")])


# -- switches: validation and the contract every registered switch keeps ------------


def test_switch_validation_messages():
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `at` must lie in \[0, 1\] with unit='fraction'. Received: at=3",
    ):
        W.SwitchAt("mse", "mae", at=3)
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `before` must be a loss name known to `keras.losses.get`"
    ):
        W.SwitchAt("msee", "mae")
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `patience` must be an int >= 1. Received: patience=0"
    ):
        W.SwitchOnMetric(monitor="val_a_loss", patience=0)
    with pytest.raises(tw.ConfigurationError, match=r"Argument `mode` must be one of \['below', 'above'\]"):
        W.SwitchOnMetric(monitor="val_a_loss", mode="under")
    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `momentum` must be in \[0, 1\). Received: momentum=1.0"
    ):
        W.SwitchOnState(momentum=1.0)
    with pytest.raises(tw.ConfigurationError, match=r"Argument `quantity` must be one of \['mae', 'loss'\]"):
        W.SwitchOnState(quantity="rmse")
    with pytest.raises(
        tw.ConfigurationTypeError,
        match=r"Argument `once` must be a bool. Received: once='no' \(of type str\)",
    ):
        W.SwitchOnState(once="no")
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `threshold` must be a finite number >= 0. Received: threshold=-1",
    ):
        W.SwitchOnState(threshold=-1)
    with pytest.raises(tw.ConfigurationTypeError, match=r"Argument `monitor` must be a logged name \(str\)"):
        W.SwitchOnMetric(monitor=3)
    with pytest.raises(
        tw.ConfigurationError,
        match=r"Argument `identifier` must name a registered switch, one of \['epoch', 'metric', 'state'\]",
    ):
        W.get({"name": "sometimes"})


EXAMPLES = [
    W.SwitchAt("mse", keras.losses.Huber(), at=0.25),
    W.SwitchAt("mse", "mae", at=tw.Range(1.0, 5.0, sampling="linear"), unit="epoch"),
    W.SwitchOnMetric(
        "mse", "mae", monitor="val_a_loss", threshold=tw.Range(0.01, 1.0), mode="above", patience=3
    ),
    W.SwitchOnState("mae", "mse", threshold=0.2, quantity="loss", momentum=0.5),
]


def test_every_registered_switch_has_an_example():
    assert {type(s).name for s in EXAMPLES} == set(W.registered())


@pytest.mark.parametrize("switch", EXAMPLES, ids=lambda s: type(s).name)
def test_switch_contract_json_round_trip_and_deepcopy(switch):
    back = W.get(json.loads(json.dumps(W.serialize(switch))))
    assert type(back) is type(switch)
    assert W.serialize(back) == W.serialize(switch)
    assert W.serialize(copy.deepcopy(switch)) == W.serialize(switch)
    term = tw.Term("t", switch)
    assert tw.Term.from_config(json.loads(json.dumps(term.get_config()))).get_config() == term.get_config()


def test_unknown_length_data_learns_the_epoch_length_for_step_schedules():
    import tensorflow as tf

    x, y = data(32)

    def batches():
        for i in range(0, 32, 8):
            yield x[i : i + 8], {k: val[i : i + 8] for k, val in y.items()}

    signature = (
        tf.TensorSpec((None, 3), "float32"),
        {"ya": tf.TensorSpec((None, 1), "float32"), "yb": tf.TensorSpec((None, 1), "float32")},
    )
    dataset = tf.data.Dataset.from_generator(batches, output_signature=signature)  # no known length
    schedule = S.Linear(start=1.0, end=0.0)
    model = frozen(
        [
            tw.Term("a", "mse", output="pred", target="ya"),
            tw.Term("b", "mse", output="pred", target="yb", weight=schedule, update="step"),
        ]
    )
    h = model.fit(dataset, epochs=3, verbose=0).history
    # Epoch 0 does not know its length; it is then learned from the optimizer's step count (Keras may
    # count a last, empty step of a generator), and from epoch 1 on the weight moves within the epoch.
    steps = float(model._steps_per_epoch)
    assert steps >= 4
    expected = [schedule.value(e + (steps - 1) / steps, 3) for e in (1, 2)]
    np.testing.assert_allclose(h["b_weight"][1:], expected, rtol=1e-5)
    assert h["b_weight"][1] < schedule.value(1, 3)


def test_custom_switches_need_a_hook_and_work_with_one():
    @W.register
    @dataclasses.dataclass(frozen=True)
    class Never(W.Switch):
        name = "never_example"
        before: str = "mse"
        after: str = "mae"

    @W.register
    @dataclasses.dataclass(frozen=True)
    class OnOddEpoch(W.Switch):
        name = "odd_example"
        before: str = "mse"
        after: str = "mae"

        def on_epoch_begin(self, state, epoch, horizon):
            if epoch % 2:
                state.switch_at(epoch)

    with pytest.raises(
        tw.ConfigurationError, match=r"Argument `terms\['a'\].loss` must be a switch that overrides one of"
    ):
        frozen([tw.Term("a", Never(), output="pred", target="ya")])
    x, y = data()
    model = frozen(
        [
            tw.Term("a", OnOddEpoch(), output="pred", target="ya"),
            tw.Term("b", "mse", output="pred", target="yb"),
        ]
    )
    assert model.fit(x, y, epochs=3, verbose=0).history["a_switch_epoch"] == [-1.0, 1.0, 1.0]


def test_unregistered_schedules_and_switches_fail_when_declared():
    @dataclasses.dataclass(frozen=True)
    class Mine(S.Schedule):
        name = "mine_unregistered"

        def _at(self, t, xp):
            return t * 0.0 + 1.0

    with pytest.raises(tw.ConfigurationError, match=r"Argument `schedule` must be of a registered class"):
        tw.Term("a", "mse", weight=Mine())


def test_searched_switch_describes_itself():
    switch = W.SwitchOnMetric("mse", "mae", monitor="val_a_loss", threshold=tw.Range(0.01, 1.0))
    assert switch.describe() == "mse -> mae when val_a_loss < a searched value in [0.01, 1] for 1 epoch"
    assert W.SwitchAt(at=tw.Range(0.1, 0.9, sampling="linear")).describe() == (
        "mse -> huber at a searched value in [0.1, 0.9] of training"
    )


def test_given_weights_replace_searched_schedules():
    terms = [
        tw.Term("a", "mse", output="pred"),
        tw.Term("b", "mae", output="pred", weight=tw.ScheduleSearch()),
    ]
    model = tw.WeightedModel(linear_base(), terms, weights={"b": S.Step(2.0, 0.0)})
    assert model.term_weights() == {"a": 1.0, "b": 2.0}
    assert tw.WeightedModel(linear_base(), terms, weights={"b": 0.5}).term_weights()["b"] == 0.5
