// @ts-check

/**
 * History of rollout actions and engine events: who did what, when, why, at which step and revision.
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('rollout_history', table => {
    table.comment('Rollout actions (allowed and denied) and engine events');
    table.bigIncrements('id').primary();
    table.string('entity_ref', 255).notNullable();
    table.string('cluster', 255).notNullable();
    table.string('namespace', 255).notNullable();
    table.string('workload', 255).notNullable();
    table
      .string('action', 64)
      .notNullable()
      .comment('start, an action, or an engine event');
    table
      .string('actor', 255)
      .notNullable()
      .comment('user entity ref, or system');
    table.text('reason').nullable();
    table
      .string('outcome', 16)
      .notNullable()
      .comment('succeeded, denied or failed');
    table.text('message').nullable();
    table.integer('step_index').nullable();
    table.integer('revision').nullable();
    table.string('image', 512).nullable();
    table
      .timestamp('created_at', { useTz: true })
      .notNullable()
      .defaultTo(knex.fn.now());
    table.index(['entity_ref', 'created_at'], 'rollout_history_entity_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('rollout_history');
};
