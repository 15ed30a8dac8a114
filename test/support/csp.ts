/**
 * Content-Security-Policy in the browser tests: every violation a page of the context reports
 * (its `securitypolicyviolation` events, and Chromium's console lines about the policy), kept
 * across navigations; and a policy header read as directives.
 */
import { createHash } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';

/** What the page reports, one line each: disposition, directive, what was blocked, where. */
export type CspViolations = string[];

/**
 * Starts recording the CSP violations of the context's pages into the array returned. Call once,
 * before the pages load (the listener is added to every document as it is created).
 */
export async function watchCsp(context: BrowserContext, page: Page): Promise<CspViolations> {
  const violations: CspViolations = [];
  await context.exposeBinding('__limenTestCspViolation', (_source, line: string) => void violations.push(line));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (window as unknown as { __limenTestCspViolation(line: string): void }).__limenTestCspViolation;
      void report(`${e.disposition} ${e.effectiveDirective}: ${e.blockedURI || '(inline)'} at ${e.sourceFile || e.documentURI}:${e.lineNumber} ${e.sample}`.trim());
    });
  });
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) violations.push(`console: ${m.text()}`);
  });
  return violations;
}

/** A policy header as its directives: name → sources. */
export function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0] !== '')
      .map(([name, ...sources]) => [name.toLowerCase(), sources]),
  );
}

/** The `'sha256-…'` sources of a page's inline scripts (those without `src`), as a browser hashes them. */
export function inlineScriptHashesOf(html: string): string[] {
  return [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)]
    .filter(([, attrs]) => !/\bsrc=/.test(attrs))
    .map(([, , text]) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`);
}
