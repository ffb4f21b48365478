// The Naviyam chat playground: plain browser JavaScript, no build step. It calls the same /chat
// and /feedback endpoints as any client, with the API key typed above (prefilled in development).
"use strict";

const $ = (id) => document.getElementById(id);
const state = { session: null, base: window.location.pathname.replace(/\/playground\/.*$/, "") };

function newSession() {
  state.session = "pg-" + Math.random().toString(36).slice(2, 10);
  $("session").textContent = "session " + state.session;
}

function userId() {
  return $("user-custom").value.trim() || $("user").value || "1";
}

function headers() {
  return { "Content-Type": "application/json", "X-API-Key": $("api-key").value };
}

function bubble(kind, text) {
  const div = document.createElement("div");
  div.className = "bubble " + kind;
  div.textContent = text;
  $("log").appendChild(div);
  $("log").scrollTop = $("log").scrollHeight;
  return div;
}

function won(n) {
  return n == null ? "" : n.toLocaleString("ko-KR") + "원";
}

function distance(m) {
  if (m == null) return "거리 모름";
  return m < 1000 ? Math.round(m) + "m" : (m / 1000).toFixed(1) + "km";
}

async function sendFeedback(turn, rec, action, extra, button) {
  const body = Object.assign({
    user_id: turn.user_id, session_id: turn.session_id, recommendation_id: turn.event_id,
    action: action, shop_id: rec.shop_id,
  }, rec.menu_id ? { menu_id: rec.menu_id } : {}, extra || {});
  const r = await fetch(state.base + "/feedback", { method: "POST", headers: headers(), body: JSON.stringify(body) });
  const out = await r.json().catch(() => ({}));
  const label = r.ok ? `✓ ${action} → ${out.status}` : `✗ ${action} → ${r.status} ${JSON.stringify(out)}`;
  $("feedback-status").textContent = label;
  $("feedback-status").dataset.last = r.ok ? action : "error";
  if (button && r.ok) button.classList.add("done");
}

function card(turn, rec) {
  const node = $("card-template").content.firstElementChild.cloneNode(true);
  node.dataset.shopId = rec.shop_id;
  node.querySelector(".rank").textContent = rec.rank + ".";
  node.querySelector(".menu").textContent = rec.menu_name;
  const badge = node.querySelector(".card-badge");
  if (!rec.meal_card_usable) { badge.textContent = "카드 불가"; badge.classList.add("no"); }
  const open = node.querySelector(".open-badge");
  open.textContent = rec.open_now ? "영업 중" : "영업 전/후";
  if (!rec.open_now) open.classList.add("closed");
  node.querySelector(".shop").textContent = `${rec.shop_name} · ${rec.category}`;
  const discounted = rec.coupon && rec.coupon.discount > 0;
  node.querySelector(".price").textContent = discounted ? won(rec.price) : "";
  node.querySelector(".coupon").textContent = rec.coupon ? `🎟 ${rec.coupon.name} -${won(rec.coupon.discount)}` : "";
  node.querySelector(".final").textContent = won(rec.final_price);
  node.querySelector(".distance").textContent = distance(rec.distance_m);
  node.querySelector(".why").textContent = rec.reason;
  node.querySelectorAll("button[data-action]").forEach((b) => {
    b.addEventListener("click", () => {
      const action = b.dataset.action;
      const extra = action === "order" ? { order_amount: rec.final_price } : {};
      if (action === "order" && rec.coupon) {  // ordering with the coupon uses it
        sendFeedback(turn, rec, "coupon_use", { coupon_id: rec.coupon.coupon_id }, null);
      }
      sendFeedback(turn, rec, action, extra, b);
    });
  });
  node.querySelector(".stars").addEventListener("change", (e) => {
    if (e.target.value) sendFeedback(turn, rec, "satisfaction", { satisfaction: Number(e.target.value) }, e.target);
  });
  return node;
}

function showTurn(turn) {
  bubble("bot", turn.answer);
  if (turn.recommendations.length) {
    const grid = document.createElement("div");
    grid.className = "cards";
    turn.recommendations.forEach((rec) => grid.appendChild(card(turn, rec)));
    $("log").appendChild(grid);
    $("log").scrollTop = $("log").scrollHeight;
  }
  const body = $("timings").querySelector("tbody");
  body.textContent = "";
  const entries = Object.entries(turn.timings_ms);
  const max = Math.max(1, ...entries.filter(([k]) => k !== "total").map(([, v]) => v));
  for (const [stage, ms] of entries) {
    const row = body.insertRow();
    row.dataset.stage = stage;
    row.insertCell().textContent = stage;
    const bar = row.insertCell();
    if (stage !== "total") {
      const div = document.createElement("div");
      div.className = "bar";
      div.style.width = Math.max(2, (80 * ms) / max) + "px";
      bar.appendChild(div);
    }
    const cell = row.insertCell();
    cell.className = "ms";
    cell.textContent = ms.toFixed(1);
  }
  const dl = $("turn");
  dl.textContent = "";
  const facts = {
    intent: `${turn.intent} (${turn.confidence})`, strategy: turn.strategy,
    "meal card": turn.meal_card.has_card ? `잔액 ${won(turn.meal_card.balance)}, 한 끼 ≤ ${won(turn.meal_card.spend_limit)}` : "없음",
    model: `${turn.model_variant} · ${turn.ranking_model}`, cache: JSON.stringify(turn.cache), event_id: turn.event_id,
  };
  for (const [k, v] of Object.entries(facts)) {
    dl.appendChild(Object.assign(document.createElement("dt"), { textContent: k }));
    dl.appendChild(Object.assign(document.createElement("dd"), { textContent: v }));
  }
}

async function send(event) {
  event.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  $("text").value = "";
  bubble("child", text);
  const body = { user_id: userId(), session_id: state.session, text: text, max_results: 3 };
  const place = $("place").selectedOptions[0];
  if (place && place.value) body.location = { lat: Number(place.dataset.lat), lon: Number(place.dataset.lon) };
  const pending = bubble("bot", "…");
  try {
    const r = await fetch(state.base + "/chat", { method: "POST", headers: headers(), body: JSON.stringify(body) });
    pending.remove();
    if (!r.ok) { bubble("error", `${r.status}: ${await r.text()}`); return; }
    showTurn(await r.json());
  } catch (err) {
    pending.remove();
    bubble("error", String(err));
  }
}

async function loadSamples() {
  try {
    const r = await fetch("samples.json");
    const s = await r.json();
    if (s.api_key && !$("api-key").value) $("api-key").value = s.api_key;
    for (const u of s.users) $("user").appendChild(new Option(u.label, u.user_id));
    for (const p of s.places) {
      const o = new Option(`${p.name} (가게 ${p.shops})`, p.name);
      o.dataset.lat = p.lat; o.dataset.lon = p.lon;
      $("place").appendChild(o);
    }
  } catch (err) {
    console.warn("samples unavailable", err);
  }
  if (!$("user").options.length) $("user").appendChild(new Option("#1", "1"));
  document.body.dataset.ready = "true";
}

$("composer").addEventListener("submit", send);
$("new-session").addEventListener("click", () => { newSession(); $("log").textContent = ""; });
newSession();
loadSamples();
