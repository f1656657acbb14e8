#!/usr/bin/env node
// The edge agent alone. Runs the prebuilt bundle (dist/distillery-agent.mjs: `npm run build`, also run by
// npm ci) when it is there; otherwise the TypeScript sources through tsx, like bin/distillery.js.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/distillery-agent.mjs', import.meta.url);
if (existsSync(bundle)) {
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/agent-main.ts');
}
