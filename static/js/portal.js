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
   reader reads them as one picture and their bars are not announced. A link inside an image would be a
   keyboard stop a screen reader cannot name (WCAG 4.1.2, axe «nested-interactive»), so a bar carries
   its address as data-href, not href; the same links are in the chart's data table («Xem bảng số liệu
   của biểu đồ»), where everyone can reach them. Here a bar is a mouse shortcut: a click opens the
   address (Ctrl/⌘ + click: a new tab). */
(function () {
  "use strict";
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

/* A form sent once is not sent again by a second click while the page waits for the answer: its
   submit buttons are marked busy (aria-disabled) and a second submit is ignored. The server does not rely on this (create forms
   carry a one-time key, khuyencong.submissions); it spares people the confusing second request.
   A form opened again from the back/forward cache is usable again. (No POST form of the portal answers
   with a file download, after which the page would stay as it is.) */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || form.method.toLowerCase() !== "post") { return; }
    if (form.getAttribute("data-sending") === "1") {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sending", "1");
    var buttons = form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-disabled", "true");
      buttons[i].classList.add("busy");
    }
  });
  window.addEventListener("pageshow", function () {
    var forms = document.querySelectorAll("form[data-sending]");
    for (var i = 0; i < forms.length; i++) {
      forms[i].removeAttribute("data-sending");
      var buttons = forms[i].querySelectorAll(".busy");
      for (var j = 0; j < buttons.length; j++) {
        buttons[j].removeAttribute("aria-disabled");
        buttons[j].classList.remove("busy");
      }
    }
  });
})();
