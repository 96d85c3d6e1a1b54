// Once per `npm test`: a PGlite data directory to copy for each embedded-mode test file
// (PGlite's initdb takes seconds; a copy takes milliseconds).
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';

export default async function setup(): Promise<void> {
  const pkg = path.resolve('node_modules/@electric-sql/pglite/package.json');
  const { version } = JSON.parse(await readFile(pkg, 'utf8')) as { version: string };
  const dir = path.join(os.tmpdir(), `renex-pglite-template-${version}`);
  const ready = path.join(dir, 'PG_VERSION');
  const exists = await stat(ready).then(
    () => true,
    () => false,
  );
  if (!exists) {
    const tmp = `${dir}.${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    const db = await PGlite.create(tmp);
    await db.close();
    // another run may have made it meanwhile; either copy is good
    await rename(tmp, dir).catch(() => rm(tmp, { recursive: true, force: true }));
  }
  process.env.RENEX_PGLITE_TEMPLATE = dir;
}
