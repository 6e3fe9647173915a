// Drives HQ's admin pages of the FieldSync dashboard in a real headless Chromium (Debian's
// /usr/bin/chromium) with playwright-core. Started by tests/tests/dashboard_browser.rs, which
// passes the relay URL as the first argument and logins in FS_* variables. HQ creates a
// supervisor and a store with a code from the admin pages, a duplicate code is refused, the store
// shows with its code in the orders page's store drop-down (sorted by name, then code), the store
// list's and the stores page's searches find it, a checklist template is created, a stores CSV with a bad line is
// previewed (the line shown, nothing written) and a clean one applied (the run's page follows it
// to its outcome) and listed in the history with a link to its run page;
// the new supervisor signs in, sees the store, and is refused the admin pages in the frame.
// Every admin page is checked at 390 px.
// Screenshots land in FS_ARTIFACTS. Prints DONE and exits 0, or prints the failure and exits 1.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const base = process.argv[2];
const env = process.env;
const artifacts = env.FS_ARTIFACTS || 'target/browser-artifacts';
// Generous: a loaded 2-core machine, a debug-build relay.
const TIMEOUT = 90_000;
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function browser() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldsync-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: env.FS_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    chromiumSandbox: false,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
    timeout: TIMEOUT,
  });
  context.setDefaultTimeout(TIMEOUT);
  context.setDefaultNavigationTimeout(TIMEOUT);
  return { context, dir };
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
  console.log(`screenshot ${name}.png`);
}

async function login(page, username, password) {
  await page.goto(`${base}/`);
  await page.waitForSelector('form.login');
  await page.fill('#tenant', env.FS_TENANT);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(`${base}/`), page.click('#sign-in')]);
  await page.waitForSelector('h1:text("Overview")');
}

const STORE_HEADER = 'name,address,customer_id,region,tier,latitude,longitude,rep,supervisor';

