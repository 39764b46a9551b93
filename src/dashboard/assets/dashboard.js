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
  // Filter selects wait for the Search button: applied on change, a keyboard user's arrow key on a
  // closed select would reload the page at each step, focus back at its top (WCAG 3.2.2).
});
