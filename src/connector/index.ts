export type {
  AssignmentInfo,
  Connector,
  ConnectorHealth,
  ConnectorPart,
  EgressContext,
  EgressHandler,
} from './connector';
export type { EventPublisherPort, PublishedRecord, RawRecord } from './event-publisher-port';
