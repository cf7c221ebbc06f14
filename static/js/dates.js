/* The portal's date fields (khuyencong/dates.py) are typed as dd/mm/yyyy text, whatever the browser's
   language. This adds, after each, a button that opens the browser's own calendar (a hidden
   <input type="date">) and writes the chosen day back as dd/mm/yyyy. Without showPicker() (old
   browsers) or without JavaScript the text field works on its own. */
(function () {
  "use strict";
  var probe = document.createElement("input");
  probe.type = "date";
  if (probe.type !== "date" || typeof probe.showPicker !== "function") return;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function toIso(text) {
    var m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(text || "");
    if (m) return m[3] + "-" + pad(+m[2]) + "-" + pad(+m[1]);
    m = /^\s*(\d{4}-\d{2}-\d{2})\s*$/.exec(text || "");
    return m ? m[1] : "";
  }

  function enhance(field) {
    if (field.hasAttribute("data-date-ready")) return;
    field.setAttribute("data-date-ready", "");
    var wrap = document.createElement("span");
    wrap.className = "date-field";
    field.parentNode.insertBefore(wrap, field);
    wrap.appendChild(field);
    var picker = document.createElement("input");
    picker.type = "date";
    picker.tabIndex = -1;
    picker.className = "date-picker";
    picker.setAttribute("aria-hidden", "true");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "date-button";
    button.disabled = field.disabled || field.readOnly;
    var label = field.getAttribute("data-date-label") || "Chọn ngày trên lịch";
    button.setAttribute("aria-label", label);
    button.title = label;
    button.innerHTML = '<svg aria-hidden="true" focusable="false" width="16" height="16" viewBox="0 0 16 16">' +
      '<rect x="1.5" y="3" width="13" height="11.5" rx="1.5" fill="none" stroke="currentColor"/>' +
      '<path d="M1.5 6.5h13M5 1.5v3M11 1.5v3" stroke="currentColor"/></svg>';
    wrap.appendChild(button);
    wrap.appendChild(picker);
    button.addEventListener("click", function () {
      picker.value = toIso(field.value);
      try { picker.showPicker(); } catch (e) { field.focus(); }
    });
    picker.addEventListener("change", function () {
      if (!picker.value) return;
      var p = picker.value.split("-");
      field.value = p[2] + "/" + p[1] + "/" + p[0];
      field.dispatchEvent(new Event("input", { bubbles: true }));
      field.dispatchEvent(new Event("change", { bubbles: true }));
      field.focus();
    });
  }

  function enhanceAll(root) {
    var fields = (root || document).querySelectorAll("input[data-date]");
    for (var i = 0; i < fields.length; i++) enhance(fields[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhanceAll(document); });
  } else {
    enhanceAll(document);
  }
  document.addEventListener("htmx:load", function (event) { enhanceAll(event.target); });
  window.kcDates = { enhance: enhanceAll };  // rows added by a page's own script
})();
