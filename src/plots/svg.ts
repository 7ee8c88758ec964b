/**
 * A static SVG rendering of a plotly figure, written without plotly.js or a browser: the still
 * image that goes with the interactive figure in a notebook output (what a code host's notebook
 * viewer, an nbconvert export or an untrusted frontend without a plotly renderer shows).
 *
 * It draws what the figure builders of this package emit: scatter traces (lines, markers, text),
 * grouped bars on a category axis, heatmaps, linear / log / category axes, stacked subplots
 * (`xaxis2`/`yaxis2` with `domain` and `anchor`), a right-hand y axis (`overlaying: 'y'`), titles
 * and a legend. Interactivity (hover, zoom) is the plotly renderer's job.
 */
import type { PlotlyFigure, PlotlyTrace } from './figure';
import { PALETTE } from './figure';

interface Axis {
  id: string; // 'x', 'x2', 'y', ...
  type: 'linear' | 'log' | 'category';
  domain: [number, number];
  title?: string;
  side: 'left' | 'right' | 'bottom';
  overlaying?: string;
  anchor?: string;
  reversed: boolean;
  range?: [number, number];
  categories: string[];
  min: number;
  max: number;
  // pixel extent
  p0: number;
  p1: number;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Plain text of a plotly title (string or {text}); HTML tags removed, <br> becomes a space. */
function titleText(t: unknown): string | undefined {
  const s = typeof t === 'string' ? t : t && typeof t === 'object' ? (t as { text?: unknown }).text : undefined;
  if (typeof s !== 'string' || s === '') return undefined;
  return s.replace(/<br\s*\/?>/gi, ' ').replace(/<[^>]*>/g, '');
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function fmtTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  if (a >= 1000 && Number.isInteger(v)) return v % 1000 === 0 ? `${v / 1000}k` : String(v);
  return String(Number(v.toPrecision(4)));
}

function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function logTicks(lo: number, hi: number): number[] {
  // lo, hi in log10 units
  const d0 = Math.floor(lo + 1e-9);
  const d1 = Math.ceil(hi - 1e-9);
  const mult = d1 - d0 <= 2 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let d = d0; d <= d1; d++) {
    for (const m of mult) {
      const v = m * 10 ** d;
      const l = Math.log10(v);
      if (l >= lo - 1e-9 && l <= hi + 1e-9) out.push(v);
    }
  }
  return out.length >= 2 ? out : [10 ** lo, 10 ** hi];
}

function axisKey(id: string): string {
  // 'x' -> 'xaxis', 'x2' -> 'xaxis2'
  return `${id[0]}axis${id.slice(1)}`;
}

function traceValues(t: PlotlyTrace, key: 'x' | 'y'): unknown[] {
  const v = t[key];
  return Array.isArray(v) ? v : [];
}

function errorArray(t: PlotlyTrace): number[] | undefined {
  const e = t.error_y as { array?: unknown; visible?: unknown } | undefined;
  if (!e || e.visible === false || !Array.isArray(e.array)) return undefined;
  return e.array.map((v) => (typeof v === 'number' ? v : 0));
}

function traceColor(t: PlotlyTrace, i: number): string {
  const m = t.marker as { color?: unknown } | undefined;
  const l = t.line as { color?: unknown } | undefined;
  if (typeof l?.color === 'string') return l.color;
  if (typeof m?.color === 'string') return m.color;
  return PALETTE[i % PALETTE.length];
}

