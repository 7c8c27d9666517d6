/* The console's router: #/ state machines, #/sm/<arn>, #/ex/<arn>, #/mr/<arn>, #/pools. */
"use strict";
const Console = (() => {
  const view = () => document.getElementById("view");
  let generation = 0;

  function notify(message, isError) {
    const box = document.getElementById("notice");
    box.textContent = message || "";
    box.className = isError ? "error" : "";
    box.hidden = !message;
  }

  async function act(action, done) {
    try { await action(); notify(done, false); } catch (error) { notify(error.message, true); }
  }

  async function route() {
    generation += 1;
    const mine = generation;
    const alive = () => mine === generation;
    const [, kind, arn] = (location.hash.match(/^#\/(sm|ex|mr)\/(.+)$/) || []);
    notify("");
    /* Each route renders into a root of its own: a slower earlier route that ends later
       fills a root no longer on the page instead of replacing the current view. */
    const root = document.createElement("div");
    view().replaceChildren(root);
    try {
      if (kind === "sm") await Views.machine(root, decodeURIComponent(arn));
      else if (kind === "ex") await Views.execution(root, decodeURIComponent(arn));
      else if (kind === "mr") await MapRunView.show(root, decodeURIComponent(arn), alive);
      else if (location.hash === "#/pools") await PoolsView.show(root);
      else await Views.machines(root);
    } catch (error) {
      if (!alive()) return;
      if (error.status === 401) notify("The API needs a token: enter it at the top right.", true);
      else notify(error.message, true);
    }
  }

  function start() {
    const input = document.getElementById("token");
    input.value = Api.token();
    document.getElementById("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      Api.setToken(input.value.trim());
      route();
    });
    window.addEventListener("hashchange", route);
    route();
  }

  return { start, notify, act };
})();
Console.start();
