"""The operator's views on a real stack: the web console in headless Chromium, ``/metrics``
scraped over HTTP, and the API docs served without a CDN.

The stack runs with auth on: the console gets the token through its token form, the tests
talk to ``/v1`` with a bearer token. Waits poll for a state; no assertion is about time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from browser_support import attempted_urls, chrome, loaded_urls
from e2e_support import E2E, make_stack, scrape_metrics

from orchestrator.api.metrics import METRIC_NAMES

TOKEN = "console-e2e-token"
FAIL_IDS = [3, 7]


@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    yield from make_stack({"api": {"auth_enabled": True, "tokens": [TOKEN]}},
                          workers=1, concurrency=4)


@pytest.fixture(scope="module")
def api(e2e: E2E) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=e2e.stack.api_url, timeout=30,
                      headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    yield from chrome()


def _machine(api: httpx.Client, name: str) -> str:
    # Items go one by one through probe-fail: ids in fail_ids fail with Probe.Failure, the rest
    # sleep a little so the run is still going while the page is watched.
    definition = {"StartAt": "Process", "States": {"Process": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
        "ToleratedFailurePercentage": 100,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "Work", "States": {"Work": {
                              "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                              "Parameters": {"FunctionName": "probe-fail", "Payload.$": "$"},
                              "OutputPath": "$.Payload", "End": True}}},
        "ResultPath": None, "End": True}}}
    out = api.post("/v1/state-machines", json={"name": name, "definition": definition})
    assert out.status_code == 200, out.text
    return str(out.json()["stateMachineArn"])


def _start(e2e: E2E, api: httpx.Client, items: int, sleep: float) -> tuple[str, str, str]:
    """(machine ARN, execution ARN, Map Run ARN) of a fresh run of ``items`` items."""
    machine = _machine(api, e2e.unique("console"))
    ns = e2e.unique("console")
    payload = {"items": [{"probe": ns, "id": i, "sleep": sleep, "fail_ids": FAIL_IDS}
                         for i in range(items)]}
    out = api.post("/v1/executions", json={"stateMachineArn": machine, "input": payload})
    assert out.status_code == 200, out.text
    execution = str(out.json()["executionArn"])
    return machine, execution, _wait_map_run(api, execution)


def _wait_map_run(api: httpx.Client, execution: str) -> str:
    found: list[str] = []

    def ready() -> bool:
        runs = api.get(f"/v1/executions/{execution}/map-runs").json().get("mapRuns", [])
        found.extend(r["mapRunArn"] for r in runs)
        return bool(found)

    _until(ready, "the Map Run exists")
    return found[0]


def _until(condition: Callable[[], Any], what: str, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"gave up waiting until {what}")


def _wait_page(driver: Any, condition: Callable[[Any], Any], what: str) -> Any:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, 90, poll_frequency=0.2).until(condition)
    except TimeoutException:
        shown = driver.execute_script("return document.body.innerText")
        pytest.fail(f"page never showed {what}; it shows: {shown[:1500]!r}")


def _text(driver: Any, css: str) -> str:
    # Read in the page (one script): the page re-renders every second, so element handles
    # held across calls would go stale.
    text = driver.execute_script(
        "var e = document.querySelector(arguments[0]); return e ? e.innerText : '';", css)
    return str(text)


def _rows(driver: Any, css: str) -> list[list[str]]:
    """The cells' text of each row matched by ``css``."""
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(function (r) {"
        " return Array.from(r.cells).map(function (c) { return c.innerText; }); });", css)
    return [[str(c) for c in row] for row in rows]


def _retry_stale(action: Callable[[], Any]) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException

    for _ in range(20):
        try:
            return action()
        except StaleElementReferenceException:
            time.sleep(0.1)
    return action()


def _type_and_submit(driver: Any, field_id: str, value: str, form_css: str) -> None:
    """Replace a field's value and press its form's submit button."""
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.ID, field_id)
    box.clear()
    box.send_keys(value)
    driver.find_element(By.CSS_SELECTOR, f"{form_css} button[type=submit]").click()


def _count(driver: Any, kind: str, name: str) -> int | None:
    text = _text(driver, f"#counts tr[data-kind={kind}] td[data-count={name}]")
    return int(text) if text.isdigit() else None


