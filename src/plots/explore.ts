/**
 * Figures and inline displays of the exploration toolkit: image grids (`showImages`), retrieval
 * results with coloured borders (`showNeighbours`), 2-D maps of embeddings coloured by class and
 * hoverable with the image index (`embeddingMapFigure`), the confusion matrix, per-class accuracy,
 * the similarity distributions of MoCHi's analysis, and the per-epoch curves of the positive /
 * negative similarities and of alignment and uniformity.
 */
import { imageGrid, type ImageGridOptions } from '../data/view';
import type { ImageSet } from '../types';
import { PALETTE, type PlotlyFigure, type PlotlyTrace } from './figure';
import { displayBundle } from './notebook';

/** The nearest neighbours of each query: bank indices and cosine similarities, most similar first. */
export interface NeighbourLists {
  /** indices[q][j]: bank index of the j-th nearest neighbour of query q. */
  indices: number[][];
  /** similarities[q][j]: its cosine similarity. */
  similarities: number[][];
}

/** Cosine similarities of positives, queue negatives and the mean of each query's `hardest` nearest negatives. */
export interface SimilaritySamples {
  positives: number[];
  queueNegatives: number[];
  hardestNegatives: number[];
  hardest: number;
}

/** One line of a run's metrics log (metrics.jsonl): its type ('epoch' or 'eval'), its epoch, and its fields. */
export interface MetricsLine {
  type: string;
  epoch: number;
  [key: string]: unknown;
}

/**
 * Shows images of `set` inline as one PNG grid: `indices` is one row, or rows of indices. The
 * text fallback lists each row's indices and classes.
 */
export async function showImages(set: ImageSet, indices: number[] | number[][], opts: ImageGridOptions & { caption?: string } = {}): Promise<void> {
  const rows = Array.isArray(indices[0]) ? (indices as number[][]) : [indices as number[]];
  const png = await imageGrid(set, rows, opts);
  const names = set.info.classNames;
  const text =
    (opts.caption ? `${opts.caption}\n` : '') + rows.map((r) => r.map((i) => `#${i} ${names[set.labels[i]] ?? set.labels[i]}`).join(', ')).join('\n');
  displayBundle({ 'image/png': Buffer.from(png).toString('base64'), 'text/plain': text });
}

/**
 * Shows each query (first column) with its nearest neighbours; a neighbour's border is green when
 * it has the query's class, red otherwise. `queries[q]` indexes `querySet`, `nn.indices[q]` `bankSet`.
 * Returns the share of neighbours of the query's class (precision at k).
 */
export async function showNeighbours(
  querySet: ImageSet,
  queries: number[],
  bankSet: ImageSet,
  nn: NeighbourLists,
  opts: { caption?: string; cell?: number } = {},
): Promise<number> {
  if (nn.indices.length !== queries.length) throw new Error(`showNeighbours: ${queries.length} queries but ${nn.indices.length} neighbour lists`);
  // One set holding the queries then the neighbours, so a single grid can be drawn.
  const [h, w] = querySet.info.imageSize;
  const px = h * w * querySet.info.channels;
  const flat = nn.indices.flat();
  const images = new Uint8Array((queries.length + flat.length) * px);
  const labels = new Int32Array(queries.length + flat.length);
  queries.forEach((q, i) => {
    images.set(querySet.images.subarray(q * px, (q + 1) * px), i * px);
    labels[i] = querySet.labels[q];
  });
  flat.forEach((b, j) => {
    images.set(bankSet.images.subarray(b * px, (b + 1) * px), (queries.length + j) * px);
    labels[queries.length + j] = bankSet.labels[b];
  });
  const joint: ImageSet = { ...querySet, n: labels.length, images, labels };
  let offset = queries.length;
  let same = 0;
  const rows: number[][] = [];
  const borders: ([number, number, number] | undefined)[][] = [];
  nn.indices.forEach((list, q) => {
    const row = [q, ...list.map((_b, j) => offset + j)];
    const qLabel = querySet.labels[queries[q]];
    borders.push([
      [60, 60, 60],
      ...list.map((b) => (bankSet.labels[b] === qLabel ? ([40, 170, 60] as [number, number, number]) : ([210, 40, 40] as [number, number, number]))),
    ]);
    same += list.filter((b) => bankSet.labels[b] === qLabel).length;
    offset += list.length;
    rows.push(row);
  });
  const png = await imageGrid(joint, rows, { borders, cell: opts.cell });
  const names = querySet.info.classNames;
  const precision = flat.length ? same / flat.length : 0;
  const text =
    `${opts.caption ? `${opts.caption}\n` : ''}` +
    nn.indices
      .map(
        (list, q) =>
          `query #${queries[q]} ${names[querySet.labels[queries[q]]]}: ` +
          list.map((b, j) => `#${b} ${names[bankSet.labels[b]]} (${nn.similarities[q][j].toFixed(3)})`).join(', '),
      )
      .join('\n') +
    `\nneighbours of the query's class: ${(100 * precision).toFixed(1)}%`;
  displayBundle({ 'image/png': Buffer.from(png).toString('base64'), 'text/plain': text });
  return precision;
}

