import './styles.css';
import type { Backend } from './lib/backend/backend';
import { isTauri, TauriBackend } from './lib/backend/tauri';
import { startApp } from './lib/app';

async function pickBackend(): Promise<{ backend: Backend; demo: boolean }> {
  if (isTauri()) return { backend: new TauriBackend(), demo: false };
  // A plain browser (vite dev): an in-memory backend so the screens can be seen.
  const { FakeBackend } = await import('./lib/backend/fake');
  return { backend: new FakeBackend({ simulateUpload: true, latencyMs: 80 }), demo: true };
}

const root = document.getElementById('app');
if (root) {
  void pickBackend().then(({ backend, demo }) => startApp(root, backend, { demo }));
}
