/*
 * The schema of veritee's database, as numbered steps per component (schema.h). Rules:
 *
 *  - A released step is never edited: a change to the schema is a new step at the end of its
 *    component, and tests/integration/db_upgrade.sh gets a new tests/data/db-vN made with the
 *    release before it (tests/support/gen_db_upgrade.sh).
 *  - Steps only add: tables, columns (with a default, so that older rows stay valid), indexes,
 *    rows. None drops or deletes data (tests/unit/store/test_schema.c checks the SQL for DROP,
 *    DELETE, TRUNCATE and RENAME).
 *  - Idempotent where SQL allows it (IF NOT EXISTS): a step may then be re-run safely.
 *  - Portable SQL: "BLOB" becomes "BYTEA" on PostgreSQL; statements separated by ';'.
 *
 * Version 1 of core, cache and broker is the schema of 0.1.0 (commit 52365d4) exactly, when
 * tables were created with CREATE TABLE IF NOT EXISTS at every start and no version was recorded.
 * The kms component was added later (issue 19), the keyvault and maa ones too (issue 20): they
 * have always been recorded.
 */
#include "store/schema.h"

/* ---- core: tables the cache and the broker share ---- */

static const struct vt_schema_step core_steps[] = {
    {"vt_meta (named values: bundle key, master-key check), vt_tokens (SHA-256 of bearer tokens)",
     "CREATE TABLE IF NOT EXISTS vt_meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
     "CREATE TABLE IF NOT EXISTS vt_tokens(hash TEXT PRIMARY KEY, role TEXT NOT NULL,"
     " name TEXT NOT NULL, created BIGINT NOT NULL)",
     NULL},
    /* the replica registry (replicas.c, the console's Health view): one row per broker or cache
     * process with its last heartbeat; for a broker the log size and batches it last committed
     * (-1 for a cache) */
    {"vt_replicas: the heartbeats of the broker and cache processes on this store",
     "CREATE TABLE IF NOT EXISTS vt_replicas(id TEXT PRIMARY KEY, role TEXT NOT NULL,"
     " host TEXT NOT NULL, pid BIGINT NOT NULL, version TEXT NOT NULL, started BIGINT NOT NULL,"
     " last_seen BIGINT NOT NULL, interval_s BIGINT NOT NULL, log_size BIGINT NOT NULL,"
     " log_batches BIGINT NOT NULL);\n"
     "CREATE INDEX IF NOT EXISTS vt_replicas_last_seen ON vt_replicas(last_seen)",
     NULL},
};

const struct vt_schema_component vt_schema_core = {"core", "vt_tokens", core_steps,
                                                   sizeof(core_steps) / sizeof(core_steps[0])};

/* ---- cache: the collateral cache (src/cache) ---- */

static const struct vt_schema_step cache_steps[] = {
    {"vt_items, vt_enforce, vt_platforms, vt_policies",
     "CREATE TABLE IF NOT EXISTS vt_items(key TEXT PRIMARY KEY, kind INTEGER NOT NULL,"
     " tee INTEGER NOT NULL, fmspc TEXT NOT NULL, eval_num BIGINT NOT NULL,"
     " content_type TEXT NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL,"
     " issue_date BIGINT NOT NULL, next_update BIGINT NOT NULL, fetched_at BIGINT NOT NULL,"
     " upstream TEXT NOT NULL);\n"
     "CREATE TABLE IF NOT EXISTS vt_enforce(tee INTEGER NOT NULL, eval_num BIGINT NOT NULL,"
     " from_time BIGINT NOT NULL, created BIGINT NOT NULL, PRIMARY KEY(tee, from_time));\n"
     "CREATE TABLE IF NOT EXISTS vt_platforms(id TEXT PRIMARY KEY, fmspc TEXT NOT NULL,"
     " pceid TEXT NOT NULL, qeid TEXT NOT NULL, components TEXT NOT NULL, pcesvn BIGINT NOT NULL,"
     " enc_ppid TEXT NOT NULL, cpusvn TEXT NOT NULL, source TEXT NOT NULL,"
     " first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL);\n"
     "CREATE TABLE IF NOT EXISTS vt_policies(id TEXT PRIMARY KEY, fmspc TEXT NOT NULL,"
     " type INTEGER NOT NULL, is_default INTEGER NOT NULL, policy TEXT NOT NULL,"
     " created BIGINT NOT NULL)",
     NULL},
    /* /metrics reads MAX(now - next_update) and the refresher the items due, on every scrape
     * and pass: without an index every row is read, and on SQLite next_update lies after the
     * body, so every body's overflow pages too. QCNL's pckcert?qeid= looks up the platform's
     * registration by QE ID on every request. */
    {"indexes: vt_items(next_update) for /metrics and the refresher, vt_platforms(qeid) for "
     "pckcert by QE ID",
     "CREATE INDEX IF NOT EXISTS vt_items_next_update ON vt_items(next_update);\n"
     "CREATE INDEX IF NOT EXISTS vt_platforms_qeid ON vt_platforms(qeid)",
     NULL},
};