def _sign_in(driver: Any, base: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/console/")
    field = driver.find_element(By.ID, "token")
    field.clear()
    field.send_keys(TOKEN)
    driver.find_element(By.CSS_SELECTOR, "#token-form button").click()
    # Signed in once the list the token opened is shown: a page opened before that could be
    # overwritten by the list arriving late (the console's views do not cancel a slow load).
    _wait_page(driver, lambda d: _text(d, "#view h1") == "State machines", "the signed-in list")


def test_map_run_page_shows_the_run_progressing_and_its_failures(
    e2e: E2E, api: httpx.Client, driver: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from selenium.webdriver.common.by import By

    base = e2e.stack.api_url
    machine, execution, map_run = _start(e2e, api, items=30, sleep=0.4)
    # Given an operator signed in with the token, on the Map Run's page
    _sign_in(driver, base)
    driver.get(f"{base}/console/#/mr/{map_run}")
    first = _wait_page(driver, lambda d: _count(d, "itemCounts", "succeeded") is not None
                       and _count(d, "itemCounts", "total") == 30, "the item counts")
    seen = _count(driver, "itemCounts", "succeeded")
    # Then the counts move on the page while the run is running, with a rate and an ETA
    _wait_page(driver, lambda d: (_count(d, "itemCounts", "succeeded") or 0) > (seen or 0)
               and "RUNNING" in _text(d, "#run-status"), "the succeeded count moving")
    _wait_page(driver, lambda d: "items/s" in _text(d, "#items-per-second")
               and _text(d, "#items-per-second")[0].isdigit(), "a rate in items/s")
    assert first
    assert _text(driver, "#eta") not in ("", "done")
    screenshots = tmp_path_factory.mktemp("console")
    driver.save_screenshot(str(screenshots / "map-run-running.png"))
    # When the operator raises MaxConcurrency from the controls
    _retry_stale(lambda: _type_and_submit(driver, "max-concurrency", "4", "#controls"))
    _until(lambda: api.get(f"/v1/map-runs/{map_run}").json()["maxConcurrency"] == 4,
           "UpdateMapRun took the new limit")
    # Then the run ends and the failures table lists each failed child with its error and input
    _wait_page(driver, lambda d: "SUCCEEDED" in _text(d, "#run-status"), "the run finishing")
    _wait_page(driver, lambda d: len(_rows(d, "#failures tbody tr")) == len(FAIL_IDS)
               and "Probe.Failure" in _text(d, "#failures"), "both failures")
    rows = _rows(driver, "#failures tbody tr")
    assert sorted(int(row[1]) for row in rows) == FAIL_IDS
    assert all(row[2] == "Probe.Failure" and "fails on purpose" in row[3] for row in rows)
    assert _count(driver, "itemCounts", "failed") == len(FAIL_IDS)
    assert _count(driver, "itemCounts", "succeeded") == 30 - len(FAIL_IDS)
    assert "100.0%" in _text(driver, "#rate")
    _wait_page(driver, lambda d: len(_rows(d, "#children tbody tr")) == 25,
               "a first page of 25 children")
    driver.save_screenshot(str(screenshots / "map-run.png"))
    # When the operator follows a failure to the child's history
    _retry_stale(lambda: driver.find_element(By.CSS_SELECTOR, "#failures tbody tr")
                 .find_element(By.LINK_TEXT, "history").click())
    _wait_page(driver, lambda d: "Probe.Failure" in _text(d, "#error")
               and len(_rows(d, "#history tbody tr")) >= 3,
               "the child's error and history")
    assert '"probe"' in _text(driver, "#input")
    driver.save_screenshot(str(screenshots / "child.png"))
    # And the machine's page lists the execution under its status filter
    driver.get(f"{base}/console/#/sm/{machine}")
    _wait_page(driver, lambda d: execution.rsplit(":", 1)[-1] in _text(d, "#executions"),
               "the machine's execution")
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, "status-filter")).select_by_value("FAILED")
    _wait_page(driver, lambda d: "none" in _text(d, "#executions tbody"), "no FAILED executions")
    Select(driver.find_element(By.ID, "status-filter")).select_by_value("SUCCEEDED")
    _wait_page(driver, lambda d: execution.rsplit(":", 1)[-1] in _text(d, "#executions"),
               "the SUCCEEDED execution")
    assert all(urlsplit(u).hostname == "127.0.0.1" for u in loaded_urls(driver))


def test_console_asks_for_a_token_when_auth_is_on(e2e: E2E, driver: Any) -> None:
    driver.get(f"{e2e.stack.api_url}/console/")
    driver.execute_script("localStorage.removeItem('stepmap.token')")
    driver.refresh()
    _wait_page(driver, lambda d: "token" in _text(d, "#notice"), "the token notice")


