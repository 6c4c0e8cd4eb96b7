import { html } from 'lit';
import { Page } from '../page.js';

class DashboardPage extends Page {
  override render() {
    return html`<h1>dashboard</h1>`;
  }
}
customElements.define('berth-dashboard', DashboardPage);
