// Every page module (each defines its custom element).
import './dashboard.js';
import './containers.js';
import './container.js';
import './images.js';
import './image.js';
import './pods.js';
import './pod.js';
import './volumes.js';
import './networks.js';
import './events.js';
