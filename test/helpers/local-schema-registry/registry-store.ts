/**
 * The state of the local Schema Registry, kept apart from HTTP so it can be
 * tested on its own. It follows Confluent's rules that clients rely on: a
 * schema (type + canonical text + references) has one global id whichever
 * subject it is registered under; registering a schema a subject already has
 * returns the existing id and adds no version; versions start at 1.
 * Compatibility levels are stored and reported but not enforced.
 */

export type SchemaType = 'AVRO' | 'JSON' | 'PROTOBUF';

export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

export interface StoredSchema {
  id: number;
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
}

export interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
}

/** Confluent's error codes (HTTP status is the first three digits). */
export const REGISTRY_ERRORS = {
  subjectNotFound: 40401,
  versionNotFound: 40402,
  schemaNotFound: 40403,
  subjectCompatibilityNotConfigured: 40408,
  invalidSchema: 42201,
  invalidVersion: 42202,
  invalidCompatibilityLevel: 42203,
} as const;

export class RegistryError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }

  get httpStatus(): number {
    return Math.floor(this.errorCode / 100);
  }
}

export class RegistryStore {
  private readonly byId = new Map<number, StoredSchema>();
  private readonly idByKey = new Map<string, number>();
  private readonly subjects = new Map<string, number[]>();
  private readonly configs = new Map<string, CompatibilityLevel>();
  private globalCompatibility: CompatibilityLevel = 'BACKWARD';
  private nextId = 1;

  /** Registers a schema under a subject; returns its global id. */
  register(subject: string, input: { schema: unknown; schemaType?: unknown; references?: unknown }): number {
    const schemaType = parseSchemaType(input.schemaType);
    const references = parseReferences(input.references);
    for (const ref of references) this.version(ref.subject, String(ref.version));
    const canonical = canonicalize(input.schema, schemaType);
    const key = `${schemaType}\u0000${canonical}\u0000${JSON.stringify(references)}`;
    let id = this.idByKey.get(key);
    if (id === undefined) {
      id = this.nextId++;
      this.idByKey.set(key, id);
      this.byId.set(id, { id, schema: canonical, schemaType, references });
    }
    const versions = this.subjects.get(subject) ?? [];
    if (!versions.includes(id)) versions.push(id);
    this.subjects.set(subject, versions);
    return id;
  }

  /** Finds the version of a subject that holds this schema. */
  lookup(subject: string, input: { schema: unknown; schemaType?: unknown; references?: unknown }): SubjectVersion {
    const versions = this.versionsOf(subject);
    const schemaType = parseSchemaType(input.schemaType);
    const canonical = canonicalize(input.schema, schemaType);
    const key = `${schemaType}\u0000${canonical}\u0000${JSON.stringify(parseReferences(input.references))}`;
    const id = this.idByKey.get(key);
    const index = id === undefined ? -1 : versions.indexOf(id);
    if (id === undefined || index < 0) {
      throw new RegistryError(REGISTRY_ERRORS.schemaNotFound, 'Schema not found');
    }
    return this.describe(subject, index + 1, id);
  }

  /** `version` is a positive number, `latest` or `-1`. */
  version(subject: string, version: string): SubjectVersion {
    const versions = this.versionsOf(subject);
    let n: number;
    if (version === 'latest' || version === '-1') n = versions.length;
    else if (/^[1-9]\d{0,9}$/.test(version)) n = Number(version);
    else {
      throw new RegistryError(
        REGISTRY_ERRORS.invalidVersion,
        `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
      );
    }
    const id = versions[n - 1];
    if (id === undefined) throw new RegistryError(REGISTRY_ERRORS.versionNotFound, `Version ${version} not found.`);
    return this.describe(subject, n, id);
  }

  versions(subject: string): number[] {
    return this.versionsOf(subject).map((_, i) => i + 1);
  }

  subjectNames(): string[] {
    return [...this.subjects.keys()].sort();
  }

  schema(id: number): StoredSchema {
    const found = this.byId.get(id);
    if (!found) throw new RegistryError(REGISTRY_ERRORS.schemaNotFound, `Schema ${id} not found`);
    return found;
  }

  /** The subject's own level; with `defaultToGlobal` falls back to the global one. */
  compatibility(subject: string, defaultToGlobal = false): CompatibilityLevel {
    const level = this.configs.get(subject) ?? (defaultToGlobal ? this.globalCompatibility : undefined);
    if (!level) {
      throw new RegistryError(
        REGISTRY_ERRORS.subjectCompatibilityNotConfigured,
        `Subject '${subject}' does not have subject-level compatibility configured`,
      );
    }
    return level;
  }

  setCompatibility(subject: string, level: unknown): CompatibilityLevel {
    const upper = typeof level === 'string' ? level.toUpperCase() : '';
    if (!(COMPATIBILITY_LEVELS as readonly string[]).includes(upper)) {
      throw new RegistryError(REGISTRY_ERRORS.invalidCompatibilityLevel, 'Invalid compatibility level');
    }
    this.configs.set(subject, upper as CompatibilityLevel);
    return upper as CompatibilityLevel;
  }

  private versionsOf(subject: string): number[] {
    const versions = this.subjects.get(subject);
    if (!versions) throw new RegistryError(REGISTRY_ERRORS.subjectNotFound, `Subject '${subject}' not found.`);
    return versions;
  }

  private describe(subject: string, version: number, id: number): SubjectVersion {
    const s = this.schema(id);
    return { subject, version, id, schema: s.schema, schemaType: s.schemaType, references: s.references };
  }
}

function parseSchemaType(value: unknown): SchemaType {
  // Confluent: no schemaType means Avro.
  if (value === undefined || value === null) return 'AVRO';
  if (value === 'AVRO' || value === 'JSON' || value === 'PROTOBUF') return value;
  throw new RegistryError(REGISTRY_ERRORS.invalidSchema, `Unknown schema type ${String(value)}`);
}

function parseReferences(value: unknown): SchemaReference[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new RegistryError(REGISTRY_ERRORS.invalidSchema, 'references must be an array');
  return value.map((r: unknown) => {
    const ref = r as Partial<SchemaReference> | null;
    if (!ref || typeof ref.name !== 'string' || typeof ref.subject !== 'string' || !Number.isInteger(ref.version)) {
      throw new RegistryError(REGISTRY_ERRORS.invalidSchema, 'each reference needs name, subject and version');
    }
    return { name: ref.name, subject: ref.subject, version: ref.version as number };
  });
}

/** Avro and JSON schemas are compared as parsed JSON, so whitespace differences do not mint new ids. */
function canonicalize(schema: unknown, type: SchemaType): string {
  if (typeof schema !== 'string' || schema.trim() === '') {
    throw new RegistryError(REGISTRY_ERRORS.invalidSchema, 'schema must be a non-empty string');
  }
  if (type === 'PROTOBUF') return schema;
  let parsed: unknown;
  try {
    parsed = JSON.parse(schema);
  } catch {
    throw new RegistryError(REGISTRY_ERRORS.invalidSchema, `Invalid ${type} schema: not JSON`);
  }
  if (type === 'JSON' && (parsed === null || (typeof parsed !== 'object' && typeof parsed !== 'boolean'))) {
    throw new RegistryError(REGISTRY_ERRORS.invalidSchema, 'Invalid JSON schema: must be an object or a boolean');
  }
  return JSON.stringify(parsed);
}
