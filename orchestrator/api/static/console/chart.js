/* Throughput: samples of finished items over time, drawn as items/s on a canvas. */
"use strict";
const Throughput = (() => {
  /* Keeps (time in s, finished items) samples; rate() is items/s over the last `window` s. */
  class Meter {
    constructor(windowSeconds) { this.window = windowSeconds; this.samples = []; this.series = []; }
    add(t, done) {
      const last = this.samples[this.samples.length - 1];
      if (last && done < last.done) { this.samples = []; }  // a redrive reset the counters
      this.samples.push({ t, done });
      while (this.samples.length > 2 && t - this.samples[0].t > this.window) this.samples.shift();
      const rate = this.rate();
      if (rate !== null) this.series.push({ t, rate });
      if (this.series.length > 600) this.series.shift();
    }
    rate() {
      if (this.samples.length < 2) return null;
      const a = this.samples[0], b = this.samples[this.samples.length - 1];
      return b.t > a.t ? (b.done - a.done) / (b.t - a.t) : null;
    }
  }

  function draw(canvas, series) {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth * ratio, height = canvas.clientHeight * ratio;
    canvas.width = width; canvas.height = height;
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, width, height);
    if (series.length < 2) return;
    const t0 = series[0].t, t1 = series[series.length - 1].t;
    const top = Math.max(1, ...series.map((s) => s.rate)) * 1.1;
    ctx.strokeStyle = "#ccc"; ctx.fillStyle = "#666"; ctx.font = (11 * ratio) + "px sans-serif";
    ctx.fillText(top.toFixed(0) + " items/s", 4 * ratio, 12 * ratio);
    ctx.beginPath();
    series.forEach((s, i) => {
      const x = t1 > t0 ? ((s.t - t0) / (t1 - t0)) * (width - 2) + 1 : 1;
      const y = height - (s.rate / top) * (height - 16 * ratio) - 1;
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.strokeStyle = "#1565c0"; ctx.lineWidth = 2 * ratio; ctx.stroke();
  }

  return { Meter, draw };
})();