/** Renders `fig` as a standalone SVG document (width x height px; defaults: the layout's, else 800 x 420). */
export function figureSvg(fig: PlotlyFigure, opts: { width?: number; height?: number } = {}): string {
  if (fig === null || typeof fig !== 'object' || !Array.isArray(fig.data)) {
    throw new Error('figureSvg: expected a plotly figure with a `data` array of traces');
  }
  const layout = fig.layout ?? {};
  const W = opts.width ?? num(layout.width) ?? 800;
  const H = opts.height ?? num(layout.height) ?? 420;
  const traces = fig.data.filter((t) => t.visible !== false);
  const title = titleText(layout.title);

  // Legend entries (one per legend group).
  const legend: { name: string; color: string; kind: string }[] = [];
  const seen = new Set<string>();
  traces.forEach((t, i) => {
    if (t.showlegend === false || typeof t.name !== 'string' || t.type === 'heatmap') return;
    const key = typeof t.legendgroup === 'string' ? t.legendgroup : t.name;
    if (seen.has(key)) return;
    seen.add(key);
    legend.push({ name: t.name, color: traceColor(t, i), kind: t.type === 'bar' ? 'bar' : String(t.mode ?? 'lines+markers') });
  });
  const showLegend = layout.showlegend !== false && legend.length > (traces.length === 1 ? 1 : 0);
  const legendCols = Math.max(1, Math.floor((W - 80) / 190));
  const legendRows = showLegend ? Math.ceil(legend.length / legendCols) : 0;

  // Axes used by the traces.
  const axes = new Map<string, Axis>();
  const getAxis = (id: string): Axis => {
    let a = axes.get(id);
    if (a) return a;
    const spec = (layout[axisKey(id)] ?? {}) as Record<string, unknown>;
    const dom = Array.isArray(spec.domain) && spec.domain.length === 2 ? (spec.domain as [number, number]) : ([0, 1] as [number, number]);
    a = {
      id,
      type: spec.type === 'log' ? 'log' : spec.type === 'category' ? 'category' : 'linear',
      domain: dom,
      title: titleText(spec.title),
      side: id[0] === 'x' ? 'bottom' : spec.side === 'right' ? 'right' : 'left',
      overlaying: typeof spec.overlaying === 'string' ? spec.overlaying : undefined,
      anchor: typeof spec.anchor === 'string' ? spec.anchor : undefined,
      reversed: spec.autorange === 'reversed',
      range:
        Array.isArray(spec.range) && spec.range.length === 2 && spec.range.every((v) => typeof v === 'number')
          ? (spec.range as [number, number])
          : undefined,
      categories: [],
      min: Infinity,
      max: -Infinity,
      p0: 0,
      p1: 0,
    };
    axes.set(id, a);
    return a;
  };
  const xOf = (t: PlotlyTrace) => (typeof t.xaxis === 'string' ? t.xaxis : 'x');
  const yOf = (t: PlotlyTrace) => (typeof t.yaxis === 'string' ? t.yaxis : 'y');

  const extend = (a: Axis, vals: unknown[], err?: number[]) => {
    vals.forEach((v, i) => {
      if (typeof v === 'string' || a.type === 'category') {
        a.type = 'category';
        const s = String(v);
        if (!a.categories.includes(s)) a.categories.push(s);
        return;
      }
      const n = num(v);
      if (n === undefined) return;
      const e = err?.[i] ?? 0;
      for (const w of [n - e, n + e]) {
        if (a.type === 'log' && w <= 0) continue;
        a.min = Math.min(a.min, w);
        a.max = Math.max(a.max, w);
      }
    });
  };
  for (const t of traces) {
    const ax = getAxis(xOf(t));
    const ay = getAxis(yOf(t));
    if (t.type === 'heatmap') {
      const z = Array.isArray(t.z) ? (t.z as unknown[][]) : [];
      const xs = Array.isArray(t.x) ? t.x : (z[0] ?? []).map((_v, i) => i);
      const ys = Array.isArray(t.y) ? t.y : z.map((_v, i) => i);
      ax.type = 'category';
      ay.type = 'category';
      extend(ax, xs.map(String));
      extend(ay, ys.map(String));
      continue;
    }
    extend(ax, traceValues(t, 'x'));
    extend(ay, traceValues(t, 'y'), errorArray(t));
    if (t.type === 'bar' && ay.type !== 'log') extend(ay, [0]);
  }
  if (axes.size === 0) {
    getAxis('x');
    getAxis('y');
  }

  // Plot area and pixel extents.
  const hasRight = [...axes.values()].some((a) => a.side === 'right');
  const m = { l: 72, r: hasRight ? 72 : 24, t: title ? 44 : 16, b: 48 + legendRows * 18 + (showLegend ? 8 : 0) };
  const xCats = Math.max(0, ...[...axes.values()].filter((a) => a.id[0] === 'x').map((a) => a.categories.reduce((n, c) => Math.max(n, c.length), 0)));
  const rotate = xCats * 6.5 * Math.max(1, ...[...axes.values()].map((a) => a.categories.length)) > W - m.l - m.r;
  if (rotate) m.b += Math.min(120, xCats * 5);
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  for (const a of axes.values()) {
    const base = a.overlaying ? (axes.get(a.overlaying) ?? a) : a;
    const dom = a.overlaying ? base.domain : a.domain;
    if (a.id[0] === 'x') {
      a.p0 = m.l + dom[0] * pw;
      a.p1 = m.l + dom[1] * pw;
    } else {
      a.p0 = m.t + (1 - dom[0]) * ph; // bottom
      a.p1 = m.t + (1 - dom[1]) * ph; // top
    }
    if (a.reversed) [a.p0, a.p1] = [a.p1, a.p0];
    if (a.type !== 'category') {
      if (a.range) {
        [a.min, a.max] = a.type === 'log' ? [10 ** a.range[0], 10 ** a.range[1]] : a.range;
      }
      if (!(a.max >= a.min)) [a.min, a.max] = a.type === 'log' ? [1, 10] : [0, 1];
      if (a.max === a.min) {
        const d = a.type === 'log' ? 0 : Math.abs(a.min) * 0.1 || 1;
        if (a.type === 'log') [a.min, a.max] = [a.min / 2, a.max * 2];
        else [a.min, a.max] = [a.min - d, a.max + d];
      } else if (!a.range) {
        // plotly-like padding of 5 % (in log units on log axes)
        if (a.type === 'log') {
          const [l0, l1] = [Math.log10(a.min), Math.log10(a.max)];
          const pad = (l1 - l0) * 0.05;
          [a.min, a.max] = [10 ** (l0 - pad), 10 ** (l1 + pad)];
        } else {
          const pad = (a.max - a.min) * 0.05;
          [a.min, a.max] = [a.min - pad, a.max + pad];
        }
      }
    }
  }
  const scale = (a: Axis, v: unknown): number | undefined => {
    if (a.type === 'category') {
      const i = a.categories.indexOf(String(v));
      if (i < 0) return undefined;
      return a.p0 + ((i + 0.5) / a.categories.length) * (a.p1 - a.p0);
    }
    const n = num(v);
    if (n === undefined) return undefined;
    if (a.type === 'log') {
      if (n <= 0) return undefined;
      const [l0, l1] = [Math.log10(a.min), Math.log10(a.max)];
      return a.p0 + ((Math.log10(n) - l0) / (l1 - l0)) * (a.p1 - a.p0);
    }
    return a.p0 + ((n - a.min) / (a.max - a.min)) * (a.p1 - a.p0);
  };

  const out: string[] = [];
  const f = (v: number) => v.toFixed(1);
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Arial, Helvetica, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  if (title) out.push(`<text x="${f(W / 2)}" y="26" text-anchor="middle" font-size="16">${esc(title)}</text>`);

  // Axes: grid, ticks, labels, titles.
  for (const a of axes.values()) {
    const isX = a.id[0] === 'x';
    const cross = isX ? (axes.get(a.anchor ?? 'y') ?? getAxis('y')) : (axes.get(a.anchor ?? 'x') ?? getAxis('x'));
    let ticks: { v: unknown; label: string }[];
    if (a.type === 'category') ticks = a.categories.map((c) => ({ v: c, label: c }));
    else if (a.type === 'log') ticks = logTicks(Math.log10(a.min), Math.log10(a.max)).map((v) => ({ v, label: fmtTick(v) }));
    else
      ticks = niceTicks(a.min, a.max, isX ? Math.max(3, Math.round((a.p1 - a.p0) / 90)) : Math.max(2, Math.round(Math.abs(a.p0 - a.p1) / 50))).map(
        (v) => ({ v, label: fmtTick(v) }),
      );
    if (isX) {
      const y = Math.max(cross.p0, cross.p1); // the bottom of the plot, also on a reversed y axis
      out.push(`<line x1="${f(a.p0)}" y1="${f(y)}" x2="${f(a.p1)}" y2="${f(y)}" stroke="#444"/>`);
      for (const t of ticks) {
        const x = scale(a, t.v);
        if (x === undefined) continue;
        if (a.type !== 'category') out.push(`<line x1="${f(x)}" y1="${f(Math.min(cross.p0, cross.p1))}" x2="${f(x)}" y2="${f(y)}" stroke="#eee"/>`);
        out.push(`<line x1="${f(x)}" y1="${f(y)}" x2="${f(x)}" y2="${f(y + 4)}" stroke="#444"/>`);
        out.push(
          rotate && a.type === 'category'
            ? `<text x="${f(x)}" y="${f(y + 14)}" text-anchor="end" transform="rotate(-35 ${f(x)} ${f(y + 14)})">${esc(t.label)}</text>`
            : `<text x="${f(x)}" y="${f(y + 17)}" text-anchor="middle">${esc(t.label)}</text>`,
        );
      }
      if (a.title)
        out.push(
          `<text x="${f((a.p0 + a.p1) / 2)}" y="${f(y + (rotate ? 14 + Math.min(120, xCats * 5) : 34))}" text-anchor="middle" font-size="13">${esc(a.title)}</text>`,
        );
    } else {
      const right = a.side === 'right';
      const xBase = right ? m.l + pw : Math.min(cross.p0, cross.p1);
      out.push(`<line x1="${f(xBase)}" y1="${f(a.p0)}" x2="${f(xBase)}" y2="${f(a.p1)}" stroke="#444"/>`);
      for (const t of ticks) {
        const y = scale(a, t.v);
        if (y === undefined) continue;
        if (!right && a.type !== 'category') out.push(`<line x1="${f(cross.p0)}" y1="${f(y)}" x2="${f(cross.p1)}" y2="${f(y)}" stroke="#eee"/>`);
        out.push(`<text x="${f(right ? xBase + 6 : xBase - 6)}" y="${f(y + 4)}" text-anchor="${right ? 'start' : 'end'}">${esc(t.label)}</text>`);
      }
      if (a.title) {
        const x = right ? W - 14 : 16;
        const yc = (a.p0 + a.p1) / 2;
        out.push(
          `<text x="${f(x)}" y="${f(yc)}" text-anchor="middle" font-size="13" transform="rotate(${right ? 90 : -90} ${f(x)} ${f(yc)})">${esc(a.title)}</text>`,
        );
      }
    }
  }

  // Traces.
  const bars = traces.filter((t) => t.type === 'bar');
  traces.forEach((t, i) => {
    const ax = getAxis(xOf(t));
    const ay = getAxis(yOf(t));
    const color = traceColor(t, i);
    if (t.type === 'heatmap') {
      const z = Array.isArray(t.z) ? (t.z as unknown[][]) : [];
      const flat = z
        .flat()
        .map(num)
        .filter((v): v is number => v !== undefined);
      const [z0, z1] = [Math.min(...flat), Math.max(...flat)];
      const cw = (ax.p1 - ax.p0) / Math.max(1, ax.categories.length);
      const ch = (ay.p0 - ay.p1) / Math.max(1, ay.categories.length);
      const xs = Array.isArray(t.x) ? t.x : (z[0] ?? []).map((_v, k) => k);
      const ys = Array.isArray(t.y) ? t.y : z.map((_v, k) => k);
      const text = Array.isArray(t.text) ? (t.text as unknown[][]) : undefined;
      z.forEach((row, r) => {
        row.forEach((v, c) => {
          const n = num(v);
          const cx = scale(ax, String(xs[c]));
          const cy = scale(ay, String(ys[r]));
          if (n === undefined || cx === undefined || cy === undefined) return;
          const s = z1 > z0 ? (n - z0) / (z1 - z0) : 0;
          const shade = `rgb(${Math.round(247 - s * 239)},${Math.round(251 - s * 203)},${Math.round(255 - s * 148)})`;
          out.push(`<rect x="${f(cx - cw / 2)}" y="${f(cy - ch / 2)}" width="${f(cw)}" height="${f(ch)}" fill="${shade}"/>`);
          const label = text?.[r]?.[c] ?? (Number.isInteger(n) ? String(n) : n.toFixed(2));
          if (cw > 18 && ch > 12)
            out.push(
              `<text x="${f(cx)}" y="${f(cy + 4)}" text-anchor="middle" font-size="10" fill="${s > 0.55 ? '#fff' : '#222'}">${esc(String(label))}</text>`,
            );
        });
      });
      return;
    }
    const xs = traceValues(t, 'x');
    const ys = traceValues(t, 'y');
    const err = errorArray(t);
    if (t.type === 'bar') {
      const k = bars.indexOf(t);
      const slot = (ax.p1 - ax.p0) / Math.max(1, ax.categories.length);
      const bw = (slot * 0.8) / bars.length;
      const y0 = scale(ay, ay.type === 'log' ? ay.min : Math.max(ay.min, Math.min(0, ay.max))) ?? ay.p0;
      xs.forEach((xv, j) => {
        const cx = scale(ax, xv);
        const cy = scale(ay, ys[j]);
        if (cx === undefined || cy === undefined) return;
        const x = cx - slot * 0.4 + k * bw;
        out.push(`<rect x="${f(x)}" y="${f(Math.min(cy, y0))}" width="${f(bw * 0.95)}" height="${f(Math.abs(y0 - cy))}" fill="${color}"/>`);
        if (err && num(ys[j]) !== undefined) {
          const hi = scale(ay, (ys[j] as number) + err[j]);
          const lo = scale(ay, (ys[j] as number) - err[j]);
          if (hi !== undefined && lo !== undefined)
            out.push(`<line x1="${f(x + bw / 2)}" y1="${f(lo)}" x2="${f(x + bw / 2)}" y2="${f(hi)}" stroke="#333"/>`);
        }
      });
      return;
    }
    const mode = String(t.mode ?? (xs.length > 20 ? 'lines' : 'lines+markers'));
    const pts = xs.map((xv, j) => [scale(ax, xv), scale(ay, ys[j])] as const);
    const dash = (t.line as { dash?: unknown } | undefined)?.dash;
    if (mode.includes('lines')) {
      let d = '';
      let pen = false;
      for (const [x, y] of pts) {
        if (x === undefined || y === undefined) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${f(x)},${f(y)}`;
        pen = true;
      }
      if (d)
        out.push(
          `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash === 'dash' ? ' stroke-dasharray="6,4"' : dash === 'dot' ? ' stroke-dasharray="2,3"' : ''}/>`,
        );
    }
    if (err) {
      xs.forEach((_xv, j) => {
        const [x] = pts[j];
        const yv = num(ys[j]);
        if (x === undefined || yv === undefined) return;
        const hi = scale(ay, yv + err[j]);
        const lo = scale(ay, yv - err[j]);
        if (hi !== undefined && lo !== undefined) out.push(`<line x1="${f(x)}" y1="${f(lo)}" x2="${f(x)}" y2="${f(hi)}" stroke="${color}"/>`);
      });
    }
    if (mode.includes('markers')) {
      const mk = (t.marker ?? {}) as { size?: unknown; opacity?: unknown; color?: unknown };
      const r = (num(mk.size) ?? 6) / 2;
      const op = num(mk.opacity) ?? 1;
      const colors = Array.isArray(mk.color) ? mk.color : undefined;
      pts.forEach(([x, y], j) => {
        if (x === undefined || y === undefined) return;
        const c = colors
          ? typeof colors[j] === 'string'
            ? colors[j]
            : PALETTE[Math.abs(Math.round(Number(colors[j]) || 0)) % PALETTE.length]
          : color;
        out.push(`<circle cx="${f(x)}" cy="${f(y)}" r="${r}" fill="${c}"${op < 1 ? ` fill-opacity="${op}"` : ''}/>`);
      });
    }
    if (mode.includes('text') && Array.isArray(t.text)) {
      pts.forEach(([x, y], j) => {
        const s = (t.text as unknown[])[j];
        if (x === undefined || y === undefined || s === undefined || s === null) return;
        out.push(`<text x="${f(x)}" y="${f(y - 8)}" text-anchor="middle" font-size="10">${esc(String(s).replace(/<[^>]*>/g, ''))}</text>`);
      });
    }
  });

  // Legend under the plot.
  if (showLegend) {
    const y0 = H - legendRows * 18 - 4;
    legend.forEach((e, i) => {
      const x = m.l + (i % legendCols) * 190;
      const y = y0 + Math.floor(i / legendCols) * 18;
      out.push(
        e.kind === 'bar'
          ? `<rect x="${x}" y="${y - 9}" width="14" height="10" fill="${e.color}"/>`
          : `<line x1="${x}" y1="${y - 4}" x2="${x + 16}" y2="${y - 4}" stroke="${e.color}" stroke-width="2"/><circle cx="${x + 8}" cy="${y - 4}" r="3" fill="${e.color}"/>`,
      );
      const name = e.name.length > 28 ? `${e.name.slice(0, 27)}…` : e.name;
      out.push(`<text x="${x + 22}" y="${y}">${esc(name)}</text>`);
    });
  }
  out.push('</svg>');
  return out.join('\n');
}
