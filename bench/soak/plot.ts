/** A small SVG of the soak's time series: one panel per column, sharing the time axis. */
export interface Series {
  label: string;
  unit: string;
  values: number[];
}

export function plotSvg(title: string, t: number[], series: Series[]): string {
  const width = 760;
  const panelH = 120;
  const left = 70;
  const right = 20;
  const top = 40;
  const gap = 34;
  const height = top + series.length * (panelH + gap) + 10;
  const tMax = Math.max(1, ...t);
  const x = (v: number) => left + (v / tMax) * (width - left - right);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  series.forEach((s, i) => {
    const y0 = top + i * (panelH + gap) + 14;
    const max = Math.max(1e-9, ...s.values) * 1.1;
    const y = (v: number) => y0 + panelH - (v / max) * panelH;
    out.push(
      `<text x="${left}" y="${y0 - 4}" font-weight="bold">${esc(s.label)} (${esc(s.unit)})</text>`,
    );
    out.push(
      `<rect x="${left}" y="${y0}" width="${width - left - right}" height="${panelH}" fill="none" stroke="#bbb"/>`,
    );
    for (const frac of [0, 0.5, 1]) {
      const v = max * frac;
      out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
      out.push(
        `<line x1="${left}" x2="${width - right}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`,
      );
    }
    const pts = s.values.map((v, k) => `${x(t[k] ?? 0).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`);
  });
  const yAxis = top + series.length * (panelH + gap) - gap + 28;
  for (let k = 0; k <= 5; k++) {
    const v = (tMax * k) / 5;
    out.push(`<text x="${x(v)}" y="${yAxis}" text-anchor="middle">${Math.round(v)} s</text>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function fmt(v: number): string {
  if (v >= 10_000) return `${Math.round(v / 1000)}k`;
  if (v >= 100) return String(Math.round(v));
  return v.toFixed(1);
}
