import { SmsEnvelopeBuilder } from '../../src/envelope';
import { freePort } from '@ingress-egress/sandbox';
import { onCleanup } from '../helpers/cleanup';
import { startEgressBed } from '../helpers/egress-bed';
import { recordCount, testBrokers, testKafka } from '../helpers/kafka';
import { brokerLabel } from './broker-label';
import { ensureBuilt, ServiceProcess, sleep, writeRow } from './harness';

jest.setTimeout(1_800_000);

const ACCOUNT = 'AC' + '9e'.repeat(16);
const TOKEN = 'rel-soak-token-0123456789';
const BUSINESS = '+15557659000';
const MINUTES = Number(process.env.RELIABILITY_SOAK_MINUTES ?? 10);
const INBOUND_RATE = 500;
const EGRESS_RATE = 200;
/**
 * The send ledger's bound (EGRESS_LEDGER_MAX_ENTRIES), small enough that the soak reaches it in its first third (at
 * 200/s in 2.5 minutes): past it the ledger's memory stops growing, which is what "flat" means for a bounded cache.
 * Its window (150 s at this rate) stays above the 60 s of clock skew allowed, so requests do not pay a reconciliation.
 */
const LEDGER_MAX_ENTRIES = 30_000;

interface Sample {
  atS: number;
  rssMb: number;
  heapMb: number;
  lag: number;
  inboundPerS: number;
  egressPerS: number;
  ledgerEntries: number;
  ledgerForgottenChecks: number;
}

