import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@crowncast/testkit';

/**
 * The codes the docs promise, read from the docs themselves so a fuzz verdict can never drift from
 * what a client is told: docs/ledger.md's error table (code → HTTP status) and docs/edge.md's close
 * code table (close code → reasons) and its error-frame codes.
 */
function doc(name: string): string {
  return readFileSync(join(REPO_ROOT, 'docs', name), 'utf8');
}

const codesIn = (cell: string) => [...cell.matchAll(/`([A-Z][A-Z_]+)`/g)].map((m) => m[1] as string);

/** docs/ledger.md: every `| \`CODE\` [/ \`CODE\`…] | status | … |` row. */
export function ledgerCodes(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of doc('ledger.md').split('\n')) {
    const m = /^\|\s*(`[A-Z][A-Z_]+`(?:\s*\/\s*`[A-Z][A-Z_]+`)*)\s*\|\s*(\d{3})\s*\|/.exec(line);
    if (!m) continue;
    for (const code of codesIn(m[1] as string)) out[code] = Number(m[2]);
  }
  if (Object.keys(out).length < 10) throw new Error('docs/ledger.md: error table not found');
  return out;
}

/** docs/edge.md's close code table: close code → the reasons documented for it. */
export function edgeCloseCodes(): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const text = doc('edge.md');
  const section = text.slice(text.indexOf('## Close codes'), text.indexOf('## Client messages'));
  for (const line of section.split('\n')) {
    const m = /^\|\s*(\d{4})\s*\|([^|]*)\|/.exec(line);
    if (m) out.set(Number(m[1]), codesIn(m[2] as string));
  }
  if (out.size < 5) throw new Error('docs/edge.md: close code table not found');
  return out;
}

/** docs/edge.md's `error` frame codes (bad input, joins, refresh): every CODE_NAME it names there. */
export function edgeErrorCodes(): Set<string> {
  const text = doc('edge.md');
  const section = text.slice(
    text.indexOf('## Connecting and authentication'),
    text.indexOf('## Server frames'),
  );
  const out = new Set<string>();
  for (const m of section.matchAll(/\b([A-Z]+(?:_[A-Z]+)+)\b/g)) out.add(m[1] as string);
  if (!out.has('BAD_FRAME') || !out.has('NOT_A_MEMBER'))
    throw new Error('docs/edge.md: error codes not found');
  return out;
}
