export { AuditStore } from './AuditStore';
export type { NewAuditEvent } from './AuditStore';
export { AuditTrail, actorOf } from './AuditTrail';
export { createAuditRouter } from './router';