let current;
const opened = [];
try {
  fs.mkdirSync(artifacts, { recursive: true });
  const hq = await browser();
  opened.push(hq);
  const page = hq.context.pages()[0] || (await hq.context.newPage());
  current = page;
  await login(page, env.FS_HQ_USER, env.FS_HQ_PASSWORD);
  for (const label of ['Users', 'Store admin', 'Templates', 'Imports']) {
    check(await page.locator(`header a:text-is("${label}")`).count() === 1, `HQ's nav links ${label}`);
  }

  // --- Users: create a north supervisor -------------------------------------------------------
  await page.click('header a:text-is("Users")');
  await page.waitForSelector('#users tbody tr');
  const formOpen = await page.evaluate(() => document.querySelector('details.admin-form').open);
  if (!formOpen) await page.click('details.admin-form summary');
  await page.fill('#new-username', 'nina');
  await page.fill('#new-display-name', 'Nina Nordmann');
  await page.selectOption('#new-role', 'supervisor');
  await page.fill('#new-region', 'north');
  await page.fill('#new-password', 'nina-password-1');
  await page.click('#user-create-submit');
  await page.waitForSelector('#notice:text("Created user nina")');
  check(await page.locator('#users tr[data-user="nina"]').count() === 1, 'the new user is listed');
  check((await page.textContent('#users tr[data-user="nina"]')).includes('Nina Nordmann'), 'with their display name');
  // A second user of the same name is refused on the page.
  if (!(await page.evaluate(() => document.querySelector('details.admin-form').open))) await page.click('details.admin-form summary');
  await page.fill('#new-username', 'nina');
  await page.selectOption('#new-role', 'rep');
  await page.fill('#new-region', 'north');
  await page.fill('#new-password', 'another-password');
  await page.click('#user-create-submit');
  await page.waitForSelector('#admin-error:text("already exists")');
  await page.goto(`${base}/dashboard/admin/users?role=supervisor&region=north`);
  await page.waitForSelector('#users tr[data-user="nina"]');
  await shot(page, 'admin-users');

  // --- Stores: create one with a code; a duplicate code is refused ------------------------------
  await page.click('header a:text-is("Store admin")');
  await page.waitForSelector('#store-list');
  await page.click('#store-new');
  await page.waitForSelector('#store-form');
  const fillStore = async (code, customer) => {
    await page.fill('#store-name', 'Aaa Harbour Kiosk');
    await page.fill('#store-code', code);
    await page.fill('#store-address', 'Kehrwieder 1, Hamburg');
    await page.fill('#store-customer', customer);
    await page.fill('#store-region', 'north');
    await page.selectOption('#store-tier', 'B');
    await page.fill('#store-latitude', '53.5430');
    await page.fill('#store-longitude', '9.9880');
    await page.fill('#store-geofence', '120');
    await page.selectOption('#store-rep', env.FS_REP_USER);
    await page.selectOption('#store-supervisor', 'nina');
  };
  await fillStore('N-900', 'C-9000');
  await shot(page, 'admin-store-new');
  await page.click('#store-save');
  await page.waitForSelector('#notice:text("Created store Aaa Harbour Kiosk (N-900)")');
  check(await page.locator('#store-list tbody tr[data-id]').count() === 1, 'the list shows the new store');
  await page.goto(`${base}/dashboard/admin/stores/new`);
  await fillStore('N-900', 'C-9001');
  await page.click('#store-save');
  await page.waitForSelector('#admin-error');
  const duplicate = await page.textContent('#admin-error');
  check(duplicate.includes('store code "N-900" is already used'), `a duplicate code is refused clearly: ${duplicate}`);
  check(await page.inputValue('#store-name') === 'Aaa Harbour Kiosk', 'the refused form keeps what was typed');
  await shot(page, 'admin-store-duplicate');

  // The store list: search by code or name, with a count.
  await page.goto(`${base}/dashboard/admin/stores`);
  await page.waitForSelector('#store-list tbody tr[data-id]');
  const all = Number((await page.textContent('#store-count')).trim().split(' ')[0]);
  check(all > 1, `the list counts every store: ${all}`);
  await page.fill('#filter-q', 'harbour');
  await Promise.all([page.waitForURL(/q=harbour/), page.click('#store-filters button:text("Filter")')]);
  check(await page.locator('#store-list tbody tr[data-id]').count() === 1, 'the search finds the one store');
  check((await page.textContent('#store-count')).trim().startsWith('1 store'), 'and counts it');
  check((await page.textContent('#store-list tbody tr[data-id]')).includes('N-900'), 'with its code');
  await shot(page, 'admin-stores');
  await page.goto(`${base}/dashboard/admin/stores?limit=5`);
  await page.waitForSelector('#stores-next');
  await page.click('#stores-next');
  await page.waitForSelector('#store-list tbody tr[data-id]');
  check(page.url().includes('after='), 'the next page is a keyset page');

  // The stores page: its search finds the store by code, and counts what it found.
  await page.goto(`${base}/dashboard/stores`);
  await page.waitForSelector('#stores tbody tr[data-store]');
  await page.fill('#filter-q', 'n-900');
  await Promise.all([page.waitForURL(/q=n-900/), page.click('#stores-filters button:text("Show")')]);
  check(await page.locator('#stores tbody tr[data-store]').count() === 1, 'the stores page search finds the one store');
  check((await page.textContent('#store-count')).includes('(1 of '), 'and counts it among all');
  check((await page.textContent('#stores tbody tr[data-store]')).includes('N-900'), 'with its code beside the name');
  await shot(page, 'stores-search');

  // The store in a drop-down, with its code; drop-downs sorted by name, then code.
  await page.goto(`${base}/dashboard/orders`);
  const options = await page.$$eval('#filter-store option', (os) => os.slice(1).map((o) => o.textContent));
  check(options.some((o) => o.startsWith('Aaa Harbour Kiosk (N-900)')), `the store filter names the store with its code: ${options[0]}`);
  const sorted = [...options].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  check(JSON.stringify(options) === JSON.stringify(sorted), 'the store drop-down is sorted by name, then code');
  check(options.some((o) => /\(N-0\d\d\)/.test(o)), 'the demo stores carry codes');

  // --- Imports: a bad line is shown and nothing is written; a clean file is applied -------------
  await page.click('header a:text-is("Imports")');
  await page.waitForSelector('#import-form');
  await page.selectOption('#import-dataset', 'stores');
  const good = `Zed Corner,Elbchaussee 3,C-9100,north,A,53.55,9.90,${env.FS_REP_USER},nina`;
  const bad = `Zed Bad Line,Elbchaussee 5,C-9101,north,Z,53.55,9.90,${env.FS_REP_USER},nina`;
  await page.fill('#import-csv', `${STORE_HEADER}\n${good}\n${bad}\n`);
  await page.click('#import-preview');
  await page.waitForSelector('#import-refused');
  check(await page.locator('#import-errors tr[data-line="3"]').count() === 1, 'the bad line is shown with its number');
  check((await page.textContent('#import-errors tr[data-line="3"]')).includes('tier'), 'with its reason');
  check(await page.locator('#import-apply').count() === 0, 'a refused preview offers no apply');
  await shot(page, 'admin-import-refused');
  const refusedList = await (await page.request.get(`${base}/dashboard/admin/stores?q=zed`)).text();
  check(refusedList.includes('No stores match.'), 'the refused preview wrote nothing');

  // The refused preview kept the text: correct it and preview again.
  check((await page.inputValue('#import-csv')).includes('Zed Bad Line'), 'the refused file is kept in the form');
  await page.fill('#import-csv', `${STORE_HEADER}\n${good}\n`);
  await page.click('#import-preview');
  await page.waitForSelector('#import-clean');
  const before = await (await page.request.get(`${base}/dashboard/admin/stores?q=zed`)).text();
  check(before.includes('No stores match.'), 'a clean preview writes nothing either');
  // Apply sends the file with a bar of the bytes sent and lands on the run's page, which follows
  // the import running in the background until its outcome shows.
  const applies = [];
  const onApply = (request) => {
    if (request.url().endsWith('/dashboard/admin/imports/apply')) applies.push(request.resourceType());
  };
  page.on('request', onApply);
  await Promise.all([page.waitForURL(/\/dashboard\/admin\/imports\/runs\/\d+$/), page.click('#import-apply')]);
  page.off('request', onApply);
  check(applies.join() === 'xhr', `the apply form is sent once, by the page's script: ${applies.join()}`);
  const runPage = page.url();
  await page.waitForSelector('#import-result');
  check((await page.textContent('#import-result')).includes('1 document(s) created'), 'the import reports what it did');
  check(await page.locator('#import-running').count() === 0, 'the ended run shows no progress bar');
  await shot(page, 'admin-import-run');
  const progress = await (await page.request.get(`${runPage}/progress`)).json();
  check(progress.state === 'applied' && progress.ended === true, `the run's progress says it ended: ${JSON.stringify(progress)}`);
  await page.click('#import-back');
  await page.waitForSelector('#import-history');
  check((await page.textContent('#import-history tbody tr')).includes('applied'), 'the history lists the run');
  const runLink = await page.getAttribute('#import-history tbody tr a', 'href');
  check(runPage.endsWith(runLink), `the history links the run's page: ${runLink}`);
  await shot(page, 'admin-import-applied');
  await page.goto(`${base}/dashboard/admin/stores?q=zed`);
  check(await page.locator('#store-list tbody tr[data-id]').count() === 1, 'the applied import wrote the store');

  // --- Checklist templates: create one; a line that does not read is refused ------------------
  await page.click('header a:text-is("Templates")');
  await page.waitForSelector('#template-list');
  await page.click('#template-new');
  await page.fill('#template-name', 'Harbour check');
  await page.fill('#template-items', '2 | photo | Is the kiosk open?\nheavy | | Are prices shown?');
  await page.click('#template-save');
  await page.waitForSelector('#admin-error:text("the weight is not a number")');
  await page.fill('#template-items', '2 | photo | Is the kiosk open?\n1 | | Are prices shown?');
  await page.click('#template-save');
  await page.waitForSelector('#notice:text("Created template Harbour check with 2 item(s)")');
  check(await page.locator('#template-list a:text-is("Harbour check")').count() === 1, 'the template is listed');
  await shot(page, 'admin-templates');

  // --- Phone width: the admin pages fit ----------------------------------------------------------
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [name, url] of [
    ['admin-users', '/dashboard/admin/users'], ['admin-stores', '/dashboard/admin/stores'],
    ['admin-store-new', '/dashboard/admin/stores/new'], ['admin-imports', '/dashboard/admin/imports'],
    ['admin-import-run', new URL(runPage).pathname], ['admin-templates', '/dashboard/admin/templates'],
  ]) {
    const response = await page.goto(`${base}${url}`);
    check(response.status() === 200, `${url} answered ${response.status()}`);
    await page.waitForSelector('main h1');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    check(width <= 390, `${url} is ${width} px wide at 390 px`);
    await shot(page, `phone-${name}`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await Promise.all([page.waitForURL(`${base}/dashboard/login`), page.click('header button:text("Log out")')]);

  // --- The new supervisor signs in, sees the store, and is refused the admin pages --------------
  const sup = await browser();
  opened.push(sup);
  const spage = sup.context.pages()[0] || (await sup.context.newPage());
  current = spage;
  await login(spage, 'nina', 'nina-password-1');
  check(await spage.locator('header a:text-is("Users")').count() === 0, 'a supervisor gets no admin links');
  await spage.goto(`${base}/dashboard/stores`);
  await spage.waitForSelector('#stores');
  check((await spage.textContent('#stores')).includes('Aaa Harbour Kiosk'), 'the new supervisor sees the store assigned to them');
  for (const url of ['/dashboard/admin/users', '/dashboard/admin/stores', '/dashboard/admin/templates', '/dashboard/admin/imports']) {
    const response = await spage.goto(`${base}${url}`);
    check(response.status() === 403, `a supervisor must be refused ${url}, got ${response.status()}`);
    await spage.waitForSelector('#error-title:text("Not allowed")');
    check(await spage.locator('header a:text-is("Overview")').count() === 1, `the refusal of ${url} is in the frame`);
  }
  await shot(spage, 'admin-refused');
  const post = await spage.request.post(`${base}/dashboard/admin/users`, {
    form: { csrf: 'guess', username: 'mallory', role: 'hq', password: 'mallory-password' },
  });
  check(post.status() === 403, `a supervisor's user creation must be refused, got ${post.status()}`);

  console.log('DONE');
} catch (error) {
  console.log(`FAILED: ${error.stack || error}`);
  if (current) {
    await current.screenshot({ path: path.join(artifacts, 'admin-failure.png'), fullPage: true }).catch(() => {});
  }
  process.exitCode = 1;
} finally {
  for (const { context, dir } of opened) {
    await context.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
