// Front desk at the keyboard: "/" jumps to the patient search, the arrow keys walk its results.
(function () {
  "use strict";

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function results() {
    return Array.prototype.slice.call(document.querySelectorAll("#patient-results ol.results a"));
  }

  document.addEventListener("keydown", function (event) {
    var search = document.getElementById("patient-search");
    if (event.key === "/" && search && !typing(event.target)) {
      event.preventDefault();
      search.focus();
      search.select();
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") { return; }
    var links = results();
    if (!links.length) { return; }
    var index = links.indexOf(document.activeElement);
    if (event.target === search && event.key === "ArrowDown") {
      event.preventDefault();
      links[0].focus();
    } else if (index >= 0) {
      event.preventDefault();
      var next = index + (event.key === "ArrowDown" ? 1 : -1);
      if (next < 0 && search) { search.focus(); } else if (next < links.length) { links[next].focus(); }
    }
  });
})();
