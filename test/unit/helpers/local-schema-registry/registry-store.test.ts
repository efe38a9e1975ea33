import { RegistryError, RegistryStore } from '../../../helpers/local-schema-registry';

const avro = JSON.stringify({ type: 'record', name: 'A', fields: [{ name: 'x', type: 'int' }] });
const json = JSON.stringify({ type: 'object', properties: { x: { type: 'integer' } } });

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof RegistryError ? err.errorCode : undefined;
  }
  return undefined;
}

describe('RegistryStore', () => {
  it('gives one global id per schema, across subjects, and ignores whitespace', () => {
    const store = new RegistryStore();
    const a = store.register('t1-value', { schema: json, schemaType: 'JSON' });
    const b = store.register('t2-value', { schema: JSON.stringify(JSON.parse(json), null, 2), schemaType: 'JSON' });
    expect(b).toBe(a);
    expect(store.versions('t1-value')).toEqual([1]);
    expect(store.versions('t2-value')).toEqual([1]);
  });

  it('does not add a version when the subject already has the schema', () => {
    const store = new RegistryStore();
    const first = store.register('s', { schema: avro });
    const second = store.register('s', { schema: json, schemaType: 'JSON' });
    expect(store.register('s', { schema: avro })).toBe(first);
    expect(second).not.toBe(first);
    expect(store.versions('s')).toEqual([1, 2]);
    expect(store.version('s', 'latest')).toMatchObject({ version: 2, id: second, schemaType: 'JSON' });
    expect(store.version('s', '-1').id).toBe(second);
    expect(store.version('s', '1')).toMatchObject({ version: 1, id: first, schemaType: 'AVRO', subject: 's' });
  });

  it('treats a missing schemaType as Avro, so the same text under JSON is a different schema', () => {
    const store = new RegistryStore();
    expect(store.register('s', { schema: json })).not.toBe(store.register('s', { schema: json, schemaType: 'JSON' }));
    expect(store.schema(1).schemaType).toBe('AVRO');
  });

  it('looks a schema up under a subject', () => {
    const store = new RegistryStore();
    const id = store.register('s', { schema: json, schemaType: 'JSON' });
    expect(store.lookup('s', { schema: json, schemaType: 'JSON' })).toMatchObject({ id, version: 1 });
    expect(codeOf(() => store.lookup('s', { schema: avro }))).toBe(40403);
    expect(codeOf(() => store.lookup('nope', { schema: json, schemaType: 'JSON' }))).toBe(40401);
  });

  it('answers Confluent error codes', () => {
    const store = new RegistryStore();
    store.register('s', { schema: avro });
    expect(codeOf(() => store.version('missing', '1'))).toBe(40401);
    expect(codeOf(() => store.version('s', '2'))).toBe(40402);
    expect(codeOf(() => store.version('s', 'first'))).toBe(42202);
    expect(codeOf(() => store.version('s', '0'))).toBe(42202);
    expect(codeOf(() => store.schema(99))).toBe(40403);
    expect(codeOf(() => store.register('s', { schema: '{not json' }))).toBe(42201);
    expect(codeOf(() => store.register('s', { schema: '' }))).toBe(42201);
    expect(codeOf(() => store.register('s', { schema: '42', schemaType: 'JSON' }))).toBe(42201);
    expect(codeOf(() => store.register('s', { schema: avro, schemaType: 'XML' }))).toBe(42201);
    expect(codeOf(() => store.compatibility('s'))).toBe(40408);
    expect(codeOf(() => store.setCompatibility('s', 'SOMETIMES'))).toBe(42203);
  });

  it('stores compatibility per subject, falling back to the global level only when asked', () => {
    const store = new RegistryStore();
    expect(store.compatibility('s', true)).toBe('BACKWARD');
    expect(store.setCompatibility('s', 'full')).toBe('FULL');
    expect(store.compatibility('s')).toBe('FULL');
  });

  it('accepts references to registered versions only', () => {
    const store = new RegistryStore();
    store.register('base', { schema: json, schemaType: 'JSON' });
    const refs = [{ name: 'base.json', subject: 'base', version: 1 }];
    const id = store.register('s', { schema: '{"$ref":"base.json"}', schemaType: 'JSON', references: refs });
    expect(store.schema(id).references).toEqual(refs);
    expect(codeOf(() => store.register('s', { schema: '{}', schemaType: 'JSON', references: [{ name: 'x' }] }))).toBe(
      42201,
    );
    expect(
      codeOf(() =>
        store.register('s', {
          schema: '{}',
          schemaType: 'JSON',
          references: [{ name: 'x', subject: 'base', version: 7 }],
        }),
      ),
    ).toBe(40402);
  });
});
