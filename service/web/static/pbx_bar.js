// DS Desk — the bar «нет связи с АТС с 10:42 — звонки не записываются» on the desk and the board.
// The page renders it as the server saw the AMI link; desk.js and board.js hand it each `pbx`
// event and each snapshot's `pbx` field (service/pbx_link.py link_payload), so it comes and goes live.
"use strict";
window.DsDeskPbxBar = function (link) {
  const bar = document.getElementById("pbx-bar");
  if (!bar || link === undefined) return;
  const down = Boolean(link) && !link.connected;
  bar.dataset.status = link ? link.status : "";
  bar.querySelector(".pbx-bar-text").textContent = down ? link.text || "" : "";
  bar.querySelector(".pbx-bar-detail").textContent = down ? link.detail || "" : "";
  bar.hidden = !down;
};
