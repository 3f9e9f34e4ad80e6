/** The test harness: real registries on 127.0.0.1, daemon-less test images, an independent uploader, a fault proxy. */
export * from './ports.js';
export * from './token-server.js';
export * from './registry.js';
export * from './images.js';
export * from './registry-session.js';
export * from './push.js';
export * from './proxy.js';
export * from './tls.js';
export * from './hostile-registry.js';
export * from './latency-proxy.js';
export * from './resumable-registry.js';