def test_metrics_show_the_open_map_run_moving_during_a_run(e2e: E2E, api: httpx.Client) -> None:
    base = e2e.stack.api_url
    _, _, map_run = _start(e2e, api, items=20, sleep=0.3)
    label = f'map_run_arn="{map_run}"'

    def succeeded(series: dict[str, float]) -> float | None:
        for name, value in series.items():
            if name.startswith("stepmap_map_run_items{") and label in name \
                    and 'status="SUCCEEDED"' in name:
                return value
        return None

    # Given a scrape while the run is open: its gauges are there
    first = _until(lambda: (s := scrape_metrics(base)) and succeeded(s) is not None and s, "run gauges")
    assert first["stepmap_open_map_runs"] >= 1
    assert any(n.startswith("stepmap_map_run_running_children{") and label in n for n in first)
    assert any(n.startswith("stepmap_map_run_concurrency_limit{") and label in n
               and v == 1 for n, v in first.items())
    assert any(n.startswith("stepmap_queue_messages{") for n in first)
    assert "stepmap_children_backlog" in first
    # Then a later scrape shows more items succeeded
    _until(lambda: (succeeded(scrape_metrics(base)) or 0) > (succeeded(first) or 0), "items moving")
    # And once the run closes its series go and the totals count its items
    _until(lambda: succeeded(scrape_metrics(base)) is None, "the run's series to go")
    final = scrape_metrics(base)
    totals = {n: v for n, v in final.items() if n.startswith("stepmap_items_total{")}
    assert sum(v for n, v in totals.items() if 'status="FAILED"' in n) >= len(FAIL_IDS)
    exported = {n.split("{")[0] for n in final}
    assert exported <= {*METRIC_NAMES, "stepmap_items_created", "stepmap_child_executions_created"}


