/**
 * Every log line the DIMSE service writes, with its stable ID. Fields are pseudonymous:
 * AE titles, addresses, counts, statuses; never a dataset value or a patient UID.
 */
import type { LogLevel, LogRecord } from '../log/index.js';

type Fields = Record<string, unknown>;
type Message = { level: LogLevel; id: string; msg: string };

const messages = {
  listening: { level: 'info', id: 'dimse.scp.listening', msg: 'DIMSE SCP listening' },
  listenFailed: { level: 'error', id: 'dimse.scp.listen-failed', msg: 'DIMSE SCP could not listen' },
  tlsHandshakeFailed: { level: 'warn', id: 'dimse.tls.handshake-failed', msg: 'TLS handshake failed; connection closed' },
  // A port probe (a load balancer's, a monitor's) connects and hangs up without a handshake.
  tlsConnectionDropped: { level: 'debug', id: 'dimse.tls.connection-dropped', msg: 'Connection to the TLS port closed by the peer before a handshake' },
  serverError: { level: 'error', id: 'dimse.scp.server-error', msg: 'DIMSE listener error' },
  stopping: { level: 'info', id: 'dimse.scp.stopping', msg: 'DIMSE SCP stopping: no new associations' },
  stopped: { level: 'info', id: 'dimse.scp.stopped', msg: 'DIMSE SCP stopped' },
  stopTimedOut: { level: 'warn', id: 'dimse.scp.stop-timeout', msg: 'In-flight C-STOREs did not finish in time; aborting' },
  accepted: { level: 'info', id: 'dimse.association.accepted', msg: 'Association accepted' },
  rejected: { level: 'warn', id: 'dimse.association.rejected', msg: 'Association rejected' },
  released: { level: 'info', id: 'dimse.association.released', msg: 'Association released' },
  aborted: { level: 'warn', id: 'dimse.association.aborted', msg: 'Association aborted' },
  protocolError: { level: 'warn', id: 'dimse.association.protocol-error', msg: 'Protocol error from peer' },
  windowExceeded: {
    level: 'warn',
    id: 'dimse.association.window-exceeded',
    msg: 'Requestor sent more ahead of an answer than the association holds (one operation outstanding, PS3.7 D.3.3.3); aborting once the operation in hand is answered',
  },
  artimExpired: { level: 'warn', id: 'dimse.connection.artim-expired', msg: 'No A-ASSOCIATE-RQ in time; connection closed' },
  associateHookFailed: { level: 'error', id: 'dimse.association.hook-failed', msg: 'Association hook failed' },
  storeFailed: { level: 'warn', id: 'dimse.store.failed', msg: 'C-STORE answered with a failure status' },
  ingestThrew: { level: 'error', id: 'dimse.store.ingest-threw', msg: 'Ingest threw; answered A700' },
  responseFailed: { level: 'error', id: 'dimse.store.response-failed', msg: 'Could not send the C-STORE response' },
  auditSinkFailed: { level: 'error', id: 'dimse.audit.sink-failed', msg: 'Audit sink threw' },
} as const satisfies Record<string, Message>;

export type MessageName = keyof typeof messages;

/** Level and record for a catalogued message. */
export function message(name: MessageName, fields: Fields = {}): { level: LogLevel; record: LogRecord } {
  const m = messages[name];
  return { level: m.level, record: { id: m.id, msg: m.msg, ...fields } };
}