const struct vt_schema_component vt_schema_cache = {"cache", "vt_items", cache_steps,
                                                    sizeof(cache_steps) / sizeof(cache_steps[0])};

/* ---- broker: the key broker (src/broker) ---- */

static const struct vt_schema_step broker_steps[] = {
    {"vb_nonces, vb_keys, vb_key_versions, vb_signing_keys, vb_policy, vb_log, vb_checkpoints, "
     "vb_decisions, vb_kbs_sessions and their indexes",
     "CREATE TABLE IF NOT EXISTS vb_nonces(nonce TEXT PRIMARY KEY, expires BIGINT NOT NULL,"
     " used BIGINT NOT NULL);\n"
     "CREATE TABLE IF NOT EXISTS vb_keys(name TEXT PRIMARY KEY, current BIGINT NOT NULL,"
     " disabled BIGINT NOT NULL, policy TEXT NOT NULL, policy_sha256 TEXT NOT NULL,"
     " created BIGINT NOT NULL, updated BIGINT NOT NULL);\n"
     "CREATE TABLE IF NOT EXISTS vb_key_versions(name TEXT NOT NULL, version BIGINT NOT NULL,"
     " dek BLOB NOT NULL, secret BLOB NOT NULL, created BIGINT NOT NULL,"
     " PRIMARY KEY(name, version));\n"
     "CREATE TABLE IF NOT EXISTS vb_signing_keys(kid TEXT PRIMARY KEY, sealed BLOB NOT NULL,"
     " public_xy TEXT NOT NULL, created BIGINT NOT NULL, retired BIGINT NOT NULL);\n"
     "CREATE TABLE IF NOT EXISTS vb_policy(name TEXT PRIMARY KEY, json TEXT NOT NULL,"
     " sha256 TEXT NOT NULL, updated BIGINT NOT NULL);\n"
     "CREATE TABLE IF NOT EXISTS vb_log(idx BIGINT PRIMARY KEY, entry TEXT NOT NULL,"
     " leaf BLOB NOT NULL, created BIGINT NOT NULL);\n"
     "CREATE TABLE IF NOT EXISTS vb_checkpoints(size BIGINT PRIMARY KEY, body TEXT NOT NULL,"
     " sig TEXT NOT NULL, kid TEXT NOT NULL);\n"
     "CREATE TABLE IF NOT EXISTS vb_decisions(idx BIGINT PRIMARY KEY, explanation TEXT NOT NULL);\n"
     /* KBS protocol sessions (broker_kbs.c): the cookie's id, its challenge, and once attested
      * the EAR token (with its hash, for Bearer requests) and the TEE's key */
     "CREATE TABLE IF NOT EXISTS vb_kbs_sessions(id TEXT PRIMARY KEY, nonce TEXT NOT NULL,"
     " tee TEXT NOT NULL, expires BIGINT NOT NULL, used BIGINT NOT NULL, token TEXT NOT NULL,"
     " token_sha256 TEXT NOT NULL, runtime_key TEXT NOT NULL);\n"
     "CREATE INDEX IF NOT EXISTS vb_kbs_sessions_token ON vb_kbs_sessions(token_sha256);\n"
     /* the caps count outstanding challenges (used = 0, not expired) with these */
     "CREATE INDEX IF NOT EXISTS vb_nonces_pending ON vb_nonces(used, expires);\n"
     "CREATE INDEX IF NOT EXISTS vb_kbs_sessions_pending ON vb_kbs_sessions(used, expires)",
     NULL},
    /* Certificates from the broker (issue 21, docs/attested-tls.md): the CA's key sealed under
     * the master key as the signing keys are, its self-signed certificate (DER), and the
     * profiles an issuance names (policy, DNS names as a JSON array, lifetime in seconds; 0:
     * the broker's default) */
    {"vb_ca (the broker's certificate authority), vb_cert_profiles (certificate profiles)",
     "CREATE TABLE IF NOT EXISTS vb_ca(id TEXT PRIMARY KEY, sealed BLOB NOT NULL,"
     " cert BLOB NOT NULL, created BIGINT NOT NULL, retired BIGINT NOT NULL);\n"
     "CREATE TABLE IF NOT EXISTS vb_cert_profiles(name TEXT PRIMARY KEY, policy TEXT NOT NULL,"
     " policy_sha256 TEXT NOT NULL, dns TEXT NOT NULL, lifetime BIGINT NOT NULL,"
     " updated BIGINT NOT NULL)",
     NULL},
    /* the fleet (broker_fleet.c, the console's Fleet view): one row per TEE type, platform and
     * identity measurement whose evidence verified, with its latest verification */
    {"vb_fleet: the TEEs whose evidence verified",
     "CREATE TABLE IF NOT EXISTS vb_fleet(id TEXT PRIMARY KEY, tee TEXT NOT NULL,"
     " platform_kind TEXT NOT NULL, platform TEXT NOT NULL, identity TEXT NOT NULL,"
     " status TEXT NOT NULL, advisories TEXT NOT NULL, debug BIGINT NOT NULL,"
     " tcb_eval BIGINT NOT NULL, measurements TEXT NOT NULL, first_seen BIGINT NOT NULL,"
     " last_seen BIGINT NOT NULL, seen BIGINT NOT NULL, last_decision TEXT NOT NULL);\n"
     "CREATE INDEX IF NOT EXISTS vb_fleet_last_seen ON vb_fleet(last_seen)",
     NULL},
};

