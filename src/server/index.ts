export { buildServer, type ServerDeps } from './build-server';
export {
  IngressEgressServer,
  SHUTDOWN_STEPS,
  type ShutdownStep,
  type Startable,
  type ManagedPublisher,
} from './ingress-egress-server';
export { ConnectorManager } from './connector-manager';
