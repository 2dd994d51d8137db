// FundGuard console: small progressive enhancements only; every page works without this file.
(function () {
  "use strict";
  // Forms that need a second thought (revealing an identity, resetting a TOTP).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  // The print view's button.
  document.addEventListener("click", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-print")) {
      window.print();
    }
  });
  // Queue filters apply as soon as a choice changes.
  var filters = document.getElementById("filters");
  if (filters) {
    filters.addEventListener("change", function (event) {
      if (event.target.tagName === "SELECT" || event.target.type === "checkbox") {
        filters.submit();
      }
    });
  }
  // After 30 idle minutes the server has ended the session: show the sign-in page instead of stale content.
  var minutes = parseInt(document.body.getAttribute("data-idle-minutes") || "0", 10);
  if (minutes > 0) {
    window.setTimeout(function () {
      window.location.assign("/console/login?expired=1");
    }, minutes * 60 * 1000 + 5000);
  }
})();
