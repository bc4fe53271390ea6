import type { LatencySummary } from './stats.js';

/** A small grouped bar chart (SVG) of p50/p95/p99 per path. */
export function latencyChart(paths: Array<{ name: string; latency: LatencySummary }>): string {
  const width = 720;
  const height = 320;
  const margin = { top: 30, right: 20, bottom: 50, left: 60 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const max = Math.max(1, ...paths.map((path) => path.latency.p99)) * 1.1;
  const groupWidth = plotWidth / Math.max(1, paths.length);
  const colors = { p50: '#4e79a7', p95: '#f28e2b', p99: '#e15759' } as const;
  const bars: string[] = [];
  paths.forEach((path, index) => {
    const x0 = margin.left + index * groupWidth + groupWidth * 0.15;
    const barWidth = (groupWidth * 0.7) / 3;
    (['p50', 'p95', 'p99'] as const).forEach((key, k) => {
      const value = path.latency[key];
      const h = (value / max) * plotHeight;
      const x = x0 + k * barWidth;
      const y = margin.top + plotHeight - h;
      bars.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${colors[key]}"><title>${path.name} ${key}: ${value} ms</title></rect>`,
      );
    });
    bars.push(
      `<text x="${(x0 + groupWidth * 0.35).toFixed(1)}" y="${height - margin.bottom + 18}" font-size="12" text-anchor="middle">${path.name}</text>`,
    );
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const y = margin.top + plotHeight - f * plotHeight;
    return `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${margin.left - 6}" y="${y + 4}" font-size="11" text-anchor="end">${(f * max).toFixed(1)}</text>`;
  });
  const legend = Object.entries(colors)
    .map(
      ([key, color], i) =>
        `<rect x="${margin.left + i * 70}" y="8" width="10" height="10" fill="${color}"/><text x="${margin.left + i * 70 + 14}" y="17" font-size="12">${key}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>${ticks.join('')}${bars.join('')}${legend}
<text x="14" y="${margin.top + plotHeight / 2}" font-size="12" transform="rotate(-90 14 ${margin.top + plotHeight / 2})" text-anchor="middle">tools/call latency (ms)</text>
</svg>
`;
}
