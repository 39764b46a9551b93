// Small conveniences only: every page works without this script.
document.addEventListener('DOMContentLoaded', () => {
  // A copy button beside a secret shown once.
  for (const b of document.querySelectorAll('button[data-copy]')) {
    b.hidden = false;
    b.addEventListener('click', async () => {
      const el = document.getElementById(b.getAttribute('data-copy'));
      if (!el) return;
      try { await navigator.clipboard.writeText(el.textContent.trim()); b.textContent = 'Copied'; } catch { b.textContent = 'Select and copy'; }
    });
  }
  // A form that creates something sends once: a double click would otherwise send it twice, and the
  // browser would show the second answer (the server makes nothing twice, but the first answer's
  // secrets would be lost from view).
  for (const f of document.querySelectorAll('form[data-once]')) {
    f.addEventListener('submit', () => { for (const b of f.querySelectorAll('button[type="submit"]')) b.disabled = true; });
  }
  // Filter selects apply at once; the Search button still does the same without script. Only on
  // search forms: a select in a form that changes something (a new merchant, a rotation) waits for its button.
  for (const s of document.querySelectorAll('form.filters[method="get"] select')) {
    s.addEventListener('change', () => s.form.requestSubmit());
  }
});
