/* stepmap extensions on the Map Run page: the Pause/Resume button and the paused/queued badge. */
"use strict";
const PauseControl = (() => {
  const { h } = Views;
  const path = (arn, verb) => "/v1/map-runs/" + Api.arnPath(arn) + ":" + verb;
  const pause = (arn) => Api.call("POST", path(arn, "pause"));
  const resume = (arn) => Api.call("POST", path(arn, "resume"));

  /* Pause while the run is open and not paused; Resume while it is paused. */
  function button(run, refresh) {
    const ext = run.stepmap || {};
    const paused = Boolean(ext.paused);
    return h("button", { type: "button", id: "pause-resume", disabled: run.status !== "RUNNING",
      title: paused ? "Dispatch children again, where the run was"
        : "Dispatch no more children; those running finish (stepmap extension)",
      onclick: async (event) => {
        /* The controls are not redrawn while they hold the focus: give it up, so the
           button turns into Resume (or Pause) at the next refresh. */
        event.currentTarget.blur();
        await Console.act(() => (paused ? resume : pause)(run.mapRunArn), paused ? "Map Run resumed" : "Map Run paused");
        refresh();
      } }, paused ? "Resume" : "Pause");
  }

  /* "paused 12 s" or "queued, 3rd for admission" next to the status; nothing otherwise. */
  function badge(run) {
    const ext = run.stepmap || {};
    if (run.status !== "RUNNING") return "";
    if (ext.queued) return h("span", { id: "run-badge", className: "badge" }, "queued · position " + ext.queuePosition);
    if (ext.paused) return h("span", { id: "run-badge", className: "badge" }, "paused · " + Math.round(ext.pausedSeconds) + " s");
    return "";
  }

  return { button, badge, pause, resume };
})();
