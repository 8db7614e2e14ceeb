/**
 * Runs once per `jest` run (jest.config.js globalSetup). Storage and e2e tests run on SQLite always
 * and on PostgreSQL only when TEST_DATABASE_URL is set: say once, plainly, when that half is skipped,
 * so a green run without it is not mistaken for a full one.
 */
module.exports = async function globalSetup() {
  if (!process.env.TEST_DATABASE_URL) {
    process.stderr.write('\n[tests] TEST_DATABASE_URL is not set: the PostgreSQL half of the storage and e2e tests is skipped (SQLite only).\n\n');
  }
};
