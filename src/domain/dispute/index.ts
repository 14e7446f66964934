export * from './decider.js';
export * from './errors.js';
export * from './events.js';
export * from './state.js';
export * from './upcast.js';
