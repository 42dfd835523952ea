/**
 * The status page in a real browser (Debian's Chromium, headless, over the DevTools protocol):
 * real ffmpeg publishes over real TCP with a hostile stream name; the page lists the stream, its
 * codecs and a bitrate that changes between two reads, draws the graph, shows the name as text,
 * and its "drop" button ends the session (the controller gets `unpublish`). A read-only API
 * shows no button.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Browser, CHROMIUM } from "../helpers/browser.ts";
import { INPUTS, requireShared } from "../helpers/paths.ts";
import { requireTool, start } from "../helpers/proc.ts";
import { startStack } from "../helpers/stack.ts";

const HOSTILE = `<img src=x onerror="window.__xss=1">`;

function publish(url: string, name: string) {
  return start("ffmpeg", [
    "-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
    "-i", join(INPUTS, "av_h264main_bframes_aac.flv"), "-c", "copy", "-f", "flv", "-rtmp_playpath", name, url,
  ]);
}

test("status page: live streams, codecs, bitrate and graph in Chromium; hostile names stay text; drop ends the session", { timeout: 90_000 }, async () => {
  requireShared();
  await requireTool("ffmpeg");
  await requireTool(CHROMIUM, "--version");
  const stack = await startStack({ api: { write: true } });
  const ff = publish(stack.rtmpUrl("live"), HOSTILE);
  const browser = await Browser.launch();
  try {
    await stack.controller.waitFor(() => stack.controller.events("publish").length === 2, 20_000);
    await browser.goto(`${stack.apiUrl}/`); // a browser at the API's root lands on the page
    assert.equal(await browser.eval<string>("location.pathname"), "/ui/");
    await browser.waitFor("document.querySelectorAll('tr.track').length === 2", 10_000);

    // the publisher's name is shown as it is, as text: no element was made of it
    const names = await browser.eval<string[]>("[...document.querySelectorAll('.stream-name')].map(e => e.textContent)");
    assert.deepEqual(names, [HOSTILE]);
    assert.equal(await browser.eval<number>("document.querySelectorAll('#sessions img').length"), 0);
    assert.equal(await browser.eval<unknown>("window.__xss"), undefined);

    const codecs = await browser.eval<string[]>("[...document.querySelectorAll('tr.track .codec')].map(e => e.textContent)");
    assert.deepEqual(codecs, ["H.264", "AAC"]);
    const formats = await browser.eval<string>("document.querySelector('tr.track[data-track=video]').textContent");
    assert.match(formats, /\d+x\d+/, "the video track shows its resolution");

    // the graph fills as seconds pass; the bitrate is the last second's, so it moves
    await browser.waitFor("(() => { const t = document.querySelector('tr.track[data-track=video] .bitrate'); return t && !/^0 /.test(t.textContent); })()", 10_000);
    const read = () => browser.eval<string>("document.querySelector('tr.track[data-track=video] .bitrate').textContent");
    const first = await read();
    let second = first;
    for (let i = 0; i < 8 && second === first; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      second = await read();
    }
    assert.notEqual(second, first, `the bitrate did not change between reads (${first})`);
    const drawn = await browser.eval<number>(`(() => {
      const c = document.querySelector('tr.track[data-track=video] canvas.graph');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 2] > 150 && d[i] < 120) n++; // the blue bitrate line
      return n;
    })()`);
    assert.ok(drawn > 20, `the bitrate graph has ${drawn} blue pixels`);
    const lag = await browser.eval<string>("document.querySelector('tr.track[data-track=video] .upstream').textContent");
    assert.match(lag, /^connected .*ack lag \d+ frames, \d+ ms · republishes 0$/);
    assert.deepEqual(browser.errors, [], "no script error in the page");

    if (process.env.UI_SCREENSHOT) {
      await new Promise((r) => setTimeout(r, Number(process.env.UI_SCREENSHOT_AFTER_S ?? 0) * 1000));
      writeFileSync(process.env.UI_SCREENSHOT, await browser.screenshot());
    }

    // drop (the confirm dialog is accepted): the session ends, both tracks unpublish
    await browser.eval("document.querySelector('button.drop').click()");
    await stack.controller.waitFor(() => stack.controller.events("unpublish").length === 2, 15_000);
    await browser.waitFor("document.querySelectorAll('section.session').length === 0 && !document.getElementById('empty').hidden", 10_000);
  } finally {
    await browser.close();
    await ff.stop("SIGKILL");
    await stack.close();
  }
});

test("status page: a read-only API shows no drop button, and its status says so", { timeout: 60_000 }, async () => {
  await requireTool(CHROMIUM, "--version");
  const stack = await startStack({ api: { write: false } });
  const browser = await Browser.launch();
  try {
    await browser.goto(`${stack.apiUrl}/ui/`);
    await browser.waitFor("document.getElementById('server').textContent.includes('read-only')", 10_000);
    assert.equal(await browser.eval<number>("document.querySelectorAll('button.drop').length"), 0);
    const status = await (await fetch(`${stack.apiUrl}/ui/status.json`)).json() as { server: { drop: string | null } };
    assert.equal(status.server.drop, null);
  } finally {
    await browser.close();
    await stack.close();
  }
});
