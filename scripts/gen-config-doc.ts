// Regenerates the key table in docs/configuration.md from the config schema (npm run docs:config).
import { readFileSync, writeFileSync } from 'node:fs';
import { configMarkdownTable } from '../packages/broker/src/config/describe.ts';

const path = new URL('../docs/configuration.md', import.meta.url);
const text = readFileSync(path, 'utf8');
const begin = '<!-- config-table:begin -->';
const end = '<!-- config-table:end -->';
const next = `${text.slice(0, text.indexOf(begin) + begin.length)}\n${configMarkdownTable()}\n${text.slice(text.indexOf(end))}`;
writeFileSync(path, next);
