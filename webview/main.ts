/**
 * The runbook checklist webview: receives ToWebview messages, renders the checklist, posts ToHost
 * messages. It runs nothing itself: every action is a message the host validates. Posts `ready`
 * first (the host sends nothing before it, GHPR's handshake).
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import './styles.css';
import { assertNever, type ToHost, type ToWebview } from '../src/shared/runbookMessages';
import { ChecklistView } from './checklist';

interface VsCodeApi {
  postMessage(message: ToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const root = document.getElementById('app') ?? document.body;
const view = new ChecklistView(root, (m) => vscode.postMessage(m));

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const msg = event.data;
  if (!msg || typeof msg !== 'object' || typeof (msg as { type?: unknown }).type !== 'string') return;
  switch (msg.type) {
    case 'session':
      // The serializer gets this back after a window reload to reopen the same runbook.
      vscode.setState({ path: msg.session.path });
      view.showSession(msg.session, msg.log, msg.changed, msg.failures ?? {}, msg.busy, msg.now);
      break;
    case 'state':
      view.update(msg.log, msg.changed, msg.failures ?? {}, msg.busy, msg.now);
      break;
    case 'output':
      view.appendOutput(msg.stepId, msg.commandId, msg.text, msg.reset ?? false);
      break;
    case 'notice':
      view.notice(msg.level, msg.text);
      break;
    default:
      assertNever(msg);
  }
});

vscode.postMessage({ type: 'ready' });
