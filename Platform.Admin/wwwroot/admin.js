// The panel's only script. Pages are rendered on the server (static SSR, docs/admin.md); this adds the live
// parts: periodic refresh of [data-live] regions, the conversation live tail, copy buttons, confirmation
// dialogs, toasts and a loading bar. Everything it fetches is an HTML fragment rendered by the server.
(() => {
  'use strict';

  const toast = (message, kind = 'ok') => {
    const host = document.querySelector('.toasts');
    if (!host || !message) return;
    const el = document.createElement('div');
    el.className = `toast ${kind}`;
    el.setAttribute('role', 'status');
    el.textContent = message;
    host.appendChild(el);
    setTimeout(() => el.classList.add('leaving'), 4000);
    setTimeout(() => el.remove(), 4600);
  };

  const fetchFragment = async (url) => {
    const response = await fetch(url, { headers: { 'Accept': 'text/html' }, credentials: 'same-origin', redirect: 'manual' });
    if (response.type === 'opaqueredirect' || response.status === 401) {
      location.reload(); // the session ended: let the server send us to sign-in
      return null;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.text();
  };

  const setLiveStatus = (ok) => {
    for (const el of document.querySelectorAll('[data-live-status]')) el.classList.toggle('stale', !ok);
  };

  // Regions refreshed as a whole (the overview).
  const refresh = (region) => {
    const interval = Number(region.dataset.interval || 5000);
    const tick = async () => {
      if (!document.hidden) {
        try {
          const html = await fetchFragment(region.dataset.live);
          if (html !== null) region.innerHTML = html;
          setLiveStatus(true);
        } catch { setLiveStatus(false); }
      }
      setTimeout(tick, interval);
    };
    setTimeout(tick, interval);
  };

  // The live tail: rows after the last seq shown, appended in seq order.
  const tail = (tbody) => {
    const tick = async () => {
      try {
        const after = tbody.dataset.after || '0';
        const html = await fetchFragment(`${tbody.dataset.tail}?after=${encodeURIComponent(after)}`);
        if (html && html.trim()) {
          tbody.insertAdjacentHTML('beforeend', html);
          const rows = tbody.querySelectorAll('tr[data-seq]');
          const last = rows[rows.length - 1];
          tbody.dataset.after = last.dataset.seq;
          for (const el of document.querySelectorAll('[data-activity-count]')) el.textContent = Number(last.dataset.seq).toLocaleString('en');
          for (const el of document.querySelectorAll('[data-tail-empty]')) el.remove();
          last.classList.add('fresh');
          const nearBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 200;
          if (nearBottom) last.scrollIntoView({ block: 'end', behavior: 'smooth' });
        }
        setLiveStatus(true);
      } catch { setLiveStatus(false); }
      setTimeout(tick, document.hidden ? 5000 : 1000);
    };
    setTimeout(tick, 1000);
  };

  // Destructive actions ask first, in a <dialog> rather than window.confirm (which cannot be styled).
  const dialog = () => document.querySelector('dialog.confirm');
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const question = form.dataset.confirm;
    if (question && form.dataset.confirmed !== 'yes' && dialog()) {
      event.preventDefault();
      const d = dialog();
      d.querySelector('#confirm-text').textContent = question;
      d.returnValue = '';
      d.onclose = () => {
        if (d.returnValue === 'ok') {
          form.dataset.confirmed = 'yes';
          form.requestSubmit();
        }
      };
      d.showModal();
      return;
    }
    // Loading state: the button shows progress and cannot be pressed twice.
    const button = form.querySelector('button[type=submit]');
    if (button) { button.classList.add('busy'); button.setAttribute('aria-busy', 'true'); }
    document.body.classList.add('loading');
  });

  document.addEventListener('click', async (event) => {
    const copy = event.target.closest('[data-copy]');
    if (copy) {
      try {
        await navigator.clipboard.writeText(copy.dataset.copy);
        toast('Copied to the clipboard.');
      } catch {
        // Clipboard access needs a secure context; select the text so Ctrl+C works instead.
        const secret = copy.parentElement.querySelector('[data-secret], code');
        if (secret) window.getSelection().selectAllChildren(secret);
        toast('Press Ctrl+C to copy the selected text.', 'info');
      }
      return;
    }
    const link = event.target.closest('a[href]');
    if (link && !link.target && !event.ctrlKey && !event.metaKey && link.origin === location.origin) {
      document.body.classList.add('loading');
    }
  });

  window.addEventListener('pageshow', () => document.body.classList.remove('loading'));

  document.addEventListener('DOMContentLoaded', () => {
    for (const region of document.querySelectorAll('[data-live]')) refresh(region);
    for (const tbody of document.querySelectorAll('tbody[data-tail]')) tail(tbody);
    // Server-rendered toasts (after an action) move into the toast stack; the query flag is dropped so a reload does not repeat it.
    for (const el of document.querySelectorAll('[data-toast]')) { el.remove(); toast(el.textContent, [...el.classList].find(c => c !== 'toast') || 'ok'); }
    const url = new URL(location.href);
    if (url.searchParams.has('toast')) { url.searchParams.delete('toast'); history.replaceState(null, '', url); }
  });
})();
