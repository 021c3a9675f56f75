// The passkey ceremonies: the only script of the console. The server sends
// WebAuthn options with base64url-encoded binary fields; the browser's API
// wants ArrayBuffers, and the server wants base64url back.
"use strict";
(function () {
  const b64u = {
    decode(s) {
      s = s.replace(/-/g, "+").replace(/_/g, "/");
      const bin = atob(s + "===".slice((s.length + 3) % 4));
      return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
    },
    encode(buf) {
      let s = "";
      for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
      return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    },
  };
  async function post(url, body) {
    const r = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}),
    });
    const j = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(j.error || "HTTP " + r.status);
    return j;
  }
  // send posts a credential the browser made, its binary fields encoded.
  async function send(url, cred, response) {
    return post(url, {
      id: cred.id, rawId: b64u.encode(cred.rawId), type: cred.type,
      response: Object.assign({ clientDataJSON: b64u.encode(cred.response.clientDataJSON) }, response),
    });
  }
  function say(msg) { const s = document.getElementById("status"); if (s) s.textContent = msg; }
  async function signin() {
    const opts = await post("/signin/begin");
    const pk = opts.publicKey;
    pk.challenge = b64u.decode(pk.challenge);
    (pk.allowCredentials || []).forEach((c) => { c.id = b64u.decode(c.id); });
    const cred = await navigator.credentials.get({ publicKey: pk });
    const r = cred.response;
    const done = await send("/signin/finish", cred, {
      authenticatorData: b64u.encode(r.authenticatorData), signature: b64u.encode(r.signature),
      userHandle: r.userHandle ? b64u.encode(r.userHandle) : null,
    });
    location.assign(done.next);
  }
  async function enrol() {
    const token = new URLSearchParams(location.hash.slice(1)).get("token") || new URLSearchParams(location.search).get("token");
    const opts = await post("/enrol/begin", { token });
    const pk = opts.publicKey;
    pk.challenge = b64u.decode(pk.challenge);
    pk.user.id = b64u.decode(pk.user.id);
    (pk.excludeCredentials || []).forEach((c) => { c.id = b64u.decode(c.id); });
    const cred = await navigator.credentials.create({ publicKey: pk });
    const r = cred.response;
    const done = await send("/enrol/finish", cred, {
      attestationObject: b64u.encode(r.attestationObject), transports: r.getTransports ? r.getTransports() : [],
    });
    say("Passkey registered. Sign in next.");
    location.assign(done.next);
  }
  document.addEventListener("DOMContentLoaded", () => {
    for (const b of document.querySelectorAll("[data-passkey]")) {
      // Rendered disabled: a click before this script runs would do nothing.
      b.disabled = false;
      b.addEventListener("click", async () => {
        b.disabled = true;
        say("Waiting for your passkey…");
        try { await (b.dataset.passkey === "signin" ? signin() : enrol()); }
        catch (e) { say("Failed: " + e.message); b.disabled = false; }
      });
    }
  });
})();
