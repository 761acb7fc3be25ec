// @ts-check

/**
 * Repeated denials of one actor on one target become one row with a count, so nobody can push
 * real events out of view; `last_at` orders the history and drives retention.
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('rollout_history', table => {
    table
      .integer('count')
      .notNullable()
      .defaultTo(1)
      .comment('How many identical denials this row stands for');
    table
      .timestamp('last_at', { useTz: true })
      .nullable()
      .comment('When the last of them happened (created_at is the first)');
  });
  await knex('rollout_history').update({ last_at: knex.ref('created_at') });
  await knex.schema.alterTable('rollout_history', table => {
    table.index(['entity_ref', 'last_at'], 'rollout_history_entity_last_idx');
    table.index(['last_at'], 'rollout_history_last_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('rollout_history', table => {
    table.dropIndex(['entity_ref', 'last_at'], 'rollout_history_entity_last_idx');
    table.dropIndex(['last_at'], 'rollout_history_last_idx');
    table.dropColumn('count');
    table.dropColumn('last_at');
  });
};
