"""The per-epoch reporting `Tuner` and the four search strategies."""

from __future__ import annotations

import contextlib
import copy
import gc
import os
import time
import warnings
from collections.abc import Iterator
from typing import Any

import keras
import keras_tuner as kt
from keras_tuner.src import backend as kt_backend
from keras_tuner.src import utils as kt_utils
from keras_tuner.src.engine import hyperparameters as kt_hp
from keras_tuner.src.engine import tuner_utils
from keras_tuner.src.engine.stateful import Stateful
from keras_tuner.src.engine.tuner import maybe_compute_model_size, maybe_distribute

from tuneweights import _validation as v
from tuneweights._io import is_local, replace_atomically, write_json_atomic
from tuneweights._state_files import DamagedStateFile, read_state
from tuneweights.hypermodel import WeightedHyperModel
from tuneweights.loss_config import LossConfig
from tuneweights.names import WEIGHTED_TOTALS
from tuneweights.schedules import Schedule
from tuneweights.search import chief, heartbeat, pareto, recovery, resume, reuse, seeding, tuner_arguments
from tuneweights.search import objectives as _objectives
from tuneweights.search import progress as _progress
from tuneweights.search.callbacks import DivergedError, EpochReporter, configure_tensorboard
from tuneweights.search.oracle import FINISHED, WeightOracle
from tuneweights.search.replaced import Replaced
from tuneweights.space import WeightSpace
from tuneweights.terms import Term
from tuneweights.training import FitArguments, WeightedModel
from tuneweights.training.fit_arguments import targets_of
from tuneweights.training.fit_data import ModelShapes, check_data

#: The default `chief_timeout`, in seconds.
DEFAULT_CHIEF_TIMEOUT = 600.0
#: Seconds a worker waits before asking again when the chief had no trial for it yet.
IDLE_WAIT = 1.0


