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
