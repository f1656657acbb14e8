#!/usr/bin/env node
// Runs the TypeScript CLI through tsx (a regular dependency), so an installed package needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
