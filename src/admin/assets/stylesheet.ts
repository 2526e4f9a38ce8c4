/**
 * The admin page's one stylesheet, served as /assets/admin.css: the Content-Security-Policy
 * allows no inline <style> and no style="" attribute, so every look is a class here.
 */
export const STYLESHEET = `
  :root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --line: #d9dde5; --accent: #2456c6; --bad: #b3261e; --ok: #1b7a3d; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f6f7f9; }
  header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #1d2330; color: #fff; }
  header a { color: #fff; text-decoration: none; opacity: .8; }
  header a.current, header a:hover { opacity: 1; text-decoration: underline; }
  header .brand { font-weight: 600; opacity: 1; }
  header .who { margin-left: auto; display: flex; gap: 12px; align-items: center; font-size: 13px; }
  header form { margin: 0; }
  header button { background: transparent; color: #fff; border: 1px solid #fff8; border-radius: 4px; padding: 3px 10px; cursor: pointer; }
  main { max-width: 1100px; margin: 0 auto; padding: 20px 24px 48px; }
  h1 { font-size: 22px; margin: 6px 0 14px; }
  h2 { font-size: 17px; margin: 26px 0 8px; }
  section.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; margin: 14px 0; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); font-size: 14px; }
  th { color: var(--muted); font-weight: 600; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  a { color: var(--accent); }
  .muted { color: var(--muted); }
  .tag { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px; background: #fff4d6; color: #6b4e00; }
  tr.provisional td { background: #fffbef; }
  .error { color: var(--bad); font-size: 13px; margin: 2px 0 0; }
  .notice { padding: 8px 12px; border-radius: 6px; background: #eef3ff; border: 1px solid #c9d6f7; }
  .notice.bad { background: #fdeceb; border-color: #f1c0bc; }
  .field { display: flex; flex-direction: column; gap: 2px; margin: 0 16px 10px 0; }
  .row { display: flex; flex-wrap: wrap; align-items: flex-start; }
  label { font-size: 13px; color: var(--muted); }
  label.check { display: flex; gap: 6px; align-items: center; color: var(--ink); font-size: 14px; margin-top: 20px; }
  input[type=text], input[type=email], input[type=password], input[type=date], input[type=search], select {
    font: inherit; padding: 5px 8px; border: 1px solid var(--line); border-radius: 4px; min-width: 150px; }
  input[aria-invalid=true] { border-color: var(--bad); }
  button.primary { font: inherit; background: var(--accent); color: #fff; border: 0; border-radius: 4px; padding: 6px 16px; cursor: pointer; margin-top: 18px; }
  .status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; background: #e8eaef; }
  .status.COMPLETED { background: #dff3e5; color: var(--ok); }
  .status.RUNNING { background: #e3ebfd; color: var(--accent); }
  .status.FAILED, .status.TERMINATED, .status.TIMED_OUT, .status.CANCELLED { background: #fdeceb; color: var(--bad); }
  .check { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; background: #e8eaef; }
  .check.ok { background: #dff3e5; color: var(--ok); }
  .check.warn { background: #fff4d6; color: #6b4e00; }
  .check.fail { background: #fdeceb; color: var(--bad); font-weight: 600; }
  .pager { display: flex; gap: 14px; margin: 10px 0; }
  svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
  progress { width: 320px; }
  section.card > h2:first-child { margin-top: 0; }
  .hint { font-size: 12px; }
  section.card.narrow { max-width: 420px; margin: 40px auto; }
  section.card.medium { max-width: 480px; margin: 30px auto; }
  svg.chart { max-width: 720px; }
  pre.payload { margin: 4px 0 0; max-width: 420px; max-height: 300px; overflow: auto; white-space: pre-wrap; word-break: break-all; font-size: 12px; background: #f6f7f9; padding: 6px 8px; border-radius: 4px; }
`;
