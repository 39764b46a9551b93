/**
 * What a shopper using a screen reader or only the keyboard gets on the pages they pay on (WCAG 2.1
 * AA), in Chromium. A wrong card number, expiry or CVC was marked by a red border only, no text
 * saying what was wrong, the Pay button just staying disabled (3.3.1, 1.4.1); the COPYandPAY
 * widget's card-field frames in German were documents marked lang="en", so a screen reader read
 * "Kartennummer" with an English voice (3.1.2); the demo's Pay button's white text on #4d7cfe was
 * 3.7:1, under the 4.5:1 of 1.4.3.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchChromium, startDemoShop, typeCard, withScreenshot } from './support/browser.ts';
import { startGateway } from './support/harness.ts';
import { startCopyAndPayShop } from './support/copyandpay-shop.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { call } from './support/executions.ts';

/** WCAG relative luminance contrast of two `rgb(r, g, b)` colours. */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = (c.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => Number(v) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** Every text a screen reader could get for a frame's input: its description (aria-describedby / aria-errormessage). */
async function describedText(page: Page, frame: string): Promise<string> {
  return String(await page.frameLocator(frame).locator('input').evaluate(
    (input) => `${input.getAttribute('aria-describedby') ?? ''} ${input.getAttribute('aria-errormessage') ?? ''}`,
  ).then((ids) => page.frameLocator(frame).locator('body').evaluate(
    (body, list) => list.split(/\s+/).filter(Boolean).map((id) => body.ownerDocument.getElementById(id)?.textContent ?? '').join(' ').trim(), ids,
  )));
}

describe('demo checkout (secure fields): a wrong card is explained in text', () => {
  test('a card number that fails the check digit, left by Tab: some text (alert or the field\'s description) says the card number is wrong', async () => {
    const shop = await startDemoShop();
    const page = await shop.browser.newPage();
    try {
      await withScreenshot(page, 'a11y-demo-invalid-number', async () => {
        await page.goto(shop.store.url);
        await page.frameLocator('#card-cvv iframe').locator('body[data-field=ready]').waitFor();
        // Keyboard only: type a mistyped number (last digit wrong), then Tab on to the expiry.
        await page.frameLocator('#card-number iframe').locator('input').pressSequentially('4200000000000001');
        await page.keyboard.press('Tab');
        await page.frameLocator('#card-expiry iframe').locator('input').pressSequentially('1230');
        await page.keyboard.press('Tab');
        await page.frameLocator('#card-cvv iframe').locator('input').pressSequentially('123');
        await page.keyboard.press('Tab');
        await page.locator('#card-number.invalid').waitFor();
        assert.equal(await page.locator('#place-order').isDisabled(), true);
        const invalid = await page.frameLocator('#card-number iframe').locator('input').getAttribute('aria-invalid');
        const alerts = (await page.locator('[role=alert], [aria-live]').allInnerTexts()).join(' ').trim();
        const pageText = await page.locator('#new-card').innerText();
        const description = await describedText(page, '#card-number iframe');
        assert.equal(invalid, 'true');
        assert.match(alerts, /card number is not valid/i, `the page's alert says which field is wrong (form text ${JSON.stringify(pageText)})`);
        assert.match(description, /card number is not valid/i, 'the field itself is described by what is wrong');
        // Put right, the sentence goes.
        await page.frameLocator('#card-number iframe').locator('input').fill('4200000000000000');
        await page.frameLocator('#card-number iframe').locator('input').press('Tab');
        await page.waitForFunction("!document.getElementById('place-order').disabled");
        assert.equal((await page.locator('#message').innerText()).trim(), '');
        assert.equal(await describedText(page, '#card-number iframe'), '');
      });
    } finally {
      await page.close();
      await shop.close();
    }
  });

  test('the Pay button\'s text (16px, not large) has at least 4.5:1 contrast with its background', async () => {
    const shop = await startDemoShop();
    const page = await shop.browser.newPage();
    try {
      await page.goto(shop.store.url);
      await page.frameLocator('#card-cvv iframe').locator('body[data-field=ready]').waitFor();
      await typeCard(page, '4111111111111111');
      await page.waitForFunction("!document.getElementById('place-order').disabled");
      const { color, background, size, weight } = await page.evaluate(`(() => {
        const s = getComputedStyle(document.getElementById('place-order'));
        return { color: s.color, background: s.backgroundColor, size: parseFloat(s.fontSize), weight: Number(s.fontWeight) };
      })()`) as { color: string; background: string; size: number; weight: number };
      const large = size >= 24 || (size >= 18.66 && weight >= 700);
      const ratio = contrast(color, background);
      assert.ok(ratio >= (large ? 3 : 4.5), `"Pay €129.90" is ${color} on ${background}: ${ratio.toFixed(2)}:1 at ${size}px/${weight} (needs ${large ? 3 : 4.5}:1)`);
    } finally {
      await page.close();
      await shop.close();
    }
  });
});

describe('COPYandPAY widget in another language', () => {
  test('locale de: each card-field frame\'s document says lang="de", the language of its German label', async () => {
    const gw = await startGateway();
    const shop = await startCopyAndPayShop({ gatewayUrl: gw.url, accessToken: gw.merchant.accessToken, entityId: gw.merchant.entityId });
    const browser = await launchChromium();
    const page = await browser.newPage();
    try {
      await withScreenshot(page, 'a11y-widget-frame-lang', async () => {
        await page.goto(`${shop.url}/checkout?order=a11y-lang&locale=de`);
        await page.locator('body[data-widget="ready"]').waitFor();
        await page.frameLocator('.wpwl-wrapper-cvv iframe').getByLabel('Prüfnummer').waitFor();
        const frames = page.frames().filter((f) => /\/sdk\/v1\/field\?/.test(f.url()));
        assert.equal(frames.length, 3);
        // The language the input's name is spoken in: its nearest lang attribute.
        const seen = await Promise.all(frames.map(async (f) => ({
          label: await f.locator('#field').getAttribute('aria-label'),
          lang: await f.locator('#field').evaluate((input) => input.closest('[lang]')?.getAttribute('lang') ?? ''),
        })));
        for (const s of seen) {
          assert.ok(/^de\b/i.test(s.lang), `the frame names its input "${s.label}" (German) inside lang="${s.lang}": a screen reader speaks it with an English voice`);
        }
        // A wrong number, left: the field is described in German by what is wrong.
        await page.frameLocator('.wpwl-wrapper-cardNumber iframe').locator('input').pressSequentially('4200000000000001');
        await page.keyboard.press('Tab');
        assert.match(await describedText(page, '.wpwl-wrapper-cardNumber iframe'), /Ungültige Kartennummer/);
      });
    } finally {
      await browser.close();
      await shop.close();
      await gw.close();
    }
  });
});

describe('COPYandPAY widget: boxes left empty and refused', () => {
  test('Pay with the expiry and CVV empty: each box the widget shows as wrong is marked and described in its frame too', async () => {
    const gw = await startGateway();
    const shop = await startCopyAndPayShop({ gatewayUrl: gw.url, accessToken: gw.merchant.accessToken, entityId: gw.merchant.entityId });
    const browser = await launchChromium();
    const page = await browser.newPage();
    try {
      await page.goto(`${shop.url}/checkout?order=a11y-empty`);
      await page.locator('body[data-widget="ready"]').waitFor();
      await page.frameLocator('.wpwl-wrapper-cvv iframe').locator('body[data-field=ready]').waitFor();
      await page.frameLocator('.wpwl-wrapper-cardNumber iframe').locator('input').pressSequentially('4111111111111111');
      await page.locator('.wpwl-control-cardHolder').fill('Jane Doe');
      await page.locator('.wpwl-button-pay').click();
      await page.locator('.wpwl-group-expiry.wpwl-has-error').waitFor();
      assert.deepEqual(await page.locator('.wpwl-hint').allInnerTexts(), ['Invalid expiry date', 'Invalid CVV']);
      for (const [frame, said] of [['.wpwl-wrapper-expiry iframe', /Invalid expiry date/], ['.wpwl-wrapper-cvv iframe', /Invalid CVV/]] as const) {
        await page.frameLocator(frame).locator('input[aria-invalid="true"]').waitFor({ timeout: 5000 });
        assert.match(await describedText(page, frame), said, `${frame}: described by what is wrong`);
      }
      // Typed right, the box is no longer said to be wrong.
      await page.frameLocator('.wpwl-wrapper-cvv iframe').locator('input').pressSequentially('123');
      assert.equal(await page.frameLocator('.wpwl-wrapper-cvv iframe').locator('input').getAttribute('aria-invalid'), null);
    } finally {
      await browser.close();
      await shop.close();
      await gw.close();
    }
  });
});

describe('secure fields on a German page', () => {
  test('the frames speak German only when the merchant gave them German words; else their own English stays marked English', async () => {
    const gw = await startGateway();
    const shop = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><html lang="de"><body><div id="n"></div><div id="e"></div><div id="c"></div><script src="${gw.url}/sdk/v1/switchyard.js"></script></body></html>`);
    });
    await new Promise<void>((r) => shop.listen(0, '127.0.0.1', () => r()));
    const origin = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
    await gw.app.merchants.addOrigin(gw.merchant.merchantId, origin);
    const browser = await launchChromium();
    try {
      const t = await fetch(`${gw.url}/auth/token/${gw.merchant.clientId}`, { method: 'POST', headers: { 'x-api-key': gw.merchant.apiKey } });
      const token = ((await t.json()) as { access_token: string }).access_token;
      const init = await call(gw, 'POST', '/merchant/client/init', { token, body: { type: 'secureFields', holderReference: 'lang-holder', workflowCode: 'payment-acceptance' } });
      const frameLangs = async (options: string, label: string) => {
        const page = await browser.newPage();
        try {
          await page.goto(`${origin}/`);
          await page.waitForFunction('!!window.Switchyard');
          await page.evaluate(`(() => {
            const fields = new window.Switchyard(JSON.parse(atob(${JSON.stringify(init.body.data)}))).secureFields(${options});
            fields.mount('cardNumber', '#n').mount('expiry', '#e').mount('cvv', '#c');
          })()`);
          await page.frameLocator('#c iframe').locator('body[data-field=ready]').waitFor();
          // Configured: the label it was given (or its own) is on the input.
          const input = page.frameLocator('#n iframe').locator(`#field[aria-label="${label}"]`);
          await input.waitFor();
          return await input.evaluate((el) => el.closest('[lang]')?.getAttribute('lang') ?? '');
        } finally {
          await page.close();
        }
      };
      // Given German words, the frame is German once they are on it; given none, a moment later it is still English.
      assert.equal(await frameLangs(`{ labels: { cardNumber: 'Kartennummer' } }`, 'Kartennummer'), 'de', 'German words on a German page');
      assert.equal(await frameLangs('{}', 'Card number'), 'en', 'its own English words stay marked English');
    } finally {
      await browser.close();
      await new Promise((r) => shop.close(r));
      await gw.close();
    }
  });
});
