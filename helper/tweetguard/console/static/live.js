// The overview's live feed: new audit rows from transport/websocket.py, inserted
// into the page as they arrive. Plain DOM, text only (never HTML from a row).
"use strict";

(function () {
  const root = document.getElementById("overview");
  if (!root || !root.dataset.feed) return;
  const state = document.getElementById("feed-state");
  const body = document.querySelector("#latest tbody");
  const todayStart = Date.parse(root.dataset.today);
  const cursors = JSON.parse(root.dataset.cursors || "{}");
  // Labels and summary keys come from console/rows.py, written into the page.
  const format = JSON.parse(document.getElementById("row-format").textContent);
  const KEYS = format.keys;
  const LABELS = format.labels;
  const LATEST = 25;
  let delay = 500;

  function cell(text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    return td;
  }

  function tag(text, className) {
    const span = document.createElement("span");
    span.className = "tag" + (className ? " " + className : "");
    span.textContent = text;
    return span;
  }

  function summary(row) {
    for (const key of KEYS) {
      const value = row.detail ? row.detail[key] : undefined;
      if (value !== undefined && value !== null && value !== "") return String(value);
    }
    return "";
  }

  function render(row) {
    const tr = document.createElement("tr");
    tr.dataset.source = row.source;
    tr.dataset.seq = String(row.seq);
    tr.className = "row-new";
    tr.appendChild(cell(row.at.slice(0, 19).replace("T", " "), "mono"));
    const what = document.createElement("td");
    what.appendChild(tag(LABELS[row.kind] || row.kind, "kind-" + row.kind));
    if (row.outside) {
      what.appendChild(document.createTextNode(" "));
      what.appendChild(tag("posted outside tweetguard", "outside"));
    }
    tr.appendChild(what);
    tr.appendChild(cell(row.verdict || "", "verdict-" + (row.verdict || "none")));
    tr.appendChild(cell(row.account ? "@" + row.account : ""));
    const rules = document.createElement("td");
    for (const rule of row.rules || []) rules.appendChild(tag(rule));
    tr.appendChild(rules);
    tr.appendChild(cell(row.device + " / " + row.user));
    tr.appendChild(cell(summary(row)));
    return tr;
  }

  function bump(name) {
    const counter = document.querySelector('[data-count="' + name + '"]');
    if (counter) counter.textContent = String(Number(counter.textContent) + 1);
  }

  function device(row) {
    const rows = document.querySelectorAll("#devices tbody tr");
    for (const tr of rows) {
      if (tr.dataset.device === row.device && tr.dataset.user === row.user) {
        const last = tr.querySelector(".last-activity");
        if (!last) return;
        last.textContent = row.at.slice(0, 19).replace("T", " ") + " ";
        const kind = document.createElement("span");
        kind.className = "muted";
        kind.textContent = "(" + row.kind + ")";
        last.appendChild(kind);
        return;
      }
    }
  }

  function add(row) {
    const seen = cursors[row.source] || 0;
    if (row.seq <= seen) return;
    cursors[row.source] = row.seq;
    const empty = document.getElementById("no-rows");
    if (empty) empty.remove();
    body.insertBefore(render(row), body.firstChild);
    while (body.children.length > LATEST) body.removeChild(body.lastChild);
    if (Date.parse(row.at) >= todayStart) {
      if (["check", "override", "post", "logout"].includes(row.kind)) bump(row.kind);
      if (row.kind === "check" && row.verdict === "block") bump("hold");
    }
    device(row);
  }

  function connect() {
    const socket = new WebSocket(root.dataset.feed);
    socket.addEventListener("open", function () {
      delay = 500;
      socket.send(JSON.stringify({ after: cursors }));
      state.textContent = "Live: new rows appear as they are recorded.";
      root.dataset.live = "yes";
    });
    socket.addEventListener("message", function (event) {
      const message = JSON.parse(event.data);
      if (message.type === "rows") message.rows.forEach(add);
    });
    socket.addEventListener("close", function (event) {
      root.dataset.live = "no";
      if (event.code === 4401) {
        state.textContent = "Signed out: reload the page to sign in again.";
        return;
      }
      state.textContent = "The live feed is not reachable; trying again…";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    });
  }

  connect();
})();
