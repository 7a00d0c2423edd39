// DS Desk — the script editor: client picker, preview of the unsaved text, the error's line.
"use strict";
(function () {
  const editor = document.getElementById("script-editor");
  if (!editor) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const file = editor.dataset.file;
  const source = document.getElementById("script-source");
  const search = document.getElementById("client-search");
  const clientSelect = document.getElementById("preview-client");
  const contactSelect = document.getElementById("preview-contact");
  const kindSelect = document.getElementById("preview-kind");
  const previewBox = document.getElementById("preview");
  const previewBtn = document.getElementById("preview-btn");
  const cursorLine = document.getElementById("cursor-line");

  function option(value, text, contacts) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    if (contacts) o.dataset.contacts = JSON.stringify(contacts);
    return o;
  }

  function fillContacts() {
    const chosen = clientSelect.selectedOptions[0];
    const contacts = chosen && chosen.dataset.contacts ? JSON.parse(chosen.dataset.contacts) : [];
    contactSelect.replaceChildren(...contacts.map(c =>
      option(String(c.index), c.full_name + (c.position ? " — " + c.position : ""))));
    if (!contacts.length) contactSelect.append(option("", "нет контактов"));
  }

  function fillClients(clients) {
    clientSelect.replaceChildren(...clients.map(c =>
      option(c.external_id, c.name + " (" + c.external_id + ")" + (c.expert_name ? " — " + c.expert_name : ""), c.contacts)));
    if (!clients.length) clientSelect.append(option("", "никого не нашли"));
    fillContacts();
  }

  let searchTimer = null;
  let searchSeq = 0;
  async function runSearch() {
    const seq = ++searchSeq;
    const response = await fetch("/admin/clients?q=" + encodeURIComponent(search.value.trim()),
                                 { credentials: "same-origin", headers: { "Accept": "application/json" } });
    if (!response.ok || seq !== searchSeq) return;  // a newer search is on its way
    fillClients((await response.json()).clients);
  }
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 250);
  });
  clientSelect.addEventListener("change", fillContacts);

  async function preview() {
    previewBtn.disabled = true;
    try {
      const body = new URLSearchParams({
        source: source.value, client: clientSelect.value, contact: contactSelect.value, kind: kindSelect.value,
      });
      const response = await fetch("/admin/scripts/" + encodeURIComponent(file) + "/preview", {
        method: "POST", body, credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf },  // no text/html Accept: a refusal comes back as JSON
      });
      const text = await response.text();
      if ((response.headers.get("Content-Type") || "").startsWith("text/html")) {
        previewBox.innerHTML = text;  // rendered by the server in the sandbox, already escaped
      } else {
        previewBox.textContent = "Ошибка " + response.status + ": " + text;
      }
      const failed = previewBox.querySelector("[data-line]");
      if (failed && failed.dataset.line) showLine(Number(failed.dataset.line));
    } catch (e) {
      previewBox.textContent = "Не удалось связаться с сервером: " + e.message;
    } finally {
      previewBtn.disabled = false;
    }
  }
  previewBtn.addEventListener("click", preview);

  // Put the cursor on line `n` of the textarea and scroll to it.
  function showLine(n) {
    const lines = source.value.split("\n");
    if (n < 1 || n > lines.length) return;
    const start = lines.slice(0, n - 1).reduce((sum, l) => sum + l.length + 1, 0);
    source.focus();
    source.setSelectionRange(start, start + lines[n - 1].length);
    const lineHeight = source.scrollHeight / Math.max(lines.length, 1);
    source.scrollTop = Math.max(0, (n - 5) * lineHeight);
    updateCursorLine();
  }
  function updateCursorLine() {
    const line = source.value.slice(0, source.selectionStart).split("\n").length;
    cursorLine.textContent = "строка " + line;
  }
  source.addEventListener("keyup", updateCursorLine);
  source.addEventListener("click", updateCursorLine);

  document.querySelectorAll("form[data-confirm]").forEach(form => {
    form.addEventListener("submit", event => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  fillContacts();
  if (editor.dataset.errorLine) showLine(Number(editor.dataset.errorLine));
})();
