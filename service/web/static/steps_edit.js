// DS Desk — the step-script editor: the variable picker inserts «{name}» where the cursor is in a step's text;
// after a button the page returns to the row it concerned; leaving with unsaved edits asks first.
"use strict";
(function () {
  const form = document.getElementById("steps-form");
  if (!form) return;
  const hint = document.querySelector('[data-testid="picker-hint"]');
  let last = null;  // the step text the cursor was last in
  let dirty = false;
  form.addEventListener("focusin", (e) => {
    if (e.target.matches && e.target.matches('textarea[name^="text-"]')) last = e.target;
  });
  form.addEventListener("input", () => { dirty = true; });
  form.addEventListener("submit", () => { dirty = false; });
  window.addEventListener("beforeunload", (e) => {
    if (!dirty) return;
    e.preventDefault();
    e.returnValue = "";  // the browser asks «Покинуть страницу?»: edits are saved only by a button
  });

  document.querySelectorAll(".variable-picker .var").forEach((button) => {
    button.addEventListener("mousedown", (e) => e.preventDefault());  // keep the textarea's cursor
    button.addEventListener("click", () => {
      if (!last || !document.body.contains(last)) {
        if (hint) { hint.textContent = "(сначала щёлкните в текст шага — переменная вставится туда, где курсор):"; hint.classList.add("error"); }
        return;
      }
      if (hint) hint.classList.remove("error");
      const word = "{" + button.dataset.var + "}";
      const start = last.selectionStart ?? last.value.length;
      const end = last.selectionEnd ?? start;
      last.value = last.value.slice(0, start) + word + last.value.slice(end);
      last.focus();
      last.selectionStart = last.selectionEnd = start + word.length;
      dirty = true;
    });
  });

  // Back to the row a button concerned (a new step, a step moved): in view, its title ready to type.
  if (form.dataset.focus !== undefined) {
    const row = document.getElementById("step-row-" + form.dataset.focus);
    if (row) {
      row.scrollIntoView({ block: "center" });
      const title = row.querySelector('input[name^="title-"]');
      if (title) title.focus();
    }
  } else {
    const problem = document.querySelector(".step-row.has-problem");
    if (problem) problem.scrollIntoView({ block: "center" });
  }

  document.querySelectorAll("form[data-confirm]").forEach((f) => {
    f.addEventListener("submit", (e) => { if (!window.confirm(f.dataset.confirm)) e.preventDefault(); });
  });
  form.querySelectorAll("button[data-confirm]").forEach((b) => {
    b.addEventListener("click", (e) => { if (!window.confirm(b.dataset.confirm)) e.preventDefault(); });
  });
})();
