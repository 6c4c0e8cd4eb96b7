// A pull's progress, folded from Docker's JSON messages: one entry per layer (its latest status and
// byte counts, for a bar) and the lines that belong to no layer ("Pulling from", "Digest:", "Status:").
import { html } from 'lit';

export interface PullMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

export interface LayerProgress {
  id: string;
  status: string;
  current?: number;
  total?: number;
  /** Whether the layer is here: pulled, or already present. */
  done: boolean;
}

export class PullProgress {
  readonly layers = new Map<string, LayerProgress>();
  readonly notes: string[] = [];
  error: string | undefined;
  /** Messages with byte counts seen (a test and the user can tell progress was shown). */
  updates = 0;

  add(m: PullMessage): void {
    if (m.error || m.errorDetail) {
      this.error = m.errorDetail?.message ?? m.error;
      return;
    }
    if (!m.status) return;
    // A layer's line has an ID and no "Pulling from" (whose id is the tag).
    if (!m.id || /^Pulling from /.test(m.status)) {
      this.notes.push(m.id ? `${m.id}: ${m.status}` : m.status);
      return;
    }
    const layer = this.layers.get(m.id) ?? { id: m.id, status: '', done: false };
    layer.status = m.status;
    const { current, total } = m.progressDetail ?? {};
    if (current !== undefined && total) {
      layer.current = current;
      layer.total = total;
      this.updates++;
    } else if (/^(Download complete|Verifying Checksum)$/.test(m.status) && layer.total) {
      layer.current = layer.total;
    }
    layer.done = /^(Pull complete|Already exists)$/.test(m.status);
    this.layers.set(m.id, layer);
  }
}

export function layersView(p: PullProgress) {
  return html`
    <ul class="res-layers" aria-label="Layers">
      ${[...p.layers.values()].map(
        (l) => html`<li data-layer=${l.id}>
          <span class="res-mono">${l.id}</span>
          <progress aria-label="layer ${l.id}" max=${l.done ? 1 : (l.total ?? 1)} value=${l.done ? 1 : (l.current ?? 0)}></progress>
          <span class="layer-status">${l.status}${l.total && !l.done ? html` <span class="res-muted">${pct(l)}</span>` : ''}</span>
        </li>`,
      )}
    </ul>
    ${p.notes.length ? html`<pre class="res-log" aria-label="Pull output">${p.notes.join('\n')}</pre>` : ''}
  `;
}

function pct(l: LayerProgress): string {
  return `${Math.floor(((l.current ?? 0) / (l.total ?? 1)) * 100)}%`;
}
