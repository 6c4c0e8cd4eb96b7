// A running container's CPU, memory and network use, charted from the stats stream (one sample a
// second) with uPlot. CPU % is the docker CLI's: the container's CPU time over the host's in the
// interval, times the online CPUs; memory is usage less the inactive page cache, as `docker stats`
// shows it; network is bytes a second, summed over the container's interfaces.
import { html } from 'lit';
import uPlot from 'uplot';
import { DOCKER, jsonLines } from '../api.js';
import { Page } from '../page.js';
import { bytes, errorBanner } from '../ui.js';

/** The fields of a `GET /containers/{id}/stats` sample used here (Docker's shape). */
export interface StatsSample {
  read: string;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
}
interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[] };
  system_cpu_usage?: number;
  online_cpus?: number;
}

/** The docker CLI's calculateCPUPercentUnix. */
export function cpuPercent(s: StatsSample): number {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const systemDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;
}

/** The docker CLI's calculateMemUsageUnixNoCache: cgroup v1's total_inactive_file, v2's inactive_file. */
export function memoryUsed(s: StatsSample): number {
  const m = s.memory_stats;
  const cache = m.stats?.total_inactive_file ?? m.stats?.inactive_file ?? 0;
  const usage = m.usage ?? 0;
  return cache < usage ? usage - cache : usage;
}

/** Samples kept: two minutes at one a second. */
const WINDOW = 120;

interface Chart {
  title: string;
  series: string[];
  unit: (v: number) => string;
}
const CHARTS: Chart[] = [
  { title: 'CPU', series: ['CPU %'], unit: (v) => `${v.toFixed(1)} %` },
  { title: 'Memory', series: ['Used'], unit: (v) => bytes(v) },
  { title: 'Network', series: ['Received/s', 'Sent/s'], unit: (v) => `${bytes(v)}/s` },
];

class ContainerStats extends Page {
  static override properties = { container: {}, current: { state: true }, error: { state: true } };
  declare container: string;
  /** The latest values, also said in text (the charts are pictures). */
  declare current: { cpu: number; memory: number; limit: number; rx: number; tx: number } | undefined;
  declare error: string | undefined;
  private abort = new AbortController();
  private plots: uPlot[] = [];
  private data: number[][] = [[], [], [], [], []]; // time, cpu, memory, rx/s, tx/s
  private observer?: ResizeObserver;

  override firstUpdated(): void {
    const boxes = this.querySelectorAll<HTMLElement>('.chart');
    this.plots = CHARTS.map((c, i) => {
      const box = boxes[i]!;
      return new uPlot(
        {
          width: box.clientWidth || 300,
          height: 160,
          legend: { show: true },
          scales: {
            // The last two minutes, whatever number of samples there is yet.
            x: { time: true, range: (_u, _min, max) => [max - WINDOW, max] },
            y: { range: (_u, _min, max) => [0, Math.max(max, c.title === 'CPU' ? 1 : 1024)] },
          },
          axes: [{}, { values: (_u, ticks) => ticks.map(c.unit), size: 80 }],
          series: [
            {},
            ...c.series.map((label, j) => ({
              label,
              stroke: ['#1f6feb', '#d1242f'][j],
              width: 2,
              value: (_u: uPlot, v: number | null) => (v === null ? '—' : c.unit(v)),
            })),
          ],
        },
        [[], ...c.series.map(() => [])],
        box,
      );
    });
    this.observer = new ResizeObserver(() => {
      for (const [i, p] of this.plots.entries()) p.setSize({ width: boxes[i]!.clientWidth, height: 160 });
    });
    this.observer.observe(this);
    void this.follow();
  }

  override disconnectedCallback(): void {
    this.abort.abort();
    this.observer?.disconnect();
    for (const p of this.plots) p.destroy();
    super.disconnectedCallback();
  }

  private async follow() {
    let last: { t: number; rx: number; tx: number } | undefined;
    try {
      for await (const s of jsonLines<StatsSample>('GET', `${DOCKER}/containers/${this.container}/stats?stream=1`, { signal: this.abort.signal })) {
        const t = Date.parse(s.read) / 1000 || Date.now() / 1000;
        const nets = Object.values(s.networks ?? {});
        const rx = nets.reduce((a, n) => a + n.rx_bytes, 0);
        const tx = nets.reduce((a, n) => a + n.tx_bytes, 0);
        const dt = last ? t - last.t : 0;
        const rate = (now: number, before: number | undefined) => (dt > 0 && before !== undefined ? Math.max(0, (now - before) / dt) : 0);
        this.current = { cpu: cpuPercent(s), memory: memoryUsed(s), limit: s.memory_stats.limit ?? 0, rx: rate(rx, last?.rx), tx: rate(tx, last?.tx) };
        last = { t, rx, tx };
        const row = [t, this.current.cpu, this.current.memory, this.current.rx, this.current.tx];
        for (const [i, v] of row.entries()) this.data[i] = [...this.data[i]!, v].slice(-WINDOW);
        const [time, cpu, memory, rxs, txs] = this.data as [number[], number[], number[], number[], number[]];
        this.plots[0]?.setData([time, cpu]);
        this.plots[1]?.setData([time, memory]);
        this.plots[2]?.setData([time, rxs, txs]);
      }
    } catch (err) {
      if (!this.abort.signal.aborted) this.error = (err as Error).message;
    }
  }

  override render() {
    const c = this.current;
    return html`
      ${errorBanner(this.error)}
      <p role="status" class="muted">
        ${
          c
            ? `CPU ${c.cpu.toFixed(1)} %, memory ${bytes(c.memory)}${c.limit ? ` of ${bytes(c.limit)}` : ''}, network ${bytes(c.rx)}/s in, ${bytes(c.tx)}/s out`
            : 'waiting for the first sample…'
        }
      </p>
      <div class="charts">
        ${CHARTS.map((ch) => html`<figure><figcaption>${ch.title}</figcaption><div class="chart"></div></figure>`)}
      </div>
    `;
  }
}
customElements.define('berth-container-stats', ContainerStats);
