import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@crowncast/testkit';
import { type Browser, chromium, type Page } from 'playwright-core';

export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

/**
 * Debian's Chromium (apps/demo/scripts/ensure-chromium.sh installs it), headless. Playwright gives
 * each launch a fresh temporary profile (user data dir). The flags keep Chromium off the network
 * it cannot reach here (background services, component updates, sync).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Signs in through the demo's own sign-in screen. */
export async function signIn(page: Page, url: string, name: string): Promise<void> {
  await page.goto(url);
  await page.getByRole('button', { name: `Sign in as ${name}` }).click();
  await page.locator('#conn.connected').waitFor({ timeout: 20_000 });
  await page.locator('body[data-room="joined"]').waitFor({ timeout: 20_000 });
}
