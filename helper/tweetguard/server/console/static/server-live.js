// The server pages' live feed (server/feed.py): audit rows pushed by devices to any
// server process appear here as they are accepted. Plain DOM, text only (never HTML
// from a row). The school console's live.js keys rows by audit file alone; on the
// server many devices share a file name, so rows are keyed by device and file here.
"use strict";

(function () {
  const root = document.getElementById("live");
  if (!root || !root.dataset.feed) return;
  const state = document.getElementById("feed-state");
  const school = root.dataset.school || "";
  const seen = {};
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

  function when(row) {
    return row.at.slice(0, 19).replace("T", " ");
  }

  // The audit page of one school: the row on top, as the page draws its own rows.
  function auditRow(row) {
    const body = document.querySelector("#audit-rows tbody");
    if (!body || row.school_id !== school) return;
    const tr = document.createElement("tr");
    tr.className = "row-new";
    tr.dataset.device = row.device_id;
    tr.dataset.seq = String(row.seq);
    tr.appendChild(cell(when(row), "mono"));
    const what = document.createElement("td");
    what.appendChild(tag(row.kind));
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
    tr.appendChild(cell(row.source + " #" + row.seq, "mono"));
    body.insertBefore(tr, body.firstChild);
  }

  // The overview: the school's last-seen time moves.
  function overviewRow(row) {
    const last = document.querySelector("#school-" + CSS.escape(row.school_id) + " .last-seen");
    if (last) last.textContent = when(row);
  }

  function add(row) {
    const key = row.device_id + "/" + row.source;
    if (row.seq <= (seen[key] || 0)) return;
    seen[key] = row.seq;
    auditRow(row);
    overviewRow(row);
  }

  function connect() {
    const socket = new WebSocket(root.dataset.feed);
    socket.addEventListener("open", function () {
      delay = 500;
      state.textContent = "Live: rows appear as devices send them.";
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
