// Renders docs/bad-input-matrix.md from the case tables the tests run:
//   npx tsx test/bad-input/render-matrix.ts > docs/bad-input-matrix.md
import { pathToFileURL } from 'node:url';
import { LIMITS } from '../../src/contracts.js';
import { adminCases, cliCases, temporalCases, type AdminCase } from './cases.js';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string) => (text ? `\`${text.replace(/`/g, "'")}\`` : '');
const shellWord = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
const messages = (list: string[]) => (list.length ? list.map((m) => code(m)).join(' … ') : '');

function adminInput(testCase: AdminCase): string {
  if (testCase.shown) return testCase.shown;
  const url = decodeURIComponent(testCase.url);
  if (testCase.method === 'GET') return `GET ${url}`;
  if (testCase.raw) return `POST ${url} (${testCase.raw.contentType}) ${typeof testCase.raw.body === 'string' ? testCase.raw.body : ''}`.trim();
  const fields = Object.entries(testCase.form ?? {})
    .filter(([, value]) => value !== null)
    .map(([name, value]) => [value].flat().map((one) => `${name}=${one}`).join('&'))
    .join('&');
  const omitted = Object.entries(testCase.form ?? {}).filter(([, value]) => value === null).map(([name]) => ` (no ${name})`).join('');
  return `POST ${url}${fields ? ` ${fields}` : ''}${omitted}`;
}

function adminOutcome(testCase: AdminCase): string {
  const who = testCase.as && testCase.as !== 'operator' ? ` (as ${testCase.as})` : '';
  if (testCase.field) return `${testCase.status}, next to \`#${testCase.field}\`${who}`;
  if (testCase.status === 303) return `303 to /sign-in${who}`;
  return `${testCase.status}${who}`;
}