class Tuner(kt.Tuner):
    """A keras-tuner `Tuner` that reports every epoch, and searches loss weights.

    Each epoch's logs go to the oracle with ``update_trial(trial_id, metrics,
    step=epoch)``; when the oracle answers with a STOPPED trial, training ends
    cleanly at that epoch. The oracle is wrapped in a `WeightOracle` (unless it
    is one already).

    Any hypermodel keras-tuner takes works: a `WeightedHyperModel` (its loss
    terms and their weights are searched and trained by a `WeightedModel`), a
    `build(hp)` function or a `keras_tuner.HyperModel` (its model is trained
    as it was compiled, with keras-tuner's `loss`, `metrics` and `optimizer`
    overrides), or none, with `run_trial` overridden. Every one of them gets
    per-epoch reporting, pruning, mid-trial resume, nan-safe ranking and the
    progress line; keras-tuner's return contracts of `fit` and `run_trial`
    hold (a float, a dict, a `History`, a list of them, or None after
    reporting to the oracle).

    Args:
        oracle: A keras-tuner oracle; its objective must be an unweighted
            quantity when weights vary between trials.
        hypermodel: A `WeightedHyperModel`, a `keras_tuner.HyperModel`, a
            `build(hp)` function, or None when `run_trial` is overridden.
        optimizer: Optional optimizer overriding the one of `build(hp)`.
        loss: keras-tuner's override of the compiled loss (plain hypermodels
            only: a `WeightedHyperModel` declares its losses as terms).
        metrics: keras-tuner's override of the compiled metrics (plain
            hypermodels only).
        pruner: Optional `tuneweights.pruners.Pruner` (or its name, e.g.
            ``"median"``): stops unpromising trials early.
        max_restarts: How many times a trial is taken up again after the
            process running it stopped (it continues from its last resume
            checkpoint); beyond that it is marked FAILED and the search moves on.
        checkpoint_every: When a trial saves its resume checkpoint (model
            and optimizer state): ``"auto"`` (default) after the first epoch,
            then whenever the time since the last checkpoint is at least 50
            times what writing it took (after every epoch unless epochs are
            short next to a checkpoint: checkpoints then take about 2% of the
            trial's time); an int k >= 1: after every k-th epoch. A trial
            taken up again after a crash goes on from its last resume
            checkpoint: the epochs after it are trained again, and recorded
            once. A finished trial's resume files are deleted.
        keep_checkpoints: Which weights a trial keeps for `load_model` and
            `get_best_models`: ``"best"`` (default, as keras-tuner: the best
            epoch's), ``"last"`` (the last epoch's, written once when the
            trial's training ends), or ``"none"`` (nothing; `load_model`
            raises, and Hyperband refuses it since its rounds start from a
            parent's checkpoint).
        heartbeat_timeout: In a distributed search, the seconds after which
            the chief presumes dead a worker that sent nothing (no epoch
            reported, no request): its trial goes to the next worker asking
            for one, which continues it from its last resume checkpoint. It
            must exceed the longest epoch (and a trial's set-up before its
            first epoch). None waits for the worker itself to come back (a
            worker restarted with the same id), as keras-tuner does.
            Read by the chief.
        chief_timeout: In a distributed search, the seconds a worker waits
            for the chief to answer a request (the first one included, while
            the chief starts); then it stops with `ChiefUnreachableError`,
            which names the chief's address and what to do. None keeps
            keras-tuner's limit of an hour. Read by the workers.
        same_initial_weights: Start every trial from the same random state
            (seeded from the oracle's ``seed``; a different one per
            execution with ``executions_per_trial``), so that trials of one
            architecture share their initial weights and data order and
            differ only by their hyperparameters. Default: on for a
            `WeightedHyperModel`, off for other hypermodels (as
            keras-tuner). See `tuneweights.search.seeding`.
        reuse_models: Let a trial train the compiled model of an earlier
            trial of the same architecture (default True): the trial still
            builds its model, whose variables, optimizer state and loss
            weights are copied into the kept one, and trains it with steps
            already compiled. Trials that differ only in loss weights,
            schedules followed per epoch or a learning rate then compile
            nothing. Models that differ in anything their compiled steps
            depend on are never reused (see `tuneweights.search.reuse`);
            False builds and compiles a model per trial, as keras-tuner.
        **kwargs: keras-tuner's `Tuner` arguments (`directory`,
            `project_name`, `overwrite`, `executions_per_trial`, ...).

    Raises:
        ConfigurationError: before anything is written or deleted (also
            with ``overwrite=True``), when the hypermodel, the objective,
            `hyperparameters` or another argument cannot work.
        ConfigurationTypeError: likewise, for an argument of the wrong type.
    """

    def __init__(
        self,
        oracle: kt.Oracle,
        hypermodel: Any = None,
        optimizer: Any = None,
        loss: Any = None,
        metrics: Any = None,
        pruner: Any = None,
        max_restarts: int = 3,
        heartbeat_timeout: float | None = heartbeat.DEFAULT_TIMEOUT,
        chief_timeout: float | None = DEFAULT_CHIEF_TIMEOUT,
        same_initial_weights: bool | None = None,
        checkpoint_every: int | str = resume.AUTO,
        keep_checkpoints: str = "best",
        reuse_models: bool = True,
        **kwargs: Any,
    ) -> None:
        self.reuse_models = v.check_bool("reuse_models", reuse_models)
        self._reuse = reuse.ModelReuse()
        self.checkpoint_every = _check_checkpoint_every(checkpoint_every)
        self.keep_checkpoints = _check_keep_checkpoints(keep_checkpoints, oracle)
        if not isinstance(oracle, kt.Oracle):
            raise v.invalid(
                "oracle",
                "be an instance of `keras_tuner.Oracle`",
                oracle,
                hint="Expected `oracle` argument to be an instance of `Oracle`",
            )
        heartbeat.check_timeout("heartbeat_timeout", heartbeat_timeout)
        chief_timeout = heartbeat.check_timeout("chief_timeout", chief_timeout)
        executions = kwargs.get("executions_per_trial", 1)
        v.check_int("executions_per_trial", executions, 1)
        tuner_arguments.check_tuner_kwargs(kwargs)
        tuner_arguments.check_oracle(oracle)
        tuner_arguments.check_optimizer(optimizer)
        self._optimizer = optimizer
        self._weighted = hypermodel if isinstance(hypermodel, WeightedHyperModel) else None
        if same_initial_weights is None:
            same_initial_weights = self._weighted is not None
        self.same_initial_weights = seeding.check(same_initial_weights)
        self._shapes: ModelShapes | None = None  # the model's, to check the data against
        declared: kt.HyperParameters | None = None
        if self._weighted is not None:
            for argument, value in (("loss", loss), ("metrics", metrics)):
                if value is not None:
                    raise v.invalid(
                        argument, "be left out: declare losses and metrics on the hypermodel's terms", value
                    )
            weighted = self._weighted
            known = None if weighted.has_custom_fit() else weighted.logged_names(validation=True)
            _objectives.check(oracle.objective, weighted.terms, weighted.loss_searched, known)
            self.terms, declared, self._shapes = _resolve_terms(weighted, optimizer)
        else:
            if hypermodel is None and type(self).run_trial is Tuner.run_trial:
                raise v.ConfigurationError(
                    "Received `hypermodel=None`. We only allow not specifying `hypermodel` if the user "
                    "defines the search space in `Tuner.run_trial()` by subclassing a `Tuner` class "
                    "without using a `HyperModel` instance."
                )
            self.terms = []
            tuner_arguments.check_plain_declarations(hypermodel, oracle)
        chosen = oracle.hyperparameters.copy()  # what the user fixed or narrowed (`hyperparameters=`)
        if self._weighted is not None:
            _check_chosen_weights(chosen, self._weighted.space)
        _check_distribution_strategy(kwargs.get("distribution_strategy"))
        if isinstance(oracle, WeightOracle):
            if pruner is not None:
                raise v.invalid("pruner", "be given to the WeightOracle, which is already built", pruner)
            if heartbeat_timeout != oracle.heartbeat_timeout:
                raise v.invalid(
                    "heartbeat_timeout",
                    f"be given to the WeightOracle, which is already built with "
                    f"heartbeat_timeout={oracle.heartbeat_timeout}",
                    heartbeat_timeout,
                )
        else:
            space = None if self._weighted is None else self._weighted.space
            oracle = WeightOracle(
                oracle, space, pruner=pruner, max_restarts=max_restarts, heartbeat_timeout=heartbeat_timeout
            )
        if declared is not None:
            # keras-tuner deletes the project with `overwrite=True` before it
            # builds the space: everything that can refuse that space is checked first.
            _check_declarations(declared, chosen, _fresh_space(oracle, chosen, declared))
        self._reporters: dict[str, list[EpochReporter]] = {}
        self._divergences: dict[str, str] = {}
        self._resumed: set[str] = set()
        self._progress: _progress.Progress | None = None
        self._loss_weights: dict[str, Any] = {}
        self._asking = False
        self._replaced: Replaced | None = None
        if kwargs.get("overwrite", False) and not self._is_worker():
            # keras-tuner would delete the project now; `search` checks its data first.
            self._replaced = Replaced.set_aside(
                str(kwargs.get("directory") or "."), kwargs.get("project_name") or "untitled_project"
            )
        try:
            super().__init__(
                oracle=oracle,
                hypermodel=hypermodel,
                optimizer=optimizer,
                loss=loss,
                metrics=metrics,
                **kwargs,
            )
        except BaseException:
            if self._replaced is not None:
                self._replaced.restore()
            raise
        if self._is_worker():  # keras-tuner's client to the chief is in place
            chief.limit_waits(self.oracle, chief_timeout)
        if declared is not None and not kwargs.get("overwrite", False) and not self._is_worker():
            _check_unchanged(declared, chosen, self.oracle.hyperparameters, self.project_dir)

    # -- search -----------------------------------------------------------
    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """Run the search; arguments are those of `model.fit`.

        The data are checked against the terms' targets, and the objective
        against the presence of validation data, before any trial starts.
        With ``verbose=1`` (the default) one progress line replaces
        keras-tuner's per-trial display and Keras's per-epoch output;
        ``verbose=2`` keeps those, ``verbose=0`` prints nothing.
        """
        try:
            fit_args, fit_kwargs = self._checked(fit_args, fit_kwargs)
        except Exception:
            if self._replaced is not None:
                self._replaced.restore()  # `overwrite=True` deletes nothing for a refused search
            raise
        if self._replaced is not None:
            self._replaced.discard()
            self._replaced = None
        if not self._is_worker():
            # keras-tuner decides to reload a project from the tuner's own file,
            # which it first writes after a trial: a search killed during its
            # first trial would otherwise start over and mix with its files.
            self.save()
        try:
            with _progress.attached(self.oracle, fit_kwargs) as self._progress, _long_lived_frozen():
                super().search(*fit_args, **fit_kwargs)
        finally:
            self._progress = None
            self._reuse.clear()

    def _checked(
        self, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """`search`'s arguments, checked; for a `WeightedHyperModel`, all passed by name."""
        tuner_arguments.check_callbacks_copyable(fit_kwargs.get("callbacks"))
        if self._weighted is not None and not self._weighted.has_custom_fit():
            arguments = FitArguments.bind(fit_args, fit_kwargs)
            arguments.check(targets_of(self.terms))
            check_data(arguments, self.terms, self._shapes)
            fit_args, fit_kwargs = (), arguments.kwargs()  # by name from here on
            for name in _objective_names(self.oracle.objective):
                if name.startswith("val_") and not arguments.has_validation:
                    raise v.invalid(
                        "validation_data",
                        f"be given (or `validation_split`) when the objective is `{name}`",
                        None,
                    )
        elif self._weighted is None and self._passes_fit_arguments():
            arguments = FitArguments.bind(fit_args, fit_kwargs)
            arguments.check_numbers()
            check_data(arguments)
        return fit_args, fit_kwargs

    @property
    def weighted_hypermodel(self) -> WeightedHyperModel:
        """The hypermodel, when it is a `WeightedHyperModel`.

        Raises:
            ConfigurationError: the hypermodel declares no loss terms.
        """
        if self._weighted is None:
            raise v.invalid(
                "hypermodel",
                "be a `tuneweights.WeightedHyperModel` to have loss terms and weights "
                "(declare the terms on one to search their weights)",
                self.hypermodel,
            )
        return self._weighted

    def decode(self, hp: kt.HyperParameters) -> LossConfig:
        """The loss configuration of a trial's hyperparameters (`WeightSpace.decode`)."""
        return self.weighted_hypermodel.decode(hp)

    def _build_hypermodel(self, hp: kt.HyperParameters) -> keras.Model:
        if self._weighted is None:
            return super()._build_hypermodel(hp)
        with maybe_distribute(self.distribution_strategy):
            model = self._weighted.build(hp)
            return self._weighted.prepare(hp, model, optimizer=_fresh_optimizer(self._optimizer))

    def _build_and_fit_model(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        # keras-tuner's version, except that a custom `fit` which reported
        # every epoch with `report_epoch` need not return anything.
        hp = trial.hyperparameters
        model = self._build_for_trial(hp)
        if isinstance(model, WeightedModel):
            model.horizon = self._horizon(args, kwargs)
        else:
            self._check_loss_weights(trial, model)
        if self.executions_per_trial == 1:
            best = next((c for c in kwargs.get("callbacks", []) if isinstance(c, SaveBestEpoch)), None)
            trial_dir = self.get_trial_dir(trial.trial_id)
            last = resume.restore(trial_dir, model, None if best is None else best.restore)
            if last is not None:
                self._continue_after(trial, last, kwargs, best)
                if last + 1 >= FitArguments.bind(args, kwargs, strict=False).epochs:
                    # It had run every epoch; only its end was not recorded. Its weights file
                    # is written here, as its training's end would have written it.
                    if self.keep_checkpoints == "last":
                        SaveLastEpoch(self._get_checkpoint_fname(trial.trial_id)).save(model)
                    elif best is not None:
                        best.set_model(model)
                        best.flush()
                    return None
        try:
            results = self.hypermodel.fit(hp, model, *args, **kwargs)
        except BaseException:
            self._reuse.clear()  # a model stopped half-way through a step is not lent again
            raise
        if kt_backend.config.multi_backend():  # as keras-tuner does, for `load_model`
            kt_utils.save_json(self._get_build_config_fname(trial.trial_id), model.get_build_config())
        if results is None and any(r.reported for r in self._reporters.get(trial.trial_id, [])):
            return None
        results = _with_objective(results, self.oracle.objective)
        tuner_utils.validate_trial_results(results, self.oracle.objective, "HyperModel.fit()")
        return results

    def _build_for_trial(self, hp: kt.HyperParameters) -> keras.Model:
        """The model a trial trains: its own, or (`reuse_models`) a kept one holding its state."""
        if not self.reuse_models:
            return self._try_build(hp)
        # keras-tuner's `_try_build` clears Keras's session and collects garbage
        # first. Clearing the session would also drop the kept model's compiled
        # kernels; the kept model collects what it replaces (`ModelReuse.take`).
        model = self._build_hypermodel(hp)
        _check_built(model, self.max_model_size)
        with maybe_distribute(self.distribution_strategy):
            return self._reuse.take(model)

    def _check_loss_weights(self, trial: Any, model: keras.Model) -> None:
        """Refuse to rank by a weighted total when a plain model's loss weights vary between trials.

        A model compiled with several losses logs ``loss``/``val_loss``
        weighted by its ``loss_weights``; when `build(hp)` takes those from
        the hyperparameters, trials that sampled smaller weights report a
        smaller total without a better model.

        Raises:
            ConfigurationError: the objective includes a weighted total and
                this trial's loss weights differ from an earlier trial's.
        """
        weights = _compiled_loss_weights(model)
        if weights is None:
            return
        names = _objective_names(self.oracle.objective)
        weighted = [n for n in names if n in WEIGHTED_TOTALS]
        earlier = next((w for w in self._loss_weights.values() if w != weights), None)
        self._loss_weights[trial.trial_id] = weights
        if weighted and earlier is not None:
            raise v.invalid(
                "objective",
                f"not be the weighted total loss ({weighted[0]}) when the compiled `loss_weights` vary "
                f"between trials ({earlier} in an earlier trial, {weights} in this one): a trial that "
                "samples smaller weights reports a smaller total without a better model. Use each "
                "output's unweighted loss (`val_<output>_loss`) or a metric, or declare the losses as "
                "terms of a `tuneweights.WeightedHyperModel`",
                weighted[0],
            )

    def _continue_after(
        self, trial: Any, last: int, fit_kwargs: dict[str, Any], best: SaveBestEpoch | None
    ) -> None:
        """Set up a trial taken up again to run from the epoch after `last`."""
        fit_kwargs["initial_epoch"] = last + 1
        self._resumed.add(trial.trial_id)
        recorded = self.oracle.get_trial(trial.trial_id)
        name = self.oracle.objective.name
        if best is not None and recorded.metrics.exists(name):
            # The best epoch so far is kept (restored from the resume checkpoint, or on disk from
            # a checkpoint that held none): only a better epoch replaces it.
            best._saved_once = True
            best.best_value = recorded.metrics.get_best_value(name)

    def reload(self) -> None:
        """Reload the oracle (`WeightOracle.reload`) and the tuner's own file.

        The tuner keeps no search state in its file (keras-tuner's
        ``tuner0.json``, ``{}``): a damaged one is rewritten by the next
        `save`, with a warning.
        """
        if not self._is_worker():
            self.oracle.reload()
        fname = self._get_tuner_fname()
        if not is_local(fname):
            return Stateful.reload(self, fname)
        try:
            state = read_state(fname)
        except DamagedStateFile as error:
            warnings.warn(
                f"{fname}: {error.problem}; rewritten when the search starts (the tuner keeps no search "
                "state in it).",
                UserWarning,
                stacklevel=2,
            )
            state = self.get_state()
        self.set_state(state)
        repairs = getattr(self.oracle, "repairs", None)
        if repairs is not None and repairs.oracle_rebuilt:
            super()._populate_initial_space()  # the space `build(hp)` declares, beside the trials' own

    def _populate_initial_space(self) -> None:
        # keras-tuner reloads a project only when it finds the tuner's file: without it (deleted), a
        # project holding trials would start over and its oracle.json be overwritten.
        project = self.project_dir
        if is_local(project) and not self._is_worker() and recovery.survey(project, self.tuner_id).started:
            warnings.warn(
                f"{self._get_tuner_fname()}: it is missing; the project in {project} is reloaded and the "
                "file rewritten when the search starts (the tuner keeps no search state in it).",
                UserWarning,
                stacklevel=2,
            )
            self.reload()
            return
        super()._populate_initial_space()

    def save(self) -> None:
        """Save the oracle and the tuner's own state, each file atomically."""
        if not self._is_worker():
            self.oracle.save()
        fname = self._get_tuner_fname()
        if is_local(fname):
            write_json_atomic(fname, self.get_state())
        else:
            Stateful.save(self, fname)

    def _horizon(self, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]) -> int:
        """The planned epochs of a trial: the horizon of its schedules."""
        return int(FitArguments.bind(fit_args, fit_kwargs, strict=False).epochs)

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> list[Any]:
        checkpoint = self._checkpoint(trial)
        original = kwargs.pop("callbacks", [])
        results = []
        reporters = self._reporters.setdefault(trial.trial_id, [])
        trial_dir = self.get_trial_dir(trial.trial_id)
        if self.executions_per_trial > 1:
            resume.clear(trial_dir)  # several executions average: a trial always starts over
        for execution in range(self.executions_per_trial):
            run_kwargs = copy.copy(kwargs)
            callbacks = self._deepcopy_callbacks(original)
            self._configure_tensorboard_dir(callbacks, trial, execution)
            reporter = EpochReporter(
                self.oracle,
                trial.trial_id,
                self.oracle.objective,
                required=self._weighted is not None,
                tuner_id=self.tuner_id,
            )
            reporters.append(reporter)
            callbacks += [reporter, tuner_utils.TunerCallback(self, trial)]
            callbacks += [] if checkpoint is None else [checkpoint]
            if self.executions_per_trial == 1:  # after the epoch was reported
                best = checkpoint if isinstance(checkpoint, SaveBestEpoch) else None
                callbacks.append(resume.ResumeCheckpoint(trial_dir, every=self.checkpoint_every, best=best))
            if self._progress is not None:
                callbacks.append(self._progress.callback())
                if not self._custom_fit():
                    run_kwargs["verbose"] = 0  # the progress line stands for Keras's output
            run_kwargs["callbacks"] = callbacks
            if self.same_initial_weights:
                seed = seeding.base_seed(self.oracle)
                seeding.start(seed, execution)
                callbacks.insert(0, seeding.StartOfTraining(seed, execution))
            results.append(self._build_and_fit_model(trial, *args, **run_kwargs))
            if isinstance(checkpoint, SaveBestEpoch):
                checkpoint.flush()  # a custom `fit` may not end its callbacks' training
            if reporter.stop_requested:
                break
        return results

    def _passes_fit_arguments(self) -> bool:
        """Whether `search`'s arguments go to `model.fit` as they are.

        A `run_trial` or a hypermodel's `fit` of the user's takes arguments of its own.
        """
        run_trial = getattr(type(self).run_trial, "__module__", "")
        return run_trial.startswith("tuneweights.") and not self._custom_fit()

    def _checkpoint(self, trial: Any) -> keras.callbacks.Callback | None:
        """The callback writing the weights `load_model` reads, as `keep_checkpoints` says."""
        filepath = self._get_checkpoint_fname(trial.trial_id)
        if self.keep_checkpoints == "best":
            return SaveBestEpoch(objective=self.oracle.objective, filepath=filepath)
        return SaveLastEpoch(filepath) if self.keep_checkpoints == "last" else None

    def _custom_fit(self) -> bool:
        """Whether the hypermodel's own `fit` trains (what it prints is its own)."""
        if self._weighted is not None:
            return self._weighted.has_custom_fit()
        return type(self.hypermodel).fit is not kt.HyperModel.fit

    def _configure_tensorboard_dir(self, callbacks: list[Any], trial: Any, execution: int = 0) -> None:
        # keras-tuner's, with the decoded loss weights in TensorBoard's HParams.
        if self._weighted is None:
            return super()._configure_tensorboard_dir(callbacks, trial, execution)
        configure_tensorboard(
            callbacks,
            trial,
            self.decode(trial.hyperparameters),
            lambda log_dir: self._get_tensorboard_dir(log_dir, trial.trial_id, execution),
        )

    def pre_create_trial(self) -> None:
        super().pre_create_trial()
        if self._asking:  # the last request got no trial (IDLE): ask again, but not in a tight loop
            time.sleep(IDLE_WAIT)
        self._asking = True

    def on_trial_begin(self, trial: Any) -> None:
        self._asking = False
        super().on_trial_begin(trial)
        if self._progress is not None:
            self._progress.trial_begin(trial.trial_id, _progress.search_state(self.oracle))

    def on_trial_end(self, trial: Any) -> None:
        if self._is_worker() and not self._still_owns(trial):
            return  # the trial is another worker's now: that one ends it
        super().on_trial_end(trial)
        if self.oracle.get_trial(trial.trial_id).status in FINISHED:
            # Recorded as ended: it never resumes, and keeps no more on disk than keras-tuner's.
            resume.clear(self.get_trial_dir(trial.trial_id))
        if self._progress is not None:
            outcome, score = _progress.trial_outcome(self.oracle, trial.trial_id)
            self._progress.trial_end(trial.trial_id, outcome, score, _progress.search_state(self.oracle))

    def _still_owns(self, trial: Any) -> bool:
        """Ask the chief whether `trial` is still this worker's, before ending it.

        The chief hands a trial to another worker when this one was silent
        for longer than its `heartbeat_timeout` (an epoch longer than that,
        a frozen process); this worker then leaves the trial alone, so that
        nothing it did is recorded twice.
        """
        answer = self.oracle.update_trial(trial.trial_id, heartbeat.tag({}, self.tuner_id))
        if getattr(answer, "status", None) != heartbeat.LOST:
            return True
        warnings.warn(
            f"Trial {trial.trial_id} is no longer run by this worker ({self.tuner_id}): the chief "
            "heard nothing from it for longer than its `heartbeat_timeout` and handed the trial to "
            "another worker, which continues it from its last checkpoint. This worker dropped it and "
            "asks for another trial. If an epoch takes longer than `heartbeat_timeout`, raise it.",
            stacklevel=2,
        )
        return False

    def _try_run_and_update_trial(self, trial: Any, *fit_args: Any, **fit_kwargs: Any) -> None:
        super()._try_run_and_update_trial(trial, *fit_args, **fit_kwargs)
        reason = self._divergences.pop(trial.trial_id, None)
        if reason is not None:
            trial.message = reason  # the reason, not keras-tuner's traceback

    def _run_and_update_trial(self, trial: Any, *fit_args: Any, **fit_kwargs: Any) -> None:
        self._reporters[trial.trial_id] = []
        self._resumed.discard(trial.trial_id)
        try:
            results = self.run_trial(trial, *fit_args, **fit_kwargs)
            if trial.trial_id in self._resumed or any(r.reported for r in self._reporters[trial.trial_id]):
                return  # every epoch is already with the oracle
        except DivergedError as error:
            self._divergences[trial.trial_id] = str(error)
            raise
        finally:
            self._reporters.pop(trial.trial_id, None)
        # A custom fit, or an overridden run_trial, that reported no epoch: record what it returned.
        objective = self.oracle.objective
        if self.oracle.get_trial(trial.trial_id).metrics.exists(objective.name):
            # `run_trial` called `oracle.update_trial` itself (keras-tuner's older pattern)
            warnings.warn(
                "The use case of calling `self.oracle.update_trial(trial_id, metrics)` in "
                "`Tuner.run_trial()` to report the metrics is deprecated, and will be removed in the "
                "future. Please remove the call and do 'return metrics' in `Tuner.run_trial()` instead. ",
                DeprecationWarning,
                stacklevel=2,
            )
            return
        if isinstance(results, list):
            results = [_with_objective(r, objective) for r in results]
        else:
            results = _with_objective(results, objective)
        tuner_utils.validate_trial_results(results, objective, "Tuner.run_trial()")
        self.oracle.update_trial(
            trial.trial_id,
            tuner_utils.convert_to_metrics_dict(results, objective),
            step=tuner_utils.get_best_step(results, objective),
        )

    # -- results ------------------------------------------------------------
    def load_model(self, trial: Any) -> keras.Model:
        """The model `build(hp)` returned for `trial`, with its best (or last) epoch's weights.

        Raises:
            ConfigurationError: the search keeps no checkpoints
                (``keep_checkpoints="none"``).
        """
        if self.keep_checkpoints == "none":
            raise v.invalid(
                "keep_checkpoints",
                "be 'best' or 'last' to load a trial's model (with 'none' no weights are kept; "
                "rebuild it with `retrain_best`)",
                self.keep_checkpoints,
            )
        path = self._get_checkpoint_fname(trial.trial_id)
        _check_checkpoint(path, trial.trial_id)
        if self._weighted is None:
            try:
                return super().load_model(trial)
            except OSError as error:
                raise _unreadable_checkpoint(path, trial.trial_id, error) from None
        model = self._try_build(trial.hyperparameters)
        load_checkpoint(model, path, trial_id=trial.trial_id)
        return model.base

    def _best_completed(self, num_trials: int) -> list[Any]:
        # keras-tuner pads its ranking with unfinished trials; results do not.
        best = self.oracle.get_best_trials(num_trials)
        return [t for t in best if t.status == "COMPLETED"]

    def get_best_weights(self, num_trials: int = 1) -> list[dict[str, float | Schedule]]:
        """Loss weights ``{term: weight or Schedule}`` of the best completed trials, best first."""
        weighted = self.weighted_hypermodel  # refuses a hypermodel without loss terms
        return [weighted.decode(t.hyperparameters).weights for t in self._best_completed(num_trials)]

    def describe(self, hp: kt.HyperParameters) -> dict[str, Any]:
        """Readable form of a trial's hyperparameters.

        Returns:
            ``{"weights": {term: weight or Schedule}, "switches": {term:
            Switch}, "strategy": Strategy, "hyperparameters": {...}}``, the
            last entry holding every hyperparameter that is not part of the
            loss-weight space.
        """
        if self._weighted is None:
            return {"weights": {}, "switches": {}, "strategy": None, "hyperparameters": dict(hp.values)}
        own = set(self._weighted.space.hp_names())
        config = self.decode(hp)
        return {
            "weights": config.weights,
            "switches": config.switches,
            "strategy": config.strategy,
            "hyperparameters": {k: val for k, val in hp.values.items() if k not in own},
        }

    def get_pareto_front(self, objectives: Any = None) -> list[dict[str, Any]]:
        """The completed trials no other completed trial beats on every objective.

        Each trial is scored by its values at its best epoch (the epoch whose
        checkpoint `load_model` restores), one value per objective.

        Args:
            objectives: Names or `keras_tuner.Objective`s to trade off;
                defaults to the parts of the search's multi-objective.

        Returns:
            One dict per trial on the front, ordered by the first objective:
            ``{"trial_id", "values": {objective: value}, "weights",
            "hyperparameters", "pruned"}``.

        Raises:
            ConfigurationError: no `objectives` for a single-objective search.
        """
        objective = self.oracle.objective
        if objectives is None:
            if not hasattr(objective, "objectives"):
                raise v.invalid(
                    "objectives",
                    "be given (two or more names) when the search has a single objective",
                    None,
                )
            singles = list(objective.objectives)
        else:
            listed = list(objectives) if isinstance(objectives, (list, tuple)) else [objectives]
            singles = [_objectives.resolve(o, self.terms) for o in listed]
        directions = {o.name: o.direction for o in singles}
        rows = []
        for trial in self.oracle.get_best_trials(_ALL_TRIALS):
            values = _values_at_best_step(trial, list(directions))
            if trial.status == "COMPLETED" and values is not None:
                rows.append((trial, values))
        chosen = pareto.front([values for _, values in rows], directions)
        first = singles[0]
        result = [
            {
                "trial_id": trial.trial_id,
                "values": values,
                "weights": self.decode(trial.hyperparameters).weights,
                "hyperparameters": dict(trial.hyperparameters.values),
                "pruned": trial.trial_id in getattr(self.oracle, "pruned", {}),
            }
            for trial, values in (rows[i] for i in chosen)
        ]
        return sorted(result, key=lambda r: r["values"][first.name], reverse=first.direction == "max")

    def retrain_best(self, *fit_args: Any, rank: int = 0, **fit_kwargs: Any) -> tuple[keras.Model, Any]:
        """Rebuild the `rank`-th best configuration from scratch and train it.

        Arguments are those of `model.fit`. The tuner's callbacks are not used.

        Returns:
            ``(model, history)``: the model from `build(hp)` (trained), and
            the `History` of the fit.
        """
        v.check_int("rank", rank, 0)
        best = self._best_completed(rank + 1)
        if len(best) <= rank:
            raise v.invalid("rank", f"be < the number of completed trials ({len(best)})", rank)
        hp = best[rank].hyperparameters
        keras.backend.clear_session()
        model = Tuner._build_hypermodel(self, hp)  # from scratch, also under Hyperband
        history = self.hypermodel.fit(hp, model, *fit_args, **fit_kwargs)
        return (model.base if isinstance(model, WeightedModel) else model), history

    def results_summary(self, num_trials: int = 10) -> None:
        """keras-tuner's summary, with each trial's decoded loss weights."""
        if self._weighted is None:
            return super().results_summary(num_trials)
        print("Results summary")
        print(f"Results in {self.project_dir}")
        print(f"Showing {num_trials} best trials")
        print(f"{self.oracle.objective}")
        for trial in self.oracle.get_best_trials(num_trials):
            print()
            trial.summary()
            config = self.decode(trial.hyperparameters)
            if config.strategy.uses_term_weights:
                print(
                    "Loss weights: "
                    + "; ".join(f"{term}: {text}" for term, text in config.describe().items())
                )
            if config.strategy.name != "static":
                print(f"Weighting strategy: {config.strategy.describe()}")


@contextlib.contextmanager
def _long_lived_frozen() -> Iterator[None]:
    """Keep the objects alive when a search starts out of the collections it runs per trial.

    keras-tuner runs a full ``gc.collect()`` twice before every trial. With a
    backend imported, most of that time goes to traversing the millions of
    objects made by the imports, which live as long as the process: moved to
    the permanent generation (`gc.freeze`) for the duration of the search,
    they are no longer traversed. Objects created during the search are
    collected as usual; when it ends, the frozen ones go back to the oldest
    generation. Nothing changes when something else froze objects already.
    """
    if gc.get_freeze_count() or not gc.isenabled():
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _check_built(model: Any, max_model_size: int | None) -> None:
    """keras-tuner's checks of what `build(hp)` returned."""
    if not isinstance(model, keras.Model):
        raise kt.errors.FatalTypeError(
            "Expected the model-building function, or HyperModel.build() to return a valid Keras "
            f"Model instance. Received: {model} of type {type(model)}."
        )
    size = maybe_compute_model_size(model)
    if max_model_size and size > max_model_size:
        raise kt.errors.FailedTrialError(f"Oversized model: {size} parameters. Skip model.")


def _resolve_terms(
    hypermodel: WeightedHyperModel, optimizer: Any
) -> tuple[list[Term], kt.HyperParameters, ModelShapes]:
    """Build the model once with default hyperparameters to check the terms.

    This catches terms on missing outputs and outputs without a term before
    anything is written or trained. Returns the resolved terms, the
    hyperparameters the build declared and the model's input and output
    shapes (against which `search` checks the data).
    """
    hp = kt.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    model = hypermodel.prepare(hp, hypermodel.build(hp), optimizer=optimizer)
    terms = list(model.terms)
    shapes = ModelShapes.of(model.base)
    keras.backend.clear_session()
    return terms, hp, shapes


def _check_chosen_weights(chosen: kt.HyperParameters, space: WeightSpace) -> None:
    """Refuse a loss-weight hyperparameter that `hyperparameters=` fixes or narrows outside its declaration.

    keras-tuner lets the tuner's `hyperparameters` argument fix or narrow a
    hyperparameter; for one the weight space declares, that works only
    where the declaration does not depend on another hyperparameter (a
    `StrategySearch` or a searched schedule's family would declare a second
    one beside it) and within its declared range or choices.

    Raises:
        ConfigurationError: such a hyperparameter is conditional, or the
            given one is not inside its declaration.
    """
    owned = kt.HyperParameters()
    space.declare(owned)
    declarations = {p.name: p for p in owned.space}
    for given in chosen.space:
        own = declarations.get(given.name)
        if own is None or given.get_config() == own.get_config():
            continue  # not a loss weight, or declared as the space declares it (a `WeightOracle`'s own)
        if own.conditions or given.conditions:
            rule = (
                f"not fix or narrow `{given.name}`, a loss-weight hyperparameter active only for some "
                "values of another one"
            )
        elif not _narrows(given, own):
            rule = f"fix or narrow `{given.name}` only inside its declaration {_describe_hp(own)}"
        else:
            continue
        raise v.invalid(
            "hyperparameters",
            rule,
            {given.name: _describe_hp(given)},
            hint="To fix or narrow a loss weight, give its `Term` a number or a narrower `Range`",
        )


class _Shown(str):
    """Text echoed as it is inside a received value."""

    def __repr__(self) -> str:
        return str(self)


def _describe_hp(hp: Any) -> _Shown:
    config = {k: val for k, val in hp.get_config().items() if k not in ("name", "conditions")}
    return _Shown(f"{type(hp).__name__}({', '.join(f'{k}={val!r}' for k, val in config.items())})")


def _allows(own: Any, value: Any) -> bool:
    """Whether a value is one the declared hyperparameter `own` can take."""
    if isinstance(own, (kt_hp.Float, kt_hp.Int)):
        kinds = (int,) if isinstance(own, kt_hp.Int) else (int, float)
        number = isinstance(value, kinds) and not isinstance(value, bool)
        return number and own.min_value <= value <= own.max_value
    if isinstance(own, kt_hp.Choice):
        return value in own.values
    if isinstance(own, kt_hp.Fixed):
        return bool(value == own.value)
    return False


def _narrows(given: Any, own: Any) -> bool:
    """Whether `given` takes only values that `own` can take."""
    if isinstance(given, kt_hp.Fixed):
        return _allows(own, given.value)
    if isinstance(given, kt_hp.Choice):
        return all(_allows(own, value) for value in given.values)
    if isinstance(given, (kt_hp.Float, kt_hp.Int)):
        return (
            _allows(own, given.min_value)
            and _allows(own, given.max_value)
            and (isinstance(own, kt_hp.Float) or isinstance(given, kt_hp.Int))
        )
    return False


def _check_distribution_strategy(strategy: Any) -> None:
    # keras-tuner reads `strategy.extended` after the project was deleted.
    if strategy is not None and not hasattr(strategy, "extended"):
        raise v.wrong_type("distribution_strategy", "None or a `tf.distribute.Strategy`", strategy)


def _fresh_space(
    oracle: kt.Oracle, chosen: kt.HyperParameters, declared: kt.HyperParameters
) -> kt.HyperParameters:
    """The space a new project starts with: the oracle's, and what `build` declares.

    Raises:
        ConfigurationError: `allow_new_entries=False` while `build` declares
            a hyperparameter that `hyperparameters=` does not (keras-tuner's
            own refusal comes after `overwrite=True` deleted the project).
    """
    fresh = oracle.hyperparameters.copy()
    new = [p for p in declared.space if not fresh._exists(p.name, p.conditions)]
    if new and not oracle.allow_new_entries:
        raise v.invalid(
            "hyperparameters",
            "declare every hyperparameter `build(hp)` declares when `allow_new_entries=False`; "
            f"missing: {[p.name for p in new]}",
            [p.name for p in chosen.space],
        )
    if oracle.tune_new_entries:
        fresh.merge(new)
    return fresh


def _check_declarations(
    declared: kt.HyperParameters, chosen: kt.HyperParameters, fresh: kt.HyperParameters
) -> None:
    """Refuse `hyperparameters=` where it disagrees with `build` so that a new project would be refused too.

    Raises:
        ConfigurationError: a hyperparameter given to `hyperparameters=`
            is declared by `build` under other conditions, so that the
            space would hold two definitions of one name.
    """
    changed = _differences(declared, chosen, fresh)
    if changed:
        name, (built, config) = next(iter(changed.items()))
        raise v.invalid(
            "hyperparameters",
            f"fix or narrow `{name}` under the conditions `build(hp)` declares it with: {built}",
            {name: config},
        )


def _differences(
    declared: kt.HyperParameters, chosen: kt.HyperParameters, saved: kt.HyperParameters
) -> dict[str, tuple[Any, Any]]:
    """``{name: (saved, declared)}`` for each hyperparameter that `saved` defines otherwise."""
    expected = {p.name: p.get_config() for p in declared.space}
    expected.update({p.name: p.get_config() for p in chosen.space})
    before = {p.name: p.get_config() for p in saved.space}
    return {
        name: (before[name], config)
        for name, config in expected.items()
        if name in before and before[name] != config
    }


def _check_unchanged(
    declared: kt.HyperParameters, chosen: kt.HyperParameters, saved: kt.HyperParameters, project_dir: str
) -> None:
    """Refuse to resume a project whose hyperparameters were declared differently.

    keras-tuner keeps the saved definition of a hyperparameter whose range or
    choices changed in the script, silently; results would mix two spaces.
    What the script declares is its `build`'s declarations, except where the
    user fixed or narrowed one through the tuner's `hyperparameters`
    argument (keras-tuner's way to do so): there the user's choice counts.
    New hyperparameters are fine (they are added to the space).

    Args:
        declared: The hyperparameters `build` declares.
        chosen: The hyperparameters given to the tuner.
        saved: The oracle's space (the project's, once reloaded).
        project_dir: For the message.
    """
    for name, (before, config) in _differences(declared, chosen, saved).items():
        raise v.ConfigurationError(
            f"The hyperparameter `{name}` is declared differently from the project in "
            f"{project_dir}.\nSaved:    {before}\nDeclared: {config}\nRestore the "
            "original declaration (and `hyperparameters=`) to resume, or start a new search with "
            "another `project_name` or `overwrite=True`."
        )


_ALL_TRIALS = 1_000_000


def _values_at_best_step(trial: Any, names: list[str]) -> dict[str, float] | None:
    values = {}
    for name in names:
        if not trial.metrics.exists(name):
            return None
        history = trial.metrics.get_history(name)
        at_best = [o.mean() for o in history if o.step == trial.best_step]
        values[name] = float(at_best[0]) if at_best else float(trial.metrics.get_best_value(name))
    return values


def _with_objective(results: Any, objective: Any) -> Any:
    """A dict result completed with a multi-objective's combined value.

    keras-tuner refuses a dict from `fit` that lacks the key of its
    multi-objective, although the dict holds every part of it.
    """
    if isinstance(results, dict) and objective.name not in results and objective.has_value(results):
        return {**results, objective.name: float(objective.get_value(results))}
    return results


def _objective_names(objective: Any) -> list[str]:
    if hasattr(objective, "objectives"):
        return [o.name for o in objective.objectives]
    return [objective.name]


def save_weights(model: keras.Model, filepath: str) -> None:
    """The model's weights to the checkpoint `filepath`, replaced atomically where it is local."""
    if is_local(filepath):
        replace_atomically(filepath, model.save_weights, suffix=".weights.h5")
    else:
        model.save_weights(filepath)


class SaveBestEpoch(tuner_utils.SaveBestEpoch):  # keras-tuner's name: code looks for it
    """keras-tuner's best-epoch checkpoint, written once, when the trial's training ends.

    An epoch better than those before it has its weights copied in memory;
    the file is written (atomically) from that copy when training ends, or
    by `flush` after a custom `fit`. Writing a weights file is what an epoch
    of a small model costs; a trial writes one. Each resume checkpoint holds
    the copy (`ResumeCheckpoint`), so a trial taken up again after a crash
    writes the best epoch it reached before as well. Unlike keras-tuner's, it
    also keeps the first epoch: without it a trial whose objective is never
    finite leaves no checkpoint, and loading its model fails. A remote
    directory keeps keras-tuner's write at every better epoch.
    """

    def __init__(self, objective: Any, filepath: str) -> None:
        super().__init__(objective=objective, filepath=filepath)
        #: The best epoch's weights (`model.get_weights()`), until written.
        self.best_weights: list[Any] | None = None
        self._unwritten = False

    def _save_model(self) -> None:
        self._saved_once = True
        if not is_local(self.filepath):
            return super()._save_model()  # keras-tuner's, which knows distribution strategies
        self.best_weights = self.model.get_weights()
        self._unwritten = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        super().on_epoch_end(epoch, logs)
        if not getattr(self, "_saved_once", False):  # the first epoch was not an improvement (never finite)
            self._save_model()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.flush()

    def restore(self, best_weights: list[Any]) -> None:
        """Take the best weights a resume checkpoint held (a trial taken up again)."""
        self.best_weights, self._unwritten = best_weights, True

    def flush(self) -> None:
        """Write the best epoch's weights, unless they were written already."""
        if not self._unwritten or self.best_weights is None or self.model is None:
            return
        last = self.model.get_weights()
        self.model.set_weights(self.best_weights)
        try:
            save_weights(self.model, self.filepath)
        finally:
            self.model.set_weights(last)
        self._unwritten = False


class SaveLastEpoch(keras.callbacks.Callback):
    """Saves the model's weights once, when its training ends (``keep_checkpoints="last"``).

    The file is the one keras-tuner's best-epoch checkpoint would be, so
    `load_model` and `get_best_models` read it; it is replaced atomically.
    """

    def __init__(self, filepath: str) -> None:
        super().__init__()
        self.filepath = filepath

    def save(self, model: keras.Model) -> None:
        save_weights(model, self.filepath)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.save(self.model)


KEEP_CHECKPOINTS = ("best", "last", "none")


def _check_checkpoint_every(every: Any) -> int | str:
    if every == resume.AUTO and isinstance(every, str):
        return resume.AUTO
    if isinstance(every, int) and not isinstance(every, bool) and every >= 1:
        return every
    raise v.invalid("checkpoint_every", "be an int >= 1 or 'auto'", every)


def _check_keep_checkpoints(keep: Any, oracle: Any) -> str:
    v.check_choice("keep_checkpoints", keep, KEEP_CHECKPOINTS)
    inner = oracle.wrapped if isinstance(oracle, WeightOracle) else oracle
    if keep == "none" and isinstance(inner, kt.oracles.HyperbandOracle):
        raise v.invalid(
            "keep_checkpoints",
            "be 'best' or 'last' with Hyperband, whose rounds start from their parent trial's checkpoint",
            keep,
        )
    return str(keep)


def _fresh_optimizer(optimizer: Any) -> Any:
    # One optimizer instance cannot serve several models: copy it per trial.
    if optimizer is None or isinstance(optimizer, str):
        return optimizer
    return keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))


