(function () {
  'use strict';
  // Yardstick HTML report: renders the per-case drill-down from the JSON data
  // block. Every piece of run data is inserted with textContent or as a text
  // node; nothing is ever parsed as HTML.
  var t0 = performance.now();
  var root = document.documentElement;
  var problems = [];
  function problem(msg) {
    problems.push(String(msg));
    root.setAttribute('data-problems', problems.join(' | '));
  }
  window.addEventListener('error', function (e) { problem('error: ' + e.message); });
  document.addEventListener('securitypolicyviolation', function (e) { problem('csp: ' + e.violatedDirective); });

  var src = document.getElementById('ys-data');
  if (!src) { return; }
  var text = src.textContent;
  var tRead = performance.now();
  var D = JSON.parse(text);
  text = null;
  var tParsed = performance.now();

  var cases = D.cases, res = D.results, targets = D.targets, suites = D.suites;
  var nC = cases.length, nT = targets.length, nR = res.length;
  var PAGE = D.page_size || 50;

  // Record positions (see reports/html.go).
  var R_CASE = 0, R_TGT = 1, R_REP = 2, R_PASS = 3, R_SCORE = 4, R_LAT = 5, R_TTFT = 6, R_OUT = 7,
      R_REASON = 8, R_EKIND = 9, R_EMSG = 10, R_BASE = 11, R_COST = 12, R_IN = 13, R_OUTTOK = 14, R_PARTS = 15;
  var C_SUITE = 0, C_ID = 1, C_PROMPT = 2, C_EXPECTED = 3;

  // Group results by case with a counting sort (arrival order kept).
  var start = new Uint32Array(nC + 1), i, j, c, t;
  for (i = 0; i < nR; i++) { start[res[i][R_CASE] + 1]++; }
  for (i = 0; i < nC; i++) { start[i + 1] += start[i]; }
  var order = new Uint32Array(nR), fill = start.slice(0, nC);
  for (i = 0; i < nR; i++) { order[fill[res[i][R_CASE]]++] = i; }
  fill = null;

  // Per-case flags.
  var F_FAIL = 1, F_DIS = 2, F_REG = 4, F_FLAKY = 8, F_ERR = 16;
  var flags = new Uint8Array(nC), count = {1: 0, 2: 0, 4: 0, 8: 0, 16: 0};
  var pass = new Int32Array(nT), tot = new Int32Array(nT);
  for (c = 0; c < nC; c++) {
    pass.fill(0); tot.fill(0);
    var f = 0;
    for (j = start[c]; j < start[c + 1]; j++) {
      var r = res[order[j]];
      t = r[R_TGT];
      tot[t]++;
      if (r[R_PASS]) { pass[t]++; } else { f |= F_FAIL; }
      if (r[R_EKIND]) { f |= F_ERR; }
      if (r[R_BASE] === 1 && !r[R_PASS]) { f |= F_REG; }
    }
    var anyAll = false, anyNone = false;
    for (t = 0; t < nT; t++) {
      if (!tot[t]) { continue; }
      if (pass[t] === tot[t]) { anyAll = true; } else if (pass[t] === 0) { anyNone = true; } else { f |= F_FLAKY; }
    }
    if (anyAll && anyNone) { f |= F_DIS; }
    flags[c] = f;
    for (var b = 1; b <= 16; b <<= 1) { if (f & b) { count[b]++; } }
  }

  var tIndexed = performance.now();

  // ---- DOM helpers: text only ----
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null && text !== '') { e.textContent = String(text); }
    return e;
  }
  function pill(kind, text) { return el('span', 'pill p-' + kind, text); }
  function fmtMs(ms) {
    if (!(ms > 0)) { return '—'; }
    if (ms < 10) { return ms.toFixed(2) + 'ms'; }
    if (ms < 100) { return ms.toFixed(1) + 'ms'; }
    if (ms < 1000) { return Math.round(ms) + 'ms'; }
    if (ms < 10000) { return (ms / 1000).toFixed(2) + 's'; }
    return (ms / 1000).toFixed(1) + 's';
  }
  function fmtUSD(x) {
    if (x === null || x === undefined) { return ''; }
    if (x === 0) { return '$0'; }
    return '$' + (x < 0.01 ? x.toFixed(5) : x < 1 ? x.toFixed(4) : x.toFixed(2));
  }
  var nf = new Intl.NumberFormat('en-US');

  // ---- State and filtering ----
  // The filter state lives in the URL fragment (#f=failures&q=refund&suite=billing&p=2),
  // so a copied URL reopens the same view.
  var state = {mask: 0, suite: -1, q: '', page: 0};
  var view = new Uint32Array(0);
  var hay = null;
  var FLAG_NAMES = {0: 'all', 1: 'failures', 2: 'disagreements', 4: 'regressions', 8: 'flaky', 16: 'errors'};

  // haystack is one lower-cased string per case: its id, prompt messages,
  // expected answer, and every output, error and reason of its results.
  function haystack() {
    var h = new Array(nC), k, jj, r, parts;
    for (k = 0; k < nC; k++) {
      var cs = cases[k];
      parts = [String(cs[C_ID])];
      (cs[C_PROMPT] || []).forEach(function (m) { parts.push(String(m[1])); });
      if (cs[C_EXPECTED]) { parts.push(String(cs[C_EXPECTED])); }
      for (jj = start[k]; jj < start[k + 1]; jj++) {
        r = res[order[jj]];
        parts.push(String(r[R_OUT]));
        if (r[R_REASON]) { parts.push(String(r[R_REASON])); }
        if (r[R_EMSG]) { parts.push(String(r[R_EMSG])); }
      }
      h[k] = parts.join('\n').toLowerCase();
    }
    return h;
  }

  function compute() {
    var out = new Uint32Array(nC), n = 0;
    // Every word of the query must appear somewhere in the case.
    var words = state.q.trim().toLowerCase().split(/\s+/).filter(Boolean);
    if (words.length && !hay) { hay = haystack(); }
    outer:
    for (var k2 = 0; k2 < nC; k2++) {
      if (state.mask && !(flags[k2] & state.mask)) { continue; }
      if (state.suite >= 0 && cases[k2][C_SUITE] !== state.suite) { continue; }
      for (var w = 0; w < words.length; w++) { if (hay[k2].indexOf(words[w]) < 0) { continue outer; } }
      out[n++] = k2;
    }
    view = out.subarray(0, n);
    var pages = Math.max(1, Math.ceil(n / PAGE));
    if (state.page >= pages) { state.page = pages - 1; }
  }

  function toFragment() {
    var p = new URLSearchParams();
    if (state.mask) { p.set('f', FLAG_NAMES[state.mask]); }
    if (state.q.trim()) { p.set('q', state.q.trim()); }
    if (state.suite >= 0) { p.set('suite', suites[state.suite]); }
    if (state.page > 0) { p.set('p', String(state.page + 1)); }
    var s = p.toString();
    return s ? '#' + s : '';
  }
  // fromFragment reads the state from location.hash; unknown values are ignored.
  function fromFragment() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ''));
    var st = {mask: 0, suite: -1, q: p.get('q') || '', page: 0};
    var f = p.get('f');
    for (var b in FLAG_NAMES) { if (FLAG_NAMES[b] === f) { st.mask = +b; } }
    var su = p.get('suite');
    if (su !== null) { st.suite = suites.indexOf(su); }
    var pg = parseInt(p.get('p') || '1', 10);
    if (pg > 1) { st.page = pg - 1; }
    return st;
  }
  function saveFragment() {
    var frag = toFragment();
    if (frag === location.hash || (frag === '' && location.hash === '')) { return; }
    try { history.replaceState(null, '', location.pathname + location.search + frag); } catch (e) { /* an opaque origin: the view still works */ }
  }

  // ---- Toolbar ----
  var box = document.getElementById('ys-cases');
  var toolbar = el('div', 'toolbar');
  var search = el('input', 'search');
  search.type = 'search';
  search.placeholder = 'Search prompts, answers, ids…  ( / )';
  search.setAttribute('aria-label', 'Search cases by id, prompt, expected answer or output');
  toolbar.appendChild(search);

  var chips = el('div', 'chips');
  var chipDefs = [
    [0, 'All cases', nC],
    [F_FAIL, 'Failures', count[F_FAIL]],
    [F_DIS, 'Disagreements', count[F_DIS]],
    [F_REG, 'Regressions', count[F_REG]],
    [F_FLAKY, 'Flaky', count[F_FLAKY]],
    [F_ERR, 'Errors', count[F_ERR]]
  ];
  var chipEls = [];
  chipDefs.forEach(function (d) {
    var bt = el('button', 'chip', d[1]);
    bt.type = 'button';
    bt.appendChild(el('span', 'n', nf.format(d[2])));
    bt.setAttribute('aria-pressed', d[0] === 0 ? 'true' : 'false');
    bt.setAttribute('data-flag', String(d[0]));
    if (d[0] !== 0 && d[2] === 0) { bt.disabled = true; bt.title = 'No such cases'; }
    if (d[0] === F_REG && !D.has_baseline) { bt.disabled = true; bt.title = 'No baseline given'; }
    if (d[0] === F_DIS && nT < 2) { bt.disabled = true; bt.title = 'Needs two or more targets'; }
    bt.addEventListener('click', function () {
      state.mask = d[0]; state.page = 0;
      update();
    });
    chipEls.push(bt);
    chips.appendChild(bt);
  });
  toolbar.appendChild(chips);

  var sel = null;
  if (suites.length > 1) {
    sel = el('select');
    sel.setAttribute('aria-label', 'Suite');
    var o0 = el('option', '', 'All suites'); o0.value = '-1'; sel.appendChild(o0);
    suites.forEach(function (s, k) { var o = el('option', '', s); o.value = String(k); sel.appendChild(o); });
    sel.addEventListener('change', function () { state.suite = +sel.value; state.page = 0; update(); });
    toolbar.appendChild(sel);
  }

  var pager = el('div', 'pager');
  var prev = el('button', '', '‹ Prev'), next = el('button', '', 'Next ›'), pinfo = el('span');
  prev.type = next.type = 'button';
  prev.addEventListener('click', function () { if (state.page > 0) { state.page--; render(true); } });
  next.addEventListener('click', function () { state.page++; render(true); });
  pager.appendChild(prev); pager.appendChild(pinfo); pager.appendChild(next);
  var statusRow = el('div', 'statusrow');
  var status = el('p', 'status');
  statusRow.appendChild(status);
  statusRow.appendChild(pager);
  toolbar.appendChild(statusRow);

  var list = el('div', 'cases');
  var foot = el('div', 'pgfoot');
  var next2 = el('button', 'chip', 'Next page ›');
  next2.type = 'button';
  next2.addEventListener('click', function () { state.page++; render(true); });
  foot.appendChild(next2);
  box.appendChild(toolbar); box.appendChild(list); box.appendChild(foot);

  var timer = 0;
  search.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(function () { state.q = search.value; state.page = 0; update(); }, 120);
  });
  document.addEventListener('keydown', function (e) {
    if (e.target === search || e.ctrlKey || e.metaKey || e.altKey) { return; }
    if (e.key === '/') { e.preventDefault(); search.focus(); }
    else if (e.key === 'ArrowRight') { next.click(); }
    else if (e.key === 'ArrowLeft') { prev.click(); }
  });

  // ---- Rendering ----
  function caseCard(ci) {
    var cs = cases[ci], fl = flags[ci];
    var card = el('article', 'case' + (fl & F_FAIL ? ' bad' : ''));
    card.setAttribute('data-case', String(ci));
    var h = el('header');
    h.appendChild(el('span', 'cid', cs[C_ID]));
    if (suites.length > 1) { h.appendChild(el('span', 'suite', suites[cs[C_SUITE]])); }
    if (fl & F_REG) { h.appendChild(pill('fail', 'REGRESSED')); }
    if (fl & F_DIS) { h.appendChild(pill('info', 'DISAGREE')); }
    if (fl & F_FLAKY) { h.appendChild(pill('warn', 'FLAKY')); }
    if (fl & F_ERR) { h.appendChild(pill('warn', 'ERROR')); }

    // Results of this case by target.
    var byT = [];
    for (var k = 0; k < nT; k++) { byT.push([]); }
    for (var jj = start[ci]; jj < start[ci + 1]; jj++) { var rr = res[order[jj]]; byT[rr[R_TGT]].push(rr); }
    var outs = el('span', 'outs');
    var shown = [];
    for (k = 0; k < nT; k++) {
      if (!byT[k].length) { continue; }
      shown.push(k);
      var np = 0;
      byT[k].forEach(function (x) { if (x[R_PASS]) { np++; } });
      var kind = np === byT[k].length ? 'pass' : np === 0 ? 'fail' : 'warn';
      var p = pill(kind, (kind === 'pass' ? '✓ ' : kind === 'fail' ? '✗ ' : '~ ') + targets[k]);
      outs.appendChild(p);
    }
    h.appendChild(outs);
    card.appendChild(h);

    // Prompt and expected answer.
    var ctx = el('div', 'ctx');
    var pdiv = el('div');
    var det = el('details');
    var msgs = cs[C_PROMPT] || [];
    var sum = el('summary');
    sum.appendChild(el('span', 'lbl', 'Prompt'));
    if (msgs.length) {
      var last = String(msgs[msgs.length - 1][1]).replace(/\s+/g, ' ');
      sum.appendChild(el('span', 'preview', last.length > 160 ? last.slice(0, 160) + '…' : last));
    }
    det.appendChild(sum);
    msgs.forEach(function (m) {
      var md = el('div', 'msg');
      md.appendChild(el('div', 'role', m[0]));
      md.appendChild(el('pre', '', m[1]));
      (m[2] || []).forEach(function (src) {
        if (src.indexOf('data:image/') === 0) {
          var img = el('img', 'thumb');
          img.src = src;
          img.alt = 'case image';
          md.appendChild(img);
        } else {
          md.appendChild(el('div', 'note', 'image not shown (over 256 KiB, or the report\u2019s 16 MiB image budget is spent)'));
        }
      });
      det.appendChild(md);
    });
    pdiv.appendChild(det);
    ctx.appendChild(pdiv);
    var ediv = el('div');
    ediv.appendChild(el('div', 'lbl', 'Expected'));
    ediv.appendChild(el('pre', '', cs[C_EXPECTED] ? cs[C_EXPECTED] : '—'));
    ctx.appendChild(ediv);
    card.appendChild(ctx);

    // Side-by-side outputs.
    var panes = el('div', 'panes');
    shown.forEach(function (k) {
      var pane = el('section', 'pane');
      var ph = el('div', 'ph');
      ph.appendChild(el('span', 'dot tc' + (k % 10)));
      ph.appendChild(el('span', 'tname', targets[k]));
      pane.appendChild(ph);
      byT[k].forEach(function (r) {
        var rep = el('div', 'rep');
        var line = el('div', 'ph');
        if (r[R_EKIND]) { line.appendChild(pill('warn', 'ERROR')); }
        else { line.appendChild(r[R_PASS] ? pill('pass', 'PASS') : pill('fail', 'FAIL')); }
        if (byT[k].length > 1 || r[R_REP] > 0) { line.appendChild(pill('mute', '#' + r[R_REP])); }
        if (r[R_BASE] === 1 && !r[R_PASS]) { line.appendChild(pill('fail', 'regressed')); }
        else if (r[R_BASE] === 0 && r[R_PASS]) { line.appendChild(pill('pass', 'fixed')); }
        var facts = 'score ' + Number(r[R_SCORE]).toFixed(2) + ' · ' + fmtMs(r[R_LAT]);
        if (r[R_TTFT] > 0) { facts += ' · TTFT ' + fmtMs(r[R_TTFT]); }
        if (r[R_IN] || r[R_OUTTOK]) { facts += ' · ' + r[R_IN] + '→' + r[R_OUTTOK] + ' tok'; }
        if (r[R_COST] !== null && r[R_COST] !== undefined) { facts += ' · ' + fmtUSD(r[R_COST]); }
        line.appendChild(el('span', 'facts', facts));
        rep.appendChild(line);
        if (r[R_EKIND]) { rep.appendChild(el('div', 'err', r[R_EKIND] + (r[R_EMSG] ? ': ' + r[R_EMSG] : ''))); }
        if (r[R_REASON]) { rep.appendChild(el('div', 'reason', r[R_REASON])); }
        rep.appendChild(el('pre', 'out', r[R_OUT] === '' ? '(empty output)' : r[R_OUT]));
        var parts = r[R_PARTS];
        if (parts && parts.length > 1 || (parts && parts.length === 1 && parts[0][3])) {
          var ul = el('ul', 'parts');
          parts.forEach(function (pt) {
            ul.appendChild(el('li', '', (pt[2] ? '✓ ' : '✗ ') + pt[0] + ' ' + Number(pt[1]).toFixed(2) + (pt[3] ? ' — ' + pt[3] : '')));
          });
          rep.appendChild(ul);
        }
        pane.appendChild(rep);
      });
      panes.appendChild(pane);
    });
    card.appendChild(panes);
    return card;
  }

  function render(scroll) {
    var n = view.length, pages = Math.max(1, Math.ceil(n / PAGE));
    if (state.page >= pages) { state.page = pages - 1; }
    var from = state.page * PAGE, to = Math.min(n, from + PAGE);
    var frag = document.createDocumentFragment();
    for (var k = from; k < to; k++) { frag.appendChild(caseCard(view[k])); }
    if (n === 0) { frag.appendChild(el('div', 'empty', 'No cases match.')); }
    list.replaceChildren(frag);
    pinfo.textContent = 'Page ' + nf.format(state.page + 1) + ' of ' + nf.format(pages);
    prev.disabled = state.page === 0;
    next.disabled = next2.disabled = state.page >= pages - 1;
    foot.hidden = state.page >= pages - 1;
    status.textContent = n === 0 ? '' : 'Showing ' + nf.format(from + 1) + '–' + nf.format(to) + ' of ' + nf.format(n) + ' cases' +
      (n !== nC ? ' (' + nf.format(nC) + ' in the run)' : '') + ' · ' + nf.format(nR) + ' results';
    saveFragment();
    if (scroll) { box.scrollIntoView({block: 'start'}); }
  }

  // syncControls shows state in the toolbar (after a fragment was read).
  function syncControls() {
    chipEls.forEach(function (x) { x.setAttribute('aria-pressed', +x.getAttribute('data-flag') === state.mask ? 'true' : 'false'); });
    if (search.value !== state.q) { search.value = state.q; }
    if (sel) { sel.value = String(state.suite); }
  }

  function update() { compute(); syncControls(); render(false); }

  function applyFragment() {
    var st = fromFragment();
    state.mask = st.mask; state.suite = st.suite; state.q = st.q;
    compute();
    state.page = Math.min(st.page, Math.max(0, Math.ceil(view.length / PAGE) - 1));
    syncControls();
    render(false);
  }
  window.addEventListener('hashchange', function () { if (location.hash !== toFragment()) { applyFragment(); } });

  applyFragment();
  var tDone = performance.now();
  root.setAttribute('data-read-ms', String(Math.round(tRead - t0)));
  root.setAttribute('data-parse-ms', String(Math.round(tParsed - tRead)));
  root.setAttribute('data-index-ms', String(Math.round(tIndexed - tParsed)));
  root.setAttribute('data-render-ms', String(Math.round(tDone - tIndexed)));
  root.setAttribute('data-ready', String(Math.round(tDone)));
})();
