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
