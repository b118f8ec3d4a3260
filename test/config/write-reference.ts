// pnpm config:reference: rewrites the configuration reference in README.md from the env schemas.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderConfigReference, withReference } from './reference.js';

const readme = resolve(import.meta.dirname, '../../README.md');
writeFileSync(readme, withReference(readFileSync(readme, 'utf8'), renderConfigReference()));
process.stdout.write('README.md: configuration reference written\n');
