// The dashboard: containers by state, images, volumes, disk use (`system df`), the engine's version and
// the engine's uptime (its start time is a detail of /version's Engine component). Kept current from the
// events stream.
import { html } from 'lit';
import { DOCKER, LIBPOD, getJson } from '../api.js';
import { Page } from '../page.js';
import { bytes, errorBanner } from '../ui.js';
import { debounce, watchEvents } from '../widgets/event-watch.js';

interface Summary {
  states: Record<string, number>;
  images: number;
  volumes: number;
  df: {
    LayersSize?: number;
    Images?: { Size: number; SharedSize: number }[];
    Containers?: { SizeRw?: number }[];
    Volumes?: { UsageData?: { Size: number } }[];
    BuildCache?: { Size: number }[] | null;
  };
  version: {
    Version: string;
    ApiVersion: string;
    Os: string;
    Arch: string;
    KernelVersion?: string;
    Components?: { Name: string; Version: string; Details?: Record<string, string> }[];
  };
  info: { Name: string; NCPU: number; MemTotal: number; OperatingSystem: string };
  /** libpod's /info host.uptime: the host's, in podman's words (the API has no engine start time). */
  uptime?: string;
}

const STATES = ['running', 'paused', 'exited', 'created', 'restarting', 'dead'];

class DashboardPage extends Page {
  static override properties = { summary: { state: true }, error: { state: true } };
  declare summary: Summary | undefined;
  declare error: string | undefined;
  private abort = new AbortController();

  override connectedCallback(): void {
    super.connectedCallback();
    this.abort = new AbortController();
    void this.load();
    const reload = debounce(() => void this.load(), 300);
    watchEvents({ type: ['container', 'image', 'volume'] }, reload, this.abort.signal, (open) => open && reload());
  }

  override disconnectedCallback(): void {
    this.abort.abort();
    super.disconnectedCallback();
  }

  private async load() {
    const signal = this.abort.signal;
    try {
      const [containers, images, volumes, df, version, info, libpodInfo] = await Promise.all([
        getJson<{ State: string }[]>(`${DOCKER}/containers/json?all=1`, signal),
        getJson<unknown[]>(`${DOCKER}/images/json`, signal),
        getJson<{ Volumes: unknown[] | null }>(`${DOCKER}/volumes`, signal),
        getJson<Summary['df']>(`${DOCKER}/system/df`, signal),
        getJson<Summary['version']>(`${DOCKER}/version`, signal),
        getJson<Summary['info']>(`${DOCKER}/info`, signal),
        getJson<{ host?: { uptime?: string } }>(`${LIBPOD}/info`, signal).catch(() => undefined),
      ]);
      const states: Record<string, number> = {};
      for (const c of containers) states[c.State] = (states[c.State] ?? 0) + 1;
      this.summary = { states, images: images.length, volumes: volumes.Volumes?.length ?? 0, df, version, info, uptime: libpodInfo?.host?.uptime };
      this.error = undefined;
    } catch (err) {
      if (!signal.aborted) this.error = (err as Error).message;
    }
  }

  override render() {
    const s = this.summary;
    if (!s) return html`<h1>Dashboard</h1>${errorBanner(this.error)}<p>Loading…</p>`;
    const total = Object.values(s.states).reduce((a, b) => a + b, 0);
    const imagesSize = s.df.LayersSize ?? s.df.Images?.reduce((a, i) => a + i.Size, 0);
    const containersSize = s.df.Containers?.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
    const volumesSize = s.df.Volumes?.reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0);
    const cacheSize = s.df.BuildCache?.reduce((a, b) => a + b.Size, 0) ?? 0;
    return html`
      <h1>Dashboard</h1>
      ${errorBanner(this.error)}
      <div class="cards">
        <section class="card" aria-labelledby="dash-containers">
          <h2 id="dash-containers"><a href="#/containers">Containers</a></h2>
          <p class="big">${total}</p>
          <dl class="pairs">
            ${STATES.filter((st) => s.states[st] || st === 'running' || st === 'exited').map(
              (st) => html`<dt><span class="state state-${st}">${st}</span></dt><dd data-state=${st}>${s.states[st] ?? 0}</dd>`,
            )}
          </dl>
        </section>
        <section class="card" aria-labelledby="dash-images">
          <h2 id="dash-images"><a href="#/images">Images</a></h2>
          <p class="big">${s.images}</p>
        </section>
        <section class="card" aria-labelledby="dash-volumes">
          <h2 id="dash-volumes"><a href="#/volumes">Volumes</a></h2>
          <p class="big">${s.volumes}</p>
        </section>
        <section class="card" aria-labelledby="dash-disk">
          <h2 id="dash-disk">Disk usage</h2>
          <dl class="pairs">
            <dt>Images</dt><dd>${bytes(imagesSize)}</dd>
            <dt>Containers</dt><dd>${bytes(containersSize)}</dd>
            <dt>Volumes</dt><dd>${bytes(volumesSize)}</dd>
            <dt>Build cache</dt><dd>${bytes(cacheSize)}</dd>
          </dl>
        </section>
        <section class="card" aria-labelledby="dash-engine">
          <h2 id="dash-engine">Engine</h2>
          <dl class="pairs">
            <dt>Version</dt><dd>berth ${s.version.Version}</dd>
            <dt>API</dt><dd>${s.version.ApiVersion}</dd>
            <dt>Host</dt><dd>${s.info.Name}, ${s.info.OperatingSystem}</dd>
            <dt>Platform</dt><dd>${s.version.Os}/${s.version.Arch}, ${s.info.NCPU} CPUs, ${bytes(s.info.MemTotal)}</dd>
            <dt>Engine uptime</dt><dd>${engineUptime(s.version) ?? '—'}</dd>
            <dt title="libpod /info host.uptime">Host uptime</dt><dd>${s.uptime ?? '—'}</dd>
          </dl>
        </section>
      </div>
    `;
  }
}
customElements.define('berth-dashboard', DashboardPage);

/** "2d 3h 4m" since the engine started (berth's /version Engine detail StartedAt). */
function engineUptime(version: Summary['version']): string | undefined {
  const started = Date.parse(version.Components?.find((c) => c.Name === 'Engine')?.Details?.StartedAt ?? '');
  if (Number.isNaN(started)) return undefined;
  const s = Math.max(0, Math.floor((Date.now() - started) / 1000));
  const parts = [
    [Math.floor(s / 86400), 'd'],
    [Math.floor((s % 86400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ] as const;
  const first = parts.findIndex(([n]) => n > 0);
  return parts
    .slice(first < 0 ? 3 : first, (first < 0 ? 3 : first) + 2)
    .map(([n, unit]) => `${n}${unit}`)
    .join(' ');
}
