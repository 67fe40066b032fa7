// The live feed on a console or server page: audit rows as they are recorded
// (transport/websocket.py on a school's machine, server/feed.py on the server),
// put into the page. Plain DOM, text only (never HTML from a row).
//
// The page says what to do with them, in data attributes of the element that
// names the feed (data-feed, the ws:// or wss:// URL):
//   data-rows      where new rows go (a tbody, as a CSS selector)
//   data-columns   the table's columns, in order, of: time school what verdict
//                  account rules who detail seq
//   data-limit     keep at most this many rows (none: keep all)
//   data-school    only rows of this school go into the table (server pages)
//   data-school-names  {"school id": "name"} for the school column (server pages)
//   data-cursors   the last seq the page shows per audit file: sent to the feed
//                  when it opens, so it sends only what is newer (school console)
//   data-today     the start of today: rows since then add to [data-count] cards
//   data-live-text what the state line says while the feed is open
// and anywhere on the page, data-latest='{"field": "value", ...}' marks an
// element showing the time of the latest row whose fields match (with the row's
// kind beside it when it also has data-latest-kind).
"use strict";

(function () {
  const root = document.querySelector("[data-feed]");
  if (!root || !root.dataset.feed) return;
  const state = document.getElementById("feed-state");
  const body = root.dataset.rows ? document.querySelector(root.dataset.rows) : null;
  const columns = (root.dataset.columns || "").split(/\s+/).filter(Boolean);
  const limit = Number(root.dataset.limit || 0);
  const school = root.dataset.school || "";
  const schoolNames = JSON.parse(root.dataset.schoolNames || "{}");
  const todayStart = root.dataset.today ? Date.parse(root.dataset.today) : NaN;
  const liveText = root.dataset.liveText || "Live: new rows appear as they are recorded.";
  // The last seq shown per chain: an audit file on one machine, (device, file) on the server.
  const seen = JSON.parse(root.dataset.cursors || "{}");
  const sendCursors = root.dataset.cursors !== undefined;
  // Labels and summary keys come from console/rows.py, written into the page.
  const described = document.getElementById("row-format");
  const format = described ? JSON.parse(described.textContent) : { labels: {}, keys: [] };
  const KEYS = format.keys;
  const LABELS = format.labels;
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

  function summary(row) {
    for (const key of KEYS) {
      const value = row.detail ? row.detail[key] : undefined;
      if (value !== undefined && value !== null && value !== "") return String(value);
    }
    return "";
  }

  const COLUMNS = {
    time: function (row) {
      return cell(when(row), "mono");
    },
    school: function (row) {
      return cell(schoolNames[row.school_id] || row.school_id || "");
    },
    what: function (row) {
      const td = document.createElement("td");
      td.appendChild(tag(LABELS[row.kind] || row.kind, "kind-" + row.kind));
      if (row.outside) {
        td.appendChild(document.createTextNode(" "));
        td.appendChild(tag("posted outside tweetguard", "outside"));
      }
      return td;
    },
    verdict: function (row) {
      return cell(row.verdict || "", "verdict-" + (row.verdict || "none"));
    },
    account: function (row) {
      return cell(row.account ? "@" + row.account : "");
    },
    rules: function (row) {
      const td = document.createElement("td");
      for (const rule of row.rules || []) td.appendChild(tag(rule));
      return td;
    },
    who: function (row) {
      return cell(row.device + " / " + row.user);
    },
    detail: function (row) {
      return cell(summary(row));
    },
    seq: function (row) {
      // As the server's audit page labels its own rows: "<device id>/<file> #seq".
      const chain = row.device_id ? row.device_id + "/" + row.source : row.source;
      return cell(chain + " #" + row.seq, "mono");
    },
  };

  function render(row) {
    const tr = document.createElement("tr");
    tr.dataset.source = row.source;
    tr.dataset.seq = String(row.seq);
    if (row.device_id) tr.dataset.device = row.device_id;
    tr.className = "row-new";
    for (const name of columns) tr.appendChild(COLUMNS[name] ? COLUMNS[name](row) : cell(""));
    return tr;
  }

  function bump(name) {
    const counter = document.querySelector('[data-count="' + name + '"]');
    if (counter) counter.textContent = String(Number(counter.textContent) + 1);
  }

  function latest(row) {
    for (const el of document.querySelectorAll("[data-latest]")) {
      const wanted = JSON.parse(el.dataset.latest);
      if (!Object.keys(wanted).every((field) => String(row[field]) === wanted[field])) continue;
      el.textContent = when(row);
      if (el.dataset.latestKind !== undefined) {
        el.appendChild(document.createTextNode(" "));
        const kind = document.createElement("span");
        kind.className = "muted";
        kind.textContent = "(" + row.kind + ")";
        el.appendChild(kind);
      }
    }
  }

  function add(row) {
    const key = row.device_id ? row.device_id + "/" + row.source : row.source;
    if (row.seq <= (seen[key] || 0)) return;
    seen[key] = row.seq;
    if (body && (!school || row.school_id === school)) {
      const empty = document.getElementById("no-rows");
      if (empty) empty.remove();
      body.insertBefore(render(row), body.firstChild);
      while (limit && body.children.length > limit) body.removeChild(body.lastChild);
    }
    if (!Number.isNaN(todayStart) && Date.parse(row.at) >= todayStart) {
      if (["check", "override", "post", "logout"].includes(row.kind)) bump(row.kind);
      if (row.kind === "check" && row.verdict === "block") bump("hold");
    }
    latest(row);
  }

  function connect() {
    const socket = new WebSocket(root.dataset.feed);
    socket.addEventListener("open", function () {
      delay = 500;
      if (sendCursors) socket.send(JSON.stringify({ after: seen }));
      state.textContent = liveText;
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
