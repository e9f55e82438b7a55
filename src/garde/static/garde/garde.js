// Regulatory clocks tick every second without reloading the page; htmx replaces the dashboard
// fragment every 15 s, and the clocks inside it start ticking again.
(function () {
  "use strict";

  function format(seconds) {
    var sign = seconds < 0 ? "-" : "";
    var s = Math.abs(Math.trunc(seconds));
    var days = Math.floor(s / 86400), hours = Math.floor((s % 86400) / 3600), minutes = Math.floor((s % 3600) / 60);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return days ? sign + days + " j " + pad(hours) + " h" : sign + hours + " h " + pad(minutes) + " min";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll(".clock[data-due]").forEach(function (clock) {
      var left = (Date.parse(clock.dataset.due) - now) / 1000;
      var soon = parseInt(clock.dataset.soonSeconds || "3600", 10);
      var state = left < 0 ? "overdue" : (left <= soon ? "soon" : "running");
      if (clock.dataset.state !== state) {
        clock.classList.remove("clock-" + clock.dataset.state);
        clock.classList.add("clock-" + state);
        clock.dataset.state = state;
      }
      var label = clock.querySelector(".left");
      if (label) { label.textContent = format(left); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 1000);
  });
})();
