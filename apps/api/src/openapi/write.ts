// Writes the OpenAPI document to a file (or stdout): `node … src/openapi/write.ts openapi.json`.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { buildOpenApiDocument } from './offline.js';

const out = process.argv[2];
const text = `${JSON.stringify(await buildOpenApiDocument(), null, 2)}\n`;
if (out) {
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, text);
} else process.stdout.write(text);
