import sparticuz from '@sparticuz/chromium';
import { chromium, type Browser } from 'playwright-core';

/**
 * Headless Chromium for the browser tests, from the `@sparticuz/chromium` npm package (the binary
 * ships inside the package and is unpacked to /tmp on first use), so `npm test` needs no apt
 * package and no download. A failure to launch fails the test; it is never a silent skip.
 */
/** Serverless defaults we do not want: a single process dies with its last page, and the
 * security relaxations would hide what a real browser refuses (the dashboard's CSP). */
const UNWANTED_ARGS = new Set(['--single-process', '--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials']);

export async function launchTestBrowser(): Promise<Browser> {
  const executablePath = await sparticuz.executablePath();
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      ...sparticuz.args.filter((arg) => !UNWANTED_ARGS.has(arg)),
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