/**
 * A 2-D map of embeddings (PCA or UMAP coordinates) coloured by class; hovering a point shows
 * its image index (`indices[i]`, default i) and class.
 */
export function embeddingMapFigure(
  xy: [number, number][] | number[][],
  labels: ArrayLike<number>,
  classNames: string[],
  opts: { title?: string; indices?: number[]; height?: number; axis?: string } = {},
): PlotlyFigure {
  if (xy.length !== labels.length) throw new Error(`embeddingMapFigure: ${xy.length} points but ${labels.length} labels`);
  if (opts.indices && opts.indices.length !== xy.length)
    throw new Error(`embeddingMapFigure: ${xy.length} points but ${opts.indices.length} indices`);
  const groups = new Map<number, { x: number[]; y: number[]; idx: number[] }>();
  xy.forEach((p, i) => {
    if (p.length < 2) throw new Error(`embeddingMapFigure: point ${i} has ${p.length} coordinates, needs 2`);
    const c = labels[i];
    const g = groups.get(c) ?? { x: [], y: [], idx: [] };
    g.x.push(p[0]);
    g.y.push(p[1]);
    g.idx.push(opts.indices ? opts.indices[i] : i);
    groups.set(c, g);
  });
  const data: PlotlyTrace[] = [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([c, g]) => ({
      type: 'scatter',
      mode: 'markers',
      name: classNames[c] ?? `class ${c}`,
      x: g.x,
      y: g.y,
      customdata: g.idx,
      hovertemplate: `image #%{customdata}<br>${(classNames[c] ?? `class ${c}`).replace(/[<>%]/g, '')}<extra></extra>`,
      marker: { size: 5, opacity: 0.8, color: PALETTE[c % PALETTE.length] },
    }));
  const axis = opts.axis ?? 'component';
  return {
    data,
    layout: {
      title: { text: opts.title ?? `${xy.length} embeddings by class` },
      height: opts.height ?? 480,
      xaxis: { title: { text: `${axis} 1` }, automargin: true },
      yaxis: { title: { text: `${axis} 2` }, automargin: true },
      legend: { orientation: 'h', y: -0.15 },
      margin: { l: 60, r: 20, t: 50, b: 50 },
    },
  };
}

/** The confusion matrix as a heatmap (rows: true class, columns: predicted), counts in the cells. */
export function confusionFigure(confusion: number[][], classNames: string[], opts: { title?: string } = {}): PlotlyFigure {
  const n = confusion.length;
  if (!n || confusion.some((r) => r.length !== n))
    throw new Error(`confusionFigure: the matrix must be square, got ${n} rows of ${confusion.map((r) => r.length).join('/')}`);
  const names = classNames.length === n ? classNames : confusion.map((_r, i) => `class ${i}`);
  return {
    data: [
      {
        type: 'heatmap',
        z: confusion,
        x: names,
        y: names,
        text: confusion.map((r) => r.map(String)),
        texttemplate: '%{text}',
        colorscale: 'Blues',
        showscale: false,
        hovertemplate: 'true %{y}, predicted %{x}: %{z}<extra></extra>',
      },
    ],
    layout: {
      title: { text: opts.title ?? 'confusion matrix (rows: true class, columns: predicted)' },
      height: 80 + 34 * n + 80,
      xaxis: { title: { text: 'predicted' }, automargin: true, type: 'category' },
      yaxis: { title: { text: 'true' }, automargin: true, type: 'category', autorange: 'reversed' },
      margin: { l: 90, r: 20, t: 50, b: 80 },
    },
  };
}

