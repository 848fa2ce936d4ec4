// Report table: expand a finding's detail, sort by column, filter by text / indicator / rule, show or hide
// the rows of clean order sets, and group the rows by patient when printing (a page per patient). No libraries.
// Without JavaScript every row is shown in report order.
(function () {
  "use strict";
  document.querySelectorAll("[data-now]").forEach(function (el) {
    el.textContent = new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC";
  });
  var table = document.getElementById("results");
  if (!table) { return; }
  var groups = Array.prototype.slice.call(table.querySelectorAll("tbody.row-group"));
  var status = document.getElementById("filter-status");

  table.addEventListener("click", function (ev) {
    var button = ev.target.closest("button.toggle");
    if (button) {
      var panel = document.getElementById(button.getAttribute("aria-controls"));
      var open = button.getAttribute("aria-expanded") === "true";
      button.setAttribute("aria-expanded", open ? "false" : "true");
      panel.hidden = open;
      return;
    }
    var sorter = ev.target.closest("button[data-sort]");
    if (sorter) { sortBy(sorter); }
  });

  var rank = { critical: 0, warning: 1, info: 2, error: 3, clean: 4 };
  function sortBy(button) {
    var key = button.getAttribute("data-sort");
    var th = button.closest("th");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("thead th").forEach(function (h) { if (h.hasAttribute("aria-sort")) { h.setAttribute("aria-sort", "none"); } });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var sorted = groups.slice().sort(function (a, b) {
      var x = a.dataset[key] || "", y = b.dataset[key] || "";
      var c = key === "indicator" ? rank[x] - rank[y] : x.localeCompare(y, undefined, { numeric: true });
      if (c === 0) { c = groups.indexOf(a) - groups.indexOf(b); }
      return ascending ? c : -c;
    });
    sorted.forEach(function (g) { table.appendChild(g); });
  }

  var text = document.getElementById("filter-text");
  var indicator = document.getElementById("filter-indicator");
  var code = document.getElementById("filter-code");
  var showClean = document.getElementById("show-clean");
  function applyFilters() {
    var q = (text.value || "").toLowerCase(), ind = indicator.value, c = code.value, shown = 0, hiddenClean = 0;
    groups.forEach(function (g) {
      var d = g.dataset;
      var hay = [d.patient, d.order, d.drug, d.code, d.summary].join(" ").toLowerCase();
      var clean = d.indicator === "clean";
      var ok = (!q || hay.indexOf(q) >= 0) && (!ind || d.indicator === ind) && (!c || d.code === c);
      if (ok && clean && !showClean.checked) { ok = false; hiddenClean += 1; }
      g.hidden = !ok;
      if (ok) { shown += 1; }
    });
    status.textContent = shown + " of " + groups.length + " rows shown" +
      (hiddenClean ? "; " + hiddenClean + " clean hidden" : "");
  }
  [text, indicator, code, showClean].forEach(function (el) { el.addEventListener("input", applyFilters); });
  showClean.addEventListener("change", applyFilters);
  applyFilters();

  // Printing: the visible rows grouped by order set (one patient each), groups in the order of their first
  // row (so the patients with critical findings come first), each group starting a new page.
  var before = null;
  function printLayout() {
    if (before) { return; }
    before = groups.filter(function (g) { return g.parentNode === table; });
    var order = [], byKey = {};
    before.forEach(function (g) {
      var key = g.dataset.file + "\u0000" + g.dataset.set;
      if (!byKey[key]) { byKey[key] = []; order.push(key); }
      byKey[key].push(g);
    });
    var first = true;
    order.forEach(function (key) {
      var start = true;
      byKey[key].forEach(function (g) {
        g.classList.toggle("patient-break", start && !first && !g.hidden);
        if (!g.hidden) { start = false; first = false; }
        table.appendChild(g);
      });
    });
  }
  function screenLayout() {
    if (!before) { return; }
    before.forEach(function (g) { g.classList.remove("patient-break"); table.appendChild(g); });
    before = null;
  }
  window.addEventListener("beforeprint", printLayout);
  window.addEventListener("afterprint", screenLayout);
  var media = window.matchMedia("print");
  var onMedia = function (e) { if (e.matches) { printLayout(); } else { screenLayout(); } };
  if (media.addEventListener) { media.addEventListener("change", onMedia); } else { media.addListener(onMedia); }
})();
