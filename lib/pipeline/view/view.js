// attnflow view: the head, model and method views of the examples in the page's JSON data
// (docs/views.md). Drawn with d3 as SVG; nothing is fetched. Data attributes on the drawn
// elements (0-based layer, head and token indices) let tests read back what is drawn.
(function () {
  'use strict';
  const DATA = JSON.parse(document.getElementById('attnflow-data').textContent);
  const LEVELS = DATA.bits === 16 ? 65535 : 255;
  const FONT = '"DejaVu Sans", Helvetica, Arial, sans-serif';
  const state = {
    example: 0,
    view: 'head',
    layer: 0,
    heads: null,  // Set of shown heads (0-based)
    minWeight: DATA.min_weight,
    scale: 'own',  // or 'shared' (the radio buttons)
    enlarged: null,  // model view: [layer, head] or null
  };
  const decoded = new Map();
  const tooltip = document.getElementById('tooltip');

  // --- data --------------------------------------------------------------------------------
  function bytesOf(b64) {
    const s = atob(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  function floatsOf(b64) {
    const b = bytesOf(b64);
    return new Float32Array(b.buffer, 0, b.length / 4);
  }

  // Example `index` with its attention dequantised: w = q * rowScale / (2^bits - 1).
  function decode(index) {
    if (decoded.has(index)) return decoded.get(index);
    const ex = DATA.examples[index];
    const L = ex.layers, H = ex.heads, n = ex.tokens.length;
    const raw = bytesOf(ex.attention.q);
    const q = DATA.bits === 16 ? new Uint16Array(raw.buffer, 0, raw.length / 2) : raw;
    const scale = floatsOf(ex.attention.scale);
    const att = new Float32Array(L * H * n * n);
    for (let r = 0; r < L * H * n; r++) {
      const s = scale[r] / LEVELS;
      for (let j = 0; j < n; j++) att[r * n + j] = q[r * n + j] * s;
    }
    const methods = ex.methods.map(m => ({
      name: m.name,
      layers: m.layers,
      values: floatsOf(m.values),  // [k][token]
    }));
    const d = {
      ex, L, H, n, methods,
      at: (l, h, i, j) => att[((l * H + h) * n + i) * n + j],
      thumbs: new Map(),
    };
    decoded.set(index, d);
    return d;
  }

  function headColors(H) {
    if (H <= 10) return d3.schemeCategory10.slice(0, H);
    return d3.quantize(t => d3.interpolateRainbow(t * (H - 1) / H), H);
  }

  // Rows of n tokens: height and font size.
  function rowsFor(n) {
    return n > 48 ? {rowH: 12, font: 10} : {rowH: 20, font: 13};
  }

  let measureCtx = null;
  function textWidth(strings, font) {
    if (!measureCtx) measureCtx = document.createElement('canvas').getContext('2d');
    measureCtx.font = font + 'px ' + FONT;
    return Math.ceil(d3.max(strings, s => measureCtx.measureText(s).width) || 0);
  }

  function fmt(v) {
    return +v.toPrecision(6);
  }

  // --- drawing helpers ---------------------------------------------------------------------
  function newSvg(container, width, height) {
    const root = d3.select(container);
    root.selectAll('*').remove();
    const svg = root.append('svg')
      .attr('class', 'drawing')
      .attr('width', width)
      .attr('height', height)
      .attr('viewBox', '0 0 ' + width + ' ' + height)
      .attr('font-family', FONT);
    svg.append('rect').attr('width', width).attr('height', height).attr('fill', '#fff');
    return svg;
  }

  function showTip(event, text) {
    tooltip.textContent = text;
    tooltip.style.display = 'block';
    tooltip.style.left = (event.pageX + 14) + 'px';
    tooltip.style.top = (event.pageY + 14) + 'px';
  }
  function hideTip() {
    tooltip.style.display = 'none';
  }

  // Two token columns at x = left (queries, right-aligned) and right (keys) and the lines of
  // `heads` at `layer` between them; hovering a token shows only its lines (bertviz).
  function drawAttention(g, d, layer, heads, colors, geo) {
    const {left, right, top, rowH, font} = geo;
    const y = i => top + i * rowH + rowH / 2;
    const lines = [];
    for (const h of heads) {
      for (let i = 0; i < d.n; i++) {
        for (let j = 0; j < d.n; j++) {
          const w = d.at(layer, h, i, j);
          if (w > 0 && w >= state.minWeight) lines.push([h, i, j, w]);
        }
      }
    }
    const lineGroup = g.append('g').attr('class', 'lines').attr('stroke-width', 2);
    lineGroup.selectAll('line').data(lines).join('line')
      .attr('class', 'attn')
      .attr('data-l', layer)
      .attr('data-h', e => e[0])
      .attr('data-i', e => e[1])
      .attr('data-j', e => e[2])
      .attr('x1', left + 6)
      .attr('y1', e => y(e[1]))
      .attr('x2', right - 6)
      .attr('y2', e => y(e[2]))
      .attr('stroke', e => colors[e[0]])
      .attr('stroke-opacity', e => fmt(Math.min(1, e[3])));
    const focus = (side, k) => {
      lineGroup.selectAll('line').attr('visibility', e =>
        k === null || e[side === 'query' ? 1 : 2] === k ? null : 'hidden');
      g.selectAll('g.token rect').attr('fill', t =>
        k !== null && t.side === side && t.i === k ? '#ffe9a8' : 'none');
    };
    const tokens = [];
    for (let i = 0; i < d.n; i++) {
      tokens.push({side: 'query', i}, {side: 'key', i});
    }
    const w = textWidth(d.ex.tokens, font) + 6;
    const tg = g.append('g').attr('font-size', font).selectAll('g').data(tokens).join('g')
      .attr('class', 'token')
      .attr('data-side', t => t.side)
      .attr('data-i', t => t.i);
    tg.append('rect')
      .attr('x', t => t.side === 'query' ? left - w : right)
      .attr('y', t => y(t.i) - rowH / 2)
      .attr('width', w)
      .attr('height', rowH)
      .attr('fill', 'none')
      .attr('pointer-events', 'all');
    tg.append('text')
      .attr('x', t => t.side === 'query' ? left - 3 : right + 3)
      .attr('y', t => y(t.i))
      .attr('dy', '0.35em')
      .attr('text-anchor', t => t.side === 'query' ? 'end' : 'start')
      .attr('fill', '#222')
      .text(t => d.ex.tokens[t.i]);
    tg.on('mouseenter', t => focus(t.side, t.i)).on('mouseleave', () => focus(null, null));
    return lines.length;
  }

  // --- head view ---------------------------------------------------------------------------
  function renderHeadControls(d) {
    const colors = headColors(d.H);
    const layerSelect = d3.select('#layer');
    layerSelect.selectAll('option').data(d3.range(d.L)).join('option')
      .attr('value', l => l)
      .text(l => l + 1);
    layerSelect.property('value', state.layer);
    const boxes = d3.select('#head-boxes').selectAll('label').data(d3.range(d.H)).join(enter => {
      const label = enter.append('label');
      label.append('input').attr('type', 'checkbox');
      label.append('span');
      return label;
    });
    boxes.attr('id', h => 'head-' + h)
      .attr('title', h => d.ex.head_names[h] + ' (double-click: only this head)')
      .style('background', h => {
        const c = d3.color(colors[h]);
        c.opacity = 0.25;
        return c + '';
      })
      .on('dblclick', h => {
        state.heads = new Set([h]);
        render();
      });
    boxes.select('input')
      .attr('data-h', h => h)
      .style('accent-color', h => colors[h])
      .property('checked', h => state.heads.has(h))
      .on('change', function (h) {
        if (this.checked) state.heads.add(h); else state.heads.delete(h);
        render();
      });
    boxes.select('span').text(h => d.ex.head_names[h]);
    document.getElementById('min-weight').value = state.minWeight;
  }

  function renderHead(d) {
    renderHeadControls(d);
    const {rowH, font} = rowsFor(d.n);
    const tw = textWidth(d.ex.tokens, font) + 10;
    const gap = Math.max(220, Math.min(420, 12 * d.n));
    const left = 10 + tw, right = left + gap;
    const top = 28;
    const width = right + tw + 10, height = top + d.n * rowH + 10;
    const svg = newSvg('#head-canvas', width, height);
    svg.append('text').attr('x', 10).attr('y', 16).attr('font-size', 12).attr('fill', '#444')
      .text('layer ' + (state.layer + 1) + ' · ' + state.heads.size + ' of ' + d.H + ' heads');
    const colors = headColors(d.H);
    const heads = d3.range(d.H).filter(h => state.heads.has(h));
    drawAttention(svg.append('g'), d, state.layer, heads, colors,
                  {left, right, top, rowH, font});
  }

  // --- model view --------------------------------------------------------------------------
  // d3.interpolateBlues at 256 levels, as RGB bytes (one colour lookup per pixel).
  let blues = null;
  function bluesTable() {
    if (blues) return blues;
    blues = new Uint8Array(256 * 3);
    for (let k = 0; k < 256; k++) {
      const c = d3.rgb(d3.interpolateBlues(k / 255));
      blues.set([c.r, c.g, c.b], 3 * k);
    }
    return blues;
  }

  // Thumbnail of (layer, head): the n x n map as a PNG data URL of at most `size` pixels a
  // side (each pixel the maximum of an f x f block when n > size), scaled to its own maximum.
  function thumbnail(d, l, h, size) {
    const key = l * d.H + h;
    if (d.thumbs.has(key)) return d.thumbs.get(key);
    const f = Math.ceil(d.n / size), m = Math.ceil(d.n / f);
    const pooled = new Float32Array(m * m);
    let max = 0;
    for (let i = 0; i < d.n; i++) {
      for (let j = 0; j < d.n; j++) {
        const w = d.at(l, h, i, j), p = Math.floor(i / f) * m + Math.floor(j / f);
        if (w > pooled[p]) pooled[p] = w;
        if (w > max) max = w;
      }
    }
    const canvas = document.createElement('canvas');
    canvas.width = m;
    canvas.height = m;
    const ctx = canvas.getContext('2d');
    const image = ctx.createImageData(m, m);
    const table = bluesTable();
    for (let p = 0; p < m * m; p++) {
      const k = 3 * (max > 0 ? Math.round(255 * pooled[p] / max) : 0);
      image.data[4 * p] = table[k];
      image.data[4 * p + 1] = table[k + 1];
      image.data[4 * p + 2] = table[k + 2];
      image.data[4 * p + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
    const url = canvas.toDataURL('image/png');
    d.thumbs.set(key, url);
    return url;
  }

  function renderModel(d) {
    const size = d.n > 48 ? 64 : 52, pad = 6, left = 36, top = 34;
    const colors = headColors(d.H);
    const gridW = left + d.H * (size + pad), gridH = top + d.L * (size + pad);
    const {rowH, font} = rowsFor(d.n);
    const tw = textWidth(d.ex.tokens, font) + 10;
    const gap = Math.max(200, Math.min(360, 10 * d.n));
    const detailX = gridW + 30;
    const width = detailX + 2 * tw + gap + 20;
    const height = Math.max(gridH + 10, top + d.n * rowH + 30);
    const svg = newSvg('#model-canvas', width, height);
    svg.append('g').attr('font-size', 11).attr('fill', '#444').selectAll('text')
      .data(d3.range(d.H)).join('text')
      .attr('x', h => left + h * (size + pad) + size / 2).attr('y', top - 8)
      .attr('text-anchor', 'middle').text(h => d.ex.head_names[h]);
    svg.append('g').attr('font-size', 11).attr('fill', '#444').selectAll('text')
      .data(d3.range(d.L)).join('text')
      .attr('x', left - 6).attr('y', l => top + l * (size + pad) + size / 2)
      .attr('dy', '0.35em').attr('text-anchor', 'end').text(l => 'L' + (l + 1));
    const cells = [];
    for (let l = 0; l < d.L; l++) for (let h = 0; h < d.H; h++) cells.push([l, h]);
    const thumbs = svg.append('g').selectAll('g').data(cells).join('g')
      .attr('class', 'thumb')
      .attr('data-l', c => c[0])
      .attr('data-h', c => c[1])
      .attr('transform', c => 'translate(' + (left + c[1] * (size + pad)) + ',' +
                              (top + c[0] * (size + pad)) + ')');
    thumbs.append('image')
      .attr('width', size).attr('height', size)
      .attr('preserveAspectRatio', 'none')
      .attr('style', 'image-rendering: pixelated')
      .attr('href', c => thumbnail(d, c[0], c[1], size));
    const picked = c => state.enlarged && state.enlarged[0] === c[0] && state.enlarged[1] === c[1];
    const frames = thumbs.append('rect')
      .attr('width', size).attr('height', size).attr('fill', 'none');
    const title = svg.append('text').attr('x', detailX).attr('y', 16).attr('font-size', 12)
      .attr('fill', '#444');
    const detail = svg.append('g').attr('class', 'enlarged');
    // The enlarged head and the frames; a click redraws only these (the images stay).
    const enlarge = () => {
      frames.attr('stroke', c => picked(c) ? '#000' : colors[c[1]])
        .attr('stroke-width', c => picked(c) ? 3 : 1);
      detail.selectAll('*').remove();
      if (!state.enlarged) {
        title.text('click a thumbnail to enlarge it');
        return;
      }
      const [l, h] = state.enlarged;
      title.text('layer ' + (l + 1) + ' · ' + d.ex.head_names[h]);
      drawAttention(detail, d, l, [h], colors,
                    {left: detailX + tw, right: detailX + tw + gap, top: top, rowH, font});
    };
    thumbs.on('click', c => {
      state.enlarged = c;
      enlarge();
    });
    enlarge();
  }

  // --- method view -------------------------------------------------------------------------
  function renderMethod(d) {
    const note = document.getElementById('method-note');
    const ex = d.ex;
    note.textContent = 'Target row: token ' + ex.target + ' "' + ex.tokens[ex.target] +
      '", one column per layer (rollout and gradient rollout: the product up to that layer). ' +
      (ex.notes.length ? ex.notes.join(' ') : '');
    const {rowH, font} = rowsFor(d.n);
    const cellW = 18, gap = 28, top = 44;
    const tw = textWidth(ex.tokens, font) + 12;
    let x = 10 + tw;
    const panels = d.methods.map(m => {
      const p = {m, x, width: m.layers.length * cellW};
      x += p.width + gap;
      return p;
    });
    const width = Math.max(x + 10, 300);
    const height = top + d.n * rowH + 60;
    const svg = newSvg('#method-canvas', width, height);
    if (!d.methods.length) {
      svg.append('text').attr('x', 10).attr('y', 20).text('no method maps');
      return;
    }
    svg.append('g').attr('font-size', font).selectAll('text').data(ex.tokens).join('text')
      .attr('x', 10 + tw - 6).attr('y', (t, i) => top + i * rowH + rowH / 2)
      .attr('dy', '0.35em').attr('text-anchor', 'end')
      .attr('font-weight', (t, i) => i === ex.target ? 'bold' : null)
      .attr('fill', '#222')
      .text((t, i) => (i === ex.target ? '▶ ' : '') + t);
    const range = vs => {
      let lo = 0, hi = 0;
      for (const v of vs) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      return [lo, hi];
    };
    const shared = range(d.methods.flatMap(m => Array.from(m.values)));
    const colorOf = ([lo, hi]) => {
      if (lo < 0) {
        const a = Math.max(-lo, hi) || 1;
        return v => d3.interpolateRdBu(0.5 - v / (2 * a));
      }
      return v => d3.interpolateViridis(hi > 0 ? v / hi : 0);
    };
    const defs = svg.append('defs');
    panels.forEach((p, mi) => {
      const domain = state.scale === 'shared' ? shared : range(p.m.values);
      const color = colorOf(domain);
      const g = svg.append('g').attr('class', 'method').attr('data-m', mi)
        .attr('data-name', p.m.name);
      g.append('text').attr('x', p.x + p.width / 2).attr('y', 14).attr('text-anchor', 'middle')
        .attr('font-size', 12).attr('font-weight', 'bold').attr('fill', '#222').text(p.m.name);
      g.append('g').attr('font-size', 9).attr('fill', '#444').selectAll('text')
        .data(p.m.layers).join('text')
        .attr('x', (l, k) => p.x + k * cellW + cellW / 2).attr('y', top - 6)
        .attr('text-anchor', 'middle').text(l => l);
      const cells = [];
      p.m.layers.forEach((layer, k) => {
        for (let t = 0; t < d.n; t++) cells.push({k, layer, t, v: p.m.values[k * d.n + t]});
      });
      g.append('g').selectAll('rect').data(cells).join('rect')
        .attr('class', 'cell')
        .attr('data-l', c => c.layer)
        .attr('data-t', c => c.t)
        .attr('data-v', c => c.v)
        .attr('x', c => p.x + c.k * cellW)
        .attr('y', c => top + c.t * rowH)
        .attr('width', cellW - 1)
        .attr('height', rowH - 1)
        .attr('fill', c => color(c.v))
        .on('mousemove', c => showTip(d3.event, p.m.name + ' · layer ' + c.layer + ' · token ' +
                                      c.t + ' "' + ex.tokens[c.t] + '": ' + fmt(c.v)))
        .on('mouseleave', hideTip);
      if (state.scale === 'own' || mi === panels.length - 1) {
        const lx = state.scale === 'own' ? p.x : panels[0].x;
        const lw = state.scale === 'own' ? Math.max(p.width, 60) : x - gap - panels[0].x;
        const id = 'legend-' + mi;
        const grad = defs.append('linearGradient').attr('id', id);
        d3.range(11).forEach(s => grad.append('stop').attr('offset', s * 10 + '%')
          .attr('stop-color', color(domain[0] + (domain[1] - domain[0]) * s / 10)));
        const ly = top + d.n * rowH + 12;
        const legend = svg.append('g').attr('class', 'legend').attr('font-size', 10)
          .attr('fill', '#444');
        legend.append('rect').attr('x', lx).attr('y', ly).attr('width', lw).attr('height', 10)
          .attr('fill', 'url(#' + id + ')');
        legend.append('text').attr('x', lx).attr('y', ly + 24).text(fmt(domain[0]));
        legend.append('text').attr('x', lx + lw).attr('y', ly + 24).attr('text-anchor', 'end')
          .text(fmt(domain[1]));
      }
    });
  }

  // --- page --------------------------------------------------------------------------------
  function render() {
    const d = decode(state.example);
    if (!state.heads || d3.max(Array.from(state.heads)) >= d.H) state.heads = new Set(d3.range(d.H));
    if (state.layer >= d.L) state.layer = d.L - 1;
    if (state.enlarged && (state.enlarged[0] >= d.L || state.enlarged[1] >= d.H)) {
      state.enlarged = null;
    }
    d3.selectAll('.tabs button').classed('active', function () {
      return this.dataset.view === state.view;
    });
    d3.selectAll('.view').classed('active', function () {
      return this.id === 'view-' + state.view;
    });
    const ex = d.ex;
    document.getElementById('source').textContent = ex.name + ' · ' + d.L + ' layers × ' +
      d.H + ' heads × ' + d.n + ' tokens · attention quantised to ' + DATA.bits +
      ' bits per row (step = row maximum / ' + LEVELS + ')';
    if (state.view === 'head') renderHead(d);
    if (state.view === 'model') renderModel(d);
    if (state.view === 'method') renderMethod(d);
    document.body.dataset.view = state.view;
    document.body.dataset.rendered = String(+(document.body.dataset.rendered || 0) + 1);
  }

  function download(blob, name) {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  // The current view's drawing as SVG and as PNG (twice the size), both downloaded.
  function exportView() {
    const svg = document.querySelector('#view-' + state.view + ' svg.drawing');
    if (!svg) return;
    const ex = DATA.examples[state.example];
    const base = 'attnflow-' + state.view + '-example' + ex.index +
      (state.view === 'head' ? '-layer' + (state.layer + 1) : '');
    const text = new XMLSerializer().serializeToString(svg);
    download(new Blob([text], {type: 'image/svg+xml'}), base + '.svg');
    const width = +svg.getAttribute('width'), height = +svg.getAttribute('height');
    const image = new Image();
    const url = URL.createObjectURL(new Blob([text], {type: 'image/svg+xml'}));
    image.onload = () => {
      const canvas = document.createElement('canvas');
      canvas.width = 2 * width;
      canvas.height = 2 * height;
      const ctx = canvas.getContext('2d');
      ctx.scale(2, 2);
      ctx.drawImage(image, 0, 0, width, height);
      URL.revokeObjectURL(url);
      canvas.toBlob(blob => {
        download(blob, base + '.png');
        document.body.dataset.exported = base;
      }, 'image/png');
    };
    image.src = url;
  }

  function init() {
    const start = performance.now();
    const select = d3.select('#example');
    select.selectAll('option').data(DATA.examples).join('option')
      .attr('value', (e, i) => i).text(e => e.index);
    document.getElementById('example-control').style.display =
      DATA.examples.length > 1 ? null : 'none';
    select.on('change', function () {
      state.example = +this.value;
      state.enlarged = null;
      render();
    });
    d3.selectAll('.tabs button').on('click', function () {
      state.view = this.dataset.view;
      render();
    });
    d3.select('#layer').on('change', function () {
      state.layer = +this.value;
      render();
    });
    d3.select('#heads-all').on('click', () => {
      state.heads = new Set(d3.range(decode(state.example).H));
      render();
    });
    d3.select('#heads-none').on('click', () => {
      state.heads = new Set();
      render();
    });
    d3.select('#min-weight').on('change', function () {
      const v = +this.value;
      if (v >= 0 && v <= 1) state.minWeight = v;
      render();
    });
    d3.selectAll('input[name=scale]').on('change', function () {
      state.scale = this.value;
      render();
    });
    d3.select('#export').on('click', exportView);
    render();
    document.body.dataset.openMs = String(Math.round(performance.now() - start));
    document.body.dataset.ready = '1';
  }

  init();
})();
