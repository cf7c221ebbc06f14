/* «Thêm thành viên» (mission form) and «Thêm kiến nghị» (biên bản form): a formset row added in place,
   without saving and opening the page again. The new row is the formset's empty form, rendered by the
   server in <template id="…"> with «__prefix__» for its index and «__num__» for its number in the
   labels («Họ và tên, thành viên 5»); the formset's TOTAL_FORMS goes up by one and the focus moves to the
   new row's first field. The box <p data-add-row="prefix" data-template="…" data-rows="tbody id"
   data-full="…"> holds the button (type="button", hidden until this script runs) and a status line
   saying when the formset is full (MAX_NUM_FORMS). Without JavaScript the button stays hidden, the
   page's empty rows are there and its [data-without-js] help says to save and open the page again. */
(function () {
  "use strict";
  function setUp(box) {
    var prefix = box.getAttribute("data-add-row");
    var template = document.getElementById(box.getAttribute("data-template"));
    var rows = document.getElementById(box.getAttribute("data-rows"));
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var max = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
    var button = box.querySelector("button[type=button]");
    var status = box.querySelector("[data-add-row-status]");
    if (!template || !("content" in template) || !rows || !total || !button) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var n = Number(total.value);
      if (max && n >= Number(max.value)) {
        if (status) status.textContent = box.getAttribute("data-full") || "";
        return;
      }
      var holder = document.createElement("tbody");
      holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(n)).replace(/__num__/g, String(n + 1));
      var row = holder.querySelector("tr");
      if (!row) return;
      rows.appendChild(row);
      total.value = String(n + 1);
      if (status) status.textContent = "";
      if (window.kcDates) window.kcDates.enhance(row);  /* the calendar button of its date field */
      var first = row.querySelector("input:not([type=hidden]):not([type=checkbox]), textarea, select");
      if (first) first.focus();
    });
  }
  function start() {
    var boxes = document.querySelectorAll("[data-add-row][data-template]");
    if (!boxes.length) return;
    for (var i = 0; i < boxes.length; i++) setUp(boxes[i]);
    var notes = document.querySelectorAll("[data-without-js]");
    for (var j = 0; j < notes.length; j++) notes[j].hidden = true;
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
