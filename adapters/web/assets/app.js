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
  // csrf, when given, is the X-CSRF-Token (the SSO grant's); else the console's csrf_token cookie.
  function call(method, url, body, csrf) {
    var headers = { "Accept": "application/json" };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      headers["X-CSRF-Token"] = csrf || cookie("csrf_token");
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
    // grant is the SSO approval context (SPEC 2.6) once the identity provider
    // vouched for the person; unconfirmed marks a code that came from a link
    // the person has not checked yet.
    var st = { code: "", profile: null, lookup: null, retry: 0, again: null, grant: null, unconfirmed: false };
    var input = $("code"), note = $("code-note"), error = $("code-error"), ssobody = $("ssofailed-body");
    var params = new URLSearchParams(location.search);
    var given = params.get("user_code");
    var sso = document.body.getAttribute("data-sso") === "1";
    var ssoVerified = sso && params.get("sso_verified") === "1", ssoError = sso ? params.get("sso_error") : null;
    // RFC 8628 5.4: the code (and any SSO marker) leaves the address bar at once.
    if (location.search || location.hash) { history.replaceState(null, "", location.pathname); }
    if (sso) { $("choose-sso").hidden = false; }

    rerender = function () {
      if (st.profile) { $("who-name").textContent = t("account.signed_in_as", { name: st.profile.name || st.profile.email }); }
      if (document.body.getAttribute("data-current") === "authorize") { renderAuthorize(); }
      if (document.body.getAttribute("data-current") === "ratelimited") { $("retry-text").textContent = waitText("ratelimited.", st.retry); }
      document.querySelectorAll("[data-key]").forEach(function (el) {
        var k = el.getAttribute("data-key");
        el.textContent = k ? t(k) : "";
      });
    };
    function say(el, key) { el.setAttribute("data-key", key || ""); el.textContent = key ? t(key) : ""; }

    function entry(prefill) {
      st.grant = null;
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
    $("confirm-yes").addEventListener("click", function () { st.unconfirmed = false; lookup(false); });
    $("confirm-no").addEventListener("click", function () { st.code = ""; entry(""); });
    $("choose-account").addEventListener("click", account);
    // Single sign-on is a full navigation: sso-initiate sends the browser to the identity provider.
    $("choose-sso").addEventListener("click", function () {
      location.assign(API + "sso-initiate?user_code=" + encodeURIComponent(st.code));
    });
    $("approve").addEventListener("click", function () { if (st.grant) { approveExternal(); } else { decide("approve"); } });
    $("deny").addEventListener("click", function () { if (st.grant) { cancelExternal(); } else { decide("deny"); } });
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
        if (a === "ssoretry") { resume(); }
        if (a === "useaccount") { if (st.profile && st.code) { resume(); } else { toSignIn(); } }
      });
    });

    // resume goes back to the code: confirmed first if it came from a link, else looked up again.
    function resume() {
      st.grant = null;
      if (!st.code) { entry(""); return; }
      if (st.unconfirmed) { show("confirm"); return; }
      lookup(false);
    }
    // toSignIn keeps the code across /signin; only a code the person checked skips the confirmation after.
    function toSignIn() {
      if (!st.unconfirmed && st.code) { setCookie(CONFIRMED, st.code, 900, "/device"); }
      location.assign("/signin?return_to=" + encodeURIComponent(st.code ? "/device?user_code=" + st.code : "/device"));
    }
    // rateLimited shows when to retry; signIn offers signing in, for an
    // anonymous lookup: a signed-in one is not held back by the
    // deployment-wide ceiling on failed tries (nor by the per-address limit).
    function rateLimited(r, again, signIn) {
      st.retry = r.retry || 60; st.again = again;
      $("ratelimited-signin").hidden = $("ratelimited-signin-text").hidden = !signIn;
      show("ratelimited"); rerender();
    }
    function failed(again) { st.again = again; show("lookupfailed"); }

    // lookup checks the code; typed codes that are unknown stay on the entry view.
    function lookup(typed) {
      call("GET", API + "lookup?user_code=" + encodeURIComponent(st.code)).then(function (r) {
        var again = function () { lookup(typed); };
        if (r.status === 429) { rateLimited(r, again, !st.profile && !st.grant); return; }
        if (r.status !== 200) { failed(again); return; }
        if (!r.body.valid) {
          if (typed && !r.body.client_id) { show("entry"); say(error, "entry.unknown"); input.focus(); return; }
          show("expired"); return;
        }
        st.lookup = r.body;
        if (st.grant) { show("authorize"); renderAuthorize(); return; }
        if (sso) { show("chooser"); return; }
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
    // renderAuthorize fills the authorize view for the account, or for the SSO identity when st.grant is set.
    function renderAuthorize() {
      var p = st.profile, l = st.lookup, g = st.grant, ws = null;
      $("view-authorize").setAttribute("data-branch", g ? "sso" : "account");
      document.querySelectorAll("#view-authorize [data-branch]").forEach(function (el) {
        el.hidden = el.getAttribute("data-branch") !== (g ? "sso" : "account");
      });
      if (g) {
        $("az-sso-email").textContent = g.subject_email;
        $("az-issuer").textContent = g.subject_issuer;
      } else {
        (p.workspaces || []).forEach(function (w) { if (w.id === p.default_workspace_id) { ws = w; } });
        $("az-name").textContent = p.name;
        $("az-email").textContent = p.email;
        $("az-workspace").textContent = ws ? ws.name : t("authorize.none");
      }
      $("az-client").textContent = l.client_id;
      $("az-device").textContent = l.device_label;
      $("az-when").textContent = l.created_at ? ago(l.created_at) : t("network.unknown");
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

    // ---- the external-SSO branch (SPEC 2.6) ----------------------------
    // ssoReturn reads who the identity provider vouched for and the code it
    // was for, then looks the code up for the request details.
    function ssoReturn() {
      call("GET", API + "approval-context").then(function (r) {
        if (r.status === 401) { ssoFailed(true); return; }
        if (r.status !== 200) { failed(ssoReturn); return; }
        st.grant = r.body; st.code = r.body.user_code; st.unconfirmed = false;
        fill("code", st.code);
        lookup(false);
      });
    }
    function ssoFailed(ended) {
      st.grant = null;
      if (ended) { say(ssobody, "ssofailed.ended"); } else { say(ssobody, "ssofailed.body"); }
      show("ssofailed");
    }
    function ssoAccount() {
      st.grant = null;
      $("ssoaccount-code").hidden = !st.code;
      show("ssoaccount");
    }
    function approveExternal() {
      $("approve").disabled = $("deny").disabled = true;
      call("POST", API + "approve-external", { user_code: st.code }, st.grant.csrf_token).then(function (r) {
        $("approve").disabled = $("deny").disabled = false;
        var code = r.body.code, again = function () { show("authorize"); };
        if (r.status === 200) { st.grant = null; show("success"); return; }
        if (code === "email_belongs_to_dify_account") { ssoAccount(); return; }
        if (r.status === 401 || code === "csrf_mismatch") { ssoFailed(true); return; }
        if (r.status === 404 || r.status === 409) { st.grant = null; show("expired"); return; }
        if (r.status === 429) { rateLimited(r, again); return; }
        if (r.status === 400 || r.status === 403) { ssoFailed(false); return; }
        failed(again);
      });
    }
    // cancelExternal: SPEC 2.6 has no external deny. With a console session
    // in this browser the request is denied outright (the CLI hears
    // access_denied); otherwise nothing is approved and it expires on its own.
    function cancelExternal() {
      st.grant = null;
      if (!st.profile) { show("ssocancelled"); return; }
      call("POST", API + "deny", { user_code: st.code }).then(function (r) {
        show(r.status === 200 ? "denied" : "ssocancelled");
      });
    }

    // "Requested 2 minutes ago" keeps counting while the person reads.
    setInterval(function () {
      if (document.body.getAttribute("data-current") === "authorize" && st.lookup.created_at) {
        $("az-when").textContent = ago(st.lookup.created_at);
      }
    }, 30000);

    // Start: who is signed in, then the code from the link (confirmed first), or the entry view.
    call("GET", "/console/api/account/profile").then(function (r) {
      if (r.status === 200) {
        st.profile = r.body;
        $("who").hidden = false;
        rerender();
      }
      if (ssoVerified) { ssoReturn(); return; }
      if (ssoError) { // relayed by sso-complete, with the code when it is known
        st.code = given ? normalise(given) : ""; st.unconfirmed = !!st.code;
        fill("code", st.code);
        if (ssoError === "email_belongs_to_dify_account") { ssoAccount(); } else { ssoFailed(false); }
        return;
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
