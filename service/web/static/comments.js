// DS Desk — comments on a call's recording (templates/calllog/_comments.html): the timeline under the player,
// its marks, the m:ss links, `?t=` and the comment forms. The server checks everything again.
"use strict";
(function () {
  const box = document.getElementById("rec-comments");
  if (!box) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const player = document.querySelector('#recording audio[data-testid="player"]');
  const timeline = box.querySelector(".rc-timeline");
  const playhead = box.querySelector(".rc-playhead");
  const pick = box.querySelector(".rc-pick");
  const newForm = box.querySelector(".rc-new-form");
  const length = parseFloat(box.dataset.length) || 0;
  let playingMark = null;

  function mmss(seconds) {
    const s = Math.max(0, Math.round(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  function percent(seconds) {
    return length > 0 ? Math.min(100, Math.max(0, seconds / length * 100)) + "%" : "0%";
  }

  // The player is preload="none": nothing is known of the file until asked, so a seek waits for its metadata.
  function whenReady(then) {
    if (!player) return;
    if (player.readyState >= 1) { then(); return; }
    player.addEventListener("loadedmetadata", then, { once: true });
    if (player.networkState !== HTMLMediaElement.NETWORK_LOADING) {
      player.preload = "metadata";
      player.load();
    }
  }
  function seek(seconds, play) {
    whenReady(() => {
      player.currentTime = seconds;
      if (play) player.play().catch(() => { /* the browser refused to autoplay: the position stays */ });
    });
  }
  function highlight(element) {
    box.querySelectorAll(".is-highlighted").forEach((el) => el.classList.remove("is-highlighted"));
    if (element) element.classList.add("is-highlighted");
  }

  // ---- the timeline: a click picks the time of a new comment, a mark plays from its comment ----
  if (timeline) {
    timeline.addEventListener("click", (event) => {
      const mark = event.target.closest(".rc-mark");
      if (mark) { playMark(mark); return; }
      const rect = timeline.getBoundingClientRect();
      const at = Math.round(Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width)) * length);
      choose(at);
      seek(at, false);
      newForm.querySelector("textarea").focus();
    });
  }
  function playMark(mark) {
    if (player && !player.paused && playingMark === mark) { player.pause(); return; }
    playingMark = mark;
    seek(parseFloat(mark.dataset.at), true);
    highlight(document.getElementById("comment-" + mark.dataset.comment));
  }
  function choose(at) {
    newForm.querySelector('input[name="at"]').value = mmss(at);
    showPick(at);
  }
  function showPick(at) {
    if (!pick) return;
    pick.style.left = percent(at);
    pick.hidden = false;
  }
  if (player && playhead) {
    player.addEventListener("timeupdate", () => { playhead.style.left = percent(player.currentTime); });
  }
  // Typing a time moves the pick on the timeline too (m:ss or seconds; the server has the last word).
  newForm.querySelector('input[name="at"]').addEventListener("input", (event) => {
    const match = /^\s*(?:(\d{1,4}):)?(\d{1,6})(?:[.,]\d+)?\s*$/.exec(event.target.value);
    if (match) showPick((match[1] ? parseInt(match[1], 10) * 60 : 0) + parseInt(match[2], 10));
  });

  // ---- the m:ss links of the list: play from there, and keep the place in the address ----
  box.querySelectorAll("a.rc-at").forEach((link) => {
    link.addEventListener("click", (event) => {
      if (!player) return;  // no player (the recording is gone): the link just opens the place
      event.preventDefault();
      history.replaceState(null, "", link.href);
      seek(parseFloat(link.dataset.at), true);
      highlight(link.closest(".rc-thread"));
    });
  });

  // ---- the forms: sent by fetch; refused, the message shows under the form and nothing is saved ----
  // A message from the last try is stale as soon as she tries again. A required field left empty stops the
  // submit before "submit" fires (the browser shows its own hint), so "invalid" clears the message too.
  function clearError(form) {
    const errorBox = form.querySelector(".rc-error");
    errorBox.textContent = "";
    errorBox.hidden = true;
  }
  box.querySelectorAll("form.rc-form").forEach((form) => {
    form.addEventListener("invalid", () => clearError(form), true);  // "invalid" does not bubble: capture it
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearError(form);
      const errorBox = form.querySelector(".rc-error");
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      try {
        const response = await fetch(form.action, {
          method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin",
          headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
        });
        const text = await response.text();
        let payload = {};
        try { payload = JSON.parse(text); } catch (e) { payload = { error: text }; }
        if (!response.ok) throw new Error(payload.error || ("Ошибка " + response.status));
        go(payload.url);
      } catch (error) {
        errorBox.textContent = error.message;
        errorBox.hidden = false;
        button.disabled = false;
      }
    });
  });
  // The page again at the new comment: a link differing only in its #fragment would not reload by itself.
  function go(url) {
    const next = new URL(url, location.href);
    if (next.pathname + next.search === location.pathname + location.search) {
      history.replaceState(null, "", next);
      location.reload();
    } else {
      location.assign(next);
    }
  }

  // ---- a link's `?t=` and #comment-N: the player starts there and the comment stands out ----
  if (box.dataset.start !== "") seek(parseFloat(box.dataset.start), false);
  const target = /^#comment-\d+$/.test(location.hash) ? document.getElementById(location.hash.slice(1)) : null;
  if (target) {
    highlight(target);
    target.scrollIntoView({ block: "center" });
  }
})();
