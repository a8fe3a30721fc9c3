// Backlot's portal script: progressive enhancement of server-rendered pages.
// Without it every page still works; with it search answers as you type,
// pages follow the event stream, and the keyboard reaches everything.
(function () {
  "use strict";
  var doc = document;

  function announce(msg) {
    var el = doc.getElementById("announce");
    if (el) { el.textContent = ""; setTimeout(function () { el.textContent = msg; }, 30); }
  }

  // swap replaces every [data-live] region of the page with the same region
  // of html (a whole page, as the server renders it); quiet skips the flash.
  function swap(html, quiet) {
    var next = new DOMParser().parseFromString(html, "text/html");
    var changed = 0;
    doc.querySelectorAll("[data-live]").forEach(function (el) {
      var fresh = el.id && next.getElementById(el.id);
      if (!fresh || fresh.innerHTML === el.innerHTML) { return; }
      el.innerHTML = fresh.innerHTML;
      if (!quiet) { el.classList.remove("flash"); void el.offsetWidth; el.classList.add("flash"); }
      changed++;
    });
    if (next.title) { doc.title = next.title; }
    followLag();
    return changed;
  }

  var pending = null;
  // refresh fetches url (default: this page) and swaps its live regions.
  function refresh(url, quiet) {
    if (pending) { pending.abort(); }
    var ctl = new AbortController();
    pending = ctl;
    return fetch(url || location.href, { headers: { "X-Backlot-Partial": "1" }, credentials: "same-origin", signal: ctl.signal })
      .then(function (r) { return r.text(); })
      .then(function (html) { pending = null; return swap(html, quiet); })
      .catch(function () { return 0; });
  }

  // A count marked data-lagging (shown "≈ 12,345") was served from an
  // answer older than the catalog's last write while the server recounts
  // it: a live region holding one is fetched again a little later, quietly,
  // so the recount replaces it and its age stays true.
  var lagTimer = null;
  function followLag() {
    if (lagTimer || !doc.querySelector("[data-live] [data-lagging]")) { return; }
    lagTimer = setTimeout(function () { lagTimer = null; refresh(null, true); }, 2500);
  }
  followLag();
  window.backlot = { refresh: refresh, swap: swap, announce: announce };

  // Search as you type: a form[data-live-search] reloads its results.
  doc.querySelectorAll("form[data-live-search]").forEach(function (form) {
    var timer;
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var params = new URLSearchParams(new FormData(form));
        params.forEach(function (v, k) { if (v === "") { params.delete(k); } });
        var qs = params.toString();
        var url = form.getAttribute("action") + (qs ? "?" + qs : "");
        history.replaceState(null, "", url);
        refresh(url).then(function () {
          var n = doc.querySelector("[data-result-count]");
          if (n) { announce(n.textContent); }
        });
      }, 200);
    });
  });

  // Live updates: an element with data-stream follows the event stream
  // (its subject and types) and refreshes the page's live regions; a
  // ul[data-stream-log] lists the events as they arrive.
  var live = doc.querySelector("[data-stream]");
  if (live && window.EventSource) {
    var q = new URLSearchParams({ after: "now" });
    var subject = live.getAttribute("data-stream-subject");
    if (subject) { q.set("subject", subject); }
    var types = (live.getAttribute("data-stream-types") || "").split(",").filter(Boolean);
    if (types.length) { q.set("types", types.join(",")); }
    var es = new EventSource("/api/events/stream?" + q.toString());
    var log = doc.querySelector("[data-stream-log]");
    var timer = null, last = 0;
    var onEvent = function (e) {
      if (log) {
        var ev = {};
        try { ev = JSON.parse(e.data); } catch (err) { /* keep the type alone */ }
        var li = doc.createElement("li");
        var t = doc.createElement("time");
        t.textContent = (ev.time || new Date().toISOString()).replace("T", " ").slice(0, 19);
        li.appendChild(t);
        li.appendChild(doc.createTextNode(" " + e.type + (ev.actor ? " by " + ev.actor : "")));
        log.insertBefore(li, log.firstChild);
        var none = log.querySelector(".empty"); if (none) { none.remove(); }
      }
      // At most one refresh a second, however fast events come.
      if (timer) { return; }
      var wait = Math.max(150, 1000 - (Date.now() - last));
      timer = setTimeout(function () {
        timer = null; last = Date.now();
        refresh().then(function (n) { if (n) { announce("Updated: " + e.type); } });
      }, wait);
    };
    types.forEach(function (t) { es.addEventListener(t, onEvent); });
    es.onmessage = onEvent;
    live.setAttribute("data-stream-state", "open");
    es.onopen = function () { live.setAttribute("data-stream-state", "connected"); };
    window.addEventListener("pagehide", function () { es.close(); });
  }

  // The signed-in person's name, from the sign-in API when the server has it.
  var me = doc.body.getAttribute("data-me");
  if (me && doc.body.getAttribute("data-signed-in") === "true") {
    fetch(me, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        var name = p && (p.displayName || p.name || (p.user && p.user.displayName));
        var span = name && doc.querySelector("#who span");
        if (span) { span.textContent = name; }
      }).catch(function () {});
  }

  // Sign out is a POST carrying the CSRF header the sign-in routes ask for
  // (its value from their cookie when there is one); without the script the
  // link is followed.
  doc.querySelectorAll("a[data-logout]").forEach(function (a) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      var m = doc.cookie.match(/(?:^|;\s*)([^=;]*csrf[^=;]*)=([^;]*)/i);
      fetch(a.href, { method: "POST", credentials: "same-origin", headers: { "X-Backlot-CSRF": m ? decodeURIComponent(m[2]) : "1" } })
        .then(function (r) { location.href = r.ok ? "/" : a.href; }, function () { location.href = a.href; });
    });
  });

  // Keyboard: / searches, g + key goes to a section, j and k walk table
  // rows, ? lists the shortcuts.
  var g = false;
  function typing(t) { return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)); }
  doc.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) { return; }
    if (e.key === "/") {
      var s = doc.querySelector("[data-search]") || doc.getElementById("quick-q");
      if (s) { e.preventDefault(); s.focus(); s.select(); }
      return;
    }
    if (e.key === "?") { var d = doc.getElementById("keys"); if (d && d.showModal) { d.showModal(); } return; }
    if (g) {
      g = false;
      var a = doc.querySelector('nav a[data-key="' + e.key + '"]');
      if (a) { e.preventDefault(); location.href = a.href; }
      return;
    }
    if (e.key === "g") { g = true; setTimeout(function () { g = false; }, 1200); return; }
    if (e.key === "j" || e.key === "k") {
      var rows = Array.prototype.slice.call(doc.querySelectorAll("table[data-rows] tbody tr"));
      if (!rows.length) { return; }
      var i = rows.findIndex(function (r) { return r.classList.contains("sel"); });
      i = e.key === "j" ? Math.min(rows.length - 1, i + 1) : Math.max(0, i - 1);
      rows.forEach(function (r) { r.classList.remove("sel"); });
      rows[i].classList.add("sel");
      var link = rows[i].querySelector("a");
      if (link) { link.focus(); }
    }
  });
})();
