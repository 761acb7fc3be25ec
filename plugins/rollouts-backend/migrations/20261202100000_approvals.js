// @ts-check

/**
 * Four-eyes approval requests. `pending_key` holds the target while a request is pending and is
 * cleared when it is decided or expires: its unique index keeps one pending request per target,
 * even when two owners ask at the same moment on two replicas.
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('rollout_approvals', table => {
    table.string('id', 36).primary().comment('A random UUID');
    table.string('entity_ref').notNullable();
    table.string('cluster').notNullable();
    table.string('namespace').notNullable();
    table.string('workload').notNullable();
    table
      .string('action')
      .notNullable()
      .comment('start, promote, promote-full or retry');
    table.string('image', 512).nullable();
    table
      .text('request_json')
      .notNullable()
      .comment(
        'What the action carries when approved: revision, step index, reason',
      );
    table.string('requested_by').notNullable();
    table.text('reason').notNullable();
    table
      .string('status')
      .notNullable()
      .comment('pending, approved, denied or expired');
    table.string('pending_key').nullable().unique();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('expires_at', { useTz: true }).notNullable();
    table.string('decided_by').nullable();
    table.timestamp('decided_at', { useTz: true }).nullable();
    table.text('decision_reason').nullable();
    table.index(['entity_ref', 'created_at'], 'rollout_approvals_entity_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('rollout_approvals');
};