export function renderBadInputMatrix(): string {
  const lines: string[] = [];
  const total = cliCases.length + temporalCases.length + adminCases.length;
  lines.push(
    '# Bad-input matrix',
    '',
    '<!-- Generated from test/bad-input/cases.ts by `npx tsx test/bad-input/render-matrix.ts > docs/bad-input-matrix.md`;',
    '     test/bad-input/matrix-doc.test.ts fails when this file and the tables drift apart. Edit the tables, not this file. -->',
    '',
    `Every way a person can hand the report job bad input, through the door they would really use, and`,
    `what they get back. ${total} cases; each row is one test in \`test/bad-input/\` (run them with`,
    '`npx vitest run test/bad-input`).',
    '',
    'Every row also checks that **nothing changed**: the rows of `customers`, `orders`, `daily_reports`,',
    '`report_emails`, `admin_users`, `admin_sessions`, `admin_audit` and `pgmigrations` (count and an md5 of',
    'every row\'s text) are identical before and after (in `admin_audit`, apart from the row the admin page writes',
    'to record the refusal itself: `refused: …`, `failed: …`), the SMTP sink\'s mailbox holds the same messages,',
    'and the test\'s task queue holds the same runs. For the Temporal door, each refused run is FAILED with',
    'a non-retryable `ApplicationFailure` of type `InvalidInput`, and its history scheduled no activity',
    'except `findUnavailableCustomers` (no regeneration, no email); a small run of one batch checks',
    'its customers in its one local regeneration step instead, which refuses before it writes anything.',
    '',
    `Limits (\`LIMITS\` in \`src/contracts.ts\`): a period of at most ${LIMITS.maxRangeDays} days, at most`,
    `${LIMITS.maxCustomerIds} customer ids, batch size 1–${LIMITS.maxBatchSize}, parallelism 1–${LIMITS.maxParallelism}.`,
    'The data set is the small demo: customers 1–40, every 17th inactive (17, 34).',
    '',
    `## 1. Our CLIs (${cliCases.length} cases)`,
    '',
    'Child processes `node --import tsx scripts/<script>.ts …` (what `npm run <script> -- …` runs), with',
    '`DATABASE_URL`, `TEMPORAL_ADDRESS`, `TEMPORAL_TASK_QUEUE` and `SMTP_URL` pointing at the test\'s own',
    'database, server, queue and SMTP sink, plus the row\'s settings if it names any. Exit 2 is a usage error (bad flag,',
    'input or setting, refused before anything starts); exit 1 is an error from a service (here: Temporal has no such',
    'run or schedule). The message is on stderr.',
    '',
    '| # | command | case | input | stderr says | exit |',
    '|---|---|---|---|---|---|',
  );
  cliCases.forEach((c, i) => {
    const settings = Object.entries(c.env ?? {}).map(([name, value]) => `${name}=${shellWord(value)}`).join(' ');
    const input = `${settings ? `(settings: ${settings}) ` : ''}${c.shown ?? c.args.map(shellWord).join(' ')}`.trim();
    const command = c.script === 'start' ? 'npm start' : `npm run ${c.script} --`;
    lines.push(`| ${i + 1} | \`${command}\` | ${cell(c.label)} | ${cell(code(input))} | ${cell(messages(c.messages))} | ${c.exitCode} |`);
  });
  lines.push(
    '',
    `## 2. \`temporal workflow start --input\` (${temporalCases.length} cases)`,
    '',
    'The real, pinned `temporal` binary: `temporal workflow start --task-queue <queue> --type <the job\'s workflow type>',
    '--workflow-id <id> --input \'…\'`. Nothing checks the input on the way in, so the workflow refuses it: the',
    'run fails at once with a non-retryable `ApplicationFailure` of type `InvalidInput` (seen by a client as',
    '`WorkflowFailedError` whose `cause` is that failure), its message starting `invalid input: ` and naming',
    'the field and the rule. Text that is not JSON is refused by the CLI itself (non-zero exit, no run).',
    '',
    '| # | job | case | `--input` | failure message contains | outcome |',
    '|---|---|---|---|---|---|',
  );
  temporalCases.forEach((c, i) => {
    const input = c.shown ?? c.inputs.map((value) => `'${value}'`).join(' --input ');
    const outcome = c.cliRefuses ? 'the CLI refuses (non-zero exit); no run' : 'run FAILED: `InvalidInput`, non-retryable';
    lines.push(`| ${i + 1} | ${c.job} | ${cell(c.label)} | ${cell(code(input))} | ${cell(messages(c.messages))} | ${outcome} |`);
  });
  lines.push(
    '',
    `## 3. The admin page: forms and JSON API (${adminCases.length} cases)`,
    '',
    'The real fastify app through `app.inject`, signed in as an operator unless the row says otherwise. Form',
    'errors come back as the page again (400) with the message in the `<p class="error">` next to the field',
    '(`#regenerate-reports-from` → `#regenerate-reports-from-error`, input marked `aria-invalid`); the JSON API answers 4xx with',
    '`{"error": …}`. Nothing starts: no run, no email, no `admin_audit` row of a start (the refusal is recorded).',
    '',
    '| # | case | request | message | status, where |',
    '|---|---|---|---|---|',
  );
  adminCases.forEach((c, i) => {
    lines.push(`| ${i + 1} | ${cell(c.label)} | ${cell(code(adminInput(c)))} | ${cell(messages(c.messages))} | ${cell(adminOutcome(c))} |`);
  });
  lines.push(
    '',
    '## Found by this matrix',
    '',
    '- `npm run schedules -- backfill` accepted any span (`--from 2020-01-01 --to 2026-11-01` would queue 2,497',
    '  all-customer runs); it now refuses more than the schedule allows (daily-reports: 31 days) with exit 2, before connecting.',
    '- `regenerateReports` used a second workflow argument (its own continue-as-new state) without validating it:',
    '  `temporal workflow start … --input \'{…}\' --input \'{"input":{…}}\'` bypassed every limit. A first run given',
    '  a second argument now fails with `InvalidInput`.',
    '- A NUL byte in the admin search box or in the sign-in email answered 500 (PostgreSQL cannot bind text',
    '  containing 0x00); it is now simply no match. (The search-box side is in `test/security/sql-injection.test.ts`.)',
    '- `GET /customers/1?from=0000-01-01` answered 500 (PostgreSQL has no year 0000); every door now refuses days',
    '  outside 1900-01-01..9999-12-31 and says so (flags, the workflow input, both admin forms).',
    '- `REPORT_BATCH_SIZE=6000` or `REPORT_PARALLELISM=64` started fine and made every scheduled run fail with',
    '  `InvalidInput`; the settings are now checked at start-up against the same limits (exit 2, naming the variable).',
    '',
    'Related: `test/security/` walks every admin route by role, sends SQL-looking, unicode and very long text',
    'through the search box and ids, and scans process output and workflow histories for secrets and personal data.',
    '',
  );
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.stdout.write(renderBadInputMatrix());
