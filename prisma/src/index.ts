// @opsconductor/db: the one place web and worker get a database client and data-access functions.
export { createPrismaClient, PrismaClient } from "./client.ts";
export type { Db, Prisma } from "./client.ts";
export * from "./generated/enums.ts";
export { DbError, toDbError, translatePrismaError } from "./errors.ts";
export { createUser, findUserByUsername } from "./users.ts";
export type { NewUser } from "./users.ts";
export { createJob, addJobVersion, getJobVersion } from "./jobs.ts";
export type { NewJob } from "./jobs.ts";
export { FILE_CHUNK_BYTES, fileReferences, findLibraryFile, linkVersionFiles, openLibraryFile, readLibraryFile, storeFile } from "./files.ts";
export type { FileReference, NewFile } from "./files.ts";
export { appendLeasedRunOutput, appendRunOutput, claimRun, createRun, updateLeasedRun, withRunLease } from "./runs.ts";
export type { NewRun, OutputChunk, RunLease } from "./runs.ts";
export { applyMigrations } from "./migrate.ts";
export { checkDatabase } from "./health.ts";
export { getSystemOverview, recordWorkerHeartbeat, removeWorkerHeartbeat, WORKER_STALE_AFTER_MS } from "./workers.ts";
export type { SystemOverview, WorkerIdentity } from "./workers.ts";
export { databaseUrlSchema, defaultKeyId, masterKeysSchema, parseEnv, parseMasterKeys } from "./config.ts";
export type { MasterKeys } from "./config.ts";
export {
  cancelQueueJob,
  declaredRetries,
  enqueueRun,
  enqueueRunInTransaction,
  ensureRunQueues,
  failRunsWithEndedQueueJobs,
  QUEUE_JOB_STATES,
  queueJobCounts,
  resendRunJob,
  retryDelaySec,
  retryPolicyOf,
  RUN_DEAD_LETTER_QUEUE,
  RUN_QUEUE,
  runQueueDepth,
} from "./queue.ts";
export type { EnqueueOptions, QueueJobCounts, RunJobData } from "./queue.ts";
export { cancelRun, openRunParameters, prepareRunParameters, requestRun, runParametersAad, sealRunParameters } from "./run-operations.ts";
export type { CancelResult, PreparedRunParameters, RequestRunInput, RunParameterSealer } from "./run-operations.ts";
export { notify, notifyRun, requestRunControl, RUN_CONTROL_CHANNEL, RUN_EVENTS_CHANNEL, SCHEDULES_CHANNEL } from "./events.ts";
export type { RunControl, RunNotice } from "./events.ts";
export { rewrapCredentialSecrets, sealedSecretColumns, sealedSecretFromColumns } from "./credentials.ts";
export type { RewrapResult, SealedColumns } from "./credentials.ts";
export { connectionChanged, connectionFingerprint, credentialPolicyMessage, credentialUseRefusal, hostMatchesPolicy, parseNetworkList } from "./host-policy.ts";
export { credentialPolicySchema, hostPatternProblem, hostPatternSchema, ipVersion, normalizeHost } from "./host-patterns.ts";
export type { NetworkList, TargetConnection } from "./host-policy.ts";
