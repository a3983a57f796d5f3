"""A worker's requests to the chief wait `chief_timeout` seconds, then stop the search with a message."""

import socket
import time

import keras_tuner as kt
import pytest
from keras_tuner.src.distribute import oracle_client

import tuneweights as tw
from tuneweights.search import chief


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


@pytest.fixture
def client(monkeypatch):
    port = closed_port()
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner7")
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
    inner = kt.oracles.RandomSearchOracle(kt.Objective("val_a_loss", "min"), max_trials=1)
    return oracle_client.OracleClient(inner), port


def test_a_request_to_a_missing_chief_stops_after_the_timeout_with_the_address_and_what_to_do(client):
    oracle, port = client
    chief.limit_waits(oracle, 0.5)
    began = time.monotonic()
    with pytest.raises(tw.ChiefUnreachableError) as caught:
        oracle.create_trial("tuner7")
    assert time.monotonic() - began < 10
    message = str(caught.value)
    assert message.startswith(
        f"The chief of the search at 127.0.0.1:{port} did not answer within 0.5 s "
        "(CreateTrial: DEADLINE_EXCEEDED)."
    )
    assert "Restart the chief with the same script and `overwrite=False`" in message
    assert "same KERASTUNER_TUNER_ID (tuner7)" in message and "raise `chief_timeout`" in message
    assert isinstance(caught.value, kt.errors.FatalError) and isinstance(caught.value, ConnectionError)


def test_every_request_is_bounded_and_bounding_twice_keeps_one_layer(client):
    oracle, _ = client
    chief.limit_waits(oracle, 0.3)
    chief.limit_waits(oracle, 0.3)
    assert not isinstance(oracle.stub._stub, type(oracle.stub))
    for request in (
        lambda: oracle.update_trial("0", {"val_a_loss": 1.0}, step=0),
        lambda: oracle.get_space(),
    ):
        with pytest.raises(tw.ChiefUnreachableError, match=r"did not answer within 0.3 s"):
            request()
