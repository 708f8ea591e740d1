// @opsconductor/db: the one place web and worker get a database client and data-access functions.
export { createPrismaClient, PrismaClient } from "./database/client.ts";
export type { Db, Prisma } from "./database/client.ts";
export * from "./generated/enums.ts";
export { DbError, toDbError, translatePrismaError } from "./database/errors.ts";
export { createUser, findUserByUsername } from "./data/users.ts";
export type { NewUser } from "./data/users.ts";
export { createJob, addJobVersion, getJobVersion } from "./data/jobs.ts";
export type { NewJob } from "./data/jobs.ts";
export { FILE_CHUNK_BYTES, fileReferences, findLibraryFile, linkVersionFiles, openLibraryFile, readLibraryFile, storeFile } from "./data/files.ts";
export type { FileReference, NewFile } from "./data/files.ts";
export { appendLeasedRunOutput, appendRunOutput, claimRun, createRun, updateLeasedRun, updateLeasedStep, withRunLease } from "./data/runs.ts";
export type { LeasedStepUpdate, NewRun, OutputChunk, RunLease } from "./data/runs.ts";
export { applyMigrations } from "./database/migrate.ts";
export { addCounts, deleteRunOutput, deleteRuns, expiredOutputRunIds, expiredRunIds, lastPrunePass, NO_PRUNE, pruneRunOutput, recordPrunePass, reportRetentionSettings, retentionDefaults, takePruneLease } from "./data/retention.ts";
export type { PruneCounts, PrunePassView, RetentionDefaultsView, RetentionPolicy, RetentionSettings } from "./data/retention.ts";
export { checkDatabase } from "./database/health.ts";
export { getSystemOverview, recordWorkerHeartbeat, removeWorkerHeartbeat, WORKER_STALE_AFTER_MS } from "./data/workers.ts";
export type { SystemOverview, WorkerIdentity } from "./data/workers.ts";
export { DEFAULT_METRICS_RETENTION_DAYS, listMetricRollups, METRIC_RANGES, metricHistory, pruneMetricRollups, recordMetricSample, writeMetricRollups } from "./data/metrics.ts";
export type { MetricPoint, MetricRange, MetricRollupRow } from "./data/metrics.ts";
export { databaseUrlSchema, defaultKeyId, masterKeysSchema, parseEnv, parseMasterKeys } from "./database/config.ts";
export type { MasterKeys } from "./database/config.ts";
export {
  cancelQueueJob,
  declaredRetries,
  discardDeadLetteredRun,
  enqueueRun,
  enqueueRunInTransaction,
  enqueueRunsInTransaction,
  ensureRunQueues,
  failRunsWithEndedQueueJobs,
  listDeadLetteredRuns,
  QUEUE_JOB_STATES,
  queueJobCounts,
  resendRunJob,
  retryDeadLetteredRun,
  retryDelaySec,
  retryPolicyOf,
  RUN_DEAD_LETTER_QUEUE,
  RUN_QUEUE,
  runQueueDepth,
} from "./data/queue.ts";
export type { DeadLetteredRun, DeadLetterRetry, EnqueueOptions, NewQueuedRun, QueueJobCounts, RunJobData } from "./data/queue.ts";
export { cancelRun, openRunParameters, prepareRunParameters, requestRun, requestRuns, runParametersAad, sealRunParameters } from "./data/run-operations.ts";
export type { CancelResult, PreparedRunParameters, RequestRunInput, RunParameterSealer } from "./data/run-operations.ts";
export { notify, notifyRun, requestRunControl, RUN_CONTROL_CHANNEL, RUN_EVENTS_CHANNEL, SCHEDULES_CHANNEL } from "./data/events.ts";
export type { RunControl, RunNotice } from "./data/events.ts";
export { rewrapCredentialSecrets, sealedSecretColumns, sealedSecretFromColumns } from "./data/credentials.ts";
export type { RewrapResult, SealedColumns } from "./data/credentials.ts";
export { connectionChanged, connectionFingerprint, credentialPolicyMessage, credentialUseRefusal, hostMatchesPolicy, parseNetworkList } from "./data/host-policy.ts";
export { credentialPolicySchema, hostPatternProblem, hostPatternSchema, ipVersion, normalizeHost } from "./data/host-patterns.ts";
export type { NetworkList, TargetConnection } from "./data/host-policy.ts";
export { targetWinRMSettings } from "./data/targets.ts";
export type { TargetWinRMColumns } from "./data/targets.ts";
