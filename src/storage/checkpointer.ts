import { Worker } from 'node:worker_threads';

/** Frames waiting in the WAL before the thread runs a pass (4 KiB pages: 4 MB). */
const passFrames = 1_000;
/** Frames the WAL may reach before the writer holds still for a catch-up pass (8 MB). */
const catchUpFrames = 2_000;
const intervalMs = 100;

/**
 * Whether a checkpoint's error ends checkpointing for the process: an I/O error (SQLite's
 * SQLITE_IOERR family, a failed read, write or flush of the WAL or the database file). Anything
 * else (busy, a full disk) leaves the pages in the WAL, and the next pass tries again.
 */
export function endsCheckpoints(err: unknown): boolean {
  const code = (err as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' && (code & 0xff) === 10;
}

/**
 * Runs SQLite's checkpoints on a thread of its own (`checkpoint-worker.ts`), so the event loop
 * never copies pages into the database file or waits for it to flush.
 *
 * A passive pass copies what has committed; the thread looks every 100 ms and runs one once a
 * thousand frames wait. (A WAL copied to its end starts over at the next commit, and SQLite flushes
 * the new WAL's header inside that COMMIT, on the event loop: waiting for a thousand frames keeps
 * that to one flush per several megabytes written.) Passes alone never let the WAL start over
 * under steady load (it restarts only when every frame has been copied at the moment the writer
 * begins, and new frames land while a pass runs); so when the WAL grows long the writer calls
 * `catchUp()` while it holds the connection between commits, and the thread copies the few frames
 * left since its last pass. The writer's next transaction then starts the WAL over.
 */
export class Checkpointer {
  readonly #worker: Worker;
  readonly #log: (message: string) => void;
  readonly #fatal: (err: Error) => void;
  #frames = 0;
  #alive = true;
  #waiting: ((caughtUp: boolean) => void)[] = [];

  /**
   * `fatal`: a pass met an I/O error; the thread has stopped for good, and the store must stop too
   * (as after a failed flush of its own). `worker`: the thread's script (tests give another).
   */
  constructor(file: string, log: (message: string) => void, fatal: (err: Error) => void, worker: URL) {
    this.#log = log;
    this.#fatal = fatal;
    this.#worker = new Worker(worker, {
      workerData: { file, intervalMs, passFrames, reportFrames: catchUpFrames },
    });
    this.#worker.unref();
    this.#worker.on('message', (m: { error?: string; fatal?: string; frames?: number; caughtUp?: boolean }) => {
      if (m.fatal) {
        this.terminate();
        for (const w of this.#waiting.splice(0)) w(false);
        this.#fatal(new Error(`a SQLite checkpoint could not read, write or flush its files; restart the gateway: ${m.fatal}`));
        return;
      }
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

  /** A last pass, then the thread ends. */
  async stop(): Promise<void> {
    if (!this.#alive) return;
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    // Held while it stops: an unreferenced thread lets the process end partway through a close.
    this.#worker.ref();
    this.#worker.postMessage('stop');
    await exited;
  }

  /** Ends the thread at once, without another pass (after a failed flush, nothing more may be copied). */
  terminate(): void {
    this.#alive = false;
    void this.#worker.terminate();
  }
}
