export { type App, type AppDeps, buildApp } from './app.js';
