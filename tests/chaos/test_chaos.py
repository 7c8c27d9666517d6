"""The chaos tier at CI size (issue 9): kills and Redis restarts during Distributed Map runs.

Children workers, the control worker and the API are SIGKILLed at random moments (the API
also during StartExecution, the control worker while parents wait on a Wait or a Map Run or
while a Map Run finalizes), Redis restarts with its append-only file, and MaxConcurrency 0 is
far above the 8 worker slots. The figures are printed; the invariants are asserted
(``chaos_campaign.py``; the long form is ``python -m tests.chaos``).
"""

from __future__ import annotations

from chaos_campaign import Plan, run_campaign



def test_nothing_is_lost_duplicated_run_again_or_left_running_under_chaos() -> None:
    figures = run_campaign(Plan(executions=3, items=60, worker_kills=3, control_kills=2,
                                api_kills=2, redis_restarts=1, seed=9))
    print("\n" + figures.report())
    assert figures.worker_kills + figures.control_kills + figures.api_kills > 0
    assert figures.not_terminal == 0
    assert figures.not_succeeded == 0
    assert figures.lost == 0
    assert figures.duplicated == 0
    assert figures.rerun_after_success == 0
    assert figures.bad_snapshots == 0
    assert figures.differs_from_clean == 0
