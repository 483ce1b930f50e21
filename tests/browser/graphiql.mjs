// GraphiQL in a real browser with no network but this machine's loopback: Debian's Chromium,
// headless, opens the server's /graphiql, types a query into the query editor, runs it, waits
// for the result, opens the schema explorer, and saves a screenshot. Fails if the page asked
// for anything off loopback, broke its own Content-Security-Policy, or did not work.
//
//   node graphiql.mjs http://127.0.0.1:18181 [screenshot.png]
//
// CHROMIUM names the browser (default /usr/bin/chromium); STEP_MS bounds each wait (30000).

import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const [base, shotArg] = process.argv.slice(2);
if (!base || !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(base)) {
  console.error('usage: node graphiql.mjs http://127.0.0.1:PORT [screenshot.png]  (a server on loopback)');
  process.exit(2);
}
const pageUrl = `${base.replace(/\/$/, '')}/graphiql`;
const screenshot = resolve(shotArg ?? resolve(here, '../../docs/graphiql-offline.png'));

// What is typed, key by key, into the editor (one line: the editor closes brackets and quotes
// itself, and typing the closing one steps over it), and what the answer must show.
const QUERY = '{ alliance(slug: "tongwulang") { name members { code name } } }';
const EXPECTED = ['通武廊', '通州区', '武清区', '廊坊市'];
const STEP_MS = Number(process.env.STEP_MS) || 30_000;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const offLoopback = []; // requests the page attempted to anywhere else
const problems = []; // page errors and CSP violations
const notes = []; // other console errors, shown but not fatal

const started = Date.now();
const log = (message) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', // root in CI
    // No network but loopback, for the browser itself too: names other than these resolve to
    // nothing, and whatever is not loopback goes to a proxy that is not there (port 9).
    '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1',
    '--proxy-server=http://127.0.0.1:9',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-domain-reliability',
    '--no-first-run',
  ],
});

let failure;
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US' });
  // Every request the page makes passes here: loopback goes on, anything else is recorded and refused.
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (LOOPBACK.has(url.hostname) || url.hostname === '::1') return route.continue();
    offLoopback.push(`${route.request().method()} ${url.href}`);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('websocket', (ws) => {
    const host = new URL(ws.url()).hostname;
    if (!LOOPBACK.has(host)) offLoopback.push(`WEBSOCKET ${ws.url()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    const text = message.text();
    if (/Content Security Policy/i.test(text)) problems.push(`CSP violation: ${text}`);
    else if (message.type() === 'error') notes.push(`console error: ${text}`);
  });
  const graphqlPosts = [];
  page.on('response', async (response) => {
    const request = response.request();
    if (new URL(request.url()).pathname !== '/graphql') return;
    graphqlPosts.push(`${request.method()} ${request.headers()['content-type'] ?? '-'} -> ${response.status()}`);
  });

  log(`opening ${pageUrl} in ${await browser.version()}`);
  const response = await page.goto(pageUrl, { waitUntil: 'load', timeout: STEP_MS });
  if (!response || !response.ok()) throw new Error(`GET ${pageUrl} answered ${response && response.status()}`);
  if (!response.headers()['content-security-policy']) throw new Error('the page has no Content-Security-Policy header');

  const queryEditor = page.locator('.graphiql-query-editor .CodeMirror');
  await queryEditor.waitFor({ state: 'visible', timeout: STEP_MS });
  log('GraphiQL rendered: query editor visible');
  // The schema arrives by introspection; the explorer and completion need it.
  const docsButton = page.locator('button[aria-label="Show Documentation Explorer"]');
  await docsButton.waitFor({ state: 'visible', timeout: STEP_MS });

  // Type the query as a person would: click into the editor, select all, type over it.
  await queryEditor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(QUERY, { delay: 15 });
  await page.keyboard.press('Escape'); // close the completion list, if one is open
  const typed = await queryEditor.evaluate((el) => el.CodeMirror.getValue());
  if (typed.trim() !== QUERY) throw new Error(`the editor holds ${JSON.stringify(typed)}, not what was typed`);
  log(`typed into the query editor: ${typed}`);
  // Lay it out on several lines (the toolbar's prettify button), as one would to read it.
  await page.locator('button[aria-label="Prettify query (Shift-Ctrl-P)"]').click();
  const pretty = await queryEditor.evaluate((el) => el.CodeMirror.getValue());
  const words = (text) => text.replace(/[{}()]/g, ' $& ').split(/\s+/).filter(Boolean).join(' ');
  if (words(pretty) !== words(QUERY) || !pretty.includes('\n')) {
    throw new Error(`prettify left ${JSON.stringify(pretty)}`);
  }
  log(`prettified: ${pretty.split('\n').length} lines`);

  await page.locator('button.graphiql-execute-button').click();
  log('clicked the run button');
  const responsePane = page.locator('.graphiql-response');
  try {
    await page.waitForFunction(
      (expected) => {
        const text = document.querySelector('.graphiql-response')?.innerText ?? '';
        return expected.every((value) => text.includes(value));
      },
      EXPECTED,
      { timeout: STEP_MS },
    );
  } catch (error) {
    throw new Error(`the result pane never showed ${EXPECTED.join(', ')}; it shows: ${await responsePane.innerText()}`);
  }
  const result = JSON.parse(await page.locator('.graphiql-response .CodeMirror').evaluate((el) => el.CodeMirror.getValue()));
  if (result.errors) throw new Error(`the query answered errors: ${JSON.stringify(result.errors)}`);
  log(`result pane shows data: ${JSON.stringify(result.data)}`);
  log(`requests to /graphql: ${graphqlPosts.join('; ')}`);
  if (!graphqlPosts.some((p) => p.startsWith('POST application/json') && p.endsWith('-> 200'))) {
    throw new Error(`no JSON POST to /graphql succeeded: ${graphqlPosts.join('; ')}`);
  }

  // The schema explorer: open it, go to the query type, find a field and its type.
  await docsButton.click();
  const explorer = page.locator('.graphiql-doc-explorer');
  await explorer.waitFor({ state: 'visible', timeout: STEP_MS });
  await explorer.getByRole('link', { name: 'Query', exact: true }).first().click();
  for (const field of ['regions', 'alliance']) {
    await explorer
      .locator('.graphiql-doc-explorer-field-name', { hasText: new RegExp(`^${field}$`) })
      .first()
      .waitFor({ timeout: STEP_MS });
  }
  log('schema explorer lists the Query type with its fields regions and alliance');
  await explorer.locator('a.graphiql-doc-explorer-type-name', { hasText: /^Alliance$/ }).first().click();
  await explorer.locator('.graphiql-doc-explorer-title', { hasText: /^Alliance$/ }).waitFor({ timeout: STEP_MS });
  await explorer.locator('.graphiql-doc-explorer-field-name', { hasText: /^members$/ }).first().waitFor({ timeout: STEP_MS });
  log('schema explorer opened type Alliance: field members listed');

  mkdirSync(dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot });
  log(`screenshot saved: ${screenshot}`);
} catch (error) {
  failure = error;
} finally {
  await browser.close();
}

for (const note of notes) console.log(`note: ${note}`);
if (offLoopback.length) {
  console.error(`FAIL: the page asked for ${offLoopback.length} thing(s) off this machine:`);
  for (const request of offLoopback) console.error(`  ${request}`);
}
for (const problem of problems) console.error(`FAIL: ${problem}`);
if (failure) console.error(`FAIL: ${failure.message}`);
if (failure || offLoopback.length || problems.length) process.exit(1);
console.log(`GraphiQL offline check passed in ${((Date.now() - started) / 1000).toFixed(1)}s: no request left loopback`);
