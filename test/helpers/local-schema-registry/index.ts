export { LocalSchemaRegistry, type LocalSchemaRegistryOptions } from './local-schema-registry';
export { createRegistryHandler, REGISTRY_CONTENT_TYPE } from './registry-routes';
export {
  RegistryStore,
  RegistryError,
  REGISTRY_ERRORS,
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  type SchemaType,
  type StoredSchema,
  type SubjectVersion,
} from './registry-store';
