// Report table: expand a finding's detail, sort by column, filter by text / indicator / rule. No libraries.
(function () {
  "use strict";
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

  var rank = { critical: 0, warning: 1, info: 2, error: 3 };
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
  function applyFilters() {
    var q = (text.value || "").toLowerCase(), ind = indicator.value, c = code.value, shown = 0;
    groups.forEach(function (g) {
      var hay = [g.dataset.file, g.dataset.order, g.dataset.drug, g.dataset.code, g.dataset.summary].join(" ").toLowerCase();
      var ok = (!q || hay.indexOf(q) >= 0) && (!ind || g.dataset.indicator === ind) && (!c || g.dataset.code === c);
      g.hidden = !ok;
      if (ok) { shown += 1; }
    });
    status.textContent = shown + " of " + groups.length + " rows";
  }
  [text, indicator, code].forEach(function (el) { el.addEventListener("input", applyFilters); });
})();
