/* Behaviour every page of the portal shares (no inline scripts anywhere: the Content-Security-Policy
   allows scripts from the portal's own static files only).

   Confirmation before a destructive or irreversible action: a <form data-confirm="…"> or its submit
   <button data-confirm="…"> asks the question first; «Cancel» sends nothing. The question is ordinary
   (HTML-escaped) attribute text, so a quote in a translation cannot break it. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();

/* Charts (dashboards/charts.py) are images: role="img" with a title and a description, so a screen
   reader reads them as one picture and their bars are not announced. Their bars also link to the
   matching đề án list, and a link inside an image is a keyboard stop that a screen reader cannot name
   (WCAG 4.1.2, axe «nested-interactive»). The same links are in the chart's data table
   («Xem bảng số liệu của biểu đồ»), where everyone can reach them; in the picture a bar stays a mouse
   shortcut: it loses its href (no tab stop) and a click opens the same address (Ctrl/⌘ + click: a new tab). */
(function () {
  "use strict";
  function unlinkCharts(root) {
    var links = (root || document).querySelectorAll("svg.chart[role=img] a[href]");
    for (var i = 0; i < links.length; i++) {
      links[i].setAttribute("data-href", links[i].getAttribute("href"));
      links[i].removeAttribute("href");
    }
  }
  unlinkCharts(document);
  document.addEventListener("htmx:afterSettle", function (event) { unlinkCharts(event.target); });
  document.addEventListener("click", function (event) {
    var bar = event.target.closest && event.target.closest("svg.chart a[data-href]");
    if (!bar) { return; }
    var url = bar.getAttribute("data-href");
    if (event.ctrlKey || event.metaKey) {
      window.open(url, "_blank", "noopener");
    } else {
      window.location.assign(url);
    }
  });
})();
