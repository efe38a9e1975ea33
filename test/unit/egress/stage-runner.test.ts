import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { StageRunner, type RunnerStage, type StageSubject } from '../../../src/egress';
import { IngressEgressError } from '../../../src/errors';
import { silentLogger } from '../../../src/observability';
import { systemClock } from '../../../src/resilience';

type Name = 'a' | 'b' | 'outcome';
interface Subject extends StageSubject<string> {
  walked: Name[];
}

function subject(): Subject {
  return { request: { id: 'req-1' }, context: { signal: new AbortController().signal }, walked: [] };
}

function stage(name: Name, run: (s: Subject) => ReturnType<RunnerStage<Name, Subject, string>['run']>) {
  return { name, run: (s: Subject) => (s.walked.push(name), run(s)) };
}

function runner(stages: RunnerStage<Name, Subject, string>[]) {
  return new StageRunner<Name, Subject, string>({
    stages,
    outcome: stage('outcome', async () => ({ kind: 'next' })),
    clock: systemClock,
    logger: silentLogger,
    label: 'test',
    failed: (_s, name, reason) => `failed in ${name}: ${reason}`,
  });
}

describe('StageRunner', () => {
  it('walks the stages in order until one decides, then always runs the outcome stage', async () => {
    const s = subject();
    const r = runner([
      stage('a', async () => ({ kind: 'decide', decision: 'done' })),
      stage('b', async () => ({ kind: 'next' })),
    ]);
    expect(r.stageNames).toEqual(['a', 'b', 'outcome']);
    await expect(r.run(s)).resolves.toBe('done');
    expect(s.walked).toEqual(['a', 'outcome']);
  });

  it('goes back to an earlier stage on a retry', async () => {
    const s = subject();
    let tries = 0;
    const r = runner([
      stage('a', async () => ({ kind: 'next' })),
      stage('b', async () =>
        ++tries < 2 ? { kind: 'retry', from: 'a', delayMs: 0 } : { kind: 'decide', decision: 'ok' },
      ),
    ]);
    await expect(r.run(s)).resolves.toBe('ok');
    expect(s.walked).toEqual(['a', 'b', 'a', 'b', 'outcome']);
  });

  it('turns a bug into the channel failed outcome naming the stage, and releases the permit', async () => {
    const s = subject();
    const release = jest.fn();
    s.permit = { release };
    const r = runner([
      stage('a', async () => ({ kind: 'next' })),
      stage('b', () => Promise.reject(new TypeError('x'))),
    ]);
    await expect(r.run(s)).resolves.toBe('failed in b: unexpected error in stage b: TypeError');
    expect(release).toHaveBeenCalledTimes(1);
    expect(s.walked).toEqual(['a', 'b', 'outcome']);
  });

  it('rethrows a retriable error without an outcome (the consumer retries the record)', async () => {
    const s = subject();
    const down = new IngressEgressError('IE_KAFKA_UNAVAILABLE', 'down');
    const r = runner([stage('a', () => Promise.reject(down))]);
    await expect(r.run(s)).rejects.toBe(down);
    expect(s.walked).toEqual(['a']);
  });

  it('makes a stage’s span the active one unless the stage is a leaf', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider.register();
    try {
      const seen: Record<string, string | undefined> = {};
      const active = () => trace.getActiveSpan()?.spanContext().spanId;
      const r = runner([
        { name: 'a', leaf: true, run: async () => ((seen.a = active()), { kind: 'next' }) },
        { name: 'b', run: async () => ((seen.b = active()), { kind: 'decide', decision: 'done' }) },
      ]);
      await expect(r.run(subject())).resolves.toBe('done');
      const spans = exporter.getFinishedSpans();
      const idOf = (name: string) => spans.find((s) => s.name === name)!.spanContext().spanId;
      expect(spans.map((s) => s.name)).toEqual(['test stage a', 'test stage b', 'test stage outcome']);
      expect(seen.a).toBeUndefined();
      expect(seen.b).toBe(idOf('test stage b'));
      expect(spans[0]!.attributes).toEqual({ 'egress.stage': 'a', 'egress.stage.result': 'next' });
    } finally {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    }
  });
});
