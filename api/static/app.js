// The chat page: talks to the crs REST API (no build step, no dependencies).
// A user id (generated once, kept in localStorage) links conversations to a profile; the optional API key
// is kept in localStorage too. Replies arrive as Server-Sent Events over a streamed fetch (POST).
"use strict";

const $ = (id) => document.getElementById(id);
const store = window.localStorage;
const state = { sessionId: null, busy: false };

function newUserId() {
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  return "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function userId() { return $("user-id").value.trim(); }

function headers(json = true) {
  const h = {};
  if (json) h["Content-Type"] = "application/json";
  const key = $("api-key").value.trim();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

function setStatus(text) { $("status").textContent = text || ""; }

async function errorText(response) {
  try {
    const body = await response.json();
    if (body && body.error) return `${response.status}: ${body.error.message}`;
  } catch (_) { /* not JSON */ }
  return `${response.status} ${response.statusText}`;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(await errorText(response));
  return response.status === 204 ? null : response.json();
}

// ---------------------------------------------------------------- transcript

function addBubble(role, text) {
  const li = document.createElement("li");
  li.className = role;
  const span = document.createElement("span");
  span.className = "text";
  span.textContent = text;
  li.appendChild(span);
  $("transcript").appendChild(li);
  li.scrollIntoView({ block: "end" });
  return li;
}

function feedbackButton(rec, kind, label) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.className = kind;
  button.setAttribute("aria-pressed", "false");
  button.addEventListener("click", async () => {
    try {
      await api("POST", `/v1/sessions/${state.sessionId}/feedback`, { item_id: rec.item_id, kind });
      for (const sibling of button.parentElement.querySelectorAll("button")) {
        sibling.setAttribute("aria-pressed", String(sibling === button));
      }
      setStatus("");
      await loadProfile();
    } catch (err) { setStatus(err.message); }
  });
  return button;
}

function addRecommendation(bubble, rec) {
  let list = bubble.querySelector(".recs");
  if (!list) {
    list = document.createElement("ol");
    list.className = "recs";
    bubble.appendChild(list);
  }
  const li = document.createElement("li");
  li.className = "rec";
  li.dataset.itemId = rec.item_id;
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = rec.year ? `${rec.title} (${rec.year})` : rec.title;
  li.appendChild(title);
  if (rec.explanation) {
    const why = document.createElement("span");
    why.className = "why";
    why.textContent = rec.explanation;
    li.appendChild(why);
  }
  li.appendChild(feedbackButton(rec, "like", "Like"));
  li.appendChild(feedbackButton(rec, "dislike", "Not for me"));
  list.appendChild(li);
}

// ---------------------------------------------------------------- Server-Sent Events over fetch

function parseEvent(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return { event, data: data.join("\n") };
}

async function* readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (block.trim()) yield parseEvent(block);
    }
  }
}

async function ensureSession() {
  if (state.sessionId) return state.sessionId;
  const created = await api("POST", "/v1/sessions", userId() ? { user_id: userId() } : {});
  state.sessionId = created.session_id;
  const session = await api("GET", `/v1/sessions/${state.sessionId}`);
  for (const entry of session.transcript) if (entry.bot) addBubble("system", entry.bot); // the greeting
  return state.sessionId;
}

async function send(text) {
  const sessionId = await ensureSession();
  addBubble("user", text);
  const bubble = addBubble("system", "");
  const span = bubble.querySelector(".text");
  const response = await fetch(`/v1/sessions/${sessionId}/messages/stream`, {
    method: "POST", headers: { ...headers(), Accept: "text/event-stream" }, body: JSON.stringify({ text }),
  });
  if (!response.ok) {
    bubble.remove();
    if (response.status === 404) state.sessionId = null; // expired: the next message starts a new one
    throw new Error(await errorText(response));
  }
  for await (const { event, data } of readEvents(response)) {
    const payload = JSON.parse(data);
    if (event === "reply") span.textContent += payload.text;
    else if (event === "recommendation") addRecommendation(bubble, payload);
    else if (event === "error") throw new Error(payload.error.message);
    else if (event === "done") bubble.dataset.turn = payload.turn;
  }
}

// ---------------------------------------------------------------- profile

function factList(label, values) {
  if (!values.length) return;
  const dt = document.createElement("dt");
  dt.textContent = label;
  const dd = document.createElement("dd");
  dd.textContent = values.join(", ");
  $("profile-facts").append(dt, dd);
}

async function loadProfile() {
  const id = userId();
  if (!id) return;
  const profile = await api("GET", `/v1/users/${encodeURIComponent(id)}/profile`);
  const text = $("profile-text");
  text.textContent = profile.profile_text || "No profile yet.";
  text.classList.toggle("muted", !profile.profile_text);
  if (document.activeElement !== $("profile-edit")) $("profile-edit").value = profile.profile_text || "";
  $("profile-facts").replaceChildren();
  const titles = (items) => items.map((it) => (it.year ? `${it.title} (${it.year})` : it.title));
  const attrs = (names) => names.map((a) => a.split(":").slice(1).join(":"));
  factList("Liked", [...titles(profile.liked_items), ...attrs(profile.liked_attributes)]);
  factList("Disliked", [...titles(profile.disliked_items), ...attrs(profile.disliked_attributes)]);
}

// ---------------------------------------------------------------- wiring

function init() {
  $("user-id").value = store.getItem("crs.userId") || newUserId();
  store.setItem("crs.userId", $("user-id").value);
  $("api-key").value = store.getItem("crs.apiKey") || "";

  $("identity").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    store.setItem("crs.userId", userId());
    store.setItem("crs.apiKey", $("api-key").value.trim());
    state.sessionId = null;
    $("transcript").replaceChildren();
    setStatus("");
    try { await ensureSession(); await loadProfile(); } catch (err) { setStatus(err.message); }
  });

  $("composer").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = $("message").value.trim();
    if (!text || state.busy) return;
    state.busy = true;
    $("send").disabled = true;
    $("message").value = "";
    setStatus("");
    try { await send(text); await loadProfile(); } catch (err) { setStatus(err.message); }
    state.busy = false;
    $("send").disabled = false;
    $("message").focus();
  });

  $("profile-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("PATCH", `/v1/users/${encodeURIComponent(userId())}/profile`,
                { profile_text: $("profile-edit").value });
      setStatus("");
      await loadProfile();
    } catch (err) { setStatus(err.message); }
  });

  loadProfile().catch((err) => setStatus(err.message));
}

init();
