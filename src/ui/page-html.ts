/**
 * The status page's document and style (`GET /ui/`): served from the program itself, no CDN and
 * no network at run time. Its script is `page-script.ts` (`/ui/app.js`); what it shows comes
 * from `/ui/status.json` once a second.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rtmp-kmp status</title>
<link rel="stylesheet" href="app.css">
<link rel="icon" href="favicon.svg" type="image/svg+xml">
</head>
<body>
<header>
  <h1>rtmp-kmp</h1>
  <div id="server" class="server"></div>
  <div id="conn" class="conn" role="status"></div>
</header>
<section id="workers-box" hidden>
  <h2>Workers</h2>
  <table id="workers"><thead><tr><th>worker</th><th>pid</th><th>up</th><th>ready</th><th>sessions</th></tr></thead><tbody></tbody></table>
</section>
<main id="sessions"></main>
<p id="empty" class="empty" hidden>No publisher is connected.</p>
<script src="app.js"></script>
</body>
</html>
`;

export const PAGE_CSS = `
:root { --fg: #1d2330; --dim: #687385; --line: #dde2ea; --bg: #f6f8fb; --card: #fff; --ok: #1a7f37; --warn: #b35900; --bad: #c62828; --bits: #2f6fdb; --fps: #d9730d; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 24px; padding: 12px 20px; background: var(--card); border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0; }
h2 { font-size: 15px; margin: 16px 20px 8px; }
.server { color: var(--dim); }
.server b { color: var(--fg); font-weight: 600; }
.conn { margin-left: auto; font-size: 12px; }
.conn.down { color: var(--bad); font-weight: 600; }
main { padding: 8px 20px 24px; display: grid; gap: 14px; }
.session { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
.session-head { display: flex; flex-wrap: wrap; gap: 4px 18px; align-items: baseline; }
.session-head .name { font-weight: 600; font-size: 15px; }
.dim { color: var(--dim); }
button.drop { margin-left: auto; border: 1px solid var(--bad); color: var(--bad); background: #fff; border-radius: 4px; padding: 2px 10px; cursor: pointer; }
button.drop:hover { background: var(--bad); color: #fff; }
table { border-collapse: collapse; width: 100%; margin-top: 8px; }
th, td { text-align: left; padding: 4px 8px; border-top: 1px solid var(--line); vertical-align: top; white-space: nowrap; }
th { font-size: 12px; color: var(--dim); font-weight: 500; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
#workers { width: auto; margin: 0 20px; background: var(--card); }
canvas.graph { width: 240px; height: 48px; display: block; }
.legend { font-size: 11px; }
.legend .b { color: var(--bits); }
.legend .f { color: var(--fps); }
.mem { width: 90px; height: 8px; background: var(--line); border-radius: 4px; overflow: hidden; margin-top: 5px; }
.mem > div { height: 100%; background: var(--ok); }
.mem.high > div { background: var(--bad); }
.state-connected, .state-active { color: var(--ok); }
.state-connecting, .state-idle, .state-wait_publish_response { color: var(--warn); }
.state-closed, .state-unsupported, .state-inactive { color: var(--bad); }
.lag-high { color: var(--bad); font-weight: 600; }
.upstream { display: block; }
.unsupported td { color: var(--dim); }
.empty { padding: 0 20px; color: var(--dim); }
`;

/** A small mark for the browser tab (a green "live" dot). */
export const PAGE_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="6" fill="#1a7f37"/></svg>`;
