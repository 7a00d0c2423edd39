// DS Desk — the step-script editor: the variable picker inserts «{name}» where the cursor is; rollbacks ask first.
"use strict";
(function () {
  const form = document.getElementById("steps-form");
  if (!form) return;
  let last = null;  // the step text the cursor was last in
  form.addEventListener("focusin", (e) => {
    if (e.target.matches && e.target.matches('textarea[name^="text-"]')) last = e.target;
  });
  document.querySelectorAll(".variable-picker .var").forEach((button) => {
    button.addEventListener("mousedown", (e) => e.preventDefault());  // keep the textarea's cursor
    button.addEventListener("click", () => {
      const area = last || form.querySelector('textarea[name^="text-"]');
      if (!area) return;
      const word = "{" + button.dataset.var + "}";
      const start = area.selectionStart ?? area.value.length;
      const end = area.selectionEnd ?? start;
      area.value = area.value.slice(0, start) + word + area.value.slice(end);
      area.focus();
      area.selectionStart = area.selectionEnd = start + word.length;
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach((f) => {
    f.addEventListener("submit", (e) => { if (!window.confirm(f.dataset.confirm)) e.preventDefault(); });
  });
})();
