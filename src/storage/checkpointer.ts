import { Worker } from 'node:worker_threads';

/** Frames the WAL may reach before the writer holds still for a catch-up pass (4 KiB pages: 8 MB). */
const catchUpFrames = 2_000;
const intervalMs = 100;

/**
 * Runs SQLite's checkpoints on a thread of its own (`checkpoint-worker.ts`), so the event loop
 * never copies pages into the database file or waits for it to flush.
 *
 * A passive pass every 100 ms copies what has committed. That alone never lets the WAL start over
 * under steady load (it restarts only when every frame has been copied at the moment the writer
 * begins, and new frames land while a pass runs); so when the WAL grows long the writer calls
 * `catchUp()` while it holds the connection between commits, and the thread copies the few frames
 * left since its last pass. The writer's next transaction then starts the WAL over.
 */
export class Checkpointer {
  readonly #worker: Worker;
  readonly #log: (message: string) => void;
  #frames = 0;
  #alive = true;
  #waiting: ((caughtUp: boolean) => void)[] = [];

  constructor(file: string, log: (message: string) => void) {
    this.#log = log;
    this.#worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url), {
      workerData: { file, intervalMs, reportFrames: catchUpFrames },
    });
    this.#worker.unref();
    this.#worker.on('message', (m: { error?: string; frames?: number; caughtUp?: boolean }) => {
      if (m.error) this.#log(`SQLite checkpoint failed, the writer will checkpoint instead: ${m.error}`);
      if (m.frames !== undefined) this.#frames = m.frames;
      if (m.caughtUp !== undefined) {
        // Either way the thread reports again within a pass if the WAL is still long; retrying
        // at every commit meanwhile would only lengthen the writer's hold.
        this.#frames = 0;
        this.#waiting.shift()?.(m.caughtUp);
      }
    });
    this.#worker.on('error', (err) => this.#log(`the SQLite checkpoint thread stopped, the writer will checkpoint instead: ${String(err)}`));
    this.#worker.on('exit', () => {
      this.#alive = false;
      for (const w of this.#waiting.splice(0)) w(false);
    });
  }

  /** The WAL is long enough that the writer should hold still for a catch-up pass. */
  get due(): boolean {
    return this.#alive && this.#frames >= catchUpFrames;
  }

  /** One checkpoint pass now; the caller keeps the writer still until it resolves. */
  catchUp(): Promise<boolean> {
    if (!this.#alive) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#worker.postMessage('catch-up');
    });
  }

  async stop(): Promise<void> {
    if (!this.#alive) return;
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.postMessage('stop');
    await exited;
  }
}
