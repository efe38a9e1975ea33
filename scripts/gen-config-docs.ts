/** Writes docs/configuration.md from the zod schema. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { configurationReference } from '../src/config/reference';

const root = path.resolve(__dirname, '..', ...(__dirname.includes(`${path.sep}dist${path.sep}`) ? ['..'] : []));
writeFileSync(path.join(root, 'docs', 'configuration.md'), configurationReference());
console.log('wrote docs/configuration.md');
