/**
 * Screenshots of the demo checkout for the README: `node scripts/screenshots-demo.ts [demo URL]` against
 * a running `npm start` (default http://127.0.0.1:8081/demo). Writes docs/screenshots/*.png.
 */
import { chromium } from 'playwright-core';

const url = process.argv[2] ?? 'http://127.0.0.1:8081/demo';
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  for (const [name, viewport] of [['demo-checkout-desktop', { width: 1280, height: 800 }], ['demo-checkout-mobile', { width: 390, height: 844 }]] as const) {
    const page = await browser.newPage({ viewport, deviceScaleFactor: name.endsWith('mobile') ? 2 : 1 });
    await page.goto(url);
    await page.frameLocator('#card-number iframe').locator('input').pressSequentially('4200000000000042');
    await page.frameLocator('#card-expiry iframe').locator('input').pressSequentially('1230');
    await page.frameLocator('#card-cvv iframe').locator('input').pressSequentially('123');
    await page.waitForFunction('!document.getElementById("place-order").disabled');
    await page.screenshot({ path: `docs/screenshots/${name}.png`, fullPage: true });
    process.stdout.write(`docs/screenshots/${name}.png\n`);
    await page.close();
  }
} finally {
  await browser.close();
}
