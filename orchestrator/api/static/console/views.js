/* Views: DOM helpers, state machines, executions of one machine, one execution. */
"use strict";
const Views = (() => {
  /* h("a", {href: "#"}, "text", child...): an element; strings become text nodes (no HTML). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "className") el.className = value;
      else el.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }
  /* Replace an element's content; nested arrays are flattened and null/false skipped. */
  const fill = (el, ...children) => el.replaceChildren(...children.flat(2)
    .filter((c) => c !== null && c !== undefined && c !== false));
  const status = (s) => h("span", { className: "status status-" + s }, s);
  const date = (d) => (d ? new Date(d).toLocaleString() : "");
  const link = (view, arn, text) => h("a", { href: "#/" + view + "/" + encodeURIComponent(arn) }, text || arn);
  const shortName = (arn) => arn.split(":").pop();
  const pretty = (text) => {
    if (text === undefined || text === null) return "";
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { return String(text); }
  };
  function table(headers, rows, attrs) {
    return h("table", attrs || {},
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: headers.length, className: "muted" }, "none"))));
  }
  /* A pager over nextToken pages: keeps the tokens of the pages seen so Previous works. */
  function pager(onPage) {
    const tokens = [null];
    let index = 0;
    const el = h("div", { className: "pager" });
    const render = (next) => {
      el.replaceChildren(
        h("button", { type: "button", disabled: index === 0, onclick: () => { index -= 1; onPage(tokens[index]); } }, "Previous"),
        h("span", { className: "muted" }, "page " + (index + 1) + " "),
        h("button", { type: "button", disabled: !next, "data-next": next ? "1" : null,
          onclick: () => { index += 1; tokens[index] = next; onPage(next); } }, "Next"));
    };
    return { el, render, current: () => tokens[index] };
  }

  async function machines(root) {
    const data = await Api.stateMachines({ maxResults: 1000 });
    root.replaceChildren(h("h1", {}, "State machines"),
      table(["Name", "Type", "Created"], data.stateMachines.map((m) => h("tr", {},
        h("td", {}, link("sm", m.stateMachineArn, m.name)), h("td", {}, m.type), h("td", {}, date(m.creationDate))))));
  }

  async function machine(root, arn) {
    const described = await Api.stateMachine(arn);
    const filter = h("select", { id: "status-filter" }, ["", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
      .map((s) => h("option", { value: s }, s || "any status")));
    const list = h("div", {});
    const pages = pager((token) => load(token));
    async function load(token) {
      const data = await Api.executions({ stateMachineArn: arn, statusFilter: filter.value, maxResults: 25, nextToken: token });
      list.replaceChildren(table(["Name", "Status", "Started", "Stopped"], data.executions.map((e) => h("tr", {},
        h("td", {}, link("ex", e.executionArn, e.name)), h("td", {}, status(e.status)),
        h("td", {}, date(e.startDate)), h("td", {}, date(e.stopDate)))), { id: "executions" }));
      pages.render(data.nextToken);
    }
    filter.addEventListener("change", () => load(null));
    root.replaceChildren(h("h1", {}, described.name), h("p", { className: "muted" }, arn),
      h("h2", {}, "Executions"), h("label", {}, "Status ", filter), list, pages.el,
      h("h2", {}, "Definition"), h("pre", {}, pretty(described.definition)));
    await load(null);
  }

  async function execution(root, arn) {
    const e = await Api.execution(arn);
    const runs = e.mapRunArn ? { mapRuns: [] } : await Api.mapRuns(arn).catch(() => ({ mapRuns: [] }));
    const history = h("div", {});
    const pages = pager((token) => loadHistory(token));
    async function loadHistory(token) {
      const data = await Api.history(arn, { maxResults: 100, nextToken: token });
      history.replaceChildren(table(["#", "Type", "Time", "Details"], data.events.map((ev) => {
        const details = Object.entries(ev).filter(([k]) => k.endsWith("EventDetails")).map(([, v]) => v);
        return h("tr", {}, h("td", { className: "num" }, ev.id), h("td", {}, ev.type), h("td", {}, date(ev.timestamp)),
          h("td", {}, details.length ? h("pre", {}, JSON.stringify(details[0], null, 2)) : ""));
      }), { id: "history" }));
      pages.render(data.nextToken);
    }
    const actions = h("p", { className: "controls" });
    if (!e.mapRunArn && e.status === "RUNNING") {
      actions.append(h("button", { type: "button", className: "danger", onclick: async () => {
        if (confirm("Stop this execution?")) { await Console.act(() => Api.stop(arn), "Stopped"); }
      } }, "Stop execution"));
    }
    if (!e.mapRunArn && ["FAILED", "TIMED_OUT", "ABORTED"].includes(e.status)) {
      actions.append(h("button", { type: "button", onclick: () => Console.act(() => Api.redrive(arn), "Redrive started") }, "Redrive"));
    }
    fill(root,
      h("h1", {}, shortName(arn), " ", status(e.status)), h("p", { className: "muted" }, arn),
      e.mapRunArn ? h("p", {}, "Child of Map Run ", link("mr", e.mapRunArn)) : null,
      h("p", {}, "State machine: ", e.mapRunArn ? e.stateMachineArn : link("sm", e.stateMachineArn),
        " · started ", date(e.startDate), e.stopDate ? " · stopped " + date(e.stopDate) : ""),
      actions,
      runs.mapRuns.length ? [h("h2", {}, "Map Runs"), table(["Map Run", "Started", "Stopped"], runs.mapRuns.map((r) =>
        h("tr", {}, h("td", {}, link("mr", r.mapRunArn, shortName(r.mapRunArn))), h("td", {}, date(r.startDate)), h("td", {}, date(r.stopDate)))))] : null,
      e.error ? [h("h2", {}, "Error"), h("p", { id: "error" }, h("b", {}, e.error)), h("pre", { id: "cause" }, pretty(e.cause))] : null,
      h("div", { className: "grid" },
        h("div", {}, h("h2", {}, "Input"), h("pre", { id: "input" }, pretty(e.input))),
        h("div", {}, h("h2", {}, "Output"), h("pre", { id: "output" }, pretty(e.output)))),
      h("h2", {}, "Event history"), history, pages.el);
    await loadHistory(null);
  }

  return { h, fill, status, date, link, shortName, pretty, table, pager, machines, machine, execution };
})();
