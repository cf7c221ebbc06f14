/* Behaviour every page of the portal shares (no inline scripts anywhere: the Content-Security-Policy
   allows scripts from the portal's own static files only).

   Confirmation before a destructive or irreversible action: a <form data-confirm="…"> or its submit
   <button data-confirm="…"> asks the question first; «Cancel» sends nothing. The question is ordinary
   (HTML-escaped) attribute text, so a quote in a translation cannot break it. */
(function () {
  "use strict";
  /* A button that acts on ticked rows says how many: data-confirm-count names the checkboxes (those of
     the button's form, also when they sit outside it with form="…"), data-confirm-template is the
     question with {n} (their number) and {so} (the value of the field data-confirm-number names), and
     data-confirm-none is said instead of asking when nothing is ticked. When every ticked box carries
     data-national (an amount in integer đồng), data-confirm-total-template is asked instead, with {total}
     their sum as the portal writes money («1.250.000.000 đ»); a box without it falls back to the first. */
  function dong(amount) { return String(amount).replace(/\B(?=(\d{3})+(?!\d))/g, ".") + " đ"; }
  function countedQuestion(button, form) {
    var name = button.getAttribute("data-confirm-count");
    if (!name) { return null; }
    var n = 0;
    var total = 0;
    var boxes = document.querySelectorAll("input[type=checkbox][name='" + name + "']");
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].checked && boxes[i].form === form) {
        n++;
        var amount = boxes[i].getAttribute("data-national");
        total = total !== null && amount !== null && /^\d+$/.test(amount) ? total + Number(amount) : null;
      }
    }
    if (n === 0) { return {none: button.getAttribute("data-confirm-none")}; }
    var field = document.getElementById(button.getAttribute("data-confirm-number") || "");
    var number = field && field.value.trim() ? field.value.trim() : "…";
    var template = button.getAttribute("data-confirm-template");
    var withTotal = button.getAttribute("data-confirm-total-template");
    if (withTotal && total !== null && Number.isSafeInteger(total)) { template = withTotal; }
    var values = {n: String(n), so: number, total: total === null ? "" : dong(total)};
    /* One pass, so a decision number that holds «{n}» or «$&» is quoted as typed. */
    return {question: template.replace(/\{(n|so|total)\}/g, function (match, key) { return values[key]; })};
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    var counted = button ? countedQuestion(button, form) : null;
    if (counted && counted.none) {
      window.alert(counted.none);
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    if (counted) { question = counted.question; }
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  /* A header checkbox data-select-all="ids" (data-select-form="…": only the boxes of that form) ticks or
     clears every box of that name on the page. */
  document.addEventListener("change", function (event) {
    var all = event.target;
    var name = all.getAttribute && all.getAttribute("data-select-all");
    if (!name) { return; }
    var formId = all.getAttribute("data-select-form");
    var boxes = document.querySelectorAll("input[type=checkbox][name='" + name + "']");
    for (var i = 0; i < boxes.length; i++) {
      if (!formId || (boxes[i].form && boxes[i].form.id === formId)) { boxes[i].checked = all.checked; }
    }
  });
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

/* A form field shown only for some values of another field of its form: data-show-when="kind=national
   province" on the control hides its .field box (the hidden attribute: also out of the accessibility
   tree) while the form's «kind» has another value. Without JavaScript every field shows. */
(function () {
  "use strict";
  function update(form) {
    var dependants = form.querySelectorAll("[data-show-when]");
    for (var i = 0; i < dependants.length; i++) {
      var rule = dependants[i].getAttribute("data-show-when").split("=");
      var control = form.elements[rule[0]];
      var box = dependants[i].closest(".field") || dependants[i];
      if (!control) { continue; }
      box.hidden = (rule[1] || "").split(" ").indexOf(control.value) === -1;
    }
  }
  function updateAll() {
    var forms = document.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].querySelector("[data-show-when]")) { update(forms[i]); }
    }
  }
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.querySelector("[data-show-when]")) { update(form); }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", updateAll);
  } else {
    updateAll();
  }
  window.addEventListener("pageshow", updateAll);  /* a page shown again from the back/forward cache */
})();

/* A table (or a dashboard chart) wider than the screen scrolls inside itself (portal.css, phones): such
   a box becomes a keyboard stop (tabindex="0") so it can be scrolled with the arrow keys in every
   browser, named by its caption (a chart: its title) for screen readers (WCAG 2.1.1, axe «scrollable-region-focusable»). Tables that fit are left
   alone, so wide screens get no extra tab stops. */
(function () {
  "use strict";
  function mark() {
    var tables = document.querySelectorAll("table.data, .table-scroll, .dash-chart");
    for (var i = 0; i < tables.length; i++) {
      var el = tables[i];
      var scrolls = el.scrollWidth > el.clientWidth + 1;
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.setAttribute("data-scroll-stop", "1");
        var caption = el.querySelector("caption") || el.querySelector("svg > title");
        if (caption && !el.hasAttribute("aria-label")) {
          el.setAttribute("aria-label", caption.textContent.trim());
        }
      } else if (!scrolls && el.getAttribute("data-scroll-stop") === "1") {
        el.removeAttribute("tabindex");
        el.removeAttribute("data-scroll-stop");
      }
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mark);
  } else {
    mark();
  }
  var pending = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(mark, 150);
  });
})();

/* A notification marked read in place (htmx swaps its row): the focused button is gone with the old
   row, so the focus moves to the next unread notification's button, or to the page heading when none
   is left; the status region (notif-status) says what happened. */
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || !target.id || target.id.indexOf("tb-") !== 0) { return; }
    var row = document.getElementById(target.id);
    var next = null;
    for (var el = row && row.nextElementSibling; el && !next; el = el.nextElementSibling) {
      if (el.classList.contains("unread")) { next = el.querySelector("button"); }
    }
    (next || document.getElementById("notif-heading") || document.body).focus();
  });
})();
