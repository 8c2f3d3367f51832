import { simSuite } from './ci.ts';

// Issue 14: one far-future VIEW-CHANGE must not force view changes (the lone view-change join, pacemaker.ts).
simSuite('simulation: a far-future VIEW-CHANGE alone', ['far-view-change-n4', 'far-view-change-n7']);
