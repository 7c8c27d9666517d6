/* The pools page (#/pools, a stepmap extension): list, create, change and remove named pools. */
"use strict";
const PoolsView = (() => {
  const { h, date, table } = Views;

  /* A number input's value, or undefined when empty. */
  const numberOf = (input) => (input.value.trim() === "" ? undefined : Number(input.value));

  function row(pool, reload) {
    const limit = h("input", { type: "number", min: 1, value: pool.maxConcurrency, "data-field": "maxConcurrency" });
    const rate = h("input", { type: "number", min: 0, step: "any", placeholder: "none",
      value: pool.itemsPerSecond === undefined ? "" : pool.itemsPerSecond, "data-field": "itemsPerSecond" });
    return h("tr", { "data-pool": pool.name },
      h("td", {}, pool.name),
      h("td", {}, limit),
      h("td", {}, rate),
      h("td", { className: "num", "data-count": "running" }, pool.running),
      h("td", {}, date(pool.updateDate)),
      h("td", {},
        h("button", { type: "button", "data-action": "save", onclick: async () => {
          /* An emptied rate removes it (0); only fields that changed are sent. */
          const body = {};
          if (numberOf(limit) !== pool.maxConcurrency) body.maxConcurrency = numberOf(limit);
          const newRate = numberOf(rate) === undefined ? 0 : numberOf(rate);
          if (newRate !== (pool.itemsPerSecond || 0)) body.itemsPerSecond = newRate;
          if (!Object.keys(body).length) { Console.notify("Nothing changed", false); return; }
          await Console.act(() => Api.updatePool(pool.name, body), "Pool " + pool.name + " updated");
          reload();
        } }, "Save"), " ",
        h("button", { type: "button", className: "danger", "data-action": "delete", onclick: async () => {
          if (!confirm("Remove pool " + pool.name + "?")) return;
          await Console.act(() => Api.deletePool(pool.name), "Pool " + pool.name + " removed");
          reload();
        } }, "Remove")));
  }

  async function show(root) {
    const list = h("div", {});
    const name = h("input", { id: "pool-name", placeholder: "name", required: true });
    const limit = h("input", { id: "pool-limit", type: "number", min: 1, placeholder: "max concurrency", required: true });
    const rate = h("input", { id: "pool-rate", type: "number", min: 0, step: "any", placeholder: "items/s (optional)" });
    async function reload() {
      const data = await Api.pools();
      list.replaceChildren(table(["Pool", "Max concurrency", "Items/s", "Running", "Updated", ""],
        data.pools.map((p) => row(p, reload)), { id: "pools" }));
    }
    const form = h("form", { className: "controls card", id: "pool-form", onsubmit: async (event) => {
      event.preventDefault();
      const body = { name: name.value.trim(), maxConcurrency: numberOf(limit) };
      if (numberOf(rate) !== undefined) body.itemsPerSecond = numberOf(rate);
      await Console.act(() => Api.createPool(body), "Pool " + body.name + " created");
      await reload();
    } },
      h("label", {}, "Name ", name), h("label", {}, "Max concurrency ", limit),
      h("label", {}, "Items/s ", rate), h("button", { type: "submit" }, "Create pool"));
    root.replaceChildren(h("h1", {}, "Pools"),
      h("p", { className: "muted" }, "Named pools are a stepmap extension: Map Runs of state machines tagged ",
        h("code", {}, "stepmap:pools"), " share their concurrency and rate. A pool in use cannot be removed."),
      list, h("h2", {}, "New pool"), form);
    await reload();
  }

  return { show };
})();
