// DS Desk — the Expert's screen: live call state (SSE, no polling), calling, wrap-up, one-key actions.
"use strict";
(function () {
  const desk = document.getElementById("desk");
  if (!desk) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const stateBox = document.getElementById("live-state");
  const timerBox = document.getElementById("live-timer");
  const errorBox = document.getElementById("call-error");
  const hangupBtn = document.getElementById("hangup-btn");
  const whoBox = document.getElementById("live-who");  // the call's own client, whatever is selected
  const callBtn = document.getElementById("call-btn");
  const wrapupSlot = document.getElementById("wrapup-slot");
  const inboundPop = document.getElementById("inbound-pop");
  const OUTCOMES = {
    answered: "состоялся", no_answer: "нет ответа", rejected: "отклонён", busy: "занято",
    congestion: "сеть недоступна", cancelled: "отменён", expert_no_answer: "вы не сняли трубку", missed: "пропущен",
  };
  let current = null;      // the latest event of the call on screen
  let timer = null;
  let wrapupFor = null;    // linkedid whose wrap-up form is shown

  function mmss(seconds) {
    const s = Math.max(0, Math.round(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  function showError(text) {
    if (!errorBox) return;
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }
  // An error answer as a sentence: {"error": …} from the API, or the plain text of an HTTP error.
  async function errorText(response) {
    const text = await response.text();
    try { const payload = JSON.parse(text); if (payload && payload.error) return payload.error; } catch (e) { /* text */ }
    return text || ("Ошибка " + response.status);
  }
  async function post(url, data) {
    const body = new URLSearchParams(data || {});
    const response = await fetch(url, {
      method: "POST", body, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
    });
    let payload = {};
    try { payload = await response.json(); } catch (e) { /* not JSON */ }
    if (!response.ok) {
      const error = new Error(payload.error || ("Ошибка " + response.status));
      error.payload = payload;
      throw error;
    }
    return payload;
  }

  // ---- live state ------------------------------------------------------------------
  // Who is on the line: the call's own client and contact, never the row selected in the queue
  // (selecting another row during a call must not put its name above this call).
  function rowOf(ev) {
    return (ev.planned_call_id && document.querySelector('.queue .row[data-item="' + CSS.escape(ev.planned_call_id) + '"]')) ||
           document.querySelector('.queue .row[data-linkedid="' + CSS.escape(ev.linkedid) + '"]');
  }
  // The queue row's badge follows the call (found trying the desk: «идёт звонок» stayed after the call
  // ended, until a reload). The server's words: texts/labels.py queue_state_label.
  function markRow(ev) {
    const row = rowOf(ev);
    const badge = row && row.querySelector(".badge");
    if (!badge || !row.dataset.item) return;
    let state = "in_progress", text = "идёт звонок";
    if (ev.state === "ended" && ev.outcome === "expert_no_answer") { state = "planned"; text = "запланирован"; }
    else if (ev.state === "ended") { state = "ended"; text = "звонок: " + (OUTCOMES[ev.outcome] || ev.outcome || "") + ", без итога"; }
    badge.className = "badge state-" + state;
    badge.textContent = text;
  }
  function callWho(ev) {
    const row = rowOf(ev);
    if (row) {
      const name = row.querySelector(".who b");
      const parts = row.querySelector(".who").innerText.split("\n").map((t) => t.trim()).filter(Boolean);
      return parts.join(", ") || (name ? name.textContent : "");
    }
    return ev.client_name || ev.client_number || "";
  }
  function render(ev) {
    current = ev;
    stateBox.dataset.state = ev.state;
    stateBox.dataset.linkedid = ev.linkedid;
    delete stateBox.dataset.answeredAt;
    clearInterval(timer); timer = null; timerBox.textContent = "";
    const up = ev.state !== "ended";
    if (hangupBtn) hangupBtn.hidden = !up;
    if (whoBox) {
      const who = callWho(ev);
      whoBox.textContent = who ? (up ? "На линии: " : "Звонок: ") + who : "";
      whoBox.hidden = !who;
    }
    // The selection's contact and its client's time are not the call's (found trying it: «У клиента сейчас
    // 10:31» of a Moscow client above «На линии:» a Novosibirsk one).
    document.querySelectorAll(".call-target, .call-hours").forEach((el) => { el.hidden = up; });
    settleCallBtn(up);
    markRow(ev);
    tickStatus();
    if (ev.state === "dialling") {
      stateBox.textContent = ev.direction === "inbound" ? "Входящий звонок" + (ev.client_name ? ": " + ev.client_name : "")
                                                        : "Набор: снимите трубку своего телефона";
    } else if (ev.state === "ringing") {
      stateBox.textContent = "Вызов клиента…";
    } else if (ev.state === "talking") {
      stateBox.textContent = "Разговор";
      const since = Date.parse(ev.answered_at || ev.at);
      stateBox.dataset.answeredAt = String(since);  // steps.js: the talk timer's band
      const tick = () => { timerBox.textContent = mmss((Date.now() - since) / 1000); };
      tick(); timer = setInterval(tick, 1000);
    } else if (ev.state === "ended") {
      const outcome = OUTCOMES[ev.outcome] || ev.outcome || "";
      stateBox.textContent = "Завершён: " + outcome + ", " + mmss(ev.duration_s || 0);
      timerBox.textContent = "разговор " + mmss(ev.talk_s || 0);
      if (ev.saved === false) {
        // Published before the ledger could write it (its database is away): the form would not open yet.
        showError("Звонок ещё не записан в журнал: база данных недоступна. Он запишется сам, " +
                  "когда она вернётся; итог звонка можно будет сохранить после этого (обновите страницу).");
      } else {
        loadWrapup(ev.linkedid);
      }
    }
  }
  function onEvent(ev) {
    if (!ev || !ev.linkedid) return;
    // Only this user's own calls: a supervisor's stream carries every Expert's (found trying it: her
    // client card showed an Expert's call, with «Завершить» on it).
    if (ev.expert_ext !== desk.dataset.extension) return;
    if (ev.direction === "inbound" && ev.state !== "ended") popInbound(ev);
    if (current && current.linkedid !== ev.linkedid && current.state !== "ended" && ev.state === "ended") return;
    render(ev);
  }
  function connect() {
    if (!window.EventSource || desk.dataset.own !== "1") return;
    const source = new EventSource("/live");
    source.addEventListener("snapshot", (m) => {
      const data = JSON.parse(m.data);
      const calls = Array.isArray(data) ? data : (data.calls || []);
      calls.forEach(onEvent);
      if (window.DsDeskPbxBar) window.DsDeskPbxBar(data.pbx);
    });
    source.addEventListener("call", (m) => onEvent(JSON.parse(m.data)));
    source.addEventListener("pbx", (m) => { if (window.DsDeskPbxBar) window.DsDeskPbxBar(JSON.parse(m.data)); });
    source.addEventListener("originate_failed", (m) => originateFailed(JSON.parse(m.data)));
    source.addEventListener("status", (m) => showStatus(JSON.parse(m.data)));  // another tab of hers
    source.onerror = () => { stateBox.title = "связь с сервером восстанавливается…"; };
    source.onopen = () => { stateBox.title = ""; };
  }

  // The PBX took the click and then could not ring the Expert's phone: say why (Asterisk's reason).
  // It may say so before the click's own answer is back: call() then leaves the state alone.
  const failed = new Set();  // linkedids of click-to-calls the PBX reported failed
  function originateFailed(failure) {
    if (!failure || failure.kind !== "call") return;
    showError(failure.text);
    if (failure.linkedid) failed.add(failure.linkedid);
    if (stateBox.dataset.state === "requested" && stateBox.dataset.linkedid === failure.linkedid) {
      stateBox.dataset.state = "failed";
      stateBox.textContent = "Звонок не начат";
      settleCallBtn(false);
    }
  }

  // ---- calling ---------------------------------------------------------------------
  // «Позвонить» is off while a call is up, and while the server would refuse anyway (data-blocked: a wrap-up
  // owed with desk.forced_wrapup, or no time to call with desk.block_outside_hours).
  function settleCallBtn(up) {
    if (callBtn) callBtn.disabled = up || callBtn.dataset.blocked === "1";
  }
  let originating = false;  // a click-to-call request in flight: a second click must not send another
  async function call(data) {
    if (originating) return;
    originating = true;
    if (callBtn) callBtn.disabled = true;
    showError("");
    let confirmAndRetry = null;
    try {
      const result = await post("/calls", data);
      const heard = failed.has(result.linkedid) || (current && current.linkedid === result.linkedid);
      if (!heard) {  // nothing of this call has arrived yet
        stateBox.dataset.linkedid = result.linkedid;
        if (!current || current.state === "ended") {
          stateBox.textContent = "Соединение…";
          stateBox.dataset.state = "requested";
        }
      } else settleCallBtn(!!(current && current.state !== "ended"));
    } catch (e) {
      // Outside the client's hours the server asks first («у клиента сейчас 01:22, вс …»).
      if (e.payload && e.payload.confirm) confirmAndRetry = e.payload.confirm;
      else showError(e.message);
      // A wrap-up still owed (desk.forced_wrapup): its form opens, under that call's own client.
      if (e.payload && e.payload.wrapup_linkedid) loadWrapup(e.payload.wrapup_linkedid);
      settleCallBtn(!!(current && current.state !== "ended"));
    } finally { originating = false; }
    if (confirmAndRetry && window.confirm(confirmAndRetry)) {
      await call(Object.assign({}, data, { confirm_outside_hours: "1" }));
    }
  }
  async function hangUp() {
    if (!current || current.state === "ended") return;
    try { await post("/calls/" + encodeURIComponent(current.linkedid) + "/hangup"); }
    catch (e) { showError(e.message); }
  }
  // F2 while a wrap-up is owed: to that wrap-up (its form here, or the row the hint links to).
  function toOwedWrapup() {
    const form = document.getElementById("wrapup-form");
    const field = form && (form.querySelector('input[name="result"]:checked') || form.querySelector('input[name="result"]'));
    if (field) { field.focus(); return; }
    const link = document.querySelector('[data-testid="call-blocked"] a[data-wrapup]');
    if (link) loadWrapup(link.dataset.wrapup);
  }
  document.addEventListener("click", (e) => {
    const link = e.target.closest("a[data-wrapup]");
    if (link) { e.preventDefault(); loadWrapup(link.dataset.wrapup); }
  });
  if (callBtn) callBtn.addEventListener("click", () => call({ item: callBtn.dataset.item }));
  if (hangupBtn) hangupBtn.addEventListener("click", hangUp);
  document.addEventListener("click", (e) => {
    const button = e.target.closest(".call-contact");
    if (button) call({ contact: button.dataset.contact });
  });

  // ---- inbound pop-up --------------------------------------------------------------
  let popped = null;  // the inbound call whose brief is up (the client may be matched a moment later)
  async function popInbound(ev) {
    if (!inboundPop || !ev.client_id || popped === ev.linkedid) return;
    popped = ev.linkedid;
    const response = await fetch("/clients/" + encodeURIComponent(ev.client_id) + "/brief", { credentials: "same-origin" });
    if (!response.ok) return;
    inboundPop.innerHTML = '<div class="pop-head"><b>Входящий звонок</b> · <a href="/clients/' +
      encodeURIComponent(ev.client_id) + '?call=' + encodeURIComponent(ev.linkedid) + '">открыть карточку</a>' +
      ' <button type="button" class="link pop-close">закрыть</button></div>' + await response.text();
    inboundPop.hidden = false;
  }
  if (inboundPop) inboundPop.addEventListener("click", (e) => {
    if (e.target.closest(".pop-close")) inboundPop.hidden = true;
  });

  // ---- wrap-up ---------------------------------------------------------------------
  async function loadWrapup(linkedid) {
    if (!wrapupSlot || wrapupFor === linkedid) return;
    wrapupFor = linkedid;
    const response = await fetch("/calls/" + encodeURIComponent(linkedid) + "/wrapup", { credentials: "same-origin" });
    if (!response.ok) { wrapupFor = null; showError(await errorText(response)); return; }
    wrapupSlot.innerHTML = await response.text();
    const form = document.getElementById("wrapup-form");
    if (form && form.dataset.owed === "1" && desk.dataset.forcedWrapup === "1" && callBtn) {
      callBtn.dataset.blocked = "1";  // no new call before this wrap-up is saved (the page reloads then)
      settleCallBtn(true);
    }
    tickStatus();
    const first = wrapupSlot.querySelector('input[name="result"]:checked') || wrapupSlot.querySelector('input[name="result"]');
    if (first) first.focus();
  }
  async function saveWrapup() {
    const form = document.getElementById("wrapup-form");
    if (!form) return;
    const response = await fetch(form.action, {
      method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
    });
    if (response.ok) {
      const payload = await response.json();
      window.location.href = payload.next || "/desk";
    } else if (response.status === 422) {
      wrapupSlot.innerHTML = await response.text();
    } else {
      showError("Итог не сохранён: " + (await errorText(response)));
    }
  }
  document.addEventListener("submit", (e) => {
    if (e.target.id === "wrapup-form") { e.preventDefault(); saveWrapup(); }
  });

  // ---- the Expert's status: готов / пауза (service/web/desk_status.py) ---------------
  const statusBox = document.getElementById("desk-status");
  const statusLabel = document.getElementById("status-label");
  const statusTimer = document.getElementById("status-timer");
  const readyBtn = document.getElementById("ready-btn");
  const pauseBtn = document.getElementById("pause-btn");
  const pauseControls = document.getElementById("pause-controls");
  const pauseReason = document.getElementById("pause-reason");
  // Her own state as the board shows it: a pause she chose, else on a call, a wrap-up owed, or ready
  // (found trying the desk: «Готов» stood there through a call and its wrap-up).
  function activity() {
    if (current && current.state !== "ended") {
      return { key: "call", label: "На звонке", since: Date.parse(current.started_at || current.at) };
    }
    const form = document.getElementById("wrapup-form");
    if (form && form.dataset.owed === "1") {
      return { key: "wrapup", label: "Итоги звонка", since: Date.parse(form.dataset.endedAt) };
    }
    // A wrap-up owed for a call whose row is not the one selected (the server said so with the page).
    if (statusBox.dataset.owedSince) {
      return { key: "wrapup", label: "Итоги звонка", since: Date.parse(statusBox.dataset.owedSince) };
    }
    return { key: "ready", label: "Готов", since: NaN };
  }
  function showStatus(status) {
    if (!statusBox || !status) return;
    const paused = status.status === "pause";
    statusBox.dataset.status = status.status || "";
    statusBox.dataset.since = paused ? status.at : "";
    statusBox.classList.toggle("paused", paused);
    statusBox.dataset.pauseLabel = paused ? status.label : "";
    readyBtn.hidden = !paused;
    pauseControls.hidden = paused;
    tickStatus();
  }
  function tickStatus() {
    if (!statusBox) return;
    const paused = statusBox.dataset.status === "pause";
    const now = paused ? null : activity();
    statusBox.dataset.activity = paused ? "pause" : now.key;
    ["ready", "call", "wrapup"].forEach((key) => statusBox.classList.toggle(key, !paused && now.key === key));
    statusLabel.textContent = paused ? (statusBox.dataset.pauseLabel || statusLabel.textContent) : now.label;
    const since = paused ? Date.parse(statusBox.dataset.since) : now.since;
    statusTimer.textContent = Number.isNaN(since) ? "" : mmss((Date.now() - since) / 1000);
  }
  async function setStatus(status, reason) {
    showError("");
    try { showStatus(await post("/desk/status", { status, reason: reason || "" })); }
    catch (e) { showError("Статус не изменён: " + e.message); }
  }
  function togglePause() {
    if (!statusBox) return;
    if (statusBox.dataset.status === "pause") setStatus("ready");
    else setStatus("pause", pauseReason.value);
  }
  if (readyBtn) readyBtn.addEventListener("click", () => setStatus("ready"));
  if (pauseBtn) pauseBtn.addEventListener("click", () => setStatus("pause", pauseReason.value));
  if (statusBox) { tickStatus(); setInterval(tickStatus, 1000); }

  // ---- keyboard: one key per action -----------------------------------------------
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) &&
      !(target.tagName === "INPUT" && (target.type === "radio" || target.type === "checkbox"));
  }
  function goNext() {
    const rows = Array.from(document.querySelectorAll(".queue .row"));
    const open = rows.filter((r) => r.dataset.item && !r.classList.contains("done"));
    const selected = rows.findIndex((r) => r.classList.contains("selected"));
    const after = open.find((r) => rows.indexOf(r) > selected) || open[0];
    if (after) window.location.href = after.querySelector("a").getAttribute("href");
  }
  document.addEventListener("keydown", (e) => {
    const inField = typing(e.target);
    const key = e.code;
    if (key === "F9" || (key === "Enter" && (e.ctrlKey || e.metaKey))) { e.preventDefault(); saveWrapup(); return; }
    if (key === "F2" || (!inField && key === "KeyC")) { e.preventDefault(); if (callBtn && !callBtn.disabled) callBtn.click(); else toOwedWrapup(); return; }
    if (key === "F4" || (!inField && key === "KeyH")) { e.preventDefault(); hangUp(); return; }
    if (key === "F8" || (!inField && key === "KeyN")) { e.preventDefault(); goNext(); return; }
    if (!inField && key === "KeyP") { e.preventDefault(); togglePause(); return; }
    if (!inField && /^Digit[1-5]$/.test(key)) {
      const radios = document.querySelectorAll('#wrapup-form input[name="result"]');
      const radio = radios[Number(key.slice(5)) - 1];
      if (radio) { radio.checked = true; radio.focus(); e.preventDefault(); }
    }
  });

  // Switching the script keeps the call going: only the script panel is reloaded.
  document.addEventListener("change", async (e) => {
    if (e.target.id !== "script-select") return;
    const url = new URL(window.location.href);
    url.searchParams.set("script", e.target.value);
    const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } });
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = doc.querySelector('[data-testid="script"]');
    const old = document.querySelector('[data-testid="script"]');
    if (fresh && old) old.replaceWith(fresh);
    history.replaceState(null, "", url);
  });

  if (desk.dataset.needsWrapup === "1" && desk.dataset.selectedLinkedid) loadWrapup(desk.dataset.selectedLinkedid);
  // The selected row in view (the queue scrolls itself; the page does not move).
  const selectedRow = document.querySelector(".queue .row.selected");
  if (selectedRow) selectedRow.scrollIntoView({ block: "nearest" });
  connect();
})();
