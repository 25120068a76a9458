// yuqing console: ticks the countdowns and the clock on the server's clock.
//
// The page carries the console clock's time at render (body[data-now], epoch ms) and its speed
// (body[data-speed], clock seconds per real second), so the countdowns follow the server's clock
// (a simulated one in demos) rather than the browser's. Every countdown is an element with
// data-due (epoch ms); its text is written exactly as the server writes it (crate::text::countdown),
// so the page reads the same with and without this script. The page reloads itself through
// <meta http-equiv="refresh">, not here.
(function () {
  "use strict";
  var body = document.body;
  if (!body) { return; }
  var serverNow = Number(body.getAttribute("data-now"));
  var speed = Number(body.getAttribute("data-speed")) || 1;
  if (!isFinite(serverNow)) { return; }
  var loaded = Date.now();

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function span(ms) {
    var secs = Math.floor(Math.abs(ms) / 1000);
    var days = Math.floor(secs / 86400);
    var h = Math.floor((secs % 86400) / 3600);
    var m = Math.floor((secs % 3600) / 60);
    var s = secs % 60;
    var hms = pad(h) + ":" + pad(m) + ":" + pad(s);
    return days > 0 ? days + "天 " + hms : hms;
  }

  function countdown(left) {
    return (left >= 0 ? "剩余 " : "超时 ") + span(left);
  }

  function clock(t) {
    // UTC+8, as the server writes it: 2026-11-22 10:02:33
    var d = new Date(t + 8 * 3600 * 1000);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) +
      " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
  }

  function tick() {
    var now = serverNow + (Date.now() - loaded) * speed;
    var els = document.querySelectorAll("[data-due]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var due = Number(el.getAttribute("data-due"));
      if (!isFinite(due)) { continue; }
      var left = due - now;
      var text = countdown(left);
      if (el.textContent !== text) { el.textContent = text; }
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 3600 * 1000);
    }
    var c = document.querySelector("[data-clock]");
    if (c) { c.textContent = clock(now); }
  }

  tick();
  window.setInterval(tick, 1000);
})();
