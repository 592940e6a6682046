// devicegate's /device and /signin pages. No framework, no inline code (the
// CSP forbids it), nothing stored in the browser but the language cookie.
"use strict";
(function () {
  var ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXY3456789"; // SPEC 2.1: no 0 1 2 I O Z
  var AMBIGUOUS = "012IOZ";
  var API = "/openapi/v1/oauth/device/";
  var CONFIRMED = "devicegate_confirmed"; // a code the person checked, kept across sign-in
  var cat = JSON.parse(document.getElementById("catalog").textContent);
  var page = document.body.getAttribute("data-page");
  var $ = function (id) { return document.getElementById(id); };

  // ---- copy -------------------------------------------------------------
  function t(key, vars) {
    var s = cat[key] || key;
    Object.keys(vars || {}).forEach(function (k) { s = s.split("{" + k + "}").join(String(vars[k])); });
    return s;
  }
  function applyCatalog() {
    document.querySelectorAll("[data-i18n]").forEach(function (el) { el.textContent = t(el.getAttribute("data-i18n")); });
    var other = cat["lang.other_code"];
    $("lang").setAttribute("lang", other);
    rerender();
  }
  var rerender = function () {};
  $("lang").addEventListener("click", function () {
    var next = cat["lang.other_code"];
    fetch("/assets/web/i18n/" + next + ".json", { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (c) {
        cat = c;
        document.documentElement.lang = next;
        setCookie("devicegate_lang", next, 365 * 86400, "/");
        applyCatalog();
      })
      .catch(function () {});
  });

  // ---- cookies and requests -------------------------------------------
  function cookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var kv = parts[i].split("=");
      if (kv[0] === name) { return decodeURIComponent(kv.slice(1).join("=")); }
    }
    return "";
  }
  function setCookie(name, value, maxAge, path) {
    document.cookie = name + "=" + encodeURIComponent(value) + "; Max-Age=" + maxAge + "; Path=" + path +
      "; SameSite=Strict" + (location.protocol === "https:" ? "; Secure" : "");
  }
  // call returns {status, body, retry} and never throws: status 0 is a network failure.
  function call(method, url, body) {
    var headers = { "Accept": "application/json" };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      headers["X-CSRF-Token"] = cookie("csrf_token");
    }
    return fetch(url, { method: method, headers: headers, credentials: "same-origin", cache: "no-store",
      body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (b) {
          return { status: r.status, body: b, retry: parseInt(r.headers.get("Retry-After") || "", 10) || 0 };
        });
      })
      .catch(function () { return { status: 0, body: {}, retry: 0 }; });
  }
  function waitText(prefix, secs) {
    return secs > 90 ? t(prefix + "minutes", { n: Math.ceil(secs / 60) }) : t(prefix + "seconds", { n: Math.max(secs, 1) });
  }

  // ---- views ------------------------------------------------------------
  function show(name) {
    document.querySelectorAll("[data-view]").forEach(function (s) { s.hidden = s.id !== "view-" + name; });
    document.body.setAttribute("data-current", name);
    var h = $("view-" + name).querySelector("h1");
    if (h && name !== "entry") { h.focus(); }
  }
  function fill(name, value) {
    document.querySelectorAll("[data-fill='" + name + "']").forEach(function (el) { el.textContent = value; });
  }

  // normalise applies SPEC 2.1: upper-case, drop spaces and dashes; a full code gets its dash back.
  function normalise(raw) {
    var s = String(raw || "").toUpperCase().replace(/[\s-]/g, "");
    if (s.length !== 8) { return ""; }
    for (var i = 0; i < 8; i++) { if (ALPHABET.indexOf(s[i]) < 0) { return ""; } }
    return s.slice(0, 4) + "-" + s.slice(4);
  }
  // format keeps only alphabet characters (at most 8) and says whether ambiguous ones were dropped.
  function format(raw) {
    var up = String(raw || "").toUpperCase(), keep = "", dropped = false;
    for (var i = 0; i < up.length && keep.length < 8; i++) {
      if (ALPHABET.indexOf(up[i]) >= 0) { keep += up[i]; } else if (AMBIGUOUS.indexOf(up[i]) >= 0) { dropped = true; }
    }
    return { value: keep.length > 4 ? keep.slice(0, 4) + "-" + keep.slice(4) : keep, dropped: dropped };
  }

  if (page === "signin") { signinPage(); } else { devicePage(); }

  function signinPage() {
    var returnTo = document.body.getAttribute("data-return-to") || "/device";
    if (location.search) { history.replaceState(null, "", location.pathname); }
    var m = /[?&]user_code=([^&]*)/.exec(returnTo);
    var code = m ? normalise(decodeURIComponent(m[1].replace(/\+/g, " "))) : "";
    if (code) { fill("code", code); $("pending").hidden = false; }
    var err = $("signin-error"), btn = $("signin-submit");
    var last = null;
    rerender = function () { if (last) { err.textContent = last(); } };
    function fail(f) { last = f; err.textContent = f(); btn.disabled = false; btn.textContent = t("signin.submit"); }
    $("signin-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var email = $("email").value.trim(), password = $("password").value;
      if (!email || !password) { fail(function () { return t("signin.missing"); }); return; }
      btn.disabled = true; btn.textContent = t("signin.busy"); err.textContent = ""; last = null;
      call("POST", "/console/api/login", { email: email, password: password }).then(function (r) {
        if (r.status === 200) { location.replace(returnTo); return; }
        if (r.status === 429) { fail(function () { return waitText("signin.limited_", r.retry); }); return; }
        if (r.status === 401 || r.status === 400) { fail(function () { return t("signin.bad"); }); return; }
        fail(function () { return t("signin.failed"); });
      });
    });
    $("email").focus();
  }

  function devicePage() {
    var st = { code: "", profile: null, lookup: null, retry: 0, again: null };
    var input = $("code"), note = $("code-note"), error = $("code-error");
    var params = new URLSearchParams(location.search);
    var given = params.get("user_code");
    // RFC 8628 5.4: the code (and any SSO marker) leaves the address bar at once.
    if (location.search || location.hash) { history.replaceState(null, "", location.pathname); }
    if (document.body.getAttribute("data-sso") === "1") { $("choose-sso").hidden = false; }

    rerender = function () {
      if (st.profile) { $("who-name").textContent = t("account.signed_in_as", { name: st.profile.name || st.profile.email }); }
      if (document.body.getAttribute("data-current") === "authorize") { renderAuthorize(); }
      if (document.body.getAttribute("data-current") === "ratelimited") { $("retry-text").textContent = waitText("ratelimited.", st.retry); }
      if (error.getAttribute("data-key")) { error.textContent = t(error.getAttribute("data-key")); }
      if (note.getAttribute("data-key")) { note.textContent = t(note.getAttribute("data-key")); }
    };
    function say(el, key) { el.setAttribute("data-key", key || ""); el.textContent = key ? t(key) : ""; }

    function entry(prefill) {
      input.value = prefill || "";
      say(error, ""); say(note, "");
      show("entry");
      input.focus();
    }
    function setCode(raw) {
      var f = format(raw);
      input.value = f.value;
      say(note, f.dropped ? "entry.ambiguous" : "");
      if (error.getAttribute("data-key")) { say(error, ""); }
    }
    input.addEventListener("input", function () { setCode(input.value); });
    input.addEventListener("paste", function (ev) {
      var text = (ev.clipboardData || window.clipboardData).getData("text");
      ev.preventDefault();
      setCode(text);
    });
    $("entry-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var code = normalise(input.value);
      if (!code) { say(error, "entry.incomplete"); input.focus(); return; }
      st.code = code; fill("code", code);
      lookup(true);
    });
    $("confirm-yes").addEventListener("click", function () { lookup(false); });
    $("confirm-no").addEventListener("click", function () { st.code = ""; entry(""); });
    $("choose-account").addEventListener("click", account);
    $("approve").addEventListener("click", function () { decide("approve"); });
    $("deny").addEventListener("click", function () { decide("deny"); });
    $("sign-out").addEventListener("click", function () {
      call("POST", "/console/api/logout").then(function () {
        st.profile = null; $("who").hidden = true; entry(st.code);
      });
    });
    document.querySelectorAll("[data-action]").forEach(function (b) {
      b.addEventListener("click", function () {
        var a = b.getAttribute("data-action");
        if (a === "again") { st.code = ""; entry(""); }
        if (a === "retry") { (st.again || function () { entry(st.code); })(); }
        if (a === "signin") { toSignIn(); }
      });
    });

    function toSignIn() {
      setCookie(CONFIRMED, st.code, 900, "/device");
      location.assign("/signin?return_to=" + encodeURIComponent("/device?user_code=" + st.code));
    }
    function rateLimited(r, again) { st.retry = r.retry || 60; st.again = again; show("ratelimited"); rerender(); }
    function failed(again) { st.again = again; show("lookupfailed"); }

    // lookup checks the code; typed codes that are unknown stay on the entry view.
    function lookup(typed) {
      call("GET", API + "lookup?user_code=" + encodeURIComponent(st.code)).then(function (r) {
        var again = function () { lookup(typed); };
        if (r.status === 429) { rateLimited(r, again); return; }
        if (r.status !== 200) { failed(again); return; }
        if (!r.body.valid) {
          if (typed && !r.body.client_id) { show("entry"); say(error, "entry.unknown"); input.focus(); return; }
          show("expired"); return;
        }
        st.lookup = r.body;
        if (document.body.getAttribute("data-sso") === "1") { show("chooser"); return; }
        account();
      });
    }
    function account() {
      if (!st.profile) { toSignIn(); return; }
      if (!st.lookup.created_at) { // looked up before signing in, or the session just ended
        if (st.relooked) { show("session"); return; }
        st.relooked = true; lookup(false); return;
      }
      st.relooked = false;
      show("authorize"); renderAuthorize();
    }
    function ago(iso) {
      var secs = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
      if (!isFinite(secs) || secs < 60) { return t("time.now"); }
      var mins = Math.floor(secs / 60);
      if (mins < 60) { return mins === 1 ? t("time.minute") : t("time.minutes", { n: mins }); }
      return t("time.hours");
    }
    function renderAuthorize() {
      var p = st.profile, l = st.lookup, ws = null;
      (p.workspaces || []).forEach(function (w) { if (w.id === p.default_workspace_id) { ws = w; } });
      $("az-name").textContent = p.name;
      $("az-email").textContent = p.email;
      $("az-workspace").textContent = ws ? ws.name : t("authorize.none");
      $("az-client").textContent = l.client_id;
      $("az-device").textContent = l.device_label;
      $("az-when").textContent = ago(l.created_at);
      $("az-network").textContent = l.request_network || t("network.unknown");
      var mismatch = l.request_network && l.approver_network && l.request_network !== l.approver_network;
      $("mismatch").hidden = !mismatch;
      $("mismatch-text").textContent = mismatch ? t("authorize.mismatch", { request: l.request_network, approver: l.approver_network }) : "";
    }
    function decide(action) {
      $("approve").disabled = $("deny").disabled = true;
      call("POST", API + action, { user_code: st.code }).then(function (r) {
        $("approve").disabled = $("deny").disabled = false;
        var again = function () { show("authorize"); };
        if (r.status === 200) { show(action === "approve" ? "success" : "denied"); return; }
        if (r.status === 401 || (r.status === 403 && r.body.error === "csrf_mismatch")) { show("session"); return; }
        if (r.status === 404 || (r.status === 409 && r.body.error === "already_resolved")) { show("expired"); return; }
        if (r.status === 429) { rateLimited(r, again); return; }
        if (r.status === 409 || r.status === 403) { show("error"); return; }
        failed(again);
      });
    }

    // "Requested 2 minutes ago" keeps counting while the person reads.
    setInterval(function () {
      if (document.body.getAttribute("data-current") === "authorize") { $("az-when").textContent = ago(st.lookup.created_at); }
    }, 30000);

    // Start: who is signed in, then the code from the link (confirmed first), or the entry view.
    call("GET", "/console/api/account/profile").then(function (r) {
      if (r.status === 200) {
        st.profile = r.body;
        $("who").hidden = false;
        rerender();
      }
      var code = given ? normalise(given) : "";
      if (!code) { entry(given ? format(given).value : ""); return; }
      st.code = code; fill("code", code);
      if (cookie(CONFIRMED) === code) { // checked before signing in just now
        setCookie(CONFIRMED, "", 0, "/device");
        lookup(false);
        return;
      }
      show("confirm");
    });
  }
})();
