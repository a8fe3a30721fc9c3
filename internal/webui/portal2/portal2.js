// Backlot's portal, second script: what the Create, Migrations, Scorecards
// and Audit pages add to app.js. Every page works without it.
(function () {
  "use strict";
  var doc = document;
  var csrf = "";

  // Cookie writes may need a CSRF token (the sign-in routes set it in a
  // cookie, or /api/auth/me names it): forms carry it as _csrf and the
  // script's own POSTs as the X-Backlot-CSRF header.
  function addToForms(token) {
    csrf = token;
    doc.querySelectorAll("form[method=post]").forEach(function (f) {
      if (f.querySelector("input[name=_csrf]")) { return; }
      var i = doc.createElement("input");
      i.type = "hidden"; i.name = "_csrf"; i.value = token;
      f.appendChild(i);
    });
  }
  var m = doc.cookie.match(/(?:^|;\s*)([^=;]*csrf[^=;]*)=([^;]*)/i);
  if (m) { addToForms(decodeURIComponent(m[2])); }
  var me = doc.body.getAttribute("data-me");
  if (!csrf && me && doc.body.getAttribute("data-signed-in") === "true") {
    fetch(me, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        var token = p && (p.csrf || p.csrfToken);
        if (token) { addToForms(token); }
      }).catch(function () {});
  }

  // [data-poll=MS]: refresh the page's live regions every MS while such an
  // element is on the page (a running task or migration).
  function poll() {
    var el = doc.querySelector("[data-poll]");
    if (!el || !window.backlot) { return; }
    var ms = parseInt(el.getAttribute("data-poll"), 10) || 1000;
    setTimeout(function () { window.backlot.refresh().then(poll, poll); }, ms);
  }
  poll();

  // form[data-validate]: a changed field is checked by the server at once
  // (the template's own checks, as the API answers them), and conditional
  // fields appear or go as the values change.
  doc.querySelectorAll("form[data-validate]").forEach(function (form) {
    form.querySelectorAll("[data-nojs]").forEach(function (b) { b.hidden = true; });
    var busy = null;
    form.addEventListener("change", function () {
      var body = new URLSearchParams(new FormData(form));
      body.set("_action", "validate");
      if (busy) { busy.abort(); }
      busy = new AbortController();
      var headers = { "X-Backlot-Partial": "1", "Content-Type": "application/x-www-form-urlencoded" };
      if (csrf) { headers["X-Backlot-CSRF"] = csrf; }
      fetch(form.getAttribute("action"), { method: "POST", body: body, headers: headers, credentials: "same-origin", signal: busy.signal })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var next = new DOMParser().parseFromString(html, "text/html");
          var fields = doc.getElementById("form-fields"), fresh = next.getElementById("form-fields");
          if (fields && fresh && fields.getAttribute("data-fields") !== fresh.getAttribute("data-fields")) {
            var focus = doc.activeElement && doc.activeElement.id;
            fields.innerHTML = fresh.innerHTML;
            fields.setAttribute("data-fields", fresh.getAttribute("data-fields"));
            var f = focus && doc.getElementById(focus);
            if (f) { f.focus(); }
          } else {
            next.querySelectorAll("[data-field-error]").forEach(function (e) {
              var mine = doc.getElementById(e.id);
              if (!mine || mine.textContent === e.textContent) { return; }
              mine.textContent = e.textContent;
              var box = mine.closest(".field");
              var input = box && box.querySelector("input:not([type=hidden]),select,textarea");
              if (box) { box.classList.toggle("has-error", !!e.textContent); }
              if (input) { if (e.textContent) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); } }
            });
          }
          var errs = doc.getElementById("form-errors"), freshErrs = next.getElementById("form-errors");
          if (errs && freshErrs) { errs.innerHTML = freshErrs.innerHTML; }
        }).catch(function () {});
    });
  });

  // input[data-picker-url]: an entity picker. As the user types, the
  // server is asked for the first entities whose name starts with the typed
  // text (/create/picker, a bounded read of the catalog) and the input's
  // datalist offers them (the browser's own list: arrow keys and Enter
  // choose); the status line says how many. Without the script the field
  // is a text field that takes a ref, its list the first matches of its
  // value. Listening on the document keeps working when a validation swaps
  // the form's fields.
  var pickers = new WeakMap();
  doc.addEventListener("input", function (e) {
    var inp = e.target;
    if (!inp.matches || !inp.matches("input[data-picker-url]")) { return; }
    var st = pickers.get(inp);
    if (!st) { st = { timer: 0, busy: null, asked: null }; pickers.set(inp, st); }
    clearTimeout(st.timer);
    st.timer = setTimeout(function () {
      var typed = inp.value;
      if (typed === st.asked) { return; }
      st.asked = typed;
      if (st.busy) { st.busy.abort(); }
      st.busy = new AbortController();
      var u = new URL(inp.getAttribute("data-picker-url"), location.href);
      u.searchParams.set("q", typed);
      fetch(u.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin", signal: st.busy.signal })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (ans) {
          var list = doc.getElementById(inp.getAttribute("list"));
          if (!ans || !list || inp.value !== typed) { return; }
          var opts = ans.options.map(function (o) {
            var el = doc.createElement("option");
            el.value = o.value; el.textContent = o.label;
            return el;
          });
          list.replaceChildren.apply(list, opts);
          var status = doc.getElementById(inp.getAttribute("data-picker-status"));
          if (status) {
            status.textContent = opts.length === 0 ? "No entity's name starts with that." :
              (ans.more ? "The first " + opts.length + " matches; type more to narrow them." :
                opts.length + (opts.length === 1 ? " match." : " matches."));
          }
        }).catch(function () {});
    }, 120);
  });

  // [data-copy=ID]: copy the text of element ID.
  doc.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-copy]");
    if (!b) { return; }
    var src = doc.getElementById(b.getAttribute("data-copy"));
    if (!src) { return; }
    var text = src.value !== undefined ? src.value : src.textContent;
    if (navigator.clipboard) {
      navigator.clipboard.writeText(text).then(function () {
        b.textContent = "Copied";
        if (window.backlot) { window.backlot.announce("Copied to the clipboard"); }
      }).catch(function () { if (src.select) { src.select(); } });
    } else if (src.select) { src.select(); }
  });

  // input[type=file][data-into=ID]: a chosen file's text fills textarea ID.
  doc.querySelectorAll("input[type=file][data-into]").forEach(function (inp) {
    inp.addEventListener("change", function () {
      var f = inp.files && inp.files[0], ta = doc.getElementById(inp.getAttribute("data-into"));
      if (!f || !ta) { return; }
      f.text().then(function (t) { ta.value = t; });
    });
  });
})();
