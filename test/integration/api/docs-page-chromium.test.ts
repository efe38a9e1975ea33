import { execFileSync } from 'node:child_process';
import { freePort } from '@ingress-egress/sandbox';
import { chromium, type Browser } from 'playwright-core';
import { onCleanup } from '../../helpers/cleanup';
import { customer, startEgressEnv, waitFor } from '../egress/egress-env';

jest.setTimeout(120_000);

const TOKEN = 'd'.repeat(40);

/** Debian's chromium (validate_deliverable.sh installs it when missing); a missing browser fails the test. */
function chromiumPath(): string {
  return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
}

describe('the /api/docs page in a real headless Chromium', () => {
  it('loads, lists the send route, and "try it" with the token sends an SMS request that gets a 202', async () => {
    const env = await startEgressEnv();
    const port = await freePort();
    const server = env.service({
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      API_TOKENS: `docs-page:send+read:${TOKEN}`,
    });
    await server.start();
    const url = await server.listen();

    const browser: Browser = await chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      // Root on CI: Chromium's sandbox needs user namespaces it may not get there.
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    });
    onCleanup(() => browser.close());
    const page = await browser.newPage();
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(url)) external.push(r.url());
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));

    await page.goto(`${url}/api/docs`);
    const send = page.locator('.opblock.opblock-post').filter({
      has: page.locator('.opblock-summary-path[data-path="/api/sms"]'),
    });
    await send.waitFor({ timeout: 30_000 });
    await expect(send.locator('.opblock-summary-path').innerText()).resolves.toContain('/api/sms');

    // Authorize with the bearer token.
    await page.locator('.auth-wrapper .btn.authorize').click();
    await page.locator('.auth-container input').first().fill(TOKEN);
    await page.locator('.auth-btn-wrapper .btn.modal-btn.auth.authorize').first().click();
    await page.locator('.auth-btn-wrapper .btn-done').first().click();

    // Open POST /api/sms, try it out with a body of our own, execute.
    await send.locator('.opblock-summary').first().click();
    await send.locator('.try-out__btn').click();
    const to = customer(777);
    await send.locator('textarea.body-param__text').fill(JSON.stringify({ to, body: 'hello from the docs page' }));
    const answered = page.waitForResponse(
      (r) => r.url().startsWith(`${url}/api/sms`) && r.request().method() === 'POST',
    );
    await send.locator('.btn.execute').click();
    const response = await answered;
    expect(response.status()).toBe(202);
    expect(response.request().headers().authorization).toBe(`Bearer ${TOKEN}`);
    const { requestId } = (await response.json()) as { requestId: string };
    await expect(
      send.locator('.live-responses-table tr.response .response-col_status').first().innerText(),
    ).resolves.toContain('202');

    // The request went the usual way: egress sent it to the simulator.
    const outcomes = env.events(await env.read(env.topics.outcomes, 1));
    expect(outcomes[0]).toMatchObject({ type: 'sms.outbound.accepted', data: { requestId, to } });
    await waitFor(() => env.sim.inspect.sentTo(to).length === 1, 10_000, 'the SMS');
    // Served locally: the page fetched nothing from another origin (no CDN), and ran without errors.
    expect(external).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
