"""The microphone widget of notebook 09: whistle into the browser, hear the model play it back while you play.

The browser records the microphone at 16 kHz (an `AudioContext` at that rate resamples
it), an AudioWorklet cuts it into chunks of `chunk` samples (80 ms by default) and the
page sends each chunk to the kernel as a binary message. The kernel runs the chunk
through the live engine (`ttlib.live.Stream`) and sends the output back; the page
schedules it right after the previous one, 20 ms ahead of the playback clock so a
late message does not click. What you hear is the engine's latency, plus the chunk,
plus the round trip to the kernel, plus the browser's audio buffers; the page measures
and shows the sum: at least the engine's latency and one chunk, so more than
`python -m ttlib live`, which runs on the sound card directly.

The kernel keeps the last take (what the microphone sent and what was played, up to
`MAX_TAKE_SECONDS`): `take()` gives it after Stop, and `takes` counts the finished ones,
so a notebook or `make demo`'s app can play the take again or transfer it offline.
Without a browser (papermill, the tests) `feed(audio)` sends a recording through the
same kernel-side handler, chunk by chunk, and returns what the page would play.
Where the page has no microphone (no permission, no device, a page not served from
localhost or https) it says so in the widget.
"""
from __future__ import annotations

import time

import numpy as np

from ttlib.core.units import SAMPLE_RATE
from ttlib.live.engine import Stream

MAX_TAKE_SECONDS = 300.0
"""The longest take the kernel keeps (input and output, 16 kHz float32: 38 MB); later chunks play but are not kept."""

_ESM = r"""
const WORKLET = `
class TtlibCapture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.size = options.processorOptions.size;
    this.buffer = new Float32Array(this.size);
    this.filled = 0;
  }
  process(inputs) {
    const x = inputs[0] && inputs[0][0];
    if (x) {
      for (let i = 0; i < x.length; i++) {
        this.buffer[this.filled++] = x[i];
        if (this.filled === this.size) {
          this.port.postMessage(this.buffer.slice(0));
          this.filled = 0;
        }
      }
    }
    return true;
  }
}
registerProcessor("ttlib-capture", TtlibCapture);
`;

function render({ model, el }) {
  el.classList.add("ttlib-live");
  const button = document.createElement("button");
  button.className = "ttlib-live-button";
  button.textContent = "Start the microphone";
  const info = document.createElement("div");
  info.className = "ttlib-live-info";
  const meter = document.createElement("meter");
  meter.min = -80; meter.max = 0; meter.value = -80;
  el.append(button, meter, info);
  let ctx = null, media = null, next = 0, pageLatency = 0, saved = 0;

  const show = () => {
    const error = model.get("error");
    if (error) { info.textContent = error; info.classList.add("ttlib-live-error"); return; }
    info.classList.remove("ttlib-live-error");
    const parts = [model.get("status")];
    if (ctx) {
      parts.push(`latency ${pageLatency.toFixed(0)} ms (engine ${model.get("engine_latency_ms").toFixed(0)} ms, ` +
                 `kernel ${model.get("compute_ms").toFixed(1)} ms per chunk)`);
      if (model.get("f0_hz") > 0) parts.push(`f0 ${model.get("f0_hz").toFixed(0)} Hz`);
    }
    info.textContent = parts.filter(Boolean).join(" · ");
    meter.value = Math.max(-80, model.get("level_db"));
  };
  for (const name of ["status", "error", "compute_ms", "f0_hz", "level_db"]) model.on(`change:${name}`, show);

  const fail = (message) => { model.set("error", message); model.save_changes(); show(); };

  async function start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.AudioWorkletNode) {
      fail("This page has no access to a microphone: open JupyterLab at http://localhost (or over https) " +
           "in a current browser, and allow the microphone when it asks.");
      return;
    }
    try {
      media = await navigator.mediaDevices.getUserMedia(
        { audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    } catch (e) {
      fail(`No microphone: ${e.name} (${e.message}). Plug one in or allow it for this page, then try again.`);
      return;
    }
    model.set("error", ""); model.save_changes();
    ctx = new AudioContext({ sampleRate: 16000, latencyHint: "interactive" });
    const url = URL.createObjectURL(new Blob([WORKLET], { type: "application/javascript" }));
    await ctx.audioWorklet.addModule(url);
    const source = ctx.createMediaStreamSource(media);
    const capture = new AudioWorkletNode(ctx, "ttlib-capture", { processorOptions: { size: model.get("chunk") } });
    const mute = ctx.createGain(); mute.gain.value = 0;
    source.connect(capture); capture.connect(mute); mute.connect(ctx.destination);
    capture.port.onmessage = (event) =>
      model.send({ type: "chunk", t: performance.now() }, undefined, [event.data.buffer]);
    next = 0;
    model.send({ type: "start" });
    button.textContent = "Stop";
    show();
  }

  async function stop() {
    if (media) media.getTracks().forEach((track) => track.stop());
    if (ctx) await ctx.close();
    ctx = null; media = null;
    model.send({ type: "stop" });
    button.textContent = "Start the microphone";
    show();
  }

  button.addEventListener("click", () => (ctx ? stop() : start()));

  model.on("msg:custom", (msg, buffers) => {
    if (msg.type !== "audio" || !ctx) return;
    const view = buffers[0];
    const samples = new Float32Array(view.buffer, view.byteOffset, view.byteLength / 4);
    const audio = ctx.createBuffer(1, samples.length, 16000);
    audio.copyToChannel(samples, 0);
    const player = ctx.createBufferSource();
    player.buffer = audio;
    player.connect(ctx.destination);
    const now = ctx.currentTime;
    if (next < now + 0.02) next = now + 0.02;
    player.start(next);
    const chunkMs = 1000 * samples.length / 16000;
    const roundTrip = performance.now() - msg.t;
    const device = 1000 * ((ctx.baseLatency || 0) + (ctx.outputLatency || 0));
    pageLatency = chunkMs + roundTrip + model.get("engine_latency_ms") + 1000 * (next - now) + device;
    next += audio.duration;
    if (performance.now() - saved > 500) {        // the kernel hears the latency twice a second, not per chunk
      saved = performance.now();
      model.set("page_latency_ms", pageLatency); model.save_changes();
    }
    show();
  });
  show();
}
export default { render };
"""

