/* The đề án form (projects/form.html): live totals of the budget lines in đồng, «+ Thêm …» rows of the
   two formsets, and the new-beneficiary fields shown only while no existing establishment is chosen. */
(function () {
  // Live totals in đồng: reads "1.500.000" the Vietnamese way (dots group thousands).
  function parse(text) {
    text = (text || "").replace(/\s|đ|đồng/gi, "");
    if (!/^\d{1,3}(\.\d{3})*$|^\d+$/.test(text)) return null;
    return Number(text.replace(/\./g, ""));
  }
  function fmt(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ".") + " đ"; }
  function recompute() {
    var totals = {}, all = 0;
    document.querySelectorAll("#line-rows tr").forEach(function (row) {
      var del = row.querySelector("input[name$='-DELETE']");
      if (del && del.checked) return;
      var amount = row.querySelector("input[name$='-amount']"), source = row.querySelector("select[name$='-source']");
      var n = amount ? parse(amount.value) : null;
      if (n === null || !source) return;
      totals[source.value] = (totals[source.value] || 0) + n; all += n;
    });
    document.querySelectorAll("[data-total]").forEach(function (el) {
      var key = el.getAttribute("data-total");
      el.textContent = fmt(key === "all" ? all : (totals[key] || 0));
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
    clone.querySelectorAll("[hidden]").forEach(function (el) { el.hidden = false; });
    last.parentNode.insertBefore(clone, last.nextSibling);
    total.value = n + 1;
    if (window.htmx) htmx.process(clone);
  }
  // A beneficiary row shows the "new establishment" fields only while no existing one is chosen.
  function toggleNew(row) {
    var chosen = row.querySelector("select[name$='-establishment']");
    var hide = chosen && chosen.value !== "";
    row.querySelectorAll(".new-est, .new-est-flags").forEach(function (el) { el.hidden = hide; });
  }
  document.querySelectorAll(".ben-row").forEach(toggleNew);
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
