-- tenants/network: an import's lease (issue 18). The run working an import stamps
-- heartbeat_at when it starts, with every batch, and every few seconds in
-- between (network.ImportHeartbeat). A running import whose stamp is older
-- than network.ImportStaleAfter has lost its worker (kill -9, OOM, a lost
-- node): every worker process looks for such imports at start and every few
-- seconds, and queues a new job that resumes the import from its checkpoint,
-- instead of waiting for River to rescue the dead job after the import
-- kind's 10-minute timeout. The stamp is renewed in the transaction that
-- queues the job, so one stalled import gets one new job.
ALTER TABLE network_imports ADD COLUMN heartbeat_at timestamptz;
