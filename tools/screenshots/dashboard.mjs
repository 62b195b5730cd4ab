// Screenshots of the Aspire dashboard for docs/: the resources page and the trace of one activity POST.
// Usage (with the system running): node tools/screenshots/dashboard.mjs "$DASHBOARD_URL" docs
// Needs playwright-core (npm) and Debian's chromium.
import { chromium } from 'playwright-core';

const [, , loginUrl, outDir = 'docs'] = process.argv;
const base = new URL(loginUrl).origin;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
const dismissBanners = async () => {
  for (const close of await page.locator('.message-bar button[aria-label="Close"], fluent-message-bar button').all()) {
    await close.click().catch(() => {});
  }
};

await page.goto(loginUrl);
await page.getByText('realtime-1').first().waitFor({ timeout: 30000 });
await dismissBanners();
await page.screenshot({ path: `${outDir}/dashboard-resources.png` });

await page.goto(`${base}/traces`);
await page.waitForTimeout(5000);
const rows = page.locator('text=/POST \\/v1\\/conversations\\/\\{id\\}\\/activities/');
for (let i = 0; i < await rows.count(); i++) {
  if (await rows.nth(i).isVisible()) { await rows.nth(i).click(); break; }
}
await page.waitForURL(/\/traces\/detail\//, { timeout: 30000 }).catch(() => {});
await page.waitForTimeout(3000);
await dismissBanners();
await page.screenshot({ path: `${outDir}/dashboard-trace.png` });
await browser.close();
