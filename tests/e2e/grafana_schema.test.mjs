// Exported Grafana dashboards type-check against Grafana's published schema
// types (npm @grafana/schema ships TypeScript types only): each JSON file is
// wrapped in a constant typed as Dashboard and compiled with tsc --noEmit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const BIN = process.env.TALLY_BINARY || path.resolve('build/tally');
const TSC = path.resolve('node_modules/typescript/bin/tsc');

test('every exported dashboard is a valid @grafana/schema Dashboard', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tally-grafana-'));
  try {
    const data = path.join(dir, 'data');
    execFileSync(BIN, ['demo', 'seed', '--days', '2', '--data', data], { stdio: 'ignore' });
    execFileSync(BIN, ['dashboards', 'export', path.join(dir, 'json'), '--data', data], { stdio: 'ignore' });
    const files = readdirSync(path.join(dir, 'json')).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 6, `expected the hierarchy plus product dashboards, got ${files.length}`);
    const ts = [];
    for (const f of files) {
      const json = readFileSync(path.join(dir, 'json', f), 'utf8');
      const out = path.join(dir, f.replace(/\.json$/, '.ts'));
      writeFileSync(out, `import type { Dashboard } from '@grafana/schema';\n` +
        `export const dashboard: Dashboard = ${json};\n`);
      ts.push(out);
    }
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, skipLibCheck: true, module: 'esnext', moduleResolution: 'bundler',
        target: 'es2020', baseUrl: process.cwd(), typeRoots: [],
        paths: { '@grafana/schema': [path.resolve('node_modules/@grafana/schema')] },
      },
      files: ts,
    }));
    try {
      execFileSync(process.execPath, [TSC, '-p', path.join(dir, 'tsconfig.json')], { encoding: 'utf8' });
    } catch (e) {
      assert.fail('tsc rejected the dashboards:\n' + (e.stdout || '') + (e.stderr || ''));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a dashboard with a wrong field type is rejected (the check can fail)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tally-grafana-neg-'));
  try {
    const bad = path.join(dir, 'bad.ts');
    writeFileSync(bad, `import type { Dashboard } from '@grafana/schema';\n` +
      `export const dashboard: Dashboard = { title: 'x', schemaVersion: 'thirty-nine', panels: [] };\n`);
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, skipLibCheck: true, module: 'esnext', moduleResolution: 'bundler',
        target: 'es2020', typeRoots: [], paths: { '@grafana/schema': [path.resolve('node_modules/@grafana/schema')] } },
      files: [bad],
    }));
    assert.throws(() => execFileSync(process.execPath, [TSC, '-p', path.join(dir, 'tsconfig.json')], { stdio: 'pipe' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