const struct vt_schema_component vt_schema_broker = {
    "broker", "vb_keys", broker_steps, sizeof(broker_steps) / sizeof(broker_steps[0])};

/* ---- kms: the AWS KMS drop-in (src/kms, docs/kms.md) ---- */

static const struct vt_schema_step kms_steps[] = {
    {"vk_keys, vk_key_versions, vk_key_policies, vk_aliases, vk_access_keys",
     /* one row per KMS key: its id (UUID) and ARN, state (Enabled, Disabled, PendingDeletion),
      * deletion date (0: none), current version and rotation (period in days, next date) */
     "CREATE TABLE IF NOT EXISTS vk_keys(key_id TEXT PRIMARY KEY, arn TEXT NOT NULL,"
     " account TEXT NOT NULL, description TEXT NOT NULL, key_state TEXT NOT NULL,"
     " key_spec TEXT NOT NULL, key_usage TEXT NOT NULL, created BIGINT NOT NULL,"
     " deletion_date BIGINT NOT NULL, pending_window BIGINT NOT NULL,"
     " current_version BIGINT NOT NULL, rotation_enabled BIGINT NOT NULL,"
     " rotation_period BIGINT NOT NULL, next_rotation BIGINT NOT NULL, updated BIGINT NOT NULL);\n"
     "CREATE UNIQUE INDEX IF NOT EXISTS vk_keys_arn ON vk_keys(arn);\n"
     /* each version's 32-byte material, sealed under the master key (vt_aead_seal, associated
      * data naming key and version); on_demand: made by RotateKeyOnDemand */
     "CREATE TABLE IF NOT EXISTS vk_key_versions(key_id TEXT NOT NULL, version BIGINT NOT NULL,"
     " material BLOB NOT NULL, created BIGINT NOT NULL, on_demand BIGINT NOT NULL,"
     " PRIMARY KEY(key_id, version));\n"
     "CREATE TABLE IF NOT EXISTS vk_key_policies(key_id TEXT NOT NULL, name TEXT NOT NULL,"
     " policy TEXT NOT NULL, updated BIGINT NOT NULL, PRIMARY KEY(key_id, name));\n"
     "CREATE TABLE IF NOT EXISTS vk_aliases(name TEXT PRIMARY KEY, key_id TEXT NOT NULL,"
     " created BIGINT NOT NULL, updated BIGINT NOT NULL);\n"
     "CREATE INDEX IF NOT EXISTS vk_aliases_key ON vk_aliases(key_id);\n"
     /* SigV4 access keys: the secret sealed under the master key (SigV4 needs it in the clear),
      * the principal ARN it signs as and that ARN's account */
     "CREATE TABLE IF NOT EXISTS vk_access_keys(id TEXT PRIMARY KEY, secret BLOB NOT NULL,"
     " principal TEXT NOT NULL, account TEXT NOT NULL, admin BIGINT NOT NULL,"
     " created BIGINT NOT NULL, disabled BIGINT NOT NULL)",
     NULL},
};

