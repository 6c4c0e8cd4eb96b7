import { html } from 'lit';
import { Page } from '../page.js';

class EventsPage extends Page {
  override render() {
    return html`<h1>events</h1>`;
  }
}
customElements.define('berth-events', EventsPage);
