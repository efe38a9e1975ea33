export { EgressConsumer, type EgressConsumerOptions, type EgressConsumerStats } from './egress-consumer';
export { createEgressConsumer, laneGroupId } from './create-egress-consumer';
export { EgressLanes, type EgressLanesStats } from './egress-lanes';
export { DlqWriter } from './dlq-writer';
export { DLQ_HEADERS, type DlqCause, type DlqEntry, type DlqSource } from './dlq-record';
export {
  listDlq,
  replayDlq,
  type DlqFilter,
  type ListDlqOptions,
  type ReplayDlqOptions,
  type ReplayResult,
} from './egress-dlq';
export {
  StageRunner,
  type RunnerStage,
  type StageResult,
  type StageRunnerOptions,
  type StageSubject,
} from './stage-runner';