/** Accuracy per class as bars, with the overall accuracy in the title. */
export function perClassFigure(perClass: number[], classNames: string[], opts: { title?: string; overall?: number } = {}): PlotlyFigure {
  return {
    data: [
      {
        type: 'bar',
        x: perClass.map((_v, i) => classNames[i] ?? `class ${i}`),
        y: perClass.map((v) => (Number.isFinite(v) ? v : null)),
        marker: { color: PALETTE[0] },
      },
    ],
    layout: {
      title: { text: opts.title ?? `kNN accuracy per class${opts.overall !== undefined ? ` (all: ${(100 * opts.overall).toFixed(1)}%)` : ''}` },
      yaxis: { title: { text: 'top-1 accuracy' }, range: [0, 1], automargin: true },
      xaxis: { automargin: true, type: 'category' },
      height: 380,
      showlegend: false,
    },
  };
}

function histogram(values: number[], bins: number, lo: number, hi: number): { x: number[]; y: number[] } {
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)))]++;
  const total = values.length || 1;
  return { x: counts.map((_c, i) => Number((lo + (i + 0.5) * width).toFixed(4))), y: counts.map((c) => c / total / width) };
}

/**
 * Densities of the cosine similarities of positives, queue negatives and the hardest negatives
 * (MoCHi's Fig. 2-style analysis): the closer the hardest negatives sit to the positives, the harder the proxy task.
 */
export function similarityHistogramFigure(d: SimilaritySamples, opts: { title?: string; bins?: number } = {}): PlotlyFigure {
  const bins = opts.bins ?? 40;
  const series: [string, number[]][] = [
    ['positives q.k+', d.positives],
    ['queue negatives q.n', d.queueNegatives],
    [`hardest ${d.hardest} negatives (mean per query)`, d.hardestNegatives],
  ];
  const data = series.map(([name, v], i) => ({ type: 'scatter', mode: 'lines', name, ...histogram(v, bins, -1, 1), line: { color: PALETTE[i] } }));
  return {
    data,
    layout: {
      title: { text: opts.title ?? 'cosine similarity distributions' },
      xaxis: { title: { text: 'cosine similarity' }, range: [-1, 1], automargin: true },
      yaxis: { title: { text: 'density' }, automargin: true },
      height: 380,
      legend: { orientation: 'h', y: -0.25 },
    },
  };
}

/** Per-epoch curves of fields of metrics.jsonl records (of `type`, default 'epoch'), one subplot row each. */
export function metricsCurvesFigure(
  runs: { name: string; metrics: MetricsLine[] }[],
  fields: string[][],
  opts: { title?: string; type?: 'epoch' | 'eval'; rowTitles?: string[] } = {},
): PlotlyFigure {
  const data: PlotlyTrace[] = [];
  const layout: Record<string, unknown> = {
    title: { text: opts.title ?? '' },
    height: 60 + 240 * fields.length,
    legend: { orientation: 'h', y: -0.12 },
    margin: { l: 70, r: 20, t: 50, b: 50 },
  };
  const gap = 0.1;
  const h = (1 - gap * (fields.length - 1)) / fields.length;
  let colour = 0;
  fields.forEach((row, m) => {
    const ax = m === 0 ? '' : String(m + 1);
    const top = 1 - m * (h + gap);
    layout[`yaxis${ax}`] = { title: { text: opts.rowTitles?.[m] ?? row.join(', ') }, domain: [Math.max(0, top - h), top], automargin: true };
    layout[`xaxis${ax}`] = { anchor: `y${ax}`, title: m === fields.length - 1 ? { text: 'epoch' } : undefined, automargin: true };
    for (const run of runs) {
      for (const f of row) {
        const recs = run.metrics.filter((r) => r.type === (opts.type ?? 'epoch') && typeof r[f] === 'number' && Number.isFinite(r[f] as number));
        if (!recs.length) continue;
        data.push({
          type: 'scatter',
          mode: 'lines+markers',
          name: runs.length > 1 ? `${run.name}: ${f}` : f,
          x: recs.map((r) => r.epoch),
          y: recs.map((r) => r[f] as number),
          xaxis: `x${ax}`,
          yaxis: `y${ax}`,
          line: { color: PALETTE[colour % PALETTE.length] },
          marker: { color: PALETTE[colour++ % PALETTE.length] },
        });
      }
    }
  });
  if (!data.length) throw new Error(`metricsCurvesFigure: no record has any of ${fields.flat().join(', ')}`);
  return { data, layout };
}