/** Three stacked line charts (RSS, heap, consumer lag) over time, as a self-contained SVG. */
export function soakSvg(samples: Sample[]): string {
  const W = 720;
  const H = 150;
  const pad = { l: 60, r: 20, t: 24, b: 24 };
  const panels: [keyof Sample, string, string][] = [
    ['rssMb', 'RSS (MB)', '#1f77b4'],
    ['heapMb', 'heap used (MB)', '#2ca02c'],
    ['lag', 'egress consumer lag (records)', '#d62728'],
  ];
  const maxT = Math.max(1, ...samples.map((s) => s.atS));
  const parts: string[] = [];
  panels.forEach(([key, label, color], i) => {
    const y0 = i * H;
    const values = samples.map((s) => s[key]);
    const maxV = Math.max(1, ...values) * 1.1;
    const x = (t: number) => pad.l + ((W - pad.l - pad.r) * t) / maxT;
    const y = (v: number) => y0 + H - pad.b - ((H - pad.t - pad.b) * v) / maxV;
    const points = samples.map((s) => `${x(s.atS).toFixed(1)},${y(s[key]).toFixed(1)}`).join(' ');
    parts.push(
      `<text x="${pad.l}" y="${y0 + 16}" font-size="12" font-family="sans-serif">${label}</text>`,
      `<line x1="${pad.l}" y1="${y0 + H - pad.b}" x2="${W - pad.r}" y2="${y0 + H - pad.b}" stroke="#888"/>`,
      `<line x1="${pad.l}" y1="${y0 + pad.t}" x2="${pad.l}" y2="${y0 + H - pad.b}" stroke="#888"/>`,
      `<text x="${pad.l - 6}" y="${y(maxV / 1.1) + 4}" font-size="10" text-anchor="end" font-family="sans-serif">${Math.round(maxV / 1.1)}</text>`,
      `<text x="${pad.l - 6}" y="${y0 + H - pad.b + 4}" font-size="10" text-anchor="end" font-family="sans-serif">0</text>`,
      `<text x="${W - pad.r}" y="${y0 + H - 8}" font-size="10" text-anchor="end" font-family="sans-serif">${Math.round(maxT)} s</text>`,
      `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${points}"/>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H * panels.length}" viewBox="0 0 ${W} ${H * panels.length}">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/**
 * Scenario 9 (long form only): MINUTES at 500 signed webhooks/s and 200 egress requests/s. RSS, heap and the
 * egress consumer's lag sampled every 10 s must stay flat (the last third's mean within 20 % of the second
 * third's; lag back near 0 at the end); the chart goes into docs/reliability.md.
 */
describe('reliability 9: soak', () => {
  beforeAll(() => ensureBuilt());

  it(`holds ${INBOUND_RATE} inbound + ${EGRESS_RATE} egress per second for ${MINUTES} minutes`, async () => {
    const brokers = testBrokers();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const { sim, topics, ...bed } = await startEgressBed(
      'rel-soak',
      {
        accounts: [{ accountSid: ACCOUNT, authToken: TOKEN }],
        phoneNumbers: [{ phoneNumber: BUSINESS, accountSid: ACCOUNT, smsUrl: `${base}/webhooks/twilio/sms#rc=1` }],
        autoProgress: false,
        seed: 'rel-soak',
      },
      brokers,
    );
    const service = await ServiceProcess.create(
      'soak',
      {
        ...bed.env,
        NODE_ENV: 'production',
        TWILIO_WEBHOOK_VALIDATION: 'true',
        TWILIO_WEBHOOK_BASE_URL: base,
        TWILIO_AUTH_TOKEN: TOKEN,
        EGRESS_LEDGER_MAX_ENTRIES: String(LEDGER_MAX_ENTRIES),
      },
      port,
    );
    service.start();
    await service.waitReady();
    await service.waitEgressAssigned();
    const producer = testKafka(brokers).producer();
    await producer.connect();
    onCleanup(() => producer.disconnect());
    const builder = new SmsEnvelopeBuilder();

    const t0 = Date.now();
    const end = t0 + MINUTES * 60_000;
    let inboundOk = 0;
    let inboundFailed = 0;
    let egressWritten = 0;
    let inFlight = 0;
    const inbound = (async () => {
      for (let i = 0; Date.now() < end; i++) {
        const due = t0 + (i * 1000) / INBOUND_RATE;
        if (due > Date.now()) await sleep(due - Date.now());
        if (inFlight > 256) {
          inboundFailed++;
          continue;
        }
        inFlight++;
        void sim
          .sendInbound({
            from: `+1415666${String(i % 10_000).padStart(4, '0')}`,
            to: BUSINESS,
            body: `body-canary soak ${i}`,
          })
          .then(
            (r) => (r.delivered ? inboundOk++ : inboundFailed++),
            () => inboundFailed++,
          )
          .finally(() => inFlight--);
      }
    })();
    const egress = (async () => {
      for (let tick = 0; Date.now() < end; tick++) {
        const due = t0 + tick * 100;
        if (due > Date.now()) await sleep(due - Date.now());
        const batch = Array.from({ length: EGRESS_RATE / 10 }, (_, j) => {
          const to = `+1415777${String((tick * 20 + j) % 10_000).padStart(4, '0')}`;
          return builder.build('sms.outbound.requested', {
            accountSid: ACCOUNT,
            subject: to,
            data: { to, body: `body-canary soak egress ${tick}-${j}` },
          });
        });
        await producer.send({
          topic: topics.egress,
          messages: batch.map((r) => ({ key: r.subject!, value: JSON.stringify(r) })),
        });
        egressWritten += batch.length;
      }
    })();
    const samples: Sample[] = [];
    let lastIn = 0;
    let lastOut = 0;
    while (Date.now() < end + 30_000) {
      await sleep(10_000);
      const text = await service.metricsText().catch(() => '');
      const lines = text.split('\n');
      const lag = lines
        .filter((l) => l.startsWith('kafka_consumer_lag{') && l.includes(topics.egress))
        .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
      const gauge = (name: string) =>
        lines.filter((l) => l.startsWith(name)).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
      const mem = await service.memory();
      // Every create, evicted ones included (the simulator keeps a bounded number of messages).
      const sent = sim.inspect.stats().outboundCreated;
      samples.push({
        atS: Math.round((Date.now() - t0) / 1000),
        rssMb: Math.round(mem.rss / 2 ** 20),
        heapMb: Math.round(mem.heap / 2 ** 20),
        lag,
        inboundPerS: Math.round((inboundOk - lastIn) / 10),
        egressPerS: Math.round((sent - lastOut) / 10),
        ledgerEntries: gauge('egress_ledger_entries '),
        ledgerForgottenChecks: gauge('egress_ledger_forgotten_checks_total{'),
      });
      lastIn = inboundOk;
      lastOut = sent;
    }
    await inbound;
    await egress;
    await service.saveMetrics();
    const inboundOnKafka = await recordCount(topics.inbound, brokers);
    await service.kill('SIGTERM');

    const loadSamples = samples.filter((s) => s.atS <= MINUTES * 60);
    const third = Math.floor(loadSamples.length / 3);
    const middle = loadSamples.slice(third, 2 * third);
    const last = loadSamples.slice(2 * third);
    const growth = (k: 'rssMb' | 'heapMb') => mean(last.map((s) => s[k])) / mean(middle.map((s) => s[k])) - 1;
    const finalLag = samples[samples.length - 1]?.lag ?? NaN;
    const rssGrowth = growth('rssMb');
    const heapGrowth = growth('heapMb');
    const achievedIn = Math.round(inboundOk / (MINUTES * 60));
    const achievedOut = Math.round(sim.inspect.stats().outboundCreated / (MINUTES * 60));
    const sentTwice = sim.inspect.duplicateCount();
    const pass =
      sentTwice === 0 &&
      rssGrowth <= 0.2 &&
      heapGrowth <= 0.2 &&
      finalLag <= EGRESS_RATE * 5 &&
      service.crashes === 0 &&
      inboundOnKafka >= inboundOk;
    writeRow({
      id: '9-soak',
      scenario: '9. Soak',
      load: `${MINUTES} min offered at ${INBOUND_RATE} webhooks/s + ${EGRESS_RATE} egress/s; achieved ${achievedIn} + ${achievedOut}/s; EGRESS_LEDGER_MAX_ENTRIES=${LEDGER_MAX_ENTRIES}`,
      faults: 'none (steady load)',
      lost: `${Math.max(0, inboundOk - inboundOnKafka)} acknowledged webhooks missing on Kafka`,
      duplicated: `${sentTwice} SMS sent twice`,
      crashes: service.crashes,
      recovery: `lag ${finalLag} records 30 s after the load`,
      result: pass ? 'pass' : 'fail',
      broker: brokerLabel(brokers),
      details: {
        rssGrowthLastThirdPct: Math.round(rssGrowth * 1000) / 10,
        heapGrowthLastThirdPct: Math.round(heapGrowth * 1000) / 10,
        ledgerFullAtS: samples.find((x) => x.ledgerEntries >= LEDGER_MAX_ENTRIES)?.atS ?? null,
        ledgerForgottenChecks: samples.at(-1)?.ledgerForgottenChecks ?? null,
        inboundAcknowledged: inboundOk,
        inboundNotAcknowledgedOrShed: inboundFailed,
        egressWritten,
        duplicatesSample: sim.inspect
          .duplicates()
          .slice(0, 3)
          .map((d) => ({ to: `…${d.to.slice(-4)}`, body: d.body.slice(0, 60), count: d.count })),
        samples,
      },
      svg: soakSvg(samples),
    });
    expect(service.crashes).toBe(0);
    expect(sentTwice).toBe(0);
    expect(rssGrowth).toBeLessThanOrEqual(0.2);
    expect(heapGrowth).toBeLessThanOrEqual(0.2);
    expect(finalLag).toBeLessThanOrEqual(EGRESS_RATE * 5);
    expect(inboundOnKafka).toBeGreaterThanOrEqual(inboundOk);
  });
});
