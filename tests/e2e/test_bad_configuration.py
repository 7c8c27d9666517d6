"""A worker that cannot load its handlers never starts (issue 9: it used to start, take
messages and have each one redelivered every minute, with the import error only in its log)."""

from __future__ import annotations

import pytest

from orchestrator.devstack.stack import LocalStack, StackError

pytestmark = pytest.mark.e2e


def test_a_children_worker_with_a_misspelt_handler_module_fails_the_stacks_readiness() -> None:
    stack = LocalStack(workers=1, api=False, control=False, s3=False, bucket=None, startup_timeout=60,
                       worker_env={"STEPMAP_HANDLER_MODULES": '["workers.handlers.exmaples"]'})
    with pytest.raises(StackError) as caught:
        stack.start()
    message = str(caught.value)
    assert "children-1" in message
    assert ("STEPMAP_HANDLER_MODULES: cannot import handler module 'workers.handlers.exmaples': "
            "ModuleNotFoundError") in message
    assert not any(p.alive() for p in stack.processes.values())
