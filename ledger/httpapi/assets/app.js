// The agreement ledger's page: plain JavaScript, no build step. The server
// renders the agreements list, the view of one agreement (timeline SVG,
// state table, conflicts) and the avails view (bands per party, the deal
// calendar beside them) as HTML fragments; this script asks for them as the
// controls change, and shows the details of what the pointer is on.
(function () {
  'use strict';

  var $ = function (sel, el) { return (el || document).querySelector(sel); };
  var state = { agreement: '', at: '', knownAt: '', range: 'all', view: '', product: '', channel: '' };
  var seq = 0;
  var pinned = null;
  var STATE_COL = 380, GAP = 16, PAD = 16;

  function today() { return new Date().toISOString().slice(0, 10); }
  function validDate(s) { return /^\d{4}-\d{2}-\d{2}$/.test(s); }

  function readHash() {
    var p = new URLSearchParams(location.hash.slice(1));
    state.agreement = p.get('agreement') || '';
    state.at = validDate(p.get('at') || '') ? p.get('at') : today();
    state.knownAt = validDate(p.get('known_at') || '') ? p.get('known_at') : '';
    state.range = p.get('range') || 'all';
    state.view = p.get('view') === 'avails' ? 'avails' : '';
    state.product = p.get('product') || '';
    state.channel = p.get('channel') || '';
  }

  function writeHash() {
    var p = new URLSearchParams();
    if (state.agreement) p.set('agreement', state.agreement);
    p.set('at', state.at);
    if (state.knownAt) p.set('known_at', state.knownAt);
    if (state.range !== 'all') p.set('range', state.range);
    if (state.view === 'avails') {
      p.set('view', 'avails');
      p.set('product', state.product);
      p.set('channel', state.channel);
    }
    history.replaceState(null, '', '#' + p.toString());
  }

  function token() {
    try { return localStorage.getItem('ledger-token') || ''; } catch (e) { return ''; }
  }

  function get(url) {
    var headers = { 'Accept': 'text/html' };
    var t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    return fetch(url, { headers: headers }).then(function (res) {
      return res.text().then(function (text) {
        if (res.status === 401) {
          askToken();
        }
        if (!res.ok) {
          var msg = text;
          try { msg = JSON.parse(text).error.message; } catch (e) { /* not JSON */ }
          throw new Error(msg);
        }
        return text;
      });
    });
  }

  function params(extra) {
    var p = new URLSearchParams();
    p.set('at', state.at);
    // "Known at" a day means by the end of that day.
    if (state.knownAt) p.set('known_at', state.knownAt + 'T23:59:59.999Z');
    Object.keys(extra || {}).forEach(function (k) { if (extra[k]) p.set(k, extra[k]); });
    return p.toString();
  }

  function shiftYears(date, years) {
    var d = new Date(date + 'T00:00:00Z');
    d.setUTCFullYear(d.getUTCFullYear() + years);
    return d.toISOString().slice(0, 10);
  }

  // chartWidth is the width to draw the timeline at: that of the chart's
  // box when one is shown, else what the layout will give it.
  function chartWidth() {
    var chart = $('#view .chart');
    if (chart && chart.clientWidth > 0) return Math.max(480, chart.clientWidth);
    var main = $('#main');
    return Math.max(480, Math.floor(main.clientWidth - STATE_COL - GAP - 2 * PAD - 2));
  }

  function showError(msg) {
    var el = $('#error');
    el.textContent = msg || '';
    el.hidden = !msg;
  }

  function refresh() {
    var my = ++seq;
    writeHash();
    document.body.dataset.state = 'loading';
    showError('');
    var list = get('/ui/agreements?' + params()).then(function (html) {
      if (my !== seq) return;
      $('#agreements').innerHTML = html;
      markSelected();
    });
    var view = Promise.resolve();
    if (state.view === 'avails') {
      // The window: the axis range around the date shown (five years each
      // way for the whole history).
      var n = state.range === 'all' ? 5 : parseInt(state.range, 10);
      var q = { product: state.product, channel: state.channel, from: shiftYears(state.at, -n), to: shiftYears(state.at, n), width: String(chartWidth()) };
      view = showView(my, '/ui/avails?' + params(q));
    } else if (state.agreement) {
      var extra = { width: String(chartWidth()) };
      if (state.range !== 'all') {
        var n = parseInt(state.range, 10);
        extra.from = shiftYears(state.at, -n);
        extra.to = shiftYears(state.at, n);
      }
      view = showView(my, '/ui/view/' + encodeURIComponent(state.agreement) + '?' + params(extra));
    }
    Promise.all([list, view]).then(function () {
      if (my === seq) document.body.dataset.state = 'ready';
    }, function (err) {
      if (my !== seq) return;
      showError(err.message);
      document.body.dataset.state = 'error';
    });
  }

  // showView puts the fragment at url in the view, or what went wrong, unless
  // a later load (seq) has begun since load my.
  function showView(my, url) {
    return get(url).then(function (html) {
      if (my !== seq) return;
      $('#view').innerHTML = html;
      pinned = null;
    }, function (err) {
      if (my !== seq) return;
      $('#view').innerHTML = '';
      var p = document.createElement('p');
      p.className = 'empty';
      p.textContent = err.message;
      $('#view').appendChild(p);
    });
  }

  function markSelected() {
    document.querySelectorAll('#agreements .agreement').forEach(function (b) {
      var on = state.view !== 'avails' && b.dataset.agreement === state.agreement;
      b.classList.toggle('selected', on);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    });
  }

  // showDetail shows the templates named by detail: one id, or several
  // separated by spaces (a marker of amendments effective at one instant).
  function showDetail(detail) {
    var box = $('#detail');
    var tpls = (detail || '').split(' ').map(function (id) { return id && document.getElementById(id); });
    if (!box || !tpls.length || !tpls.every(Boolean)) return;
    box.innerHTML = '';
    tpls.forEach(function (tpl) { box.appendChild(tpl.content.cloneNode(true)); });
    document.querySelectorAll('#view .hl').forEach(function (el) { el.classList.remove('hl'); });
    document.querySelectorAll('#view [data-detail="' + detail + '"]').forEach(function (el) { el.classList.add('hl'); });
  }

  function setAt(date) {
    if (!validDate(date)) return;
    state.at = date;
    $('#as-of').value = date;
    refresh();
  }

  function init() {
    readHash();
    $('#as-of').value = state.at;
    $('#known-at').value = state.knownAt;
    $('#range').value = state.range;
    $('#av-product').value = state.product;
    $('#av-channel').value = state.channel;
    $('#avails-form').addEventListener('submit', function (e) {
      e.preventDefault();
      state.product = $('#av-product').value.trim();
      state.channel = $('#av-channel').value.trim();
      state.view = 'avails';
      markSelected();
      refresh();
    });

    $('#as-of').addEventListener('change', function (e) { setAt(e.target.value); });
    $('#today').addEventListener('click', function () { setAt(today()); });
    $('#known-at').addEventListener('change', function (e) {
      state.knownAt = validDate(e.target.value) ? e.target.value : '';
      refresh();
    });
    $('#known-all').addEventListener('click', function () {
      state.knownAt = '';
      $('#known-at').value = '';
      refresh();
    });
    $('#range').addEventListener('change', function (e) { state.range = e.target.value; refresh(); });

    $('#agreements').addEventListener('click', function (e) {
      var b = e.target.closest('.agreement');
      if (!b) return;
      state.agreement = b.dataset.agreement;
      state.view = '';
      markSelected();
      refresh();
    });

    var view = $('#view');
    view.addEventListener('mouseover', function (e) {
      var el = e.target.closest('[data-detail]');
      if (el && !pinned) showDetail(el.dataset.detail);
    });
    view.addEventListener('focusin', function (e) {
      var el = e.target.closest('[data-detail]');
      if (el && !pinned) showDetail(el.dataset.detail);
    });
    view.addEventListener('click', function (e) {
      var hit = e.target.closest('.axis-hit');
      if (hit) {
        var svg = hit.ownerSVGElement;
        var r = svg.getBoundingClientRect();
        var x = (e.clientX - r.left) * (svg.width.baseVal.value / r.width);
        var x0 = +svg.dataset.x0, x1 = +svg.dataset.x1, t0 = +svg.dataset.t0, t1 = +svg.dataset.t1;
        var t = t0 + (x - x0) / (x1 - x0) * (t1 - t0);
        setAt(new Date(t).toISOString().slice(0, 10));
        return;
      }
      var el = e.target.closest('[data-detail]');
      if (!el) return;
      pinned = pinned === el.dataset.detail ? null : el.dataset.detail;
      showDetail(el.dataset.detail);
    });

    var resizeTimer = 0;
    window.addEventListener('resize', function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () { if (state.agreement || state.view) refresh(); }, 250);
    });

    $('#auth-form').addEventListener('submit', function () {
      var t = $('#auth-token').value.trim();
      try { localStorage.setItem('ledger-token', t); } catch (e) { /* private mode */ }
      setTimeout(refresh, 0);
    });

    refresh();
  }

  function askToken() {
    var d = $('#auth');
    if (d && !d.open && d.showModal) d.showModal();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
