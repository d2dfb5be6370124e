#!/usr/bin/env node
// The `mandate` command: runs the TypeScript sources through tsx, so a clean clone needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
await main(process.argv);
