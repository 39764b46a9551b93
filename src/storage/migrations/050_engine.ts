import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/** The engine's own names for the operations the first schema stored as /v1 payment-type letters. */
const kindOfLetter: Readonly<Record<string, string>> = {
  PA: 'authorize', DB: 'sale', 'PA.CP': 'sale', CP: 'capture', RV: 'void', RF: 'refund', RB: 'rebill',
  CB: 'chargeback', CR: 'chargeback_reversal', RC: 'receipt', CD: 'credit',
};

const caseOf = (column: string) =>
  sql.raw(`case ${column} ${Object.entries(kindOfLetter).map(([l, k]) => `when '${l}' then '${k}'`).join(' ')} else ${column} end`);

/**
 * One engine for both dialects. Payments (intents) belong to a channel (`opp` or `executions`), no
 * longer to a hidden /v1 entity, and remember the PSP account that holds their authorization;
 * operations are named in payment terms and carry a neutral outcome reason; every PSP try is an
 * attempt row of its operation (the cascade's attempts included); a unique merchant transaction
 * id is enforced by an index; PSP accounts name their connector and its settings.
 */
export const engine: Migration = {
  async up(db: Kysely<any>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    if (postgres) return change(db, true);
    // SQLite migrations run outside a transaction (Kysely's migrator): this one rebuilds two tables
    // that others reference, so foreign keys are off meanwhile (possible only outside a
    // transaction), the whole change is one transaction, and the keys are checked before it commits.
    await sql`pragma foreign_keys = off`.execute(db);
    try {
      await sql`begin`.execute(db);
      try {
        await change(db, false);
        const broken = await sql`pragma foreign_key_check`.execute(db);
        if (broken.rows.length > 0) throw new Error(`foreign keys broken by the engine migration: ${JSON.stringify(broken.rows.slice(0, 3))}`);
        await sql`commit`.execute(db);
      } catch (err) {
        await sql`rollback`.execute(db);
        throw err;
      }
    } finally {
      await sql`pragma foreign_keys = on`.execute(db);
    }
  },
};

