/* The mission form (reports/inspection/mission_form.html). Enter in a field of the form saves it (its
   default button, the first one, is «Lưu đoàn kiểm tra»); Enter in a field of the đề án filter
   (<fieldset data-enter-button>) presses that filter's own button instead, as the user expects there. */
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.isComposing || event.target.tagName !== "INPUT") return;
    var box = event.target.closest("[data-enter-button]");
    var button = box && box.querySelector("button[type=submit]");
    if (!button) return;
    event.preventDefault();
    button.click();
  });
})();

/* The mission form's lists of ticked boxes, provinces and đề án (reports/inspection/_pick_list.html):
   a text box filters the list as one types — every word typed must appear, with or without diacritics
   (đ as d) — and the status line says how many boxes are ticked and, while filtering, how many rows
   show. A ticked row hidden by the filter stays ticked (and is sent). Enter in the filter box does not
   send the form. Without JavaScript the filter box stays hidden and the whole list shows. The texts
   come from the fieldset's data-count-template ({n}), data-shown-template ({shown}, {total}) and
   data-none-template ({q}), translated by the server. */
(function () {
  "use strict";
  function fold(text) {
    var t = String(text || "");
    if (t.normalize) t = t.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
    return t.replace(/[đĐ]/g, "d").toLowerCase();
  }
  function setUp(list) {
    var filter = list.querySelector("[data-pick-filter]");
    var count = list.querySelector("[data-pick-count]");
    var none = list.querySelector("[data-pick-none]");
    var items = [], keys = [];
    var all = list.querySelectorAll(".pick-options li");
    for (var i = 0; i < all.length; i++) {
      if (all[i].querySelector("input[type=checkbox]")) {
        items.push(all[i]);
        keys.push(fold(all[i].textContent));
      }
    }
    function refresh() {
      var typed = filter ? filter.value.trim() : "";
      var words = fold(typed).split(/\s+/).filter(Boolean);
      var shown = 0, ticked = 0;
      for (var i = 0; i < items.length; i++) {
        if (items[i].querySelector("input[type=checkbox]").checked) ticked++;
        var match = true;
        for (var w = 0; w < words.length && match; w++) match = keys[i].indexOf(words[w]) !== -1;
        items[i].hidden = !match;
        if (match) shown++;
      }
      if (count) {
        var text = (list.getAttribute("data-count-template") || "{n}").replace("{n}", String(ticked));
        if (words.length) {
          text += " · " + (list.getAttribute("data-shown-template") || "{shown}/{total}")
            .replace("{shown}", String(shown)).replace("{total}", String(items.length));
        }
        if (count.textContent !== text) count.textContent = text;
      }
      var options = list.querySelector(".pick-options");
      if (options && items.length) options.hidden = shown === 0;  /* no empty box under «none match» */
      if (none) {
        none.hidden = !(words.length && shown === 0);
        none.textContent = none.hidden ? "" : (list.getAttribute("data-none-template") || "").replace("{q}", typed);
      }
    }
    if (filter) {
      filter.closest(".pick-filter").hidden = false;
      filter.addEventListener("input", refresh);
      filter.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.isComposing) event.preventDefault();
      });
    }
    list.addEventListener("change", function (event) {
      if (event.target.type === "checkbox") refresh();
    });
    refresh();
    refreshers.push(refresh);
  }
  var refreshers = [];
  function start() {
    var lists = document.querySelectorAll("[data-pick-list]");
    for (var i = 0; i < lists.length; i++) setUp(lists[i]);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  /* Shown again from the back/forward cache: the boxes may have changed since. */
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) refreshers.forEach(function (refresh) { refresh(); });
  });
})();
