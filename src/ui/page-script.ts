/**
 * The status page's script (`/ui/app.js`), plain browser JavaScript: it reads `status.json`
 * once a second and redraws. Every value from the server goes into the page as text
 * (`textContent`), never as markup: stream names, flashver and tcUrl are the publisher's.
 * A failed read shows "reconnecting" and the next second tries again (a restarting worker or
 * server comes back on its own).
 */
export const PAGE_SCRIPT = String.raw`"use strict";
(function () {
  var POLL_MS = 1000;
  var last = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }
  function bits(n) {
    if (n >= 1e6) return (n / 1e6).toFixed(2) + " Mbit/s";
    if (n >= 1e3) return (n / 1e3).toFixed(0) + " kbit/s";
    return n + " bit/s";
  }
  function bytes(n) {
    if (n >= 1e9) return (n / 1e9).toFixed(2) + " GB";
    if (n >= 1e6) return (n / 1e6).toFixed(1) + " MB";
    if (n >= 1e3) return (n / 1e3).toFixed(0) + " kB";
    return n + " B";
  }
  function dur(s) {
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
    return (h ? h + "h " : "") + (h || m ? m + "m " : "") + x + "s";
  }
  function td(text, cls) { return el("td", cls, text); }

  // the last minutes on a fixed time axis (newest on the right): the bitrate as a blue area,
  // the frame rate as an orange line, each on its own scale
  function graph(h) {
    var c = el("canvas", "graph");
    c.width = 240; c.height = 48;
    c.setAttribute("role", "img");
    if (!h || !h.bitrate.length) { c.setAttribute("aria-label", "no history yet"); return c; }
    var g = c.getContext("2d");
    if (!g) return c;
    var n = h.bitrate.length, w = Math.max(2, h.window);
    function x(k) { return ((w - n + k) / (w - 1)) * (c.width - 2) + 1; }
    function scale(values) {
      var max = 1;
      for (var i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
      return function (v) { return c.height - 1 - (v / max) * (c.height - 6); };
    }
    g.fillStyle = "#fafbfd"; g.fillRect(0, 0, c.width, c.height);
    var yb = scale(h.bitrate);
    g.fillStyle = "rgba(47, 111, 219, 0.85)"; g.beginPath(); g.moveTo(x(0), c.height);
    for (var k = 0; k < n; k++) { g.lineTo(x(k), yb(h.bitrate[k])); if (n === 1) g.lineTo(x(k) + 2, yb(h.bitrate[k])); }
    g.lineTo(n === 1 ? x(0) + 2 : x(n - 1), c.height); g.closePath(); g.fill();
    var yf = scale(h.frame_rate);
    g.strokeStyle = "#d9730d"; g.lineWidth = 1.5; g.beginPath();
    for (var j = 0; j < n; j++) { if (j === 0) g.moveTo(x(j), yf(h.frame_rate[j])); else g.lineTo(x(j), yf(h.frame_rate[j])); }
    g.stroke();
    c.setAttribute("aria-label", "bitrate and frame rate, last " + n + " s");
    return c;
  }
  function current(t) {
    var h = t.history;
    if (h && h.bitrate.length) return { bitrate: h.bitrate[h.bitrate.length - 1], fps: h.frame_rate[h.frame_rate.length - 1] };
    return { bitrate: t.bitrate, fps: t.frame_rate };
  }

  function upstreamCell(t) {
    var cell = el("td");
    if (!t.upstreams.length) { cell.textContent = t.unsupported === null ? "none" : ""; return cell; }
    t.upstreams.forEach(function (u) {
      var line = el("span", "upstream");
      add(line,
        el("span", "state-" + u.state, u.state),
        el("span", "dim", " " + (u.id ? u.id + " " : "") + (u.remote_addr || u.url)),
        el("span", u.ack_lag_ms > 2000 ? "lag-high" : "", " · ack lag " + u.ack_lag_frames + " frames, " + u.ack_lag_ms + " ms"),
        el("span", "dim", " · republishes " + u.republishes));
      line.setAttribute("data-upstream", u.id);
      cell.appendChild(line);
    });
    return cell;
  }

  function trackRow(t) {
    var tr = el("tr", t.unsupported !== null ? "track unsupported" : "track");
    tr.setAttribute("data-track", t.key);
    if (t.unsupported !== null) {
      add(tr, td(t.key), td(t.unsupported), el("td", "state-unsupported", "unsupported: not forwarded"));
      var rest = el("td"); rest.colSpan = 6; tr.appendChild(rest);
      return tr;
    }
    var now = current(t);
    var mem = el("div", t.mem_used * 100 >= 80 * t.mem_limit ? "mem high" : "mem");
    var bar = el("div"); bar.style.width = Math.min(100, (100 * t.mem_used) / Math.max(1, t.mem_limit)).toFixed(1) + "%";
    mem.appendChild(bar);
    var memCell = add(el("td", "num"), el("span", "", bytes(t.mem_used) + " / " + bytes(t.mem_limit)), mem);
    var g = add(el("td"), graph(t.history), add(el("div", "legend"), el("span", "b", "bit/s "), el("span", "f", "fps")));
    add(tr,
      td(t.key + (t.multitrack ? " (track " + t.multitrack + ")" : "")),
      add(el("td"), el("span", "codec", t.codec), el("div", "dim", t.format)),
      add(el("td"), el("span", "state-" + t.state, t.state), el("div", "dim", t.channel_id ? t.channel_id + " / " + t.track_id : "")),
      el("td", "num bitrate", bits(now.bitrate)),
      el("td", "num fps", now.fps + " fps"),
      el("td", "num frames", String(t.frames)),
      memCell, g, upstreamCell(t));
    return tr;
  }

  function dropButton(s, prefix) {
    var b = el("button", "drop", "drop");
    b.type = "button";
    b.addEventListener("click", function () {
      if (!window.confirm("Drop session " + s.connection + " (" + s.remote_addr + ")?")) return;
      b.disabled = true;
      fetch(prefix + s.connection, { method: "DELETE" }).then(function (r) {
        if (r.status !== 204) return r.text().then(function (x) { window.alert("drop failed: " + r.status + " " + x); b.disabled = false; });
        poll();
      }, function (e) { window.alert("drop failed: " + e); b.disabled = false; });
    });
    return b;
  }

  // the session's own figure is a 10 s window (0 in its first 10 s): until then, its tracks' last second
  function tracksBitrate(s) {
    var n = 0;
    s.streams.forEach(function (st) { st.tracks.forEach(function (t) { if (t.unsupported === null) n += current(t).bitrate; }); });
    return n;
  }

  function sessionCard(s, srv) {
    var card = el("section", "session");
    card.setAttribute("data-connection", String(s.connection));
    var names = s.streams.map(function (x) { return x.name; }).join(", ");
    var head = add(el("div", "session-head"),
      el("span", "name", s.app + "/" + (names || "(not publishing)")),
      el("span", "dim", s.remote_addr + (s.via ? " via " + s.via : "")),
      el("span", "dim", "connection " + s.connection + (s.worker !== null ? " · worker " + s.worker : "")),
      el("span", "dim", "since " + new Date(s.since).toLocaleTimeString()),
      el("span", "session-bitrate", bits(s.bitrate || tracksBitrate(s))),
      el("span", "dim", bytes(s.bytes_in) + " in"));
    if (srv.drop) head.appendChild(dropButton(s, srv.drop));
    card.appendChild(head);
    card.appendChild(el("div", "dim", s.flashver + (s.tc_url ? " · " + s.tc_url : "")));
    s.streams.forEach(function (st) {
      var table = el("table", "tracks");
      var hr = el("tr");
      ["track", "codec", "state", "bitrate", "frame rate", "frames", "memory", "last minutes", "upstreams"].forEach(function (h) { hr.appendChild(el("th", "", h)); });
      add(table, add(el("thead"), hr));
      var body = el("tbody");
      st.tracks.forEach(function (t) { body.appendChild(trackRow(t)); });
      table.appendChild(body);
      var title = el("div", "stream", "stream ");
      add(title, el("b", "stream-name", st.name), el("span", "dim", " · " + st.type + " · up " + dur(st.uptime)));
      add(card, title, table);
    });
    return card;
  }

  function render(d) {
    var srv = d.server;
    var head = document.getElementById("server");
    head.textContent = "";
    add(head,
      el("b", "", srv.name), document.createTextNode(" on " + srv.runtime + " · pid " + srv.pid + " · up " + dur(srv.uptime) + " · "),
      document.createTextNode(srv.listeners.map(function (l) { return l.addr + (l.tls ? " (RTMPS)" : "") + (l.proxy ? " (PROXY)" : ""); }).join(", ")),
      document.createTextNode(srv.drop ? "" : " · read-only"));
    var wbox = document.getElementById("workers-box");
    wbox.hidden = !srv.workers;
    if (srv.workers) {
      var tb = document.querySelector("#workers tbody");
      tb.textContent = "";
      srv.workers.forEach(function (w) {
        tb.appendChild(add(el("tr"), td(w.worker, "num"), td(w.pid, "num"), td(dur(w.uptime)), td(w.ready ? "yes" : "restarting"), td(w.sessions, "num")));
      });
    }
    var box = document.getElementById("sessions");
    box.textContent = "";
    d.sessions.forEach(function (s) { box.appendChild(sessionCard(s, srv)); });
    document.getElementById("empty").hidden = d.sessions.length > 0;
  }

  function setConn(ok, text) {
    var c = document.getElementById("conn");
    c.className = ok ? "conn" : "conn down";
    c.textContent = text;
  }

  var timer = null;
  function poll() {
    if (timer) clearTimeout(timer);
    var ctl = new AbortController();
    var t = setTimeout(function () { ctl.abort(); }, 3000);
    fetch("status.json", { cache: "no-store", signal: ctl.signal }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (d) {
      last = d;
      render(d);
      setConn(true, "live · " + new Date(d.server.now).toLocaleTimeString());
    }, function (e) {
      setConn(false, "reconnecting (" + (e && e.message ? e.message : e) + ")" + (last ? " · showing " + new Date(last.server.now).toLocaleTimeString() : ""));
    }).then(function () {
      clearTimeout(t);
      timer = setTimeout(poll, POLL_MS);
    });
  }
  poll();
})();
`;
