/* The đề án form (projects/form.html): live totals of the budget lines in đồng, «+ Thêm …» rows of the
   two formsets, and the new-beneficiary fields shown only while no existing establishment is chosen. */
(function () {
  // Live totals in đồng, read as the server reads them (khuyencong/formatting.py parse_money, unit
  // đồng): "1.500.000", "1 500 000 đ", "1,5 triệu", "45,5 triệu đồng", "2,5 tỷ", "250 nghìn", "1.234.567 VNĐ".
  // Returns whole đồng, or null for what the server refuses (negative, ambiguous "1,500" or "1.5",
  // English "1,500,000", a fraction of a đồng, 10^16 đồng and more) or cannot read at all.
  var TEXT_UNITS = [[/(tỷ|tỉ)(đồng|đ)?$/i, 9], [/(triệu)(đồng|đ)?$/i, 6], [/(nghìn|ngàn)(đồng|đ)?$/i, 3]];
  var VN_NUMBER = /^\d{1,3}(\.\d{3})+(,\d+)?$|^\d+(,\d+)?$/;
  function parse(value) {
    var text = String(value || "");
    if (text.normalize) text = text.normalize("NFC");
    text = text.replace(/\u00a0/g, " ").replace(/ /g, "").trim();
    var exponent = 0;
    for (var i = 0; i < TEXT_UNITS.length; i++) {
      var m = TEXT_UNITS[i][0].exec(text);
      if (m) { text = text.slice(0, m.index); exponent = TEXT_UNITS[i][1]; break; }
    }
    text = text.replace(/(đồng|đ|vnđ|vnd|dong)$/i, "");
    if (!text || /^[-\u2212\u2013\u2014(]/.test(text)) return null;  // empty after the unit, or negative
    if (text.charAt(0) === "+") text = text.slice(1);
    if (!VN_NUMBER.test(text)) return null;
    if (/^[1-9]\d{0,2},\d{3}$/.test(text)) return null;  // "1,500": 1.500 or 1,5?
    var parts = text.replace(/\./g, "").split(",");
    var whole = parts[0], fraction = (parts[1] || "").replace(/0+$/, "");
    if (fraction.length > exponent) return null;  // a fraction of a đồng
    while (fraction.length < exponent) fraction += "0";
    var digits = (whole + fraction).replace(/^0+(?=\d)/, "");
    if (digits.length > 16) return null;  // 10^16 đồng and more: a typing or unit error
    return Number(digits);
  }
  function fmt(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ".") + " đ"; }
  // A line whose amount cannot be read is not left out silently: its source's total and the grand total
  // say they are incomplete (#live-totals data-incomplete, translated in the template).
  function recompute() {
    var totals = {}, all = 0, unread = {}, anyUnread = false;
    document.querySelectorAll("#line-rows tr").forEach(function (row) {
      var del = row.querySelector("input[name$='-DELETE']");
      if (del && del.checked) return;
      var amount = row.querySelector("input[name$='-amount']"), source = row.querySelector("select[name$='-source']");
      if (!amount || !source || !amount.value.trim()) return;
      var n = parse(amount.value);
      if (n === null) { unread[source.value] = anyUnread = true; return; }
      totals[source.value] = (totals[source.value] || 0) + n; all += n;
    });
    var box = document.getElementById("live-totals");
    var note = box ? box.getAttribute("data-incomplete") || "" : "";
    document.querySelectorAll("[data-total]").forEach(function (el) {
      var key = el.getAttribute("data-total");
      var text = fmt(key === "all" ? all : (totals[key] || 0));
      if (note && (key === "all" ? anyUnread : unread[key])) text += " " + note;
      if (el.textContent !== text) el.textContent = text;
    });
  }
  function addRow(prefix, containerId, rowSelector) {
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var rows = document.querySelectorAll("#" + containerId + " " + rowSelector);
    var last = rows[rows.length - 1], n = Number(total.value);
    var clone = last.cloneNode(true);
    var re = new RegExp(prefix + "-\\d+-", "g");
    clone.innerHTML = clone.innerHTML.replace(re, prefix + "-" + n + "-");
    // The row's number in its legend and labels («Cơ sở 2», «Số tiền (đồng), dòng 3»; «line 3» in
    // English): the last number of the text, whatever the language.
    clone.querySelectorAll("legend, label").forEach(function (el) {
      if (el.children.length) return;  // a label wrapping its checkbox holds no number
      var text = el.textContent.replace(/\d+(?=\D*$)/, String(n + 1));
      if (text !== el.textContent) el.textContent = text;
    });
    clone.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (el.type === "checkbox") el.checked = false;
      else if (el.tagName === "SELECT") el.selectedIndex = 0;
      else if (el.name !== "csrfmiddlewaretoken") el.value = "";
    });
    clone.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
    // The new row is empty: none of the last row's error state (red borders, aria-invalid, links to
    // the *_error messages just removed) comes with it, nor its search status.
    clone.classList.remove("has-error");
    clone.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    clone.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    clone.querySelectorAll("[aria-describedby]").forEach(function (el) {
      var ids = el.getAttribute("aria-describedby").split(/\s+/).filter(function (id) {
        return id && !/_error$/.test(id);
      });
      if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
      else el.removeAttribute("aria-describedby");
    });
    clone.querySelectorAll("[data-search-status]").forEach(function (el) { el.textContent = ""; });
    clone.querySelectorAll("[hidden]").forEach(function (el) { el.hidden = false; });
    last.parentNode.insertBefore(clone, last.nextSibling);
    total.value = n + 1;
    if (window.htmx) htmx.process(clone);
    if (clone.classList.contains("ben-row")) toggleNew(clone);
    // Straight on to the new row's first field.
    var first = Array.prototype.find.call(clone.querySelectorAll("input, select, textarea"), function (el) {
      return el.type !== "hidden" && !el.disabled && el.getClientRects().length > 0;
    });
    if (first) first.focus();
  }
  // A beneficiary row shows the "new establishment" fields only while no existing one is chosen.
  function toggleNew(row) {
    var chosen = row.querySelector("select[name$='-establishment']");
    var hide = chosen && chosen.value !== "";
    row.querySelectorAll(".new-est, .new-est-flags").forEach(function (el) { el.hidden = hide; });
  }
  document.querySelectorAll(".ben-row").forEach(toggleNew);
  // Enter in a row's «Tìm cơ sở đã có» box runs the search (its hx-trigger «search» event) and never
  // sends the whole đề án form. Not while an input method is composing: that Enter is the IME's.
  document.addEventListener("keydown", function (e) {
    var input = e.target;
    if (e.key !== "Enter" || e.isComposing || !input.matches || !input.matches(".ben-row input[type=search]")) return;
    e.preventDefault();
    if (window.htmx) htmx.trigger(input, "search");
  });
  // After a search: the row's status region says how many establishments matched (the sentence comes
  // with the options), and the "new establishment" fields show again since no establishment is chosen.
  function searchStatus(e) {
    var select = e.detail && e.detail.target;
    var row = select && select.closest && select.closest(".ben-row");
    if (!row || !/-establishment$/.test(select.name || "")) return null;
    return row.querySelector("[data-search-status]");
  }
  document.addEventListener("htmx:afterSwap", function (e) {
    var status = searchStatus(e);
    if (!status) return;
    var first = e.detail.target.querySelector("option[data-status]");
    status.textContent = first ? first.getAttribute("data-status") : "";
    toggleNew(status.closest(".ben-row"));
  });
  ["htmx:responseError", "htmx:sendError"].forEach(function (name) {
    document.addEventListener(name, function (e) {
      var status = searchStatus(e);
      if (status) status.textContent = status.getAttribute("data-search-error") || "";
    });
  });
  document.addEventListener("change", function (e) {
    var row = e.target.closest(".ben-row");
    if (row && e.target.name && /-establishment$/.test(e.target.name)) toggleNew(row);
  });
  document.addEventListener("input", function (e) { if (e.target.closest("#line-rows")) recompute(); });
  document.addEventListener("change", function (e) { if (e.target.closest("#line-rows")) recompute(); });
  document.querySelectorAll("[data-add-row]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      if (btn.dataset.addRow === "ben") addRow("ben", "ben-rows", ".ben-row");
      else addRow("line", "line-rows", ".line-row");
    });
  });
  recompute();
})();
