// DS Desk — a step script on the desk: → / Space or a click moves to the next step, a branch jumps to its step;
// while the Expert's call is answered each move is posted to the server, which writes the step's time by its own
// clock. The talk timer's band shows where the call is against the productive call's 10–12 minutes.
"use strict";
(function () {
  const stateBox = document.getElementById("live-state");
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  if (!csrfMeta) return;
  const csrf = csrfMeta.content;
  const STORE = "dsdesk-steps";  // per call: { linkedid, index, seq } — a reload keeps the place
  let enteredAt = Date.now();    // when the current step was entered (this screen's clock, display only)

  const panel = () => document.getElementById("script-steps");
  const steps = () => Array.from(document.querySelectorAll("#script-steps .step"));
  function mmss(seconds) {
    const s = Math.max(0, Math.round(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON|AUDIO|VIDEO)$/.test(el.tagName));
  }
  function talkingCall() {
    if (!stateBox || stateBox.dataset.state !== "talking" || !stateBox.dataset.linkedid) return null;
    return stateBox.dataset.linkedid;
  }
  function load() {
    try { return JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch (e) { return null; }
  }
  function save(state) { try { sessionStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* private mode */ } }

  function show(index) {
    const all = steps();
    if (!all.length) return;
    index = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((li, i) => {
      li.classList.toggle("current", i === index);
      li.classList.toggle("done", i < index);
    });
    enteredAt = Date.now();
    tick();
    return index;
  }
  function currentIndex() { return steps().findIndex((li) => li.classList.contains("current")); }

  function setLogState(text) {
    const box = document.querySelector('[data-testid="step-log-state"]');
    if (box) box.textContent = text ? "(" + text + ")" : "";
  }
  async function logStep(linkedid, seq, key) {
    const p = panel();
    if (!p) return;
    const body = new URLSearchParams({ seq: String(seq), version: p.dataset.version, step: key });
    try {
      const response = await fetch("/calls/" + encodeURIComponent(linkedid) + "/steps", {
        method: "POST", body, credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
      });
      if (response.ok) { setLogState("записывается"); return; }
      let message = "шаг не записан";
      try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
      setLogState(message);
    } catch (e) {
      setLogState("нет связи с сервером: шаг не записан");
    }
  }
  // Each move is numbered within the call; a script switched during the call starts its own steps from where
  // its panel stands (the step on screen is logged as entered now).
  function record(linkedid, index) {
    const p = panel();
    const state = load();
    const seq = state && state.linkedid === linkedid ? state.seq + 1 : 0;
    save({ linkedid, version: p.dataset.version, index, seq });
    logStep(linkedid, seq, steps()[index].dataset.key);
  }
  function started(linkedid) {
    const state = load();
    return state && state.linkedid === linkedid && state.version === panel().dataset.version;
  }
  function go(index) {
    const before = currentIndex();
    const shown = show(index);
    if (shown === undefined) return;
    const linkedid = talkingCall();
    if (!linkedid) return;
    if (!started(linkedid)) record(linkedid, before >= 0 ? before : 0);
    if (shown !== before) record(linkedid, shown);  // → on the last step: nothing new to log
  }
  function goKey(key) {
    const index = steps().findIndex((li) => li.dataset.key === key);
    if (index >= 0) go(index);
  }

  // A newly answered call starts at the first step (logged); a reload during it returns to where it was.
  let seenCall = null;
  function onCallState() {
    const linkedid = talkingCall();
    if (!linkedid) setLogState("");  // the call is over (or not yet answered): nothing is being logged
    if (linkedid && linkedid !== seenCall && panel()) {
      seenCall = linkedid;
      const state = load();
      if (state && state.linkedid === linkedid && state.version === panel().dataset.version) show(state.index);
      else { show(0); record(linkedid, 0); }
    }
    tick();
  }
  // The script panel is replaced when the Expert switches scripts: a step script shown during the call
  // starts logging at once.
  function onPanelSwap() {
    const linkedid = talkingCall();
    if (linkedid && panel() && !started(linkedid)) { show(0); record(linkedid, 0); }
  }

  function tick() {
    const p = panel();
    if (!p) return;
    const current = steps()[currentIndex()];
    document.querySelectorAll("#script-steps .step-time").forEach((box) => { box.textContent = ""; box.classList.remove("over"); });
    if (current && talkingCall()) {
      const spent = (Date.now() - enteredAt) / 1000;
      const target = Number(current.dataset.target || 0);
      const box = current.querySelector(".step-time");
      box.textContent = mmss(spent) + (target ? " из " + mmss(target) : "");
      box.classList.toggle("over", target > 0 && spent > target);
    }
    band(p);
    checkLogin();
  }
  function band(p) {
    const box = p.querySelector(".talk-band");
    const since = stateBox && Number(stateBox.dataset.answeredAt || 0);
    if (!box) return;
    box.hidden = !(since && talkingCall());
    if (box.hidden) return;
    const lo = Number(p.dataset.bandMin), hi = Number(p.dataset.bandMax);
    const scale = hi * 1.25;
    const talk = (Date.now() - since) / 1000;
    box.querySelector(".band-zone").style.left = (100 * lo / scale) + "%";
    box.querySelector(".band-zone").style.width = (100 * (hi - lo) / scale) + "%";
    box.querySelector(".band-now").style.left = Math.min(100, 100 * talk / scale) + "%";
    box.classList.toggle("in-band", talk >= lo && talk <= hi);
    box.classList.toggle("past-band", talk > hi);
    const text = box.querySelector(".band-text");
    const target = mmss(lo).replace(/:00$/, "") + "–" + mmss(hi).replace(/:00$/, "") + " мин";
    if (talk < lo) text.textContent = "разговор " + mmss(talk) + ": до нормы " + target + " ещё " + mmss(lo - talk);
    else if (talk <= hi) text.textContent = "разговор " + mmss(talk) + ": в норме " + target;
    else text.textContent = "разговор " + mmss(talk) + ": дольше " + mmss(hi).replace(/:00$/, "") + " мин";
  }

  // On the login step, ask every so often whether the client's login has arrived in the usage data (measured,
  // never ticked); once it has, say so and stop asking.
  const LOGIN_POLL_MS = 15000;
  let loginAskedAt = 0;
  let loginFound = null;  // linkedid whose login was found
  async function checkLogin() {
    const linkedid = talkingCall();
    const current = steps()[currentIndex()];
    if (!linkedid || !current || !current.classList.contains("login-step") || loginFound === linkedid) return;
    if (Date.now() - loginAskedAt < LOGIN_POLL_MS) return;
    loginAskedAt = Date.now();
    try {
      const response = await fetch("/calls/" + encodeURIComponent(linkedid) + "/login",
                                   { credentials: "same-origin", headers: { "Accept": "application/json" } });
      if (!response.ok) return;
      const found = await response.json();
      if (!found.logged_in) return;
      loginFound = linkedid;
      document.querySelectorAll('#script-steps [data-testid="live-login"]').forEach((box) => {
        box.textContent = "Клиент зашёл в систему в " + found.at + (found.who ? " (" + found.who + ")" : "") +
                          " — по данным онлайн-версии";
        box.hidden = false;
      });
    } catch (e) { /* the next tick asks again */ }
  }

  document.addEventListener("keydown", (e) => {
    if (!panel() || typing(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.code === "ArrowRight" || e.code === "Space") {
      e.preventDefault();
      go(currentIndex() + 1);
    }
  });
  document.addEventListener("click", (e) => {
    const target = e.target.closest && e.target.closest("#script-steps [data-go]");
    if (target) { goKey(target.dataset.go); target.blur(); }  // Space next goes on, not clicks it again
  });
  if (stateBox) new MutationObserver(onCallState).observe(stateBox, { attributes: true, attributeFilter: ["data-state", "data-linkedid", "data-answered-at"] });
  const pane = document.querySelector('[data-testid="script"]');
  if (pane && pane.parentNode) new MutationObserver(onPanelSwap).observe(pane.parentNode, { childList: true });
  setInterval(tick, 1000);
  onCallState();
})();
