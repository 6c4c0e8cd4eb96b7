// Events: the engine's event stream, live, newest first (the last hour's first, then as they happen), a
// filter by type, and a pause that holds new events back until resumed. A dropped stream reconnects from
// the last event's time.
import { html } from 'lit';
import { DOCKER, lines, query, request } from '../api.js';
import { link } from '../router.js';
import { shortId } from '../ui.js';
import { ResourcePage, imageLink, messageOf } from './resources-ui.js';

interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> | null };
  scope?: string;
  time: number;
  timeNano: number;
}

/** The events kept on the page. */
const KEEP = 500;
const TYPES = ['container', 'image', 'volume', 'network', 'daemon', 'builder'];

class EventsPage extends ResourcePage {
  static override properties = {
    ...ResourcePage.properties,
    events: { state: true },
    held: { state: true },
    paused: { state: true },
    type: { state: true },
    live: { state: true },
  };
  declare events: EngineEvent[];
  /** What arrived while paused. */
  declare held: EngineEvent[];
  declare paused: boolean;
  declare type: string;
  declare live: boolean;
  private last = Math.floor(Date.now() / 1000) - 3600;
  private streaming = false;

  constructor() {
    super();
    this.events = [];
    this.held = [];
    this.paused = false;
    this.type = '';
    this.live = false;
  }

  protected async load(): Promise<void> {
    if (this.streaming) return;
    this.streaming = true;
    const signal = this.life.signal;
    try {
      while (!signal.aborted) {
        try {
          const res = await request('GET', `${DOCKER}/events${query({ since: this.last })}`, { signal });
          this.live = true;
          for await (const line of lines(res)) {
            const ev = JSON.parse(line) as EngineEvent;
            this.last = ev.time;
            this.take(ev);
          }
        } catch (err) {
          if (signal.aborted) return;
          this.error = messageOf(err);
        }
        this.live = false;
        await new Promise((r) => setTimeout(r, 2000));
      }
    } finally {
      this.streaming = false;
    }
  }

  private take(ev: EngineEvent): void {
    // A reconnect from `since` repeats that second's events.
    const same = (a: EngineEvent) => a.timeNano === ev.timeNano && a.Action === ev.Action && a.Actor.ID === ev.Actor.ID;
    if (this.events.some(same) || this.held.some(same)) return;
    if (this.paused) this.held = [ev, ...this.held].slice(0, KEEP);
    else this.events = [ev, ...this.events].slice(0, KEEP);
  }

  private togglePause(): void {
    if (this.paused) {
      this.events = [...this.held, ...this.events].slice(0, KEEP);
      this.held = [];
    }
    this.paused = !this.paused;
  }

  override render() {
    const types = [...new Set([...TYPES, ...this.events.map((e) => e.Type)])];
    const shown = this.type ? this.events.filter((e) => e.Type === this.type) : this.events;
    return html`
      <div class="res-head">
        <h1>Events</h1>
        <div class="res-actions">
          <label>Type
            <select @change=${(e: Event) => (this.type = e.currentTarget instanceof HTMLSelectElement ? e.currentTarget.value : '')}>
              <option value="">all</option>
              ${types.map((t) => html`<option value=${t} ?selected=${t === this.type}>${t}</option>`)}
            </select>
          </label>
          <button @click=${() => this.togglePause()} aria-pressed=${this.paused ? 'true' : 'false'}>
            ${this.paused ? `Resume${this.held.length ? ` (${this.held.length} new)` : ''}` : 'Pause'}
          </button>
        </div>
      </div>
      ${this.errorView()}
      <p class="res-muted" role="status">${this.live ? (this.paused ? 'Paused' : 'Live') : 'Connecting…'} · ${shown.length} event(s)</p>
      <table aria-label="Events" class="res-table res-events">
        <thead><tr><th>Time</th><th>Type</th><th>Action</th><th>Object</th><th class="wide-only">Attributes</th></tr></thead>
        <tbody>
          ${shown.map((e) => {
            const attrs = e.Actor.Attributes ?? {};
            const name = attrs.name ?? attrs.image;
            return html`<tr>
              <td>${new Date(e.timeNano ? e.timeNano / 1e6 : e.time * 1000).toLocaleTimeString()}</td>
              <td>${e.Type}</td>
              <td>${e.Action}</td>
              <td>${this.object(e, name)}</td>
              <td class="wide-only res-mono">${Object.entries(attrs)
                .filter(([k]) => k !== 'name')
                .map(([k, v]) => `${k}=${v}`)
                .join(', ')}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    `;
  }

  private object(e: EngineEvent, name: string | undefined) {
    const label = name ?? (e.Actor.ID.length === 64 ? shortId(e.Actor.ID) : e.Actor.ID);
    if (e.Type === 'container' && e.Action !== 'destroy') return html`<a href=${link('containers', e.Actor.ID)}>${label}</a>`;
    if (e.Type === 'image' && e.Action !== 'delete' && e.Action !== 'untag') return html`<a href=${imageLink(e.Actor.ID)}>${label}</a>`;
    return label;
  }
}
customElements.define('berth-events', EventsPage);
