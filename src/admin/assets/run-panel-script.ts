/**
 * The live run panel's polling, served as /assets/admin.js (the Content-Security-Policy allows
 * no inline script). The panel names the run's status URL in `data-poll-url`; the script asks
 * once a second and writes the answer with textContent (never as markup); when the run has
 * ended it reloads the page, which then shows the new rows and the final summary.
 */
export const RUN_PANEL_SCRIPT = `'use strict';
(() => {
  const panel = document.getElementById('run-panel');
  const url = panel && panel.dataset.pollUrl;
  if (!url) return;
  const status = document.getElementById('run-status');
  const line = document.getElementById('run-line');
  const bar = document.getElementById('run-progress');
  async function tick() {
    try {
      const response = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (response.status === 401) { location.href = '/sign-in'; return; }
      const run = await response.json();
      status.textContent = run.status.toLowerCase();
      line.textContent = run.progressText;
      const b = run.bar;
      if (b && b.total > 0) bar.value = b.done / b.total;
      if (run.done) { line.textContent = 'finished, loading the new rows…'; bar.value = 1; location.reload(); return; }
    } catch (error) { line.textContent = 'cannot reach the server, retrying…'; }
    setTimeout(tick, 1000);
  }
  setTimeout(tick, 500);
})();
`;
