"""Log records carry the execution, Map Run, child and request they belong to."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest

from orchestrator.logging_context import bound, current, dict_config


def _capture(log_format: str) -> tuple[logging.Logger, io.StringIO]:
    config = dict_config(log_format, "INFO")  # type: ignore[arg-type]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    formatter = config["formatters"]["stepmap"]["()"]()
    handler.setFormatter(formatter)
    handler.addFilter(config["filters"]["context"]["()"]())
    logger = logging.getLogger(f"test.{log_format}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_json_lines_carry_the_bound_context_and_leave_it_when_the_block_ends() -> None:
    logger, stream = _capture("json")
    with bound(execution_arn="arn:x:execution:m:e", request_id="r-1"):
        with bound(map_run_arn="arn:x:mapRun:m/Map:1", child="c-7"):
            logger.info("child %s failed", "c-7")
        logger.info("outer")
    logger.info("none")
    first, outer, none = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "child c-7 failed"
    assert (first["execution_arn"], first["map_run_arn"], first["child"], first["request_id"]) == (
        "arn:x:execution:m:e", "arn:x:mapRun:m/Map:1", "c-7", "r-1")
    assert "map_run_arn" not in outer and outer["request_id"] == "r-1"
    assert set(none) == {"time", "level", "logger", "message"}
    assert current() == {}


def test_text_lines_append_the_known_fields() -> None:
    logger, stream = _capture("text")
    with bound(request_id="r-2"):
        logger.warning("slow")
    assert stream.getvalue().rstrip().endswith("WARNING test.text: slow [request_id=r-2]")


def test_unknown_fields_are_refused_with_the_known_ones() -> None:
    with pytest.raises(TypeError, match="execution_arn"), bound(execution="x"):
        pass


def test_the_config_is_accepted_by_dictconfig() -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        logging.config.dictConfig(dict_config("json", "WARNING"))
        assert root.level == logging.WARNING
    finally:
        root.handlers, root.level = handlers, level