_CSS = """
.ttlib-live { display: flex; flex-direction: column; gap: 0.6em; font-size: 1.3em; max-width: 44em; }
.ttlib-live-button { font-size: 1.2em; padding: 0.5em 1.2em; width: 14em; cursor: pointer; }
.ttlib-live meter { width: 24em; height: 1.2em; }
.ttlib-live-error { color: #b00020; font-weight: bold; }
"""


def live_microphone(stream: Stream, chunk: int = 1280) -> object:
    """The microphone widget for `stream` (see the module's docstring).

    Args:
      stream: the live engine (`ttlib.live.Stream(model_dir)`); its settings may be changed while it plays.
      chunk: samples per message between the page and the kernel (1280 = 80 ms).

    Returns:
      A `LiveMicrophone` widget: display it; `feed(audio)` plays a recording through it without a browser.
    """
    import anywidget
    import traitlets

    class LiveMicrophone(anywidget.AnyWidget):
        """Microphone -> kernel (`ttlib.live.Stream`) -> speakers, in the browser."""

        _esm = _ESM
        _css = _CSS
        chunk = traitlets.Int(1280).tag(sync=True)
        status = traitlets.Unicode("").tag(sync=True)
        error = traitlets.Unicode("").tag(sync=True)
        engine_latency_ms = traitlets.Float(0.0).tag(sync=True)
        page_latency_ms = traitlets.Float(0.0).tag(sync=True)
        compute_ms = traitlets.Float(0.0).tag(sync=True)
        level_db = traitlets.Float(-120.0).tag(sync=True)
        f0_hz = traitlets.Float(0.0).tag(sync=True)
        takes = traitlets.Int(0).tag(sync=True)

        def __init__(self, stream: Stream, chunk: int):
            super().__init__(chunk=int(chunk))
            self.recorded: tuple[list, list] = ([], [])
            self.recorded_samples = 0
            self.last_take = (np.zeros(0, np.float32), np.zeros(0, np.float32))
            self.use(stream)
            self.on_msg(self.handle_message)

        def use(self, stream: Stream) -> None:
            """Play another engine (another model) from the next Start on."""
            stream.warm_up()
            self.stream = stream
            self.engine_latency_ms = 1000.0 * stream.latency_samples / SAMPLE_RATE
            self.status = f"{stream.synth.loaded.folder.name}: ready"

        def take(self) -> tuple[np.ndarray, np.ndarray]:
            """(what the microphone sent, what was played) in the last finished take, 16 kHz; the played
            sound is `engine_latency_ms` behind the input."""
            return self.last_take

        def handle_message(self, _widget, content, buffers) -> None:
            """A message from the page: start, stop, or a chunk of microphone (answered with the output)."""
            kind = content.get("type")
            if kind == "start":
                self.stream.reset()
                self.recorded, self.recorded_samples = ([], []), 0
                self.status = "listening"
            elif kind == "stop":
                if self.recorded[0]:
                    self.last_take = tuple(np.concatenate(part) for part in self.recorded)
                    self.recorded, self.recorded_samples = ([], []), 0
                    self.takes += 1
                self.status = "stopped"
            elif kind == "chunk" and buffers:
                out = self.answer(np.frombuffer(bytes(buffers[0]), np.float32))
                self.send({"type": "audio", "t": content.get("t", 0.0)}, buffers=[out.tobytes()])

        def answer(self, chunk: np.ndarray) -> np.ndarray:
            """A chunk of the take through the engine (`process`), kept with its answer while the take is short
            enough; the answer."""
            out = self.process(chunk)
            if self.recorded_samples + chunk.size <= MAX_TAKE_SECONDS * SAMPLE_RATE:
                self.recorded[0].append(np.array(chunk, np.float32))
                self.recorded[1].append(out.copy())
                self.recorded_samples += chunk.size
            return out

        def process(self, chunk) -> np.ndarray:
            """One chunk through the engine; updates the numbers the page shows."""
            t0 = time.perf_counter()
            out = self.stream.process(chunk)
            power = float(np.mean(np.square(chunk, dtype=np.float64))) if len(chunk) else 0.0
            with self.hold_sync():                        # one message to the page, not one per number
                self.compute_ms = 1000.0 * (time.perf_counter() - t0)
                self.level_db = 10.0 * np.log10(max(power, 1e-12))
                self.f0_hz = float(self.stream.last.get("f0_hz", 0.0)) if self.stream.last.get("on") else 0.0
            return out

        def feed(self, audio) -> np.ndarray:
            """A recording (16 kHz mono) through the same handler as the page's chunks, from a fresh start;
            returns what the page would play (the engine's latency included)."""
            audio = np.asarray(audio, np.float32).reshape(-1)
            self.handle_message(self, {"type": "start"}, [])
            out = [self.answer(audio[i:i + self.chunk]) for i in range(0, audio.size, self.chunk)]
            self.handle_message(self, {"type": "stop"}, [])
            return np.concatenate(out) if out else np.zeros(0, np.float32)

    return LiveMicrophone(stream, chunk)
