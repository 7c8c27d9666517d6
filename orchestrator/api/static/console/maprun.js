/* The live Map Run page: counts, progress with items/s and ETA, throughput, failures, children, controls. */
"use strict";
const MapRunView = (() => {
  const { h, status, date, link, shortName, pretty, table, pager } = Views;
  const POLL_MS = 1000;
  const COUNT_NAMES = ["pending", "running", "succeeded", "failed", "timedOut", "aborted", "total", "resultsWritten"];

  function eta(seconds) {
    if (!isFinite(seconds) || seconds < 0) return "—";
    if (seconds < 90) return Math.ceil(seconds) + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    return (seconds / 3600).toFixed(1) + " h";
  }

  function countsTable(run) {
    return table(["", ...COUNT_NAMES], ["itemCounts", "executionCounts"].map((kind) => h("tr", { "data-kind": kind },
      h("th", {}, kind === "itemCounts" ? "Items" : "Child executions"),
      COUNT_NAMES.map((name) => h("td", { className: "num", "data-count": name }, run[kind][name])))), { id: "counts" });
  }

  /* Live: the rate over the last seconds; once the run ended: its average over its lifetime. */
  function itemsPerSecond(run, rate, done) {
    if (run.status !== "RUNNING" && run.stopDate) {
      const seconds = (new Date(run.stopDate) - new Date(run.startDate)) / 1000;
      if (seconds > 0) return (done / seconds).toFixed(1) + " items/s (average)";
    }
    return rate === null ? "— items/s" : rate.toFixed(1) + " items/s";
  }

  function progress(run, meter) {
    const c = run.itemCounts;
    const total = Math.max(c.total, 1);
    const done = c.succeeded + c.failed + c.timedOut + c.aborted;
    const pct = (n) => (100 * n / total).toFixed(2) + "%";
    const rate = meter.rate();
    const remaining = c.pending + c.running;
    return h("div", { id: "progress-block" },
      h("div", { className: "progress", id: "progress", title: done + " of " + c.total + " items finished" },
        h("span", { className: "succeeded", style: "width:" + pct(c.succeeded) }),
        h("span", { className: "failed", style: "width:" + pct(c.failed + c.timedOut + c.aborted) }),
        h("span", { className: "running", style: "width:" + pct(c.running) })),
      h("p", { className: "rate", id: "rate" },
        done + " / " + c.total + " items (" + (100 * done / total).toFixed(1) + "%) · ",
        h("span", { id: "items-per-second" }, itemsPerSecond(run, rate, done)), " · ETA ",
        h("span", { id: "eta" }, run.status !== "RUNNING" ? "done" : rate ? eta(remaining / rate) : "—")));
  }

  function controls(run, parentArn, refresh) {
    const concurrency = h("input", { id: "max-concurrency", type: "number", min: 0, value: run.maxConcurrency });
    const percentage = h("input", { id: "tolerated-percentage", type: "number", min: 0, max: 100, step: "any", value: run.toleratedFailurePercentage });
    const count = h("input", { id: "tolerated-count", type: "number", min: 0, value: run.toleratedFailureCount });
    const running = run.status === "RUNNING";
    return h("form", { className: "controls card", id: "controls", onsubmit: async (event) => {
      event.preventDefault();
      /* Only the fields the operator changed: sending an unchanged 0 count would set a threshold. */
      const body = {};
      if (Number(concurrency.value) !== run.maxConcurrency) body.maxConcurrency = Number(concurrency.value);
      if (Number(percentage.value) !== run.toleratedFailurePercentage) body.toleratedFailurePercentage = Number(percentage.value);
      if (Number(count.value) !== run.toleratedFailureCount) body.toleratedFailureCount = Number(count.value);
      if (!Object.keys(body).length) { Console.notify("Nothing changed", false); return; }
      await Console.act(() => Api.updateMapRun(run.mapRunArn, body), "Map Run updated");
      refresh();
    } },
      h("label", {}, "MaxConcurrency (0 = no limit) ", concurrency),
      h("label", {}, "Tolerated failure % ", percentage),
      h("label", {}, "Tolerated failure count ", count),
      h("button", { type: "submit", disabled: !running }, "Update"), " ",
      PauseControl.button(run, refresh), " ",
      h("button", { type: "button", className: "danger", disabled: !running, onclick: async () => {
        if (confirm("Stop the parent execution (and this Map Run)?")) await Console.act(() => Api.stop(parentArn), "Stop requested");
        refresh();
      } }, "Stop"), " ",
      h("button", { type: "button", disabled: running, onclick: async () => {
        await Console.act(() => Api.redrive(parentArn), "Redrive started"); refresh();
      } }, "Redrive"));
  }

  /* Rate limits (a stepmap extension): an emptied field removes its limit (0). */
  function rateControls(run, refresh) {
    const ext = run.stepmap || {};
    const items = h("input", { id: "items-per-second", type: "number", min: 0, step: "any", placeholder: "none",
      value: ext.itemsPerSecond === undefined ? "" : ext.itemsPerSecond });
    const children = h("input", { id: "children-per-second", type: "number", min: 0, step: "any", placeholder: "none",
      value: ext.childrenPerSecond === undefined ? "" : ext.childrenPerSecond });
    const value = (input) => (input.value.trim() === "" ? 0 : Number(input.value));
    return h("form", { className: "controls card", id: "rate-controls", onsubmit: async (event) => {
      event.preventDefault();
      const body = { itemsPerSecond: value(items), childrenPerSecond: value(children) };
      await Console.act(() => Api.updateMapRunRate(run.mapRunArn, body), "Rate limits updated");
      refresh();
    } },
      h("label", {}, "Items/s ", items), h("label", {}, "Children/s ", children),
      h("button", { type: "submit", disabled: run.status !== "RUNNING" }, "Set rate limits"),
      ext.pools ? h("span", { className: "muted", id: "map-run-pools" }, " pools: " + ext.pools.join(", ")) : null);
  }

  function failureRows(data) {
    return table(["Child", "Index", "Error", "Cause", "Input", "History"], data.failures.map((f) => h("tr", {},
      h("td", {}, link("ex", f.executionArn, f.name.slice(0, 8) + "…")),
      h("td", { className: "num" }, f.index === null ? "" : f.index),
      h("td", { className: "error-name" }, f.error || ""),
      h("td", {}, h("pre", {}, pretty(f.cause))),
      h("td", {}, h("pre", {}, pretty(f.input))),
      h("td", {}, link("ex", f.executionArn, "history")))), { id: "failures" });
  }

  async function show(root, arn, alive) {
    const meter = new Throughput.Meter(10);
    let run = await Api.mapRun(arn);
    const header = h("div", {});
    const live = h("div", {});
    const canvas = h("canvas", { id: "throughput" });
    const failuresBox = h("div", {});
    const childrenBox = h("div", {});
    const controlBox = h("div", {});
    const childFilter = h("select", { id: "child-filter" }, ["", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
      .map((s) => h("option", { value: s }, s || "any status")));
    const failurePages = pager((token) => loadFailures(token));
    const childPages = pager((token) => loadChildren(token));
    let failedSeen = -1;

    async function loadFailures(token) {
      const data = await Api.failures(arn, { maxResults: 20, nextToken: token });
      failuresBox.replaceChildren(failureRows(data));
      failurePages.render(data.nextToken);
    }
    async function loadChildren(token) {
      const data = await Api.children(arn, { statusFilter: childFilter.value, maxResults: 25, nextToken: token });
      childrenBox.replaceChildren(table(["Child", "Status", "Items", "Started", "Stopped"], data.executions.map((c) => h("tr", {},
        h("td", {}, link("ex", c.executionArn, c.name)), h("td", {}, status(c.status)), h("td", { className: "num" }, c.itemCount),
        h("td", {}, date(c.startDate)), h("td", {}, date(c.stopDate)))), { id: "children" }));
      childPages.render(data.nextToken);
    }
    childFilter.addEventListener("change", () => loadChildren(null));
    const refresh = async () => { run = await Api.mapRun(arn); render(); };

    function render() {
      const done = run.itemCounts.succeeded + run.itemCounts.failed + run.itemCounts.timedOut + run.itemCounts.aborted;
      meter.add(Date.now() / 1000, done);
      header.replaceChildren(h("h1", {}, "Map Run ", shortName(arn), " ", h("span", { id: "run-status" }, status(run.status)), " ", PauseControl.badge(run)),
        h("p", { className: "muted" }, arn),
        h("p", {}, "Parent execution: ", link("ex", run.executionArn, shortName(run.executionArn)),
          " · started ", date(run.startDate), run.stopDate ? " · stopped " + date(run.stopDate) : "",
          " · MaxConcurrency ", run.maxConcurrency, " · redrives ", run.redriveCount));
      live.replaceChildren(progress(run, meter), countsTable(run));
      Throughput.draw(canvas, meter.series);
      if (!controlBox.contains(document.activeElement)) {
        controlBox.replaceChildren(controls(run, run.executionArn, refresh), rateControls(run, refresh));
      }
    }

    root.replaceChildren(header, live, h("h2", {}, "Throughput (items/s)"), canvas,
      h("h2", {}, "Controls"), controlBox,
      h("h2", {}, "Failures"), failuresBox, failurePages.el,
      h("h2", {}, "Children"), h("label", {}, "Status ", childFilter), childrenBox, childPages.el);
    render();
    await Promise.all([loadFailures(null), loadChildren(null)]);
    failedSeen = run.executionCounts.failed;

    /* Poll the counters (one DescribeMapRun); re-read failures only when their count moved. */
    while (alive()) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      if (!alive()) break;
      try {
        run = await Api.mapRun(arn);
        render();
        if (run.executionCounts.failed !== failedSeen) {
          failedSeen = run.executionCounts.failed;
          await loadFailures(failurePages.current());
        }
        await loadChildren(childPages.current());
      } catch (error) {
        Console.notify(error.message, true);
      }
    }
  }

  return { show, eta };
})();
