/**
 * Per-command help (`switchyard help webhooks forward`, `switchyard webhooks forward --help`), taken
 * from the one usage text the CLI prints, so that a command added there has help at once. An entry
 * is a line starting `switchyard <group> <command>` with the lines indented under it; `a|b` in the
 * command position names several commands. Some commands add a longer explanation below.
 */
const details: Readonly<Record<string, string>> = {
  'merchants create': 'Creates a merchant with a /v1 entity and executions credentials, and prints them once (--json for a script).\n' +
    '--live makes a live-mode merchant (its payments are never simulated).',
  'merchants rotate': 'Replaces the merchant\'s secrets and prints the new ones once (--json for a script): --dialect opp a new /v1\n' +
    'bearer token (and its userId/password pair, with the entity ids its requests name), executions a new API key (the\n' +
    'client id stays), both (the default) each.\n' +
    'The old secrets stop working at once, with no overlap; a new API key also ends every executions access token\n' +
    'issued before it. Running gateways follow at once: nothing is cached.',
  'keys rotate': 'Adds a key-encrypting key and re-wraps every stored card\'s data key under it; card numbers are never re-encrypted.\n' +
    'Safe while servers run: they pick the new key up within SWITCHYARD_KEY_REFRESH_MS.',
  'psp-accounts put': 'Creates or replaces a PSP account of the merchant\'s payment-acceptance workflow. --connector names the\n' +
    'connector (simulator, opp, adyen or stripe); --settings is that connector\'s settings as JSON, @FILE to read them from a\n' +
    'file or - from standard input (credentials stay out of the process list and the shell\'s history).',
  'workflows set': 'Sets the cascade: the PSP accounts tried in order (--accounts) and the decline reasons that move on to the\n' +
    'next one (--move-on, e.g. soft,error).',
  'webhooks add': 'Registers an endpoint and prints its secret once. Loopback and private addresses are refused unless\n' +
    'SWITCHYARD_WEBHOOK_ALLOW opens them (on the gateway and here), e.g. SWITCHYARD_WEBHOOK_ALLOW=127.0.0.0/8,::1/128.',
  'webhooks test': 'Queues a test message to the endpoint: the /v1 activation message, or for an executions endpoint a\n' +
    '`webhookTest` event signed like every other.',
  'webhooks forward': 'For local development, like a PSP CLI\'s "listen --forward-to": registers an endpoint for URL, and while the\n' +
    'command runs the running gateway sends the merchant\'s new events there (signed or encrypted as usual, each\n' +
    'payment\'s events in order); every attempt is printed. Ctrl-C disables the endpoint. The gateway must allow the\n' +
    'address: start it with SWITCHYARD_WEBHOOK_ALLOW=127.0.0.0/8,::1/128 for a receiver on this machine.',
  backup: 'Writes a consistent copy of the embedded SQLite store to FILE (a new file; never over one), taken while\n' +
    'gateways serve: the store as of one commit. The copy is flushed and checked before it gets its name. It holds no\n' +
    'master key: keep that apart from the backups. On PostgreSQL use pg_dump or base backups instead.',
  restore: 'Puts a backup in place as the store of SWITCHYARD_DATA_DIR, which must hold none (nor a -wal file). The copy is\n' +
    'checked whole, and the master key (SWITCHYARD_MASTER_KEY, or master.key in the folder) is checked against its card keys,\n' +
    'before anything is put in place. Start the gateway on the folder afterwards; it migrates an older copy as usual.',
  'ledger verify': 'Checks every invariant of the books (each transfer balances, holds are released once, ...); exits 1 naming\n' +
    'the first one broken.',
};

interface Entry {
  readonly words: readonly (readonly string[])[];
  readonly text: string;
}

function entriesOf(usage: string): Entry[] {
  const entries: { words: string[][]; lines: string[] }[] = [];
  for (const line of usage.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('switchyard ')) {
      const words = trimmed.split(/\s+/).slice(1).filter((w) => /^[a-z][a-z|-]*$/.test(w));
      entries.push({ words: words.slice(0, 2).map((w) => w.split('|')), lines: [line] });
    } else if (trimmed && entries.length > 0 && /^\s{4,}/.test(line)) {
      entries.at(-1)!.lines.push(line);
    } else if (!trimmed && entries.length > 0) {
      entries.push({ words: [], lines: [] });
    }
  }
  return entries.filter((e) => e.words.length > 0).map((e) => ({ words: e.words, text: e.lines.join('\n') }));
}

/** The help for `topic` (a group, or a group and a command), or undefined when no command matches. */
export function helpFor(usage: string, topic: readonly string[]): string | undefined {
  const matching = entriesOf(usage).filter((e) => topic.every((word, i) => e.words[i]?.includes(word)));
  if (matching.length === 0) return undefined;
  // A command of one word (`backup`) is explained under its own name, a command of a group under both words.
  const more = details[topic.join(' ')];
  return `usage:\n${matching.map((e) => e.text).join('\n')}\n${more ? `\n${more}\n` : ''}`;
}

/** The CLI's `help` command and `--help` on any command: prints to stdout (help asked for is output) and returns the exit code. */
export function printHelp(text: string, topic: readonly string[]): number {
  const usage = text.replace(/^usage:\n/, '');
  if (topic.length === 0) {
    process.stdout.write(`usage:\n${usage}\n\nswitchyard help <command> [<subcommand>] (or <command> --help) shows one command.\n`);
    return 0;
  }
  const help = helpFor(usage, topic.slice(0, 2));
  if (help === undefined) {
    process.stderr.write(`no command "${topic.join(' ')}"\nusage:\n${usage}\n`);
    return 2;
  }
  process.stdout.write(help);
  return 0;
}