_CHECKPOINT_HINT = (
    "Its hyperparameters are still recorded (`get_best_hyperparameters` works): train that "
    "configuration again with `tuner.retrain_best(...)`, or restore the file from a backup."
)


def _check_checkpoint(path: str, trial_id: str) -> None:
    if is_local(path) and not os.path.exists(path):
        raise DamagedStateFile(
            path, f"the best-epoch checkpoint of trial {trial_id} is missing", _CHECKPOINT_HINT
        )


def _unreadable_checkpoint(path: str, trial_id: str, error: Exception) -> DamagedStateFile:
    return DamagedStateFile(
        path, f"the best-epoch checkpoint of trial {trial_id} cannot be loaded ({error})", _CHECKPOINT_HINT
    )


def load_checkpoint(
    model: keras.Model, path: str, build_config: str | None = None, trial_id: str | None = None
) -> None:
    """Load a trial's best-epoch checkpoint into `model`, its optimizer's state included.

    Args:
        model: A model built for the trial's hyperparameters.
        path: The checkpoint file.
        build_config: keras-tuner's file of the model's build config, used to
            build a model that is not built yet (a subclassed model).
        trial_id: The trial, for the message of a missing or damaged file.

    Raises:
        DamagedStateFile: the file is missing or cannot be read.
    """
    trial_id = trial_id or os.path.basename(os.path.dirname(path)).removeprefix("trial_")
    _check_checkpoint(path, trial_id)
    if not model.built and build_config is not None and os.path.exists(build_config):
        model.build_from_config(kt_utils.load_json(build_config))
    # Build the optimizer first so that its state (Adam's moments) is
    # restored too: a promoted Hyperband trial continues where it stopped.
    optimizer = getattr(model, "optimizer", None)
    if isinstance(optimizer, keras.optimizers.Optimizer) and not optimizer.built and model.built:
        optimizer.build(model.trainable_variables)
    try:
        model.load_weights(path)
    except OSError as error:
        raise _unreadable_checkpoint(path, trial_id, error) from None


def _compiled_loss_weights(model: Any) -> Any:
    """The `loss_weights` a plain model was compiled with, as JSON-comparable values (None: none)."""
    compiled = getattr(model, "_compile_loss", None)
    weights = getattr(compiled, "_user_loss_weights", None)
    if weights is None:
        return None
    if isinstance(weights, dict):
        return {str(k): float(w) for k, w in weights.items()}
    if isinstance(weights, (list, tuple)):
        return [float(w) for w in weights]
    return float(weights)