async function change(db: Kysely<any>, postgres: boolean) {
    if (postgres) {
      await sql`alter table payments alter column entity_id drop not null`.execute(db);
      await sql`alter table transactions alter column entity_id drop not null`.execute(db);
      await sql`alter table transactions alter column type type varchar(24)`.execute(db);
      await sql`alter table payments alter column initial_type type varchar(24)`.execute(db);
      await sql`alter table transactions alter column result_code type varchar(64)`.execute(db);
    } else {
      // SQLite cannot drop NOT NULL in place: the two tables are rebuilt.
      await sql`create table payments_next (
        id varchar(32) primary key, merchant_id varchar(32) not null references merchants(id),
        entity_id varchar(32) references entities(id), initial_type varchar(24) not null, status varchar(24) not null,
        currency varchar(3) not null, amount bigint not null, card_id varchar(32) references cards(id),
        mode varchar(16) not null, version integer not null, created_at bigint not null, updated_at bigint not null,
        method text not null default 'card')`.execute(db);
      await sql`insert into payments_next (id, merchant_id, entity_id, initial_type, status, currency, amount, card_id, mode, version, created_at, updated_at, method)
        select id, merchant_id, entity_id, initial_type, status, currency, amount, card_id, mode, version, created_at, updated_at, method from payments`.execute(db);
      await sql`create table transactions_next (
        id varchar(32) primary key, payment_id varchar(32) not null references payments(id), seq integer not null,
        merchant_id varchar(32) not null, entity_id varchar(32), type varchar(24) not null, status varchar(16) not null,
        amount bigint not null, currency varchar(3) not null, result_code varchar(64), psp_reference text,
        referenced_id varchar(32), merchant_transaction_id text, short_id varchar(14) not null, echo text not null,
        details text not null, created_at bigint not null, updated_at bigint not null)`.execute(db);
      await sql`insert into transactions_next select id, payment_id, seq, merchant_id, entity_id, type, status, amount, currency,
        result_code, psp_reference, referenced_id, merchant_transaction_id, short_id, echo, details, created_at, updated_at from transactions`.execute(db);
      await sql`drop table transactions`.execute(db);
      await sql`drop table payments`.execute(db);
      await sql`alter table payments_next rename to payments`.execute(db);
      await sql`alter table transactions_next rename to transactions`.execute(db);
      await db.schema.createIndex('transactions_payment').on('transactions').columns(['payment_id', 'seq']).unique().execute();
      await db.schema.createIndex('transactions_mtx').on('transactions').columns(['entity_id', 'merchant_transaction_id']).execute();
      await db.schema.createIndex('transactions_status').on('transactions').columns(['status', 'updated_at']).execute();
    }
    // What the /v1 dialect now keeps with the opening operation: the letters a PA.CP was asked with,
    // and the connector test system a merchant chose (the engine itself knows only test or live).
    const merged = (json: string) => sql.raw(postgres ? `(echo::jsonb || '${json}'::jsonb)::text` : `json_patch(echo, '${json}')`);
    await sql`update transactions set echo = ${merged('{"paymentType":"PA.CP"}')} where type = 'PA.CP'`.execute(db);
    await sql`update transactions set echo = ${merged('{"testMode":"EXTERNAL"}')}
      where seq = 0 and payment_id in (select id from payments where mode = 'EXTERNAL')`.execute(db);
    await db.updateTable('transactions').set({ type: caseOf('type') }).execute();
    await db.updateTable('payments').set({ initial_type: caseOf('initial_type') }).execute();
    // The engine knows test from live; which test system a /v1 merchant chose is the dialect's business.
    await db.updateTable('payments').set({ mode: sql`case when mode = 'LIVE' then 'live' else 'test' end` }).execute();

    await db.schema.alterTable('payments').addColumn('channel', 'varchar(16)', (c) => c.notNull().defaultTo('opp')).execute();
    await db.schema.alterTable('payments').addColumn('psp_account_id', 'varchar(32)').execute();
    await db.schema.alterTable('payments').addColumn('workflow_code', 'text').execute();
    // Executions' payments used to run under a hidden entity of their own channel.
    await sql`update payments set channel = 'executions', entity_id = null
      where entity_id in (select id from entities where channel_name = 'executions')`.execute(db);
    await sql`update transactions set entity_id = null where payment_id in (select id from payments where channel = 'executions')`.execute(db);
    // An executions payment's authorization follows its workflow's cascade.
    await sql`update payments set workflow_code = (select e.workflow_code from executions e where e.payment_id = payments.id)
      where channel = 'executions' and exists (select 1 from executions e where e.payment_id = payments.id)`.execute(db);

    await db.schema.alterTable('transactions').addColumn('reason', 'varchar(32)').execute();
    await db.schema.alterTable('transactions').addColumn('unique_mtx', 'integer').execute();
    await db.schema.alterTable('transactions').addColumn('unknown_since', 'bigint').execute();
    await sql`update transactions set unknown_since = updated_at where status = 'unknown'`.execute(db);
    // Only opening operations of entities that refuse duplicates (unique_mtx = 1) are in this
    // partial index, so every other payment's commit does not touch it.
    await db.schema.createIndex('transactions_unique_mtx').on('transactions')
      .columns(['entity_id', 'merchant_transaction_id']).unique().where(sql.ref('unique_mtx'), '=', sql.lit(1)).execute();

    // One row per try of an operation; keyed by its slot, so two nodes can never take the same one.
    // The id (the PSP's idempotency key) needs no index of its own: it is looked up at the PSP, not here.
    await db.schema.createTable('attempts')
      .addColumn('transaction_id', 'varchar(32)', (c) => c.notNull().references('transactions.id'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('id', 'varchar(32)', (c) => c.notNull())
      .addColumn('payment_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('account_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('account_name', 'text', (c) => c.notNull())
      .addColumn('connector', 'varchar(32)', (c) => c.notNull())
      .addColumn('authenticated', 'integer', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('reason', 'varchar(32)')
      .addColumn('result_code', 'varchar(64)')
      .addColumn('psp_reference', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('attempts_pk', ['transaction_id', 'seq'])
      .execute();
    // Every operation that went to a PSP gets its attempt: the operation's id is the attempt id the
    // PSP knows (the reconciler asks by it), at the cascade's account for executions' payments.
    await sql`insert into attempts (id, payment_id, transaction_id, seq, account_id, account_name, connector, authenticated,
        status, reason, result_code, psp_reference, created_at, updated_at)
      select t.id, t.payment_id, t.id, 0, coalesce(c.account_id, 'default'), coalesce(c.account_name, 'default'),
        case when c.id is null or c.account_id = 'default' then 'default' else 'simulator' end, coalesce(c.authenticated, 0),
        t.status, null, t.result_code, t.psp_reference, t.created_at, t.updated_at
      from transactions t left join cascade_attempts c on c.id = t.payment_id
      where t.status <> 'awaiting' and t.type not in ('chargeback', 'chargeback_reversal', 'receipt')`.execute(db);
    // A payment remembers the account that holds its authorization.
    await sql`update payments set psp_account_id = (select c.account_id from cascade_attempts c where c.id = payments.id)
      where exists (select 1 from cascade_attempts c where c.id = payments.id and c.account_id <> 'default')`.execute(db);
    await db.schema.dropTable('cascade_attempts').execute();

    // The executions dialect follows its payment's changes by payment id.
    await db.schema.createIndex('executions_payment').on('executions').column('payment_id').execute();

    await db.schema.alterTable('psp_accounts').addColumn('connector', 'varchar(32)', (c) => c.notNull().defaultTo('simulator')).execute();
    await db.schema.alterTable('psp_accounts').renameColumn('behaviour', 'settings').execute();
}
