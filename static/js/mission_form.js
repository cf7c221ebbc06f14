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
   data-none-template ({q}), translated by the server.
   The đề án list follows the provinces ticked in the list named by its data-province-source: a box
   shows only while its data-province (the đề án's current province) is ticked there — or while it is
   ticked itself, marked with data-outside-template, so nothing ticked is ever hidden (the server refuses
   it by name) — and while no province is ticked the list gives way to its hint ([data-pick-hint]).
   Rows of unticked provinces are neither shown nor counted as matches. The script enables the list's
   hidden [data-pick-scripted] input: a page sent back from here gets every province's đề án (without
   JavaScript, only those of the ticked provinces: the server cannot hide rows). */
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
    var hint = list.querySelector("[data-pick-hint]");
    var scripted = list.querySelector("[data-pick-scripted]");
    var sourceId = list.getAttribute("data-province-source");
    var source = sourceId ? document.getElementById(sourceId) : null;
    if (scripted) scripted.disabled = false;
    var items = [], keys = [], boxes = [], notes = [];
    var all = list.querySelectorAll(".pick-options li");
    for (var i = 0; i < all.length; i++) {
      var box = all[i].querySelector("input[type=checkbox]");
      if (box) {
        items.push(all[i]);
        keys.push(fold(all[i].textContent));
        boxes.push(box);
        notes.push(null);
      }
    }
    function tickedProvinces() {
      if (!source) return null;
      var ticked = {}, any = false;
      var sent = source.querySelectorAll("input[type=checkbox]");
      for (var i = 0; i < sent.length; i++) {
        if (sent[i].checked) { ticked[sent[i].value] = true; any = true; }
      }
      return {ids: ticked, any: any};
    }
    function mark(i, outside) {
      if (!outside && !notes[i]) return;
      if (!notes[i]) {
        notes[i] = document.createElement("span");
        notes[i].className = "field-error";
        notes[i].textContent = " " + (list.getAttribute("data-outside-template") || "");
        items[i].querySelector("label").appendChild(notes[i]);
      }
      notes[i].hidden = !outside;
    }
    function refresh() {
      var typed = filter ? filter.value.trim() : "";
      var words = fold(typed).split(/\s+/).filter(Boolean);
      var provinces = tickedProvinces();
      var shown = 0, ticked = 0, total = 0;
      for (var i = 0; i < items.length; i++) {
        var checked = boxes[i].checked;
        if (checked) ticked++;
        var theirs = !provinces || provinces.ids[boxes[i].getAttribute("data-province")] === true;
        mark(i, checked && !theirs);
        var match = theirs || checked;
        if (match) total++;
        for (var w = 0; w < words.length && match; w++) match = keys[i].indexOf(words[w]) !== -1;
        items[i].hidden = !match;
        if (match) shown++;
      }
      var noProvince = Boolean(provinces && !provinces.any);  /* the đề án list waits for a province */
      if (count) {
        var text = (list.getAttribute("data-count-template") || "{n}").replace("{n}", String(ticked));
        if (words.length && total) {
          text += " · " + (list.getAttribute("data-shown-template") || "{shown}/{total}")
            .replace("{shown}", String(shown)).replace("{total}", String(total));
        }
        if (count.textContent !== text) count.textContent = text;
      }
      var options = list.querySelector(".pick-options");
      if (options) options.hidden = items.length ? shown === 0 : noProvince;  /* no empty box under a message */
      if (hint) hint.hidden = !noProvince;
      if (none) {
        var message = "";
        if (provinces && !total && items.length && !noProvince) {
          message = list.getAttribute("data-empty-template") || "";
        } else if (words.length && total && !shown) {
          message = (list.getAttribute("data-none-template") || "").replace("{q}", typed);
        }
        none.hidden = !message;
        if (none.textContent !== message) none.textContent = message;
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
    if (source) {
      source.addEventListener("change", function (event) {
        if (event.target.type === "checkbox") refresh();
      });
    }
    refresh();
    refreshers.push(refresh);
  }
  var refreshers = [];
  function start() {
    var lists = document.querySelectorAll("[data-pick-list]");
    for (var i = 0; i < lists.length; i++) setUp(lists[i]);
    var notes = document.querySelectorAll(".de-an-filter [data-without-js]");  /* «tick provinces, then Lọc» */
    for (var j = 0; j < notes.length; j++) notes[j].hidden = true;
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
