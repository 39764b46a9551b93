/**
 * A node that runs only the job runner, over a PostgreSQL schema, for kill tests: its one job
 * (`hold-lease`) prints `started <owner>` and never ends, so the node holds the job's lease (and
 * renews it) until it is killed.
 *
 *   node test/support/job-node.ts <schema> <leaseMs>
 */
import { openStorage } from '../../src/storage/database.ts';
import { createJobStore } from '../../src/jobs/kysely-store.ts';
import { createJobRunner } from '../../src/jobs/service.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { randomIds } from '../../src/runtime/ids.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { testPostgresUrl } from './harness.ts';

const [schema, lease] = process.argv.slice(2);
const storage = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema: schema! });
const runner = createJobRunner({
  store: createJobStore(storage.uow), clock: systemClock, ids: randomIds,
  logger: createLogger({ level: 'warn', destination: { write: (line: string) => process.stderr.write(line) } as never }),
  leaseMs: Number(lease), maxWaitMs: 50,
});
runner.register({
  name: 'hold-lease', intervalMs: 60_000,
  run: () => {
    process.stdout.write(`started ${runner.owner}\n`);
    return new Promise(() => {});
  },
});
runner.start();
// The runner's timers do not hold a process open (the HTTP server does in a gateway); this does here.
setInterval(() => {}, 60_000);
