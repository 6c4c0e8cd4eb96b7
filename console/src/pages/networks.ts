// Networks: the list, create (a bridge with an optional subnet, internal or not), inspect folded in each
// row, remove, prune. The predefined networks (bridge, host, none) cannot be removed: no button for them.
import { html } from 'lit';
import { DOCKER, getJson, send } from '../api.js';
import { shortId } from '../ui.js';
import { ResourcePage, formOf, parsePairs } from './resources-ui.js';

interface Network {
  Name: string;
  Id: string;
  Driver: string;
  Scope: string;
  Internal: boolean;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null } | null;
  Containers?: Record<string, { Name: string }> | null;
}

const PREDEFINED = new Set(['bridge', 'host', 'none']);

class NetworksPage extends ResourcePage {
  static override properties = { ...ResourcePage.properties, networks: { state: true }, notice: { state: true } };
  declare networks: Network[] | undefined;
  declare notice: string | undefined;

  protected async load(): Promise<void> {
    const networks = await getJson<Network[]>(`${DOCKER}/networks`, this.life.signal);
    this.networks = networks.sort((a, b) => a.Name.localeCompare(b.Name));
  }

  private async onCreate(e: SubmitEvent): Promise<void> {
    const { form, text, checked } = formOf(e);
    this.notice = undefined;
    const subnet = text('subnet');
    const gateway = text('gateway');
    const ok = await this.act(async () => {
      await send('POST', `${DOCKER}/networks/create`, {
        json: {
          Name: text('name'),
          Driver: 'bridge',
          Internal: checked('internal'),
          Labels: parsePairs(text('labels')),
          ...(subnet ? { IPAM: { Driver: 'default', Config: [{ Subnet: subnet, ...(gateway ? { Gateway: gateway } : {}) }] } } : {}),
        },
      });
      this.notice = `Created network ${text('name')}`;
    });
    if (ok) form.reset();
  }

  private async prune(): Promise<void> {
    this.notice = undefined;
    await this.act(async () => {
      const r = await send<{ NetworksDeleted: string[] | null }>('POST', `${DOCKER}/networks/prune`);
      const gone = r?.NetworksDeleted ?? [];
      this.notice = `Pruned ${gone.length} network(s)${gone.length ? `: ${gone.join(', ')}` : ''}`;
    });
  }

  override render() {
    return html`
      <div class="res-head"><h1>Networks</h1>${this.refreshButton()}</div>
      ${this.errorView()} ${this.notice ? html`<p role="status">${this.notice}</p>` : ''}
      <div class="res-forms">
        <form class="res-form" aria-label="Create a network" @submit=${this.onCreate}>
          <h2>Create</h2>
          <label>Network name <input type="text" name="name" required autocomplete="off" /></label>
          <label>Subnet (optional) <input type="text" name="subnet" placeholder="10.99.0.0/24" autocomplete="off" /></label>
          <label>Gateway (optional) <input type="text" name="gateway" autocomplete="off" /></label>
          <label>Labels (key=value, comma-separated) <input type="text" name="labels" autocomplete="off" /></label>
          <label class="inline"><input type="checkbox" name="internal" /> Internal (no outside access)</label>
          <button class="primary" type="submit" ?disabled=${this.busy}>Create network</button>
        </form>
        <div class="res-form">
          <h2>Prune</h2>
          <p class="res-muted">Removes networks no container uses.</p>
          <button ?disabled=${this.busy} @click=${() => this.prune()}>Prune unused networks</button>
        </div>
      </div>
      ${this.networks === undefined ? html`<p class="res-muted">Loading…</p>` : this.table(this.networks)}
    `;
  }

  private table(networks: Network[]) {
    return html`<table class="res-table" aria-label="Networks">
      <thead><tr><th>Name</th><th>Driver</th><th>Subnet</th><th class="wide-only">Containers</th><th>Actions</th></tr></thead>
      <tbody>
        ${networks.map((n) => {
          const doc = this.inspected.get(n.Id);
          const members = Object.values(n.Containers ?? {}).map((c) => c.Name);
          return html`<tr data-network=${n.Name}>
            <td>
              <details @toggle=${(e: Event) => this.inspectOnOpen(e, n.Id, `${DOCKER}/networks/${encodeURIComponent(n.Id)}`)}>
                <summary>${n.Name} <span class="res-muted res-mono">${shortId(n.Id)}</span>${n.Internal ? html` <span class="res-state">internal</span>` : ''}</summary>
                <pre>${JSON.stringify(doc ?? n, null, 2)}</pre>
              </details>
            </td>
            <td>${n.Driver}</td>
            <td class="res-mono">${
              (n.IPAM?.Config ?? [])
                .map((c) => c.Subnet)
                .filter(Boolean)
                .join(', ') || '—'
            }</td>
            <td class="wide-only">${members.join(', ') || '—'}</td>
            <td>
              ${
                PREDEFINED.has(n.Name)
                  ? ''
                  : html`<button ?disabled=${this.busy} aria-label="Remove network ${n.Name}" @click=${() => this.act(() => send('DELETE', `${DOCKER}/networks/${encodeURIComponent(n.Id)}`))}>
                      Remove
                    </button>`
              }
            </td>
          </tr>`;
        })}
      </tbody>
    </table>`;
  }
}
customElements.define('berth-networks', NetworksPage);
