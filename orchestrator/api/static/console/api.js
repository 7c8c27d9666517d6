/* The /v1 client of the console: bearer token from local storage, JSON in and out. */
"use strict";
const Api = (() => {
  const TOKEN_KEY = "stepmap.token";
  const token = () => localStorage.getItem(TOKEN_KEY) || "";
  const setToken = (value) => localStorage.setItem(TOKEN_KEY, value);

  class ApiError extends Error {
    constructor(status, body) {
      super((body && (body.message || body.error)) || ("HTTP " + status));
      this.status = status;
      this.body = body;
    }
  }

  async function call(method, path, body) {
    const headers = { "Accept": "application/json" };
    if (token()) headers["Authorization"] = "Bearer " + token();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const data = text ? JSON.parse(text) : {};
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  /* An ARN in a path: reserved characters of a URL are escaped, ':' and '/' are kept. */
  const arnPath = (arn) => encodeURI(arn).replace(/\?/g, "%3F").replace(/#/g, "%23");
  const query = (params) => {
    const parts = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
    return parts.length ? "?" + new URLSearchParams(parts).toString() : "";
  };

  return {
    token, setToken, ApiError, call, arnPath, query,
    stateMachines: (p) => call("GET", "/v1/state-machines" + query(p || {})),
    stateMachine: (arn) => call("GET", "/v1/state-machines/" + arnPath(arn)),
    executions: (p) => call("GET", "/v1/executions" + query(p)),
    execution: (arn) => call("GET", "/v1/executions/" + arnPath(arn)),
    history: (arn, p) => call("GET", "/v1/executions/" + arnPath(arn) + "/history" + query(p || {})),
    mapRuns: (arn) => call("GET", "/v1/executions/" + arnPath(arn) + "/map-runs"),
    stop: (arn) => call("POST", "/v1/executions/" + arnPath(arn) + "/stop", {}),
    redrive: (arn) => call("POST", "/v1/executions/" + arnPath(arn) + "/redrive", {}),
    mapRun: (arn) => call("GET", "/v1/map-runs/" + arnPath(arn)),
    children: (arn, p) => call("GET", "/v1/map-runs/" + arnPath(arn) + "/executions" + query(p || {})),
    updateMapRun: (arn, body) => call("PATCH", "/v1/map-runs/" + arnPath(arn), body),
    pools: () => call("GET", "/v1/pools"),
    createPool: (body) => call("POST", "/v1/pools", body),
    updatePool: (name, body) => call("PATCH", "/v1/pools/" + encodeURIComponent(name), body),
    deletePool: (name) => call("DELETE", "/v1/pools/" + encodeURIComponent(name)),
    updateMapRunRate: (arn, body) => call("PATCH", "/v1/map-runs/" + arnPath(arn) + "/rate", body),
    failures: (arn, p) => call("GET", "/console/api/map-runs/" + arnPath(arn) + "/failures" + query(p || {})),
  };
})();
