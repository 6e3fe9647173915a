// Drives the FieldSync HQ dashboard in a real headless Chromium (Debian's /usr/bin/chromium)
// with playwright-core. Started by tests/tests/dashboard_browser.rs, which passes the relay URL
// as the first argument and logins, document ids and the artifact folder in FS_* variables.
//
// Protocol with the Rust test, one line each way: this script prints READY-FOR-ORDER once the
// approver's overview is loaded and its event stream connected; the test then syncs a new order
// that needs this approver from a phone and answers "ORDER <id>"; the script waits for that row
// to appear without a reload, opens it and clicks Approve, then prints "APPROVED <id>"; the test
// syncs the phone, checks that the phone holds the approval, and answers "PHONE-APPROVED".
// The script prints DONE at the end and exits 0, or prints the failure and exits 1.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const base = process.argv[2];
const env = process.env;
const artifacts = env.FS_ARTIFACTS || 'target/browser-artifacts';
// Generous: a loaded 2-core machine, a debug-build relay.
const TIMEOUT = 90_000;
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

const input = readline.createInterface({ input: process.stdin });
const pending = [];
const waiters = [];
input.on('line', (line) => (waiters.length ? waiters.shift()(line) : pending.push(line)));
function nextLine(ms) {
  if (pending.length) return Promise.resolve(pending.shift());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer from the test within ${ms} ms`)), ms);
    waiters.push((line) => { clearTimeout(timer); resolve(line); });
  });
}

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

let current;
const opened = [];
try {
  fs.mkdirSync(artifacts, { recursive: true });

  // --- HQ -------------------------------------------------------------------------------------
  const hq = await browser();
  opened.push(hq);
  const page = hq.context.pages()[0] || (await hq.context.newPage());
  current = page;
  await page.goto(`${base}/`);
  check(page.url().startsWith(`${base}/dashboard/login`), `without a session / must redirect to the login, got ${page.url()}`);
  await page.waitForSelector('form.login');
  await shot(page, 'login');

  // A wrong password is refused on the page, not with a crash.
  await page.fill('#tenant', env.FS_TENANT);
  await page.fill('#username', env.FS_HQ_USER);
  await page.fill('#password', 'not-the-password');
  await page.click('#sign-in');
  await page.waitForSelector('#login-error');

  // The approver of the live order's step (the north manager) works through the day.
  await login(page, env.FS_APPROVER_USER, env.FS_APPROVER_PASSWORD);
  await page.waitForSelector('#kpi-orders-today');
  await page.waitForSelector(`#live-orders tr[data-id="${env.FS_FIRST_ORDER}"]`);
  check(await page.locator('#orders-per-day rect').count() === 14, 'the chart has one bar per day');
  check(await page.locator('#score-distribution rect').count() === 10, 'the score chart has ten buckets');
  // Nothing was decided yet: the approval-time chart says so instead of drawing bare axes.
  check((await page.textContent('#approval-times')).includes('nothing to show yet'), 'an empty approval-time chart says so');
  check(await page.locator('header a:text("Stores")').count() === 1, 'the nav links the stores page');
  await page.waitForSelector('body[data-live="connected"]');
  await page.evaluate(() => { window.__noReload = 'still here'; });
  await shot(page, 'overview');

  console.log('READY-FOR-ORDER');
  const answer = await nextLine(TIMEOUT * 2);
  const match = /^ORDER (\S+) (\S+)$/.exec(answer);
  check(match, `expected "ORDER <id> <sku>", got ${answer}`);
  const liveId = match[1];
  const liveSku = match[2];
  const liveRow = `#live-orders tr[data-id="${liveId}"]`;
  await page.waitForSelector(liveRow, { timeout: TIMEOUT * 2 });
  // The relay's review arrives a moment later, also live.
  await page.waitForSelector(`${liveRow} .tag:text-is("needs-approval")`, { timeout: TIMEOUT * 2 });
  check(await page.evaluate(() => window.__noReload) === 'still here', 'the page reloaded instead of updating live');
  await shot(page, 'overview-live-order');

  // Approve it in the browser: open the order from the live row, click Approve.
  await Promise.all([page.waitForURL(`${base}/dashboard/orders/${liveId}`), page.click(`${liveRow} a`)]);
  await page.waitForSelector('#approve');
  check(await page.locator('#reject').count() === 1, 'the approver also gets a reject button');
  await shot(page, 'order-to-approve');
  await Promise.all([page.waitForURL(/decided=approved/), page.click('#approve')]);
  await page.waitForSelector('#notice');
  check((await page.textContent('#order-status')).includes('approved'), 'the order shows its new state');
  check(await page.locator('#approve').count() === 0, 'a decided step offers no buttons');
  await shot(page, 'order-approved');
  console.log(`APPROVED ${liveId}`);
  const phone = await nextLine(TIMEOUT * 2);
  check(phone === 'PHONE-APPROVED', `expected PHONE-APPROVED from the test, got ${phone}`);

  // Orders list, filter and CSV.
  await page.goto(`${base}/dashboard/orders`);
  await page.waitForSelector(`tr[data-id="${liveId}"]`);
  await page.selectOption('#filter-status', 'draft');
  await Promise.all([page.waitForURL(/status=draft/), page.click('button:text("Filter")')]);
  check(await page.locator(`tr[data-id="${liveId}"]`).count() === 0, 'the draft filter must hide submitted orders');
  await page.goto(`${base}/dashboard/orders`);
  await page.waitForSelector(`tr[data-id="${liveId}"]`);
  await shot(page, 'orders');
  const csv = await page.request.get(`${base}/dashboard/orders.csv`);
  check(csv.status() === 200, `orders.csv answered ${csv.status()}`);
  const csvText = await csv.text();
  check(csvText.startsWith('order_id,') && csvText.includes(liveId), 'orders.csv lists the live order');
  const inspCsv = await page.request.get(`${base}/dashboard/inspections.csv`);
  check(inspCsv.status() === 200 && (await inspCsv.text()).includes(env.FS_INSPECTION), 'inspections.csv lists the inspection');

  // One order: lines, the rep's notes shown as text (escaped), review.
  await page.goto(`${base}/dashboard/orders/${env.FS_FIRST_ORDER}`);
  await page.waitForSelector('#order-lines');
  check((await page.textContent('main')).includes('<b>ring twice</b>'), 'notes must be shown escaped, as text');
  check(await page.locator('main b:text-is("ring twice")').count() === 0, 'notes must not become markup');
  await shot(page, 'order');

  // An inspection: thumbnails load through /v1/blobs with the session cookie; a click shows the full photo.
  await page.goto(`${base}/dashboard/inspections/${env.FS_INSPECTION}`);
  await page.waitForSelector('#photos img');
  await page.waitForFunction(() => {
    const images = [...document.querySelectorAll('#photos img')];
    return images.length === 2 && images.every((img) => img.complete && img.naturalWidth > 0);
  });
  check(await page.locator('#answers tbody tr').count() > 0, 'the answers are listed');
  await shot(page, 'inspection');
  await page.click('#photos a.photo >> nth=0');
  await page.waitForFunction(() => {
    const img = document.querySelector('#photo-dialog img');
    return document.querySelector('#photo-dialog').open && img.complete && img.naturalWidth > 0;
  });
  await shot(page, 'inspection-photo');
  await page.keyboard.press('Escape');

  check(await page.locator('#score b').count() === 1, 'the inspection shows its score');
  check(await page.locator('#score-items tbody tr').count() > 0, 'the score is broken down per item');

  await page.goto(`${base}/dashboard/inspections`);
  await page.waitForSelector(`tr[data-id="${env.FS_INSPECTION}"]`);
  check(await page.locator('#score-distribution rect').count() === 10, 'the inspections page draws the score distribution');
  await shot(page, 'inspections');

  await page.goto(`${base}/dashboard/devices`);
  await page.waitForSelector('#devices tbody tr');
  await shot(page, 'devices');

  // Stores: the manager's region, coverage and the rollout of the newest product.
  await page.click('header a:text("Stores")');
  await page.waitForSelector('#stores tbody tr[data-store]');
  await page.waitForSelector('#coverage-total');
  await page.waitForSelector('#rollout-share');
  const managerStores = await page.locator('#stores tbody tr[data-store]').count();
  check(await page.locator('#coverage tbody tr[data-region]').count() === 1, 'a manager sees one region');
  await page.selectOption('#filter-days', '30');
  await Promise.all([page.waitForURL(/days=30/), page.click('button:text("Show")')]);
  await page.waitForSelector('#coverage-total');
  await shot(page, 'stores');
  // The approved order's product has reached the rep's store.
  await page.goto(`${base}/dashboard/stores?sku=${encodeURIComponent(liveSku)}`);
  await page.waitForSelector('#rollout-share');
  check((await page.textContent('h2:has-text("Rollout of")')).includes(liveSku), 'the chosen SKU is shown');
  check(await page.locator('#stores td.reached').count() >= 1, `the rollout of ${liveSku} shows the store that ordered it`);
  check(!(await page.textContent('#rollout-share')).startsWith('0 of'), 'the rollout share counts the order');

  // Logout ends the session: the next visit goes to the login.
  await Promise.all([page.waitForURL(`${base}/dashboard/login`), page.click('header button:text("Log out")')]);
  await page.goto(`${base}/`);
  check(page.url().startsWith(`${base}/dashboard/login`), 'after logout the session must be gone');

  // --- HQ: every region's stores; no buttons on a step that is not theirs -------------------------
  await login(page, env.FS_HQ_USER, env.FS_HQ_PASSWORD);
  await page.goto(`${base}/dashboard/stores`);
  await page.waitForSelector('#coverage-total');
  const hqStores = await page.locator('#stores tbody tr[data-store]').count();
  check(hqStores > managerStores, `HQ sees every region's stores (${hqStores}), more than the manager (${managerStores})`);
  await shot(page, 'stores-hq');
  await page.goto(`${base}/dashboard/orders/${liveId}`);
  check((await page.textContent('#order-status')).includes('approved') && await page.locator('#approve').count() === 0,
    'HQ sees the approved order without buttons');

  // Alerts: HQ acknowledges one with a note, then snoozes it; it leaves the open list.
  await page.goto(`${base}/dashboard/alerts`);
  await page.waitForSelector('tr.alert');
  const alertKey = await page.getAttribute('tr.alert >> nth=0', 'data-key');
  const alertRow = `tr.alert[data-key="${alertKey}"]`;
  await page.fill(`${alertRow} input[name="note"]`, 'display ordered, arrives Friday');
  await page.click(`${alertRow} button[value="acknowledge"]`);
  await page.waitForSelector('#notice:text("Alert acknowledged")');
  const acknowledged = await page.textContent(`${alertRow} .acknowledged`);
  check(acknowledged.includes(`Acknowledged by ${env.FS_HQ_USER}`) && acknowledged.includes('display ordered, arrives Friday'),
    `the row shows who acknowledged it and the note: ${acknowledged}`);
  await shot(page, 'alerts-acknowledged');
  const inThreeDays = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
  await page.fill(`${alertRow} input[name="until"]`, inThreeDays);
  await page.click(`${alertRow} button[value="snooze"]`);
  await page.waitForSelector('#notice:text("Alert snoozed until")');
  check(await page.locator(alertRow).count() === 0, 'the snoozed alert leaves the open list');
  await page.goto(`${base}/dashboard/alerts?state=snoozed`);
  await page.waitForSelector(`${alertRow} .snoozed`);
  await shot(page, 'alerts-snoozed');

  // Phone width: no page is wider than the screen, the header spans it, chart labels stay readable.
  await page.setViewportSize({ width: 390, height: 844 });
  const phonePages = [
    ['overview', '/'], ['orders', '/dashboard/orders'], ['approvals', '/dashboard/approvals'],
    ['order', `/dashboard/orders/${liveId}`], ['inspections', '/dashboard/inspections'],
    ['inspection', `/dashboard/inspections/${env.FS_INSPECTION}`], ['alerts', '/dashboard/alerts'],
    ['stores', '/dashboard/stores'], ['devices', '/dashboard/devices'], ['not-found', '/dashboard/no-such-page'],
  ];
  for (const [name, url] of phonePages) {
    const response = await page.goto(`${base}${url}`);
    check(response.status() === (name === 'not-found' ? 404 : 200), `${url} answered ${response.status()}`);
    await page.waitForSelector('main h1');
    const measured = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      header: document.querySelector('header').getBoundingClientRect().width,
      label: Math.min(99, ...[...document.querySelectorAll('.chart svg text')].map((t) => t.getBoundingClientRect().height)),
    }));
    check(measured.page <= 390, `${url} is ${measured.page} px wide at 390 px`);
    check(measured.header >= 389, `the header of ${url} spans ${measured.header} px of 390`);
    check(measured.label >= 8, `chart labels of ${url} are ${measured.label} px tall at 390 px`);
    await shot(page, `phone-${name}`);
  }
  check((await page.textContent('#error-title')) === 'Not found', 'an unknown path shows the 404 page');
  check(await page.locator('header a:text("Alerts")').count() === 1, 'the 404 page keeps the navigation');

  // --- Simplified Chinese: HQ picks it in the header; every main page at 1280 px and at 390 px --------
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${base}/dashboard/orders`);
  await page.selectOption('#language', 'zh-CN');
  await Promise.all([page.waitForURL(`${base}/dashboard/orders`), page.click('#language-save')]);
  await page.waitForSelector('main h1:text-is("订单")');
  check(await page.getAttribute('html', 'lang') === 'zh-CN', 'the page is marked as Chinese');
  check(await page.locator('header a:text-is("预警")').count() === 1, 'the navigation reads in Chinese');
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-live="connected"]');
  check((await page.textContent('#live-state')).includes('实时'), 'the live indicator reads in Chinese');
  const chinesePages = [
    ['overview', '/', '概览'], ['orders', '/dashboard/orders', '订单'], ['order', `/dashboard/orders/${liveId}`, '订单'],
    ['approvals', '/dashboard/approvals', '待我审批'], ['inspections', '/dashboard/inspections', '巡店'],
    ['inspection', `/dashboard/inspections/${env.FS_INSPECTION}`, '巡店记录'], ['alerts', '/dashboard/alerts', '预警'],
    ['devices', '/dashboard/devices', '设备'], ['stores', '/dashboard/stores', '门店'], ['api-keys', '/dashboard/api-keys', 'API 密钥'],
    ['admin-users', '/dashboard/admin/users', '用户'], ['admin-stores', '/dashboard/admin/stores', '门店管理'],
    ['admin-templates', '/dashboard/admin/templates', '检查模板'], ['admin-imports', '/dashboard/admin/imports', '数据导入'],
    ['admin-settings', '/dashboard/admin/settings', '租户设置'],
  ];
  for (const [width, height, prefix] of [[1280, 900, 'zh'], [390, 844, 'zh-phone']]) {
    await page.setViewportSize({ width, height });
    for (const [name, url, heading] of chinesePages) {
      const response = await page.goto(`${base}${url}`);
      check(response.status() === 200, `${url} answered ${response.status()} in Chinese`);
      await page.waitForSelector('main h1');
      const h1 = await page.textContent('main h1');
      check(h1.includes(heading), `${url} in Chinese is headed "${h1}", expected "${heading}"`);
      check(await page.getAttribute('html', 'lang') === 'zh-CN', `${url} is marked as Chinese`);
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      check(wide <= width, `${url} in Chinese is ${wide} px wide at ${width} px`);
      await shot(page, `${prefix}-${name}`);
    }
  }
  // Back to English with the same picker.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${base}/`);
  await page.selectOption('#language', 'en');
  await Promise.all([page.waitForURL(`${base}/`), page.click('#language-save')]);
  await page.waitForSelector('main h1:text-is("Overview")');
  check(await page.getAttribute('html', 'lang') === 'en', 'the page is marked as English again');
  await Promise.all([page.waitForURL(`${base}/dashboard/login`), page.click('header button:text("Log out")')]);

  // --- A supervisor -----------------------------------------------------------------------------
  const sup = await browser();
  opened.push(sup);
  const spage = sup.context.pages()[0] || (await sup.context.newPage());
  current = spage;
  await login(spage, env.FS_SUPERVISOR_USER, env.FS_SUPERVISOR_PASSWORD);
  check(await spage.locator('header a:text("Devices")').count() === 0, 'supervisors get no Devices link');
  for (const hqOnly of ['/dashboard/devices', '/dashboard/orders', '/dashboard/orders.csv', `/dashboard/orders/${liveId}`]) {
    const response = await spage.goto(`${base}${hqOnly}`);
    check(response.status() === 403, `a supervisor must be refused ${hqOnly}, got ${response.status()}`);
  }
  await spage.goto(`${base}/dashboard/devices`);
  await spage.waitForSelector('#error-title:text("Not allowed")');
  await shot(spage, 'supervisor-refused');
  const post = await spage.request.post(`${base}/dashboard/orders/${liveId}/decision`, {
    form: { csrf: 'guess', step: '0', submission: '1', verdict: 'reject', reason: 'no' },
  });
  check(post.status() === 403, `a supervisor's decision must be refused, got ${post.status()}`);
  const stores = await spage.goto(`${base}/dashboard/stores`);
  check(stores.status() === 200, `a supervisor sees their stores, got ${stores.status()}`);
  check(await spage.locator('#rollout-share').count() === 0, 'supervisors get no rollout (it reads orders)');
  // Their own inspection they do see.
  const own = await spage.goto(`${base}/dashboard/inspections/${env.FS_INSPECTION}`);
  check(own.status() === 200, `a supervisor sees their own inspection, got ${own.status()}`);

  console.log('DONE');
} catch (error) {
  console.log(`FAILED: ${error.stack || error}`);
  if (current) {
    await current.screenshot({ path: path.join(artifacts, 'failure.png'), fullPage: true }).catch(() => {});
  }
  process.exitCode = 1;
} finally {
  for (const { context, dir } of opened) {
    await context.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
  input.close();
}