def test_api_docs_render_from_assets_served_by_the_api(e2e: E2E, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    base = e2e.stack.api_url
    for page, ready in (("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")):
        driver.get(base + page)
        _wait_page(driver, lambda d, css=ready: d.find_elements(By.CSS_SELECTOR, css)
                   and "stepmap" in d.find_elements(By.CSS_SELECTOR, css)[0].text, page)
        urls = loaded_urls(driver)
        assert all(urlsplit(u).hostname == "127.0.0.1" for u in urls), urls
        assert any(u.endswith(".js") for u in urls)
        # ReDoc's footer asks for a logo on its CDN: the page's policy blocks that request.
        remote = [u for u in attempted_urls(driver) if urlsplit(u).hostname != "127.0.0.1"]
        assert remote == [] or page == "/redoc", remote
        policy = httpx.get(base + page, timeout=30).headers["content-security-policy"]
        assert "img-src 'self' data:" in policy
    schema = httpx.get(f"{base}/openapi.json", timeout=30).json()
    body = json.dumps(schema["paths"]["/v1/map-runs/{arn}"]["get"]["responses"]["200"])
    assert "DescribeMapRunOutput" in body


def test_the_pause_button_pauses_and_resumes_a_map_run(
    e2e: E2E, api: httpx.Client, driver: Any
) -> None:
    from selenium.webdriver.common.by import By

    base = e2e.stack.api_url
    _, execution, map_run = _start(e2e, api, items=12, sleep=0.3)
    _sign_in(driver, base)
    driver.get(f"{base}/console/#/mr/{map_run}")
    _wait_page(driver, lambda d: _text(d, "#pause-resume") == "Pause", "the Pause button")
    # When the operator presses Pause, the run is paused (the API says so) and the page shows it
    _retry_stale(lambda: driver.find_element(By.ID, "pause-resume").click())
    _until(lambda: api.get(f"/v1/map-runs/{map_run}").json()["stepmap"]["paused"],
           "the Map Run is paused")
    _wait_page(driver, lambda d: _text(d, "#pause-resume") == "Resume"
               and "paused" in _text(d, "#run-badge"), "the paused badge and Resume")
    _until(lambda: api.get(f"/v1/map-runs/{map_run}").json()["executionCounts"]["running"] == 0,
           "the running child ended")
    assert "RUNNING" in _text(driver, "#run-status")
    # When the operator presses Resume, the run goes on to its end
    _retry_stale(lambda: driver.find_element(By.ID, "pause-resume").click())
    _wait_page(driver, lambda d: "SUCCEEDED" in _text(d, "#run-status"), "the run finishing")
    described = api.get(f"/v1/map-runs/{map_run}").json()
    assert described["stepmap"]["paused"] is False and described["stepmap"]["pausedSeconds"] > 0
    assert api.get(f"/v1/executions/{execution}").json()["status"] == "SUCCEEDED"


def _pool_row(driver: Any, name: str) -> list[str]:
    rows = driver.execute_script(
        "var r = document.querySelector('#pools tr[data-pool=\"' + arguments[0] + '\"]');"
        " return r ? Array.from(r.cells).map(function (c) {"
        "   var i = c.querySelector('input'); return i ? i.value : c.innerText; }) : [];", name)
    return [str(c) for c in rows]


def _click_in_pool_row(driver: Any, name: str, action: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR,
                        f'#pools tr[data-pool="{name}"] button[data-action={action}]').click()


def test_pools_page_creates_changes_and_removes_a_pool_and_refuses_one_in_use(
        e2e: E2E, api: httpx.Client, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    base, pool = e2e.stack.api_url, e2e.unique("console-pool")
    _sign_in(driver, base)
    # Given the pools page, when the operator creates a pool of 5 at 20 items/s
    driver.get(f"{base}/console/#/pools")
    _wait_page(driver, lambda d: d.find_elements(By.ID, "pool-form"), "the pool form")
    driver.find_element(By.ID, "pool-name").send_keys(pool)
    driver.find_element(By.ID, "pool-limit").send_keys("5")
    driver.find_element(By.ID, "pool-rate").send_keys("20")
    driver.find_element(By.CSS_SELECTOR, "#pool-form button[type=submit]").click()
    _wait_page(driver, lambda d: _pool_row(d, pool)[1:4] == ["5", "20", "0"], "the new pool")
    assert api.get(f"/v1/pools/{pool}").json()["itemsPerSecond"] == 20
    # When they raise its limit and clear its rate
    def change() -> None:
        row = f'#pools tr[data-pool="{pool}"]'
        limit = driver.find_element(By.CSS_SELECTOR, f"{row} input[data-field=maxConcurrency]")
        limit.clear()
        limit.send_keys("7")
        driver.find_element(By.CSS_SELECTOR, f"{row} input[data-field=itemsPerSecond]").clear()
        _click_in_pool_row(driver, pool, "save")

    _retry_stale(change)
    _until(lambda: api.get(f"/v1/pools/{pool}").json()["maxConcurrency"] == 7, "the new limit")
    assert "itemsPerSecond" not in api.get(f"/v1/pools/{pool}").json()
    # Given a Map Run bound to the pool by its machine's tag, running
    machine = _machine(api, e2e.unique("pooled"))
    tagged = api.post(f"/v1/tags/{machine}",
                      json={"tags": [{"key": "stepmap:pools", "value": pool}]})
    assert tagged.status_code == 200, tagged.text
    out = api.post("/v1/executions", json={"stateMachineArn": machine, "input": {"items": [
        {"probe": e2e.unique("pooled"), "id": i, "sleep": 0.5, "fail_ids": []}
        for i in range(8)]}})
    execution = str(out.json()["executionArn"])
    map_run = _wait_map_run(api, execution)
    # Then removing the pool is refused, naming the Map Run
    driver.get(f"{base}/console/#/pools")
    _wait_page(driver, lambda d: _pool_row(d, pool), "the pool row")
    _retry_stale(lambda: _click_in_pool_row(driver, pool, "delete"))
    driver.switch_to.alert.accept()
    _wait_page(driver, lambda d: "in use" in _text(d, "#notice"), "the refusal")
    assert map_run in _text(driver, "#notice")
    # And the Map Run's page shows its pool and sets a rate limit live
    driver.get(f"{base}/console/#/mr/{map_run}")
    _wait_page(driver, lambda d: pool in _text(d, "#map-run-pools"), "the Map Run's pool")
    _retry_stale(lambda: _type_and_submit(driver, "children-per-second", "50",
                                          "#rate-controls"))
    _until(lambda: api.get(f"/v1/map-runs/{map_run}").json()["stepmap"].get("childrenPerSecond")
           == 50, "the new rate")
    # Once the run ended, the pool can be removed from the page
    _until(lambda: api.get(f"/v1/executions/{execution}").json()["status"] == "SUCCEEDED",
           "the run to end")
    driver.get(f"{base}/console/#/pools")
    _wait_page(driver, lambda d: _pool_row(d, pool), "the pool row")
    _retry_stale(lambda: _click_in_pool_row(driver, pool, "delete"))
    driver.switch_to.alert.accept()
    _wait_page(driver, lambda d: not _pool_row(d, pool) and "removed" in _text(d, "#notice"),
               "the pool gone")
    assert api.get(f"/v1/pools/{pool}").status_code == 404
