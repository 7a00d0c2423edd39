// DS Desk — the supervisor's live board: Experts' states pushed over SSE (GET /live), listening in.
// The state rules mirror service/board.py (board_state): a call up, then a wrap-up owed, then a
// pause, then away (a pause declared after the call owing a wrap-up ended shows instead of it, with
// a note: service/board.py paused_after). Every state but «свободен» and «нет на месте» shows its
// time; a wrap-up owed longer than desk.wrapup_warn_s turns the card amber, on a pause too.
"use strict";
(function () {
  const board = document.getElementById("board");
  if (!board) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const link = document.getElementById("board-link");
  const message = document.getElementById("board-message");
  const LABELS = JSON.parse(board.dataset.stateLabels);  // texts/labels.py BOARD_STATE_LABELS
  const WARN_S = Number(board.dataset.wrapupWarnS) || 300;
  const OWED = board.dataset.wrapupOwed;  // «итоги звонка не сохранены»
  // extension → {card, calls: Map(linkedid → payload), present, absent, needsWrapup, wrapupSince, wrapupClient, pause}
  const experts = new Map();

  for (const card of board.querySelectorAll(".board-card")) {
    const ext = card.dataset.ext;
    if (!ext) continue;
    experts.set(ext, {
      card, calls: new Map(), present: card.dataset.present === "1", absent: card.dataset.absent === "1",
      needsWrapup: card.dataset.needsWrapup === "1", wrapupSince: card.dataset.wrapupSince || null,
      wrapupClient: card.dataset.wrapupClient || null,
      pause: card.dataset.pauseSince ? { reason: card.dataset.pauseReason, since: card.dataset.pauseSince } : null,
    });
  }

  function mmss(seconds) {
    const s = Math.max(0, Math.round(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  function last(list) { return list.length ? list[list.length - 1] : null; }

  // service/board.py board_state, for the events pushed since the page was rendered.
  function stateOf(expert) {
    const up = [...expert.calls.values()].filter((c) => c.state !== "ended");
    const talking = last(up.filter((c) => c.state === "talking"));
    if (talking) return { state: "talking", since: talking.answered_at || talking.at, call: talking };
    const ringing = last(up.filter((c) => c.state === "dialling" || c.state === "ringing"));
    if (ringing) return { state: "ringing", since: ringing.at, call: ringing };
    if (expert.needsWrapup && !pausedAfter(expert)) return { state: "wrapup", since: expert.wrapupSince };
    if (expert.pause && !expert.absent) return { state: "pause", since: expert.pause.since, reason: expert.pause.reason };
    if (expert.absent || !expert.present) return { state: "away" };
    return { state: "available" };
  }

  // service/board.py paused_after: a pause declared once the call owing a wrap-up had ended.
  function pausedAfter(expert) {
    if (!expert.pause || expert.absent || !expert.wrapupSince) return false;
    return Date.parse(expert.pause.since) >= Date.parse(expert.wrapupSince);
  }

  function render(expert) {
    const now = stateOf(expert);
    const card = expert.card;
    card.dataset.state = now.state;
    card.className = card.className.replace(/\bstate-\w+/, "state-" + now.state);
    card.dataset.since = now.since || "";
    card.dataset.linkedid = now.call ? now.call.linkedid : "";
    card.querySelector(".state-label").textContent = LABELS[now.state] + (now.reason ? ": " + now.reason : "");
    const client = now.call ? (now.call.client_name || now.call.client_number) : now.state === "wrapup" ? expert.wrapupClient : "";
    card.querySelector(".client").textContent = client || "";
    const owedOnPause = expert.needsWrapup && now.state === "pause";
    card.dataset.owedSince = expert.needsWrapup && expert.wrapupSince ? expert.wrapupSince : "";
    const owed = card.querySelector(".owed");
    owed.hidden = !owedOnPause;
    owed.querySelector(".owed-text").textContent = OWED + (expert.wrapupClient ? ": " + expert.wrapupClient : "");
    card.querySelector(".listen").hidden = now.state !== "talking";
    tick(card);
  }
  function elapsedSince(iso) {
    const since = iso ? Date.parse(iso) : NaN;
    return Number.isNaN(since) ? null : Math.max(0, (Date.now() - since) / 1000);
  }
  function tick(card) {
    const elapsed = elapsedSince(card.dataset.since);
    card.querySelector(".timer").textContent = elapsed === null ? "" : mmss(elapsed);
    const owed = elapsedSince(card.dataset.owedSince);  // a wrap-up owed, shown or under a pause
    card.querySelector(".owed-timer").textContent = owed === null ? "" : mmss(owed);
    card.classList.toggle("overdue", owed !== null && owed > WARN_S);
  }
  setInterval(() => experts.forEach((e) => tick(e.card)), 1000);  // the timers (no requests)

  function showProgress(expert, data) {
    const card = expert.card;
    card.querySelector(".progress").textContent = data.progress.text;
    const pacing = card.querySelector(".pacing");
    pacing.textContent = data.progress.pacing;  // empty with no plan: no verdict
    pacing.classList.toggle("behind", Boolean(data.progress.pacing) && data.progress.behind > 0);
    pacing.classList.toggle("on-plan", Boolean(data.progress.pacing) && !(data.progress.behind > 0));
  }

  // After a call ends or is wrapped up: the ledger's word on the wrap-up, and the new progress.
  // An `ended` event comes only once the ledger has committed the call, so it is there to read.
  async function refresh(ext) {
    const query = new URLSearchParams(ext ? { ext } : {});
    try {
      const response = await fetch("/board/state?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const data = await response.json();
      for (const item of data.experts) {
        const expert = experts.get(item.ext);
        if (!expert) continue;
        expert.needsWrapup = item.needs_wrapup;
        expert.wrapupSince = item.wrapup_since;
        // The queue names the call's client and contact; else keep what its `ended` event said.
        expert.wrapupClient = item.needs_wrapup ? (item.wrapup_client || expert.wrapupClient) : null;
        expert.pause = item.pause;
        expert.absent = item.absent;
        showProgress(expert, item);
        render(expert);
      }
    } catch (e) { /* offline for a moment: the next event refreshes again */ }
  }

  // ---- the live stream ---------------------------------------------------------------
  function onCall(call) {
    const expert = experts.get(call.expert_ext);
    if (!expert) return;
    if (call.state === "ended") {
      expert.calls.delete(call.linkedid);
      // Every call is wrapped up but the Expert's own miss; the ledger confirms in refresh().
      expert.needsWrapup = call.outcome !== "expert_no_answer";
      expert.wrapupSince = call.ended_at || call.at;
      expert.wrapupClient = call.client_name || call.client_number || null;
      render(expert);
      refresh(call.expert_ext);
      return;
    }
    expert.calls.set(call.linkedid, call);
    render(expert);
  }
  let snapshots = 0;
  function onSnapshot(data) {
    snapshots += 1;
    if (window.DsDeskPbxBar) window.DsDeskPbxBar(data.pbx);
    const present = new Set(data.present || []);
    experts.forEach((expert, ext) => { expert.calls.clear(); expert.present = present.has(ext); });
    for (const call of data.calls || []) {
      const expert = experts.get(call.expert_ext);
      if (expert) expert.calls.set(call.linkedid, call);
    }
    experts.forEach(render);
    // A reconnect may have missed an `ended` or `wrapup`: ask the ledger once (the page itself is fresh).
    if (snapshots > 1) refresh("");
  }
  function connect() {
    if (!window.EventSource) return;
    const source = new EventSource("/live");
    source.addEventListener("snapshot", (m) => onSnapshot(JSON.parse(m.data)));
    source.addEventListener("pbx", (m) => { if (window.DsDeskPbxBar) window.DsDeskPbxBar(JSON.parse(m.data)); });
    source.addEventListener("originate_failed", (m) => {
      const failure = JSON.parse(m.data);  // the supervisor's phone could not be rung: say why
      if (failure.kind !== "spy") return;
      failedDuringClick = true;  // it may come before the click's own answer: that must not cover it
      say(failure.text, true);
    });
    source.addEventListener("call", (m) => onCall(JSON.parse(m.data)));
    source.addEventListener("presence", (m) => {
      const data = JSON.parse(m.data);
      const expert = experts.get(data.expert_ext);
      if (expert) { expert.present = data.present; render(expert); }
    });
    source.addEventListener("status", (m) => {  // an Expert declared a pause or «готов» (service/web/desk_status.py)
      const data = JSON.parse(m.data);
      const expert = experts.get(data.expert_ext);
      if (!expert) return;
      expert.pause = data.status === "pause" ? { reason: data.reason, since: data.at } : null;
      render(expert);
    });
    source.addEventListener("wrapup", (m) => {
      const data = JSON.parse(m.data);
      if (experts.has(data.expert_ext)) refresh(data.expert_ext);
    });
    source.onopen = () => { link.textContent = "в реальном времени"; link.dataset.state = "live"; };
    source.onerror = () => { link.textContent = "связь с сервером восстанавливается…"; link.dataset.state = "reconnecting"; };
  }

  // ---- listening in --------------------------------------------------------------------
  function say(text, isError) {
    message.textContent = text;
    message.classList.toggle("error", Boolean(isError));
    message.hidden = !text;
  }
  let failedDuringClick = false;
  async function listen(ext, mode) {
    say("", false);
    failedDuringClick = false;
    try {
      const response = await fetch("/board/listen", {
        method: "POST", credentials: "same-origin", body: new URLSearchParams({ expert: ext, mode }),
        headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
      });
      let payload = {};
      try { payload = await response.json(); } catch (e) { /* not JSON */ }
      if (!response.ok) { say(payload.error || ("Ошибка " + response.status), true); return; }
      if (!failedDuringClick) say(payload.message || "Звоним на ваш телефон", false);
    } catch (e) { say("Нет связи с сервером DS Desk", true); }
  }
  board.addEventListener("click", (e) => {
    const button = e.target.closest(".listen-btn");
    if (!button) return;
    const card = button.closest(".board-card");
    listen(card.dataset.ext, button.dataset.mode);
  });

  experts.forEach((e) => tick(e.card));
  connect();
})();
