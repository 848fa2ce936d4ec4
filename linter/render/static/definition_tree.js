// Order-set definition tree: a finding on an action opens its detail in the results table. No libraries.
(function () {
  "use strict";
  document.querySelectorAll(".definition-tree").forEach(function (tree) {
    tree.addEventListener("click", function (ev) {
      var link = ev.target.closest("a[data-finding-row]");
      if (!link) { return; }
      var id = link.getAttribute("data-finding-row");
      var panel = document.getElementById(id + "-detail");
      if (!panel) { return; }
      ev.preventDefault();
      var group = panel.closest("tbody");
      if (group) { group.hidden = false; }
      panel.hidden = false;
      var button = group ? group.querySelector("button.toggle") : null;
      if (button) { button.setAttribute("aria-expanded", "true"); button.focus(); }
      panel.scrollIntoView({ block: "start" });
    });
  });
})();
