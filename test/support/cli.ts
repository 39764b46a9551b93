import type { Gateway } from './harness.ts';
import { testPostgresUrl } from './harness.ts';

/** The environment that points the operator CLI at a test gateway's own store (its data folder, or its PostgreSQL schema). */
export function cliEnv(gw: Gateway): Record<string, string> {
  const storage = gw.app.config.storage;
  const env: Record<string, string> = { ...process.env as Record<string, string>, SWITCHYARD_DATA_DIR: gw.dataDir };
  delete env.DATABASE_URL;
  if (storage.kind === 'postgres') {
    const url = new URL(testPostgresUrl);
    url.searchParams.set('options', `-c search_path=${storage.schema}`);
    env.DATABASE_URL = url.toString();
  }
  return env;
}