const struct vt_schema_component vt_schema_kms = {"kms", "vk_keys", kms_steps,
                                                  sizeof(kms_steps) / sizeof(kms_steps[0])};

/* ---- keyvault: the Azure Key Vault keys drop-in with Secure Key Release (src/azure/kv*.c,
 * docs/skr.md) ---- */

static const struct vt_schema_step keyvault_steps[] = {
    {"kv_keys, kv_key_versions, kv_signers",
     /* one row per key name: its current version (32 hex digits) */
     "CREATE TABLE IF NOT EXISTS kv_keys(name TEXT PRIMARY KEY, current_version TEXT NOT NULL,"
     " created BIGINT NOT NULL, updated BIGINT NOT NULL);\n"
     /* each version: the key type, operations (JSON array), public members (JSON object), the
      * private material sealed under the master key (vt_aead_seal, associated data naming key
      * and version: PKCS#8 PEM for RSA and EC, the raw bytes for oct-HSM), attributes, the
      * release policy (JSON {contentType, data, immutable}, '' for none) and tags (JSON) */
     "CREATE TABLE IF NOT EXISTS kv_key_versions(name TEXT NOT NULL, version TEXT NOT NULL,"
     " kty TEXT NOT NULL, key_ops TEXT NOT NULL, public_jwk TEXT NOT NULL,"
     " material BLOB NOT NULL, enabled BIGINT NOT NULL, exportable BIGINT NOT NULL,"
     " nbf BIGINT NOT NULL, exp BIGINT NOT NULL, release_policy TEXT NOT NULL,"
     " tags TEXT NOT NULL, created BIGINT NOT NULL, updated BIGINT NOT NULL,"
     " PRIMARY KEY(name, version));\n"
     /* the key that signs release responses: PKCS#8 PEM sealed under the master key, and its
      * self-signed certificate (DER) */
     "CREATE TABLE IF NOT EXISTS kv_signers(kid TEXT PRIMARY KEY, private BLOB NOT NULL,"
     " cert BLOB NOT NULL, created BIGINT NOT NULL)",
     NULL},
};

const struct vt_schema_component vt_schema_keyvault = {
    "keyvault", "kv_keys", keyvault_steps, sizeof(keyvault_steps) / sizeof(keyvault_steps[0])};

/* ---- maa: the Azure Attestation drop-in (src/azure/maa*.c, docs/maa.md) ---- */

static const struct vt_schema_step maa_steps[] = {
    {"vm_signing_keys, vm_policies",
     /* the token signing keys: RSA PKCS#8 PEM sealed under the master key (associated data
      * naming the kid) and the self-signed certificate /certs publishes; the oldest is active */
     "CREATE TABLE IF NOT EXISTS vm_signing_keys(kid TEXT PRIMARY KEY, sealed BLOB NOT NULL,"
     " certificate BLOB NOT NULL, created BIGINT NOT NULL);\n"
     /* the attestation policy of each type as uploaded: its text, the JWS it came in, the
      * signer's certificate (NULL: unsigned) */
     "CREATE TABLE IF NOT EXISTS vm_policies(attestation_type TEXT PRIMARY KEY,"
     " policy TEXT NOT NULL, token TEXT NOT NULL, signer BLOB, updated BIGINT NOT NULL)",
     NULL},
};

const struct vt_schema_component vt_schema_maa = {"maa", "vm_signing_keys", maa_steps,
                                                  sizeof(maa_steps) / sizeof(maa_steps[0])};

const struct vt_schema_component *const vt_schema_all[6] = {&vt_schema_core,     &vt_schema_cache,
                                                            &vt_schema_broker,   &vt_schema_kms,
                                                            &vt_schema_keyvault, &vt_schema_maa};
