import io
import json
import logging

from infra.logs import ContextFilter, JsonFormatter, RedactPII, bind, hash_id, log_context


def _capture():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactPII())
    logger = logging.getLogger("test.log_context")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, out


def test_turn_context_reaches_every_line_and_ends_with_the_block():
    logger, out = _capture()
    with log_context(request_id="r-1", session_hash=hash_id("session-42")):
        logger.info("before the turn")
        bind(event_id="e-9")
        logger.info("after the turn")
    logger.info("outside")
    first, second, third = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["request_id"] == "r-1" and "event_id" not in first
    assert second["event_id"] == "e-9" and second["session_hash"] == first["session_hash"]
    assert "request_id" not in third and "event_id" not in third
    assert "session-42" not in out.getvalue()


def test_session_hash_is_stable_keyed_and_short():
    assert hash_id("s1") == hash_id("s1") != hash_id("s2")
    assert len(hash_id("s1")) == 16


def test_library_chatter_is_kept_off_the_terminal_but_warnings_are_not():
    import logging

    from infra.logs import QuietLibraries

    f = QuietLibraries()

    def record(name: str, level: int, msg: str) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, msg, None, None)

    assert not f.filter(record("great_expectations.data_context.types.base", logging.INFO, "Created temporary directory"))
    assert not f.filter(record("dagster.builtin", logging.INFO, "Running dbt command"))
    assert f.filter(record("dagster.builtin", logging.ERROR, "step failed"))
    assert not f.filter(record("mlflow.pyfunc", logging.WARNING, "Passing a Python object as `python_model` causes ..."))
    assert f.filter(record("mlflow.tracking", logging.WARNING, "run failed to log"))
    assert f.filter(record("naviyam.serving", logging.INFO, "ready"))
    assert f.filter(record("models.retrieval.index", logging.INFO, "index build"))


def test_mlflow_advice_stays_off_mlflows_own_handler():
    """MLflow prints through its own handler on the ``mlflow`` logger: a record of a child logger
    (``mlflow.pyfunc``) passes that logger's filters, so the advice filter sits on the handler."""
    import io
    import logging

    from infra.logs import quiet_library_handlers

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    parent = logging.getLogger("mlflow")
    parent.addHandler(handler)
    try:
        quiet_library_handlers("mlflow")
        quiet_library_handlers("mlflow")  # idempotent: one filter per handler
        assert sum(type(f).__name__ == "QuietLibraries" for f in handler.filters) == 1
        child = logging.getLogger("mlflow.pyfunc")
        child.warning("Passing a Python object as `python_model` causes it to be serialized using CloudPickle")
        child.warning("could not log the model")
    finally:
        parent.removeHandler(handler)
    assert stream.getvalue() == "could not log the model\n"
