// Small SVG charts drawn with DOM calls (no library: two chart shapes do not earn a dependency,
// and every label goes in with textContent). Colours pass WCAG AA against the white background.
const NS = 'http://www.w3.org/2000/svg';
const COLOURS = ['#1f5fa8', '#b3261e', '#2e7d32', '#7b4ea3', '#8a5a00', '#00695c', '#5d4037'];

function el(name, attrs = {}) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) {
    e.setAttribute(k, String(v));
  }
  return e;
}

// Horizontal bars: data is [[label, value], ...]. Replaces the children of container.
export function barChart(container, title, data) {
  container.replaceChildren();
  const rowH = 22;
  const labelW = 240;
  const width = 640;
  const height = Math.max(1, data.length) * rowH + 8;
  const svg = el('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  const t = el('title');
  t.textContent = `${title}: ${data.map(([l, v]) => `${l} ${v}`).join(', ') || 'no data'}`;
  svg.append(t);
  const max = Math.max(1, ...data.map(([, v]) => v));
  data.forEach(([label, value], i) => {
    const y = 4 + i * rowH;
    const lt = el('text', { x: labelW - 6, y: y + 15, 'text-anchor': 'end', class: 'chart-label' });
    lt.textContent = label;
    const w = Math.round(((width - labelW - 60) * value) / max);
    const bar = el('rect', { x: labelW, y, width: Math.max(w, 1), height: rowH - 6, fill: COLOURS[i % COLOURS.length] });
    const vt = el('text', { x: labelW + Math.max(w, 1) + 6, y: y + 15, class: 'chart-label' });
    vt.textContent = String(value);
    svg.append(lt, bar, vt);
  });
  if (data.length === 0) {
    const e = el('text', { x: 8, y: 20, class: 'chart-label' });
    e.textContent = 'no data';
    svg.append(e);
  }
  container.append(svg);
}

// Lines over time: series is {name: [values...]}, one value per sample; unit follows the
// legend's latest values.
export function lineChart(container, title, series, unit = '/s') {
  container.replaceChildren();
  const width = 640;
  const height = 160;
  const pad = 30;
  const svg = el('svg', { width, height: height + 20 * Object.keys(series).length, role: 'img' });
  const t = el('title');
  t.textContent = title;
  svg.append(t);
  const all = Object.values(series).flat();
  const max = Math.max(1e-9, ...all);
  const n = Math.max(2, ...Object.values(series).map((v) => v.length));
  svg.append(el('line', { x1: pad, y1: height - pad, x2: width - 8, y2: height - pad, stroke: '#555' }));
  const top = el('text', { x: 2, y: 14, class: 'chart-label' });
  top.textContent = max.toFixed(2);
  svg.append(top);
  Object.entries(series).forEach(([name, values], i) => {
    const pts = values.map((v, j) => {
      const x = pad + ((width - pad - 8) * j) / (n - 1);
      const y = height - pad - ((height - pad - 20) * v) / max;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    const colour = COLOURS[i % COLOURS.length];
    svg.append(el('polyline', { points: pts.join(' '), fill: 'none', stroke: colour, 'stroke-width': 2 }));
    const legend = el('text', { x: pad, y: height + 14 + 20 * i, fill: colour, class: 'chart-label' });
    legend.textContent = `${name}: ${values.length ? values[values.length - 1].toFixed(2) : 0}${unit}`;
    svg.append(legend);
  });
  container.append(svg);
}
